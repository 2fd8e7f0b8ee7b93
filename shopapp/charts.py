"""Small server-rendered charts for the panel: no CDN, readable at a glance and by screen readers.

A chart is a title, a one-line takeaway the caller computes from the data, and the picture: an
SVG stretched to its box for lines, bars and gridlines, with the words (ticks, legend, values)
in HTML so they stay 12px from a phone to a desktop. Each day of a line chart shows its values on
hover or keyboard focus without JavaScript (charts.js only turns its days into one Tab stop with
arrow keys). A visually hidden table holds every figure for people who cannot see the picture.
Numbers and their words are written in the active language (Babel's CLDR): '1.234,50 EUR', '1,5万'.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from decimal import Decimal
from typing import Any

from babel.numbers import format_compact_decimal, format_decimal
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, pgettext

from shopapp.languages import DEFAULT_LANGUAGE, percent_format
from shopapp.translations import active_language, active_locale

PLOT = 1000  # the SVG's own coordinates, stretched to the plot's box (lines keep their width)
DENSE = 14  # past two weeks of points, dots show only on hover, focus or where a point stands alone


@dataclass(frozen=True)
class Point:
    label: str
    value: float | None  # None: nothing to average that day, a gap in the line (never a zero)


@dataclass(frozen=True)
class Series:
    name: str
    points: list[Point]
    missing: str = "—"  # how a day without a value reads (in the table and on hover)


@dataclass(frozen=True)
class Unit:
    """How a chart writes its values: '14 orders', '4.6 ★', '1,250.00 EUR'.

    Counted things in the active language: `Unit.counted(ngettext_lazy("%(number)s order", "%(number)s
    orders", "count"), gettext_lazy("No orders"))`: %(number)s is the number as written, `count` picks
    the plural form. `Unit.count("order")` writes English words, in every language.
    """

    one: str = ""  # the word after 1
    many: str = ""  # the word after any other number
    decimals: int = 0
    sign: bool = False  # a short sign (★, a currency) is written on every tick; a word only on the top one
    words: Any = None  # a lazy plural message with %(number)s, keyed on "count" (Unit.counted)
    nothing: Any = ""  # how a summary says there were none: "No orders"

    @classmethod
    def count(cls, one: str = "", many: str = "") -> "Unit":
        return cls(one, many or (f"{one}s" if one else ""))

    @classmethod
    def counted(cls, words, nothing) -> "Unit":
        return cls(words=words, nothing=nothing)

    @classmethod
    def money(cls, currency: str) -> "Unit":
        return cls(currency, currency, decimals=2, sign=True)

    @property
    def none(self) -> str:
        return str(self.nothing) if self.nothing else f"No {self.many}"

    def of(self, value: float) -> str:
        number = decimal_format(value, self.decimals)
        if self.words is not None:
            return self.words % {"count": round(value), "number": number}
        word = self.one if value == 1 else self.many
        return f"{number} {word}" if word else number

    def tick(self, value: float, *, top: bool) -> str:
        if self.words is not None:
            return self.words % {"count": round(value), "number": _compact(value)} if top else _compact(value)
        return f"{_compact(value)} {self.many}" if self.many and (self.sign or top) else _compact(value)


def decimal_format(value: float | Decimal, places: int) -> str:
    """'1,234.50', '1.234,50': a number with exactly `places` decimals, as the active language writes it."""
    return _decimal_written(f"{value:.{places}f}", places, active_language())  # rounded as Python rounds


@lru_cache(maxsize=4096)
def _decimal_written(rounded: str, places: int, language: str) -> str:
    # A chart writes the same few hundred numbers on every visit (each day's value, its tooltip, its
    # table cell): Babel's formatting was a tenth of the dashboard's time.
    return format_decimal(Decimal(rounded), format="#,##0" + ("." + "0" * places if places else ""),
                          locale=active_locale())


def _e(text) -> str:
    """Text (a label, a value written in words) escaped for the chart's HTML, which is built as one string:
    format_html on each of a year's 365 points was most of a dashboard's time."""
    return escape(str(text), quote=True)


STARS = Unit("★", "★", decimals=1, sign=True)


def line_chart(title: str, *series: Series, takeaway: str, unit: Unit, domain: tuple[float, float] | None = None,
               x_label: str | None = None) -> SafeString:
    """Lines over time, one per series (a legend for two); None values leave gaps. `x_label`: "Day" by default."""
    _two_at_most(series)
    x_label = x_label or gettext("Day")
    n = max((len(s.points) for s in series), default=0)
    labels = [p.label for p in series[0].points] if series else []
    values = [p.value for s in series for p in s.points if p.value is not None]
    ticks = _ticks(max(values, default=0), unit, domain)
    lo, hi = ticks[0], ticks[-1]

    def y(value: float) -> float:
        return (hi - value) / (hi - lo) * 100

    grid = mark_safe("".join(f'<line class="grid" x1="0" x2="{PLOT}" y1="{y(t) * PLOT / 100:.1f}" '
                             f'y2="{y(t) * PLOT / 100:.1f}"></line>' for t in ticks))
    lines = mark_safe("".join(f'<path class="line s{k + 1}" d="{_path(s.points, n, y)}"></path>'
                              for k, s in enumerate(series)))
    columns = mark_safe("".join(_column(i, label, series, n, unit, y) for i, label in enumerate(labels)))
    y_axis = format_html_join("", "<span>{}</span>", ((unit.tick(t, top=t == hi),) for t in reversed(ticks)))
    dates = _date_ticks(n)
    x_axis = format_html_join("", '<span style="left:{}%">{}</span>',
                              ((f"{(i + 0.5) / n * 100:.2f}", labels[i]) for i in dates))
    return format_html(
        '<figure class="chart" aria-labelledby="{id}-t">{caption}{legend}'
        '<div class="chart-plot"><div class="chart-y" aria-hidden="true">{y_axis}</div>'
        '<div class="chart-area"><svg viewBox="0 0 {w} {w}" preserveAspectRatio="none" aria-hidden="true"'
        ' focusable="false">{grid}{lines}</svg>'
        '<div class="chart-points{dense}" role="group" aria-labelledby="{id}-t" style="--n:{n}">{columns}</div></div>'
        '<div class="chart-x{many}" aria-hidden="true">{x_axis}</div></div>{table}</figure>',
        id=_slug(title), caption=_caption(title, takeaway), legend=_legend(series), y_axis=y_axis, w=PLOT,
        grid=grid, lines=lines, dense=" dense" if n > DENSE else "", n=n, columns=columns, x_axis=x_axis,
        many=" many" if len(dates) > 4 else "",
        table=_table(title, x_label, series, unit),
    )


def bar_chart(title: str, *series: Series, takeaway: str, unit: Unit, funnel: bool = False) -> SafeString:
    """Horizontal bars labelled with their values, coloured by series (a legend for two).

    A funnel also gives each step's share of the first one.
    """
    _two_at_most(series)
    points = [(k, p) for k, s in enumerate(series) for p in s.points]
    top = max((p.value or 0 for _, p in points), default=0) or 1
    first = points[0][1].value if points else None

    def value(p: Point) -> str:
        text = unit.of(p.value or 0)
        if funnel and first and p is not points[0][1]:
            return f"{text} · {percent_format(round(p.value / first * 100))}"
        return text

    def width(p: Point) -> str:
        return f"{max((p.value or 0) / top * 100, 0.5 if p.value else 0):.1f}"  # a small value still shows

    rows = format_html_join(
        "",
        '<div class="bar"><span class="bar-label">{}</span><span class="bar-value">{}</span>'
        '<span class="bar-track"><span class="bar-fill s{}" style="width:{}%"></span></span></div>',
        ((p.label, value(p), k + 1, width(p)) for k, p in points),
    )
    return format_html(
        '<figure class="chart" aria-labelledby="{id}-t">{caption}{legend}'
        '<div class="chart-bars" aria-hidden="true">{rows}</div>{table}</figure>',
        id=_slug(title), caption=_caption(title, takeaway), legend=_legend(series, " box"), rows=rows,
        table=_bar_table(title, points, value),
    )


def _two_at_most(series: tuple[Series, ...]) -> None:
    if len(series) > 2:
        raise ValueError("a chart holds two series at most: panel.css gives two colours that keep their contrast")


def _caption(title: str, takeaway: str) -> SafeString:
    return format_html('<figcaption><h3 class="chart-title" id="{}-t">{}</h3><p class="chart-takeaway">{}</p>'
                       "</figcaption>", _slug(title), title, takeaway)


def _legend(series: tuple[Series, ...], shape: str = "") -> SafeString:
    if len(series) < 2:
        return mark_safe("")
    keys = format_html_join("", '<li><span class="key s{}{}" aria-hidden="true"></span>{}</li>',
                            ((k + 1, shape, s.name) for k, s in enumerate(series)))
    return format_html('<ul class="chart-legend">{}</ul>', keys)


def _path(points: list[Point], n: int, y) -> str:
    """The line through the points, lifted at each None: a gap, not a drop to zero."""
    parts, pen_down = [], False
    for i, p in enumerate(points):
        if p.value is None:
            pen_down = False
            continue
        parts.append(f"{'L' if pen_down else 'M'}{(i + 0.5) / n * PLOT:.1f},{y(p.value) * PLOT / 100:.1f}")
        pen_down = True
    return " ".join(parts) or "M0,0"


def _column(i: int, label: str, series: tuple[Series, ...], n: int, unit: Unit, y) -> str:
    """One day: a Tab stop whose value shows on hover or focus (and is its accessible name). HTML, escaped."""
    values = [s.points[i].value if i < len(s.points) else None for s in series]
    read = [unit.of(v) if v is not None else s.missing for s, v in zip(series, values)]
    if len(series) == 1:
        name = pgettext("a chart's day and its value", "%(day)s: %(value)s") % {"day": label, "value": read[0]}
        lines = f"<span>{_e(read[0])}</span>"
    else:
        said = [pgettext("a chart line's name and its value", "%(name)s: %(value)s") % {"name": s.name, "value": r}
                for s, r in zip(series, read)]
        name = pgettext("a chart's day and its lines' values", "%(day)s, %(values)s") % {
            "day": label, "values": "; ".join(said)}
        lines = "".join(f'<span><span class="key s{k + 1}"></span>{_e(line)}</span>' for k, line in enumerate(said))
    dots = "".join(f'<span class="dot s{k + 1}{" lone" if _alone(s.points, i) else ""}" style="top:{y(v):.1f}%"></span>'
                   for k, (s, v) in enumerate(zip(series, values)) if v is not None)
    high = min((y(v) for v in values if v is not None), default=100)
    side = " start" if i < n / 5 else " end" if i >= n - n / 5 else ""
    return (f'<span class="pt{side}" tabindex="0" role="img" aria-label="{_e(name)}" style="--top:{high:.1f}%">{dots}'
            f'<span class="tip"><strong>{_e(label)}</strong>{lines}</span></span>')


def _alone(points: list[Point], i: int) -> bool:
    """A point with no neighbour to draw a line to: only its dot shows it."""
    return all(j < 0 or j >= len(points) or points[j].value is None for j in (i - 1, i + 1))


def _ticks(top: float, unit: Unit, domain: tuple[float, float] | None) -> list[float]:
    """Three to five round values from the bottom of the axis to just above the highest value."""
    lo, hi = domain if domain else (0, top)
    step = _nice((hi - lo) / 4 if hi > lo else 1, whole=unit.decimals == 0)
    if not domain:
        hi = step * max(2, math.ceil(top / step))
    return [lo + k * step for k in range(round((hi - lo) / step) + 1)]


def _nice(raw: float, *, whole: bool) -> float:
    scale = 10 ** math.floor(math.log10(raw))
    steps = (1, 2, 5, 10) if whole else (1, 2, 2.5, 5, 10)
    step = next(m for m in steps if m * scale >= raw * (1 - 1e-9)) * scale
    return max(step, 1) if whole else step


def _date_ticks(n: int) -> list[int]:
    """A few evenly spaced points to name on the time axis, counted back from the latest."""
    step = next((s for s in (1, 2, 7, 14, 28, 56, 91) if n / s <= 7), math.ceil(n / 7))
    return sorted(range(n - 1, -1, -step))


def _compact(value: float) -> str:
    """A tick's number, short: '15k' and '2.5M' in English, '1.5만' in Korean, '15 k' in French."""
    if abs(value) < 1e3:
        return format_decimal(round(value, 2), locale=active_locale())
    if active_language() != DEFAULT_LANGUAGE:
        return format_compact_decimal(value, format_type="short", fraction_digits=1, locale=active_locale())
    size, suffix = (1e6, "M") if abs(value) >= 1e6 else (1e3, "k")  # English keeps Advocate's own '15k', '2.5M'
    return f"{value / size:.1f}".removesuffix(".0") + suffix


def _table(title: str, x_label: str, series: tuple[Series, ...], unit: Unit) -> SafeString:
    head = "".join(f'<th scope="col">{_e(s.name)}</th>' for s in series)
    rows = "".join(
        f'<tr><th scope="row">{_e(p.label)}</th>' + "".join(
            f"<td>{_e(unit.of(s.points[i].value) if i < len(s.points) and s.points[i].value is not None else s.missing)}"
            "</td>" for s in series) + "</tr>"
        for i, p in enumerate(series[0].points if series else [])
    )
    return _hidden_table(title, mark_safe(f'<tr><th scope="col">{_e(x_label)}</th>{head}</tr>{rows}'))


def _bar_table(title: str, points: list[tuple[int, Point]], value) -> SafeString:
    rows = format_html_join("", '<tr><th scope="row">{}</th><td>{}</td></tr>', ((p.label, value(p)) for _, p in points))
    return _hidden_table(title, rows)


def _hidden_table(title: str, rows: SafeString) -> SafeString:
    # The wrapper does the hiding: a table will not shrink to the 1px a hidden box needs.
    return format_html('<div class="visually-hidden"><table><caption>{}</caption>{}</table></div>', title, rows)


def _slug(text: str) -> str:
    return "c-" + "".join(ch if ch.isalnum() else "-" for ch in text.lower())[:40]


@dataclass(frozen=True)
class HeatRow:
    label: str
    lead: str  # the row's own figure before its shares (a cohort's size)
    shares: list[float | None]  # 0 to 1; None: nothing to show there yet


HEAT_STEPS = (2, 5, 10, 20, 35)  # percent: a share at or above the n-th step takes shade n + 1 (panel.css .h0-.h5)


def heat_table(title: str, rows: list[HeatRow], *, takeaway: str, corner: str, lead: str, group: str,
               columns: list[str]) -> SafeString:
    """Shares as a table whose cells shade darker as they grow: every value is written, each shade keeps
    4.5:1 for its text, and on a phone the table scrolls sideways in its own box with its first column held."""
    head = format_html_join("", '<th scope="col">{}</th>', ((c,) for c in columns))
    body = format_html_join("", '<tr><th scope="row">{}</th><td class="lead">{}</td>{}</tr>', (
        (row.label, row.lead, format_html_join("", "{}", ((_heat_cell(s),) for s in row.shares))) for row in rows))
    return format_html(
        '<figure class="chart heat" aria-labelledby="{id}-t">{caption}'
        '<div class="heat-scroll" role="region" aria-labelledby="{id}-t" tabindex="0">'
        '<table><caption class="visually-hidden">{title}</caption><thead>'
        '<tr><th scope="col" rowspan="2" class="corner">{corner}</th><th scope="col" rowspan="2">{lead}</th>'
        '<th scope="colgroup" colspan="{n}" class="group">{group}</th></tr><tr>{head}</tr></thead>'
        "<tbody>{body}</tbody></table></div></figure>",
        id=_slug(title), caption=_caption(title, takeaway), title=title, corner=corner, lead=lead, n=len(columns),
        group=group, head=head, body=body,
    )


def _heat_cell(share: float | None) -> SafeString:
    if share is None:
        return mark_safe('<td class="none"></td>')
    percent = round(share * 100)  # the shade follows the value as written
    return format_html('<td class="h{}">{}</td>', sum(percent >= step for step in HEAT_STEPS), percent_format(percent))
