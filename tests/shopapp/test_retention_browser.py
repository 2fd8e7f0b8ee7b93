"""The dashboard's Retention section as a merchant sees it after a year of business, on a phone and a desktop."""
from __future__ import annotations

import pytest

from tests.browser import accessibility_violations, artifacts_dir, screenshot
from tests.conftest import session_token
from tests.shopapp.retention_shop import busy_year

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GRID = "Customers ordering again, by month of their first order"


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_retention_reads_at_a_glance_with_its_cohort_grid(live_server, open_page, width, db):
    from tests.conftest import _make_shop

    shop = _make_shop("owner-shop.myshopify.com", currency="EUR")
    busy_year(shop)
    page = open_page(f"{live_server.url}/?range=30&id_token={session_token(shop.domain)}", width)
    section = page.locator("section", has=page.get_by_role("heading", name="Retention", exact=True))
    for label in ("Repeat purchase rate", "Customer retention rate", "Purchase frequency", "Average order value",
                  "Average customer lifespan", "Lifetime value"):
        value = section.locator(".facts div", has=page.get_by_text(label, exact=True)).locator("dd")
        assert value.inner_text() not in ("", "—"), label
    assert section.locator(".formula").inner_text().startswith("Lifetime value =")

    # Each figure's one-sentence definition is a click away.
    definitions = section.locator(".definitions")
    assert not definitions.is_visible()
    section.get_by_text("How these figures are measured").click()
    assert definitions.is_visible() and definitions.locator("dt").count() == 7
    section.get_by_text("How these figures are measured").click()

    grid = page.get_by_role("figure", name=GRID)
    assert grid.is_visible()
    assert grid.locator("tbody tr").count() == 12
    assert grid.locator(".chart-takeaway").inner_text().endswith("%")
    box = grid.get_by_role("region", name=GRID)
    if width == "phone":
        # The grid scrolls in its own box, the page does not; the months stay in view as it does.
        assert box.evaluate("b => b.scrollWidth > b.clientWidth")
        first = grid.locator("tbody th").first
        box.evaluate("b => { b.scrollLeft = b.scrollWidth }")
        assert box.evaluate("b => b.scrollLeft") > 0
        assert abs(first.bounding_box()["x"] - box.bounding_box()["x"]) <= 3  # held at the box's left edge
        assert grid.locator("tbody td").last.is_visible()
        box.evaluate("b => { b.scrollLeft = 0 }")
    else:
        assert box.evaluate("b => b.scrollWidth <= b.clientWidth")  # the whole year fits

    comparisons = section.locator("figure.compare")
    assert comparisons.count() == 2
    for title in ("Referred customers against everyone else",
                  "Customers whose case was resolved against customers never unhappy"):
        figure = page.get_by_role("figure", name=title)
        assert figure.locator("tbody tr").count() == 7 and figure.locator(".chart-takeaway").inner_text()

    smallest = section.evaluate("""s => Math.min(...[...s.querySelectorAll('*')]
        .filter(e => e.offsetParent !== null && [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
        .map(e => parseFloat(getComputedStyle(e).fontSize)))""")
    assert smallest >= 12
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "nothing overflows sideways"
    assert page.console_errors == []
    page.mouse.move(0, 0)
    section.screenshot(path=str(artifacts_dir() / f"panel-dashboard-retention-{width}.png"))
    screenshot(page, f"panel-dashboard-retention-page-{width}")
    assert accessibility_violations(page) == []
