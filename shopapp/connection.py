"""The shop's connection to Shopify: whether it is installed, and its expiring offline token.

Below the Admin API client (which asks it for a token before every call) and the shop
lifecycle in `shopapp.services` (which stores the tokens an install or reconnect brings).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from shopify_app import TokenExchangeAccessToken

from shopapp.errors import ShopifyError, ShopNotConnected, ShopUninstalled
from shopapp.models import Shop
from shopapp.shopify import http_client, shopify_app

log = logging.getLogger(__name__)

# Refresh this long before expiry so a call never starts with a dying token.
TOKEN_REFRESH_MARGIN = timedelta(minutes=5)

def _parse_time(value: str | None) -> datetime | None:
    return parse_datetime(value) if value else None


def token_store(shop: Shop, token: TokenExchangeAccessToken) -> None:
    shop.access_token = token.token
    shop.access_token_expires_at = _parse_time(token.expires)
    shop.refresh_token = token.refresh_token or ""
    shop.refresh_token_expires_at = _parse_time(token.refresh_token_expires)
    shop.scopes = token.scope or shop.scopes


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
        raise ShopNotConnected(
            f"Refreshing the token of {shop.domain} failed ({failure}); work that needs Shopify waits "
            "until the merchant opens Advocate from the Shopify admin, which reconnects it."
        )
    shop.refresh_from_db(fields=TOKEN_FIELDS)
    return shop.access_token


def _connected_require(shop: Shop) -> None:
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
        token_store(shop, result.access_token)
        shop.save(update_fields=[*TOKEN_FIELDS, "updated_at"])
        return None
    if result.log.code not in DEAD_REFRESH_CODES:
        # Shopify down or slow: the refresh token is still good, the job retries as usual.
        raise ShopifyError(f"Refreshing the token of {shop.domain} failed ({result.log.code}); retrying later.")
    log.warning("refresh token of %s is dead (%s); waiting for the merchant to reconnect", shop.domain, result.log.code)
    token_forget(shop)
    return result.log.code


def token_forget(shop: Shop) -> None:
    shop.access_token = ""
    shop.refresh_token = ""
    shop.access_token_expires_at = None
    shop.refresh_token_expires_at = None
    shop.save(update_fields=[*TOKEN_FIELDS, "updated_at"])


def shop_installed_require(shop: Shop) -> None:
    """Refuse (ShopUninstalled) when the shop has uninstalled, as the database says now."""
    if not Shop.objects.installed().filter(pk=shop.pk).exists():
        raise ShopUninstalled(f"{shop.domain} has uninstalled Advocate; nothing is sent for it.")
