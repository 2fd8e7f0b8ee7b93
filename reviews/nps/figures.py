"""NPS on the dashboard: the score over time (% promoters − % detractors), with its counts.

One aggregate query for the range whatever the number of answers. A day (or week) without answers
has no score: a gap in the line, never a zero.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils.translation import gettext as _, ngettext

from reviews.nps.models import DETRACTOR_UP_TO, PROMOTER_FROM, NpsSurvey
from shopapp.charts import Point, Series, Unit, line_chart
from shopapp.dashboard import Period, daily_rows, series_of
from shopapp.languages import number_format
from shopapp.models import Shop

SCORE = Unit()  # a plain number from -100 to 100


@dataclass(frozen=True)
class Tally:
    promoters: int
    passives: int
    detractors: int

    @property
    def answers(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def score(self) -> int | None:
        """% promoters − % detractors, rounded; None without answers."""
        return _nps(self.promoters, self.detractors, self.answers)


def _nps(promoters: float, detractors: float, answers: float) -> int | None:
    return round((promoters - detractors) * 100 / answers) if answers else None


def nps_figures(shop: Shop, period: Period) -> dict:
    by_day = daily_rows(NpsSurvey.objects.for_shop(shop).answered(), "answered_at", period, n=Count("pk"),
                        promoters=Count("pk", filter=Q(score__gte=PROMOTER_FROM)),
                        detractors=Count("pk", filter=Q(score__lte=DETRACTOR_UP_TO)))
    promoters = sum(row["promoters"] for row in by_day.values())
    detractors = sum(row["detractors"] for row in by_day.values())
    answers = sum(row["n"] for row in by_day.values())
    points = [
        Point(n.label, _nps(p.value, d.value, n.value))
        for n, p, d in zip(series_of(by_day, "n", period), series_of(by_day, "promoters", period),
                           series_of(by_day, "detractors", period))
    ]
    return {"tally": Tally(promoters, answers - promoters - detractors, detractors), "per_day": points}


def dashboard_section(shop: Shop, period: Period) -> dict:
    f = nps_figures(shop, period)
    tally: Tally = f["tally"]
    weekly = period.per == "week"
    return {
        "figures": [
            ("NPS", _signed(tally.score) if tally.score is not None else "—"),
            (_("Answers"), number_format(tally.answers)),
            (_("Promoters (9–10)"), number_format(tally.promoters)),
            (_("Passives (7–8)"), number_format(tally.passives)),
            (_("Detractors (0–6)"), number_format(tally.detractors)),
        ],
        "charts": [
            line_chart(_("NPS per week") if weekly else _("NPS per day"), Series("NPS", f["per_day"], _("no answers")),
                       unit=SCORE, domain=(-100, 100), x_label=period.per_title, takeaway=_takeaway(f, period)),
        ],
        "link": (_("See the answers"), "/app/reviews/nps/"),
        "note": _("NPS is the share of promoters (9–10) minus the share of detractors (0–6) among the answers "
                  "given in the range, from −100 to 100; a day without answers has no score."),
    }


def _signed(value: int) -> str:
    return f"+{value}" if value > 0 else str(value).replace("-", "−")


def _takeaway(f: dict, period: Period) -> str:
    tally: Tally = f["tally"]
    days = len(period.days)
    if not tally.answers:
        return ngettext("No answers in the last %(days)s day", "No answers in the last %(days)s days", days) % {
            "days": number_format(days)}
    values = {"score": _signed(tally.score), "count": number_format(tally.answers), "days": number_format(days),
              "promoters": number_format(tally.promoters), "passives": number_format(tally.passives),
              "detractors": number_format(tally.detractors)}
    # Translators: %(days)s is 7, 30, 90 or 365.
    line = ngettext("NPS %(score)s from %(count)s answer in the last %(days)s days (%(promoters)s promoters, "
                    "%(passives)s passives, %(detractors)s detractors)",
                    "NPS %(score)s from %(count)s answers in the last %(days)s days (%(promoters)s promoters, "
                    "%(passives)s passives, %(detractors)s detractors)", tally.answers) % values
    scored = [p for p in f["per_day"] if p.value is not None]
    if len(scored) > 1:
        lowest = min(scored, key=lambda p: p.value)
        # Translators: what follows the NPS takeaway: the day (or week) with the lowest score, like "3 Dec".
        line += _("; lowest %(on)s, %(score)s") % {"on": lowest.label, "score": _signed(int(lowest.value))}
    return line
