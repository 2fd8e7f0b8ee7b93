"""Small server-rendered SVG charts for the panel: no JavaScript, no CDN, readable by screen readers.

Each chart returns markup with a <title>/<desc> and a visually hidden data table, so the
figures are there for people who cannot see the picture.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import format_html, format_html_join

WIDTH, HEIGHT, PAD = 600, 180, 28


@dataclass(frozen=True)
class Point:
    label: str
    value: float


def _scale(points: list[Point]) -> float:
    top = max((p.value for p in points), default=0)
    return float(top) if top > 0 else 1.0


def line_chart(title: str, points: list[Point], *, unit: str = "") -> str:
    """A line with dots, for a series over time."""
    top = _scale(points)
    n = max(len(points) - 1, 1)
    coords = [
        (PAD + i * (WIDTH - 2 * PAD) / n, HEIGHT - PAD - float(p.value) / top * (HEIGHT - 2 * PAD))
        for i, p in enumerate(points)
    ]
    path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(coords))
    dots = format_html_join("", '<circle cx="{}" cy="{}" r="3"></circle>', ((f"{x:.1f}", f"{y:.1f}") for x, y in coords))
    first, last = (points[0].label, points[-1].label) if points else ("", "")
    return format_html(
        '<figure class="chart"><svg viewBox="0 0 {w} {h}" role="img" aria-labelledby="{id}-t">'
        '<title id="{id}-t">{title}</title>'
        '<line class="axis" x1="{p}" y1="{base}" x2="{r}" y2="{base}"></line>'
        '<path class="series" d="{path}"></path><g class="dots">{dots}</g>'
        '<text x="{p}" y="{h}" class="tick">{first}</text><text x="{r}" y="{h}" class="tick end">{last}</text>'
        '<text x="{p}" y="14" class="tick">{top}{unit}</text>'
        "</svg>{table}</figure>",
        w=WIDTH, h=HEIGHT, p=PAD, r=WIDTH - PAD, base=HEIGHT - PAD, id=_slug(title), title=title,
        path=path or "M0,0", dots=dots, first=first, last=last, top=_fmt(top), unit=unit,
        table=_table(title, points, unit),
    )


def bar_chart(title: str, points: list[Point], *, unit: str = "") -> str:
    """Horizontal bars, for a funnel or a comparison."""
    top = _scale(points)
    row = 30
    height = row * len(points) + 8
    bars = format_html_join(
        "",
        '<text x="0" y="{}" class="label">{}</text>'
        '<rect x="170" y="{}" width="{}" height="18" rx="3"></rect>'
        '<text x="{}" y="{}" class="value">{}{}</text>',
        (
            (i * row + 17, p.label, i * row + 4, f"{max(float(p.value) / top * (WIDTH - 260), 1):.1f}",
             f"{175 + float(p.value) / top * (WIDTH - 260):.1f}", i * row + 17, _fmt(p.value), unit)
            for i, p in enumerate(points)
        ),
    )
    return format_html(
        '<figure class="chart"><svg viewBox="0 0 {w} {h}" role="img" aria-labelledby="{id}-t">'
        '<title id="{id}-t">{title}</title><g class="bars">{bars}</g></svg>{table}</figure>',
        w=WIDTH, h=height, id=_slug(title), title=title, bars=bars, table=_table(title, points, unit),
    )


def _table(title: str, points: list[Point], unit: str) -> str:
    rows = format_html_join("", "<tr><th scope=\"row\">{}</th><td>{}{}</td></tr>", ((p.label, _fmt(p.value), unit) for p in points))
    # The wrapper does the hiding: a table will not shrink to the 1px a hidden box needs.
    return format_html('<div class="visually-hidden"><table><caption>{}</caption>{}</table></div>', title, rows)


def _fmt(value) -> str:
    if isinstance(value, Decimal) or (isinstance(value, float) and not value.is_integer()):
        return f"{float(value):,.2f}"
    return f"{int(value):,}"


def _slug(text: str) -> str:
    return "c-" + "".join(ch if ch.isalnum() else "-" for ch in text.lower())[:40]
