"""devstore's checkout and account pages host Advocate's extension blocks the way Shopify does:
only where the merchant placed them, with a session token Shopify's library accepts, and never
another customer's order."""
from __future__ import annotations

from contextlib import contextmanager

import httpx
import pytest

from devstore.checkout_blocks import buyer_session_token
from tests.devstore.test_devstore import DEMO, app_server, shopify_lib, store  # noqa: F401  (fixtures)


@contextmanager
def _logged_in(store, email="maya@example.com"):  # noqa: F811
    with httpx.Client(base_url=store.url, timeout=30) as client:
        client.post(f"/shops/{DEMO}/account/login", data={"email": email})
        yield client


def _request(token: str) -> dict:
    return {"method": "GET", "headers": {"Authorization": f"Bearer {token}"}, "url": "https://app.example/ext/v1/buyer",
            "body": ""}


def test_the_buyer_token_is_one_shopifys_library_verifies(store, shopify_lib):  # noqa: F811
    maya = store.store.customer_by_email(DEMO, "maya@example.com")
    logged_in = shopify_lib.verify_checkout_ui_ext_req(_request(buyer_session_token(store.store, DEMO, maya["id"])))
    assert logged_in.ok and logged_in.id_token.claims["dest"] == DEMO
    assert logged_in.id_token.claims["sub"] == f"gid://shopify/Customer/{maya['id']}"
    assert logged_in.id_token.claims["exp"] - logged_in.id_token.claims["iat"] == 300
    guest = shopify_lib.verify_customer_account_ui_ext_req(_request(buyer_session_token(store.store, DEMO, None)))
    assert guest.ok and "sub" not in guest.id_token.claims


def test_the_page_token_names_whoever_is_logged_in(store, shopify_lib):  # noqa: F811
    with _logged_in(store) as maya:  # noqa: F811
        token = maya.post(f"/shops/{DEMO}/extensions/session-token").json()["token"]
    claims = shopify_lib.verify_checkout_ui_ext_req(_request(token)).id_token.claims
    assert claims["sub"].startswith("gid://shopify/Customer/")
    guest = httpx.post(f"{store.url}/shops/{DEMO}/extensions/session-token").json()["token"]
    assert "sub" not in shopify_lib.verify_checkout_ui_ext_req(_request(guest)).id_token.claims


def test_a_block_shows_only_where_the_merchant_placed_it(store):  # noqa: F811
    maya = store.store.customer_by_email(DEMO, "maya@example.com")
    order = store.place_order(DEMO, lines=[("trail-mug", 1)], customer_id=maya["id"])
    with _logged_in(store) as browser:
        assert "data-advocate-block" not in browser.get(f"/shops/{DEMO}/orders/{order['id']}").text
        editor = browser.get(f"/shops/{DEMO}/admin/settings/checkout/editor", params={"page": "thank-you"})
        assert "not on this page yet" in editor.text
        browser.post(f"/shops/{DEMO}/admin/settings/checkout/editor?page=thank-you", data={"on": "1"})
        page = browser.get(f"/shops/{DEMO}/orders/{order['id']}").text
        assert 'data-surface="thank-you"' in page and f"gid://shopify/OrderIdentity/{order['id']}" in page
        assert "data-advocate-block" not in browser.get(f"/shops/{DEMO}/account/orders/{order['id']}").text
        store.checkout_block(DEMO, "order-status")
        status = browser.get(f"/shops/{DEMO}/account/orders/{order['id']}").text
        assert 'data-surface="order-status"' in status and f"gid://shopify/Order/{order['id']}" in status
        browser.post(f"/shops/{DEMO}/admin/settings/checkout/editor?page=thank-you", data={"on": "0"})
        assert "data-advocate-block" not in browser.get(f"/shops/{DEMO}/orders/{order['id']}").text
    assert httpx.get(f"{store.url}/shops/{DEMO}/admin/settings/checkout/editor?page=cart").status_code == 400


def test_the_account_shows_only_the_customers_own_orders(store):  # noqa: F811
    maya = store.store.customer_by_email(DEMO, "maya@example.com")
    order = store.place_order(DEMO, lines=[("trail-mug", 1)], customer_id=maya["id"])
    anonymous = httpx.get(f"{store.url}/shops/{DEMO}/account")
    assert anonymous.status_code == 303 and anonymous.headers["location"].endswith("/account/login")
    with _logged_in(store) as browser:
        account = browser.get(f"/shops/{DEMO}/account").text
        assert order["name"] in account and "Refer friends" in account
        assert browser.get(f"/shops/{DEMO}/account/pages/refer").status_code == 200
    with _logged_in(store, "liam.chen@example.com") as liam:
        assert liam.get(f"/shops/{DEMO}/account/orders/{order['id']}").status_code == 404
        assert order["name"] not in liam.get(f"/shops/{DEMO}/account").text


@pytest.mark.parametrize("path", ["/cdn/extensions/host.js"])
def test_the_host_script_is_served(store, path):  # noqa: F811
    response = httpx.get(f"{store.url}/shops/{DEMO}{path}")
    assert response.status_code == 200 and response.headers["content-type"] == "application/javascript"
