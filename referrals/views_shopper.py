"""Referral pages: the friend's landing page (fast, never calls Shopify) and the advocate's pages."""
from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from referrals.models import Advocate, ProgramSettings
from referrals.landing import landing_card, landing_context, landing_products
from referrals.services import advocate_for_code, click_record, discount_url, referral_link, referral_record_click
from referrals.sharing import (
    advocate_for_customer, advocate_for_share_token, advocate_summary, reward_label, share_link, share_message,
    share_subject, share_targets,
)
from shopapp.languages import language_use, request_language, shopper_language, shopper_page
from shopapp.links import LinkInvalid
from shopapp.proxy import app_proxy_view
from shopapp.shopify import shop_url
from shopapp.ratelimit import hashed_ip, misses_limited, rate_limited

OWN_COOKIE = "advocate_own"
OWN_COOKIE_SALT = "advocate:referrals:own"
# A code is a name and 4 characters (31^4 = 923,521 per name). 10 unknown codes an hour per
# address (IPv6: per /64) makes finding one by guessing take months; a shopper mistyping a
# link a few times never meets it.
# Through a shop's app proxy, once the shop sees SHOP_MISSES_PER_HOUR unknown codes (guessing
# spread over many addresses), each address may miss only twice that hour.
CLICKS_PER_MINUTE = 60
MISSES_PER_HOUR = 10
SHOP_MISSES_PER_HOUR = 300


@require_GET
@rate_limited("referral-click", limit=CLICKS_PER_MINUTE, window=60)
@misses_limited("referral-miss", limit=MISSES_PER_HOUR, window=3600)
@shopper_page
def landing(request: HttpRequest, code: str) -> HttpResponse:
    """The click path: a cached page and one insert. The advocate's own visit and every
    page that is not a live offer (unknown, paused, off, code still being made) take the full view.

    A friend reads it in their browser's language, else in the language the advocate ordered in
    (who likely shares the link with friends who speak it), else the shop's."""
    card = landing_card(code)
    if card is None or _own_cookie(request) == str(card.advocate_id):
        return _landing(request, advocate_for_code(code), logged_in_customer_id=None)
    click_record(
        shop_id=card.shop_id, advocate_id=card.advocate_id, ip_hash=hashed_ip(request),
        user_agent=request.headers.get("User-Agent", ""), landing_path=request.get_full_path(),
        referrer=request.headers.get("Referer", ""), own=False,
    )
    language = language_use(request, request_language(request, fallback=card.language))
    return _no_store(HttpResponse(card.page(language)))


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_GET
@app_proxy_view
@rate_limited("referral-click", limit=CLICKS_PER_MINUTE, window=60)  # per shopper (the address Shopify forwards)
@misses_limited("referral-miss", limit=MISSES_PER_HOUR, window=3600, shop_limit=SHOP_MISSES_PER_HOUR)
@shopper_page
def proxy_landing(request: HttpRequest, code: str) -> HttpResponse:
    advocate = advocate_for_code(code)
    if advocate is not None and advocate.shop_id != request.shop.pk:
        advocate = None  # another shop's code through this shop's proxy
    return _landing(request, advocate, logged_in_customer_id=request.logged_in_customer_id)


def _landing(request: HttpRequest, advocate: Advocate | None, *, logged_in_customer_id) -> HttpResponse:
    program = ProgramSettings.for_shop(advocate.shop) if advocate else None
    if advocate is None or advocate.status != Advocate.Status.ACTIVE or not program.enabled:
        shop = advocate.shop if advocate else None
        return render(request, "referrals/unavailable.html",
                      {"shop": shop, "shop_home": shop_url(shop.domain, "/") if shop else ""}, status=404)
    own = _is_own(request, advocate, logged_in_customer_id)
    referral_record_click(
        advocate=advocate, ip_hash=hashed_ip(request), user_agent=request.headers.get("User-Agent", ""),
        landing_path=request.get_full_path(), referrer=request.headers.get("Referer", ""), own=own,
    )
    # The advocate's own preview speaks their language; a friend reads theirs (see landing).
    advocate_language = shopper_language(advocate.shop, customer=advocate.customer)
    language_use(request, advocate_language if own else request_language(request, fallback=advocate_language))
    live = not own and advocate.code_state == Advocate.CodeState.CREATED
    response = render(request, "referrals/landing.html", landing_context(
        advocate=advocate, program=program, own=own, go_url=discount_url(advocate) if live else "",
        share_path=share_link(advocate) if own else "", products=landing_products(advocate) if live else []))
    return _no_store(response)


def _is_own(request: HttpRequest, advocate: Advocate, logged_in_customer_id) -> bool:
    if logged_in_customer_id and str(advocate.customer.shopify_id) == str(logged_in_customer_id):
        return True
    return _own_cookie(request) == str(advocate.pk)


def _own_cookie(request: HttpRequest) -> str | None:
    """The advocate id this browser was marked with on the advocate's own page, if any."""
    try:
        return request.get_signed_cookie(OWN_COOKIE, salt=OWN_COOKIE_SALT)
    except (KeyError, signing.BadSignature):
        return None


def remember_own(response: HttpResponse, advocate: Advocate) -> HttpResponse:
    """Mark this browser as the advocate's, so their own link shows a sample, not a usable code."""
    response.set_signed_cookie(OWN_COOKIE, str(advocate.pk), salt=OWN_COOKIE_SALT, max_age=365 * 86400,
                               httponly=True, samesite="Lax", secure=settings.SESSION_COOKIE_SECURE)
    return response


@require_GET
@rate_limited("referral-share", limit=60, window=60)
@shopper_page
def share_page(request: HttpRequest, token: str) -> HttpResponse:
    """The advocate's own page from the signed link in their email."""
    try:
        advocate = advocate_for_share_token(token)
    except LinkInvalid:
        return _private(render(request, "referrals/share_invalid.html", {}, status=404))
    return remember_own(_share(request, advocate), advocate)


@require_GET
@app_proxy_view
@shopper_page
def proxy_share_page(request: HttpRequest) -> HttpResponse:
    """The same page on the store's domain for the logged-in customer (Shopify vouches for the id)."""
    shop = request.shop
    prefix = request.GET.get("path_prefix") or "/apps/advocate"
    if not request.logged_in_customer_id:
        login = shop_url(shop.domain, f"/account/login?{urlencode({'return_url': f'{prefix}/referrals/me'})}")
        return _private(render(request, "referrals/share_login.html", {"shop": shop, "login_url": login}))
    advocate = advocate_for_customer(shop, request.logged_in_customer_id)
    if advocate is None:
        return _private(render(request, "referrals/share_none.html", {"shop": shop,
                                                                      "shop_home": shop_url(shop.domain, "/")}))
    return _share(request, advocate)


def _share(request: HttpRequest, advocate: Advocate) -> HttpResponse:
    shop = advocate.shop
    language_use(request, shopper_language(shop, customer=advocate.customer))
    program = ProgramSettings.for_shop(shop)
    active = program.enabled and advocate.status == Advocate.Status.ACTIVE
    link = referral_link(advocate)
    message = share_message(advocate, program)
    return _private(render(request, "referrals/share.html", {
        "shop": shop, "advocate": advocate, "program": program, "active": active, "link": link,
        "offer": program.offer_label(shop.currency), "reward": reward_label(program, shop.currency),
        "targets": share_targets(link=link, message=message, subject=share_subject(shop)) if active else [],
        **advocate_summary(advocate),
    }))


def _private(response: HttpResponse) -> HttpResponse:
    # The token in the address is the credential: keep it out of caches and other sites' logs.
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
