"""The NPS page in Chromium at phone and desktop widths: one click from the email saves the score
(with scripts; without, Send does), a promoter sees their link, axe finds nothing serious."""
from __future__ import annotations

import pytest
from django.conf import settings

from tests.browser import accessibility_violations, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _asked():
    from reviews.nps.models import NpsSettings, NpsSurvey
    from reviews.nps.services import nps_schedule, nps_send
    from shopapp.orders import order_upsert
    from tests.conftest import _make_shop
    from tests.reviews.conftest import order_payload

    shop = _make_shop("owner-shop.myshopify.com")
    NpsSettings.objects.create(shop=shop, enabled=True, mode=NpsSettings.Mode.OWN_EMAIL)
    order = order_upsert(shop=shop, payload={**order_payload(), "fulfillment_status": "fulfilled"})
    survey = nps_schedule(order=order)
    assert nps_send(survey_id=survey.pk, now=survey.due_at)
    return NpsSurvey.objects.get(pk=survey.pk)


def _advocate(survey):
    from referrals.models import Advocate

    Advocate.objects.update_or_create(customer=survey.customer, defaults={
        "shop": survey.shop, "code": "MAYA-7K2Q", "code_state": Advocate.CodeState.CREATED})


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_one_click_from_the_email_saves_the_score_and_offers_a_promoter_their_link(live_server, open_page, width,
                                                                                   settings):
    from reviews.nps.services import nps_link

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    survey = _asked()
    _advocate(survey)
    page = open_page(f"{live_server.url}{nps_link(survey, 10).removeprefix(settings.APP_URL)}", width)
    assert page.get_by_role("heading", name="How likely are you to recommend Owner Shop to a friend?").is_visible()
    assert page.get_by_role("radio", name="10").is_checked()
    page.get_by_role("status").get_by_text("your answer, 10, is saved").wait_for()
    survey.refresh_from_db()
    assert survey.score == 10
    assert page.get_by_label("Your link").input_value().endswith("/MAYA-7K2Q")
    # Eleven targets of at least 44px, in two rows on a phone, nothing wider than the screen.
    boxes = [page.locator(f"label[for=score-{n}]").bounding_box() for n in range(11)]
    assert min(b["height"] for b in boxes) >= 44 and min(b["width"] for b in boxes) >= 40
    assert len({round(b["y"]) for b in boxes}) == (2 if width == "phone" else 1)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert accessibility_violations(page) == []
    screenshot(page, f"nps-question-{width}")
    # Another number by keyboard, then a comment and Send: the thank-you page.
    page.get_by_role("radio", name="10").focus()
    page.keyboard.press("ArrowLeft")
    page.get_by_role("status").get_by_text("your answer, 9, is saved").wait_for()
    page.get_by_label("What is the main reason for your score? (optional)").fill("Fast delivery <b>and</b> kind notes.")
    page.get_by_role("button", name="Send").click()
    page.wait_for_url("**done=1")
    assert page.get_by_role("heading", name="Thank you for your answer").is_visible()
    assert page.get_by_text("You chose 9 out of 10.").is_visible()
    assert page.get_by_label("Your link").is_visible()
    survey.refresh_from_db()
    assert (survey.score, survey.comment) == (9, "Fast delivery <b>and</b> kind notes.")
    assert accessibility_violations(page) == []
    screenshot(page, f"nps-thanks-{width}")


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_without_scripts_the_score_is_saved_by_send(live_server, open_page, width, settings):
    from reviews.nps.services import nps_link

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    survey = _asked()
    page = open_page(f"{live_server.url}{nps_link(survey, 3).removeprefix(settings.APP_URL)}", width, javascript=False)
    assert page.get_by_role("radio", name="3").is_checked()
    survey.refresh_from_db()
    assert survey.score is None  # opening the link saved nothing
    page.get_by_role("button", name="Send").click()
    page.wait_for_url("**done=1")
    assert page.get_by_text("You chose 3 out of 10.").is_visible()
    assert page.get_by_role("link", name="Change my answer").is_visible()
    survey.refresh_from_db()
    assert survey.score == 3
    screenshot(page, f"nps-detractor-thanks-{width}-nojs")


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_the_panel_page_with_answers(live_server, open_page, width, settings):
    from reviews.nps.services import nps_answer
    from tests.conftest import session_token

    survey = _asked()
    nps_answer(survey=survey, score=2, comment="The lid cracked in a week.")
    page = open_page(f"{live_server.url}/app/reviews/nps/?id_token={session_token(survey.shop.domain)}", width)
    assert page.get_by_role("heading", name="Net Promoter Score", exact=True).is_visible()
    assert page.get_by_text("The lid cracked in a week.").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert accessibility_violations(page) == []
    screenshot(page, f"panel-nps-{width}")
