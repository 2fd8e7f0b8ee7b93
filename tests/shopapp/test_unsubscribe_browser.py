from __future__ import annotations

import pytest

from tests.browser import accessibility_violations, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_a_person_unsubscribes_with_the_button_and_can_undo_it(live_server, open_page, width):
    from shopapp.mail import unsubscribe_url
    from shopapp.models import Customer
    from tests.conftest import _make_shop

    shop = _make_shop("owner-shop.myshopify.com", postal_address="12 Harbour Road\nPortland OR 97201\nUnited States")
    maya = Customer.objects.create(shop=shop, email="maya@example.com", first_name="Maya")
    path = "/" + unsubscribe_url(maya).split("://", 1)[1].split("/", 1)[1]
    page = open_page(f"{live_server.url}{path}", width)
    assert page.get_by_role("heading", name="Unsubscribe from Owner Shop's emails?").is_visible()
    assert page.get_by_text("12 Harbour Road").is_visible()
    assert Customer.objects.get(pk=maya.pk).unsubscribed_at is None  # opening the page did nothing
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert accessibility_violations(page) == []
    screenshot(page, f"unsubscribe-ask-{width}")
    page.get_by_role("button", name="Unsubscribe").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="You're unsubscribed").is_visible()
    assert Customer.objects.get(pk=maya.pk).unsubscribed_at is not None
    screenshot(page, f"unsubscribe-done-{width}")
    page.get_by_role("button", name="subscribe me again").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="You're subscribed again").is_visible()
    assert Customer.objects.get(pk=maya.pk).unsubscribed_at is None
