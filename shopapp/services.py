"""Shop lifecycle: install, tokens, uninstall, erase."""
from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from shopify_app import IdTokenDetails, TokenExchangeAccessToken

from shopapp.admin_api import AdminClient
from shopapp.connection import shop_token_is_fresh, token_forget, token_store
from shopapp.errors import ShopifyError
from shopapp.models import Customer, OAuthState, Shop, WebhookEvent
from shopapp.registry import CustomerRef, customer_data_redact, run_reconnect_hooks, run_uninstall_hooks
from shopapp.shopify import http_client, shopify_app

log = logging.getLogger(__name__)

# An authorization-code install must come back within this time; older states are purged.
OAUTH_STATE_TTL = timedelta(minutes=10)
# Live states kept per shop: a merchant clicking "install" again gets a working link, and
# requests naming the same shop over and over replace the oldest instead of piling up.
OAUTH_STATES_PER_SHOP = 5

SHOP_QUERY = """
query AdvocateShop {
  shop {
    id name email currencyCode ianaTimezone
    plan { displayName shopifyPlus }
    billingAddress { company address1 address2 city provinceCode zip country }
  }
}
"""
LOCALES_SCOPE = "read_locales"
LOCALES_QUERY = "query AdvocateShopLocales { shopLocales(published: true) { locale primary } }"


def shop_install_from_id_token(*, domain: str, id_token: IdTokenDetails) -> Shop:
    """Managed install, reinstall and reconnect: exchange the panel's ID token for an expiring offline token.

    The exchange runs under the shop's row lock, like a refresh: Shopify keeps one valid
    token per app and shop, so a worker refreshing at the same moment must either see
    this token or have its own stored before this exchange starts.
    """
    with transaction.atomic():
        locked = Shop.objects.select_for_update().filter(domain=domain).first()
        if locked is not None and locked.is_installed and shop_token_is_fresh(locked):
            return locked  # another request reconnected the shop while this one waited
        # The exchange rotates Shopify's token: keep it and the COMMIT of its result together.
        result = shopify_app().exchange_using_token_exchange(
            "offline", id_token=id_token, expiring=True, http_client=http_client()
        )
        if not result.ok or result.access_token is None:
            raise ShopifyError(f"Token exchange failed: {result.log.code}: {result.log.detail}")
        shop, reinstalled = _shop_connect(domain=domain, token=result.access_token)
    return _shop_connected(shop, reinstalled=reinstalled)


def shop_install(*, domain: str, token: TokenExchangeAccessToken) -> Shop:
    """Store the token, bring an uninstalled shop back with its data, read its details."""
    with transaction.atomic():
        shop, reinstalled = _shop_connect(domain=domain, token=token)
    return _shop_connected(shop, reinstalled=reinstalled)


def _shop_connect(*, domain: str, token: TokenExchangeAccessToken) -> tuple[Shop, bool]:
    """Store the new token on the locked row; whether this brings back an uninstalled shop."""
    shop, _ = Shop.objects.select_for_update().get_or_create(domain=domain)
    reinstalled = shop.installed_at is not None and shop.uninstalled_at is not None
    token_store(shop, token)
    if not shop.is_installed:
        shop.installed_at = timezone.now()
        shop.uninstalled_at = None
    shop.save()
    return shop, reinstalled


def _shop_connected(shop: Shop, *, reinstalled: bool) -> Shop:
    # After the commit: work that waited for a token, or was paused by the uninstall, resumes.
    run_reconnect_hooks(shop, reinstalled=reinstalled)
    shop_sync_details(shop)
    return shop


def oauth_state_create(*, domain: str) -> OAuthState:
    """A new install nonce for the shop; expired ones, and this shop's oldest past the cap, go."""
    oauth_states_purge()
    state = OAuthState.objects.create(nonce=secrets.token_urlsafe(24), shop_domain=domain)
    keep = OAuthState.objects.filter(shop_domain=domain).order_by("-created_at", "-pk").values("pk")[:OAUTH_STATES_PER_SHOP]
    OAuthState.objects.filter(shop_domain=domain).exclude(pk__in=list(keep.values_list("pk", flat=True))).delete()
    return state


def oauth_state_claim(*, nonce: str, domain: str) -> bool:
    """Use the nonce up: True once, for the shop it was issued to, within its lifetime."""
    return OAuthState.objects.filter(
        nonce=nonce, shop_domain=domain, created_at__gte=timezone.now() - OAUTH_STATE_TTL
    ).delete()[0] > 0


def oauth_states_purge() -> int:
    """Sweeper (and every new install): states past their lifetime are deleted."""
    return OAuthState.objects.filter(created_at__lt=timezone.now() - OAUTH_STATE_TTL).delete()[0]


def shop_sync_details(shop: Shop) -> Shop:
    """Read name, email, currency, timezone and plan from the GraphQL `shop` query."""
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
    shop.primary_locale = shop_primary_locale(shop) or shop.primary_locale
    shop.save(update_fields=["shopify_gid", "name", "email", "currency", "timezone", "plan_name", "is_plus",
                             "postal_address", "primary_locale", "updated_at"])
    return shop


def shop_primary_locale(shop: Shop) -> str:
    """The storefront's primary locale from `shopLocales` ('ko', 'de-DE'); '' without read_locales
    (granted later than the other scopes by shops installed before it) or when Shopify did not say."""
    if not shop.has_scope(LOCALES_SCOPE):
        return ""
    try:
        data = AdminClient(shop).query(LOCALES_QUERY, cost=1)
    except ShopifyError as exc:
        log.warning("could not read the locales of %s: %s", shop.domain, exc)
        return ""
    primary = [row.get("locale") or "" for row in data.get("shopLocales") or [] if row.get("primary")]
    return primary[0][:20] if primary else ""


SCOPES_QUERY = "query AdvocateScopes { currentAppInstallation { accessScopes { handle } } }"


def shop_scopes_refresh(shop: Shop) -> Shop:
    """Read the access scopes the shop has granted now: optional ones (read_all_orders) are granted,
    and revoked, after install, and only Shopify knows. ShopifyError when it cannot be asked."""
    data = AdminClient(shop).query(SCOPES_QUERY, cost=2)
    handles = [s["handle"] for s in (data.get("currentAppInstallation") or {}).get("accessScopes") or [] if s.get("handle")]
    if handles:
        shop.scopes = ",".join(handles)
        shop.save(update_fields=["scopes", "updated_at"])
    return shop


def postal_address(address: dict | None) -> str:
    """Shopify's ShopAddress as the lines an envelope shows (empty when Shopify has none)."""
    a = address or {}
    area = " ".join(p for p in (a.get("city"), a.get("provinceCode"), a.get("zip")) if p)
    lines = [a.get("company"), a.get("address1"), a.get("address2"), area, a.get("country")]
    # Without a street the rest is no postal address (CAN-SPAM wants a deliverable one).
    return "\n".join(line.strip() for line in lines if line and line.strip()) if a.get("address1") else ""


def shop_uninstall(*, shop: Shop) -> Shop:
    """app/uninstalled: drop the tokens, stop pending work; the data stays for a reinstall."""
    with transaction.atomic():
        shop = Shop.objects.select_for_update().get(pk=shop.pk)
        shop.uninstalled_at = shop.uninstalled_at or timezone.now()
        shop.save(update_fields=["uninstalled_at", "updated_at"])
        token_forget(shop)
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

    email = email.strip().lower()
    matches = list(Customer.objects.filter(shop=shop, email=email))
    refs = [CustomerRef(shopify_id=str(c.shopify_id or ""), email=email, phone=c.phone) for c in matches] or [
        CustomerRef(shopify_id="", email=email, phone="")
    ]
    with transaction.atomic():
        for ref in refs:
            customer_data_redact(shop, ref)
    return len(matches)
