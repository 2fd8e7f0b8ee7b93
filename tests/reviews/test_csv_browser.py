from __future__ import annotations

import pytest

from tests.browser import accessibility_violations, screenshot
from tests.conftest import session_token

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_import_page_shows_the_bad_row_and_imports_nothing(live_server, open_page, width, tmp_path):
    from reviews.csvio import IMPORT_COLUMNS
    from reviews.models import Review
    from tests.conftest import _make_shop

    shop = _make_shop("owner-shop.myshopify.com")
    page = open_page(f"{live_server.url}/app/reviews/import/?id_token={session_token(shop.domain)}", width)
    assert page.get_by_role("heading", name="Import reviews").is_visible()
    assert accessibility_violations(page) == []
    bad = tmp_path / "reviews.csv"
    bad.write_text(",".join(IMPORT_COLUMNS) + "\ntrail-mug,9,Great,,Maya,2023-01-01,yes\n")
    page.get_by_label("CSV file").set_input_files(str(bad))
    page.get_by_role("button", name="Import reviews").click()
    page.wait_for_load_state()
    alert = page.get_by_role("alert")
    assert alert.is_visible() and "Row 2: rating “9” is not a whole number from 1 to 5" in alert.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, f"reviews-import-error-{width}")
    assert accessibility_violations(page) == []
    assert not Review.objects.exists()
