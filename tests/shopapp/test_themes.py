from __future__ import annotations

import json

import pytest

from shopapp import themes
from shopapp.themes import BLOCKS, blocks_in, editor_link

pytestmark = pytest.mark.django_db

HEADER = "/*\n * IMPORTANT: The contents of this file are auto-generated.\n */\n"


def _product_template(*types, disabled=False):
    blocks = {f"b{i}": {"type": t, **({"disabled": True} if disabled else {})} for i, t in enumerate(types)}
    return HEADER + json.dumps({"sections": {"main": {"type": "main-product", "blocks": blocks}}})


def test_blocks_in_finds_advocates_enabled_blocks_only():
    content = _product_template("shopify://apps/advocate/blocks/reviews/abc-123", "shopify://apps/other/blocks/reviews/x",
                                "title")
    assert blocks_in(content) == {"reviews"}
    assert blocks_in(_product_template("shopify://apps/advocate/blocks/reviews/abc", disabled=True)) == set()
    assert blocks_in("not json {") == set()


def test_the_carousel_is_found_in_the_apps_section_the_editor_adds_to_the_home_page():
    index = HEADER + json.dumps({"sections": {
        "hero": {"type": "image-banner"},
        "apps_x": {"type": "apps", "blocks": {"b": {"type": "shopify://apps/advocate/blocks/reviews-carousel/u-1"}},
                   "block_order": ["b"]}}, "order": ["hero", "apps_x"]})
    assert blocks_in(index) == {"reviews-carousel"}
    assert '"templates/index.json"' in themes.THEME_QUERY  # the home page is read with the product page


def test_editor_links_follow_shopifys_deep_link_format(shop, settings):
    settings.SHOPIFY_UPSTREAM_URL = ""
    reviews, _, carousel, embed = BLOCKS
    assert editor_link(shop, reviews) == (
        f"https://{shop.domain}/admin/themes/current/editor?template=product"
        f"&addAppBlockId={settings.SHOPIFY_API_KEY}%2Freviews&target=mainSection")
    # The home page has no main section: the carousel goes into a new Apps section there.
    assert editor_link(shop, carousel) == (
        f"https://{shop.domain}/admin/themes/current/editor?template=index"
        f"&addAppBlockId={settings.SHOPIFY_API_KEY}%2Freviews-carousel&target=newAppsSection")
    assert "activateAppId=" in editor_link(shop, embed) and "target=" not in editor_link(shop, embed)


def _theme_answer(*types):
    return {"themes": {"nodes": [{"id": "gid://shopify/OnlineStoreTheme/1", "name": "Dawn", "files": {"nodes": [
        {"filename": "templates/product.json", "body": {"content": _product_template(*types)}}]}}]}}


def test_checking_the_theme_marks_the_onboarding_step_done(shop, other_shop, panel_get, client, make_session_token, monkeypatch):
    calls = []

    class StubClient:
        def __init__(self, s):
            calls.append(s.domain)

        def query(self, query, variables=None, cost=10):
            return _theme_answer("shopify://apps/advocate/blocks/reviews/u-1")

    monkeypatch.setattr(themes, "AdminClient", StubClient)
    page = panel_get("/app/storefront/", shop)
    assert page.status_code == 200 and page.content.decode().count("Not added yet") == len(BLOCKS)
    response = client.post(f"/app/storefront/?id_token={make_session_token(shop.domain)}")
    assert "1 of Advocate" in response.content.decode()
    assert calls == [shop.domain]  # the shop from the session token, nobody else's
    shop.refresh_from_db()
    other_shop.refresh_from_db()
    assert shop.theme_blocks == ["reviews"] and other_shop.theme_blocks == []
    home = panel_get("/", shop).content.decode()
    assert "Add Advocate&#x27;s reviews to your theme</span>" in home  # ticked, no longer a link
    assert panel_get("/app/storefront/", other_shop).content.decode().count("Not added yet") == len(BLOCKS)


def test_a_failed_theme_read_says_so_and_keeps_the_last_state(shop, client, make_session_token, monkeypatch):
    from shopapp.admin_api import ShopifyError

    class FailingClient:
        def __init__(self, s):
            pass

        def query(self, *args, **kwargs):
            raise ShopifyError("Shopify answered 503")

    shop.theme_blocks = ["reviews"]
    shop.save()
    monkeypatch.setattr(themes, "AdminClient", FailingClient)
    response = client.post(f"/app/storefront/?id_token={make_session_token(shop.domain)}")
    assert response.status_code == 502 and "Try again" in response.content.decode()
    shop.refresh_from_db()
    assert shop.theme_blocks == ["reviews"]


def test_daily_check_reads_only_installed_shops_due_a_check(shop, other_shop, monkeypatch,
                                                            django_capture_on_commit_callbacks):
    from django.utils import timezone

    seen = []
    monkeypatch.setattr(themes, "theme_blocks_check", lambda s: seen.append(s.domain) or [])
    other_shop.theme_checked_at = timezone.now()
    other_shop.save()
    with django_capture_on_commit_callbacks(execute=True):
        themes.theme_checks_due()
    assert seen == [shop.domain]
