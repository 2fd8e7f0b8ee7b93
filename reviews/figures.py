"""Reviews on the panel's dashboard: reviews received and their average rating, and the request funnel.

Two aggregate queries whatever the number of reviews. "Reviews received" counts every review
created in the range, whatever became of it, so it ties out with the reviews list filtered to
the same dates.
"""
from __future__ import annotations

from django.db.models import Count, Q, Sum

from reviews.models import Review
from reviews.requests import request_funnel
from shopapp.charts import STARS, Point, Series, Unit, bar_chart, line_chart
from shopapp.dashboard import Period, daily_rows, list_link, series_of
from shopapp.models import Shop

LOW = 2  # "1 or 2 stars": the low reviews charted beside all of them


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


def dashboard_section(shop: Shop, period: Period) -> dict:
    f = review_figures(shop, period)
    return {
        "figures": [
            ("Reviews received", f"{f['received']:,}"),
            ("Average rating", f"{f['average']:.2f} ★" if f["average"] is not None else "—"),
            ("Requests sent", f"{f['sent']:,}"),
            ("Review rate", f"{f['review_rate']:.0%}"),
        ],
        "charts": [
            line_chart(f"Reviews per {period.per}", Series("All reviews", f["per_day"]),
                       Series(f"1 or {LOW} ★", f["low_per_day"]), unit=Unit.count("review"),
                       x_label=period.per.title(), takeaway=_received_takeaway(f, period)),
            line_chart(f"Average rating per {period.per}", Series("Average rating", f["average_per_day"], "no reviews"),
                       unit=STARS, domain=(1, 5), x_label=period.per.title(), takeaway=_average_takeaway(f, period)),
            bar_chart("Review request funnel", Series("Requests", [
                Point("Sent", f["sent"]), Point("Clicked", f["clicked"]), Point("Reviewed", f["reviewed"]),
            ]), unit=Unit.count(), funnel=True, takeaway=_funnel_takeaway(f, period)),
        ],
        "link": ("See these reviews", list_link("/app/reviews/", period)),
        "note": "Every review received in the range, whatever its status; the funnel counts requests sent in the range.",
    }


def _received_takeaway(f: dict, period: Period) -> str:
    if not f["received"]:
        return f"No reviews in {period.label}"
    return f"{Unit.count('review').of(f['received'])} in {period.label}, {f['low']:,} of them at 1 or {LOW} ★"


def _average_takeaway(f: dict, period: Period) -> str:
    rated = [p for p in f["average_per_day"] if p.value is not None]
    if not rated:
        return f"No reviews to average in {period.label}"
    lowest = min(rated, key=lambda p: p.value)
    days = Unit.count(period.per).of(len(rated))
    return (f"{STARS.of(f['average'])} on average over {days} with reviews; "
            f"lowest {lowest.label}, {STARS.of(lowest.value)}")


def _funnel_takeaway(f: dict, period: Period) -> str:
    if not f["sent"]:
        return f"No review requests sent in {period.label}"
    return f"{f['review_rate']:.0%} of requests sent became a review ({f['reviewed']:,} of {f['sent']:,})"
