"""Reviews on the panel's dashboard: reviews received and their average rating, and the request funnel.

Two aggregate queries whatever the number of reviews. "Reviews received" counts every review
created in the range, whatever became of it, so it ties out with the reviews list filtered to
the same dates.
"""
from __future__ import annotations

from babel.numbers import format_decimal
from django.db.models import Count, Q, Sum
from django.utils.translation import get_language, gettext as _, gettext_lazy, ngettext, ngettext_lazy

from reviews.models import Review
from reviews.requests import request_funnel
from shopapp.charts import STARS, Point, Series, Unit, bar_chart, line_chart
from shopapp.dashboard import Period, daily_rows, list_link, series_of
from shopapp.languages import DEFAULT_LANGUAGE, babel_locale, language_of, number_format, percent_format
from shopapp.models import Shop

LOW = 2  # "1 or 2 stars": the low reviews charted beside all of them
REVIEWS = Unit.counted(ngettext_lazy("%(number)s review", "%(number)s reviews", "count"), gettext_lazy("No reviews"))


def review_figures(shop: Shop, period: Period) -> dict:
    by_day = daily_rows(Review.objects.for_shop(shop), "created_at", period, n=Count("pk"), stars=Sum("rating"),
                        low=Count("pk", filter=Q(rating__lte=LOW)))
    received = sum(row["n"] for row in by_day.values())
    stars = sum(row["stars"] or 0 for row in by_day.values())
    funnel = request_funnel(shop, period.start, period.end)
    return {
        "received": received,
        "average": stars / received if received else None,
        "low": sum(row["low"] for row in by_day.values()),
        "per_day": series_of(by_day, "n", period),
        "low_per_day": series_of(by_day, "low", period),
        # A day without reviews has no average: a gap in the line, not a zero-star day.
        "average_per_day": [
            Point(n.label, stars.value / n.value if n.value else None)
            for n, stars in zip(series_of(by_day, "n", period), series_of(by_day, "stars", period))
        ],
        "sent": funnel["sent"], "clicked": funnel["clicked"], "reviewed": funnel["reviewed"],
        "review_rate": funnel["reviewed"] / funnel["sent"] if funnel["sent"] else 0.0,
    }


def decimal_format(value: float, places: int) -> str:
    """'4.50', '4,50': a number with exactly `places` decimals, as the active language writes it."""
    locale = babel_locale(language_of(get_language()) or DEFAULT_LANGUAGE)
    return format_decimal(value, format="#,##0." + "0" * places, locale=locale)


def dashboard_section(shop: Shop, period: Period) -> dict:
    f = review_figures(shop, period)
    weekly = period.per == "week"
    return {
        "figures": [
            (_("Reviews received"), number_format(f["received"])),
            (_("Average rating"), f"{decimal_format(f['average'], 2)} ★" if f["average"] is not None else "—"),
            (_("Requests sent"), number_format(f["sent"])),
            (_("Review rate"), percent_format(round(f["review_rate"] * 100))),
        ],
        "charts": [
            line_chart(_("Reviews per week") if weekly else _("Reviews per day"),
                       Series(_("All reviews"), f["per_day"]),
                       Series(_("1 or %(low)s ★") % {"low": LOW}, f["low_per_day"]), unit=REVIEWS,
                       x_label=_("Week") if weekly else _("Day"), takeaway=_received_takeaway(f, period)),
            line_chart(_("Average rating per week") if weekly else _("Average rating per day"),
                       Series(_("Average rating"), f["average_per_day"], _("no reviews")),
                       unit=STARS, domain=(1, 5), x_label=_("Week") if weekly else _("Day"),
                       takeaway=_average_takeaway(f, period)),
            bar_chart(_("Review request funnel"), Series(_("Requests"), [
                Point(_("Sent"), f["sent"]), Point(_("Clicked"), f["clicked"]), Point(_("Reviewed"), f["reviewed"]),
            ]), unit=Unit.count(), funnel=True, takeaway=_funnel_takeaway(f, period)),
        ],
        "link": (_("See these reviews"), list_link("/app/reviews/", period)),
        "note": _("Every review received in the range, whatever its status; the funnel counts requests sent in the "
                  "range."),
    }


# Each takeaway names the range as Period.label does ("the last 30 days"), inside its own sentence: the
# dashboard's ranges are 7, 30, 90 or 365 days.

def _received_takeaway(f: dict, period: Period) -> str:
    days = len(period.days)
    if not f["received"]:
        return ngettext("No reviews in the last %(days)s day", "No reviews in the last %(days)s days", days) % {
            "days": number_format(days)}
    # Translators: %(days)s is 7, 30, 90 or 365; %(low)s of the reviews have 1 or %(stars)s stars.
    return ngettext("%(count)s review in the last %(days)s days, %(low)s of them at 1 or %(stars)s ★",
                    "%(count)s reviews in the last %(days)s days, %(low)s of them at 1 or %(stars)s ★",
                    f["received"]) % {"count": number_format(f["received"]), "days": number_format(days),
                                      "low": number_format(f["low"]), "stars": LOW}


def _average_takeaway(f: dict, period: Period) -> str:
    rated = [p for p in f["average_per_day"] if p.value is not None]
    if not rated:
        days = len(period.days)
        return ngettext("No reviews to average in the last %(days)s day",
                        "No reviews to average in the last %(days)s days", days) % {"days": number_format(days)}
    lowest = min(rated, key=lambda p: p.value)
    values = {"average": decimal_format(f["average"], 1), "count": number_format(len(rated)), "lowest_on": lowest.label,
              "lowest": decimal_format(lowest.value, 1)}
    if period.per == "week":
        # Translators: %(lowest_on)s is the first day of the week with the lowest average, like "3 Dec".
        return ngettext("%(average)s ★ on average over %(count)s week with reviews; lowest %(lowest_on)s, %(lowest)s ★",
                        "%(average)s ★ on average over %(count)s weeks with reviews; lowest %(lowest_on)s, %(lowest)s ★",
                        len(rated)) % values
    # Translators: %(lowest_on)s is the day with the lowest average, like "3 Dec".
    return ngettext("%(average)s ★ on average over %(count)s day with reviews; lowest %(lowest_on)s, %(lowest)s ★",
                    "%(average)s ★ on average over %(count)s days with reviews; lowest %(lowest_on)s, %(lowest)s ★",
                    len(rated)) % values


def _funnel_takeaway(f: dict, period: Period) -> str:
    if not f["sent"]:
        days = len(period.days)
        return ngettext("No review requests sent in the last %(days)s day",
                        "No review requests sent in the last %(days)s days", days) % {"days": number_format(days)}
    return _("%(rate)s of requests sent became a review (%(reviewed)s of %(sent)s)") % {
        "rate": percent_format(round(f["review_rate"] * 100)), "reviewed": number_format(f["reviewed"]),
        "sent": number_format(f["sent"])}
