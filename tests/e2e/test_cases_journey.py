"""The negative-review journey over real HTTP, against devstore, with a one-second day."""
from __future__ import annotations

import httpx
import pytest

from devstore.journeys.cases import case_journey
from tests.e2e.conftest import DEMO
from tests.e2e.harness import wait_until

pytestmark = pytest.mark.e2e


def test_one_star_review_to_resolved_case_with_a_code_and_no_marketing_meanwhile(installed):
    stack = installed
    journey = case_journey(stack.store, DEMO, request_delay=20)  # ADVOCATE_DAY_SECONDS=1: 14 days + sweeps

    status, rating_at_open, first_response = stack.db(
        "select status, rating_at_open, first_response_at from cases_case where id = ?", (journey.case_id,))[0]
    assert (status, rating_at_open) == ("resolved", 1) and first_response
    messages = stack.db("select direction from cases_casemessage where case_id = ? order by id", (journey.case_id,))
    assert [m[0] for m in messages] == ["out", "in", "out"]  # the reply, the answer, the code delivered
    [(kind, amount, code, remedy_status)] = stack.db(
        "select kind, amount, code, status from cases_remedy where case_id = ?", (journey.case_id,))
    assert (kind, remedy_status, code) == ("discount", "done", journey.code) and str(amount) in ("10", "10.00", "10.0")
    [discount] = [d for d in stack.store.discount_codes(DEMO) if d.get("code") == journey.code]
    assert discount["usage_limit"] == 1 and len(discount["customer_ids"]) == 1
    actions = {a for (a,) in stack.db("select action from cases_caseevent where case_id = ?", (journey.case_id,))}
    assert {"opened", "alert_sent", "replied_private", "customer_answered", "remedy", "remedy_done",
            "remedy_delivered", "status"} <= actions
    delivered = wait_until(lambda: [m for m in stack.store.mailbox() if m["subject"].startswith("Your code from")],
                           what="the code's email")
    assert len(delivered) == 1 and journey.code in delivered[0]["text"]

    # The second order's review request came due during the case and was held back (the journey
    # checked the mailbox; here is why).
    [(request_status, reason)] = wait_until(lambda: stack.db(
        "select r.status, r.skip_reason from reviews_reviewrequest r join shopapp_order o on o.id = r.order_id "
        "where o.shopify_id = ? and r.status != 'scheduled'", (journey.second_order_id,)), what="the second request")
    assert request_status == "skipped" and "open case" in reason
    alerts = [m for m in stack.store.mailbox() if "New case" in m["subject"]]
    assert len(alerts) == 1 and "owner@demo-outfitters.example" in alerts[0]["to"]

    # Shopify Flow heard of each step once, with Nora's and the order's Shopify ids (devstore's admin lists them).
    nora = stack.store.customer(DEMO, journey.email)
    runs = wait_until(lambda: [r for r in stack.store.flow_runs(DEMO) if r["payload"].get("customer_id") == nora["id"]
                               and r["handle"] == "advocate-case-resolved"] and
                      [r for r in stack.store.flow_runs(DEMO) if r["payload"].get("customer_id") == nora["id"]],
                      what="the Flow triggers about Nora")
    assert sorted(r["handle"] for r in runs) == ["advocate-case-opened", "advocate-case-resolved",
                                                 "advocate-negative-review", "advocate-review-published"]
    admin = httpx.get(f"{stack.store.url}/shops/{DEMO}/admin", timeout=30).text
    assert "Shopify Flow" in admin and "advocate-case-opened" in admin

    # A workflow elsewhere decides Nora is unhappy: the Flow action from devstore's admin pauses her emails.
    answer = httpx.post(f"{stack.store.url}/shops/{DEMO}/admin/actions/flow-pause", data={"customer": nora["id"], "days": "30"},
                        timeout=30)
    assert answer.status_code == 303 and "error" not in answer.headers["location"]
    assert stack.db("select count(*) from shopapp_emailpause where customer_shopify_id = ?", (nora["id"],)) == [(1,)]
