"""The shop's brand on everything shoppers see from Advocate: its emails, the review form, the
referral pages.

Where it comes from, first found wins: what the merchant set in the panel (Settings › Brand), the
brand settings the merchant keeps in Shopify (Settings › Brand in the admin: logo, primary
colour) as last read, and otherwise the shop's name in plain type with Advocate's neutral colour.

Shopify serves the brand settings through the Storefront API only, which takes a storefront
access token: Advocate keeps one of its own, titled TOKEN_TITLE. Creating it creates something in
Shopify, so it is never sent blindly: the shop's tokens are listed first and one with that title
is adopted, which also settles a creation whose answer was lost.

The colour is kept readable, whatever the merchant picked: `Brand.color` is their colour darkened
until white text on it (a button) and it on white (a link) reach 4.5:1.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta

import httpx
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_noop

from shopapp.admin_api import AdminClient
from shopapp.errors import ShopifyError, ShopNotConnected, stored_message_translate
from shopapp.jobs import enqueue
from shopapp.models import Shop
from shopapp.shopify import http_client

log = logging.getLogger(__name__)

TOKEN_TITLE = "Advocate brand"
SCOPE = "unauthenticated_read_content"
NEUTRAL = "#303030"  # Advocate's own accent when the shop has no colour
DARK_CARD = "#1f2124"  # an email's card in dark mode (templates/shopapp/email/_layout.html)
READ_AGAIN_AFTER = timedelta(days=1)
HEX = re.compile(r"^#[0-9a-fA-F]{6}$")

# Why a read failed, stored in English (a job reads too) and shown in the merchant's language (brand_read_said).
NO_SCOPE = gettext_noop("Advocate needs the storefront access you have not approved yet: open Advocate from your "
                        "admin and approve the update, then read again.")
TOKEN_REFUSED = gettext_noop("Shopify refused Advocate's storefront token; it will make a new one. Read again.")
NO_ANSWER = gettext_noop("Shopify did not answer (%(reason)s). Read again in a minute.")
READ_FAILURES = (NO_SCOPE, TOKEN_REFUSED, NO_ANSWER)

TOKENS = """
query AdvocateStorefrontTokens { shop { storefrontAccessTokens(first: 100) { nodes { id title accessToken } } } }
"""
TOKEN_CREATE = """
mutation AdvocateStorefrontToken($input: StorefrontAccessTokenInput!) {
  storefrontAccessTokenCreate(input: $input) { storefrontAccessToken { id title accessToken } userErrors { field message } }
}
"""
BRAND = """
query AdvocateBrand { shop { brand { logo { image { url } } colors { primary { background foreground } } } } }
"""


@dataclass(frozen=True)
class Brand:
    name: str
    logo_url: str
    color: str  # readable: white on it and it on white reach 4.5:1
    on_color: str = "#ffffff"

    @property
    def color_on_dark(self) -> str:
        """The colour lightened until it reads (4.5:1) on a dark-mode email's card (DARK_CARD)."""
        return lighter_until_readable(self.color, DARK_CARD)

    @property
    def initial(self) -> str:
        return (self.name[:1] or "·").upper()


def shop_brand(shop: Shop) -> Brand:
    """What Advocate shows the shop's customers: the merchant's choice, else Shopify's, else plain."""
    colour = shop.brand_color or shop.shopify_brand_color or NEUTRAL
    return Brand(name=shop.name or shop.domain, logo_url=shop.brand_logo_url or shop.shopify_logo_url,
                 color=readable(colour if HEX.match(colour) else NEUTRAL))


def readable(colour: str) -> str:
    """The colour, darkened in small steps until white reaches 4.5:1 against it (#rrggbb in and out)."""
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    for _ in range(40):
        if contrast((r, g, b), (255, 255, 255)) >= 4.5:
            break
        r, g, b = (int(c * 0.92) for c in (r, g, b))
    return f"#{r:02x}{g:02x}{b:02x}"


def lighter_until_readable(colour: str, background: str) -> str:
    """The colour mixed towards white in small steps until it reaches 4.5:1 on `background`."""
    rgb = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    back = tuple(int(background[i:i + 2], 16) for i in (1, 3, 5))
    for _ in range(40):
        if contrast(tuple(rgb), back) >= 4.5:
            break
        rgb = [round(c + (255 - c) * 0.12) for c in rgb]
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """WCAG 2 contrast ratio of two sRGB colours."""
    def luminance(rgb):
        def channel(c):
            c = c / 255
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
        r, g, b = (channel(c) for c in rgb)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def brand_read_due(shop: Shop, *, reinstalled: bool = False) -> None:
    """Reconnect hook: read Shopify's brand after an install, and then at most daily on a visit."""
    if shop.brand_read_at is None or shop.brand_read_at < timezone.now() - READ_AGAIN_AFTER:
        enqueue(brand_read, shop.pk)


def brand_uninstalled(shop: Shop) -> None:
    """Shopify revokes the app's storefront tokens with the uninstall."""
    Shop.objects.filter(pk=shop.pk).update(storefront_token="")


def brand_read(shop_id: int) -> str:
    """Job: read the shop's brand settings from Shopify. Returns what happened, in words the panel shows."""
    shop = Shop.objects.get(pk=shop_id)
    if not shop.is_installed:
        return "not installed"
    if not shop.has_scope(SCOPE):
        return _read_failed(shop, NO_SCOPE)
    try:
        token = shop.storefront_token or _token_obtain(shop)
        brand = _brand_query(shop, token)
    except _TokenRefused:
        Shop.objects.filter(pk=shop.pk).update(storefront_token="")  # revoked in Shopify: a new one next time
        return _read_failed(shop, TOKEN_REFUSED)
    except (ShopifyError, ShopNotConnected, httpx.HTTPError) as exc:
        return _read_failed(shop, NO_ANSWER % {"reason": exc.__class__.__name__})
    logo = ((brand.get("logo") or {}).get("image") or {}).get("url") or ""
    primary = (brand.get("colors") or {}).get("primary") or [{}]
    colour = (primary[0] or {}).get("background") or ""
    Shop.objects.filter(pk=shop.pk).update(
        shopify_logo_url=logo[:1000] if logo.startswith("https://") or logo.startswith("http://") else "",
        shopify_brand_color=colour.lower() if HEX.match(colour) else "", brand_read_at=timezone.now(),
        brand_read_error="")
    return "read"


def brand_read_said(what: str) -> str:
    """What brand_read returned, or a stored brand_read_error, in the merchant's language."""
    return stored_message_translate(what, READ_FAILURES)


def _read_failed(shop: Shop, why: str) -> str:
    log.warning("brand of %s not read: %s", shop.domain, why)
    Shop.objects.filter(pk=shop.pk).update(brand_read_error=why[:255], brand_read_at=timezone.now())
    return why


class _TokenRefused(Exception):
    pass


def _token_obtain(shop: Shop) -> str:
    """Advocate's storefront token: adopted when one with its title exists, else created once."""
    client = AdminClient(shop)
    listed = (client.query(TOKENS, cost=5).get("shop") or {}).get("storefrontAccessTokens") or {}
    for node in listed.get("nodes") or []:
        if node.get("title") == TOKEN_TITLE and node.get("accessToken"):
            return _token_keep(shop, node["accessToken"])
    # ShopifyAmbiguous goes up: the token may exist now, and the next read lists and adopts it.
    created = client.mutate(TOKEN_CREATE, {"input": {"title": TOKEN_TITLE}}, field="storefrontAccessTokenCreate")
    token = (created.get("storefrontAccessToken") or {}).get("accessToken")
    if not token:
        raise ShopifyError("Shopify made no storefront token and gave no reason")
    return _token_keep(shop, token)


def _token_keep(shop: Shop, token: str) -> str:
    shop.storefront_token = token
    shop.save(update_fields=["storefront_token", "updated_at"])
    return token


def _brand_query(shop: Shop, token: str) -> dict:
    response = http_client().post(
        f"https://{shop.domain}/api/{settings.SHOPIFY_API_VERSION}/graphql.json", json={"query": BRAND},
        headers={"X-Shopify-Storefront-Access-Token": token, "Content-Type": "application/json"}, timeout=10)
    if response.status_code in (401, 403):
        raise _TokenRefused()
    response.raise_for_status()
    body = response.json()
    if body.get("errors"):
        raise ShopifyError(f"Storefront API errors: {body['errors']}")
    return ((body.get("data") or {}).get("shop") or {}).get("brand") or {}
