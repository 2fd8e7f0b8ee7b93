"""The inbox's figures for the dashboard: aggregate queries only, so the query count stays flat."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db.models import Avg, Count, DurationField, Exists, ExpressionWrapper, F, OuterRef, Q, Sum

from reviews.cases.models import Case, Remedy
from shopapp.charts import Series, Unit, line_chart
from shopapp.dashboard import Period, count_takeaway, daily_series, list_link
from shopapp.models import Order, Shop


def case_figures(shop: Shop, period: Period) -> dict:
    """Cases opened in the period: first response, resolution, recovery; remedies given in it."""
    later_order = Order.objects.filter(customer=OuterRef("customer"), placed_at__gt=OuterRef("created_at"),
                                       cancelled_at__isnull=True)
    cases = (Case.objects.for_shop(shop).filter(created_at__gte=period.start, created_at__lt=period.end)
             .annotate(reordered=Exists(later_order)))
    totals = cases.aggregate(
        opened=Count("pk"),
        resolved=Count("pk", filter=Q(resolved_at__isnull=False)),
        answered=Count("pk", filter=Q(first_response_at__isnull=False)),
        response=Avg(ExpressionWrapper(F("first_response_at") - F("created_at"), output_field=DurationField()),
                     filter=Q(first_response_at__isnull=False)),
        recovered=Count("pk", filter=Q(reordered=True) | Q(review__rating__gt=F("rating_at_open"))
                        | Q(nps_survey__score__gt=F("rating_at_open"))),
    )
    cost = Remedy.objects.filter(case__shop=shop, status=Remedy.Status.DONE, created_at__gte=period.start,
                                 created_at__lt=period.end).aggregate(total=Sum("amount"))["total"]
    response = totals["response"]
    if isinstance(response, (int, float)):  # some databases answer in microseconds
        response = timedelta(microseconds=response)
    opened = totals["opened"] or 0
    return {
        "opened": opened,
        "resolution_rate": (totals["resolved"] or 0) / opened if opened else 0.0,
        "first_response": response,
        "recovered": totals["recovered"] or 0,
        "remedy_cost": (cost or Decimal("0")).quantize(Decimal("0.01")),
    }


def resolved_customers(shop: Shop):
    """Customers whose every case ended resolved: the recovered, for the retention comparison."""
    cases = Case.objects.for_shop(shop).filter(customer__isnull=False)
    unresolved = cases.exclude(status=Case.Status.RESOLVED).values("customer_id")
    return cases.filter(status=Case.Status.RESOLVED).exclude(customer_id__in=unresolved).values("customer_id")


def customers_with_a_case(shop: Shop):
    """Every customer who was ever unhappy enough for a case, resolved or not."""
    return Case.objects.for_shop(shop).filter(customer__isnull=False).values("customer_id")


def _hours(value: timedelta | None) -> str:
    if value is None:
        return "—"
    hours = value.total_seconds() / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def cases_section(shop: Shop, period: Period) -> dict:
    figures = case_figures(shop, period)
    series = daily_series(Case.objects.for_shop(shop), "created_at", period)
    return {
        "figures": [
            ("Cases opened", f"{figures['opened']:,}"),
            ("Time to first response", _hours(figures["first_response"])),
            ("Resolution rate", f"{figures['resolution_rate']:.0%}"),
            ("Recovered customers", f"{figures['recovered']:,}"),
            ("Remedy cost", f"{figures['remedy_cost']:,.2f} {shop.currency}"),
        ],
        "charts": [line_chart(f"Cases opened per {period.per}", Series("Cases opened", series), unit=Unit.count("case"),
                              x_label=period.per.title(), takeaway=count_takeaway(series, Unit.count("case"), period))],
        "link": ("See these cases", list_link("/app/cases/", period)),
        "note": "Recovered: the customer ordered again after the case opened, or revised their rating (or their "
                "NPS score) upwards.",
    }
