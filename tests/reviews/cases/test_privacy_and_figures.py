from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reviews.cases.figures import case_figures
from reviews.cases.models import Case, CaseMessage, Remedy
from reviews.cases.conversation import case_customer_answer, case_reply_send
from reviews.cases.services import case_transition
from shopapp.dashboard import Period
from shopapp.registry import CustomerRef, customer_data_export, customer_data_redact
from tests.reviews.cases.conftest import make_order

pytestmark = pytest.mark.django_db

MAYA = CustomerRef(shopify_id="9007199254740993", email="maya.r@example.com", phone="")


def _conversation(case):
    case_reply_send(case=case, subject="Sorry Maya", body="Hi Maya, sorry. Write to maya.r@example.com?", actor="staff 42")
    case_customer_answer(case=Case.objects.get(pk=case.pk), body="I am Maya Rivera, call me.")


def test_data_request_includes_cases_and_messages(make_review, shop):
    case = Case.objects.get(review=make_review(1))
    _conversation(case)
    exported = customer_data_export(shop, MAYA)["cases"]
    assert exported[0]["case"] == case.pk
    assert [m["body"] for m in exported[0]["messages"]][1] == "I am Maya Rivera, call me."


def test_redact_removes_the_customers_identity_from_cases_and_messages(make_review, shop):
    case = Case.objects.get(review=make_review(1))
    _conversation(case)
    customer_data_redact(shop, MAYA)  # orders' redactor blanks the email first; cases still find them
    case.refresh_from_db()
    assert case.customer is None and case.redacted_at is not None
    bodies = " ".join(CaseMessage.objects.filter(case=case).values_list("body", flat=True))
    assert "Maya" not in bodies and "maya.r@example.com" not in bodies and "Rivera" not in bodies
    assert not CaseMessage.objects.filter(case=case).exclude(to_email="").exists()


def test_redact_leaves_another_shops_cases_alone(make_review, shop, other_shop):
    theirs = Case.objects.get(review=make_review(1, target=other_shop))
    customer_data_redact(shop, MAYA)
    theirs.refresh_from_db()
    assert theirs.customer is not None and theirs.redacted_at is None


def test_figures_count_response_time_resolution_recovery_and_cost(make_review, shop):
    now = timezone.now()
    first = Case.objects.get(review=make_review(1))
    Case.objects.filter(pk=first.pk).update(created_at=now - timedelta(hours=10), first_response_at=now - timedelta(hours=6))
    case_transition(case=first, to="resolved", actor="staff 42")
    Remedy.objects.create(case=first, kind="refund", amount=Decimal("30.00"), currency="USD", status="done", actor="x")
    Remedy.objects.create(case=first, kind="discount", amount=Decimal("99.00"), currency="USD", status="failed", actor="x")
    make_order(shop, placed_at=now)  # Maya ordered again after her case opened: recovered
    second = Case.objects.get(review=make_review(2, shopify_id=77, email="liam@example.com"))
    Case.objects.filter(pk=second.pk).update(created_at=now - timedelta(hours=1), first_response_at=now - timedelta(hours=1))
    figures = case_figures(shop, Period.last(shop, 30))
    assert figures["opened"] == 2 and figures["resolution_rate"] == 0.5
    assert figures["first_response"] == timedelta(hours=2)
    assert figures["recovered"] == 1 and figures["remedy_cost"] == Decimal("30.00")


def test_a_revised_rating_counts_as_recovered(make_review, shop):
    case = Case.objects.get(review=make_review(1))
    case.review.__class__.objects.filter(pk=case.review_id).update(rating=4)
    assert case_figures(shop, Period.last(shop, 30))["recovered"] == 1


def test_dashboard_query_count_stays_flat_as_cases_grow(make_review, shop, panel_get):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert panel_get("/", shop).status_code == 200
        return len(ctx.captured_queries)

    make_review(1)
    queries()  # the first visit creates each app's default settings
    few = queries()
    for i in range(12):
        case = Case.objects.get(review=make_review(1, shopify_id=100 + i, email=f"c{i}@example.com"))
        Remedy.objects.create(case=case, kind="refund", amount=Decimal("5"), currency="USD", status="done", actor="x")
    page = panel_get("/", shop).content.decode()
    assert "Unhappy customers" in page and "Cases opened" in page
    assert queries() == few


def test_cases_opened_on_the_dashboard_tie_out_with_the_inbox(make_review, shop, panel_get):
    import re

    now = timezone.now()
    for i, days_ago in enumerate((1, 5, 45)):
        case = Case.objects.get(review=make_review(1, shopify_id=300 + i, email=f"c{i}@example.com"))
        Case.objects.filter(pk=case.pk).update(created_at=now - timedelta(days=days_ago))
    page = panel_get("/?range=30", shop).content.decode()
    opened = re.search(r"<dt>Cases opened</dt><dd class=\"figure\">(\d+)</dd>", page).group(1)
    link = re.search(r'href="(/app/cases/\?from=[^"&]+&amp;to=[^"&]+)', page).group(1).replace("&amp;", "&")
    listed = panel_get(link, shop).content.decode()
    assert opened == "2" and re.search(r'id="case-count">(\d+) case', listed).group(1) == opened
    assert '<p class="chart-takeaway">2 cases in the last 30 days; busiest day' in page  # the chart agrees
    assert re.search(r'id="case-count">(\d+) case', panel_get("/app/cases/", shop).content.decode()).group(1) == "3"
