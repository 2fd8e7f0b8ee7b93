"""The Shopify Admin GraphQL operations referrals uses, and nothing else.

API 2026-10: discount codes take `context` (not the deprecated `customerSelection`);
store credit is credited on the customer's id.
"""
from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from referrals.models import Advocate, ProgramSettings
from referrals.segments import first_order_segment_ensure
from shopapp.admin_api import AdminClient
from shopapp.models import Customer, Shop

DISCOUNT_CREATE = """
mutation referralDiscountCreate($input: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $input) {
    codeDiscountNode { id }
    userErrors { field message code }
  }
}
"""

DISCOUNT_DELETE = """
mutation referralDiscountDelete($id: ID!) {
  discountCodeDelete(id: $id) { deletedCodeDiscountId userErrors { field message code } }
}
"""

DISCOUNT_BY_CODE = """
query referralDiscountByCode($code: String!) {
  codeDiscountNodeByCode(code: $code) { id }
}
"""

CREDIT_BALANCE = """
query referralCreditBalance($id: ID!) {
  customer(id: $id) { storeCreditAccounts(first: 10) { nodes { id balance { amount currencyCode } } } }
}
"""

STORE_CREDIT = """
mutation referralStoreCredit($id: ID!, $creditInput: StoreCreditAccountCreditInput!) {
  storeCreditAccountCredit(id: $id, creditInput: $creditInput) {
    storeCreditAccountTransaction { id amount { amount currencyCode } }
    userErrors { field message code }
  }
}
"""

# Shopify's answers when a shop cannot hold store credit (not enabled, or not in this currency).
STORE_CREDIT_UNAVAILABLE = {"UNSUPPORTED_CURRENCY", "STORE_CREDIT_NOT_ENABLED", "ACCOUNT_NOT_SUPPORTED"}


def _starts_now() -> str:
    # Whole seconds, as Shopify keeps them: a start a few microseconds "ahead" would make
    # a code used within the same second look not yet active.
    return timezone.now().replace(microsecond=0).isoformat()


def discount_lookup(shop: Shop, code: str) -> str | None:
    """The id of the discount that already holds `code`, or None."""
    data = AdminClient(shop).query(DISCOUNT_BY_CODE, {"code": code}, cost=2)
    node = data.get("codeDiscountNodeByCode")
    return node["id"] if node else None


def friend_discount_input(advocate: Advocate, program: ProgramSettings) -> dict:
    """A code every friend may use once: the shop's offer, minimum and once-per-customer rule, and
    with "first order only" a context of customers with no orders yet. That segment is made in
    Shopify on first need, so this can raise ShopifyError."""
    if program.friend_offer_kind == ProgramSettings.OfferKind.PERCENT:
        value = {"percentage": float(program.friend_offer_value / 100)}
    else:
        value = {"discountAmount": {"amount": str(program.friend_offer_value), "appliesOnEachItem": False}}
    if program.friend_first_order_only:
        # Shopify refuses the code at checkout to anyone who has ordered before (guests by email too).
        segment = first_order_segment_ensure(shop=advocate.shop, program=program, recheck=bool(advocate.code_error))
        context = {"customerSegments": {"add": [segment]}}
    else:
        context = {"all": "ALL"}
    data = {
        "title": f"Referral from {advocate.code}",
        "code": advocate.code,
        "startsAt": _starts_now(),
        "context": context,
        "customerGets": {"value": value, "items": {"all": True}},
        "appliesOncePerCustomer": True,
    }
    if program.friend_minimum_subtotal > 0:
        data["minimumRequirement"] = {"subtotal": {"greaterThanOrEqualToSubtotal": str(program.friend_minimum_subtotal)}}
    return data


def reward_discount_input(*, code: str, customer: Customer, amount: Decimal) -> dict:
    """A one-use code for the advocate alone: the reward when store credit is unavailable."""
    return {
        "title": f"Referral reward {code}",
        "code": code,
        "startsAt": _starts_now(),
        "context": {"customers": {"add": [customer.gid]}},
        "customerGets": {"value": {"discountAmount": {"amount": str(amount), "appliesOnEachItem": False}},
                         "items": {"all": True}},
        "appliesOncePerCustomer": True,
        "usageLimit": 1,
    }


def discount_create(shop: Shop, data: dict) -> str:
    """Create the code; return its discount id. ShopifyUserError if Shopify refuses."""
    payload = AdminClient(shop).mutate(DISCOUNT_CREATE, {"input": data}, field="discountCodeBasicCreate")
    return (payload.get("codeDiscountNode") or {}).get("id", "")


def discount_delete(shop: Shop, discount_gid: str) -> None:
    AdminClient(shop).mutate(DISCOUNT_DELETE, {"id": discount_gid}, field="discountCodeDelete")


def credit_balance(shop: Shop, customer: Customer, currency: str) -> Decimal:
    """The customer's store credit balance in `currency` (0 when they have no account yet)."""
    data = AdminClient(shop).query(CREDIT_BALANCE, {"id": customer.gid}, cost=5)
    accounts = ((data.get("customer") or {}).get("storeCreditAccounts") or {}).get("nodes") or []
    return sum(
        (Decimal(str(a["balance"]["amount"])) for a in accounts if a["balance"]["currencyCode"] == currency),
        Decimal("0.00"),
    )


def store_credit(shop: Shop, customer: Customer, amount: Decimal, currency: str) -> str:
    """Credit the customer's account; return Shopify's transaction id."""
    payload = AdminClient(shop).mutate(
        STORE_CREDIT,
        # notify: Shopify tells the customer about their new credit in its own email.
        {"id": customer.gid, "creditInput": {"creditAmount": {"amount": str(amount), "currencyCode": currency},
                                             "notify": True}},
        field="storeCreditAccountCredit",
    )
    return (payload.get("storeCreditAccountTransaction") or {}).get("id", "")
