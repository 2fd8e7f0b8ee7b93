from __future__ import annotations

import pytest

from shopapp.admin_api import AdminClient, ShopifyError, ShopifyUserError, cost_bucket

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_for(fake_shopify, shop):
    fake_shopify.grant(shop.domain, shop.access_token, shop.refresh_token)
    return AdminClient(shop)


def test_query_returns_data_with_the_pinned_version(client_for, fake_shopify, settings):
    data = client_for.query("query { shop { name } }")
    assert data["shop"]["name"] == "Owner Shop"
    assert len(fake_shopify.graphql_calls) == 1


def test_throttled_answers_are_retried_until_shopify_has_room(client_for, fake_shopify, monkeypatch):
    slept = []
    monkeypatch.setattr("shopapp.admin_api.time.sleep", lambda s: slept.append(s))
    fake_shopify.script = ["throttled", "throttled", "ok"]
    data = client_for.query("query { shop { name } }")
    assert data["shop"]["name"] == "Owner Shop"
    assert len(fake_shopify.graphql_calls) == 3
    assert slept and all(s > 0 for s in slept)  # waited for the bucket to refill


def test_429_and_503_are_retried(client_for, fake_shopify, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda s: None)
    fake_shopify.script = ["429", "503", "ok"]
    assert client_for.query("query { shop { name } }")["shop"]["name"] == "Owner Shop"


def test_persistent_throttling_gives_up_with_a_clear_error(client_for, fake_shopify, monkeypatch):
    monkeypatch.setattr("shopapp.admin_api.time.sleep", lambda s: None)
    fake_shopify.script = ["throttled"] * 10
    with pytest.raises(ShopifyError):
        client_for.query("query { shop { name } }")


def test_user_errors_become_an_exception_with_shopifys_message(client_for, fake_shopify):
    fake_shopify.script = ["user_error"]
    with pytest.raises(ShopifyUserError, match="Code must be unique") as info:
        client_for.mutate("mutation { discountCodeBasicCreate { userErrors { message } } }", {}, field="discountCodeBasicCreate")
    assert info.value.errors[0]["code"] == "TAKEN"


def test_bad_token_is_an_error_not_data(client_for, fake_shopify, shop):
    fake_shopify.valid_tokens[shop.domain] = "someone-else"
    with pytest.raises(ShopifyError, match="401"):
        client_for.query("query { shop { name } }")


def test_bucket_state_from_shopify_makes_the_next_call_wait(client_for, fake_shopify, shop, monkeypatch):
    slept = []
    monkeypatch.setattr("shopapp.admin_api.time.sleep", lambda s: slept.append(s))
    fake_shopify.available = 5.0  # Shopify says 5 points left, restoring 100/s
    client_for.query("query { shop { name } }")
    assert slept == []
    client_for.query("query { shop { name } }", cost=50)
    assert slept and 0.4 <= slept[0] <= 0.5  # (50 - 5) / 100 seconds


def test_bucket_is_shared_between_clients_of_the_same_shop(fake_shopify, shop, monkeypatch):
    slept = []
    monkeypatch.setattr("shopapp.admin_api.time.sleep", lambda s: slept.append(s))
    cost_bucket().record(shop.domain, {"currentlyAvailable": 0, "maximumAvailable": 2000, "restoreRate": 100})
    fake_shopify.grant(shop.domain, shop.access_token, shop.refresh_token)
    AdminClient(shop).query("query { shop { name } }", cost=20)
    assert slept and slept[0] > 0.1


def test_another_shops_bucket_is_not_touched(fake_shopify, shop, other_shop, monkeypatch):
    slept = []
    monkeypatch.setattr("shopapp.admin_api.time.sleep", lambda s: slept.append(s))
    cost_bucket().record(other_shop.domain, {"currentlyAvailable": 0, "maximumAvailable": 2000, "restoreRate": 100})
    fake_shopify.grant(shop.domain, shop.access_token, shop.refresh_token)
    AdminClient(shop).query("query { shop { name } }", cost=20)
    assert slept == []
