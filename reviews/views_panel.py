"""Panel pages: the reviews list, one review with its moderation, the request settings, CSV export and import."""
from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _, gettext_lazy, ngettext
from django.views.decorators.http import require_GET

from reviews.csvio import IMPORT_COLUMNS, ImportRefused, MAX_BYTES, MAX_ROWS, reviews_csv_lines, reviews_import
from reviews.feed import feed_status, feed_token_rotate
from reviews.figures import decimal_format
from reviews.metafields import metafields_resync, metafields_status, sync_possible
from reviews.forms import RejectForm, ReplyForm, RequestSettingsForm, TestSendForm, placeholder_problem, rating_choices
from reviews.models import ModerationDecision, ProductRating, Review, ReviewPhoto, ReviewReport, ReviewSettings
from reviews.reports import reported_count, reports_dismissed_text, review_reports_dismiss
from reviews.requests import request_email, review_request_test_send, sample_request
from reviews.services import REASON_LABELS, review_photo_hide, review_publish, review_reject, review_reply
from reviews.views_shopper import photo_response
from shopapp.admin_api import ShopifyError
from shopapp.auth import panel_actor
from shopapp.dashboard import opened_between
from shopapp.forms import test_send_post
from shopapp.languages import language_of, number_format
from shopapp.links import absolute
from shopapp.params import ListParams
from shopapp.translations import TranslationsForm, other_languages, shop_default_language

PAGE_SIZE = 25


@require_GET
def review_list(request: HttpRequest) -> HttpResponse:
    shop = request.shop
    reviews = Review.objects.for_shop(shop).prefetch_related("photos")
    params = ListParams(request)
    filters = {
        "status": params.choice("status", Review.Status.values, label=_("Status")),
        "rating": params.choice("rating", "12345", label=_("Rating")),
        "product": params.identifier("product", label=_("Product")),
        "photos": params.choice("photos", ("yes", "no"), label=_("Photos")),
        "reported": params.choice("reported", ("yes",), label=_("Reported")),
        **params.days(),
    }
    if filters["status"] in Review.Status.values:
        reviews = reviews.filter(status=filters["status"])
    if filters["rating"] in {"1", "2", "3", "4", "5"}:
        reviews = reviews.filter(rating=int(filters["rating"]))
    if filters["product"]:
        reviews = reviews.filter(product_id=int(filters["product"]))
    if filters["photos"] == "yes":
        reviews = reviews.filter(photos__isnull=False).distinct()
    elif filters["photos"] == "no":
        reviews = reviews.filter(photos__isnull=True)
    if filters["reported"] == "yes":
        reviews = reviews.filter(pk__in=ReviewReport.objects.for_shop(shop).open().values("review"))
    reviews = opened_between(reviews, "created_at", shop, filters)
    page = params.page(reviews, PAGE_SIZE)
    reports = dict(ReviewReport.objects.open().filter(review__in=[r.pk for r in page.object_list])
                   .values_list("review").annotate(n=Count("pk")))
    for review in page.object_list:
        review.held_labels = [_(REASON_LABELS.get(r, r)) for r in review.held_reasons]
        review.open_reports = reports.get(review.pk, 0)
    query = urlencode({k: v for k, v in filters.items() if v})
    return render(request, "reviews/panel/list.html", {
        "shop": shop, "nav": "reviews", "page": page, "filters": filters, "query": query,
        "statuses": Review.Status.choices, "ratings": rating_choices(),
        "products": ProductRating.objects.filter(shop=shop).order_by("product_title"),
        "held_count": Review.objects.for_shop(shop).filter(status=Review.Status.HELD).count(),
        "reported_count": reported_count(shop),
        "any_reviews": Review.objects.for_shop(shop).exists(), "param_notices": params.notices,
    })


def review_detail(request: HttpRequest, review_id: int) -> HttpResponse:
    review = get_object_or_404(Review.objects.for_shop(request.shop), pk=review_id)
    reject_form, reply_form = RejectForm(), ReplyForm(initial={"reply": review.reply})
    notice, status = "", 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "publish":
            review = review_publish(review=review, actor=panel_actor(request))
            notice = _("Review published.")
        elif action == "reject":
            reject_form = RejectForm(request.POST)
            if reject_form.is_valid():
                review = review_reject(review=review, reason=reject_form.cleaned_data["reason"],
                                       actor=panel_actor(request))
                review_reports_dismiss(review=review, actor=panel_actor(request), kept=False)
                notice = _("Review rejected. It is not shown on your store.")
            else:
                status = 400
        elif action == "reply":
            reply_form = ReplyForm(request.POST)
            if reply_form.is_valid():
                review = review_reply(review=review, text=reply_form.cleaned_data["reply"], actor=panel_actor(request))
                notice = (_("Reply saved. It shows under the review on your store.") if review.reply
                          else _("Reply removed."))
            else:
                status = 400
        elif action == "keep":
            closed = review_reports_dismiss(review=review, actor=panel_actor(request), kept=True)
            notice = (ngettext("Kept on your store; %(count)s report closed.",
                               "Kept on your store; %(count)s reports closed.", closed) % {"count": number_format(closed)}
                      if closed
                      else _("There were no open reports on this review."))
        elif action in ("hide_photo", "show_photo"):
            photo = _review_photo(review, request.POST.get("photo"))
            review_photo_hide(photo=photo, hidden=action == "hide_photo", actor=panel_actor(request))
            notice = (_("Photo hidden. It is no longer shown on your store; the review stays as it is.")
                      if action == "hide_photo" else _("Photo shown on your store again."))
        else:
            status = 400
    elif request.method != "GET":
        return HttpResponse(status=405)
    return render(request, "reviews/panel/detail.html", {
        "shop": request.shop, "nav": "reviews", "review": review, "reject_form": reject_form,
        "reply_form": reply_form, "notice": notice, "decisions": _decisions_shown(review),
        "revisions": review.revisions.all()[:20], "photos": review.photos.all(),
        "held_reasons": [_(REASON_LABELS.get(r, r)) for r in review.held_reasons],
        "rejection_label": _(dict(ModerationDecision.Reason.choices).get(review.rejection_reason, "")),
        "reasons": ModerationDecision.Reason.choices,
        "reports": review.reports.open().order_by("created_at"),
    }, status=status)


def _decisions_shown(review: Review) -> list[ModerationDecision]:
    """The review's latest decisions, each with `reason_shown`: its stored reason in the panel's language
    where Advocate wrote it in words of its own (a decision keeps its reason as it was written, in English)."""
    decisions = list(review.decisions.all()[:50])
    for decision in decisions:
        reason = decision.reason
        if decision.action == ModerationDecision.Action.REJECTED and reason in ModerationDecision.Reason.labels:
            reason = _(reason)  # the label, marked in reviews.models
        elif decision.action == ModerationDecision.Action.REPORTS_DISMISSED:
            reason = reports_dismissed_text(reason)
        elif decision.action == ModerationDecision.Action.HELD:
            reason = "; ".join(_(part) for part in reason.split("; "))  # the labels above, as _reason_text joined them
        decision.reason_shown = reason
    return decisions


def _review_photo(review: Review, photo_id: str | None) -> ReviewPhoto:
    """One of this review's photos; another review's or shop's photo id is a 404."""
    if not (photo_id or "").isdigit():
        raise Http404
    return get_object_or_404(review.photos.all(), pk=int(photo_id))


@require_GET
def review_photo(request: HttpRequest, photo_id: int) -> HttpResponse:
    photo = ReviewPhoto.objects.filter(pk=photo_id, review__shop=request.shop).first()
    if photo is None:
        raise Http404
    return photo_response(photo, thumb=request.GET.get("size") == "thumb", public=False)


def _email_translations(shop, config: ReviewSettings, data=None) -> TranslationsForm:
    """The request email's subject and text in the shop's other languages."""
    return TranslationsForm(
        data, prefix="tr", languages=other_languages(shop), check=placeholder_problem,
        texts={"email_subject": forms.CharField(label=_("Subject"), max_length=200),
               "email_body": forms.CharField(label=_("Email text"), max_length=2000,
                                             widget=forms.Textarea(attrs={"rows": 6}))},
        current=lambda language, name: config.translated(name, language),
        default=lambda language, name: config.translated(name, language, own_version=False))


def review_settings(request: HttpRequest) -> HttpResponse:
    """When to ask, the email's words in each language (with a preview and a test send in each), and
    what the storefront accepts."""
    shop = request.shop
    config = ReviewSettings.for_shop(shop)
    form = RequestSettingsForm(instance=config)
    translations = _email_translations(shop, config)
    test_form = TestSendForm(initial={"to": shop.email})
    language = language_of(request.GET.get("preview") or request.POST.get("language")) or shop_default_language(shop)
    notice, status = "", 200
    if request.method == "POST":
        if request.POST.get("action") == "feed-rotate":
            feed_token_rotate(shop)
            notice = _("The feed has a new address: paste it into Merchant Center; the old one no longer works.")
        elif request.POST.get("action") == "resync":
            count = metafields_resync(shop)
            notice = (ngettext("Resync started: %(count)s product will be written to Shopify again.",
                               "Resync started: %(count)s products will be written to Shopify again.", count)
                      % {"count": number_format(count)}
                      if sync_possible(shop)
                      else _("Nothing was sent: Advocate needs the permission named below first."))
        elif request.POST.get("action") == "test":
            test_form, notice, status = test_send_post(
                request.POST, lambda to: review_request_test_send(shop=shop, to=to, language=language),
                form_class=TestSendForm,
            )
            if status == 200:  # the sentence whole, for translators (test_send_post joins its own)
                notice = _("Test request sent to %(to)s.") % {"to": test_form.cleaned_data["to"]}
        else:
            translations = _email_translations(shop, config, request.POST)  # shown as the shopper reads it now
            form = RequestSettingsForm(request.POST, instance=config)
            if form.is_valid() and translations.is_valid():
                config = form.save(commit=False)
                config.translations = translations.translations(config.translations)
                config.save()
                notice = _("Review settings saved.")
            else:
                status = 400
                config = ReviewSettings.for_shop(shop)  # preview what is saved, not the rejected input
    elif request.method != "GET":
        return HttpResponse(status=405)
    sample = sample_request(shop)
    subject, _plain, html = request_email(sample, config, sample.sample_items, link="#preview", language=language)
    feed = feed_status(shop)
    return render(request, "reviews/panel/settings.html", {
        "shop": shop, "nav": "reviews", "form": form, "translations": translations, "test_form": test_form,
        "notice": notice, "preview_subject": subject, "preview_html": html, "preview_language": language,
        "languages": settings.LANGUAGES, "config": config, "sync": metafields_status(shop),
        "feed": feed, "feed_url": absolute(f"/feeds/google-reviews/{feed['token']}.xml"),
    }, status=status)


# --- CSV export and import ------------------------------------------------------------

class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("CSV file"),
                           error_messages={"required": gettext_lazy("Choose a CSV file to import.")},
                           widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _("Up to 2 MB and %(rows)s reviews, UTF-8.") % {"rows": number_format(MAX_ROWS)}


@require_GET
def reviews_export(request: HttpRequest) -> StreamingHttpResponse:
    name = f"reviews-{request.shop.domain.split('.')[0]}-{timezone.localdate().isoformat()}.csv"
    response = StreamingHttpResponse(reviews_csv_lines(shop=request.shop), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def reviews_import_page(request: HttpRequest) -> HttpResponse:
    form, errors, notice, status = ImportForm(), [], "", 200
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                if upload.size > MAX_BYTES:
                    raise ImportRefused([_("The file is %(size)s MB; the limit is 2 MB. Split it into smaller files "
                                           "and import them one by one.") % {
                        "size": decimal_format(upload.size / 1024 / 1024, 1)}])
                count = reviews_import(shop=request.shop, data=upload.read())
                notice = ngettext("Imported %(count)s review. They are published and labelled imported.",
                                  "Imported %(count)s reviews. They are published and labelled imported.",
                                  count) % {"count": number_format(count)}
            except ImportRefused as exc:
                errors, status = exc.errors, 400
            except ShopifyError:
                errors, status = [_("Shopify could not be reached to look up the product handles. Nothing was "
                                    "imported; try again in a minute.")], 502
        else:
            status = 400
    elif request.method != "GET":
        return HttpResponse(status=405)
    return render(request, "reviews/panel/import.html", {
        "shop": request.shop, "nav": "reviews", "form": form, "errors": errors[:200], "more": max(0, len(errors) - 200),
        "notice": notice, "columns": IMPORT_COLUMNS,
    }, status=status)
