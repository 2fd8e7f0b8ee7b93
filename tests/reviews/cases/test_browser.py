from __future__ import annotations

import pytest

from tests.browser import accessibility_violations, right_edge, screenshot
from tests.conftest import session_token

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _case(shop):
    from reviews.cases.models import Case
    from reviews.services import review_create
    from tests.reviews.cases.conftest import make_order

    order, line = make_order(shop)
    review = review_create(shop=shop, product_id=line.product_id, product_title=line.title, rating=1,
                           title="Cracked mug", body="The mug arrived cracked.", display_name="Maya R.",
                           order_line=line, customer=order.customer)
    return Case.objects.get(review=review)


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_owner_opens_a_case_from_the_inbox_replies_and_resolves(live_server, open_page, width, settings):
    from reviews.cases.models import Case
    from tests.conftest import _make_shop

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    shop = _make_shop("owner-shop.myshopify.com")
    case = _case(shop)
    page = open_page(f"{live_server.url}/app/cases/?id_token={session_token(shop.domain)}", width)
    assert page.get_by_role("heading", name="Inbox", exact=True).is_visible()
    assert page.get_by_text("Due in").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert accessibility_violations(page) == []
    screenshot(page, f"panel-inbox-{width}")
    page.get_by_role("link", name="Cracked mug").click()
    page.wait_for_url("**/app/cases/*/**")
    page.get_by_label("Message").fill("Thank you for telling us.")  # typed first: a template never loses it
    page.get_by_role("button", name="Apology").click()
    page.wait_for_load_state()
    written = page.get_by_label("Message").input_value()
    assert written.startswith("Thank you for telling us.\n\n") and "Hi Maya" in written
    page.get_by_label("Message").fill("Hi Maya, we are sorry. A new mug is on its way.")
    page.get_by_role("button", name="Send reply").click()
    page.wait_for_load_state()
    assert page.get_by_role("status").is_visible()
    assert Case.objects.get(pk=case.pk).status == "waiting"
    # Polaris: the primary action at the end of its group, the secondary ones before it.
    buttons = page.locator("#state").locator("..").locator(".button-group button")
    assert buttons.last.inner_text() == "Mark resolved"
    assert right_edge(buttons.last) == max(right_edge(buttons.nth(i)) for i in range(buttons.count()))
    screenshot(page, f"panel-case-actions-{width}")
    page.get_by_role("button", name="Mark resolved").click()
    page.wait_for_load_state()
    assert "Case marked resolved." in page.get_by_role("status").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert accessibility_violations(page) == []
    screenshot(page, f"panel-case-{width}")
    assert Case.objects.get(pk=case.pk).status == "resolved"


def test_customer_answers_on_a_phone_without_javascript(live_server, open_page):
    from reviews.cases.models import Case, CaseMessage
    from reviews.cases.conversation import answer_link, case_reply_send
    from tests.conftest import _make_shop

    shop = _make_shop("owner-shop.myshopify.com")
    case = _case(shop)
    case_reply_send(case=case, subject="Sorry", body="Could you send a photo?", actor="staff 42")
    CaseMessage.objects.update(sent_at="2026-11-22T10:00:00Z")
    path = "/cases/a/" + answer_link(case).rsplit("/cases/a/", 1)[1]
    page = open_page(f"{live_server.url}{path}", "phone")
    assert accessibility_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page = open_page(f"{live_server.url}{path}", "phone", javascript=False)
    assert page.get_by_text("Could you send a photo?").is_visible()
    page.get_by_label("Your answer").fill("The handle snapped off.")
    page.get_by_role("button", name="Send my answer").click()
    page.wait_for_load_state()
    assert page.get_by_role("status").is_visible()
    screenshot(page, "case-answer-phone")
    assert Case.objects.get(pk=case.pk).status == "open"


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_case_settings_page_saves_and_renders_accessibly(live_server, open_page, width):
    from reviews.cases.models import CaseSettings
    from tests.conftest import _make_shop

    shop = _make_shop("owner-shop.myshopify.com")
    page = open_page(f"{live_server.url}/app/cases/settings/?id_token={session_token(shop.domain)}", width)
    assert page.get_by_role("heading", name="Case settings").is_visible()
    page.get_by_label("Complaint keywords").fill("broken\nrefund")
    page.get_by_label("Once a day, a digest").check()
    page.get_by_role("button", name="Save settings").click()
    page.wait_for_load_state()
    assert page.get_by_role("status").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert accessibility_violations(page) == []
    screenshot(page, f"panel-case-settings-{width}")
    config = CaseSettings.for_shop(shop)
    assert config.keyword_list == ["broken", "refund"] and config.alert_mode == "digest"


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_the_customer_sees_the_code_they_were_given_and_the_merchant_sees_it_was_sent(live_server, open_page, width):
    from decimal import Decimal

    from django.utils import timezone

    from reviews.cases.models import CaseMessage, Remedy
    from reviews.cases.conversation import answer_link, remedy_deliver
    from tests.conftest import _make_shop

    shop = _make_shop("owner-shop.myshopify.com")
    case = _case(shop)
    remedy = Remedy.objects.create(case=case, kind="discount", amount=Decimal("15.00"), currency="USD",
                                   code="SORRY-7K2QX9MB", status="done", shopify_id="gid://shopify/DiscountCodeNode/31",
                                   actor="staff 42", done_at=timezone.now())
    remedy_deliver(remedy_id=remedy.pk)
    CaseMessage.objects.update(sent_at=timezone.now())
    path = "/cases/a/" + answer_link(case).rsplit("/cases/a/", 1)[1]
    page = open_page(f"{live_server.url}{path}", width)
    given = page.get_by_role("region", name="What Owner Shop gave you")
    assert given.is_visible() and "SORRY-7K2QX9MB" in given.inner_text()
    assert page.get_by_text("As promised, here is your code").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert accessibility_violations(page) == []
    screenshot(page, f"case-answer-remedy-{width}")
    panel = open_page(f"{live_server.url}/app/cases/{case.pk}/?id_token={session_token(shop.domain)}", width)
    assert panel.locator(".status", has_text="Sent to the customer").is_visible()
    screenshot(panel, f"panel-case-remedy-sent-{width}")


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_a_detractors_nps_case_reads_as_their_answer_in_the_inbox_and_on_its_page(live_server, open_page, width):
    from reviews.cases.from_nps import case_open_for_nps
    from reviews.nps.models import NpsSurvey
    from tests.conftest import _make_shop
    from tests.reviews.cases.conftest import make_order

    from django.utils import timezone

    shop = _make_shop("owner-shop.myshopify.com")
    order, _line = make_order(shop)
    survey = NpsSurvey.objects.create(shop=shop, order=order, customer=order.customer, channel="email", status="sent",
                                      sent_at=timezone.now(), score=3, answered_at=timezone.now(),
                                      comment="Delivery took three weeks and nobody answered my emails.")
    case, _ = case_open_for_nps(survey)
    page = open_page(f"{live_server.url}/app/cases/?id_token={session_token(shop.domain)}", width)
    assert page.get_by_text("3/10").first.is_visible()
    page.get_by_role("link", name="Delivery took three weeks").click()
    page.wait_for_url(f"**/app/cases/{case.pk}/**")
    assert page.get_by_role("heading", name="Their answer").is_visible()
    assert page.get_by_text("3/10 when the case opened").is_visible()
    assert page.get_by_role("heading", name="Public reply").count() == 0
    assert page.get_by_label("Subject").input_value() == "About your feedback"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert accessibility_violations(page) == []
    screenshot(page, f"panel-case-nps-{width}")
