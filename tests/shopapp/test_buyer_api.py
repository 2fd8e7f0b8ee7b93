"""The checkout and customer-account extensions' endpoint: only Shopify's session token for this
app says which shop and which customer ask."""
from __future__ import annotations

import pytest

from tests.buyer import ask, buyer_token, with_code

pytestmark = pytest.mark.django_db


# --- who may ask --------------------------------------------------------------------------

def test_the_preflight_is_answered_for_shopifys_extension_origin(client):
    response = client.options("/ext/v1/buyer?surface=thank-you", HTTP_ORIGIN="https://extensions.shopifycdn.com",
                              HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization")
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Authorization" in response["Access-Control-Allow-Headers"]


@pytest.mark.parametrize("token", [
    None,
    "not-a-jwt",
    "forged",
    "other app",
    "expired",
    "lives too long",
])
def test_a_missing_forged_expired_or_foreign_token_is_refused_with_cors(client, shop, token):
    made = {
        None: None, "not-a-jwt": "not-a-jwt",
        "forged": buyer_token(shop.domain, secret="not-the-app-secret"),
        "other app": buyer_token(shop.domain, aud="another-apps-client-id"),
        "expired": buyer_token(shop.domain, issued_ago=400),
        "lives too long": buyer_token(shop.domain, lifetime=86400),
    }[token]
    with_code(shop)
    response = ask(client, made)
    assert response.status_code == 401
    assert response["Access-Control-Allow-Origin"] == "*"  # the extension can read the refusal
    assert b"MAYA" not in response.content


def test_a_shop_without_advocate_is_a_404(client, shop):
    assert ask(client, buyer_token("never-installed.myshopify.com")).status_code == 404
    shop.uninstalled_at = shop.installed_at
    shop.save()
    assert ask(client, buyer_token(shop.domain)).status_code == 404


def test_a_bad_surface_is_a_clear_400(client, shop):
    response = ask(client, buyer_token(shop.domain), surface="admin")
    assert response.status_code == 400 and "surface must be one of" in response.json()["error"]


def test_another_shops_token_never_reaches_this_shops_customer(client, shop, other_shop):
    """The same Shopify customer id in another shop's token names nobody here."""
    with_code(shop)
    data = ask(client, buyer_token(other_shop.domain)).json()
    assert "MAYA-7K2Q" not in str(data)
    assert data["referral"]["state"] == "preparing"  # for other_shop, this customer has no order yet


def test_the_endpoint_is_rate_limited_per_client(client, shop, settings):
    settings.RATE_LIMIT_SCALE = 1
    token = buyer_token(shop.domain, sub=None)
    statuses = [ask(client, token, ip="203.0.113.7").status_code for _ in range(121)]
    assert statuses[:120] == [200] * 120 and statuses[120] == 429
    assert ask(client, token, ip="203.0.113.8").status_code == 200  # another buyer is not held back


