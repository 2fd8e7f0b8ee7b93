from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
import shopify

from shopapp.models import OAuthState, Shop
from shopapp.shopify import shopify_api_session_class

pytestmark = pytest.mark.django_db


def _signed_callback(params: dict) -> dict:
    session_class = shopify_api_session_class()
    params = {**params, "timestamp": str(int(time.time()))}
    params["hmac"] = session_class.calculate_hmac(params)
    return params


def test_install_redirects_to_shopify_with_a_state_nonce(client):
    response = client.get("/auth/install?shop=Owner-Shop")
    assert response.status_code == 302
    url = urlsplit(response["Location"])
    assert url.netloc == "owner-shop.myshopify.com" and url.path == "/admin/oauth/authorize"
    query = parse_qs(url.query)
    assert query["state"][0] == OAuthState.objects.get().nonce
    assert query["redirect_uri"][0].endswith("/auth/callback")


@pytest.mark.parametrize("bad", ["", "evil.example.com", "https://owner-shop.myshopify.com.evil.com", "<script>"])
def test_install_refuses_what_is_not_a_shop_domain(client, bad):
    response = client.get("/auth/install", {"shop": bad})
    assert response.status_code == 400
    assert not OAuthState.objects.exists()


def test_callback_with_valid_hmac_and_state_installs_the_shop(client, fake_shopify):
    client.get("/auth/install?shop=owner-shop.myshopify.com")
    nonce = OAuthState.objects.get().nonce
    params = _signed_callback({"code": "abc", "shop": "owner-shop.myshopify.com", "state": nonce})
    response = client.get("/auth/callback", params)
    assert response.status_code == 302
    shop = Shop.objects.get(domain="owner-shop.myshopify.com")
    assert shop.is_installed and shop.access_token == fake_shopify.valid_tokens[shop.domain]
    assert shop.refresh_token  # an expiring offline token was asked for
    assert not OAuthState.objects.exists()  # the nonce is used up


def test_callback_with_tampered_hmac_is_refused(client, fake_shopify):
    client.get("/auth/install?shop=owner-shop.myshopify.com")
    params = _signed_callback({"code": "abc", "shop": "owner-shop.myshopify.com", "state": OAuthState.objects.get().nonce})
    params["code"] = "another-code"
    assert client.get("/auth/callback", params).status_code == 400
    assert not Shop.objects.exists()


def test_callback_with_unknown_or_reused_state_is_refused(client, fake_shopify):
    client.get("/auth/install?shop=owner-shop.myshopify.com")
    nonce = OAuthState.objects.get().nonce
    params = _signed_callback({"code": "abc", "shop": "owner-shop.myshopify.com", "state": nonce})
    assert client.get("/auth/callback", params).status_code == 302
    assert client.get("/auth/callback", params).status_code == 400  # replayed
    forged = _signed_callback({"code": "abc", "shop": "owner-shop.myshopify.com", "state": "guessed"})
    assert client.get("/auth/callback", forged).status_code == 400


def test_state_issued_for_one_shop_does_not_install_another(client, fake_shopify):
    client.get("/auth/install?shop=owner-shop.myshopify.com")
    params = _signed_callback({"code": "abc", "shop": "outsider-shop.myshopify.com", "state": OAuthState.objects.get().nonce})
    assert client.get("/auth/callback", params).status_code == 400
    assert not Shop.objects.exists()


def test_shopify_api_helpers_agree_with_our_signature(client):
    params = _signed_callback({"code": "abc", "shop": "owner-shop.myshopify.com", "state": "x"})
    assert shopify.Session.validate_params(params)
