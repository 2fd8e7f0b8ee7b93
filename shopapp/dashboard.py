"""The panel dashboard: each app adds a section; shopapp adds retention from the orders.

Every figure is computed with aggregate queries over the chosen range, so the number of
queries per page stays the same however much data a shop has.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Callable
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate

from shopapp.charts import Point, bar_chart, line_chart
from shopapp.models import Customer, Order, Shop

RANGES = {"7": 7, "30": 30, "90": 90, "365": 365}
DEFAULT_RANGE = "30"


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    days: list[date]

    @classmethod
    def last(cls, shop: Shop, days: int, today: date | None = None) -> "Period":
        tz = ZoneInfo(shop.timezone or "UTC")
        today = today or datetime.now(tz).date()
        first = today - timedelta(days=days - 1)
        return cls(
            start=datetime.combine(first, time.min, tzinfo=tz),
            end=datetime.combine(today + timedelta(days=1), time.min, tzinfo=tz),
            days=[first + timedelta(days=i) for i in range(days)],
        )


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    order: int
    build: Callable[[Shop, Period], dict]  # -> {"figures": [(label, value)], "charts": [svg], "note": str}


_sections: dict[str, Section] = {}


def register_dashboard_section(key: str, title: str, *, order: int, build: Callable[[Shop, Period], dict]) -> None:
    _sections[key] = Section(key, title, order, build)


def dashboard_sections(shop: Shop, period: Period) -> list[dict]:
    return [
        {"key": s.key, "title": s.title, **s.build(shop, period)}
        for s in sorted(_sections.values(), key=lambda s: s.order)
    ]


def daily_series(queryset, field: str, period: Period, *, value=None) -> list[Point]:
    """One point per day of the period from one GROUP BY query (zero where nothing happened)."""
    rows = (
        queryset.filter(**{f"{field}__gte": period.start, f"{field}__lt": period.end})
        .annotate(day=TruncDate(field, tzinfo=period.start.tzinfo))
        .values("day")
        .annotate(v=value or Count("pk"))
    )
    by_day = {r["day"]: r["v"] or 0 for r in rows}
    return [Point(d.strftime("%d %b"), float(by_day.get(d, 0))) for d in period.days]


def retention_figures(shop: Shop, period: Period) -> dict:
    """Repeat purchase rate and customer value, from the orders Shopify sent."""
    orders = Order.objects.filter(shop=shop, cancelled_at__isnull=True)
    in_range = orders.filter(placed_at__gte=period.start, placed_at__lt=period.end)
    totals = in_range.aggregate(n=Count("pk"), revenue=Sum("total"), refunded=Sum("refunded"))
    per_customer = (
        Customer.objects.filter(shop=shop)
        .annotate(n=Count("orders", filter=Q(orders__cancelled_at__isnull=True)))
        .filter(n__gt=0)
        .aggregate(customers=Count("pk"), repeat=Count("pk", filter=Q(n__gt=1)))
    )
    lifetime = orders.filter(customer__isnull=False).aggregate(total=Sum("total"), refunded=Sum("refunded"))
    customers = per_customer["customers"] or 0
    repeat_rate = (per_customer["repeat"] or 0) / customers if customers else 0.0
    spent = (lifetime["total"] or Decimal("0")) - (lifetime["refunded"] or Decimal("0"))
    clv = spent / customers if customers else Decimal("0")
    return {
        "orders": totals["n"] or 0,
        "revenue": (totals["revenue"] or Decimal("0")) - (totals["refunded"] or Decimal("0")),
        "customers": customers,
        "repeat_rate": repeat_rate,
        "lifetime_value": clv.quantize(Decimal("0.01")),
    }


def _retention_section(shop: Shop, period: Period) -> dict:
    figures = retention_figures(shop, period)
    series = daily_series(Order.objects.filter(shop=shop, cancelled_at__isnull=True), "placed_at", period)
    return {
        "figures": [
            ("Orders", f"{figures['orders']:,}"),
            ("Net revenue", f"{figures['revenue']:,.2f} {shop.currency}"),
            ("Repeat purchase rate", f"{figures['repeat_rate']:.0%}"),
            ("Customer lifetime value", f"{figures['lifetime_value']:,.2f} {shop.currency}"),
        ],
        "charts": [line_chart("Orders per day", series)],
        "note": "All customers with at least one order; refunds subtracted from revenue.",
    }


register_dashboard_section("retention", "Retention", order=90, build=_retention_section)
__all__ = ["bar_chart", "line_chart", "Point", "register_dashboard_section", "daily_series", "Period"]
