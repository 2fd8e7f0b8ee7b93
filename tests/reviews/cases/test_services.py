from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from reviews.cases.models import Case, CaseEvent, CaseMessage, CaseSettings
from reviews.cases.conversation import case_customer_answer, case_reply_send
from reviews.cases.services import CaseError, case_digest_send, case_open, case_transition
from reviews.cases.sweep import cases_sweep
from reviews.models import Review
from shopapp.mail import marketing_blocked

pytestmark = pytest.mark.django_db


def test_a_one_star_review_opens_a_case_and_stays_published(make_review, shop):
    review = make_review(1)
    case = Case.objects.get(review=review)
    assert (case.status, case.reason, case.rating_at_open) == ("new", "rating", 1)
    assert Review.objects.get(pk=review.pk).status == Review.Status.PUBLISHED
    assert case.events.get().action == "opened" and case.events.get().actor == "Advocate"


def test_ratings_above_the_threshold_open_a_case_only_with_a_complaint_keyword(make_review, shop):
    assert not Case.objects.filter(review=make_review(3, body="Fine, a bit small.")).exists()
    CaseSettings.objects.filter(shop=shop).update(rating_threshold=3, keywords="broken\nrefund")
    assert Case.objects.filter(review=make_review(3, body="Fine.")).exists()
    case = Case.objects.get(review=make_review(5, title="", body="Lovely, but I want a REFUND for the lid"))
    assert (case.reason, case.keyword) == ("keyword", "refund")
    assert not Case.objects.filter(review=make_review(5, title="", body="Refunded? No, kept it.")).exists()


def test_one_case_per_review_and_a_merchant_can_open_one_by_hand(make_review):
    review = make_review(5, body="Great")
    case, created = case_open(review=review, reason=Case.Reason.MANUAL, actor="staff 42")
    again, created_again = case_open(review=review, reason=Case.Reason.MANUAL, actor="staff 42")
    assert created and not created_again and again.pk == case.pk
    assert Case.objects.filter(review=review).count() == 1


def test_alert_goes_once_to_the_chosen_recipients(make_review, shop):
    CaseSettings.objects.update_or_create(shop=shop, defaults={"alert_recipients": "a@shop.test, b@shop.test"})
    review = make_review(1)
    case = Case.objects.get(review=review)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["a@shop.test", "b@shop.test"]
    assert "1★ review of Trail Mug" in mail.outbox[0].subject and "cracked" in mail.outbox[0].body
    from reviews.cases.services import case_alert_send

    assert case_alert_send(case.pk) is False
    cases_sweep(now=timezone.now() + timedelta(hours=1))
    assert len(mail.outbox) == 1


def test_digest_sends_one_email_a_day_listing_new_cases(make_review, shop, settings):
    CaseSettings.objects.update_or_create(shop=shop, defaults={"alert_mode": "digest", "alert_recipients": "o@shop.test"})
    make_review(1)
    make_review(2, shopify_id=123)
    assert mail.outbox == []
    now = timezone.now()
    assert case_digest_send(shop=shop, now=now) == 2
    assert case_digest_send(shop=shop, now=now) == 0
    make_review(1, shopify_id=456)
    assert case_digest_send(shop=shop, now=now + timedelta(hours=1)) == 0  # not a day yet
    assert case_digest_send(shop=shop, now=now + settings.ADVOCATE_DAY) == 1
    assert len(mail.outbox) == 2 and "2 new cases" in mail.outbox[0].subject


@pytest.mark.parametrize("start,to", [("new", "new"), ("closed", "resolved"), ("resolved", "waiting"),
                                      ("closed", "waiting")])
def test_invalid_transitions_are_refused_with_a_clear_message(make_review, start, to):
    case = Case.objects.get(review=make_review(1))
    Case.objects.filter(pk=case.pk).update(status=start)
    with pytest.raises(CaseError) as refused:
        case_transition(case=case, to=to, actor="staff 42")
    assert "cannot become" in str(refused.value)
    assert Case.objects.get(pk=case.pk).status == start


def test_valid_transitions_are_logged_with_who_and_when(make_review):
    case = Case.objects.get(review=make_review(1))
    case = case_transition(case=case, to="resolved", actor="staff 42")
    assert case.resolved_at and case.ended_at
    case = case_transition(case=case, to="open", actor="staff 7")
    assert case.ended_at is None and case.resolved_at  # resolved once still counts
    events = list(CaseEvent.objects.filter(case=case, action="status").order_by("pk").values_list("detail", "actor"))
    assert events == [("New → Resolved", "staff 42"), ("Resolved → Open", "staff 7")]


def test_private_reply_is_emailed_once_threaded_and_waits_for_the_customer(make_review, run_jobs):
    case = Case.objects.get(review=make_review(1))
    mail.outbox.clear()
    with run_jobs():
        first = case_reply_send(case=case, subject="Sorry", body="Hi Maya, we are sorry.", actor="staff 42")
    with run_jobs():
        second = case_reply_send(case=case, subject="Re: Sorry", body="A new mug is on its way.", actor="staff 42")
    from reviews.cases.conversation import case_message_send

    assert case_message_send(first.pk) is False  # already sent by its job
    assert len(mail.outbox) == 2
    assert mail.outbox[0].to == ["maya.r@example.com"] and "/cases/a/" in mail.outbox[0].body
    assert "never need to change or remove it" in mail.outbox[0].body
    assert mail.outbox[1].extra_headers["In-Reply-To"] == first.message_id
    case.refresh_from_db()
    assert case.status == "waiting" and case.first_response_at is not None
    assert CaseMessage.objects.get(pk=second.pk).sent_at is not None


def test_private_reply_goes_to_a_customer_who_opted_out_of_marketing_but_not_to_an_erased_one(make_review, run_jobs):
    case = Case.objects.get(review=make_review(1))
    customer = case.customer
    customer.marketing = "unsubscribed"
    customer.unsubscribed_at = timezone.now()
    customer.save()
    mail.outbox.clear()
    with run_jobs():
        case_reply_send(case=case, subject="Sorry", body="We are sorry.", actor="staff 42")
    assert len(mail.outbox) == 1
    customer.redacted_at = timezone.now()
    customer.save()
    with pytest.raises(CaseError):
        case_reply_send(case=Case.objects.get(pk=case.pk), subject="Sorry", body="Again", actor="staff 42")


def test_customer_answer_reopens_the_case(make_review):
    case = Case.objects.get(review=make_review(1))
    case_reply_send(case=case, subject="Sorry", body="Tell us more?", actor="staff 42")
    case_customer_answer(case=Case.objects.get(pk=case.pk), body="It was cracked at the handle.")
    case.refresh_from_db()
    assert case.status == "open"
    assert [m.direction for m in case.messages.all()] == ["out", "in"]


def test_marketing_pauses_during_the_case_and_for_14_days_after(make_review, shop, settings):
    case = Case.objects.get(review=make_review(1))
    customer = case.customer
    assert "open case" in marketing_blocked(shop, customer)
    case_transition(case=case, to="resolved", actor="staff 42")
    assert marketing_blocked(shop, customer)
    Case.objects.filter(pk=case.pk).update(ended_at=timezone.now() - 15 * settings.ADVOCATE_DAY)
    assert marketing_blocked(shop, customer) is None


def test_email_send_holds_marketing_during_a_case_but_the_case_reply_still_goes(make_review, shop, run_jobs):
    from shopapp.mail import Audience, email_send

    case = Case.objects.get(review=make_review(1))
    mail.outbox.clear()
    assert email_send(shop=shop, audience=Audience.MARKETING, customer=case.customer, subject="Share and earn",
                      text="Invite friends") is False
    with run_jobs():
        case_reply_send(case=case, subject="Sorry", body="We will replace it.", actor="staff 42")
    assert [m.subject for m in mail.outbox] == ["Sorry"]


def test_a_reply_to_a_customer_erased_before_the_job_ran_is_not_sent_and_says_why(make_review, shop, run_jobs):
    case = Case.objects.get(review=make_review(1))
    message = case_reply_send(case=case, subject="Sorry", body="We will replace it.", actor="staff 42")
    mail.outbox.clear()
    type(case.customer).objects.filter(pk=case.customer_id).update(redacted_at=timezone.now())
    from reviews.cases.conversation import case_message_send

    assert case_message_send(message.pk) is False and case_message_send(message.pk) is False
    message.refresh_from_db()
    assert mail.outbox == [] and "can no longer be emailed" in message.send_error


def test_an_edit_down_to_one_star_opens_a_case(make_review, django_capture_on_commit_callbacks):
    from reviews.services import review_update

    review = make_review(4, body="Nice")
    assert not Case.objects.filter(review=review).exists()
    with django_capture_on_commit_callbacks(execute=True):
        review_update(review=review, rating=1, title="Broke", body="It broke after a week.", display_name="Maya R.")
    assert Case.objects.get(review=review).rating_at_open == 1


def test_a_lost_alert_is_sent_by_the_sweep_and_only_once(make_review, shop, settings):
    shop.email = "owner@shop.test"
    shop.save()
    settings.EMAIL_BACKEND = "tests.reviews.cases.test_services.FailingBackend"
    case = Case.objects.get(review=make_review(1))
    assert Case.objects.get(pk=case.pk).alerted_at is None  # the send failed, the claim was released
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    later = timezone.now() + timedelta(minutes=5)
    cases_sweep(now=later)
    cases_sweep(now=later)
    assert [m.subject for m in mail.outbox] == ["New case: 1★ review of Trail Mug"]


def test_shop_export_lists_the_cases(make_review, shop, other_shop):
    from shopapp.registry import shop_data_export

    case = Case.objects.get(review=make_review(1))
    make_review(1, target=other_shop)
    assert [c["case"] for c in shop_data_export(shop)["cases"]] == [case.pk]


class FailingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise OSError("SMTP is down")


def test_the_reply_email_asks_for_answers_through_the_case_page_and_never_promises_email_replies(
        make_review, shop, run_jobs):
    from reviews.cases.conversation import answer_link, reply_templates

    case = Case.objects.get(review=make_review(1))
    mail.outbox.clear()
    with run_jobs():
        case_reply_send(case=case, subject="Sorry", body="Can you send a photo?", actor="staff 42")
    [sent] = mail.outbox
    html = sent.alternatives[0][0]
    for text in (sent.body, html):
        assert "reply to this email" not in text.lower() and "stays with this conversation" in text
    assert answer_link(case) in sent.body and answer_link(case) in html
    assert not any("Answer this message" in t.body for t in reply_templates(shop))
