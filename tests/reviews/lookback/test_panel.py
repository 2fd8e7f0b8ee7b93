"""The look-back page: the preview before anything is sent, start once, progress, cancel; this shop's runs only."""
from __future__ import annotations

import pytest

from reviews.lookback.models import LookbackRun
from reviews.models import ReviewRequest, ReviewSettings
from tests.reviews.lookback.conftest import DAY

pytestmark = pytest.mark.django_db
PATH = "/app/reviews/lookback/"


@pytest.fixture
def three_customers(past_order):
    from django.utils import timezone

    now = timezone.now()
    for n, days in enumerate((40, 60, 90)):
        past_order(now, days, email=f"c{n}@example.com", customer_id=300 + n, products=((10 + n, f"Product {n}"),))


def _post(client, token_maker, shop, data, capture):
    with capture(execute=True):
        return client.post(f"{PATH}?id_token={token_maker(shop.domain)}", data)


def test_the_page_opens_with_the_default_window_and_rate(panel_get, shop):
    page = panel_get(PATH, shop).content.decode()
    assert 'name="newest_days" value="30"' in page and 'name="oldest_days" value="180"' in page
    assert 'name="per_day" value="50"' in page and "Preview" in page


def test_the_preview_says_what_would_be_sent_before_anything_is(panel_get, shop, three_customers):
    page = panel_get(f"{PATH}?preview=1&newest_days=30&oldest_days=180&per_day=2", shop).content.decode()
    assert "<strong>3 emails</strong> to <strong>3 customers</strong>" in page
    assert "about <strong>3 products</strong>" in page and "Start sending 3 emails" in page
    assert not ReviewRequest.objects.exists() and not LookbackRun.objects.exists()


@pytest.mark.parametrize("query, message", [
    ("newest_days=90&oldest_days=30&per_day=5", "Choose more days than in the field above"),
    ("newest_days=30&oldest_days=180&per_day=0", "greater than or equal to 1"),
    ("newest_days=30&oldest_days=9999&per_day=5", "less than or equal to 730"),
    ("newest_days=x&oldest_days=180&per_day=5", "Enter a whole number"),
])
def test_a_bad_window_or_rate_is_refused_with_its_message(panel_get, shop, query, message):
    response = panel_get(f"{PATH}?preview=1&{query}", shop)
    assert response.status_code == 400 and message in response.content.decode()


def test_start_then_a_double_click_makes_one_run(client, make_session_token, shop, three_customers,
                                                 django_capture_on_commit_callbacks):
    data = {"newest_days": "30", "oldest_days": "180", "per_day": "2", "action": "start"}
    first = _post(client, make_session_token, shop, data, django_capture_on_commit_callbacks)
    second = _post(client, make_session_token, shop, data, django_capture_on_commit_callbacks)
    assert first.status_code == 302 and "done=started" in first["Location"]
    assert second.status_code == 302 and "done=running" in second["Location"]
    run = LookbackRun.objects.get()
    assert (run.status, run.preview_emails, run.started_by) == ("running", 3, "staff 42")
    assert ReviewRequest.objects.filter(lookback__run=run).count() == 3
    page = client.get(second["Location"]).content.decode()
    assert "A look-back run is already going" in page and "Cancel the run" in page


def test_nothing_starts_while_review_requests_are_off(client, make_session_token, shop, three_customers,
                                                      django_capture_on_commit_callbacks):
    config = ReviewSettings.for_shop(shop)
    config.requests_enabled = False
    config.save()
    response = _post(client, make_session_token, shop, {"newest_days": "30", "oldest_days": "180", "per_day": "2",
                                                        "action": "start"}, django_capture_on_commit_callbacks)
    assert response.status_code == 409 and not LookbackRun.objects.exists()


def test_another_shops_run_cannot_be_cancelled_from_here(client, make_session_token, shop, other_shop, three_customers,
                                                        django_capture_on_commit_callbacks):
    from reviews.lookback.services import lookback_start

    with django_capture_on_commit_callbacks(execute=True):
        run, _ = lookback_start(shop=shop, newest_days=30, oldest_days=180, per_day=2, actor="42")
    refused = _post(client, make_session_token, other_shop, {"action": "cancel", "run": str(run.pk)},
                    django_capture_on_commit_callbacks)
    assert refused.status_code == 404
    assert LookbackRun.objects.get(pk=run.pk).status == "running"
    for bad in ("", "x", "99999"):
        assert _post(client, make_session_token, shop, {"action": "cancel", "run": bad},
                     django_capture_on_commit_callbacks).status_code == 404
    done = _post(client, make_session_token, shop, {"action": "cancel", "run": str(run.pk)},
                 django_capture_on_commit_callbacks)
    assert done.status_code == 302 and LookbackRun.objects.get(pk=run.pk).status == "cancelled"
    assert "Look-back run cancelled" in client.get(done["Location"]).content.decode()


def test_progress_shows_what_went_out_and_what_was_held_back(panel_get, shop, three_customers,
                                                             django_capture_on_commit_callbacks):
    from django.utils import timezone

    from reviews.lookback.services import lookback_start
    from reviews.requests import review_requests_sweep
    from shopapp.models import Customer

    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        lookback_start(shop=shop, newest_days=30, oldest_days=180, per_day=1, actor="42", now=now)
    Customer.objects.filter(email="c1@example.com").update(unsubscribed_at=now)
    review_requests_sweep(now=now + DAY)
    page = panel_get(PATH, shop).content.decode()
    assert "2 of 3 emails handled" in page
    assert "unsubscribed from Advocate&#x27;s emails (1)" in page
