"""Storefront reviews through the app proxy (/apps/advocate/reviews/...): the shop comes only
from Shopify's proxy signature, and only published reviews of that shop ever show.

`/reviews/<product_id>` is a full page (Liquid, in the shop's theme) that reads without
JavaScript; `?view=fragment` is the same content for the theme block's fetch; `?format=json`
is the data. `/reviews/<product_id>/badge` is the star badge.
"""
from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse

from reviews.models import Review, ReviewPhoto
from reviews.storefront import storefront_render
from reviews.views_shopper import photo_response
from shopapp.proxy import app_proxy_view, liquid
from shopapp.ratelimit import rate_limited

CONTENT_TYPES = {"fragment": "text/html; charset=utf-8", "badge": "text/html; charset=utf-8",
                 "json": "application/json"}


@app_proxy_view
@rate_limited("storefront-reviews", limit=600, window=60, shared_every=True)
def product_reviews(request: HttpRequest, product_id: int) -> HttpResponse:
    if request.GET.get("format") == "json":
        kind = "json"
    else:
        kind = "fragment" if request.GET.get("view") == "fragment" else "page"
    return _answer(request, product_id, kind)


@app_proxy_view
@rate_limited("storefront-reviews", limit=600, window=60, shared_every=True)
def product_badge(request: HttpRequest, product_id: int) -> HttpResponse:
    return _answer(request, product_id, "badge")


def _answer(request: HttpRequest, product_id: int, kind: str) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD"})
    try:
        page = int(request.GET.get("page") or 1)
    except ValueError:
        page = 1
    body = storefront_render(shop=request.shop, product_id=product_id, kind=kind, sort=request.GET.get("sort", ""),
                             page=page, prefix=request.GET.get("path_prefix") or settings.APP_PROXY_PREFIX)
    response = HttpResponse(body, content_type=CONTENT_TYPES.get(kind, "text/html; charset=utf-8"))
    response["X-Content-Type-Options"] = "nosniff"
    return liquid(response) if kind == "page" else response


@app_proxy_view
@rate_limited("storefront-photos", limit=600, window=60, shared_every=True)
def review_photo(request: HttpRequest, photo_id: int) -> HttpResponse:
    """A published review's photo (its thumbnail once made), for the shop that signed the request."""
    photo = (ReviewPhoto.objects.shown().defer("image")
             .filter(pk=photo_id, review__shop=request.shop, review__status=Review.Status.PUBLISHED).first())
    if photo is None:
        raise Http404
    if not photo.thumbnail:
        photo = ReviewPhoto.objects.get(pk=photo.pk)
    return photo_response(photo, thumb=True, public=True)
