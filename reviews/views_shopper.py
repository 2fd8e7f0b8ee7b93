"""The shopper's review page, reached by the signed email link or through the app proxy.

The link's token is the credential (unguessable, signed, expiring), so the form carries no
CSRF cookie: through the app proxy the page lives on the store's domain, where our cookie
cannot be set.
"""
from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from reviews.forms import ReviewItemForm, photo_messages
from reviews.models import Review, ReviewPhoto, ReviewRequest, ReviewSettings
from reviews.requests import review_request_for_token
from reviews.services import review_create, review_update
from shopapp.languages import language_use, shopper_language, shopper_page
from shopapp.links import LinkInvalid
from shopapp.proxy import app_proxy_view
from shopapp.ratelimit import rate_limited
from shopapp.registry import review_thanks_blocks
from shopapp.shopify import shop_url


@csrf_exempt
@rate_limited("review-form", limit=60, window=60)
@shopper_page
def review_form(request: HttpRequest, token: str) -> HttpResponse:
    return _review_page(request, token, base="/reviews")


@csrf_exempt
@app_proxy_view
@rate_limited("review-form", limit=60, window=60)
@shopper_page
def proxy_review_form(request: HttpRequest, token: str) -> HttpResponse:
    prefix = request.GET.get("path_prefix") or "/apps/advocate"
    return _review_page(request, token, base=f"{prefix}/reviews", proxy_shop=request.shop)


def _review_page(request: HttpRequest, token: str, *, base: str, proxy_shop=None) -> HttpResponse:
    try:
        review_request = review_request_for_token(token)
    except LinkInvalid:
        return _link_invalid(request)
    if proxy_shop is not None and review_request.shop_id != proxy_shop.pk:
        return _link_invalid(request)
    if request.method not in ("GET", "POST"):
        return HttpResponse(status=405)
    # The language of the email this link came in (the order's), so the two never disagree.
    language_use(request, shopper_language(review_request.shop, order=review_request.order))
    action = f"{base}/r/{token}"
    items = list(review_request.items.filter(asked=True).select_related("order_line"))
    existing = {r.order_line_id: r for r in Review.objects.filter(order_line__in=[i.order_line for i in items])
                .prefetch_related("photos")}
    if request.method == "GET":
        ReviewRequest.objects.filter(pk=review_request.pk, clicked_at__isnull=True).update(clicked_at=timezone.now())
        if request.GET.get("done"):
            return render(request, "reviews/thanks.html", {
                "shop": review_request.shop, "edit_url": action, "reviews": existing.values(),
                "shop_home": shop_url(review_request.shop.domain, "/"),
                "blocks": review_thanks_blocks(review_request.shop, list(existing.values()))})
        chosen = request.GET.get("item", "")
        rows = [_row(item, existing.get(item.order_line_id), None, _star(request, item, chosen), token, base)
                for item in items]
        return _render_form(request, review_request, rows, action)
    rows = [_row(item, existing.get(item.order_line_id), request, None, token, base) for item in items]
    forms_ok = all(row["form"].is_valid() for row in rows)
    rated = [row for row in rows if row["form"].is_rated] if forms_ok else []
    error = ""
    if forms_ok and not rated:
        error = _("Choose a star rating for at least one product.")
    if not forms_ok or error:
        error = error or _("Some answers need another look; the messages are next to them.")
        return _render_form(request, review_request, rows, action, error=error, status=400)
    _save(review_request, rated)
    return HttpResponseRedirect(f"{action}?done=1")


def _star(request: HttpRequest, item, chosen: str) -> str | None:
    rating = request.GET.get("rating", "")
    return rating if chosen == str(item.pk) and rating in {"1", "2", "3", "4", "5"} else None


def _row(item, review: Review | None, request: HttpRequest | None, star: str | None, token: str, base: str) -> dict:
    prefix = f"i{item.pk}"
    if request is not None:
        form = ReviewItemForm(request.POST, request.FILES, prefix=prefix, review=review)
    else:
        initial = {"rating": str(review.rating), "title": review.title, "body": review.body,
                   "display_name": review.display_name} if review else {"display_name": _default_name(item)}
        if star:
            initial["rating"] = star
        form = ReviewItemForm(initial=initial, prefix=prefix, review=review)
        if star:
            # They chose this product's stars in the email: the cursor waits where their words go.
            form.fields["body"].widget.attrs["autofocus"] = True
    photos = [(p.pk, f"{base}/r/{token}/photos/{p.pk}.jpg") for p in review.photos.all()] if review else []
    return {"item": item, "review": review, "form": form, "photos": photos,
            "remove": list(zip(photos, form["remove_photos"])) if photos else []}


def _default_name(item) -> str:
    customer = item.request.customer if item.request_id else None
    if customer is None or customer.redacted_at:
        return ""
    initial = f" {customer.last_name[:1]}." if customer.last_name else ""
    return f"{customer.first_name}{initial}".strip()


def _render_form(request, review_request, rows, action, *, error: str = "", status: int = 200) -> HttpResponse:
    config = ReviewSettings.for_shop(review_request.shop)
    return render(request, "reviews/form.html", {
        "shop": review_request.shop, "rows": rows, "action": action, "error": error,
        "incentive": config.incentive_label() if config.incentive_enabled else "", "photo_messages": photo_messages(),
    }, status=status)


def _save(review_request: ReviewRequest, rows: list[dict]) -> None:
    config = ReviewSettings.for_shop(review_request.shop)
    for row in rows:
        data, item, review = row["form"].cleaned_data, row["item"], row["review"]
        fields = {"rating": int(data["rating"]), "title": data["title"].strip(), "body": data["body"].strip(),
                  "display_name": data["display_name"].strip()}
        if review is None:
            review_create(shop=review_request.shop, product_id=item.product_id, product_title=item.title,
                          order_line=item.order_line, request=review_request, customer=review_request.customer,
                          photos=data["photos"], incentivized=config.incentive_enabled, **fields)
        else:
            review_update(review=review, photos=data["photos"],
                          remove_photo_ids=[int(pk) for pk in data["remove_photos"]], **fields)


def _link_invalid(request: HttpRequest) -> HttpResponse:
    # Says nothing about which part failed or what the link was for.
    return render(request, "reviews/link_invalid.html", {}, status=404)


def review_photo_for_link(request: HttpRequest, token: str, photo_id: int) -> HttpResponse:
    """The reviewer's own photo, shown on the edit page whatever its moderation status."""
    return _photo_for_link(token, photo_id, shop=None)


@app_proxy_view
def proxy_review_photo_for_link(request: HttpRequest, token: str, photo_id: int) -> HttpResponse:
    return _photo_for_link(token, photo_id, shop=request.shop)


def _photo_for_link(token: str, photo_id: int, *, shop) -> HttpResponse:
    try:
        review_request = review_request_for_token(token)
    except LinkInvalid:
        raise Http404 from None
    photo = ReviewPhoto.objects.filter(pk=photo_id, review__request=review_request).first()
    if photo is None or (shop is not None and review_request.shop_id != shop.pk):
        raise Http404
    return photo_response(photo, thumb=True, public=False)


def photo_response(photo: ReviewPhoto, *, thumb: bool, public: bool) -> HttpResponse:
    data = photo.thumbnail if thumb and photo.thumbnail else photo.image
    response = HttpResponse(bytes(data), content_type=photo.content_type)
    # An hour, not a day: a photo the merchant hides should leave shoppers' caches soon too.
    response["Cache-Control"] = "public, max-age=3600" if public else "private, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    return response
