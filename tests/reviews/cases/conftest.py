"""A customer's order and a review of it, as the reviews app stores them."""
from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def mail_backend(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def make_order(shop, *, email="maya.r@example.com", shopify_id=9007199254740993, first_name="Maya", guest=False,
               placed_at=None):
    from shopapp.models import Customer, Order, OrderLine

    if guest:
        customer = Customer.objects.create(shop=shop, email=email, first_name=first_name)
    else:
        customer, _ = Customer.objects.get_or_create(shop=shop, shopify_id=shopify_id,
                                                     defaults={"email": email, "first_name": first_name,
                                                               "last_name": "Rivera"})
    n = next(_ids)
    order = Order.objects.create(shop=shop, shopify_id=5000 + n, name=f"#{1000 + n}", customer=customer,
                                 email=email, currency="USD", total=Decimal("30.00"),
                                 placed_at=placed_at or timezone.now() - timedelta(days=20),
                                 fulfilled_at=timezone.now() - timedelta(days=15))
    line = OrderLine.objects.create(order=order, shopify_id=7000 + n, product_id=9007199254741301,
                                    title="Trail Mug", price=Decimal("30.00"))
    return order, line


@pytest.fixture
def make_review(shop, django_capture_on_commit_callbacks):
    """make_review(rating, ...) -> a review saved through reviews.services (so the case hook runs)."""
    from reviews.services import review_create

    def make(rating=1, *, target=None, title="Broken", body="The mug arrived cracked.", **order_kwargs):
        target = target or shop
        order, line = make_order(target, **order_kwargs)
        with django_capture_on_commit_callbacks(execute=True):
            return review_create(shop=target, product_id=line.product_id, product_title=line.title, rating=rating,
                                 title=title, body=body, display_name="Maya R.", order_line=line,
                                 customer=order.customer)

    return make


@pytest.fixture
def run_jobs(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)
