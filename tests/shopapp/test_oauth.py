from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
import shopify

from shopapp.models import OAuthState, Shop
from shopapp.shopify import shopify_api_session_class

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """The install limit counts per address: each test starts with none used (locmem; Redis is cleared in conftest)."""
    from django.core.cache import cache

    cache.clear()


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


def test_install_requests_from_one_address_are_limited_and_the_refused_ones_store_nothing(client):
    answers = [client.get(f"/auth/install?shop=shop-{i}.myshopify.com").status_code for i in range(12)]
    assert answers == [302] * 10 + [429] * 2
    assert OAuthState.objects.count() == 10
    # Another address is counted on its own.
    assert client.get("/auth/install?shop=mine.myshopify.com", REMOTE_ADDR="198.51.100.7").status_code == 302


def test_one_shop_keeps_only_its_newest_install_states(client, settings):
    settings.RATE_LIMIT_SCALE = 100
    for _ in range(8):
        client.get("/auth/install?shop=owner-shop.myshopify.com")
    newest = client.get("/auth/install?shop=owner-shop.myshopify.com")
    assert OAuthState.objects.filter(shop_domain="owner-shop.myshopify.com").count() == 5
    nonce = parse_qs(urlsplit(newest["Location"]).query)["state"][0]
    assert OAuthState.objects.filter(nonce=nonce).exists()  # the merchant's latest click still works


def test_expired_states_are_purged_by_the_next_install_and_by_the_sweep(client):
    from datetime import timedelta

    from django.utils import timezone

    from shopapp import registry
    from shopapp.services import oauth_states_purge

    client.get("/auth/install?shop=owner-shop.myshopify.com")
    OAuthState.objects.update(created_at=timezone.now() - timedelta(minutes=11))
    client.get("/auth/install?shop=outsider-shop.myshopify.com")
    assert list(OAuthState.objects.values_list("shop_domain", flat=True)) == ["outsider-shop.myshopify.com"]

    OAuthState.objects.update(created_at=timezone.now() - timedelta(minutes=11))
    assert oauth_states_purge in registry.sweepers()
    oauth_states_purge()
    assert not OAuthState.objects.exists()


def test_an_expired_state_does_not_install(client, fake_shopify):
    from datetime import timedelta

    from django.utils import timezone

    client.get("/auth/install?shop=owner-shop.myshopify.com")
    nonce = OAuthState.objects.get().nonce
    OAuthState.objects.update(created_at=timezone.now() - timedelta(minutes=11))
    params = _signed_callback({"code": "abc", "shop": "owner-shop.myshopify.com", "state": nonce})
    assert client.get("/auth/callback", params).status_code == 400
    assert not Shop.objects.exists()


def test_the_install_page_speaks_the_browsers_language(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9,en;q=0.5")
    assert response.status_code == 200 and '<html lang="de"' in response.content.decode()
    assert "Accept-Language" in response["Vary"]
    assert '<html lang="en"' in client.get("/").content.decode()
