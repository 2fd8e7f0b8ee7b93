from __future__ import annotations

from tests.devstore.test_devstore import DEMO, _exchange, _graphql, app_server, store  # noqa: F401  (fixtures)

CREATE = """mutation($d: DiscountCodeBasicInput!) { discountCodeBasicCreate(basicCodeDiscount: $d) {
  codeDiscountNode { id } userErrors { field message code } } }"""
UPDATE = """mutation($id: ID!, $d: DiscountCodeBasicInput!) { discountCodeBasicUpdate(id: $id, basicCodeDiscount: $d) {
  codeDiscountNode { id } userErrors { field message code } } }"""


def test_updating_a_code_changes_what_the_next_checkout_gets(store):  # noqa: F811
    store.store.app_install(DEMO)
    token = _exchange(store, DEMO).json()["access_token"]
    created = _graphql(store, DEMO, token, CREATE, {"d": {
        "title": "Referral", "code": "MAYA-7K2Q", "context": {"all": "ALL"}, "appliesOncePerCustomer": True,
        "customerGets": {"value": {"percentage": 0.15}, "items": {"all": True}},
        "minimumRequirement": {"subtotal": {"greaterThanOrEqualToSubtotal": "30.00"}}}}).json()
    did = created["data"]["discountCodeBasicCreate"]["codeDiscountNode"]["id"]
    bad = _graphql(store, DEMO, token, UPDATE, {"id": did, "d": {"customerGets": {"value": {"percentage": 2}}}}).json()
    assert bad["data"]["discountCodeBasicUpdate"]["userErrors"][0]["code"] == "VALUE_OUTSIDE_RANGE"
    missing = _graphql(store, DEMO, token, UPDATE, {"id": "gid://shopify/DiscountCodeNode/999999", "d": {}}).json()
    assert missing["data"]["discountCodeBasicUpdate"]["userErrors"][0]["field"] == ["id"]
    updated = _graphql(store, DEMO, token, UPDATE, {"id": did, "d": {
        "customerGets": {"value": {"discountAmount": {"amount": "5.00", "appliesOnEachItem": False}}, "items": {"all": True}},
        "minimumRequirement": {"subtotal": {"greaterThanOrEqualToSubtotal": None}},  # no minimum any more
        "appliesOncePerCustomer": True}}).json()["data"]["discountCodeBasicUpdate"]
    assert updated == {"codeDiscountNode": {"id": did}, "userErrors": []}
    order = store.place_order(DEMO, lines=[("trail-mug", 1)], email="new@example.com", first_name="New",
                              discount_code="MAYA-7K2Q")  # one mug: under the old minimum
    assert order["discount_codes"][0]["code"] == "MAYA-7K2Q"
    assert order["discount_codes"][0]["amount"] == "5.00"
