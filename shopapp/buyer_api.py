"""What Advocate's checkout and customer-account UI extensions show a buyer: GET /ext/v1/buyer.

The extensions run in Shopify's checkout and customer accounts, not on Advocate's pages, and
call this endpoint with Shopify's session token for the buyer (`Authorization: Bearer`). The
token is signed with the app secret and lives five minutes; shopifyapp verifies its signature
and audience. Here: its lifetime, the shop from `dest`, and the customer from `sub` — present
only when the buyer is logged in, and the only thing that says who they are. An order id on the
query string is the page's context, used only when that order is the logged-in customer's own:
ids are sequential, so a guest learns nothing about any order from here.

The answer is assembled from sections the apps register (`register_buyer_section`): the platform
knows no feature. The extension runs on Shopify's origin, so every answer carries CORS headers;
there are no cookies, so `*` grants nothing a token does not.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import wraps

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt

from shopapp.auth import request_input, token_lifetime_ok
from shopapp.languages import language_of, shopper_language
from shopapp.models import Customer, Order, Shop
from shopapp.proxy import installed_shop
from shopapp.ratelimit import rate_limited
from shopapp.registry import buyer_sections
from shopapp.shopify import clean_shop_domain, shopify_app, shopify_numeric_id

log = logging.getLogger(__name__)

SURFACES = ("thank-you", "order-status", "account", "profile")
# Shopify's checkout and customer-account session tokens live five minutes; one that claims longer
# (by its own exp or iat) was not minted by Shopify and could be replayed.
TOKEN_LIFETIME = 300
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Allow-Methods": "GET, OPTIONS",
    "Access-Control-Max-Age": "7200",
}


@dataclass(frozen=True)
class Buyer:
    """Who asks, as the verified token says, and the page they are on."""

    shop: Shop
    surface: str
    customer_shopify_id: int | None  # the token's `sub`: the buyer is logged in
    customer: Customer | None  # Advocate's row for them, once one of their orders reached Advocate
    order: Order | None  # the page's order, only when it is this customer's
    erased: bool = False  # Advocate erased this customer's data on Shopify's request: show nothing

    @property
    def logged_in(self) -> bool:
        return self.customer_shopify_id is not None


def _with_cors(view):
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        for name, value in CORS_HEADERS.items():
            response[name] = value
        response["Cache-Control"] = "private, no-store"
        response["Vary"] = "Authorization"
        return response

    return wrapped


def _refusal(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _verify(request: HttpRequest, surface: str):
    app = shopify_app()
    verify = app.verify_checkout_ui_ext_req if surface == "thank-you" else app.verify_customer_account_ui_ext_req
    return verify(request_input(request))


@csrf_exempt  # no cookies are read: the bearer token is the credential
@_with_cors
@rate_limited("buyer-api", limit=120, window=60)
def buyer_data(request: HttpRequest) -> HttpResponse:
    surface = request.GET.get("surface", "")
    if request.method == "OPTIONS":
        return HttpResponse(status=204)
    if request.method != "GET":
        return _refusal(405, "Only GET is answered here.")
    if surface not in SURFACES:
        return _refusal(400, f"surface must be one of {', '.join(SURFACES)}.")
    result = _verify(request, surface)
    if not result.ok or result.id_token is None:
        return _refusal(401, "A valid session token from Shopify is required.")
    claims = result.id_token.claims
    domain = clean_shop_domain(str(claims.get("dest") or ""))
    if not token_lifetime_ok(claims, TOKEN_LIFETIME) or domain is None:
        log.info("buyer session token refused: lifetime or dest")
        return _refusal(401, "A valid session token from Shopify is required.")
    shop = installed_shop(domain)
    if shop is None:
        return _refusal(404, "This store does not use Advocate.")
    buyer = buyer_for(shop=shop, surface=surface, sub=claims.get("sub"), order_ref=request.GET.get("order"))
    # The words Advocate writes into the answer (the offer, the reward, share labels, amounts) in the
    # language Shopify chose for the extension (`locale`), else the buyer's, else the shop's.
    language = language_of(request.GET.get("locale")) or shopper_language(shop, order=buyer.order,
                                                                           customer=buyer.customer)
    with translation.override(language):
        answer = buyer_answer(buyer)
    response = JsonResponse(answer)
    response["Content-Language"] = language
    return response


def buyer_for(*, shop: Shop, surface: str, sub: str | None, order_ref: str | None) -> Buyer:
    customer_shopify_id = shopify_numeric_id(sub) if sub else None
    customer = order = None
    if customer_shopify_id is not None:
        customer = Customer.objects.filter(shop=shop, shopify_id=customer_shopify_id).first()
    if customer is not None and customer.redacted_at:
        return Buyer(shop=shop, surface=surface, customer_shopify_id=customer_shopify_id, customer=None, order=None,
                     erased=True)
    order_id = shopify_numeric_id(order_ref)
    if customer is not None and order_id is not None:
        order = Order.objects.filter(shop=shop, shopify_id=order_id, customer=customer).first()
    return Buyer(shop=shop, surface=surface, customer_shopify_id=customer_shopify_id, customer=customer, order=order)


def buyer_answer(buyer: Buyer) -> dict:
    """Every registered section's part; a section that has nothing to show gives None."""
    answer: dict = {"shop_name": buyer.shop.name or buyer.shop.domain}
    for name, build in ([] if buyer.erased else buyer_sections().items()):
        part = build(buyer)
        if not part:
            continue
        for key, value in part.items():
            if isinstance(value, dict) and isinstance(answer.get(key), dict):
                answer[key] = {**answer[key], **value}  # two apps add to one part (account: credit, reviews)
            else:
                answer[key] = value
    for key in ("referral", "review", "account"):
        answer.setdefault(key, None)
    return answer
