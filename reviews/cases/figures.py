"""The inbox's figures for the dashboard: aggregate queries only, so the query count stays flat."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db.models import Avg, Count, DurationField, Exists, ExpressionWrapper, F, OuterRef, Q, Sum
from django.utils.formats import number_format as decimal_format
from django.utils.translation import gettext as _, gettext_lazy, ngettext, ngettext_lazy

from reviews.cases.models import Case, Remedy
from shopapp.charts import Series, Unit, line_chart
from shopapp.dashboard import Period, daily_series, list_link
from shopapp.languages import number_format, percent_format
from shopapp.models import Order, Shop

CASES = Unit.counted(ngettext_lazy("%(number)s case", "%(number)s cases", "count"), gettext_lazy("No cases"))

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
    if hours < 48:
        return _("%(hours)s h") % {"hours": decimal_format(hours, 1)}
    return _("%(days)s days") % {"days": decimal_format(hours / 24, 1)}  # two days or more: always plural


def cases_section(shop: Shop, period: Period) -> dict:
    figures = case_figures(shop, period)
    series = daily_series(Case.objects.for_shop(shop), "created_at", period)
    weekly = period.per == "week"
    return {
        "figures": [
            (_("Cases opened"), number_format(figures["opened"])),
            (_("Time to first response"), _hours(figures["first_response"])),
            (_("Resolution rate"), percent_format(round(figures["resolution_rate"] * 100))),
            (_("Recovered customers"), number_format(figures["recovered"])),
            (_("Remedy cost"), f"{decimal_format(figures['remedy_cost'], 2, force_grouping=True)} {shop.currency}"),
        ],
        "charts": [line_chart(_("Cases opened per week") if weekly else _("Cases opened per day"),
                              Series(_("Cases opened"), series), unit=CASES,
                              x_label=_("Week") if weekly else _("Day"), takeaway=_opened_takeaway(series, period))],
        "link": (_("See these cases"), list_link("/app/cases/", period)),
        "note": _("Recovered: the customer ordered again after the case opened, or revised their rating (or their "
                  "NPS score) upwards."),
    }


def _opened_takeaway(series: list, period: Period) -> str:
    """'4 cases in the last 30 days; busiest day 3 Dec, with 2 cases', one sentence with its range."""
    total, days = round(sum(p.value or 0 for p in series)), len(period.days)
    if not total:
        return ngettext("No cases in the last %(days)s day", "No cases in the last %(days)s days", days) % {
            "days": number_format(days)}
    peak = max(series, key=lambda p: p.value or 0)
    values = {"total": number_format(total), "days": number_format(days), "label": peak.label,
              "peak": ngettext("%(count)s case", "%(count)s cases", round(peak.value)) % {
                  "count": number_format(round(peak.value))}}
    if period.per == "week":
        # Translators: %(days)s is 7, 30, 90 or 365; %(label)s is the week's first day, like "3 Dec".
        return ngettext("%(total)s case in the last %(days)s days; busiest week %(label)s, with %(peak)s",
                        "%(total)s cases in the last %(days)s days; busiest week %(label)s, with %(peak)s",
                        total) % values
    # Translators: %(days)s is 7, 30, 90 or 365; %(label)s is a day, like "3 Dec".
    return ngettext("%(total)s case in the last %(days)s days; busiest day %(label)s, with %(peak)s",
                    "%(total)s cases in the last %(days)s days; busiest day %(label)s, with %(peak)s", total) % values
