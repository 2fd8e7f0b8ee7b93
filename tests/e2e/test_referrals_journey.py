"""The referral journey over real HTTP: Maya's link, a friend's checkout with her code in devstore,
attribution, the hold (1-second days), store credit in devstore; a refunded order earns nothing."""
from __future__ import annotations

from decimal import Decimal

import pytest

from devstore.journeys.referrals import advocate_code, credit_balance, friend_checkout, program_save
from devstore.state import StoreError
from tests.e2e.conftest import DEMO
from tests.e2e.harness import wait_until

pytestmark = pytest.mark.e2e


def _referral(stack, order_id):
    rows = stack.db("select r.status, r.via, r.reward_amount, r.hold_until, r.void_reason from referrals_referral r "
                    "join shopapp_order o on o.id = r.order_id where o.shopify_id = ?", (order_id,))
    return rows[0] if rows else None


def test_friend_order_with_the_code_pays_maya_store_credit_once_and_a_refunded_one_nothing(installed):
    stack, store = installed, installed.store
    program_save(store, stack.app_url, DEMO)  # hold of 5 days = 5 seconds here
    maya = store.customer(DEMO, "maya@example.com")
    mine = store.place_order(DEMO, lines=[("merino-beanie", 1)], customer_id=maya["id"])
    store.fulfil(DEMO, mine["id"])
    code = wait_until(lambda: advocate_code(store, DEMO, "Maya"), what="Maya's code as a Shopify discount")
    # Shopify holds the code a moment before Advocate's worker commits its own row.
    wait_until(lambda: stack.db("select code_state from referrals_advocate where code = ?", (code,)) == [("created",)],
               what="Maya's code recorded as created")
    # First order only (on): Shopify itself refuses her code to a customer who has ordered before.
    liam = store.customer(DEMO, "liam.chen@example.com")
    with pytest.raises(StoreError, match="isn't valid for this customer"):
        store.place_order(DEMO, lines=[("trail-mug", 1)], customer_id=liam["id"], discount_code=code)

    # Her invitation arrives after her own order was fulfilled, with her link and her own page.
    invitation = wait_until(lambda: next((m for m in store.mailbox() if "maya@example.com" in m["to"]
                                          and "Give your friends" in m["subject"]), None), what="the invitation email")
    assert f"{stack.app_url}/r/{code}" in invitation["text"] and "/referrals/me/" in invitation["text"]

    kept = friend_checkout(store, stack.app_url, DEMO, code, first_name="Sam")
    returned = friend_checkout(store, stack.app_url, DEMO, code, first_name="Noor")
    # Clicks are written behind the response, within CLICK_BATCH_MAX_WAIT_MS.
    wait_until(lambda: stack.db("select count(*) from referrals_click c join referrals_advocate a on a.id = c.advocate_id "
                                "where a.code = ? and c.own = 0", (code,))[0][0] == 2, what="both clicks recorded")
    for order_id in (kept, returned):
        wait_until(lambda: _referral(stack, order_id), what="the friend's order attributed to Maya")
        assert _referral(stack, order_id)[:3] == ("pending", "code", 10)
        store.fulfil(DEMO, order_id)
    store.refund(DEMO, returned)
    wait_until(lambda: _referral(stack, returned)[0] == "void", what="the refunded order's reward voided")
    assert "refunded" in _referral(stack, returned)[4]

    wait_until(lambda: _referral(stack, kept)[0] == "issued", timeout=40, what="the kept order's reward issued")
    assert credit_balance(store, DEMO, maya["id"]) == Decimal("10.00")
    [entry] = stack.db("select e.status, e.method, e.amount, e.currency, e.shopify_ref from referrals_creditentry e "
                       "join referrals_advocate a on a.id = e.advocate_id where a.code = ?", (code,))
    assert entry[:4] == ("confirmed", "store_credit", 10, "USD")
    assert entry[4].startswith("gid://shopify/StoreCreditAccountCreditTransaction/")

    # Later sweeps pay nothing more: the refunded order stays void and the ledger holds one entry.
    wait_until(lambda: stack.db("select count(*) from referrals_creditentry")[0][0] == 1, what="one ledger entry")
    import time

    time.sleep(3)
    assert credit_balance(store, DEMO, maya["id"]) == Decimal("10.00")
    assert _referral(stack, returned)[0] == "void"


def test_where_store_credit_is_unavailable_the_reward_is_an_emailed_one_use_code(installed):
    from tests.e2e.conftest import NORTH

    stack, store = installed, installed.store
    assert store.install(NORTH).status_code == 200
    store.store.shop(NORTH)["store_credit"] = False  # the shop's plan or currency has no store credit
    program_save(store, stack.app_url, NORTH, hold_days="1")
    elsa = store.customer(NORTH, "elsa@example.com")
    store.fulfil(NORTH, store.place_order(NORTH, lines=[("wool-mittens", 1)], customer_id=elsa["id"])["id"])
    code = wait_until(lambda: advocate_code(store, NORTH, "Elsa"), what="Elsa's referral code")
    friend = friend_checkout(store, stack.app_url, NORTH, code, first_name="Ida", product="spiced-tea-tin")
    wait_until(lambda: _referral(stack, friend), what="the friend's order attributed to Elsa")
    store.fulfil(NORTH, friend)

    wait_until(lambda: _referral(stack, friend)[0] == "issued", timeout=30, what="Elsa's reward issued")
    reward = next(d for d in store.discount_codes(NORTH) if d["code"].startswith("THANKS-"))
    assert (reward["customer_ids"], reward["usage_limit"], reward["amount"]) == ([elsa["id"]], 1, "10.00")
    mail = wait_until(lambda: next((m for m in store.mailbox() if "elsa@example.com" in m["to"]
                                    and reward["code"] in m["text"]), None), what="the reward code email")
    assert "€10.00" in mail["subject"]  # Elsa's order names no language: the shop's, English
    assert credit_balance(store, NORTH, elsa["id"]) == Decimal("0")
    entries = stack.db("select e.status, e.method from referrals_creditentry e join referrals_advocate a "
                       "on a.id = e.advocate_id where a.code = ? order by e.id", (code,))
    assert entries == [("cancelled", "store_credit"), ("confirmed", "discount_code")]


def test_a_friend_who_keeps_the_checkouts_prefilled_details_is_not_taken_for_the_advocate(installed):
    # The README's journey: Maya has bought before (at the seeded customers' address); a friend
    # opens her link in a private window and checks out with what devstore's form suggests.
    stack, store = installed, installed.store
    program_save(store, stack.app_url, DEMO)
    maya = store.customer(DEMO, "maya@example.com")
    store.fulfil(DEMO, store.place_order(DEMO, lines=[("trail-mug", 1)], customer_id=maya["id"])["id"])
    code = wait_until(lambda: advocate_code(store, DEMO, "Maya"), what="Maya's code as a Shopify discount")

    friend = friend_checkout(store, stack.app_url, DEMO, code, first_name="Sam", prefilled=True)
    order = store.store.order(DEMO, friend)
    assert order["discount_codes"][0]["code"].upper() == code.upper()  # the code came prefilled too
    wait_until(lambda: _referral(stack, friend), what="the friend's order attributed to Maya")
    status, via, reward, _, reason = _referral(stack, friend)
    assert (status, via, reward) == ("pending", "code", 10), reason
    flags = stack.db("select r.fraud_reasons from referrals_referral r join shopapp_order o on o.id = r.order_id "
                     "where o.shopify_id = ?", (friend,))
    assert flags in ([(None,)], [("[]",)]), flags
