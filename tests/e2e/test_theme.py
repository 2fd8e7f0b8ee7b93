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
