"""App proxy requests: the storefront's /apps/advocate/* reaches Advocate's /proxy/*.

Shopify signs each forwarded request; shopifyapp verifies it, and only then does the
view get `request.shop` (and `request.logged_in_customer_id`, when a customer is logged in).
"""
from __future__ import annotations

from functools import wraps

from django.http import HttpRequest, HttpResponse

from shopapp.models import Shop
from shopapp.shopify import clean_shop_domain, shopify_app


def app_proxy_view(view):
    """Verify the app proxy signature; 401 if bad, 404 for a shop without Advocate."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        result = shopify_app().verify_app_proxy_req(
            {"method": request.method, "headers": dict(request.headers), "url": request.build_absolute_uri(), "body": ""}
        )
        if not result.ok:
            return HttpResponse("This page must be opened through the store.", status=401, content_type="text/plain")
        domain = clean_shop_domain(request.GET.get("shop") or result.shop)
        shop = Shop.objects.installed().filter(domain=domain).first() if domain else None
        if shop is None:
            return HttpResponse("This store does not use Advocate.", status=404, content_type="text/plain")
        request.shop = shop
        request.logged_in_customer_id = result.logged_in_customer_id or None
        return view(request, *args, **kwargs)

    return wrapped


def liquid(response: HttpResponse) -> HttpResponse:
    """Ask Shopify to render the answer inside the shop's theme layout."""
    response["Content-Type"] = "application/liquid"
    return response
