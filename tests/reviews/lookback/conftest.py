"""Past orders (as the history import stores them: no order listener ran, so no request) for look-back runs."""
from __future__ import annotations

import pytest
from django.conf import settings

from shopapp.orders import order_upsert
from tests.reviews.conftest import order_payload

DAY = settings.ADVOCATE_DAY


@pytest.fixture
def past_order(shop, mail_backend):
    """An order fulfilled `days_ago` before `now`, stored without running any order listener."""

    def make(now, days_ago, target_shop=None, cancelled=False, guest=False, **kwargs):
        payload = order_payload(**kwargs)
        when = (now - days_ago * DAY).isoformat()
        payload.update({"fulfillment_status": "fulfilled", "created_at": when, "processed_at": when,
                        "fulfillments": [{"id": 1, "status": "success", "created_at": when}]})
        if cancelled:
            payload["cancelled_at"] = when
        if guest:
            payload["customer"] = None
        return order_upsert(shop=target_shop or shop, payload=payload)

    return make
