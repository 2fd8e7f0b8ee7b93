"""The look-back page in Chromium at phone and desktop widths: preview, start, progress, cancel; axe clean."""
from __future__ import annotations

import pytest

from tests.browser import accessibility_violations, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _history():
    from django.conf import settings
    from django.utils import timezone

    from shopapp.models import Customer
    from shopapp.orders import order_upsert
    from tests.conftest import _make_shop
    from tests.reviews.conftest import order_payload

    shop = _make_shop("owner-shop.myshopify.com")
    now = timezone.now()
    for n, days in enumerate((35, 50, 75, 110, 150, 170)):
        when = (now - days * settings.ADVOCATE_DAY).isoformat()
        payload = {**order_payload(email=f"c{n}@example.com", customer_id=400 + n, products=((20 + n, f"Product {n}"),)),
                   "fulfillment_status": "fulfilled", "fulfillments": [{"id": 1, "created_at": when}]}
        order_upsert(shop=shop, payload=payload)
    Customer.objects.filter(email="c2@example.com").update(unsubscribed_at=now)
    return shop


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_preview_start_and_cancel_a_look_back_run(live_server, open_page, width, settings):
    from reviews.lookback.models import LookbackRun
    from reviews.models import ReviewRequest
    from tests.conftest import session_token

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    shop = _history()
    page = open_page(f"{live_server.url}/app/reviews/lookback/?id_token={session_token(shop.domain)}", width)
    assert page.get_by_role("heading", name="Ask past customers for reviews").is_visible()
    page.get_by_label("Emails per day").fill("2")
    page.get_by_role("button", name="Preview").click()
    page.wait_for_url("**preview=1**")
    preview = page.get_by_role("region", name="Preview")
    assert "5 emails to 5 customers about 5 products" in " ".join(preview.inner_text().split())
    assert page.get_by_role("table", name="Customers left out, and why").get_by_text("Unsubscribed").is_visible()
    assert not ReviewRequest.objects.exists()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert accessibility_violations(page) == []
    screenshot(page, f"panel-lookback-preview-{width}")
    page.get_by_role("button", name="Start sending 5 emails").click()
    page.wait_for_url("**done=started**")
    page.get_by_role("heading", name="Sending").wait_for()
    assert LookbackRun.objects.get().status == "running"
    assert ReviewRequest.objects.count() == 5
    assert page.get_by_label("0 of 5 emails handled").is_visible()  # no sweep runs here
    assert accessibility_violations(page) == []
    screenshot(page, f"panel-lookback-running-{width}")
    page.get_by_role("button", name="Cancel the run").click()
    page.wait_for_url("**done=cancelled**")
    assert LookbackRun.objects.get().status == "cancelled"
    assert page.get_by_role("heading", name="Earlier runs").is_visible()
    screenshot(page, f"panel-lookback-cancelled-{width}")
