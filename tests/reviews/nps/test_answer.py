"""The customer's answer: one click from the email, idempotent and editable, with an optional comment;
the link is the credential, so a tampered, foreign or erased one opens nothing."""
from __future__ import annotations

import pytest
from django.conf import settings
from django.utils import timezone

from referrals.models import Advocate, ProgramSettings
from reviews.models import ReviewRequest
from reviews.nps.models import NpsSurvey
from reviews.nps.services import LINK_PURPOSE, nps_link
from reviews.requests import review_link
from shopapp.links import link_token
from shopapp.models import Customer
from shopapp.registry import CustomerRef, customer_data_export, customer_data_redact

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}


def _path(survey, score=None) -> str:
    return nps_link(survey, score).removeprefix(settings.APP_URL)


def test_opening_a_score_link_saves_nothing_by_itself(client, asked):
    """A mail scanner fetching all eleven links answers nothing; the page shows the score chosen."""
    survey = asked()
    for score in range(11):
        assert client.get(_path(survey, score)).status_code == 200
    survey.refresh_from_db()
    assert survey.score is None
    page = client.get(_path(survey, 9)).content.decode()
    assert 'value="9" id="score-9" checked' in page and 'data-autosave="1"' in page


def test_the_one_click_save_replayed_twice_records_one_answer(client, asked):
    survey = asked()
    first = client.post(_path(survey), {"score": "9"}, **JSON)
    assert first.status_code == 200 and first.json() == {"saved": True, "score": 9}
    answered_at = NpsSurvey.objects.get(pk=survey.pk).answered_at
    again = client.post(_path(survey), {"score": "9"}, **JSON)
    assert again.json() == {"saved": True, "score": 9}
    survey.refresh_from_db()
    assert (survey.score, survey.answered_at) == (9, answered_at)
    assert NpsSurvey.objects.filter(score__isnull=False).count() == 1


def test_the_answer_can_be_changed_and_commented_and_the_click_keeps_the_comment(client, asked):
    survey = asked()
    client.post(_path(survey), {"score": "3"}, **JSON)
    response = client.post(_path(survey), {"score": "4", "comment": "  The box arrived crushed.  "})
    assert response.status_code == 302 and response["Location"].endswith("?done=1")
    client.post(_path(survey), {"score": "5"}, **JSON)  # another click in the email, later
    survey.refresh_from_db()
    assert (survey.score, survey.comment) == (5, "The box arrived crushed.")
    assert survey.updated_at >= survey.answered_at


@pytest.mark.parametrize("score", ["11", "-1", "x", "", "7.5"])
def test_a_score_outside_zero_to_ten_is_refused_and_changes_nothing(client, asked, score):
    survey = asked()
    client.post(_path(survey), {"score": "8"}, **JSON)
    assert client.post(_path(survey), {"score": score}, **JSON).status_code == 400
    page = client.post(_path(survey), {"score": score, "comment": "hm"})
    assert page.status_code == 400 and "Choose a number from 0 to 10." in page.content.decode()
    survey.refresh_from_db()
    assert (survey.score, survey.comment) == (8, "")


def test_a_tampered_link_opens_nothing(client, asked):
    survey = asked()
    token = _path(survey).removeprefix("/nps/")
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    for path in (f"/nps/{tampered}", f"/nps/{token}x", f"/nps/{link_token('review-request', survey.pk)}"):
        assert client.get(path + "?score=10").status_code == 404
        assert client.post(path, {"score": "10"}, **JSON).status_code == 404
    survey.refresh_from_db()
    assert survey.score is None


def test_a_review_link_is_not_an_nps_link_nor_the_other_way_round(client, asked):
    survey = asked()
    request = ReviewRequest.objects.get(order=survey.order)
    review_token = review_link(request).rsplit("/", 1)[1]
    assert client.get(f"/nps/{review_token}").status_code == 404
    assert client.get(f"/reviews/r/{link_token(LINK_PURPOSE, request.pk)}").status_code == 404


def test_another_shops_link_through_this_shops_proxy_opens_nothing(client, asked, shop, other_shop):
    from tests.shopapp.test_proxy import signed_proxy_query

    theirs = asked(other_shop, email="sam@example.com")
    token = _path(theirs).removeprefix("/nps/")
    mine = client.get(f"/proxy/nps/{token}?" + signed_proxy_query(shop.domain))
    assert mine.status_code == 404
    own = client.get(f"/proxy/nps/{token}?" + signed_proxy_query(other_shop.domain))
    assert own.status_code == 200


def test_a_question_never_sent_has_no_working_link(client, fulfilled_order, shop):
    from tests.reviews.nps.conftest import nps_on

    nps_on(shop, "own_email")
    survey = NpsSurvey.objects.get(order=fulfilled_order())
    assert survey.status == NpsSurvey.Status.SCHEDULED
    assert client.post(_path(survey), {"score": "10"}, **JSON).status_code == 404


def test_the_page_is_rate_limited_like_other_shopper_links(client, asked):
    survey = asked()
    codes = [client.get(_path(survey)).status_code for _ in range(61)]
    assert codes[:60] == [200] * 60 and codes[60] == 429


def test_a_comment_is_shown_escaped(client, panel_get, asked, shop):
    survey = asked()
    client.post(_path(survey), {"score": "2", "comment": "<script>alert(1)</script> & more"})
    thanks = client.get(_path(survey) + "?done=1").content.decode()
    panel = panel_get("/app/reviews/nps/", shop).content.decode()
    for page in (panel, client.get(_path(survey)).content.decode()):
        assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page
    assert "<script>alert" not in thanks


def _advocate(survey):
    ProgramSettings.for_shop(survey.shop)
    advocate, _ = Advocate.objects.update_or_create(
        customer=survey.customer, defaults={"shop": survey.shop, "code": "MAYA-7K2Q",
                                            "code_state": Advocate.CodeState.CREATED})
    return advocate


@pytest.mark.parametrize("score", [9, 10])
def test_a_promoter_is_offered_their_referral_link(client, asked, score):
    survey = asked()
    _advocate(survey)
    client.post(_path(survey), {"score": str(score)})
    thanks = client.get(_path(survey) + "?done=1").content.decode()
    assert "MAYA-7K2Q" in thanks and "Your link" in thanks
    assert "MAYA-7K2Q" in client.get(_path(survey, score)).content.decode()  # the one-click page too


@pytest.mark.parametrize("score", [0, 6, 7, 8])
def test_others_are_not_offered_the_link(client, asked, score):
    survey = asked()
    _advocate(survey)
    client.post(_path(survey), {"score": str(score)})
    assert "MAYA-7K2Q" not in client.get(_path(survey) + "?done=1").content.decode()
    assert "MAYA-7K2Q" not in client.get(_path(survey, score)).content.decode()


def test_a_paused_promoter_is_not_offered_the_link(client, asked):
    from shopapp import registry

    survey = asked()
    _advocate(survey)
    client.post(_path(survey), {"score": "10"})
    registry.register_marketing_block(lambda s, c: "has an open case")
    assert "MAYA-7K2Q" not in client.get(_path(survey) + "?done=1").content.decode()


def test_a_score_never_changes_the_review_incentive(client, fulfilled_order, shop, django_capture_on_commit_callbacks):
    """A detractor and a promoter review alike and are offered the same incentive for it."""
    from reviews.models import ReviewIncentive, ReviewSettings
    from tests.reviews.nps.conftest import DAY, nps_on
    from tests.reviews.conftest import sweep_at

    nps_on(shop)
    ReviewSettings.objects.filter(pk=ReviewSettings.for_shop(shop).pk).update(incentive_enabled=True, incentive_percent=15,
                                                    incentive_text="15% off your next order")
    orders = [fulfilled_order(email="low@example.com", customer_id=71),
              fulfilled_order(email="high@example.com", customer_id=72)]
    sweep_at(max(o.fulfilled_at for o in orders) + 14 * DAY)
    for order, score in zip(orders, (0, 10)):
        survey = NpsSurvey.objects.get(order=order)
        client.post(_path(survey), {"score": str(score)})
        request = ReviewRequest.objects.get(order=order)
        [item] = request.items.all()
        with django_capture_on_commit_callbacks(execute=True):
            posted = client.post(review_link(request).removeprefix(settings.APP_URL),
                        {f"i{item.pk}-rating": "5", f"i{item.pk}-body": "Good.", f"i{item.pk}-display_name": "A."})
        assert posted.status_code == 302, posted.content.decode()[:3000]
    incentives = ReviewIncentive.objects.order_by("customer__email")
    assert [(i.customer.email, i.percent) for i in incentives] == [("high@example.com", 15), ("low@example.com", 15)]


def test_redaction_erases_the_comment_and_the_customer_and_the_link_stops(client, asked, shop):
    survey = asked()
    client.post(_path(survey), {"score": "3", "comment": "Maya here, call me on 555-0100"})
    customer = Customer.objects.get(pk=survey.customer_id)
    ref = CustomerRef(shopify_id=str(customer.shopify_id), email=customer.email, phone="")
    exported = customer_data_export(shop, ref)["nps"]
    assert [(a["score"], a["comment"]) for a in exported] == [(3, "Maya here, call me on 555-0100")]
    customer_data_redact(shop, ref)
    survey.refresh_from_db()
    assert (survey.score, survey.comment, survey.customer_id) == (3, "", None) and survey.redacted_at
    assert client.get(_path(survey)).status_code == 404
    assert client.post(_path(survey), {"score": "9", "comment": "again"}, **JSON).status_code == 404


def test_redaction_cancels_a_question_not_yet_sent(fulfilled_order, shop):
    from tests.reviews.nps.conftest import nps_on

    nps_on(shop, "own_email")
    order = fulfilled_order()
    customer = order.customer
    customer_data_redact(shop, CustomerRef(shopify_id=str(customer.shopify_id), email=customer.email, phone=""))
    assert NpsSurvey.objects.get(order=order).status == NpsSurvey.Status.CANCELLED


def test_an_uninstalled_shops_links_open_nothing(client, asked, shop):
    survey = asked()
    type(shop).objects.filter(pk=shop.pk).update(uninstalled_at=timezone.now())
    assert client.post(_path(survey), {"score": "9"}, **JSON).status_code == 404
