"""The app's own endpoints outside the panel: install (managed or by authorization code), the
session-token bounce page, the install form outside the admin, and the health check."""
from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET
from shopify_app import TokenExchangeAccessToken

from shopapp.auth import admin_frame_allow, preload_link, request_input, res_to_response
from shopapp.errors import ShopifyError
from shopapp.languages import request_language
from shopapp.ratelimit import rate_limited
from shopapp.services import oauth_state_claim, oauth_state_create, shop_install
from shopapp.shopify import clean_shop_domain, http_client, shop_url, shopify_api_session_class, shopify_app

log = logging.getLogger(__name__)


@require_GET
def patch_id_token(request: HttpRequest) -> HttpResponse:
    """The bounce page: App Bridge fetches a fresh ID token and reloads the panel."""
    result = shopify_app().app_home_patch_id_token(request_input(request))
    response = res_to_response(result.response)
    if result.ok:
        domain = clean_shop_domain(result.shop)
        if domain is None:
            return HttpResponseBadRequest("The shop parameter is not a myshopify.com domain.")
        if settings.APP_BRIDGE_URL != _CDN_APP_BRIDGE:
            # Offline demo: the simulator serves its own App Bridge.
            response.content = response.content.replace(_CDN_APP_BRIDGE.encode(), settings.APP_BRIDGE_URL.encode())
        if "Link" in response:
            response["Link"] = preload_link()
        admin_frame_allow(response, domain)
    return response


_CDN_APP_BRIDGE = "https://cdn.shopify.com/shopifycloud/app-bridge.js"


@require_GET
@rate_limited("oauth-install", limit=10, window=60)
def oauth_install(request: HttpRequest) -> HttpResponse:
    """Start the authorization-code install for a merchant arriving from outside the admin."""
    domain = clean_shop_domain(request.GET.get("shop"))
    if domain is None:
        return HttpResponseBadRequest("Enter your shop's address, like example.myshopify.com.")
    state = oauth_state_create(domain=domain)
    session = shopify_api_session_class()(domain, settings.SHOPIFY_API_VERSION)
    url = session.create_permission_url(
        settings.SHOPIFY_SCOPES, f"{settings.APP_URL}/auth/callback", state=state.nonce
    )
    # ShopifyAPI builds https://{shop}/...; point it at the simulator when one is set.
    return HttpResponseRedirect(url.replace(f"https://{domain}", shop_url(domain, ""), 1))


@require_GET
def oauth_callback(request: HttpRequest) -> HttpResponse:
    params = request.GET.dict()
    session_class = shopify_api_session_class()
    domain = clean_shop_domain(params.get("shop"))
    if domain is None or not session_class.validate_params(params):
        return HttpResponse("This install link is invalid or more than a day old. Start the install again.", status=400)
    if not oauth_state_claim(nonce=params.get("state", ""), domain=domain):
        return HttpResponse("This install link was already used or has expired. Start the install again.", status=400)
    try:
        token = _code_exchange(domain, params.get("code", ""))
    except ShopifyError as exc:
        log.warning("authorization-code exchange for %s failed: %s", domain, exc)
        return HttpResponse("Shopify did not accept the install. Start it again from your Shopify admin.", status=502)
    shop_install(domain=domain, token=token)
    return HttpResponseRedirect(shop_url(domain, f"/admin/apps/{settings.SHOPIFY_API_KEY}"))


def _code_exchange(domain: str, code: str) -> TokenExchangeAccessToken:
    """POST the code to the token endpoint, asking for an expiring offline token.

    ShopifyAPI's Session.request_token does the same POST but without a timeout, a
    transport we can point at the simulator, or `expiring=1`; so we make it here.
    """
    try:
        response = http_client().post(
            f"https://{domain}/admin/oauth/access_token",
            data={
                "client_id": settings.SHOPIFY_API_KEY,
                "client_secret": settings.SHOPIFY_API_SECRET,
                "code": code,
                "expiring": "1",
            },
            headers={"Accept": "application/json"},
        )
    except Exception as exc:
        raise ShopifyError(f"could not reach Shopify: {exc}") from exc
    if response.status_code != 200:
        raise ShopifyError(f"token endpoint answered {response.status_code}")
    data = response.json()
    now = timezone.now()

    def at(seconds):
        return (now + timedelta(seconds=int(seconds))).isoformat() if seconds else None

    return TokenExchangeAccessToken(
        shop=domain.removesuffix(".myshopify.com"),
        token=data["access_token"],
        expires=at(data.get("expires_in")),
        scope=data.get("scope", ""),
        access_mode="offline",
        refresh_token=data.get("refresh_token"),
        refresh_token_expires=at(data.get("refresh_token_expires_in")),
        user=None,
    )


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


def landing(request: HttpRequest) -> HttpResponse:
    """Outside the admin: the install form (the panel itself needs Shopify's ID token), in the browser's
    language where it is one of Advocate's."""
    with translation.override(request_language(request)):
        response = render(request, "shopapp/landing.html", {})
    patch_vary_headers(response, ["Accept-Language"])
    return response
