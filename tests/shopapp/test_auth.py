from __future__ import annotations

import pytest

from shopapp.models import Shop

pytestmark = pytest.mark.django_db


def test_panel_loads_for_a_valid_session_token(panel_get, shop):
    response = panel_get("/", shop)
    assert response.status_code == 200
    assert shop.name in response.content.decode()
    assert response["Content-Security-Policy"] == (
        f"frame-ancestors https://{shop.domain} https://admin.shopify.com;"
    )


def test_fetch_with_valid_bearer_token_is_answered(panel_get, shop):
    response = panel_get("/", shop, fetch=True)
    assert response.status_code == 200


@pytest.mark.parametrize(
    "token_kwargs",
    [
        {"exp_in": -120},
        {"aud": "somebody-elses-app"},
        {"secret": "not-our-secret"},
        {"iss": "https://evil-shop.myshopify.com/admin"},
        {"iss": "https://example.com/admin"},
    ],
    ids=["expired", "wrong-audience", "wrong-secret", "mismatched-issuer", "issuer-not-a-shop"],
)
def test_fetch_with_bad_token_gets_401_and_retry_header(panel_get, shop, token_kwargs):
    response = panel_get("/", shop, fetch=True, **token_kwargs)
    assert response.status_code == 401
    assert response["X-Shopify-Retry-Invalid-Session-Request"] == "1"


@pytest.mark.parametrize("token_kwargs", [{"exp_in": -120}, {"secret": "not-our-secret"}, {"iss": "https://evil-shop.myshopify.com/admin"}])
def test_document_load_with_stale_or_bad_token_bounces_to_the_patch_page(panel_get, shop, token_kwargs):
    response = panel_get("/", shop, **token_kwargs)
    assert response.status_code == 302
    location = response["Location"]
    assert "/auth/patch-id-token?" in location
    assert "shopify-reload=" in location
    assert "id_token=" not in location.split("shopify-reload=")[0]


def test_patch_page_loads_app_bridge_and_may_be_framed_by_the_admin_only(client, settings):
    response = client.get("/auth/patch-id-token?shop=owner-shop.myshopify.com&shopify-reload=%2F%3Fshop%3Downer-shop.myshopify.com")
    assert response.status_code == 200
    assert b"app-bridge.js" in response.content
    assert "frame-ancestors https://owner-shop.myshopify.com https://admin.shopify.com" in response["Content-Security-Policy"]


def test_patch_page_refuses_a_shop_that_is_not_a_shop(client):
    response = client.get("/auth/patch-id-token?shop=evil.example.com&shopify-reload=%2F")
    assert response.status_code == 400


def test_fetch_without_any_token_is_refused(client, shop):
    response = client.get("/app/privacy/", HTTP_AUTHORIZATION="Bearer ")
    assert response.status_code == 401


def test_root_without_shopify_context_shows_the_install_form(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Install Advocate" in response.content


def test_shop_a_token_never_reaches_shop_b_data(panel_get, shop, other_shop):
    from shopapp.models import CustomerDataExport

    mine = CustomerDataExport.objects.create(shop=shop, customer_email="mine@example.com", data={"who": "mine"})
    theirs = CustomerDataExport.objects.create(shop=other_shop, customer_email="theirs@example.com", data={"who": "theirs"})

    listing = panel_get("/app/privacy/", shop).content.decode()
    assert "mine@example.com" in listing and "theirs@example.com" not in listing

    assert panel_get(f"/app/privacy/exports/{mine.pk}.json", shop, fetch=True).json()["who"] == "mine"
    assert panel_get(f"/app/privacy/exports/{theirs.pk}.json", shop, fetch=True).status_code == 404


def test_shop_parameter_cannot_override_the_token(client, make_session_token, shop, other_shop):
    token = make_session_token(shop.domain)
    response = client.get(f"/?embedded=1&shop={other_shop.domain}&id_token={token}")
    assert response.status_code == 200
    assert shop.name in response.content.decode()
    assert other_shop.name not in response.content.decode()


def test_first_load_exchanges_the_id_token_for_an_expiring_offline_token(panel_get, fake_shopify, db):
    response = panel_get("/", "brand-new.myshopify.com")
    assert response.status_code == 200
    shop = Shop.objects.get(domain="brand-new.myshopify.com")
    assert shop.is_installed
    assert shop.access_token == fake_shopify.valid_tokens["brand-new.myshopify.com"]
    assert shop.refresh_token == fake_shopify.refresh_tokens["brand-new.myshopify.com"]
    assert shop.access_token_expires_at is not None and shop.refresh_token_expires_at is not None
    # Details come from the GraphQL shop query.
    assert (shop.name, shop.currency, shop.timezone, shop.plan_name) == ("Owner Shop", "EUR", "Europe/Berlin", "Basic")
    assert fake_shopify.exchange_calls == 1

    panel_get("/", "brand-new.myshopify.com")
    assert fake_shopify.exchange_calls == 1  # the stored token is used from then on


def test_tokens_are_encrypted_at_rest(shop):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token, refresh_token FROM shopapp_shop WHERE id = %s", [shop.pk])
        access, refresh = cursor.fetchone()
    assert shop.access_token not in access and shop.refresh_token not in refresh
    assert Shop.objects.get(pk=shop.pk).access_token == shop.access_token


def test_failed_exchange_tells_the_merchant_what_to_do(panel_get, fake_shopify, db):
    fake_shopify.token_endpoint_down = True
    response = panel_get("/", "brand-new.myshopify.com")
    assert response.status_code == 502
    assert b"reinstall" in response.content
    assert not Shop.objects.filter(domain="brand-new.myshopify.com").exists()


def test_panel_post_is_authenticated_by_the_session_token_not_a_cookie(client, make_session_token, shop):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    # Past CSRF to the form, which refuses the empty input (400), not 403.
    assert strict.post(f"/app/privacy/?id_token={make_session_token(shop.domain)}").status_code == 400
    assert strict.post("/app/privacy/").status_code in (302, 401)  # no token: refused before any view


def _token_with(domain: str, **claims) -> str:
    """A session token signed with our secret whose claims differ from Shopify's (None drops one)."""
    import time
    import uuid

    import jwt
    from django.conf import settings

    now = int(time.time())
    base = {"iss": f"https://{domain}/admin", "dest": f"https://{domain}", "aud": settings.SHOPIFY_API_KEY,
            "sub": "42", "exp": now + 60, "nbf": now - 5, "iat": now - 5, "jti": str(uuid.uuid4()), "sid": "s"}
    base.update(claims)
    return jwt.encode({k: v for k, v in base.items() if v is not None}, settings.SHOPIFY_API_SECRET, algorithm="HS256")


@pytest.mark.parametrize("claims", [
    {"exp": None},
    {"exp": "soon"},
    {"exp": int(__import__("time").time()) + 3600},
    {"iat": int(__import__("time").time()) - 600, "nbf": int(__import__("time").time()) - 600},
], ids=["no-exp", "exp-not-a-number", "exp-an-hour-away", "issued-ten-minutes-before-exp"])
def test_session_token_without_exp_or_living_longer_than_shopifys_minute_is_refused(client, shop, claims):
    token = _token_with(shop.domain, **claims)
    response = client.get("/app/privacy/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401
    document = client.get(f"/?embedded=1&shop={shop.domain}&id_token={token}")
    assert document.status_code != 200 and shop.name.encode() not in document.content


def test_session_token_with_shopifys_own_lifetime_is_accepted(client, shop):
    token = _token_with(shop.domain)
    assert client.get("/app/privacy/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
