from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from shopapp.admin_api import AdminClient, ShopifyError, ShopNotConnected, ShopUninstalled
from shopapp.models import Shop
from shopapp.connection import shop_access_token
from shopapp.services import shop_uninstall


def _expiring_shop(fake_shopify, domain="owner-shop.myshopify.com") -> Shop:
    now = timezone.now()
    fake_shopify.grant(domain, "old-access", "old-refresh")
    return Shop.objects.create(
        domain=domain, installed_at=now, access_token="old-access", refresh_token="old-refresh",
        access_token_expires_at=now + timedelta(seconds=30), refresh_token_expires_at=now + timedelta(days=80),
    )


@pytest.mark.django_db
def test_fresh_token_is_used_without_calling_shopify(fake_shopify, shop):
    assert shop_access_token(shop) == shop.access_token
    assert fake_shopify.refresh_calls == 0


@pytest.mark.django_db
def test_token_near_expiry_is_refreshed_and_the_refresh_token_rotated(fake_shopify):
    shop = _expiring_shop(fake_shopify)
    token = shop_access_token(shop)
    assert token == fake_shopify.valid_tokens[shop.domain] != "old-access"
    stored = Shop.objects.get(pk=shop.pk)
    assert stored.refresh_token == fake_shopify.refresh_tokens[shop.domain] != "old-refresh"
    assert stored.access_token_expires_at > timezone.now() + timedelta(minutes=50)


@pytest.mark.django_db
def test_refresh_refused_with_invalid_grant_marks_the_token_dead_and_says_work_waits(fake_shopify):
    shop = _expiring_shop(fake_shopify)
    fake_shopify.refresh_tokens[shop.domain] = "rotated-elsewhere"
    with pytest.raises(ShopNotConnected, match="reconnect"):
        shop_access_token(shop)
    stored = Shop.objects.get(pk=shop.pk)
    assert (stored.access_token, stored.refresh_token) == ("", "")
    assert stored.is_installed  # dead token, not an uninstall: the data and settings stay

    with pytest.raises(ShopNotConnected):
        shop_access_token(stored)
    assert fake_shopify.refresh_calls == 1  # a dead token is not sent to Shopify again


@pytest.mark.django_db
def test_refresh_failing_with_a_server_error_keeps_the_refresh_token_for_the_next_try(fake_shopify):
    shop = _expiring_shop(fake_shopify)
    fake_shopify.token_endpoint_down = True
    with pytest.raises(ShopifyError) as raised:
        shop_access_token(shop)
    assert not isinstance(raised.value, ShopNotConnected)  # an ordinary, counted failure
    assert Shop.objects.get(pk=shop.pk).refresh_token == "old-refresh"

    fake_shopify.token_endpoint_down = False
    assert shop_access_token(shop) == fake_shopify.valid_tokens[shop.domain]


@pytest.mark.django_db
def test_uninstalled_shop_gets_no_admin_api_call_even_through_a_stale_object(fake_shopify, shop):
    fake_shopify.grant(shop.domain, shop.access_token, shop.refresh_token)
    loaded_before = Shop.objects.get(pk=shop.pk)
    shop_uninstall(shop=shop)
    with pytest.raises(ShopUninstalled):
        AdminClient(loaded_before).query("{ shop { id } }")
    assert fake_shopify.graphql_calls == [] and fake_shopify.refresh_calls == 0


@pytest.mark.django_db
def test_uninstalled_shop_has_no_token_to_give(fake_shopify, shop):
    Shop.objects.filter(pk=shop.pk).update(access_token="", access_token_expires_at=None)
    shop.refresh_from_db()
    with pytest.raises(ShopNotConnected):
        shop_access_token(shop)


@pytest.mark.django_db(transaction=True)
def test_two_workers_refreshing_at_once_end_with_one_valid_token(fake_shopify):
    """Shopify keeps one token per shop and burns a refresh token once used: the second
    worker must wait for the first and use its token, not refresh again."""
    shop = _expiring_shop(fake_shopify)
    fake_shopify.refresh_delay = 0.3
    results, errors = [], []
    barrier = threading.Barrier(2)

    def worker():
        try:
            barrier.wait()
            results.append(shop_access_token(Shop.objects.get(pk=shop.pk)))
        except Exception as exc:  # pragma: no cover - the assertion below reports it
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert errors == []
    assert fake_shopify.refresh_calls == 1
    valid = fake_shopify.valid_tokens[shop.domain]
    assert results == [valid, valid]
    stored = Shop.objects.get(pk=shop.pk)
    assert (stored.access_token, stored.refresh_token) == (valid, fake_shopify.refresh_tokens[shop.domain])
