"""What referrals asks Shopify for: the friend's and the reward's discount inputs, and code deletion.

Creating codes and moving store credit go through shopapp.discounts, shared with reviews.
API 2026-10: discount codes take `context` (not the deprecated `customerSelection`).
"""
from __future__ import annotations

from decimal import Decimal

from referrals.models import Advocate, ProgramSettings
from referrals.segments import first_order_segment_ensure
from shopapp.admin_api import AdminClient
from shopapp.discounts import personal_code_input, starts_now
from shopapp.models import Customer, Shop

DISCOUNT_DELETE = """
mutation referralDiscountDelete($id: ID!) {
  discountCodeDelete(id: $id) { deletedCodeDiscountId userErrors { field message code } }
}
"""


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
        "startsAt": starts_now(),
        "context": context,
        "customerGets": {"value": value, "items": {"all": True}},
        "appliesOncePerCustomer": True,
    }
    if program.friend_minimum_subtotal > 0:
        data["minimumRequirement"] = {"subtotal": {"greaterThanOrEqualToSubtotal": str(program.friend_minimum_subtotal)}}
    return data


def reward_discount_input(*, code: str, customer: Customer, amount: Decimal) -> dict:
    """A one-use code for the advocate alone: the reward when store credit is unavailable."""
    return personal_code_input(code=code, title=f"Referral reward {code}", customer_gid=customer.gid, amount=amount)


def discount_delete(shop: Shop, discount_gid: str) -> None:
    AdminClient(shop).mutate(DISCOUNT_DELETE, {"id": discount_gid}, field="discountCodeDelete")
