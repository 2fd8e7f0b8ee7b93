"""The referrals journeys of the demo smoke run: `from devstore.demo import smoke_step, StepFailed, Demo, SHOP`.

A friend opens the advocate's link, follows it to the store's discount link, checks out
with the code; the order is attributed, held (the demo's short days), and the advocate
gets store credit in devstore. A second friend's order refunded during the hold earns
nothing. The helpers here also drive tests/e2e/test_referrals_journey.py.
"""
from __future__ import annotations

import re
import time
import uuid
from decimal import Decimal
from html import unescape

import httpx

from devstore.demo import SHOP, Demo, StepFailed, _wait, smoke_step
from devstore.server import DevStore

# The merchant's program: the default offer, a fixed reward and a hold of a few (compressed) days.
PROGRAM = {
    "enabled": "on", "friend_offer_kind": "percent", "friend_offer_value": "10", "friend_minimum_subtotal": "0",
    "friend_first_order_only": "on", "reward_kind": "fixed", "reward_value": "10", "reward_cap": "",
    "hold_days": "5", "monthly_cap": "", "weekly_referral_limit": "5", "landing_text": "",
}


def program_save(store: DevStore, app_url: str, domain: str, **changes: str) -> None:
    """Save the referral settings through the panel, as the merchant's admin frame posts them."""
    response = httpx.post(f"{app_url}/app/referrals/settings/", data={**PROGRAM, **changes}, timeout=30,
                          headers={"Authorization": f"Bearer {store.session_token(domain)}"})
    if response.status_code != 200 or "Referral settings saved." not in response.text:
        raise StepFailed(f"saving the referral settings answered {response.status_code}")


def advocate_code(store: DevStore, domain: str, first_name: str) -> str | None:
    """The advocate's code, as Shopify holds it (the friend discount Advocate created)."""
    prefix = f"Referral from {first_name.upper()}-"
    found = [d["code"] for d in store.discount_codes(domain) if d.get("title", "").startswith(prefix)]
    return found[-1] if found else None


def friend_checkout(store: DevStore, app_url: str, domain: str, code: str, *, first_name: str,
                    product: str = "trail-mug", prefilled: bool = False) -> int:
    """A new friend: opens /r/<code>, follows its button to the store's discount link, buys with the code.

    `prefilled` keeps what devstore's checkout form suggests, as someone following the README does."""
    email = f"{first_name.lower()}.{uuid.uuid4().hex[:8]}@example.com"
    with httpx.Client(timeout=30, follow_redirects=True, headers={"User-Agent": f"Mozilla/5.0 ({first_name}'s phone)"}) as friend:
        landing = friend.get(f"{app_url}/r/{code}")
        if landing.status_code != 200:
            raise StepFailed(f"the referral link /r/{code} answered {landing.status_code}")
        go = re.search(r'href="([^"]*/discount/[^"]+)"', landing.text)
        if not go:
            raise StepFailed("the referral landing page has no link to the store's discount")
        home = friend.get(unescape(go.group(1)))
        if home.status_code != 200 or "discount_code" not in friend.cookies:
            raise StepFailed(f"the store's discount link answered {home.status_code} without applying the code")
        shop_base = f"{store.url}/shops/{domain}"
        cart = friend.post(f"{shop_base}/cart", data={"product": product, "quantity": "1"})
        form = {"email": email, "first_name": first_name, "last_name": "Friend", "discount_code": code,
                "address1": f"{uuid.uuid4().int % 900 + 100} Friend Lane", "city": "Portland", "zip": "97201",
                "country": "US"}
        if prefilled:  # keep what the form suggests; type only what it leaves empty
            suggested = re.findall(r'<input id=\w+ name=(\w+) [^>]*value="([^"]*)"', cart.text)
            form = {**form, **{name: unescape(value) for name, value in suggested if value}}
        placed = friend.post(f"{shop_base}/checkout", data=form)
    order = re.search(r"/orders/(\d+)$", str(placed.url))
    if not order:
        error = re.search(r"<p class=error role=alert>(.*?)</p>", placed.text)
        raise StepFailed(f"checkout with {code} did not place an order: {unescape(error.group(1)) if error else placed.status_code}")
    return int(order.group(1))


def credit_balance(store: DevStore, domain: str, customer_id: int) -> Decimal:
    return sum((Decimal(a["balance"]) for a in store.store_credit(domain, customer_id)), Decimal("0"))


@smoke_step("a friend's referred order earns the advocate store credit; a refunded one earns nothing")
def _smoke_referral(demo: Demo) -> None:
    store = demo.store
    maya = store.customer(SHOP, "maya@example.com")
    program_save(store, demo.app_url, SHOP)
    _wait(lambda: advocate_code(store, SHOP, "Maya") is not None, "Maya's referral code in Shopify")
    code = advocate_code(store, SHOP, "Maya")
    before = credit_balance(store, SHOP, maya["id"])
    kept = friend_checkout(store, demo.app_url, SHOP, code, first_name="Sam", prefilled=True)  # as the README does
    returned = friend_checkout(store, demo.app_url, SHOP, code, first_name="Noor")
    for order_id in (kept, returned):
        if store.store.order(SHOP, order_id)["discount_codes"][0]["code"].upper() != code.upper():
            raise StepFailed("the friend's order does not carry the advocate's code")
        store.fulfil(SHOP, order_id)
    store.refund(SHOP, returned)
    # The hold is 5 demo days (10 s): the kept order pays 10.00 once, the refunded one nothing.
    _wait(lambda: credit_balance(store, SHOP, maya["id"]) > before, "Maya's store credit in devstore", timeout=60)
    time.sleep(3)
    earned = credit_balance(store, SHOP, maya["id"]) - before
    if earned != Decimal("10.00"):
        raise StepFailed(f"Maya earned {earned} in store credit, expected 10.00 for one kept order")
    page = demo.panel("/app/referrals/")
    if page.status_code != 200:
        raise StepFailed(f"the referrals panel answered {page.status_code}")
