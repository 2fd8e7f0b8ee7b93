"""The inbox in the panel, one case's page and the case settings (the customer's page is views_shopper)."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.db.models import Count, Q, Sum
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _, ngettext, pgettext_lazy
from django.views.decorators.http import require_GET, require_POST

from reviews.cases import remedies
from reviews.cases.forms import CaseSettingsForm, PublicReplyForm, RemedyForm, ReplyForm, TemplateForm, placeholder_error
from reviews.cases.history import event_shown
from reviews.cases.models import Case, CaseSettings, Remedy
from reviews.cases.pause import pause_status, pause_tag_renamed
from shopapp.staff import STAFF_ID, actor_label
from reviews.cases.conversation import (
    case_default_subject, case_language, case_order, case_public_reply, case_reply_send, case_review_link, reply_template_filled,
    reply_template_texts, reply_templates,
)
from reviews.cases.services import CaseError, TRANSITIONS, case_assign, case_open, case_transition
from reviews.models import Review
from shopapp.auth import panel_actor
from shopapp.dashboard import opened_between
from shopapp.models import Order
from shopapp.params import ListParams
from shopapp.registry import customer_summaries
from shopapp.translations import TranslationsForm, other_languages

PAGE_SIZE = 25
CASE_RELATED = ("review__order_line__order", "nps_survey__order", "customer")
# The buttons that move a case, and what the page says once it moved, by the status it moves to.
MARK = {
    Case.Status.NEW: pgettext_lazy("button: move a case to a status", "Mark new"),
    Case.Status.OPEN: pgettext_lazy("button: move a case to a status", "Mark open"),
    Case.Status.WAITING: pgettext_lazy("button: move a case to a status", "Mark waiting for customer"),
    Case.Status.RESOLVED: pgettext_lazy("button: move a case to a status", "Mark resolved"),
    Case.Status.CLOSED: pgettext_lazy("button: move a case to a status", "Mark closed"),
}
MARKED = {
    Case.Status.NEW: pgettext_lazy("a case moved to a status", "Case marked new."),
    Case.Status.OPEN: pgettext_lazy("a case moved to a status", "Case marked open."),
    Case.Status.WAITING: pgettext_lazy("a case moved to a status", "Case marked waiting for customer."),
    Case.Status.RESOLVED: pgettext_lazy("a case moved to a status", "Case marked resolved."),
    Case.Status.CLOSED: pgettext_lazy("a case moved to a status", "Case marked closed."),
}


def _due(case: Case, target: timedelta, now) -> dict:
    """Time to first response against the shop's target."""
    if case.first_response_at:
        taken = case.first_response_at - case.created_at
        return {"answered": True, "hours": taken.total_seconds() / 3600, "late": taken > target}
    left = case.created_at + target - now
    return {"answered": False, "hours": abs(left.total_seconds()) / 3600, "late": left.total_seconds() < 0}


@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    shop = request.shop
    config = CaseSettings.for_shop(shop)
    target = timedelta(hours=config.first_response_hours)
    now = timezone.now()
    cases = Case.objects.for_shop(shop).select_related("review", "nps_survey", "customer")
    params = ListParams(request)
    filters = {
        "status": params.choice("status", ["active", *Case.Status.values], label=_("Status")),
        "assignee": params.choice("assignee", ("me", "none"), label=_("Assignee")),
        "overdue": params.choice("overdue", ("yes",), label=_("Overdue")),
        "q": params.text("q", label=_("Search")), **params.days(),
    }
    cases = opened_between(cases, "created_at", shop, filters)
    if filters["status"] == "active":
        cases = cases.filter(status__in=Case.ACTIVE)
    elif filters["status"] in Case.Status.values:
        cases = cases.filter(status=filters["status"])
    if filters["assignee"] == "me":
        cases = cases.filter(assignee=panel_actor(request))
    elif filters["assignee"] == "none":
        cases = cases.filter(assignee="")
    if filters["overdue"] == "yes":
        cases = cases.filter(first_response_at__isnull=True, created_at__lt=now - target)
    if filters["q"]:
        q = filters["q"]
        cases = cases.filter(Q(review__title__icontains=q) | Q(review__body__icontains=q)
                             | Q(review__product_title__icontains=q) | Q(customer__email__icontains=q)
                             | Q(customer__first_name__icontains=q) | Q(customer__last_name__icontains=q)
                             | Q(review__display_name__icontains=q) | Q(nps_survey__comment__icontains=q))
    page = params.page(cases, PAGE_SIZE)
    for case in page.object_list:
        case.due = _due(case, target, now)
        case.age = now - case.created_at
    return render(request, "cases/panel/list.html", {
        "shop": shop, "nav": "cases", "page": page, "filters": filters, "config": config,
        "query": urlencode({k: v for k, v in filters.items() if v}),
        "statuses": Case.Status.choices, "any_cases": Case.objects.for_shop(shop).exists(), "me": panel_actor(request),
        "param_notices": params.notices,
    })


def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    shop = request.shop
    case = get_object_or_404(Case.objects.for_shop(shop).select_related(*CASE_RELATED), pk=case_id)
    forms = {"reply": None, "public": PublicReplyForm(initial={"reply": case.review.reply if case.review else ""}),
             "remedy": RemedyForm()}
    notice = error = ""
    status = 200
    if request.method == "POST" and request.POST.get("action", "").startswith("template:"):
        forms["reply"], notice = _template_added(request, case)
    elif request.method == "POST":
        action = request.POST.get("action", "")
        try:
            notice, bound = _act(request, case, action)
            if bound is not None:
                forms.update(bound)
                status = 400
        except CaseError as exc:
            error, status = str(exc), 400
            forms.update(_rebind(request, action))
        case = Case.objects.select_related(*CASE_RELATED).get(pk=case.pk)
    elif request.method != "GET":
        return HttpResponse(status=405)
    if forms["reply"] is None:
        forms["reply"] = ReplyForm(initial=_reply_initial(request, case))
    return render(request, "cases/panel/detail.html", {
        "shop": shop, "nav": "cases", "case": case, "notice": notice, "error": error, **_context(case, request),
        "reply_form": forms["reply"], "public_form": forms["public"], "remedy_form": forms["remedy"],
    }, status=status)


def _rebind(request: HttpRequest, action: str) -> dict:
    """Keep what the merchant typed when the service refused it."""
    return {"reply": ReplyForm(request.POST) if action == "reply" else None,
            "remedy": RemedyForm(request.POST) if action == "remedy" else RemedyForm()}


def _act(request: HttpRequest, case: Case, action: str) -> tuple[str, dict | None]:
    """Run one posted action: (notice, None) or ("", forms with errors)."""
    actor = panel_actor(request)
    if action == "status":
        case = case_transition(case=case, to=request.POST.get("to", ""), actor=actor)
        return str(MARKED[case.status]), None
    if action == "assign":
        assignee = actor if request.POST.get("to") == "me" else ""
        case_assign(case=case, assignee=assignee, actor=actor)
        return (_("Case assigned to you.") if assignee else _("Case unassigned.")), None
    if action == "reply":
        form = ReplyForm(request.POST)
        if not form.is_valid():
            return "", {"reply": form}
        case_reply_send(case=case, subject=form.cleaned_data["subject"], body=form.cleaned_data["body"], actor=actor)
        return _("Reply sent to the customer by email. The case now waits for their answer."), None
    if action == "public":
        form = PublicReplyForm(request.POST)
        if not form.is_valid():
            return "", {"public": form}
        review = case_public_reply(case=case, text=form.cleaned_data["reply"], actor=actor)
        return (_("Public reply saved. It shows under the review on your store.") if review.reply
                else _("Public reply removed.")), None
    if action == "remedy":
        form = RemedyForm(request.POST)
        if not form.is_valid():
            return "", {"remedy": form}
        remedy = remedies.remedy_offer(case=case, kind=form.cleaned_data["kind"], amount=form.cleaned_data["amount"],
                                       note=form.cleaned_data["note"], actor=actor)
        if remedy.kind in Remedy.REMOTE:
            created = (_("Discount code of %(amount)s %(currency)s is being created in Shopify. The customer gets it by "
                         "email and on their case page as soon as it exists.") if remedy.kind == Remedy.Kind.DISCOUNT
                       else _("Store credit of %(amount)s %(currency)s is being created in Shopify. The customer gets "
                              "it by email and on their case page as soon as it exists."))
            return created % {"amount": number_format(remedy.amount, 2), "currency": remedy.currency}, None
        recorded = (_("Refund done in Shopify recorded.") if remedy.kind == Remedy.Kind.REFUND
                    else _("Replacement sent from Shopify recorded."))
        return recorded, None
    if action == "retry":
        remedy_id = request.POST.get("remedy", "")
        remedy = get_object_or_404(Remedy, pk=int(remedy_id) if remedy_id.isdigit() else 0, case=case)
        remedies.remedy_retry(remedy=remedy, actor=actor)
        return _("Trying again."), None
    raise CaseError(_("That action is not available."))


def _template_added(request: HttpRequest, case: Case) -> tuple[ReplyForm, str]:
    """The chosen template added below what the merchant typed (their subject kept): nothing is lost."""
    key = request.POST["action"].removeprefix("template:")
    template = next((t for t in reply_templates(case.shop) if t.key == key), None)
    subject, body = request.POST.get("subject", "").strip(), request.POST.get("body", "").rstrip()
    if template is None:
        return ReplyForm(initial={"subject": subject, "body": body}), _("That template no longer exists.")
    filled = reply_template_filled(template, case)
    added = (_("“%(name)s” added below what you wrote: edit it, then send.") if body
             else _("“%(name)s” added: edit it, then send."))
    return ReplyForm(initial={"subject": subject or filled["subject"],
                              "body": f"{body}\n\n{filled['body']}" if body else filled["body"]}), \
        added % {"name": template.name_shown}


def _reply_initial(request: HttpRequest, case: Case) -> dict:
    key = request.GET.get("template", "")
    template = next((t for t in reply_templates(case.shop) if t.key == key), None)
    if template is None:
        return {"subject": case_default_subject(case)}
    return reply_template_filled(template, case)


def _context(case: Case, request: HttpRequest) -> dict:
    review = case.review  # None for a case an NPS answer opened
    customer = case.customer
    order = case_order(case)
    history = {}
    if customer is not None:
        orders = Order.objects.filter(customer=customer).order_by("-placed_at")
        history = {
            "orders": orders[:10], **orders.filter(cancelled_at__isnull=True).aggregate(
                count=Count("pk"), spent=Sum("total"), refunded=Sum("refunded")),
            "reviews": Review.objects.filter(customer=customer).exclude(pk=case.review_id or 0)[:10],
            "summaries": customer_summaries(customer),
        }
    config = CaseSettings.for_shop(case.shop)
    return {
        "review": review, "nps": case.nps_survey, "order": order, "lines": order.lines.all() if order else [],
        "history": history, "photos": review.photos.all() if review else [], "messages": case.messages.all(), "events": _with_names(case.shop, case.events.all()[:100]),
        "remedies": case.remedies.select_related("delivery"), "templates": reply_templates(case.shop),
        "customer_language": dict(settings.LANGUAGES)[case_language(case)],
        # Resolving is the page's primary action, so it comes last: Polaris puts the primary at the end.
        "transitions": sorted(((s, MARK[s]) for s in Case.Status.values if s in TRANSITIONS[case.status]),
                              key=lambda t: t[0] == Case.Status.RESOLVED),
        "due": _due(case, timedelta(hours=config.first_response_hours), timezone.now()),
        "revisions": review.revisions.all()[:10] if review else [], "review_link": case_review_link(case),
        "reachable": bool(customer and customer.email and not customer.redacted_at),
        "can_give_in_shopify": bool(customer and customer.shopify_id and not customer.redacted_at),
    }


@require_POST
def case_open_by_hand(request: HttpRequest, review_id: int) -> HttpResponse:
    """The "Open a case" button of any review."""
    review = get_object_or_404(Review.objects.for_shop(request.shop), pk=review_id)
    case, _ = case_open(review=review, reason=Case.Reason.MANUAL, actor=panel_actor(request))
    return HttpResponseRedirect(f"/app/cases/{case.pk}/?id_token={request.id_token}")


def _template_translations(shop, template, data=None) -> TranslationsForm:
    """A reply template's subject and text in the shop's other languages."""
    return TranslationsForm(
        data, prefix=f"{template.key}-tr", languages=other_languages(shop),
        check=placeholder_error,
        texts={"subject": forms.CharField(label=_("Subject"), max_length=200),
               "body": forms.CharField(label=_("Message"), max_length=5000, widget=forms.Textarea(attrs={"rows": 8}))},
        current=lambda language, name: reply_template_texts(template, language)[name == "body"],
        default=lambda language, name: reply_template_texts(template, language, own_version=False)[name == "body"])


def case_settings(request: HttpRequest) -> HttpResponse:
    shop = request.shop
    config = CaseSettings.for_shop(shop)
    templates = reply_templates(shop)
    form = CaseSettingsForm(instance=config)
    template_forms = {t.key: TemplateForm(instance=t, prefix=t.key) for t in templates}
    for t in templates:
        template_forms[t.key].translations = _template_translations(shop, t)
    notice, status = "", 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "settings":
            form = CaseSettingsForm(request.POST, instance=config)
            if form.is_valid():
                form.save()
                notice = _("Case settings saved.")
                if "pause_tag" in form.changed_data:
                    count = pause_tag_renamed(shop)
                    if count:
                        notice = ngettext("Case settings saved. %(count)s customer will be retagged in Shopify.",
                                          "Case settings saved. %(count)s customers will be retagged in Shopify.",
                                          count) % {"count": count}
            else:
                status = 400
        elif action.startswith("template-") and action[9:] in template_forms:
            key = action[9:]
            template = next(t for t in templates if t.key == key)
            translations = _template_translations(shop, template, request.POST)  # shown as each customer reads it now
            bound = TemplateForm(request.POST, instance=template, prefix=key)
            bound.translations = translations
            template_forms[key] = bound
            if bound.is_valid() and translations.is_valid():
                template = bound.save(commit=False)
                template.translations = translations.translations(template.translations)
                template.save()
                bound.translations = _template_translations(shop, template)
                notice = _("Template “%(name)s” saved.") % {"name": bound.instance.name}
            else:
                status = 400
        else:
            status = 400
    elif request.method != "GET":
        return HttpResponse(status=405)
    return render(request, "cases/panel/settings.html", {
        "shop": shop, "nav": "cases", "form": form, "template_forms": list(template_forms.values()),
        "notice": notice, "pause": pause_status(shop),
        "pause_tag": CaseSettings.objects.values_list("pause_tag", flat=True).get(pk=config.pk),
    }, status=status)


def _with_names(shop, events) -> list:
    """The case's history with staff members named in its details too ("assigned to Sam Okafor")."""
    events = list(events)
    for event in events:
        event.detail = STAFF_ID.sub(lambda m: actor_label(shop, m.group(0)), event_shown(event))
    return events
