"""Onboarding's theme step end to end: deep link into devstore's theme editor, save, check, storefront shows the block."""
from __future__ import annotations

import html
import re

import httpx
import pytest

from tests.e2e.conftest import DEMO

pytestmark = pytest.mark.e2e


def test_adding_the_reviews_block_from_the_panel_shows_in_the_theme_and_the_checklist(installed):
    store = installed.store
    page = httpx.get(store.app_url(DEMO, "/app/storefront/"), timeout=30)
    assert page.status_code == 200
    links = [html.unescape(h) for h in re.findall(r'href="([^"]+/admin/themes/current/editor[^"]*)"', page.text)]
    reviews_link = next(link for link in links if "reviews" in link)
    assert reviews_link.startswith(f"{store.url}/shops/{DEMO}/admin/themes/current/editor?")
    editor = httpx.get(reviews_link)
    assert "Product reviews" in editor.text
    saved = httpx.post(reviews_link)
    assert saved.status_code == 303

    token = store.session_token(DEMO)
    checked = httpx.post(f"{installed.app_url}/app/storefront/", params={"id_token": token}, timeout=30)
    assert "1 of Advocate" in checked.text and "In your live theme" in checked.text
    home = httpx.get(store.app_url(DEMO, "/"), timeout=30).text
    assert "Add Advocate&#x27;s reviews to your theme</span>" in home

    product = httpx.get(f"{store.url}{saved.headers['location']}").text
    assert 'data-advocate-widget="reviews"' in product and "/cdn/advocate/advocate.js" in product


def test_the_carousel_link_adds_it_to_the_home_page_and_the_check_finds_it_there(installed):
    store = installed.store
    page = httpx.get(store.app_url(DEMO, "/app/storefront/"), timeout=30)
    links = [html.unescape(h) for h in re.findall(r'href="([^"]+/admin/themes/current/editor[^"]*)"', page.text)]
    carousel_link = next(link for link in links if "reviews-carousel" in link)
    assert "template=index" in carousel_link and "target=newAppsSection" in carousel_link
    assert "Reviews carousel" in httpx.get(carousel_link).text
    saved = httpx.post(carousel_link)
    assert saved.status_code == 303 and saved.headers["location"] == f"/shops/{DEMO}/"

    checked = httpx.post(f"{installed.app_url}/app/storefront/", params={"id_token": store.session_token(DEMO)},
                         timeout=30)
    row = re.search(r"<strong>Reviews carousel</strong>(.*?)</li>", checked.text, re.S).group(1)
    assert "In your live theme" in row  # read from the home page's template
    home = httpx.get(f"{store.url}{saved.headers['location']}", timeout=30)
    assert home.status_code == 200 and "data-advocate-carousel" not in home.text  # no reviews yet: shoppers see nothing


def _storefront_links(html_text: str, domain: str) -> set[str]:
    """Every address on a storefront page that a shopper's browser would follow or fetch."""
    found = re.findall(r'(?:href|src|data-src)="([^"]+)"', html_text)
    return {html.unescape(link) for link in found if link.startswith(f"/shops/{domain}/")}


def _paths(links: set[str]) -> set[str]:
    return {link.split("?")[0] for link in links}


@pytest.mark.parametrize("shopper", ["guest", "logged-in customer"])
def test_every_link_the_theme_extension_renders_resolves_in_the_store(installed, shopper):
    from devstore import theme

    store = installed.store
    with store.store.lock:
        for handle in theme.blocks_available():
            theme.add_block(store.store.shop(DEMO)["theme"], handle)
    product = next(iter(store.store.shop(DEMO)["products"].values()))
    with httpx.Client(base_url=store.url, timeout=30) as browser:
        if shopper != "guest":
            browser.post(f"/shops/{DEMO}/account/login", data={"email": "zoe.martin@example.com"})
        pages = [browser.get(f"/shops/{DEMO}/"), browser.get(f"/shops/{DEMO}/products/{product['handle']}"),
                 browser.get(f"/shops/{DEMO}/apps/advocate/reviews/{product['id']}")]  # in the theme, embeds too
        # (The blocks' links name the storefront's language, ?locale=en here: compared without the query.)
        assert all(f"/shops/{DEMO}/apps/advocate/referrals/" in _paths(_storefront_links(page.text, DEMO)) for page in pages)
        links = set().union(*(_storefront_links(page.text, DEMO) for page in pages))
        extension_links = {link for link in links if "/apps/advocate/" in link or "/cdn/advocate/" in link}
        # One link per block at least: the reviews page, the badge, the assets and the refer-a-friend button.
        assert f"/shops/{DEMO}/apps/advocate/referrals/" in _paths(extension_links)
        assert f"/shops/{DEMO}/apps/advocate/reviews/{product['id']}/badge" in _paths(extension_links)
        broken = {link: browser.get(link).status_code for link in sorted(extension_links)}
    assert {link: status for link, status in broken.items() if status != 200} == {}
