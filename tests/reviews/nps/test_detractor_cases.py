"""A detractor (0 to 6) opens a case in the inbox, once, whatever retries and races do; a passive or a
promoter does not; an erased customer's answer opens nothing; the case reads as an NPS case everywhere."""
from __future__ import annotations

import pytest
from django.conf import settings
from django.core import mail

from reviews.cases.from_nps import case_open_for_nps, on_nps_answered
from reviews.cases.models import Case, CaseSettings
from reviews.cases.conversation import case_default_subject, case_public_reply, template_fill
from reviews.cases.services import CaseError, case_alert_subject
from reviews.nps.models import NpsSurvey
from reviews.nps.services import nps_answer, nps_link
from shopapp.models import FollowUp
from shopapp.registry import CustomerRef, customer_data_redact

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}


def _path(survey) -> str:
    return nps_link(survey).removeprefix(settings.APP_URL)


def test_a_detractors_answer_opens_one_case_and_alerts_the_shop(client, asked, shop,
                                                               django_capture_on_commit_callbacks):
    type(shop).objects.filter(pk=shop.pk).update(email="owner@shop.test")
    survey = asked()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(_path(survey), {"score": "3"}, **JSON).status_code == 200
    case = Case.objects.get(nps_survey=survey)
    assert (case.reason, case.rating_at_open, case.review_id, case.customer_id) == (
        Case.Reason.NPS, 3, None, survey.customer_id)
    assert case.shop_id == survey.shop_id and case.status == Case.Status.NEW and case.from_nps
    assert case.events.filter(action="opened").count() == 1
    alert = [m for m in mail.outbox if m.subject.startswith("New case")]
    assert len(alert) == 1 and "3/10" in alert[0].subject and "Net Promoter question" in alert[0].body
    assert FollowUp.objects.filter(after="nps_answered", status=FollowUp.Status.DONE).count() == 1


@pytest.mark.parametrize("score", [7, 8, 9, 10])
def test_a_passive_or_a_promoter_opens_no_case(client, asked, django_capture_on_commit_callbacks, score):
    survey = asked()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_path(survey), {"score": str(score)}, **JSON)
    assert not Case.objects.exists()


def test_the_boundary_six_is_a_detractor(asked, django_capture_on_commit_callbacks):
    survey = asked()
    with django_capture_on_commit_callbacks(execute=True):
        nps_answer(survey=survey, score=6)
    assert Case.objects.filter(nps_survey=survey, rating_at_open=6).exists()


def test_the_follow_up_run_twice_or_the_same_answer_twice_opens_one_case(asked, django_capture_on_commit_callbacks):
    survey = asked()
    with django_capture_on_commit_callbacks(execute=True):
        nps_answer(survey=survey, score=2)
        nps_answer(survey=survey, score=2)  # the same answer again: no second follow-up
    on_nps_answered(NpsSurvey.objects.get(pk=survey.pk))  # a retried follow-up
    assert case_open_for_nps(NpsSurvey.objects.get(pk=survey.pk))[1] is False  # a racing one hits the unique row
    assert Case.objects.filter(nps_survey=survey).count() == 1
    assert FollowUp.objects.filter(after="nps_answered").count() == 1


def test_a_changed_score_is_noted_on_the_case_and_does_not_close_it(asked, django_capture_on_commit_callbacks):
    survey = asked()
    with django_capture_on_commit_callbacks(execute=True):
        nps_answer(survey=survey, score=1)
    with django_capture_on_commit_callbacks(execute=True):
        nps_answer(survey=survey, score=8, comment="They called me, all good now")
    case = Case.objects.get(nps_survey=survey)
    assert case.is_active
    assert list(case.events.filter(action="score_updated").values_list("detail", flat=True)) == [
        "the customer's score is now 8/10"]
    with django_capture_on_commit_callbacks(execute=True):
        nps_answer(survey=survey, score=8, comment="Changed only the comment")
    assert case.events.filter(action="score_updated").count() == 1


def test_a_promoter_who_later_drops_to_a_detractor_gets_a_case_then(asked, django_capture_on_commit_callbacks):
    survey = asked()
    with django_capture_on_commit_callbacks(execute=True):
        nps_answer(survey=survey, score=9)
    assert not Case.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        nps_answer(survey=survey, score=4)
    assert Case.objects.get(nps_survey=survey).rating_at_open == 4


def test_an_answer_erased_before_its_follow_up_runs_opens_nothing(asked, shop, django_capture_on_commit_callbacks):
    survey = asked()
    nps_answer(survey=survey, score=0)  # committed; its follow-up has not run yet (no callbacks executed)
    customer = survey.customer
    customer_data_redact(shop, CustomerRef(shopify_id=customer.shopify_id, email=customer.email, phone=""))
    on_nps_answered(NpsSurvey.objects.get(pk=survey.pk))  # the hook itself, as a late retry would call it
    from reviews.nps.services import _with_survey

    _with_survey(on_nps_answered, survey.pk)
    assert not Case.objects.exists()
    assert case_open_for_nps(survey) == (None, False)  # even given a copy read before the erasure


def test_nps_answers_are_erased_before_cases_so_a_case_racing_the_erasure_is_caught():
    """The redactors run in registration order: NPS first locks the answers, cases then see any case
    opened from one of them (reviews.cases.from_nps locks the answer while it opens the case)."""
    from shopapp.registry import _r

    names = list(_r.owners)
    assert names.index("nps") < names.index("cases")


def test_an_erased_detractors_case_keeps_nothing_of_them(asked, shop, django_capture_on_commit_callbacks):
    survey = asked()
    with django_capture_on_commit_callbacks(execute=True):
        nps_answer(survey=survey, score=2, comment="Parcel arrived wet, call me on 555-0100")
    customer = survey.customer
    customer_data_redact(shop, CustomerRef(shopify_id=customer.shopify_id, email=customer.email, phone=""))
    case = Case.objects.get(nps_survey=survey)
    assert case.customer_id is None and case.redacted_at is not None
    assert NpsSurvey.objects.get(pk=survey.pk).comment == ""


def test_an_nps_case_has_no_public_reply_and_its_words_fit_it(asked, django_capture_on_commit_callbacks):
    survey = asked()
    with django_capture_on_commit_callbacks(execute=True):
        nps_answer(survey=survey, score=3)
    case = Case.objects.get(nps_survey=survey)
    with pytest.raises(CaseError, match="no review to reply to"):
        case_public_reply(case=case, text="Sorry!", actor="merchant")
    assert case_default_subject(case) == "About your feedback"
    assert template_fill("{product} / {order}", case) == f"your order / {survey.order.name}"
    assert case_alert_subject(case).startswith("New case: 3/10")


def test_an_uninstalled_shops_late_answer_opens_no_case(asked, shop, django_capture_on_commit_callbacks):
    survey = asked()
    nps_answer(survey=survey, score=1)
    from django.utils import timezone

    type(shop).objects.filter(pk=shop.pk).update(uninstalled_at=timezone.now())
    on_nps_answered(NpsSurvey.objects.select_related("shop").get(pk=survey.pk))
    assert not Case.objects.exists()


def test_digest_mode_alerts_nobody_at_once(asked, shop, django_capture_on_commit_callbacks):
    type(shop).objects.filter(pk=shop.pk).update(email="owner@shop.test")
    config = CaseSettings.for_shop(shop)
    config.alert_mode = CaseSettings.AlertMode.DIGEST
    config.save()
    survey = asked()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        nps_answer(survey=survey, score=3)
    assert Case.objects.filter(nps_survey=survey).exists()
    assert not [m for m in mail.outbox if m.subject.startswith("New case")]


def test_the_detractor_reads_a_reply_and_their_case_page_about_their_answer_not_a_review(
        client, asked, django_capture_on_commit_callbacks):
    from reviews.cases.conversation import answer_link, case_reply_send

    survey = asked()
    with django_capture_on_commit_callbacks(execute=True):
        nps_answer(survey=survey, score=2, comment="Slow delivery")
    case = Case.objects.get(nps_survey=survey)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        case_reply_send(case=case, subject=case_default_subject(case), body="Sorry about the wait.", actor="merchant")
    (sent,) = mail.outbox
    assert sent.subject == "About your feedback" and sent.to == [survey.customer.email]
    assert "what you told us about your order" in sent.body and "your review" not in sent.body
    html = sent.alternatives[0][0]
    assert "what you told us about your order" in html and "your review" not in html
    page = client.get(answer_link(case).removeprefix(settings.APP_URL)).content.decode()
    assert "About what you told us about your order." in page and "your review" not in page


def test_the_panel_shows_an_nps_case_with_its_score_and_comment_and_no_public_reply(
        panel_get, asked, shop, other_shop, django_capture_on_commit_callbacks):
    survey = asked()
    with django_capture_on_commit_callbacks(execute=True):
        nps_answer(survey=survey, score=2, comment="Slow delivery & <b>no</b> answer")
    case = Case.objects.get(nps_survey=survey)
    listing = panel_get("/app/cases/", shop).content.decode()
    assert f"/app/cases/{case.pk}/" in listing and "2/10" in listing
    assert f"/app/cases/{case.pk}/" in panel_get("/app/cases/?q=slow+delivery", shop).content.decode()
    page = panel_get(f"/app/cases/{case.pk}/", shop)
    assert page.status_code == 200
    html = page.content.decode()
    assert "2/10" in html and "Slow delivery &amp; &lt;b&gt;no&lt;/b&gt; answer" in html
    assert 'value="public"' not in html and survey.order.name in html
    assert panel_get(f"/app/cases/{case.pk}/", other_shop).status_code == 404


def test_a_detractor_who_raises_their_score_counts_as_recovered(asked, shop, django_capture_on_commit_callbacks):
    from reviews.cases.figures import case_figures
    from shopapp.dashboard import Period

    survey = asked()
    with django_capture_on_commit_callbacks(execute=True):
        nps_answer(survey=survey, score=2)
    period = Period.last(shop, 30)
    assert (case_figures(shop, period)["opened"], case_figures(shop, period)["recovered"]) == (1, 0)
    with django_capture_on_commit_callbacks(execute=True):
        nps_answer(survey=survey, score=9)
    assert case_figures(shop, period)["recovered"] == 1


def test_an_nps_case_resolves_and_tells_flow_about_its_customer_and_order(asked, django_capture_on_commit_callbacks):
    from reviews.cases.services import case_transition
    from shopapp.models import FlowTrigger

    survey = asked()
    with django_capture_on_commit_callbacks(execute=True):
        nps_answer(survey=survey, score=1)
    case = Case.objects.get(nps_survey=survey)
    case_transition(case=case, to=Case.Status.RESOLVED, actor="merchant")
    ended = FlowTrigger.objects.get(handle="advocate-case-resolved")
    assert ended.payload["order_id"] == survey.order.shopify_id and ended.payload["Outcome"] == "Resolved"


def test_the_history_keeps_english_and_reads_in_the_panels_language(asked, django_capture_on_commit_callbacks):
    from django.utils import translation

    from reviews.cases.history import event_shown
    from reviews.cases.services import case_transition

    survey = asked()
    with django_capture_on_commit_callbacks(execute=True):
        nps_answer(survey=survey, score=1)
    case = Case.objects.get(nps_survey=survey)
    with translation.override("de"):  # a German-speaking staff member acts
        case_transition(case=case, to=Case.Status.OPEN, actor="merchant")
    status = case.events.get(action="status")
    assert status.detail == "New → Open" and status.data == {"from": "new", "to": "open"}
    opened = case.events.get(action="opened")
    assert opened.detail == "Would not recommend the shop: 1/10"
    assert event_shown(status) == "New → Open"
