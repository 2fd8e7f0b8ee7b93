"""The panel dashboard: each app adds a section; shopapp adds retention from the orders.

Every figure is computed with aggregate queries over the chosen range, so the number of
queries per page stays the same however much data a shop has.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from django.core.cache import cache
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _, gettext_lazy, ngettext, ngettext_lazy, pgettext

from shopapp.charts import HeatRow, Point, Series, Unit, bar_chart, decimal_format, heat_table, line_chart
from shopapp.jobs import enqueue
from shopapp.languages import babel_locale, number_format, percent_format
from shopapp.models import Customer, OrderDay, Shop
from shopapp.registry import (  # noqa: F401  (apps register sections and segments in ready())
    dashboard_sections_registered, register_customer_segment, register_dashboard_section,
)
from shopapp.retention import Cohort, Comparison, Figures, Retention, retention_measure
from shopapp.translations import active_language, in_sentence

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
    def per_title(self) -> str:
        """What one point covers, as a chart's time axis is named: "Day" or "Week"."""
        return _("Week") if self.per == "week" else _("Day")

    @property
    def label(self) -> str:
        """"the last 30 days": to go inside a sentence, which is better written whole with the number of days."""
        days = len(self.days)
        return ngettext("the last %(days)s day", "the last %(days)s days", days) % {"days": days}

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
        Point(day_label(bucket[0]), float(sum((by_day.get(d) or {}).get(name) or 0 for d in bucket)))
        for bucket in period.buckets()
    ]


def day_label(day: date) -> str:
    """A chart's day as the active language writes it short: '3 Dec', '12월 3일', '3. Dez.'."""
    return _date_as(day, "MMMd")


def month_label(month: date, *, full: bool = False) -> str:
    """'Dec 2026' ('December 2026' in full), '2026년 12월', 'déc. 2026'."""
    return _date_as(month, "yMMMM" if full else "yMMM")


def _date_as(day: date, skeleton: str) -> str:
    return _date_written(day, skeleton, active_language())


@lru_cache(maxsize=8192)
def _date_written(day: date, skeleton: str, language: str) -> str:
    # A year's chart names 365 days three times on every visit: Babel's formatting, once per day and language.
    return format_skeleton(skeleton, day, locale=babel_locale(language, dates=True))


def daily_series(queryset, field: str, period: Period, *, value=None) -> list[Point]:
    """One point per day of the period from one GROUP BY query (zero where nothing happened)."""
    return series_of(daily_rows(queryset, field, period, v=value or Count("pk")), "v", period)


def count_takeaway(points: list[Point], unit: Unit, period: Period) -> str:
    """A count chart in one line: '42 orders in the last 30 days; busiest day 3 Dec, with 14 orders'."""
    total, days = sum(p.value or 0 for p in points), len(period.days)
    if not total:
        # Translators: %(none)s says there were none of the chart's things, e.g. "No orders".
        return ngettext("%(none)s in the last %(days)s day", "%(none)s in the last %(days)s days", days) % {
            "none": unit.none, "days": days}
    peak = max(points, key=lambda p: p.value or 0)
    # Translators: %(total)s is a number with its things, e.g. "42 orders".
    first = ngettext("%(total)s in the last %(days)s day", "%(total)s in the last %(days)s days", days) % {
        "total": unit.of(total), "days": days}
    busiest = (_("busiest week %(week)s, with %(value)s") % {"week": peak.label, "value": unit.of(peak.value)}
               if period.per == "week" else
               _("busiest day %(day)s, with %(value)s") % {"day": peak.label, "value": unit.of(peak.value)})
    return pgettext("two parts of a chart's summary", "%(first)s; %(second)s") % {"first": first, "second": busiest}


ORDERS = Unit.counted(ngettext_lazy("%(number)s order", "%(number)s orders", "count"), gettext_lazy("No orders"))

RETENTION_DEFINITIONS = [
    (gettext_lazy("Repeat purchase rate"),
     gettext_lazy("Of the customers who ordered in the range, the share who have ordered at least twice, earlier "
                  "orders included.")),
    (gettext_lazy("Customer retention rate"),
     gettext_lazy("(Customers at the end − new customers) ÷ customers at the start, where someone counts as a "
                  "customer on a day if they ordered in the year before it, and new customers placed their first "
                  "order in the range.")),
    (gettext_lazy("Purchase frequency"), gettext_lazy("Orders in the range ÷ the customers who placed them.")),
    (gettext_lazy("Average order value"),
     gettext_lazy("Net revenue of the range's orders (refunds taken off) ÷ the number of those orders.")),
    (gettext_lazy("Average customer lifespan"),
     gettext_lazy("The time from each customer's first order to their latest, counted as at least the range's "
                  "length, averaged over the customers who ordered in the range.")),
    (gettext_lazy("Lifetime value"),
     gettext_lazy("Average order value × purchase frequency × average lifespan in lengths of the range: what a "
                  "customer spends over a lifespan at this range's pace, so it reads best over 365 days.")),
    (gettext_lazy("Cohorts"),
     gettext_lazy("Customers grouped by the month of their first order; each later month shows the share of them "
                  "who ordered in it.")),
]


FEW_TO_COMPARE = 30  # customers who ordered, on the smaller side, before a comparison reads as more than chance
DAYS_PER_MONTH = Decimal("30.44")  # 365.25 / 12


def retention_figures(shop: Shop, period: Period) -> dict:
    """The range's orders and net revenue (every order, guests' too) and its customers' retention figures.

    Three queries whatever the shop's size: the range's day rows, and retention.retention_measure's two.
    """
    # Day rows kept by shopapp.orders on every order change: a year is 365 rows, whatever the volume.
    by_day = {row["day"]: row for row in OrderDay.objects.filter(
        shop=shop, day__gte=period.days[0], day__lte=period.days[-1]).values("day", "orders", "revenue", "refunded")}
    totals = {name: sum((row[name] for row in by_day.values()), 0) for name in ("orders", "revenue", "refunded")}
    return {
        "orders": totals["orders"],
        "revenue": (totals["revenue"] or Decimal("0")) - (totals["refunded"] or Decimal("0")),
        "orders_per_day": series_of(by_day, "orders", period),
        "retention": retention_kept(shop, period),
    }


RETENTION_FRESH_FOR = timedelta(minutes=10)
RETENTION_KEPT_FOR = timedelta(days=1)
RETENTION_KEPT_FROM = 2_000  # customers who ordered: below, the measure is cheap and computed on every visit


def retention_kept(shop: Shop, period: Period) -> Retention | None:
    """The retention measure; for a big shop, as a job last computed it (None while the first is running).

    The cohort grid reads a year of a shop's orders: on a shop with tens of thousands of orders that
    is seconds of SQL or more, which no page request should wait for. A shop with RETENTION_KEPT_FROM
    customers who ordered, or more, is measured by a job whose result is kept in the cache (Redis in
    production) for the range; it is served for RETENTION_FRESH_FOR, then served while the job runs
    again (asked once). A smaller shop is measured on every visit, always fresh.
    """
    # Counted no further than the threshold: a big shop's 100,000 customers are not counted on each visit.
    buyers = Customer.objects.filter(shop=shop, orders_count__gt=0).values("pk")[:RETENTION_KEPT_FROM]
    if buyers.count() < RETENTION_KEPT_FROM:
        return retention_measure(shop=shop, period=period)
    key = _retention_key(shop, period)
    kept = cache.get(key)
    if (kept is None or timezone.now() - kept[0] > RETENTION_FRESH_FOR) and cache.add(f"{key}:asked", 1, timeout=300):
        enqueue(retention_refresh, shop.pk, len(period.days))
    return kept[1] if kept is not None else None


def retention_refresh(shop_id: int, days: int) -> None:
    """Job: compute a big shop's retention measure for a range and keep it."""
    shop = Shop.objects.get(pk=shop_id)
    period = Period.last(shop, days)
    key = _retention_key(shop, period)
    cache.set(key, (timezone.now(), retention_measure(shop=shop, period=period)),
              timeout=RETENTION_KEPT_FOR.total_seconds())
    cache.delete(f"{key}:asked")


def _retention_key(shop: Shop, period: Period) -> str:
    return f"retention:{shop.pk}:{period.days[0]:%Y%m%d}:{period.days[-1]:%Y%m%d}"


def retention_section(shop: Shop, period: Period) -> dict:
    figures = retention_figures(shop, period)
    retention = figures["retention"]
    money = _money(shop)
    series = figures["orders_per_day"]
    if retention is None:  # a big shop's first measure: a job is working it out
        return {
            "figures": [(_("Orders"), number_format(figures["orders"])), (_("Net revenue"), money(figures["revenue"]))],
            "body": format_html('<p class="notice" role="status">{}</p>', _(
                "Advocate is working out your retention figures and cohorts from all your customers' orders; reload "
                "this page in a minute.")),
            "note": _("Orders and revenue of the range; the rest follows once worked out."),
        }
    overall, days = retention.overall, len(period.days)
    body = render_to_string("shopapp/dashboard_retention.html", {
        "formula": _formula(overall, money, days),
        "definitions": RETENTION_DEFINITIONS,
        "orders_chart": line_chart(_("Orders per week") if period.per == "week" else _("Orders per day"),
                                   Series(_("Orders"), series), unit=ORDERS, x_label=period.per_title,
                                   takeaway=count_takeaway(series, ORDERS, period)),
        "cohorts": _cohort_grid(retention.cohorts),
        "comparisons": [_comparison(c, money, period) for c in retention.comparisons] if overall.buyers else [],
    })
    return {
        "figures": [
            (_("Orders"), number_format(figures["orders"])),
            (_("Net revenue"), money(figures["revenue"])),
            (_("Repeat purchase rate"), _percent(overall.repeat_rate)),
            (_("Customer retention rate"), _percent(overall.retention_rate)),
            (_("Purchase frequency"), _orders(overall.frequency)),
            (_("Average order value"), money(overall.average_order)),
            (_("Average customer lifespan"), _lifespan(overall.lifespan_days)),
            (_("Lifetime value"), money(overall.lifetime_value)),
        ],
        "body": body,
        "note": _("Customers' orders only (a guest with neither email nor phone is nobody's): cancelled orders left "
                  "out, refunds taken off revenue, months and days in the shop's time zone (%(timezone)s).") % {
            "timezone": shop.timezone or "UTC"},
    }


def _money(shop: Shop):
    unit = Unit.money(shop.currency)
    return lambda value: "—" if value is None else unit.of(value)


def _percent(value: float | None) -> str:
    return "—" if value is None else percent_format(round(value * 100))


def _orders(value: Decimal | None) -> str:
    # Translators: a purchase frequency, always with two decimals: "1.20 orders".
    return "—" if value is None else _("%(number)s orders") % {"number": decimal_format(value, 2)}


def _lifespan(days: Decimal | None) -> str:
    if days is None:
        return "—"
    if days < 90:
        whole = round(days)
        return ngettext("%(number)s day", "%(number)s days", whole) % {"number": number_format(whole)}
    # Translators: always with one decimal: "6.5 months".
    return _("%(number)s months") % {"number": decimal_format(days / DAYS_PER_MONTH, 1)}


def _formula(figures: Figures, money, days: int) -> dict | None:
    """Lifetime value with its factors as the page shows them (they multiply to it exactly)."""
    if figures.lifetime_value is None:
        return None
    return {"average_order": money(figures.average_order), "frequency": decimal_format(figures.frequency, 2),
            "days": days, "spans": decimal_format(figures.lifespan_spans, 2),
            "lifespan_days": decimal_format(figures.lifespan_days, 1), "value": money(figures.lifetime_value)}


def _cohort_grid(cohorts: list[Cohort]) -> SafeString | None:
    if not any(c.customers for c in cohorts):
        return None
    months = len(cohorts[0].again)
    return heat_table(
        _("Customers ordering again, by month of their first order"),
        [HeatRow(month_label(c.month), number_format(c.customers), c.again) for c in cohorts],
        takeaway=_cohort_takeaway(cohorts), corner=_("First order"), lead=_("New customers"),
        group=_("Months after the first order"), columns=[number_format(k) for k in range(1, months + 1)],
    )


def _cohort_takeaway(cohorts: list[Cohort]) -> str:
    measured = [c for c in cohorts if c.customers and c.again and c.again[0] is not None]
    if not measured:
        return _("Too early to tell: no month has passed since these first orders")
    newcomers = sum(c.customers for c in measured)
    share = _percent(sum(c.again[0] * c.customers for c in measured) / newcomers)
    if len(measured) == 1:
        return _("%(share)s of new customers ordered again the month after their first order") % {"share": share}
    best = max(measured, key=lambda c: (c.again[0], c.month))
    return _("%(share)s of new customers ordered again the month after their first order; %(month)s's newcomers did "
             "best, at %(best)s") % {"share": share, "month": month_label(best.month, full=True),
                                     "best": _percent(best.again[0])}


def _comparison(comparison: Comparison, money, period: Period) -> dict:
    inside, rest = comparison.inside, comparison.rest
    rows = [
        (_("Customers who ordered"), number_format(inside.buyers), number_format(rest.buyers)),
        (_("Repeat purchase rate"), _percent(inside.repeat_rate), _percent(rest.repeat_rate)),
        (_("Customer retention rate"), _percent(inside.retention_rate), _percent(rest.retention_rate)),
        (_("Purchase frequency"), _orders(inside.frequency), _orders(rest.frequency)),
        (_("Average order value"), money(inside.average_order), money(rest.average_order)),
        (_("Average customer lifespan"), _lifespan(inside.lifespan_days), _lifespan(rest.lifespan_days)),
        (_("Lifetime value"), money(inside.lifetime_value), money(rest.lifetime_value)),
    ]
    days = len(period.days)
    title = _("%(group)s against %(others)s") % {"group": comparison.label, "others": in_sentence(comparison.against)}
    return {"title": title, "label": comparison.label, "against": comparison.against,
            "range": ngettext("Last %(days)s day", "Last %(days)s days", days) % {"days": days},
            "caption": ngettext("%(title)s, last %(days)s day", "%(title)s, last %(days)s days", days) % {
                "title": title, "days": days},
            "rows": rows, "takeaway": _comparison_takeaway(comparison, money, period)}


def _comparison_takeaway(comparison: Comparison, money, period: Period) -> str:
    inside, rest = comparison.inside, comparison.rest
    days = len(period.days)
    if not inside.buyers or not rest.buyers:
        nobody = comparison.label if not inside.buyers else comparison.against
        # Translators: %(group)s is a group of customers, e.g. "referred customers".
        return ngettext("No %(group)s ordered in the last %(days)s day: nothing to compare yet",
                        "No %(group)s ordered in the last %(days)s days: nothing to compare yet", days) % {
            "group": in_sentence(nobody), "days": days}
    gap = inside.repeat_rate - rest.repeat_rate
    values = {"group": comparison.label, "others": in_sentence(comparison.against),
              "rate": _percent(inside.repeat_rate), "other_rate": _percent(rest.repeat_rate),
              "value": money(inside.lifetime_value), "other_value": money(rest.lifetime_value)}
    if gap >= 0.05:
        line = _("%(group)s order again more often than %(others)s (%(rate)s against %(other_rate)s) and are worth "
                 "%(value)s against %(other_value)s over a lifespan") % values
    elif gap <= -0.05:
        line = _("%(group)s order again less often than %(others)s (%(rate)s against %(other_rate)s) and are worth "
                 "%(value)s against %(other_value)s over a lifespan") % values
    else:
        line = _("%(group)s order again about as often as %(others)s (%(rate)s against %(other_rate)s) and are "
                 "worth %(value)s against %(other_value)s over a lifespan") % values
    fewest = min(inside.buyers, rest.buyers)
    if fewest >= FEW_TO_COMPARE:
        return line
    # Translators: %(count)s customers who ordered, on the side of the comparison with fewer.
    few = ngettext("with %(count)s on one side, too few to be sure yet",
                   "with %(count)s on one side, too few to be sure yet", fewest) % {"count": fewest}
    return pgettext("two parts of a chart's summary", "%(first)s; %(second)s") % {"first": line, "second": few}


__all__ = ["bar_chart", "line_chart", "Point", "register_dashboard_section", "register_customer_segment", "daily_series",
           "daily_rows", "series_of", "count_takeaway", "opened_between", "list_link",
           "Period"]
