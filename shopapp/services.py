"""Shop lifecycle: install, tokens, uninstall, erase."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from shopify_app import IdTokenDetails, TokenExchangeAccessToken

from shopapp.models import Shop, WebhookEvent
from shopapp.shopify import http_client, shopify_app

log = logging.getLogger(__name__)

# Refresh this long before expiry so a call never starts with a dying token.
TOKEN_REFRESH_MARGIN = timedelta(minutes=5)

SHOP_QUERY = """
query AdvocateShop {
  shop {
    id name email currencyCode ianaTimezone
    plan { displayName shopifyPlus }
    billingAddress { company address1 address2 city provinceCode zip country }
  }
}
"""


def _parse_time(value: str | None) -> datetime | None:
    return parse_datetime(value) if value else None


def _token_store(shop: Shop, token: TokenExchangeAccessToken) -> None:
    shop.access_token = token.token
    shop.access_token_expires_at = _parse_time(token.expires)
    shop.refresh_token = token.refresh_token or ""
    shop.refresh_token_expires_at = _parse_time(token.refresh_token_expires)
    shop.scopes = token.scope or shop.scopes


def shop_install_from_id_token(*, domain: str, id_token: IdTokenDetails) -> Shop:
    """Managed install (and reinstall): exchange the panel's ID token for an expiring offline token."""
    result = shopify_app().exchange_using_token_exchange(
        "offline", id_token=id_token, expiring=True, http_client=http_client()
    )
    if not result.ok or result.access_token is None:
        from shopapp.admin_api import ShopifyError

        raise ShopifyError(f"Token exchange failed: {result.log.code}: {result.log.detail}")
    return shop_install(domain=domain, token=result.access_token)


def shop_install(*, domain: str, token: TokenExchangeAccessToken) -> Shop:
    """Store the token, bring an uninstalled shop back with its data, read its details."""
    with transaction.atomic():
        shop, _ = Shop.objects.select_for_update().get_or_create(domain=domain)
        _token_store(shop, token)
        if not shop.is_installed:
            shop.installed_at = timezone.now()
            shop.uninstalled_at = None
        shop.save()
    shop_sync_details(shop)
    return shop


def shop_sync_details(shop: Shop) -> Shop:
    """Read name, email, currency, timezone and plan from the GraphQL `shop` query."""
    from shopapp.admin_api import AdminClient, ShopifyError

    try:
        data = AdminClient(shop).query(SHOP_QUERY, cost=2)
    except ShopifyError as exc:
        # Install goes on; the details are read again at the next install or refresh.
        log.warning("could not read details of %s: %s", shop.domain, exc)
        return shop
    info = data.get("shop") or {}
    plan = info.get("plan") or {}
    shop.shopify_gid = info.get("id") or shop.shopify_gid
    shop.name = info.get("name") or shop.name
    shop.email = info.get("email") or shop.email
    shop.currency = info.get("currencyCode") or shop.currency
    shop.timezone = info.get("ianaTimezone") or shop.timezone
    shop.plan_name = plan.get("displayName") or shop.plan_name
    shop.is_plus = bool(plan.get("shopifyPlus"))
    shop.postal_address = postal_address(info.get("billingAddress")) or shop.postal_address
    shop.save(update_fields=["shopify_gid", "name", "email", "currency", "timezone", "plan_name", "is_plus",
                             "postal_address", "updated_at"])
    return shop


def postal_address(address: dict | None) -> str:
    """Shopify's ShopAddress as the lines an envelope shows (empty when Shopify has none)."""
    a = address or {}
    area = " ".join(p for p in (a.get("city"), a.get("provinceCode"), a.get("zip")) if p)
    lines = [a.get("company"), a.get("address1"), a.get("address2"), area, a.get("country")]
    # Without a street the rest is no postal address (CAN-SPAM wants a deliverable one).
    return "\n".join(line.strip() for line in lines if line and line.strip()) if a.get("address1") else ""


def shop_access_token(shop: Shop) -> str:
    """A valid offline token for the shop, refreshed first when it is about to expire.

    Shopify keeps one valid token per app and shop, and a refresh rotates the refresh
    token, so two workers must never refresh at once: the refresh runs under a row
    lock and the second worker finds the first one's new token when it gets the lock.
    """
    from shopapp.admin_api import ShopNotConnected

    if _token_fresh(shop):
        return shop.access_token
    with transaction.atomic():
        locked = Shop.objects.select_for_update().get(pk=shop.pk)
        if not locked.access_token:
            raise ShopNotConnected(f"{shop.domain} has no access token; the merchant must open Advocate to reconnect it.")
        if not _token_fresh(locked):
            _token_refresh(locked)
    shop.refresh_from_db()
    return shop.access_token


def _token_fresh(shop: Shop) -> bool:
    if not shop.access_token:
        return False
    expires = shop.access_token_expires_at
    return expires is None or expires - timezone.now() > TOKEN_REFRESH_MARGIN


def _token_refresh(shop: Shop) -> None:
    from shopapp.admin_api import ShopNotConnected

    result = shopify_app().refresh_token_exchanged_access_token(
        {
            "shop": shop.handle,
            "refresh_token": shop.refresh_token,
            # The library refreshes only tokens that are near expiry; our margin is
            # wider, so hand it the moment we want it treated as expired.
            "expires": None,
            "refresh_token_expires": shop.refresh_token_expires_at.isoformat() if shop.refresh_token_expires_at else None,
            "access_mode": "offline",
        },
        http_client=http_client(),
    )
    if not result.ok or result.access_token is None:
        raise ShopNotConnected(
            f"Refreshing the token of {shop.domain} failed ({result.log.code}); "
            "the merchant must open Advocate from the Shopify admin to reconnect it."
        )
    _token_store(shop, result.access_token)
    shop.save()


def shop_uninstall(*, shop: Shop) -> Shop:
    """app/uninstalled: drop the tokens, stop pending work; the data stays for a reinstall."""
    from shopapp.registry import run_uninstall_hooks

    with transaction.atomic():
        shop = Shop.objects.select_for_update().get(pk=shop.pk)
        shop.access_token = ""
        shop.refresh_token = ""
        shop.access_token_expires_at = None
        shop.refresh_token_expires_at = None
        shop.uninstalled_at = shop.uninstalled_at or timezone.now()
        shop.save()
        run_uninstall_hooks(shop)
    return shop


def shop_erase(*, domain: str) -> int:
    """shop/redact: delete everything Advocate holds about the shop."""
    with transaction.atomic():
        deleted, _ = Shop.objects.filter(domain=domain).delete()
        WebhookEvent.objects.filter(shop_domain=domain).exclude(topic="shop/redact").delete()
    return deleted


def customer_erase(*, shop: Shop, email: str) -> int:
    """The merchant's own erase: what customers/redact does, for the customers with this email."""
    from shopapp.models import Customer
    from shopapp.registry import CustomerRef, customer_data_redact

    email = email.strip().lower()
    matches = list(Customer.objects.filter(shop=shop, email=email))
    refs = [CustomerRef(shopify_id=str(c.shopify_id or ""), email=email, phone=c.phone) for c in matches] or [
        CustomerRef(shopify_id="", email=email, phone="")
    ]
    with transaction.atomic():
        for ref in refs:
            customer_data_redact(shop, ref)
    return len(matches)
