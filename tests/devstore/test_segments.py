"""devstore's customer segments, and a discount limited to one refused at checkout as Shopify does."""
from __future__ import annotations

import pytest

from devstore.state import StoreError
from tests.devstore.test_devstore import DEMO, _exchange, _graphql, app_server, store  # noqa: F401  (fixtures)
from tests.devstore.test_discount_update import CREATE, UPDATE

SEGMENT_CREATE = """mutation($name: String!, $query: String!) { segmentCreate(name: $name, query: $query) {
  segment { id name query } userErrors { field message } } }"""
SEGMENTS = """query($q: String!) { segments(first: 10, query: $q) { nodes { id name } } }"""


@pytest.fixture
def token(store):  # noqa: F811
    store.store.app_install(DEMO)
    return _exchange(store, DEMO).json()["access_token"]


def _segment(store, token, name="New customers", query="number_of_orders = 0") -> dict:  # noqa: F811
    return _graphql(store, DEMO, token, SEGMENT_CREATE, {"name": name, "query": query}).json()["data"]["segmentCreate"]


def _code(store, token, context, code="MAYA-7K2Q") -> dict:  # noqa: F811
    return _graphql(store, DEMO, token, CREATE, {"d": {
        "title": "Referral", "code": code, "context": context, "appliesOncePerCustomer": True,
        "customerGets": {"value": {"percentage": 0.1}, "items": {"all": True}}}}).json()["data"]["discountCodeBasicCreate"]


def test_a_segment_is_made_once_and_found_by_name(store, token):  # noqa: F811
    made = _segment(store, token)
    assert made["userErrors"] == [] and made["segment"]["query"] == "number_of_orders = 0"
    again = _segment(store, token, name="new customers")
    assert again == {"segment": None, "userErrors": [{"field": ["name"], "message": "Name has already been taken"}]}
    bad = _segment(store, token, name="Odd", query="amount_spent > 5 AND")
    assert bad["segment"] is None and bad["userErrors"][0]["field"] == ["query"]
    found = _graphql(store, DEMO, token, SEGMENTS, {"q": '"New customers"'}).json()["data"]["segments"]["nodes"]
    assert found == [{"id": made["segment"]["id"], "name": "New customers"}]
    assert _graphql(store, DEMO, token, SEGMENTS, {"q": '"VIP"'}).json()["data"]["segments"]["nodes"] == []


def test_a_code_for_new_customers_is_refused_to_returning_customers_and_guests_with_orders(store, token):  # noqa: F811
    segment = _segment(store, token)["segment"]["id"]
    assert _code(store, token, {"customerSegments": {"add": [segment]}})["userErrors"] == []
    maya = store.store.customer_by_email(DEMO, "maya@example.com")  # seeded with an order
    with pytest.raises(StoreError, match="isn't valid for this customer"):
        store.place_order(DEMO, lines=[("trail-mug", 1)], customer_id=maya["id"], discount_code="MAYA-7K2Q")
    store.place_order(DEMO, lines=[("trail-mug", 1)], email="guest@example.com")  # a guest checkout, no account
    with pytest.raises(StoreError, match="isn't valid for this customer"):
        store.place_order(DEMO, lines=[("trail-mug", 1)], email="Guest@Example.com", discount_code="MAYA-7K2Q")
    orders = len(store.store.shop(DEMO)["orders"])
    zoe = store.store.customer_by_email(DEMO, "zoe.martin@example.com")  # a customer without orders
    placed = store.place_order(DEMO, lines=[("trail-mug", 1)], customer_id=zoe["id"], discount_code="MAYA-7K2Q")
    assert placed["discount_codes"][0]["code"] == "MAYA-7K2Q"
    new = store.place_order(DEMO, lines=[("trail-mug", 1)], email="sam@example.com", first_name="Sam",
                            discount_code="MAYA-7K2Q")
    assert new["discount_codes"][0]["amount"] == "1.80"
    assert len(store.store.shop(DEMO)["orders"]) == orders + 2  # the refused checkouts placed nothing


def test_updating_the_context_opens_the_code_to_everyone_or_limits_it_again(store, token):  # noqa: F811
    segment = _segment(store, token)["segment"]["id"]
    did = _code(store, token, {"customerSegments": {"add": [segment]}})["codeDiscountNode"]["id"]
    opened = _graphql(store, DEMO, token, UPDATE, {"id": did, "d": {"context": {"all": "ALL"}}}).json()
    assert opened["data"]["discountCodeBasicUpdate"]["userErrors"] == []
    liam = store.store.customer_by_email(DEMO, "liam.chen@example.com")
    store.place_order(DEMO, lines=[("trail-mug", 1)], customer_id=liam["id"], discount_code="MAYA-7K2Q")
    limited = _graphql(store, DEMO, token, UPDATE, {"id": did, "d": {"context": {"customerSegments": {"add": [segment]}}}})
    assert limited.json()["data"]["discountCodeBasicUpdate"]["userErrors"] == []
    ava = store.store.customer_by_email(DEMO, "ava@example.com")
    with pytest.raises(StoreError, match="isn't valid for this customer"):
        store.place_order(DEMO, lines=[("trail-mug", 1)], customer_id=ava["id"], discount_code="MAYA-7K2Q")


def test_a_context_with_an_unknown_segment_or_two_kinds_of_buyer_is_refused(store, token):  # noqa: F811
    unknown = _code(store, token, {"customerSegments": {"add": ["gid://shopify/Segment/404"]}})
    assert unknown["codeDiscountNode"] is None
    assert unknown["userErrors"][0]["field"] == ["basicCodeDiscount", "context", "customerSegments"]
    segment = _segment(store, token)["segment"]["id"]
    both = _code(store, token, {"all": "ALL", "customerSegments": {"add": [segment]}})
    assert both["codeDiscountNode"] is None and both["userErrors"][0]["code"] == "INVALID"
    assert store.store.discount(DEMO, "MAYA-7K2Q") is None
    did = _code(store, token, {"all": "ALL"})["codeDiscountNode"]["id"]
    bad = _graphql(store, DEMO, token, UPDATE, {"id": did, "d": {"context": {"customerSegments": {"add": ["gid://shopify/Segment/1"]}}}})
    assert bad.json()["data"]["discountCodeBasicUpdate"]["userErrors"][0]["message"] == "Segment does not exist"
