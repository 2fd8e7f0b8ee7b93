"""The panel dashboard: each app adds a section; shopapp adds retention from the orders.

Every figure is computed with aggregate queries over the chosen range, so the number of
queries per page stays the same however much data a shop has.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate

from shopapp.charts import Point, Series, Unit, bar_chart, line_chart
from shopapp.models import Customer, OrderDay, Shop
from shopapp.registry import (  # noqa: F401  (apps register sections and segments in ready())
    customer_segments, dashboard_sections_registered, register_customer_segment, register_dashboard_section,
)

RANGES = {"7": 7, "30": 30, "90": 90, "365": 365}
DEFAULT_RANGE = "30"
WEEKLY_OVER_DAYS = 92  # longer ranges chart weekly points: 52 readable points, not 365


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

    @property
    def per(self) -> str:
        """What one point of a chart covers: a day, or a week for ranges longer than a quarter."""
        return "week" if len(self.days) > WEEKLY_OVER_DAYS else "day"

    @property
    def label(self) -> str:
        return f"the last {len(self.days)} days"

    def buckets(self) -> list[list[date]]:
        step = 7 if self.per == "week" else 1
        return [self.days[i:i + step] for i in range(0, len(self.days), step)]


def opened_between(queryset, field: str, shop: Shop, filters: dict):
    """A panel list's `from`/`to` filter (the shop's days, both included), as the dashboard links to it.

    Dates that do not parse are dropped from `filters` (the form shows them empty) and filter nothing.
    """
    tz = ZoneInfo(shop.timezone or "UTC")
    for key, lookup, shift in (("from", "gte", 0), ("to", "lt", 1)):
        try:
            day = date.fromisoformat(filters.get(key, ""))
            bound = datetime.combine(day + timedelta(days=shift), time.min, tzinfo=tz)
        except (ValueError, OverflowError):  # the panel's lists check dates first (shopapp.params)
            filters[key] = ""
            continue
        queryset = queryset.filter(**{f"{field}__{lookup}": bound})
    return queryset


def list_link(path: str, period: Period) -> str:
    """The panel list behind a dashboard figure, filtered to the period's days."""
    return f"{path}?from={period.days[0].isoformat()}&to={period.days[-1].isoformat()}"


def dashboard_sections(shop: Shop, period: Period) -> list[dict]:
    return [
        {"key": s.key, "title": s.title, **s.build(shop, period)}
        for s in dashboard_sections_registered()
    ]


def daily_rows(queryset, field: str, period: Period, **aggregates) -> dict[date, dict]:
    """The period's rows grouped by day in the shop's timezone, one GROUP BY query: {day: {name: value}}."""
    rows = (
        queryset.filter(**{f"{field}__gte": period.start, f"{field}__lt": period.end})
        .annotate(day=TruncDate(field, tzinfo=period.start.tzinfo))
        .values("day")
        .annotate(**aggregates)
    )
    return {r.pop("day"): r for r in rows}


def series_of(by_day: dict[date, dict], name: str, period: Period) -> list[Point]:
    """One point per day (or week, see Period.per) of the period: the sum of `name`, zero where nothing happened."""
    return [
        Point(f"{bucket[0].day} {bucket[0]:%b}", float(sum((by_day.get(d) or {}).get(name) or 0 for d in bucket)))
        for bucket in period.buckets()
    ]


def daily_series(queryset, field: str, period: Period, *, value=None) -> list[Point]:
    """One point per day of the period from one GROUP BY query (zero where nothing happened)."""
    return series_of(daily_rows(queryset, field, period, v=value or Count("pk")), "v", period)


def count_takeaway(points: list[Point], unit: Unit, period: Period) -> str:
    """A count chart in one line: '42 orders in the last 30 days; busiest day 3 Dec, with 14 orders'."""
    total = sum(p.value or 0 for p in points)
    if not total:
        return f"No {unit.many} in {period.label}"
    peak = max(points, key=lambda p: p.value or 0)
    return f"{unit.of(total)} in {period.label}; busiest {period.per} {peak.label}, with {unit.of(peak.value)}"


def _customer_figures(prefix: str, condition: Q) -> dict:
    return {
        f"{prefix}customers": Count("pk", filter=condition),
        f"{prefix}repeat": Count("pk", filter=condition & Q(orders_count__gt=1)),
        f"{prefix}spent": Sum("total_spent", filter=condition),
    }


def _rates(customers: int, repeat: int, spent) -> dict:
    spent = spent or Decimal("0")
    return {
        "customers": customers or 0,
        "repeat_rate": (repeat or 0) / customers if customers else 0.0,
        "lifetime_value": (spent / customers if customers else Decimal("0")).quantize(Decimal("0.01")),
    }


def retention_figures(shop: Shop, period: Period) -> dict:
    """Repeat purchase rate and customer value from the orders Shopify sent, per customer segment.

    Two queries whatever the shop's size: the period's orders (by the placed_at index) and one
    pass over the shop's customers, whose order counts and spend are kept up to date on every
    order change.
    """
    # Day rows kept by shopapp.orders on every order change: a year is 365 rows, whatever the volume.
    by_day = {row["day"]: row for row in OrderDay.objects.filter(
        shop=shop, day__gte=period.days[0], day__lte=period.days[-1]).values("day", "orders", "revenue", "refunded")}
    totals = {name: sum((row[name] for row in by_day.values()), 0) for name in ("orders", "revenue", "refunded")}
    buyers = Q(orders_count__gt=0)
    aggregates = _customer_figures("all_", buyers)
    segments_registered = customer_segments()
    for i, ids in enumerate(segments_registered.values()):
        aggregates.update(_customer_figures(f"s{i}_", buyers & Q(pk__in=ids(shop))))
    row = Customer.objects.filter(shop=shop).aggregate(**aggregates)
    overall = _rates(row["all_customers"], row["all_repeat"], row["all_spent"])
    segments = []
    for i, label in enumerate(segments_registered):
        inside = _rates(row[f"s{i}_customers"], row[f"s{i}_repeat"], row[f"s{i}_spent"])
        rest = _rates(row["all_customers"] - row[f"s{i}_customers"], row["all_repeat"] - row[f"s{i}_repeat"],
                      (row["all_spent"] or Decimal("0")) - (row[f"s{i}_spent"] or Decimal("0")))
        segments.append({"label": label, "inside": inside, "rest": rest})
    return {
        "orders": totals["orders"],
        "revenue": (totals["revenue"] or Decimal("0")) - (totals["refunded"] or Decimal("0")),
        **overall,
        "segments": segments,
        "orders_per_day": series_of(by_day, "orders", period),
    }


def retention_section(shop: Shop, period: Period) -> dict:
    figures = retention_figures(shop, period)
    series = figures["orders_per_day"]
    money = Unit.money(shop.currency).of
    rows = [
        ("Orders", f"{figures['orders']:,}"),
        ("Net revenue", money(figures["revenue"])),
        ("Repeat purchase rate", f"{figures['repeat_rate']:.0%}"),
        ("Customer lifetime value", money(figures["lifetime_value"])),
    ]
    orders = Unit.count("order")
    charts = [line_chart(f"Orders per {period.per}", Series("Orders", series), unit=orders, x_label=period.per.title(),
                         takeaway=count_takeaway(series, orders, period))]
    for segment in figures["segments"]:
        inside, rest = segment["inside"], segment["rest"]
        rows.append((f"{segment['label']}: repeat rate / lifetime value",
                     f"{inside['repeat_rate']:.0%} / {money(inside['lifetime_value'])}"))
        rows.append(("Everyone else: repeat rate / lifetime value",
                     f"{rest['repeat_rate']:.0%} / {money(rest['lifetime_value'])}"))
        charts.append(bar_chart(
            f"Customer lifetime value, {segment['label'].lower()} against the rest",
            Series("Lifetime value", [Point(segment["label"], float(inside["lifetime_value"])),
                                      Point("Everyone else", float(rest["lifetime_value"]))]),
            unit=Unit.money(shop.currency),
            takeaway=_worth_takeaway(segment["label"], inside["lifetime_value"], rest["lifetime_value"]),
        ))
    return {
        "figures": rows,
        "charts": charts,
        "note": "Customers with at least one order that was not cancelled; refunds subtracted from revenue and value.",
    }


def _worth_takeaway(label: str, inside: Decimal, rest: Decimal) -> str:
    if not inside or not rest:
        return f"Too few customers on each side to compare {label.lower()} yet"
    ratio = inside / rest
    if ratio >= Decimal("1.05"):
        return f"{label} are worth {ratio:.1f}× everyone else"
    if ratio <= Decimal("0.95"):
        return f"{label} are worth {1 - ratio:.0%} less than everyone else"
    return f"{label} are worth about as much as everyone else"


__all__ = ["bar_chart", "line_chart", "Point", "register_dashboard_section", "register_customer_segment", "daily_series",
           "daily_rows", "series_of", "count_takeaway", "opened_between", "list_link",
           "Period"]
