from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import signing

from reviews.cases.models import Case, CaseMessage
from reviews.cases.conversation import ANSWER_LINK_VALIDITY, answer_link, case_reply_send
from reviews.cases.services import case_transition

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(make_review):
    case = Case.objects.get(review=make_review(1))
    case_reply_send(case=case, subject="Sorry", body="Can you send a photo?", actor="staff 42")
    CaseMessage.objects.update(sent_at="2026-11-22T10:00:00Z")
    return Case.objects.get(pk=case.pk)



def test_customer_answers_through_the_signed_link_and_the_case_opens_again(client, case):
    path = "/cases/a/" + answer_link(case).rsplit("/cases/a/", 1)[1]
    page = client.get(path).content.decode()
    assert "Can you send a photo?" in page and "never need to change or remove it" in page
    response = client.post(path, {"body": "Here: the handle <b>snapped</b>."})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "your answer was sent" in page and "&lt;b&gt;snapped&lt;/b&gt;" in page
    case.refresh_from_db()
    assert case.status == "open"
    assert case.messages.last().body == "Here: the handle <b>snapped</b>."


def test_an_empty_answer_is_refused(client, case):
    path = "/cases/a/" + answer_link(case).rsplit("/cases/a/", 1)[1]
    response = client.post(path, {"body": "  "})
    assert response.status_code == 400 and "This field is required." in response.content.decode()
    assert case.messages.count() == 1


def test_tampered_and_expired_links_are_refused(client, case, monkeypatch):
    token = answer_link(case).rsplit("/cases/a/", 1)[1]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.get(f"/cases/a/{tampered}").status_code == 404
    assert "This link does not work" in client.post(f"/cases/a/{tampered}", {"body": "hi"}).content.decode()
    import time

    real = time.time
    monkeypatch.setattr(signing.time, "time", lambda: real() + ANSWER_LINK_VALIDITY.total_seconds() + 60)
    assert client.get(f"/cases/a/{token}").status_code == 404
    assert case.messages.count() == 1


def test_after_resolution_the_page_offers_the_original_review_link_in_neutral_words(client, make_review, shop):
    from reviews.models import ReviewRequest
    from reviews.services import review_update

    review = make_review(1)
    request = ReviewRequest.objects.create(shop=shop, order=review.order_line.order, customer=review.customer,
                                           due_at=review.created_at, status="completed")
    review.request = request
    review.save()
    case = Case.objects.get(review=review)
    case_transition(case=case, to="resolved", actor="staff 42")
    page = client.get("/cases/a/" + answer_link(case).rsplit("/cases/a/", 1)[1]).content.decode()
    assert "/reviews/r/" in page and "There is no need to" in page
    assert "better" not in page.lower() and "higher" not in page.lower()
    review_update(review=review, rating=4, title="Replaced quickly", body="The new one is fine.", display_name="Maya R.")
    case.refresh_from_db()
    assert case.rating_at_open == 1 and case.review.rating == 4
    assert case.review.revisions.get().rating == 1


def test_the_case_page_shows_the_rating_before_and_after(panel_get, shop, make_review, django_capture_on_commit_callbacks):
    from reviews.services import review_update

    review = make_review(1)
    with django_capture_on_commit_callbacks(execute=True):
        review_update(review=review, rating=4, title="Better now", body="Replaced.", display_name="Maya R.")
    case = Case.objects.get(review=review)
    page = panel_get(f"/app/cases/{case.pk}/", shop).content.decode()
    assert "1★ when the case opened → 4★ now" in page
    assert case.events.filter(action="review_updated").exists()


def test_an_erased_customers_link_stops_working(client, case, shop):
    from shopapp.registry import CustomerRef, customer_data_redact

    token = answer_link(case).rsplit("/cases/a/", 1)[1]
    customer_data_redact(shop, CustomerRef(shopify_id="9007199254740993", email="maya.r@example.com", phone=""))
    assert client.get(f"/cases/a/{token}").status_code == 404
