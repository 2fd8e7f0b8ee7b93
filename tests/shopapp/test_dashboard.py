from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shopapp.dashboard import Period, retention_figures
from shopapp.models import Customer, Order
from shopapp.orders import order_stats_refresh

pytestmark = pytest.mark.django_db


def _order(shop, customer, n, total, *, days_ago=1, cancelled=False, refunded="0"):
    order = Order.objects.create(
        shop=shop, customer=customer, shopify_id=n, currency=shop.currency, total=Decimal(total),
        refunded=Decimal(refunded), placed_at=timezone.now() - timedelta(days=days_ago),
        cancelled_at=timezone.now() if cancelled else None,
    )
    order_stats_refresh(order)  # as the order webhooks do
    return order


def _customers(shop, count, start=0):
    return [Customer.objects.create(shop=shop, shopify_id=start + i + 1, email=f"c{start + i}@example.com") for i in range(count)]


def test_retention_figures_tie_out_with_the_orders(shop, other_shop):
    a, b, c = _customers(shop, 3)
    _order(shop, a, 1, "40.00")
    _order(shop, a, 2, "60.00", refunded="10.00")
    _order(shop, b, 3, "50.00")
    _order(shop, c, 4, "999.00", cancelled=True)  # cancelled: not a purchase
    _order(shop, b, 5, "20.00", days_ago=400)  # outside the range, still part of b's history
    _order(other_shop, _customers(other_shop, 1, start=100)[0], 6, "500.00")  # another shop's

    figures = retention_figures(shop, Period.last(shop, 30))
    assert figures["orders"] == 3
    assert figures["revenue"] == Decimal("140.00")  # 40 + 60 + 50 - 10 refunded
    overall = figures["retention"].overall  # worked out in full in tests/shopapp/test_retention.py
    assert overall.buyers == 2  # c only has a cancelled order
    assert overall.repeat_rate == 1.0  # a and b both ordered twice, b's first order 400 days ago
    assert overall.average_order == Decimal("46.67")  # 140.00 / 3


def test_dashboard_queries_do_not_grow_with_the_data(panel_get, shop):
    def count_queries():
        with CaptureQueriesContext(connection) as ctx:
            assert panel_get("/", shop).status_code == 200
        return len(ctx.captured_queries)

    customers = _customers(shop, 2)
    _order(shop, customers[0], 1, "10.00")
    count_queries()  # the first visit creates each app's default settings
    few = count_queries()
    more = _customers(shop, 40, start=10)
    for i, customer in enumerate(more):
        _order(shop, customer, 100 + i, "10.00", days_ago=i % 20)
    assert count_queries() == few


def test_dashboard_shows_another_shops_figures_never(panel_get, shop, other_shop):
    _order(other_shop, _customers(other_shop, 1)[0], 1, "12345.00")
    page = panel_get("/", shop).content.decode()
    assert "12,345" not in page


def test_unknown_range_falls_back_to_thirty_days(panel_get, shop):
    page = panel_get("/?range=banana", shop).content.decode()
    assert 'value="30" selected' in page


def test_onboarding_checklist_tracks_real_state(panel_get, shop, monkeypatch):
    from shopapp import registry

    monkeypatch.setattr(registry._r, "checklist", {})
    registry.register_onboarding_step("orders", "Receive a first order", "/", order=1,
                                      done=lambda s: Order.objects.filter(shop=s).exists())
    registry.register_onboarding_step("other", "Something else", "/app/privacy/", order=2, done=lambda s: False)
    page = panel_get("/", shop).content.decode()
    assert "0 of 2 done" in page and 'href="/?id_token=' in page

    _order(shop, _customers(shop, 1)[0], 1, "10.00")
    page = panel_get("/", shop).content.decode()
    assert "1 of 2 done" in page and "Receive a first order</span><span class=\"visually-hidden\"> (done)" in page


def test_a_customer_segment_is_compared_with_the_rest(shop, monkeypatch):
    from shopapp import dashboard, registry

    a, b, c = _customers(shop, 3)
    _order(shop, a, 1, "100.00")
    _order(shop, a, 2, "50.00")
    _order(shop, b, 3, "30.00")
    _order(shop, c, 4, "10.00")
    monkeypatch.setattr(registry._r, "customer_segments", {})
    dashboard.register_customer_segment("Referred customers", lambda s: Customer.objects.filter(shop=s, pk=a.pk).values("pk"))
    segment, = retention_figures(shop, Period.last(shop, 30))["retention"].comparisons
    assert (segment.label, segment.against) == ("Referred customers", "Everyone else")
    assert (segment.inside.buyers, segment.inside.repeat_rate, segment.inside.average_order) == (1, 1.0, Decimal("75.00"))
    assert (segment.rest.buyers, segment.rest.repeat_rate, segment.rest.average_order) == (2, 0.0, Decimal("20.00"))


def test_rebuilding_the_counters_matches_what_the_webhooks_keep(shop):
    from shopapp.models import OrderDay
    from shopapp.orders import order_stats_rebuild

    a, b = _customers(shop, 2)
    _order(shop, a, 1, "40.00", refunded="5.00")
    _order(shop, a, 2, "60.00")
    _order(shop, b, 3, "20.00", cancelled=True)
    def counters():
        return (list(Customer.objects.filter(shop=shop).order_by("pk").values_list("orders_count", "total_spent")),
                list(OrderDay.objects.filter(shop=shop).order_by("day").values_list("day", "orders", "revenue", "refunded")))

    kept = counters()
    Customer.objects.filter(shop=shop).update(orders_count=9, total_spent=999)
    OrderDay.objects.filter(shop=shop).update(orders=7)
    order_stats_rebuild(shop=shop)
    assert counters() == kept
    assert kept[0] == [(2, Decimal("95.00")), (0, Decimal("0.00"))]
    assert [row[1:] for row in kept[1]] == [(2, Decimal("100.00"), Decimal("5.00"))]


def test_a_year_is_charted_in_weeks_that_add_up_to_the_days(shop):
    from datetime import date

    from shopapp.dashboard import series_of

    year = Period.last(shop, 365, today=date(2026, 11, 22))
    assert year.per == "week" and Period.last(shop, 90).per == "day"
    by_day = {date(2026, 11, 22): {"n": 2}, date(2026, 11, 21): {"n": 1}, year.days[0]: {"n": 4}}
    points = series_of(by_day, "n", year)
    assert len(points) == 53 and sum(p.value for p in points) == 7
    assert points[0].value == 4 and points[0].label == f"{year.days[0].day} {year.days[0]:%b}"  # "23 Nov", "3 Dec"


def test_list_date_filters_use_the_shops_days_and_drop_bad_dates(shop):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from shopapp.dashboard import opened_between

    shop.timezone = "Asia/Tokyo"
    a, b = _customers(shop, 2)
    late = _order(shop, a, 1, "10.00")
    Order.objects.filter(pk=late.pk).update(placed_at=datetime(2026, 11, 20, 23, 30, tzinfo=ZoneInfo("Asia/Tokyo")))
    filters = {"from": "2026-11-20", "to": "2026-11-20"}
    assert list(opened_between(Order.objects.filter(shop=shop), "placed_at", shop, filters)) == [late]
    filters = {"from": "20/11/2026", "to": ""}
    assert opened_between(Order.objects.filter(shop=shop), "placed_at", shop, filters).count() == 1
    assert filters == {"from": "", "to": ""}


@pytest.fixture
def clean_cache():
    from django.core.cache import cache

    cache.clear()
    yield cache
    cache.clear()  # the next test's shop may have this one's id


def test_a_big_shops_retention_is_worked_out_by_a_job_never_by_the_page(shop, monkeypatch, clean_cache,
                                                                        django_capture_on_commit_callbacks):
    from shopapp import dashboard

    cache = clean_cache
    monkeypatch.setattr(dashboard, "RETENTION_KEPT_FROM", 1)  # a shop this small counts as big here
    a, b = _customers(shop, 2)
    _order(shop, a, 1, "40.00")
    period = Period.last(shop, 30)
    with django_capture_on_commit_callbacks(execute=True):
        section = dashboard.retention_section(shop, period)  # the first visit: a job is asked, the page waits not
        assert dashboard.retention_kept(shop, period) is None  # ... and is asked only once meanwhile
    assert "working out your retention figures" in section["body"] and dict(section["figures"])["Orders"] == "1"
    assert dashboard.retention_kept(shop, period).overall.buyers == 1  # the job's result
    _order(shop, b, 2, "50.00")
    assert dashboard.retention_kept(shop, period).overall.buyers == 1  # kept: not computed on every visit
    key = dashboard._retention_key(shop, period)
    computed_at, kept = cache.get(key)
    cache.set(key, (computed_at - dashboard.RETENTION_FRESH_FOR - timedelta(seconds=1), kept))
    with django_capture_on_commit_callbacks(execute=True):
        assert dashboard.retention_kept(shop, period).overall.buyers == 1  # stale is served, and a job asked for
        assert dashboard.retention_kept(shop, period).overall.buyers == 1  # ... once
    assert dashboard.retention_kept(shop, period).overall.buyers == 2  # the job's fresh figures


def test_a_small_shops_retention_is_always_fresh(shop, clean_cache):
    from shopapp import dashboard

    a, b = _customers(shop, 2)
    _order(shop, a, 1, "40.00")
    period = Period.last(shop, 30)
    assert dashboard.retention_kept(shop, period).overall.buyers == 1
    _order(shop, b, 2, "50.00")
    assert dashboard.retention_kept(shop, period).overall.buyers == 2
