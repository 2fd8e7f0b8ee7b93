"""Framing (#16.23): the admin frames the panel and the bounce page only; every other page refuses."""
from __future__ import annotations

import pytest

from shopapp.links import link_token
from shopapp.models import Customer

pytestmark = pytest.mark.django_db


def _refuses_framing(response) -> bool:
    return response["X-Frame-Options"] == "DENY" and "frame-ancestors" not in response.get("Content-Security-Policy", "")


@pytest.mark.parametrize("path", [
    "/reviews/r/not-a-real-token",
    "/cases/a/not-a-real-token",
    "/reviews/confirm/not-a-real-token",
    "/referrals/me/not-a-real-token",
    "/u/not-a-real-token",
    "/install",
    "/",
])
def test_pages_outside_the_admin_refuse_to_be_framed(client, path):
    assert _refuses_framing(client.get(path))


def test_a_working_unsubscribe_link_refuses_to_be_framed(client, shop):
    customer = Customer.objects.create(shop=shop, email="maya@example.com")
    response = client.get(f"/u/{link_token('unsubscribe', customer.pk)}")
    assert response.status_code == 200 and _refuses_framing(response)


def test_the_panel_may_be_framed_by_its_own_shops_admin_only(panel_get, shop, other_shop):
    response = panel_get("/", shop)
    assert "X-Frame-Options" not in response
    csp = response["Content-Security-Policy"]
    assert csp == f"frame-ancestors https://{shop.domain} https://admin.shopify.com;"
    assert other_shop.domain not in csp


def test_the_bounce_page_may_be_framed_by_the_admin_only(client):
    response = client.get("/auth/patch-id-token?shop=owner-shop.myshopify.com&shopify-reload=%2F")
    assert "X-Frame-Options" not in response
    assert "frame-ancestors https://owner-shop.myshopify.com https://admin.shopify.com" in response["Content-Security-Policy"]


def test_panel_fetch_answers_and_refusals_are_not_framable(panel_get, shop, client):
    assert panel_get("/app/privacy/", shop, fetch=True)["X-Frame-Options"] == "DENY"
    assert client.get("/app/privacy/", HTTP_AUTHORIZATION="Bearer bad")["X-Frame-Options"] == "DENY"
