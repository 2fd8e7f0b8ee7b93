"""The Admin client never lets a mutation be resent blindly, and says when an outcome is unknown."""
from __future__ import annotations

import time

import httpx
import pytest

from shopapp import shopify
from shopapp.admin_api import AdminClient, ShopifyAmbiguous, ShopifyError, ShopifyUnreachable, ShopifyUserError

pytestmark = pytest.mark.django_db

MUTATION = "mutation m($id: ID!) { storeCreditAccountCredit(id: $id, creditInput: {}) { userErrors { code } } }"


@pytest.fixture
def shop_client(fake_shopify, shop):
    # A plain shop fixture from tests/conftest.py (tests/money/conftest.py's is devstore's): use the fake here.
    fake_shopify.grant(shop.domain, shop.access_token, shop.refresh_token)
    return AdminClient(shop)


@pytest.fixture
def shop(db):
    from tests.conftest import _make_shop

    return _make_shop("owner-shop.myshopify.com")


def test_a_mutation_answered_5xx_is_sent_once_and_reported_as_ambiguous(shop_client, fake_shopify):
    fake_shopify.script = ["503", "ok", "ok"]
    with pytest.raises(ShopifyAmbiguous):
        shop_client.mutate(MUTATION, {"id": "gid://shopify/Customer/1"}, field="storeCreditAccountCredit")
    assert len(fake_shopify.graphql_calls) == 1


def test_a_mutation_whose_connection_drops_is_ambiguous(shop, fake_shopify):
    def reset(request):
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)

    shopify.set_http_client(httpx.Client(transport=httpx.MockTransport(reset)))
    with pytest.raises(ShopifyAmbiguous):
        AdminClient(shop).mutate(MUTATION, {"id": "gid://shopify/Customer/1"}, field="storeCreditAccountCredit")


def test_a_connection_that_never_opened_is_not_ambiguous_nothing_was_sent(shop, fake_shopify):
    def refused(request):
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    shopify.set_http_client(httpx.Client(transport=httpx.MockTransport(refused)))
    with pytest.raises(ShopifyUnreachable) as failed:
        AdminClient(shop).mutate(MUTATION, {"id": "gid://shopify/Customer/1"}, field="storeCreditAccountCredit")
    assert not isinstance(failed.value, ShopifyAmbiguous)


def test_a_read_is_retried_when_the_connection_did_not_open(shop_client, fake_shopify):
    real, calls = shopify.http_client(), []

    def flaky(request):
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ConnectTimeout("timed out connecting", request=request)
        return real._transport.handle_request(request)

    shopify.set_http_client(httpx.Client(transport=httpx.MockTransport(flaky)))
    assert "shop" in shop_client.query("{ shop { name } }")
    assert len(calls) == 2


def test_a_refusal_is_definite_not_ambiguous(shop_client, fake_shopify):
    fake_shopify.responders["storeCreditAccountCredit"] = lambda v: {"userErrors": [{"code": "INVALID", "message": "no"}]}
    with pytest.raises(ShopifyUserError) as refused:
        shop_client.mutate(MUTATION, {"id": "gid://shopify/Customer/1"}, field="storeCreditAccountCredit")
    assert not isinstance(refused.value, ShopifyAmbiguous)


def test_a_throttled_mutation_is_sent_again_because_shopify_ran_nothing(shop_client, fake_shopify, monkeypatch):
    monkeypatch.setattr("shopapp.admin_api.time.sleep", lambda s: None)
    fake_shopify.responders["storeCreditAccountCredit"] = lambda v: {"userErrors": []}
    fake_shopify.script = ["429", "throttled", "ok"]
    shop_client.mutate(MUTATION, {"id": "gid://shopify/Customer/1"}, field="storeCreditAccountCredit")
    assert len(fake_shopify.graphql_calls) == 3


def test_reads_are_retried_after_5xx_without_waiting_on_real_sleeps(shop_client, fake_shopify):
    fake_shopify.script = ["503", "503", "503", "ok"]
    started = time.monotonic()
    assert shop_client.query("query { shop { name } }")["shop"]["name"] == "Owner Shop"
    assert time.monotonic() - started < 1.0  # the library alone would have slept 1 + 2 + 4 s
    fake_shopify.script = ["503"] * 4
    with pytest.raises(ShopifyError):
        shop_client.query("query { shop { name } }")
