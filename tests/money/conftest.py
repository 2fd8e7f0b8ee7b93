"""The money-fault suite runs Advocate against devstore, whose fault switches make Shopify answer late,
twice, or fail after applying a call."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

DEMO = "demo-outfitters.myshopify.com"


@pytest.fixture
def devstore(settings):
    """devstore in this process, with Advocate's Admin API calls pointed at it and a short client timeout."""
    from devstore.server import start
    from shopapp import shopify

    running = start(app_url="http://127.0.0.1:9", api_key=settings.SHOPIFY_API_KEY,
                    api_secret=settings.SHOPIFY_API_SECRET, smtp_port=None)
    running.seed()
    settings.SHOPIFY_UPSTREAM_URL = running.url
    settings.SHOPIFY_HTTP_TIMEOUT = 0.5  # "delay_after" answers past it
    shopify.set_http_client(None)
    yield running
    running.stop()
    shopify.set_http_client(None)


def connected_shop(devstore, scopes: str | None = None):
    """Demo Outfitters with Advocate installed (with these scopes, or devstore's): devstore's own tokens."""
    from shopapp.models import Shop

    devstore.store.app_install(DEMO, scopes=scopes)
    tokens = devstore.store.tokens_issue(DEMO, expiring=True)
    now = timezone.now()
    return Shop.objects.create(domain=DEMO, name="Demo Outfitters", currency="USD", scopes=scopes or "",
                               access_token=tokens["access_token"], access_token_expires_at=now + timedelta(hours=1),
                               refresh_token=tokens["refresh_token"], refresh_token_expires_at=now + timedelta(days=90),
                               installed_at=now)


@pytest.fixture
def shop(db, devstore):
    """Demo Outfitters with Advocate installed: the tokens are devstore's own."""
    return connected_shop(devstore)


@pytest.fixture
def maya(shop, devstore):
    """The customer Maya in both places (devstore's id), enrolled as an advocate."""
    from referrals.models import Advocate
    from shopapp.models import Customer

    found = devstore.customer(DEMO, "maya@example.com")
    customer = Customer.objects.create(shop=shop, shopify_id=found["id"], first_name="Maya", email="maya@example.com")
    return Advocate.objects.create(shop=shop, customer=customer, code="MAYA-7K2Q",
                                   code_state=Advocate.CodeState.CREATED)


def shopify_balance(devstore, customer) -> Decimal:
    return sum((Decimal(a["balance"]) for a in devstore.store_credit(DEMO, customer.shopify_id)), Decimal("0.00"))


def shopify_transactions(devstore, customer) -> list[dict]:
    return [t for a in devstore.store_credit(DEMO, customer.shopify_id) for t in a["transactions"]]


@pytest.fixture
def make_case(shop):
    """make_case(customer) -> an open case about a one-star review by that customer."""
    import itertools

    from reviews.cases.models import Case
    from reviews.models import Review

    numbers = itertools.count(1)

    def make(customer):
        n = next(numbers)
        review = Review.objects.create(shop=shop, product_id=9007199254741301 + n, product_title="Trail Mug",
                                       rating=1, title="Broken", body="Cracked.", display_name="Maya R.",
                                       customer=customer)
        return Case.objects.create(shop=shop, review=review, customer=customer, reason="rating", rating_at_open=1)

    return make
