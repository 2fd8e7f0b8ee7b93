"""Calling the checkout and customer-account extensions' endpoint as Shopify's extensions do."""
from __future__ import annotations

import time
import uuid

import jwt
from django.conf import settings

from shopapp.models import Customer

MAYA = 9007199254740993  # the customer of tests.reviews.conftest.order_payload


def buyer_token(domain: str, *, sub: str | None = f"gid://shopify/Customer/{MAYA}", secret: str | None = None,
                aud: str | None = None, lifetime: int = 300, issued_ago: int = 5) -> str:
    """A token as Shopify's checkout mints it: dest is the shop, sub the logged-in customer (if any)."""
    now = int(time.time())
    claims = {"dest": domain, "aud": aud or settings.SHOPIFY_API_KEY, "exp": now - issued_ago + lifetime,
              "nbf": now - issued_ago, "iat": now - issued_ago, "jti": str(uuid.uuid4())}
    if sub:
        claims["sub"] = sub
    return jwt.encode(claims, secret or settings.SHOPIFY_API_SECRET, algorithm="HS256")


def ask(client, token: str | None, surface: str = "thank-you", order: str | None = None, ip: str = "127.0.0.1",
        locale: str | None = None):
    query = {"surface": surface, **({"order": order} if order else {}), **({"locale": locale} if locale else {})}
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}", "REMOTE_ADDR": ip} if token else {"REMOTE_ADDR": ip}
    return client.get("/ext/v1/buyer", query, HTTP_ORIGIN="https://extensions.shopifycdn.com", **headers)


def maya(shop) -> Customer:
    return Customer.objects.get_or_create(shop=shop, shopify_id=MAYA, defaults={"first_name": "Maya",
                                                                                 "email": "maya.r@example.com"})[0]


def with_code(shop, customer=None, code="MAYA-7K2Q"):
    from referrals.models import Advocate

    return Advocate.objects.create(shop=shop, customer=customer or maya(shop), code=code,
                                   code_state=Advocate.CodeState.CREATED)
