"""Every date, page and filter parameter of the panel's lists, out of range: the page with a message."""
from __future__ import annotations

from urllib.parse import quote

import pytest

from reviews.cases.services import case_open
from reviews.services import review_create

pytestmark = pytest.mark.django_db

LISTS = ["/app/reviews/", "/app/cases/", "/app/referrals/", "/app/activity/", "/"]


@pytest.fixture
def data(shop):
    review = review_create(shop=shop, product_id=1, product_title="Trail Mug", rating=1, title="Chipped on arrival")
    case_open(review=review, reason="rating", actor="merchant")
    return review


def _page(panel_get, shop, path, query):
    response = panel_get(f"{path}?{query}", shop)
    assert response.status_code == 200, (path, query, response.status_code)
    return response.content.decode()


@pytest.mark.parametrize("query, message", [
    ("to=9999-12-31", "To “9999-12-31” is outside 1970-01-01 to 2100-12-31, so it was ignored."),
    ("from=0001-01-01", "From “0001-01-01” is outside 1970-01-01 to 2100-12-31, so it was ignored."),
    ("from=garbage", "From “garbage” is not a date like 2026-01-31, so it was ignored."),
    ("from=2026-02-30", "From “2026-02-30” is not a date like 2026-01-31"),
    ("to=20260101", "To “20260101” is not a date like 2026-01-31"),
    ("from=2026-05-01&to=2026-04-01", "From 2026-05-01 is after To 2026-04-01: no day is in that range."),
    ("page=99999999999999999999", "Page “99999999999999999999” does not exist (there is 1 page), so it was ignored."),
    ("page=-1", "Page “-1” does not exist"),
    ("page=0", "Page “0” does not exist"),
    ("page=abc", "Page “abc” does not exist"),
    ("status=bogus", "Status “bogus” is not one of the choices, so it was ignored."),
])
@pytest.mark.parametrize("path", ["/app/reviews/", "/app/cases/"])
def test_the_inbox_and_reviews_list_answer_bad_dates_pages_and_filters_with_a_message(
        panel_get, shop, data, path, query, message):
    assert message in _page(panel_get, shop, path, query)


def test_the_reviews_list_refuses_out_of_range_filters_and_still_lists(panel_get, shop, data):
    for query, message in [
        ("product=99999999999999999999", "Product “99999999999999999999” is not a valid id"),
        ("product=-3", "Product “-3” is not a valid id"),
        ("rating=6", "Rating “6” is not one of the choices"),
        ("photos=maybe", "Photos “maybe” is not one of the choices"),
    ]:
        page = _page(panel_get, shop, "/app/reviews/", query)
        assert message in page and "Chipped on arrival" in page


def test_the_inbox_search_with_a_nul_byte_or_a_huge_text_is_ignored_with_a_message(panel_get, shop, data):
    page = _page(panel_get, shop, "/app/cases/", "q=" + quote("mug\x00"))
    assert "Search “mug” is not a search of up to 200 characters" in page and "Chipped on arrival" in page
    assert "is not a search" in _page(panel_get, shop, "/app/cases/", "q=" + "x" * 5000)


@pytest.mark.parametrize("path", ["/", "/app/referrals/"])
def test_the_dashboard_and_referrals_name_a_bogus_range_and_show_the_default(panel_get, shop, path):
    page = _page(panel_get, shop, path, "range=bogus")
    assert "Range “bogus” is not one of the choices, so it was ignored." in page


@pytest.mark.parametrize("path", LISTS)
def test_good_parameters_bring_no_message(panel_get, shop, data, path):
    page = _page(panel_get, shop, path, "page=1&from=2026-01-01&to=2026-01-31&range=30&status=")
    assert "notice-warning" not in page


@pytest.mark.parametrize("path", LISTS[:4])
def test_a_huge_page_number_on_every_list_answers_with_a_message(panel_get, shop, data, path):
    assert "does not exist" in _page(panel_get, shop, path, "page=" + "9" * 5000)


def test_a_valid_date_filter_still_filters(panel_get, shop, data):
    assert "Chipped on arrival" not in _page(panel_get, shop, "/app/reviews/", "to=1999-01-01")
    assert "Chipped on arrival" in _page(panel_get, shop, "/app/reviews/", "from=1999-01-01&to=2100-12-31")
