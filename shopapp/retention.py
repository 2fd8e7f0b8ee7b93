"""Retention: who comes back, how often, for how much and for how long, from the shop's orders.

Two aggregate statements whatever the shop's size. The figures of every group of customers at
once (one row per combination of the registered segments): the customers who ordered since a
year before the range, with their kept counters, their orders in the range (the index (shop,
placed_at)) and, for those who had ordered before it, their earlier orders (the customer index).
The cohort grid: the last twelve months' orders by customer and month, one row per (month of
first order, month ordered in); it reads a year of orders, so it is the one whose time grows
with the shop (a kept row per customer and month would make it a read of an index).

Cancelled orders are left out, refunds are taken off revenue, and an order without a customer
(a guest with neither email nor phone) is in no customer figure. The range always ends today
(dashboard.Period), so a customer's counters (orders_count, last_order_at) are their state at its end.
"""
from __future__ import annotations

from dataclasses import astuple, dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import connection
from django.db.models import Count, DateField, F, Min, QuerySet, Sum
from django.db.models.functions import TruncMonth

from shopapp.models import Customer, Order, Shop
from shopapp.registry import CustomerSegment, customer_segments

if TYPE_CHECKING:
    from shopapp.dashboard import Period

ACTIVE = timedelta(days=365)  # a customer counts as one on a day if they ordered in the year before it
COHORT_MONTHS = 12
CENTS = Decimal("0.01")  # money, and the other figures the formula multiplies, to two places

# Days from a customer's first order to their latest, at least the range's length: the only
# arithmetic on times here, and the databases spell it differently.
_LIFESPAN_DAYS = {
    "postgresql": "GREATEST(EXTRACT(EPOCH FROM {latest} - {first}) / 86400, {floor})",
    "sqlite": "MAX(julianday({latest}) - julianday({first}), {floor})",
}


@dataclass(frozen=True)
class Tally:
    """Counts and sums over some customers, as the statement returns them per group."""

    buyers: int = 0  # customers who ordered in the range
    repeat: int = 0  # ...of whom have ordered at least twice, counting earlier orders
    orders: int = 0  # their orders in the range
    revenue: Decimal = Decimal("0")  # those orders' totals less their refunds
    at_start: int = 0  # customers who ordered in the year before the range
    at_end: int = 0  # customers who ordered in the year up to its last day
    new: int = 0  # customers whose first order is in the range
    lifespan_days: Decimal = Decimal("0")  # the buyers' lifespans added up (each at least the range)

    def __add__(self, other: "Tally") -> "Tally":
        return Tally(*(a + b for a, b in zip(astuple(self), astuple(other))))


@dataclass(frozen=True)
class Figures:
    """One group's retention figures over a range of `days` days; None where nothing divides."""

    tally: Tally
    days: int

    @property
    def buyers(self) -> int:
        return self.tally.buyers

    @property
    def repeat_rate(self) -> float | None:
        return self.tally.repeat / self.tally.buyers if self.tally.buyers else None

    @property
    def retention_rate(self) -> float | None:
        t = self.tally
        return (t.at_end - t.new) / t.at_start if t.at_start else None

    @property
    def frequency(self) -> Decimal | None:
        return (Decimal(self.tally.orders) / self.tally.buyers).quantize(CENTS) if self.tally.buyers else None

    @property
    def average_order(self) -> Decimal | None:
        return (self.tally.revenue / self.tally.orders).quantize(CENTS) if self.tally.orders else None

    @property
    def lifespan_days(self) -> Decimal | None:
        return self.tally.lifespan_days / self.tally.buyers if self.tally.buyers else None

    @property
    def lifespan_spans(self) -> Decimal | None:
        """The average lifespan counted in lengths of the range, the unit purchase frequency is in."""
        days = self.lifespan_days
        return (days / self.days).quantize(CENTS) if days is not None else None

    @property
    def lifetime_value(self) -> Decimal | None:
        """Average order value × purchase frequency × lifespan, from the rounded figures the page shows."""
        if self.average_order is None:
            return None
        return (self.average_order * self.frequency * self.lifespan_spans).quantize(CENTS)


@dataclass(frozen=True)
class Comparison:
    label: str
    against: str
    inside: Figures
    rest: Figures


@dataclass(frozen=True)
class Cohort:
    month: date  # the first day of the month of these customers' first order
    customers: int
    again: list[float | None]  # the share ordering in each later month (1, 2, ...); None: not there yet


@dataclass(frozen=True)
class Retention:
    overall: Figures
    comparisons: list[Comparison]
    cohorts: list[Cohort]


def retention_measure(*, shop: Shop, period: "Period", customers: QuerySet | None = None) -> Retention:
    """The range's figures for all customers and each registered comparison, and the cohort grid.

    `customers`, a queryset of customer primary keys, restricts everything to those customers.
    """
    segments = customer_segments()
    rows = _tallies(shop, period, segments, customers)
    overall = Figures(sum((tally for _, tally in rows), Tally()), len(period.days))

    def group(i: int, side: int) -> Figures:
        return Figures(sum((tally for flags, tally in rows if flags[i] == side), Tally()), len(period.days))

    comparisons = [Comparison(s.label, s.against, group(i, 1), group(i, 0)) for i, s in enumerate(segments)]
    return Retention(overall, comparisons, _cohorts(shop, period, customers))


def _month(value: date) -> int:
    return value.year * 12 + value.month - 1


def _month_start(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def _sql(queryset) -> tuple[str, list]:
    sql, params = queryset.order_by().query.sql_with_params()
    return sql, list(params)


def _tallies(shop: Shop, period: "Period", segments: list[CustomerSegment], customers) -> list[tuple[tuple, Tally]]:
    """One statement over the customers who ordered since a year before the range: their counters,
    their orders in the range (r) and, for those who had ordered before it, what came before (h).
    One row per combination of segment flags."""
    ops, q = connection.ops, connection.ops.quote_name
    in_range = (Order.objects.filter(shop=shop, customer__isnull=False, cancelled_at__isnull=True,
                                     placed_at__gte=period.start, placed_at__lt=period.end)
                .values("customer_id").annotate(n=Count("pk"), net=Sum(F("total") - F("refunded")),
                                                 first=Min("placed_at")))
    in_range_sql, params = _sql(in_range)
    year_before, start, year_to_end = (ops.adapt_datetimefield_value(t)
                                       for t in (period.start - ACTIVE, period.start, period.end - ACTIVE))
    group, group_params = _group_number(shop, segments)
    params += [year_before, start, *group_params]
    lifespan = _LIFESPAN_DAYS[connection.vendor].format(latest="c.last_order_at", first="COALESCE(h.first, r.first)",
                                                        floor="%s")
    params += [year_before, year_to_end, len(period.days), shop.pk, year_before]
    restrict = ""
    if customers is not None:
        restrict, restrict_params = _sql(customers)
        restrict = f" AND c.id IN ({restrict})"
        params += restrict_params
    customer_table = q(Customer._meta.db_table)
    statement = f"""
        WITH r AS ({in_range_sql}),
        h AS (
          SELECT o.customer_id, MIN(o.placed_at) AS first,
                 MAX(CASE WHEN o.placed_at >= %s THEN 1 ELSE 0 END) AS year_before
          FROM r JOIN {customer_table} rc ON rc.id = r.customer_id AND rc.orders_count > r.n
          JOIN {q(Order._meta.db_table)} o ON o.customer_id = r.customer_id
          WHERE o.cancelled_at IS NULL AND o.placed_at < %s
          GROUP BY o.customer_id)
        SELECT {group} AS g,
          COUNT(r.n),
          SUM(CASE WHEN r.n IS NOT NULL AND c.orders_count >= 2 THEN 1 ELSE 0 END),
          SUM(COALESCE(r.n, 0)),
          SUM(COALESCE(r.net, 0)),
          SUM(CASE WHEN r.n IS NULL THEN (CASE WHEN c.last_order_at >= %s THEN 1 ELSE 0 END)
                   ELSE COALESCE(h.year_before, 0) END),
          SUM(CASE WHEN c.last_order_at >= %s THEN 1 ELSE 0 END),
          SUM(CASE WHEN r.n IS NOT NULL AND h.customer_id IS NULL THEN 1 ELSE 0 END),
          SUM(CASE WHEN r.n IS NOT NULL THEN {lifespan} ELSE 0 END)
        FROM {customer_table} c
        LEFT JOIN r ON r.customer_id = c.id
        LEFT JOIN h ON h.customer_id = c.id
        WHERE c.shop_id = %s AND c.last_order_at >= %s{restrict}
        GROUP BY g
    """
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        result = cursor.fetchall()
    return [(tuple(row[0] // 3 ** i % 3 for i in range(len(segments))),  # the group number's digits
             Tally(*(int(v or 0) for v in row[1:4]), _decimal(row[4]).quantize(CENTS), *(int(v or 0) for v in row[5:8]),
                   _decimal(row[8])))
            for row in result]


def _group_number(shop: Shop, segments: list[CustomerSegment]) -> tuple[str, list]:
    """Which side of each comparison a customer (c) is on, as the base-3 digits of one number: 1 in
    the segment, 0 in the group it is compared with, 2 in neither. One expression, so PostgreSQL
    expects few groups and hashes them rather than sorting every customer."""
    digits, params = [], []
    for i, segment in enumerate(segments):
        inside, inside_params = _sql(segment.customer_ids(shop))
        digit, params = f"CASE WHEN c.id IN ({inside}) THEN {3 ** i}", params + inside_params
        if segment.excluded is not None:
            excluded, excluded_params = _sql(segment.excluded(shop))
            digit, params = digit + f" WHEN c.id IN ({excluded}) THEN {2 * 3 ** i}", params + excluded_params
        digits.append(digit + " ELSE 0 END")
    return " + ".join(digits) or "0", params


def _decimal(value) -> Decimal:
    """A sum as a Decimal (SQLite adds decimals up as floats: read them through their shortest text)."""
    return Decimal(str(value)) if value is not None else Decimal("0")


def _cohorts(shop: Shop, period: "Period", customers) -> list[Cohort]:
    """Customers by the month of their first order (the last twelve, in the shop's timezone) and the
    share of each month's newcomers who ordered in each later month."""
    tz = period.start.tzinfo
    latest = _month(period.days[-1])
    first = latest - COHORT_MONTHS + 1
    since = datetime.combine(_month_start(first), time.min, tzinfo=tz)
    orders = Order.objects.filter(shop=shop, customer__isnull=False, cancelled_at__isnull=True,
                                  placed_at__gte=since, placed_at__lt=period.end)
    if customers is not None:
        orders = orders.filter(customer_id__in=customers)
    months = (orders.annotate(month=TruncMonth("placed_at", tzinfo=tz, output_field=DateField()),
                              orders_count=F("customer__orders_count"))
              .values("customer_id", "orders_count", "month").annotate(n=Count("pk")))
    months_sql, params = _sql(months)
    # A customer whose counters hold more orders than these months first ordered before them: no cohort.
    # Window functions, not a join of the months with their own first month: one sort whatever the
    # planner believes (right after a bulk import it believed one row, and a nested loop took minutes).
    statement = f"""
        SELECT first_month, month, COUNT(*)
        FROM (SELECT month, orders_count,
                     MIN(month) OVER (PARTITION BY customer_id) AS first_month,
                     SUM(n) OVER (PARTITION BY customer_id) AS orders_seen
              FROM ({months_sql}) m) w
        WHERE orders_seen >= orders_count
        GROUP BY first_month, month
    """
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        counts = {(_month(_date(cohort)), _month(_date(month))): count for cohort, month, count in cursor.fetchall()}
    grid = []
    for cohort in range(first, latest + 1):
        size = counts.get((cohort, cohort), 0)
        again = [counts.get((cohort, cohort + k), 0) / size if size and cohort + k <= latest else None
                 for k in range(1, COHORT_MONTHS)]
        grid.append(Cohort(_month_start(cohort), size, again))
    return grid


def _date(value) -> date:
    """A month as the database returns it: a date (PostgreSQL) or its ISO text (SQLite)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
