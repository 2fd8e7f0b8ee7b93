from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from shopapp.charts import STARS, Point, Series, Unit, bar_chart, line_chart
from shopapp.dashboard import Period, count_takeaway

ORDERS = Unit.count("order")
PANEL_CSS = Path(__file__).resolve().parents[2] / "shopapp" / "static" / "shopapp" / "panel.css"


def _days(*values) -> list[Point]:
    return [Point(f"{i + 1} Dec", v) for i, v in enumerate(values)]


def _y_ticks(html: str) -> list[str]:
    return re.findall(r"<span>([^<]*)</span>", re.search(r'class="chart-y"[^>]*>(.*?)</div>', html).group(1))


def _x_ticks(html: str) -> list[str]:
    return re.findall(r'<span style="left:[\d.]+%">([^<]*)</span>', html)


def test_the_y_axis_has_three_to_five_round_ticks_labelled_with_the_unit():
    orders = line_chart("Orders per day", Series("Orders", _days(3, 14, 9)), takeaway="", unit=ORDERS)
    assert _y_ticks(orders) == ["15 orders", "10", "5", "0"]  # a word only on the top tick
    money = line_chart("Revenue", Series("Revenue", _days(120.5, 300, 80)), takeaway="", unit=Unit.money("EUR"))
    assert _y_ticks(money) == ["300 EUR", "200 EUR", "100 EUR", "0 EUR"]  # a currency on every tick
    big = line_chart("Revenue", Series("Revenue", _days(12_400)), takeaway="", unit=Unit.money("EUR"))
    assert _y_ticks(big) == ["15k EUR", "10k EUR", "5k EUR", "0 EUR"]
    stars = line_chart("Average", Series("Average", _days(4.2, 4.8)), takeaway="", unit=STARS, domain=(1, 5))
    assert _y_ticks(stars) == ["5 ★", "4 ★", "3 ★", "2 ★", "1 ★"]
    one = line_chart("Cases", Series("Cases", _days(0, 1, 0)), takeaway="", unit=Unit.count("case"))
    assert _y_ticks(one) == ["2 cases", "1", "0"]  # whole numbers for counts, never 0.25 of a case


@pytest.mark.parametrize("days, names", [(7, 7), (30, 5), (90, 7), (53, 4)])
def test_the_time_axis_names_a_few_days_ending_with_the_latest(days, names):
    points = [Point(f"day {i}", i) for i in range(days)]
    ticks = _x_ticks(line_chart("Orders per day", Series("Orders", points), takeaway="", unit=ORDERS))
    assert len(ticks) == names and ticks[-1] == f"day {days - 1}"


def test_days_without_an_average_are_gaps_in_the_line_not_zeros():
    html = line_chart("Average rating per day", Series("Average", _days(4.0, None, None, 5.0, 3.0), "no reviews"),
                      takeaway="", unit=STARS, domain=(1, 5))
    path = re.search(r'<path class="line s1" d="([^"]+)"', html).group(1)
    assert path.count("M") == 2 and path.count("L") == 1  # 4.0 alone, then 5.0 to 3.0
    assert "1000.0" not in path  # nothing drawn at the bottom of the axis
    assert html.count('class="dot s1 lone"') == 1  # the lone day still shows, as a dot
    assert '<th scope="row">2 Dec</th><td>no reviews</td>' in html
    assert 'aria-label="3 Dec: no reviews"' in html
    assert '<th scope="row">4 Dec</th><td>5.0 ★</td>' in html


def test_counts_stay_zeros():
    html = line_chart("Orders per day", Series("Orders", _days(2, 0, 3)), takeaway="", unit=ORDERS)
    path = re.search(r'<path class="line s1" d="([^"]+)"', html).group(1)
    assert path.count("M") == 1 and path.count("L") == 2
    assert '<th scope="row">2 Dec</th><td>0 orders</td>' in html and 'aria-label="1 Dec: 2 orders"' in html


def test_each_day_shows_its_values_on_hover_or_focus():
    html = line_chart("Reviews per day", Series("All reviews", _days(5, 1)), Series("1 or 2 ★", _days(1, 0)),
                      takeaway="", unit=Unit.count("review"))
    assert html.count('tabindex="0"') == 2
    assert 'aria-label="1 Dec, All reviews: 5 reviews; 1 or 2 ★: 1 review"' in html
    assert ('<span class="tip"><strong>2 Dec</strong><span><span class="key s1"></span>All reviews: 1 review</span>'
            in html)


def test_a_legend_names_the_series_when_two_share_a_chart():
    one = line_chart("Orders per day", Series("Orders", _days(1, 2)), takeaway="", unit=ORDERS)
    two = line_chart("Revenue and credit", Series("Referred revenue", _days(80, 0)),
                     Series("Credit earned", _days(10, 0)), takeaway="", unit=Unit.money("USD"))
    assert "chart-legend" not in one
    legend = re.search(r'<ul class="chart-legend">(.*?)</ul>', two).group(1)
    assert re.findall(r"</span>([^<]+)</li>", legend) == ["Referred revenue", "Credit earned"]
    assert '<th scope="col">Referred revenue</th><th scope="col">Credit earned</th>' in two
    bars = bar_chart("Revenue and cost", Series("Revenue", [Point("Referred revenue", 190)]),
                     Series("Credit", [Point("Credit paid", 10)]), takeaway="", unit=Unit.money("USD"))
    assert "chart-legend" in bars and 'class="bar-fill s2"' in bars


def test_a_chart_has_a_title_and_its_takeaway():
    html = line_chart("Orders per day", Series("Orders", _days(1)), takeaway="1 order; busiest day 1 Dec", unit=ORDERS)
    assert '<h3 class="chart-title" id="c-orders-per-day-t">Orders per day</h3>' in html
    assert '<p class="chart-takeaway">1 order; busiest day 1 Dec</p>' in html
    assert '<figure class="chart" aria-labelledby="c-orders-per-day-t">' in html


def test_the_count_takeaway_names_the_total_and_the_busiest_day():
    period = Period.last(_Shop(), 30, today=date(2026, 12, 4))
    points = [Point(f"{d.day} {d:%b}", 0.0) for d in period.days]
    assert count_takeaway(points, ORDERS, period) == "No orders in the last 30 days"
    points[10], points[20] = Point(points[10].label, 14.0), Point(points[20].label, 3.0)
    assert count_takeaway(points, ORDERS, period) == "17 orders in the last 30 days; busiest day 15 Nov, with 14 orders"
    year = Period.last(_Shop(), 365, today=date(2026, 12, 4))
    assert count_takeaway([Point("2 Jan", 1.0)], Unit.count("case"), year) == (
        "1 case in the last 365 days; busiest week 2 Jan, with 1 case")


def test_bars_carry_their_values_with_units_and_a_funnel_its_shares():
    html = bar_chart("Review request funnel", Series("Requests", [Point("Sent", 50), Point("Clicked", 20),
                                                                  Point("Reviewed", 0)]),
                     takeaway="", unit=Unit.count(), funnel=True)
    assert re.findall(r'<span class="bar-value">([^<]+)</span>', html) == ["50", "20 · 40%", "0 · 0%"]
    assert re.findall(r'style="width:([\d.]+)%"', html) == ["100.0", "40.0", "0.0"]
    money = bar_chart("Value", Series("Value", [Point("Referred customers", 150.0)]), takeaway="",
                      unit=Unit.money("EUR"))
    assert '<span class="bar-value">150.00 EUR</span>' in money and "<td>150.00 EUR</td>" in money


def test_labels_and_names_are_escaped():
    evil = '<img src=x onerror="alert(1)">'
    html = line_chart(evil, Series(evil, [Point(evil, 1), Point("2 Dec", None)]), Series("b", [Point(evil, 2)]),
                      takeaway=evil, unit=Unit.count(evil))
    html += bar_chart(evil, Series(evil, [Point(evil, 3)]), takeaway=evil, unit=Unit.money(evil))
    assert "<img" not in html and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html


def test_empty_charts_render():
    for html in (line_chart("Nothing", takeaway="No orders", unit=ORDERS),
                 line_chart("Nothing", Series("Orders", []), takeaway="No orders", unit=ORDERS),
                 line_chart("Zeros", Series("Orders", _days(0, 0)), takeaway="No orders", unit=ORDERS),
                 line_chart("Gaps", Series("Average", _days(None, None)), takeaway="-", unit=STARS, domain=(1, 5)),
                 bar_chart("Nothing", Series("Funnel", []), takeaway="No requests", unit=Unit.count(), funnel=True),
                 bar_chart("Zeros", Series("Funnel", [Point("Sent", 0), Point("Clicked", 0)]), takeaway="-",
                           unit=Unit.count(), funnel=True)):
        assert html.startswith('<figure class="chart"') and html.endswith("</figure>")


# WCAG 2.x: text 4.5:1 against its background, lines and shapes that carry meaning 3:1.
def _luminance(colour: str) -> float:
    channels = [int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_is_computed_as_wcag_defines_it():
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0 and contrast("#777777", "#777777") == 1.0
    assert round(contrast("#767676", "#ffffff"), 2) == 4.54  # the classic lightest grey for text on white


def _declarations(selector: str) -> dict[str, str]:
    css = PANEL_CSS.read_text()
    block = re.search(re.escape(selector) + r"\s*\{([^}]*)\}", css).group(1)
    return dict(re.findall(r"(--?[\w-]+|[\w-]+)\s*:\s*([^;]+?)\s*(?:;|$)", block))


def test_chart_colours_keep_their_contrast_on_the_card():
    card = _declarations(":root")["--surface"]
    chart = _declarations(".chart")
    assert card == "#fff" or card == "#ffffff"
    card = "#ffffff"
    for series in ("--chart-1", "--chart-2"):
        assert contrast(chart[series], card) >= 3, series
    assert contrast(chart["--chart-text"], card) >= 4.5
    tip = chart["--chart-tip"]
    assert contrast("#ffffff", tip) >= 4.5  # the value shown on hover or focus
    for key in (".chart .tip .key.s1", ".chart .tip .key.s2"):
        assert contrast(_declarations(key)["border-color"], tip) >= 3, key


class _Shop:
    timezone = "UTC"


def test_a_third_series_is_refused_rather_than_drawn_without_a_colour():
    with pytest.raises(ValueError):
        line_chart("Three", *(Series(name, _days(1)) for name in "abc"), takeaway="", unit=ORDERS)
