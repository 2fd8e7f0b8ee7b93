"""App proxy requests: the storefront's /apps/advocate/* reaches Advocate's /proxy/*.

Shopify signs each forwarded request; shopifyapp verifies it, and only then does the
view get `request.shop` (and `request.logged_in_customer_id`, when a customer is logged in).

Every proxied request arrives from Shopify's servers, so per-client limits key on the shopper's
address Shopify forwards (`shopper_ip`), read only after the signature is verified.

Storefront traffic is the app's heaviest, so each worker process remembers which shops have
Advocate installed for `SHOP_SECONDS` (but not its tokens). A change to a shop (install, uninstall, settings) drops
it in the process that made it; other processes see it within `SHOP_SECONDS`.
"""
from __future__ import annotations

import copy
from functools import wraps

from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest, HttpResponse

from shopapp.memo import Memo, now_and_once_committed
from shopapp.models import Shop
from shopapp.shopify import clean_shop_domain, shopify_app

SHOP_SECONDS = 10
MAX_SHOPS = 10_000  # unknown domains are remembered too (as None): bound what junk requests can fill

_shops: Memo[Shop | None] = Memo(seconds=SHOP_SECONDS, max_items=MAX_SHOPS)


# Read from the database when used, never remembered: another worker may have rotated them.
TOKEN_FIELDS = ("access_token", "access_token_expires_at", "refresh_token", "refresh_token_expires_at")


def installed_shop(domain: str) -> Shop | None:
    """The installed shop for a domain, a fresh copy per call (requests must not share an instance)."""
    shop = _shops.get_or_make(domain, lambda: Shop.objects.installed().defer(*TOKEN_FIELDS).filter(domain=domain).first())
    return copy.copy(shop) if shop is not None else None


def installed_shops_forget(domain: str | None = None) -> None:
    """Drop one shop (or all) from this process's memory."""
    _shops.forget(domain)


def _shop_changed(sender, instance: Shop, **kwargs) -> None:
    domain = instance.domain
    now_and_once_committed(lambda: installed_shops_forget(domain))


post_save.connect(_shop_changed, sender=Shop, dispatch_uid="proxy-shop-saved")
post_delete.connect(_shop_changed, sender=Shop, dispatch_uid="proxy-shop-deleted")


def shopper_ip(request: HttpRequest) -> str:
    """The shopper's address on a verified proxy request: the entry Shopify added to X-Forwarded-For
    (the last one; anything before it came from the shopper's side). Empty when there is none."""
    return request.headers.get("X-Forwarded-For", "").rsplit(",", 1)[-1].strip()


def app_proxy_view(view):
    """Verify the app proxy signature; 401 if bad, 404 for a shop without Advocate.

    Put `rate_limited` below this decorator: it then counts per shopper, not per Shopify server."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        result = shopify_app().verify_app_proxy_req(
            {"method": request.method, "headers": dict(request.headers), "url": request.build_absolute_uri(), "body": ""}
        )
        if not result.ok:
            return HttpResponse("This page must be opened through the store.", status=401, content_type="text/plain")
        domain = clean_shop_domain(request.GET.get("shop") or result.shop)
        shop = installed_shop(domain) if domain else None
        if shop is None:
            return HttpResponse("This store does not use Advocate.", status=404, content_type="text/plain")
        request.shop = shop
        request.via_app_proxy = True  # its page is on the shop's domain: {% asset %} addresses Advocate
        request.logged_in_customer_id = result.logged_in_customer_id or None
        request.shopper_ip = shopper_ip(request)
        return view(request, *args, **kwargs)

    return wrapped


def liquid(response: HttpResponse) -> HttpResponse:
    """Ask Shopify to render the answer inside the shop's theme layout."""
    response["Content-Type"] = "application/liquid"
    return response
