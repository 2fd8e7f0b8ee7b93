"""Shop lifecycle: install, tokens, uninstall, erase."""
from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from shopify_app import IdTokenDetails, TokenExchangeAccessToken

from shopapp.models import OAuthState, Shop, WebhookEvent
from shopapp.shopify import http_client, shopify_app

log = logging.getLogger(__name__)

# An authorization-code install must come back within this time; older states are purged.
OAUTH_STATE_TTL = timedelta(minutes=10)
# Live states kept per shop: a merchant clicking "install" again gets a working link, and
# requests naming the same shop over and over replace the oldest instead of piling up.
OAUTH_STATES_PER_SHOP = 5

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
            from shopapp.admin_api import ShopifyError

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
    _token_store(shop, token)
    if not shop.is_installed:
        shop.installed_at = timezone.now()
        shop.uninstalled_at = None
    shop.save()
    return shop, reinstalled


def _shop_connected(shop: Shop, *, reinstalled: bool) -> Shop:
    from shopapp.registry import run_reconnect_hooks

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


# Shopify's answers that mean the refresh token will never work again (rotated by a
# refresh whose result was lost, revoked, or past its 90 days): only a new token exchange helps.
DEAD_REFRESH_CODES = frozenset({"invalid_grant", "refresh_token_expired"})

TOKEN_FIELDS = ["access_token", "access_token_expires_at", "refresh_token", "refresh_token_expires_at", "scopes"]


def shop_access_token(shop: Shop) -> str:
    """A valid offline token for the shop, refreshed first when it is about to expire.

    Shopify keeps one valid token per app and shop, and a refresh rotates the refresh
    token, so two workers must never refresh at once: the refresh runs under a row
    lock and the second worker finds the first one's new token when it gets the lock.
    The row is read again first: another worker may have rotated the token, or the
    shop may have uninstalled since `shop` was loaded.
    """
    shop.refresh_from_db(fields=[*TOKEN_FIELDS, "installed_at", "uninstalled_at"])
    _connected_require(shop)
    if shop_token_is_fresh(shop):
        return shop.access_token
    with transaction.atomic():
        locked = Shop.objects.select_for_update().get(pk=shop.pk)
        _connected_require(locked)
        failure = None if shop_token_is_fresh(locked) else _token_refresh(locked)
    if failure:
        from shopapp.admin_api import ShopNotConnected

        raise ShopNotConnected(
            f"Refreshing the token of {shop.domain} failed ({failure}); work that needs Shopify waits "
            "until the merchant opens Advocate from the Shopify admin, which reconnects it."
        )
    shop.refresh_from_db(fields=TOKEN_FIELDS)
    return shop.access_token


def _connected_require(shop: Shop) -> None:
    from shopapp.admin_api import ShopNotConnected, ShopUninstalled

    if not shop.is_installed:
        raise ShopUninstalled(f"{shop.domain} has uninstalled Advocate; nothing is sent to Shopify for it.")
    if not shop.access_token:
        raise ShopNotConnected(f"{shop.domain} has no access token; the merchant must open Advocate to reconnect it.")


def shop_token_is_fresh(shop: Shop) -> bool:
    """Whether the stored access token may be used for a call starting now."""
    if not shop.access_token:
        return False
    expires = shop.access_token_expires_at
    return expires is None or expires - timezone.now() > TOKEN_REFRESH_MARGIN


def _token_refresh(shop: Shop) -> str | None:
    """Refresh the locked shop's token; the failure code when the refresh token is dead.

    Shopify rotates the refresh token when it answers, so the answer must be committed
    before anything else can fail: the store is one UPDATE, and the caller's transaction
    commits right after it. What remains is a crash between Shopify's answer and that
    COMMIT (or a caller's outer transaction rolling it back): the rotated token is lost,
    the next refresh answers invalid_grant, and the shop is marked dead here; the next
    panel load exchanges a session token for a new one (shopapp.auth).
    """
    from shopapp.admin_api import ShopifyError

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
    if result.ok and result.access_token is not None:
        _token_store(shop, result.access_token)
        shop.save(update_fields=[*TOKEN_FIELDS, "updated_at"])
        return None
    if result.log.code not in DEAD_REFRESH_CODES:
        # Shopify down or slow: the refresh token is still good, the job retries as usual.
        raise ShopifyError(f"Refreshing the token of {shop.domain} failed ({result.log.code}); retrying later.")
    log.warning("refresh token of %s is dead (%s); waiting for the merchant to reconnect", shop.domain, result.log.code)
    _token_forget(shop)
    return result.log.code


def _token_forget(shop: Shop) -> None:
    shop.access_token = ""
    shop.refresh_token = ""
    shop.access_token_expires_at = None
    shop.refresh_token_expires_at = None
    shop.save(update_fields=[*TOKEN_FIELDS, "updated_at"])


def shop_installed_require(shop: Shop) -> None:
    """Refuse (ShopUninstalled) when the shop has uninstalled, as the database says now."""
    from shopapp.admin_api import ShopUninstalled

    if not Shop.objects.installed().filter(pk=shop.pk).exists():
        raise ShopUninstalled(f"{shop.domain} has uninstalled Advocate; nothing is sent for it.")


def shop_uninstall(*, shop: Shop) -> Shop:
    """app/uninstalled: drop the tokens, stop pending work; the data stays for a reinstall."""
    from shopapp.registry import run_uninstall_hooks

    with transaction.atomic():
        shop = Shop.objects.select_for_update().get(pk=shop.pk)
        shop.uninstalled_at = shop.uninstalled_at or timezone.now()
        shop.save(update_fields=["uninstalled_at", "updated_at"])
        _token_forget(shop)
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
