"""Reviews on the panel's dashboard: reviews received and their average rating, and the request funnel.

Two aggregate queries whatever the number of reviews. "Reviews received" counts every review
created in the range, whatever became of it, so it ties out with the reviews list filtered to
the same dates.
"""
from __future__ import annotations

from django.db.models import Count, Sum

from reviews.models import Review
from reviews.requests import request_funnel
from shopapp.dashboard import Period, bar_chart, daily_rows, line_chart, list_link, series_of
from shopapp.charts import Point
from shopapp.models import Shop


def review_figures(shop: Shop, period: Period) -> dict:
    by_day = daily_rows(Review.objects.for_shop(shop), "created_at", period, n=Count("pk"), stars=Sum("rating"))
    received = sum(row["n"] for row in by_day.values())
    stars = sum(row["stars"] or 0 for row in by_day.values())
    funnel = request_funnel(shop, period.start, period.end)
    return {
        "received": received,
        "average": stars / received if received else None,
        "per_day": series_of(by_day, "n", period),
        "average_per_day": [
            Point(n.label, stars.value / n.value if n.value else 0.0)
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
            line_chart(f"Reviews per {period.per}", f["per_day"]),
            line_chart(f"Average rating per {period.per}", f["average_per_day"]),
            bar_chart("Review request funnel", [
                Point("Sent", f["sent"]), Point("Clicked", f["clicked"]), Point("Reviewed", f["reviewed"]),
            ]),
        ],
        "link": ("See these reviews", list_link("/app/reviews/", period)),
        "note": "Every review received in the range, whatever its status; the funnel counts requests sent in the range.",
    }
