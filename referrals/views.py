"""Referral pages: the friend's landing page (fast, never calls Shopify) and the advocate's pages."""
from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from referrals.models import Advocate, ProgramSettings
from referrals.services import advocate_for_code, discount_url, referral_record_click
from shopapp.proxy import app_proxy_view
from shopapp.shopify import shop_url
from shopapp.ratelimit import hashed_ip, rate_limited

OWN_COOKIE = "advocate_own"
OWN_COOKIE_SALT = "advocate:referrals:own"


@require_GET
@rate_limited("referral-click", limit=60, window=60)
def landing(request: HttpRequest, code: str) -> HttpResponse:
    return _landing(request, advocate_for_code(code), logged_in_customer_id=None)


@require_GET
@app_proxy_view  # not rate-limited by IP: every proxied request comes from Shopify's servers
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
    response = render(request, "referrals/landing.html", {
        "shop": advocate.shop, "advocate": advocate, "program": program, "own": own,
        "offer": program.offer_label(advocate.shop.currency),
        "go_url": discount_url(advocate) if not own and advocate.code_state == Advocate.CodeState.CREATED else "",
    })
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _is_own(request: HttpRequest, advocate: Advocate, logged_in_customer_id) -> bool:
    if logged_in_customer_id and str(advocate.customer.shopify_id) == str(logged_in_customer_id):
        return True
    try:
        return request.get_signed_cookie(OWN_COOKIE, salt=OWN_COOKIE_SALT) == str(advocate.pk)
    except (KeyError, signing.BadSignature):
        return False


def remember_own(response: HttpResponse, advocate: Advocate) -> HttpResponse:
    """Mark this browser as the advocate's, so their own link shows a sample, not a usable code."""
    response.set_signed_cookie(OWN_COOKIE, str(advocate.pk), salt=OWN_COOKIE_SALT, max_age=365 * 86400,
                               httponly=True, samesite="Lax", secure=settings.SESSION_COOKIE_SECURE)
    return response
