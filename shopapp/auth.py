"""Session-token auth for the embedded panel.

Every panel request carries Shopify's ID token: on the URL for a document load, in
`Authorization: Bearer` for fetch calls. shopifyapp checks signature, audience and
expiry and builds the right refusal (bounce page for documents, 401 with the retry
header for fetch); ShopifyAPI's session_token module adds the issuer/destination
check. Only then does the request get `request.shop`, taken from the token.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from shopify import session_token
from shopify_app import Res

from shopapp.models import Shop
from shopapp.connection import shop_token_is_fresh
from shopapp.errors import ShopifyError
from shopapp.services import shop_install_from_id_token
from shopapp.shopify import admin_origins, clean_shop_domain, shopify_app
from shopapp.staff import staff_language, staff_remember

log = logging.getLogger(__name__)

PATCH_ID_TOKEN_PATH = "/auth/patch-id-token"
PANEL_PREFIXES = ("/app/",)
# Shopify's session tokens live one minute; a token without `exp`, or valid for longer
# (by its own `exp` or `iat`), was not minted by Shopify's admin and could be replayed.
SESSION_TOKEN_LIFETIME = 60
CLOCK_SKEW = 10


@dataclass(frozen=True)
class PanelUser:
    """The staff member the session token names (its `sub`)."""

    id: str
    session_id: str


def is_panel_path(path: str) -> bool:
    return path == "/" or path.startswith(PANEL_PREFIXES)


def res_to_response(res: Res) -> HttpResponse:
    response = HttpResponse(res.body, status=res.status)
    for name, value in res.headers.items():
        response[name] = value
    return response


def request_input(request: HttpRequest) -> dict:
    return {
        "method": request.method,
        "headers": dict(request.headers),
        "url": request.build_absolute_uri(),
        "body": "",
    }


def frame_ancestors(domain: str) -> str:
    return "frame-ancestors " + " ".join(admin_origins(domain)) + ";"


def admin_frame_allow(response: HttpResponse, domain: str) -> HttpResponse:
    """Let this shop's admin (and only it) frame the response; every other page is DENY."""
    response["Content-Security-Policy"] = frame_ancestors(domain)
    response.xframe_options_exempt = True  # XFrameOptionsMiddleware would add DENY on the way out
    if "X-Frame-Options" in response:
        del response["X-Frame-Options"]
    return response


def token_lifetime_ok(claims: dict, lifetime: int = SESSION_TOKEN_LIFETIME) -> bool:
    """The token has an `exp`, and neither it nor `iat` claims a life longer than Shopify gives."""
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, (int, float)) or isinstance(exp, bool):
        return False
    if exp > time.time() + lifetime + CLOCK_SKEW:
        return False
    return not isinstance(iat, (int, float)) or exp - iat <= lifetime + CLOCK_SKEW


def _issuer_matches(token: str) -> bool:
    """ShopifyAPI's check: iss is a shop's admin and names the same shop as dest."""
    secrets = [settings.SHOPIFY_API_SECRET] + ([settings.SHOPIFY_API_SECRET_OLD] if settings.SHOPIFY_API_SECRET_OLD else [])
    for secret in secrets:
        try:
            session_token.decode_from_header(f"Bearer {token}", settings.SHOPIFY_API_KEY, secret)
            return True
        except session_token.SessionTokenError as exc:
            reason = exc
    log.info("session token refused: %s", reason)
    return False


class EmbeddedShopMiddleware:
    """Puts a verified `request.shop` (and `request.panel_user`) on every panel request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.shop = None
        request.shop_disconnected = False
        request.panel_user = None
        if not is_panel_path(request.path):
            return self.get_response(request)
        if request.path == "/" and not ({"shop", "id_token"} & set(request.GET)) and "Authorization" not in request.headers:
            # Someone opened the app's address outside Shopify: the home view offers the
            # install form to a request without a shop.
            return self.get_response(request)

        result = shopify_app().verify_app_home_req(request_input(request), PATCH_ID_TOKEN_PATH)
        if not result.ok or result.id_token is None:
            return res_to_response(result.response)
        refusal = result.invalid_token_response or Res(status=401, body="", headers={})
        if not token_lifetime_ok(result.id_token.claims):
            log.info("session token refused: no exp, or a lifetime longer than Shopify's")
            return res_to_response(refusal)
        if not _issuer_matches(result.id_token.token):
            return res_to_response(refusal)
        domain = clean_shop_domain(result.id_token.claims.get("dest"))
        if domain is None:
            return res_to_response(refusal)

        shop = Shop.objects.filter(domain=domain).first()
        disconnected = False
        if shop is None or not shop.is_installed or not shop_token_is_fresh(shop):
            # New, reinstalled, or a token that is dead or lapsed (a refresh whose result
            # was lost leaves no working refresh token): this session token gets a new one.
            connected = self._install(domain, result)
            if connected is None and (shop is None or not shop.is_installed):
                return HttpResponse(
                    "Advocate could not connect to your store. Reload the page; if it keeps "
                    "happening, reinstall Advocate from the Shopify admin.",
                    status=502,
                )
            # The panel still opens on what Advocate holds, and says in one line that
            # work needing Shopify waits.
            disconnected = connected is None
            shop = connected or shop
        request.shop = shop
        request.shop_disconnected = disconnected
        request.panel_user = PanelUser(id=str(result.user_id or ""), session_id=str(result.id_token.claims.get("sid", "")))
        request.id_token = result.id_token.token
        if not disconnected:
            staff_remember(shop, request.panel_user.id, result.id_token)  # their name, for the histories
        # The request carries a session token signed by Shopify for this app, which a
        # cross-site attacker cannot mint; that is the panel's CSRF protection. Cookie
        # CSRF would fail anyway where browsers block third-party cookies in the admin.
        request._dont_enforce_csrf_checks = True

        # The panel speaks the admin user's language: the `locale` Shopify puts on a document load,
        # else the one they last opened it in.
        language = staff_language(shop, request.panel_user.id, request.GET.get("locale"))
        with translation.override(language):
            response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        if "Authorization" not in request.headers:
            # Document loads: the library's headers, and frame-ancestors naming this
            # shop's admin, so no other site can frame the panel.
            for name, value in result.response.headers.items():
                if name.lower() != "link":
                    response[name] = value
            if response.get("Content-Type", "").startswith("text/html"):
                response["Link"] = preload_link()
            admin_frame_allow(response, domain)
        return response

    @staticmethod
    def _install(domain: str, result) -> Shop | None:
        try:
            return shop_install_from_id_token(domain=domain, id_token=result.id_token)
        except ShopifyError as exc:
            log.warning("install of %s failed: %s", domain, exc)
            return None


def preload_link() -> str:
    """The Link header for a panel page: what the page itself loads from elsewhere. The library's
    header names Shopify's CDN App Bridge and Polaris; the panel loads no Polaris, and the demo
    loads App Bridge from the simulator (APP_BRIDGE_URL), so those preloads were wasted fetches."""
    url = urlsplit(settings.APP_BRIDGE_URL)
    return f'<{url.scheme}://{url.netloc}>; rel="preconnect", <{settings.APP_BRIDGE_URL}>; rel="preload"; as="script"'


def panel_actor(request: HttpRequest) -> str:
    """Who did a panel action, for the histories: the staff member the session token names."""
    user = getattr(request, "panel_user", None)
    return f"staff {user.id}" if user and user.id else "merchant"
