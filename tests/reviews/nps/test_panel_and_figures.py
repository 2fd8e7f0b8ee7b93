"""The merchant's side: NPS over time on the dashboard, and the NPS page with its settings and answers."""
from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from reviews.nps.figures import nps_figures
from reviews.nps.models import NpsSettings, NpsSurvey
from shopapp.dashboard import Period
from shopapp.models import Customer, Order

pytestmark = pytest.mark.django_db
_ids = itertools.count(7_000_000)


def answer(shop, score, *, days_ago=0, comment="", name="Maya"):
    n = next(_ids)
    customer = Customer.objects.create(shop=shop, shopify_id=n, email=f"c{n}@example.com", first_name=name)
    order = Order.objects.create(shop=shop, shopify_id=n, name=f"#{n % 10000}", customer=customer,
                                 currency="USD", placed_at=timezone.now())
    at = timezone.now() - timedelta(days=days_ago)
    return NpsSurvey.objects.create(shop=shop, order=order, customer=customer, channel="email", status="sent",
                                    sent_at=at, score=score, comment=comment, answered_at=at, updated_at=at)


def test_nps_is_promoters_minus_detractors_per_day_with_gaps(shop, other_shop):
    for score, days_ago in [(10, 1), (9, 1), (3, 1), (8, 1), (0, 4), (10, 40)]:
        answer(shop, score, days_ago=days_ago)
    answer(other_shop, 0, days_ago=1)
    f = nps_figures(shop, Period.last(shop, 7))
    # Day -1: 2 promoters, 1 detractor of 4 answers = 25; day -4: one detractor = -100; other days no answers.
    assert [p.value for p in f["per_day"]] == [None, None, -100, None, None, 25, None]
    assert (f["tally"].promoters, f["tally"].passives, f["tally"].detractors) == (2, 1, 2)
    assert f["tally"].score == 0


def test_the_dashboard_charts_nps_over_time_with_its_counts(panel_get, shop):
    for score in (10, 10, 9, 2):
        answer(shop, score, days_ago=2)
    page = panel_get("/?range=7", shop).content.decode()
    assert re.search(r"<dt>NPS</dt><dd class=\"figure\">\+50</dd>", page)
    assert "NPS +50 from 4 answers in the last 7 days (3 promoters, 0 passives, 1 detractors)" in page
    assert page.count("<td>no answers</td>") == 6


def test_a_dashboard_without_answers_says_so(panel_get, shop):
    page = panel_get("/?range=30", shop).content.decode()
    assert "No answers in the last 30 days" in page
    assert re.search(r"<dt>NPS</dt><dd class=\"figure\">—</dd>", page)


def test_the_settings_are_off_by_default_and_saved_by_the_owner(panel_get, client, make_session_token, shop):
    assert NpsSettings.for_shop(shop).enabled is False
    token = make_session_token(shop.domain)
    response = client.post(f"/app/reviews/nps/?id_token={token}",
                           {"enabled": "on", "mode": "own_email", "delay_days": "10"})
    assert response.status_code == 200 and "NPS settings saved." in response.content.decode()
    config = NpsSettings.for_shop(shop)
    assert (config.enabled, config.mode, config.delay_days) == (True, "own_email", 10)


@pytest.mark.parametrize("data", [{"mode": "sms", "delay_days": "7"}, {"mode": "own_email", "delay_days": "0"},
                                  {"mode": "own_email", "delay_days": "x"}])
def test_a_bad_setting_is_refused_and_nothing_is_saved(client, make_session_token, shop, data):
    token = make_session_token(shop.domain)
    response = client.post(f"/app/reviews/nps/?id_token={token}", {"enabled": "on", **data})
    assert response.status_code == 400 and "Nothing was saved" in response.content.decode()
    assert NpsSettings.for_shop(shop).enabled is False


def test_the_page_lists_this_shops_answers_only_and_filters_detractors(panel_get, shop, other_shop):
    answer(shop, 2, comment="Late and cold", name="Dana")
    answer(shop, 10, comment="Love it", name="Eli")
    answer(other_shop, 1, comment="Someone else's shop", name="Zed")
    page = panel_get("/app/reviews/nps/", shop).content.decode()
    assert "Late and cold" in page and "Love it" in page and "Someone else" not in page
    detractors = panel_get("/app/reviews/nps/?kind=detractor", shop).content.decode()
    assert "Late and cold" in detractors and "Love it" not in detractors
    outsider = panel_get("/app/reviews/nps/", other_shop).content.decode()
    assert "Late and cold" not in outsider and "Someone else" in outsider


def test_a_bad_filter_is_ignored_with_a_notice(panel_get, shop):
    response = panel_get("/app/reviews/nps/?kind=angry", shop)
    assert response.status_code == 200 and "is not one of the choices" in response.content.decode()


def test_a_forged_session_token_changes_nothing(client, make_session_token, shop):
    token = make_session_token(shop.domain, secret="not-our-secret")
    response = client.post(f"/app/reviews/nps/?id_token={token}", {"enabled": "on", "mode": "own_email",
                                                                    "delay_days": "10"})
    assert response.status_code == 302 and "/auth/patch-id-token" in response["Location"]
    assert NpsSettings.for_shop(shop).enabled is False
