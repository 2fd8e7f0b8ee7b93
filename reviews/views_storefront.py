"""Storefront reviews through the app proxy (/apps/advocate/reviews/...): the shop comes only
from Shopify's proxy signature, and only published reviews of that shop ever show.

`/reviews/<product_id>` is a full page (Liquid, in the shop's theme) that reads without
JavaScript; `?view=fragment` is the same content for the theme block's fetch; `?format=json`
is the data. `/reviews/<product_id>/badge` is the star badge. `/reviews/<product_id>/write` is
the non-buyer's form, confirmed through an emailed link (the section below says why it needs
no CSRF cookie).

Every page speaks the storefront's language (shopapp.languages.request_language): `?locale=`, which
the theme blocks pass from Liquid's request.locale, else the browser's Accept-Language, else the
shop's primary locale; `?lang=` overrides it for testing.
"""
from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from reviews.buyer import my_review_link
from reviews.feed import feed_lines, feed_shop
from reviews.forms import StorefrontReviewForm
from reviews.models import Review, ReviewPhoto, ReviewReport, ReviewSettings
from reviews.nonbuyer import (
    CONFIRM_VALIDITY, email_key, form_token, form_token_valid, storefront_product_title, storefront_review_for_token, storefront_review_submit,
)
from reviews.reports import report_token, report_token_valid, reportable_review, review_report
from reviews.services import review_confirm
from reviews.storefront import shop_reviews_render, storefront_render
from reviews.views_shopper import photo_response
from shopapp.languages import shopper_page
from shopapp.links import LinkInvalid
from shopapp.proxy import app_proxy_view, liquid
from shopapp.ratelimit import allow, hashed_ip, limit_key, rate_limited

FRAGMENT_MAX_AGE = 60
CONTENT_TYPES = {"fragment": "text/html; charset=utf-8", "badge": "text/html; charset=utf-8",
                 "json": "application/json"}


@app_proxy_view
@rate_limited("storefront-reviews", limit=600, window=60, shared_every=True)
@shopper_page
def product_reviews(request: HttpRequest, product_id: int) -> HttpResponse:
    if request.GET.get("format") == "json":
        kind = "json"
    else:
        kind = "fragment" if request.GET.get("view") == "fragment" else "page"
    return _answer(request, product_id, kind)


@app_proxy_view
@rate_limited("storefront-reviews", limit=600, window=60, shared_every=True)
@shopper_page
def all_reviews(request: HttpRequest) -> HttpResponse:
    """The shop's All reviews page (Liquid, in the theme): every product's reviews, newest first."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD"})
    page, prefix = _listing_params(request)
    return liquid(HttpResponse(shop_reviews_render(shop=request.shop, page=page, prefix=prefix)))


def _listing_params(request: HttpRequest) -> tuple[int, str]:
    """The page asked for (1 when it is not a number) and the proxy's path prefix."""
    try:
        page = int(request.GET.get("page") or 1)
    except ValueError:
        page = 1
    return page, request.GET.get("path_prefix") or settings.APP_PROXY_PREFIX


@app_proxy_view
@rate_limited("storefront-reviews", limit=600, window=60, shared_every=True)
@shopper_page
def product_badge(request: HttpRequest, product_id: int) -> HttpResponse:
    return _answer(request, product_id, "badge")


def _answer(request: HttpRequest, product_id: int, kind: str) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD"})
    page, prefix = _listing_params(request)
    body = storefront_render(shop=request.shop, product_id=product_id, kind=kind, sort=request.GET.get("sort", ""),
                             page=page, prefix=prefix)
    response = HttpResponse(body, content_type=CONTENT_TYPES.get(kind, "text/html; charset=utf-8"))
    response["X-Content-Type-Options"] = "nosniff"
    if kind == "page":
        return liquid(response)
    # The same for every shopper (nothing here depends on who is logged in): caches in front of
    # Advocate and the browser may keep it a minute, and serve it a little longer while refreshing.
    response["Cache-Control"] = f"public, max-age={FRAGMENT_MAX_AGE}, stale-while-revalidate={FRAGMENT_MAX_AGE * 5}"
    return response


@app_proxy_view
@rate_limited("storefront-photos", limit=600, window=60, shared_every=True)
def review_photo(request: HttpRequest, photo_id: int) -> HttpResponse:
    """A published review's photo, for the shop that signed the request: its thumbnail once made, or
    with `?size=large` the photo itself (at most 2000 px, already stripped of camera and place) for
    the lightbox."""
    large = request.GET.get("size") == "large"
    shown = ReviewPhoto.objects.shown() if large else ReviewPhoto.objects.shown().defer("image")
    photo = shown.filter(pk=photo_id, review__shop=request.shop, review__status=Review.Status.PUBLISHED).first()
    if photo is None:
        raise Http404
    if not large and not photo.thumbnail:
        photo = ReviewPhoto.objects.get(pk=photo.pk)
    return photo_response(photo, thumb=not large, public=True)


# --- Writing a review on the storefront -------------------------------------------------
# Write a review on the storefront (/apps/advocate/reviews/<product_id>/write) and confirm it
# by email (/reviews/confirm/<token>). Only when the shop accepts reviews from non-buyers.
#
# Why no Django CSRF cookie here: Shopify's app proxy strips the Cookie header from forwarded
# requests (and our cookie could not be set on the store's domain anyway), so the CSRF check
# would refuse every honest post. CSRF protects an ambient credential from being used by
# another site; this form has none (no session, no login: anyone may post a review). What
# matters is that posts come from a form we served for this shop and product, recently, at a
# human pace: the hidden `form_token` is signed by us, names the shop and product, and expires;
# a hidden honeypot field catches form-filling bots; posts are rate-limited per client and per
# email; and nothing is published until the writer clicks the link emailed to them.

EMAIL_LIMIT = 5  # reviews per email address per hour
REPORTS_PER_HOUR = 10  # reports one shopper may send


@csrf_exempt  # see the module docstring: a signed form token stands in for the cookie
@app_proxy_view
@rate_limited("storefront-write", limit=30, window=60)
@shopper_page
def write_review(request: HttpRequest, product_id: int) -> HttpResponse:
    shop = request.shop
    if not ReviewSettings.for_shop(shop).non_buyer_reviews:
        raise Http404
    product_title = storefront_product_title(shop=shop, product_id=product_id)
    if product_title is None:
        raise Http404
    if request.method == "GET":
        form = StorefrontReviewForm(initial={"form_token": form_token(shop=shop, product_id=product_id)})
        return _page(request, form, product_title, product_id)
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    data = request.POST.copy()
    token_ok = form_token_valid(data.get("form_token", ""), shop=shop, product_id=product_id)
    data["form_token"] = form_token(shop=shop, product_id=product_id)  # a fresh one if the page shows again
    form = StorefrontReviewForm(data)
    if not form.is_valid() or not token_ok:
        if not token_ok:
            form.add_error(None, _("This page was open for a long time. Check your review and send it again."))
        return _page(request, form, product_title, product_id, status=400)
    values = form.cleaned_data
    if values["website"]:  # the honeypot: answer like a success, store nothing
        return _sent(request, product_title)
    if not allow(f"storefront-write-email:{email_key(values['email'])}", limit=EMAIL_LIMIT, window=3600):
        form.add_error("email", _("This email address sent several reviews in the last hour. Try again later."))
        return _page(request, form, product_title, product_id, status=429)
    storefront_review_submit(
        shop=shop, product_id=product_id, product_title=product_title, rating=int(values["rating"]),
        title=values["title"].strip(), body=values["body"].strip(), display_name=values["display_name"].strip(),
        email=values["email"].strip(), language=translation.get_language(),
    )
    # Rendered, not redirected: a redirect would leave the proxy's signed address.
    return _sent(request, product_title)


def _page(request: HttpRequest, form: StorefrontReviewForm, product_title: str, product_id: int, *,
          status: int = 200) -> HttpResponse:
    prefix = request.GET.get("path_prefix") or "/apps/advocate"
    return render(request, "reviews/write.html", {
        "shop": request.shop, "form": form, "product_title": product_title,
        "back_url": f"{prefix}/reviews/{product_id}",
        "error": _("Some answers need another look; the messages are next to them.") if form.errors else "",
    }, status=status)


def _sent(request: HttpRequest, product_title: str) -> HttpResponse:
    return render(request, "reviews/write_sent.html", {"shop": request.shop, "product_title": product_title,
                                                        "days": CONFIRM_VALIDITY.days})


@csrf_exempt  # the link's signed token is the credential, as on the review form
@rate_limited("storefront-confirm", limit=30, window=60)
@shopper_page  # in the language of the page it was written on (?lang= in the emailed link)
def confirm_review(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button, POST confirms: mail scanners that open links must not publish reviews."""
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD, POST"})
    try:
        review = storefront_review_for_token(token)
        if request.method == "POST":
            review = review_confirm(review=review)
    except LinkInvalid:
        # Says nothing about which part failed or what the link was for.
        return render(request, "reviews/confirm_invalid.html", {"days": CONFIRM_VALIDITY.days}, status=404)
    return render(request, "reviews/confirm.html", {
        "shop": review.shop, "review": review, "confirmed": review.status != Review.Status.UNCONFIRMED,
        "published": review.status == Review.Status.PUBLISHED,
    })


@app_proxy_view
@rate_limited("storefront-mine", limit=60, window=60)
@shopper_page
def my_review(request: HttpRequest, product_id: int) -> HttpResponse:
    """"Write a review" for a logged-in customer: their own order's form when they bought the product."""
    shop = request.shop
    prefix = request.GET.get("path_prefix") or "/apps/advocate"
    customer_id = request.logged_in_customer_id
    link = my_review_link(shop=shop, customer_shopify_id=int(customer_id), product_id=product_id) \
        if customer_id and str(customer_id).isdigit() else None
    if link:
        return HttpResponseRedirect(link)
    title = storefront_product_title(shop=shop, product_id=product_id)
    if title is None:
        raise Http404
    return render(request, "reviews/mine.html", {
        "shop": shop, "product_title": title, "logged_in": bool(customer_id),
        "write_url": f"{prefix}/reviews/{product_id}/write" if ReviewSettings.for_shop(shop).non_buyer_reviews else "",
        # Relative, so it stays under a locale's root (/fr/...): up from {prefix}/reviews/<id>/mine.
        "login_url": f"../../../../account/login?return_url={prefix}/reviews/{product_id}/mine",
        "back_url": f"{prefix}/reviews/{product_id}",
    })


@csrf_exempt  # a signed form token stands in for the cookie, as on the write form (reviews/reports.py)
@app_proxy_view
@rate_limited("storefront-report", limit=60, window=60)
@shopper_page
def report_review(request: HttpRequest, review_id: int) -> HttpResponse:
    """`Report` under a review on the store: choose a reason, send; the merchant decides."""
    shop = request.shop
    review = reportable_review(shop=shop, review_id=review_id)
    if review is None:
        raise Http404
    if request.method not in ("GET", "POST"):
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    prefix = request.GET.get("path_prefix") or "/apps/advocate"
    context = {"shop": shop, "review": review, "back_url": f"{prefix}/reviews/{review.product_id}",
               "action": f"{prefix}/reviews/report/{review.pk}", "reasons": ReviewReport.Reason.choices,
               "token": report_token(shop=shop, review_id=review.pk), "chosen": request.POST.get("reason", "")}
    if request.method == "GET":
        return render(request, "reviews/report.html", context)
    if not allow(f"storefront-report-sent:{limit_key(request)}", limit=REPORTS_PER_HOUR, window=3600):
        return render(request, "reviews/report.html", {
            **context, "error": _("You sent several reports in the last hour. Try again later.")}, status=429)
    if context["chosen"] not in ReviewReport.Reason.values:
        return render(request, "reviews/report.html", {**context, "error": _("Choose what is wrong with the review.")},
                      status=400)
    if not report_token_valid(request.POST.get("form_token", ""), shop=shop, review_id=review.pk):
        return render(request, "reviews/report.html", {
            **context, "error": _("This page was open for a long time. Choose the reason again and send it.")},
            status=400)
    review_report(review=review, reason=context["chosen"], client=hashed_ip(request))
    return render(request, "reviews/report.html", {**context, "sent": True})


# --- the Google Product Ratings feed ---------------------------------------------------------

@rate_limited("review-feed", limit=30, window=3600)
def google_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The shop's reviews for Merchant Center; the unguessable token in the address is the key."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405)
    shop = feed_shop(token)
    if shop is None:
        raise Http404
    response = StreamingHttpResponse(feed_lines(shop), content_type="application/xml; charset=utf-8")
    response["Cache-Control"] = "private, max-age=900"
    response["X-Robots-Tag"] = "noindex"
    return response
