"""A refresh whose result was lost (#15.4): the token is dead, work waits, a panel load reconnects."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from shopapp import connection, registry, webhooks
from shopapp.admin_api import AdminClient, ShopNotConnected
from shopapp.models import Shop, WebhookEvent
from shopapp.connection import shop_access_token

pytestmark = pytest.mark.django_db

TOPIC = "products/update"


@pytest.fixture
def expiring_shop(fake_shopify):
    now = timezone.now()
    fake_shopify.grant("owner-shop.myshopify.com", "old-access", "old-refresh")
    return Shop.objects.create(
        domain="owner-shop.myshopify.com", name="Owner Shop", installed_at=now,
        access_token="old-access", refresh_token="old-refresh",
        access_token_expires_at=now + timedelta(seconds=30), refresh_token_expires_at=now + timedelta(days=80),
    )


@pytest.fixture
def api_handler(monkeypatch):
    """A webhook handler that needs the Admin API (the registry is restored after the test)."""
    registry.register_webhook_handler(
        TOPIC, lambda shop, payload, event: AdminClient(shop).query("{ shop { id } }", cost=1), order=0)


def _crash_before_the_refresh_is_saved(monkeypatch, fake_shopify, shop):
    """Shopify rotates the refresh token, then the process dies before storing the answer."""

    def die(*args, **kwargs):
        raise KeyboardInterrupt("worker killed")

    with monkeypatch.context() as patched:
        patched.setattr(connection, "token_store", die)
        with pytest.raises(KeyboardInterrupt):
            shop_access_token(shop)
    assert fake_shopify.refresh_tokens[shop.domain] != "old-refresh"  # Shopify rotated it
    assert Shop.objects.get(pk=shop.pk).refresh_token == "old-refresh"  # we never stored it


def test_a_refresh_lost_in_a_crash_is_recovered_by_the_next_panel_load_and_the_waiting_job_proceeds(
        fake_shopify, expiring_shop, api_handler, post_webhook, panel_get, django_capture_on_commit_callbacks):
    shop = expiring_shop
    _crash_before_the_refresh_is_saved(pytest.MonkeyPatch(), fake_shopify, shop)

    post_webhook(TOPIC, {"id": 1}, shop)
    event = WebhookEvent.objects.get(topic=TOPIC)
    # invalid_grant: the job waits without spending an attempt, and is not lost.
    assert event.status == WebhookEvent.Status.FAILED
    assert event.attempts == 0
    assert event.last_error.startswith(webhooks.WAITING_FOR_SHOP)
    assert event.next_attempt_at > timezone.now() + timedelta(minutes=30)
    assert fake_shopify.graphql_calls == []

    response = panel_get("/", shop)  # the merchant opens Advocate from the admin
    assert response.status_code == 200
    assert fake_shopify.exchange_calls == 1
    stored = Shop.objects.get(pk=shop.pk)
    assert stored.access_token == fake_shopify.valid_tokens[shop.domain]
    assert stored.refresh_token == fake_shopify.refresh_tokens[shop.domain]
    assert "lost its connection" not in response.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        webhooks.webhook_events_redrive()
    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.DONE
    assert event.attempts == 1
    assert fake_shopify.graphql_calls[-1]["query"] == "{ shop { id } }"  # the job's own call, with the new token


def test_a_dead_token_outside_any_job_is_marked_so_the_next_panel_load_exchanges(fake_shopify, expiring_shop, panel_get):
    shop = expiring_shop
    fake_shopify.refresh_tokens[shop.domain] = "rotated-and-lost"
    with pytest.raises(ShopNotConnected):
        AdminClient(shop).query("{ shop { id } }")
    assert Shop.objects.get(pk=shop.pk).access_token == ""

    assert panel_get("/", shop).status_code == 200
    assert Shop.objects.get(pk=shop.pk).access_token == fake_shopify.valid_tokens[shop.domain]


def test_panel_opens_with_a_one_line_notice_when_reconnecting_fails(fake_shopify, expiring_shop, panel_get):
    shop = expiring_shop
    Shop.objects.filter(pk=shop.pk).update(access_token="", refresh_token="")
    fake_shopify.token_endpoint_down = True

    response = panel_get("/", shop)
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("Advocate has lost its connection to your store") == 1
    assert "reload this page to reconnect" in page

    fake_shopify.token_endpoint_down = False
    response = panel_get("/", shop)
    assert "lost its connection" not in response.content.decode()
    assert Shop.objects.get(pk=shop.pk).access_token == fake_shopify.valid_tokens[shop.domain]


def test_another_shops_session_token_never_reconnects_this_shop(fake_shopify, expiring_shop, other_shop, panel_get):
    Shop.objects.filter(pk=expiring_shop.pk).update(access_token="", refresh_token="")
    panel_get("/", other_shop)
    assert Shop.objects.get(pk=expiring_shop.pk).access_token == ""
