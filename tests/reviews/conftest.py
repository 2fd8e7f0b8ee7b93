"""Orders as the webhooks deliver them, and review requests made from them."""
from __future__ import annotations

import copy
import itertools

import pytest

from tests.conftest import load_fixture

_ids = itertools.count(1)


def order_payload(*, email: str = "maya.r@example.com", customer_id: int = 9007199254740993, country: str = "US",
                  products: tuple[tuple[int, str], ...] = ((9007199254741301, "Trail Mug"),), marketing: str | None = None) -> dict:
    """orders/create shaped like Shopify's, with fresh order and line ids."""
    payload = copy.deepcopy(load_fixture("webhooks/orders_create.json"))
    n = next(_ids)
    payload["id"] = 9007199254800000 + n
    payload["name"] = f"#{1000 + n}"
    payload["email"] = email
    payload["customer"] = {**payload["customer"], "id": customer_id, "email": email}
    if marketing:
        payload["customer"]["email_marketing_consent"] = {"state": marketing}
    payload["shipping_address"]["country_code"] = country
    extras = [line for line in payload["line_items"] if line["product_id"] is None or line["gift_card"]]
    payload["line_items"] = [
        {"id": 9007199254900000 + n * 10 + i, "product_id": pid, "variant_id": pid + 100, "title": title,
         "quantity": 1, "price": "30.00", "gift_card": False}
        for i, (pid, title) in enumerate(products)
    ] + [{**line, "id": 9007199254900000 + n * 10 + 8 + j} for j, line in enumerate(extras)]
    return payload


@pytest.fixture
def mail_backend(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def fulfilled_order(post_webhook, shop, mail_backend):
    """Place and fulfil an order through the webhooks; returns the stored Order."""
    from shopapp.models import Order

    def make(target_shop=None, **kwargs):
        target_shop = target_shop or shop
        payload = order_payload(**kwargs)
        assert post_webhook("orders/create", payload, target_shop).status_code == 200
        fulfilled = {**payload, "fulfillment_status": "fulfilled"}
        assert post_webhook("orders/fulfilled", fulfilled, target_shop).status_code == 200
        return Order.objects.get(shop=target_shop, shopify_id=payload["id"])

    return make


def sweep_at(when):
    from reviews.requests import review_requests_sweep

    review_requests_sweep(now=when)
