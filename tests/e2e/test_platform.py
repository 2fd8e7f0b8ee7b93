"""Platform journeys over real HTTP: install, tokens, webhooks, uninstall, compliance."""
from __future__ import annotations

import threading

import httpx
import pytest

from tests.e2e.conftest import DEMO, NORTH
from tests.e2e.harness import start_stack, wait_until

pytestmark = pytest.mark.e2e


def _shop_row(stack, domain):
    rows = stack.db("select id, name, currency, plan_name, is_plus, access_token, installed_at, uninstalled_at "
                    "from shopapp_shop where domain = ?", (domain,))
    return rows[0] if rows else None


def test_managed_install_exchanges_the_id_token_and_reads_the_shop(installed):
    app = installed.store.store.shop(DEMO)["app"]
    assert app["installed"] and app["access_token"] and app["refresh_token"]
    shop_id, name, currency, plan, is_plus, stored_token, installed_at, uninstalled_at = _shop_row(installed, DEMO)
    assert (name, currency, plan, is_plus) == ("Demo Outfitters", "USD", "Basic", 0)
    assert installed_at and not uninstalled_at
    assert stored_token and app["access_token"] not in stored_token  # encrypted at rest


def test_panel_without_a_token_bounces_through_app_bridge_for_a_fresh_one(installed):
    with installed.http() as http:
        first = http.get("/", params={"embedded": "1", "shop": DEMO, "host": "x"})
        assert first.status_code == 302 and "/auth/patch-id-token" in first.headers["location"]
        bounce = http.get(first.headers["location"])
    assert bounce.status_code == 200
    assert f"{installed.store.url}/app-bridge.js" in bounce.text  # devstore's App Bridge, offline
    assert "frame-ancestors" in bounce.headers["content-security-policy"]


def test_a_token_from_another_shop_never_opens_this_shops_panel(installed):
    with installed.http() as http:
        response = http.get("/", params={"embedded": "1", "shop": DEMO,
                                         "id_token": installed.store.session_token(DEMO) + "x"})
    assert response.status_code in (302, 401)
    assert _shop_row(installed, NORTH) is None  # no shop row appears for a shop that never installed


def test_webhooks_are_retried_until_advocate_answers(installed):
    store = installed.store
    customer = store.customer(DEMO, "liam.chen@example.com")
    installed.stop_app()
    try:
        order = store.place_order(DEMO, lines=[("trail-mug", 1)], customer_id=customer["id"])
        wait_until(lambda: any(d["topic"] == "orders/create" and d["attempts"] >= 1 and d["status"] == "pending"
                               for d in store.webhook_deliveries(DEMO)), what="a failed first delivery")
    finally:
        installed.start_app()
    assert store.wait_for_webhooks(30)
    wait_until(lambda: installed.db("select count(*) from shopapp_order where shopify_id = ?", (order["id"],))[0][0] == 1,
               what="the order in Advocate")
    delivery = next(d for d in store.webhook_deliveries(DEMO) if d["topic"] == "orders/create"
                    and d["status"] == "delivered" and d["attempts"] > 1)
    assert delivery["responses"][-1] == "200"


def test_duplicate_and_out_of_order_webhooks_end_in_the_right_state(installed):
    store = installed.store
    customer = store.customer(DEMO, "zoe.martin@example.com")
    store.set_webhook_mode("duplicate")
    try:
        order = store.place_order(DEMO, lines=[("merino-beanie", 1)], customer_id=customer["id"])
        assert store.wait_for_webhooks(20)
    finally:
        store.set_webhook_mode("normal")
    events = installed.db("select count(*), min(status) from shopapp_webhookevent where topic = 'orders/create' "
                          "and payload like ?", (f'%{order["id"]}%',))
    assert events[0][0] == 1  # the same webhook twice is one event

    store.set_webhook_mode("out_of_order")
    try:
        later = store.place_order(DEMO, lines=[("camp-blanket", 1)], customer_id=customer["id"])
        store.fulfil(DEMO, later["id"])
        store.refund(DEMO, later["id"], amount="20.00")
        assert store.wait_for_webhooks(20)
    finally:
        store.set_webhook_mode("normal")
    # refunds/create came before orders/create; Advocate retries it and ends up right.
    def refunded_and_fulfilled():
        rows = installed.db("select refunded, fulfilled_at is not null from shopapp_order where shopify_id = ?",
                            (later["id"],))
        return rows and float(rows[0][0]) == 20.0 and rows[0][1] == 1

    wait_until(refunded_and_fulfilled, timeout=40, what="the refund to be counted once the order arrived")


def test_uninstall_stops_access_and_reinstall_brings_the_data_back(installed):
    store = installed.store
    orders_before = installed.db("select count(*) from shopapp_order o join shopapp_shop s on o.shop_id = s.id "
                                 "where s.domain = ?", (DEMO,))[0][0]
    shop_id = _shop_row(installed, DEMO)[0]
    store.uninstall(DEMO)
    wait_until(lambda: _shop_row(installed, DEMO)[7] is not None, what="Advocate to mark the shop uninstalled")
    assert _shop_row(installed, DEMO)[5] == ""  # tokens dropped
    response = store.install(DEMO)
    assert response.status_code == 200
    row = _shop_row(installed, DEMO)
    assert row[0] == shop_id and row[7] is None and row[5]
    assert installed.db("select count(*) from shopapp_order o join shopapp_shop s on o.shop_id = s.id "
                        "where s.domain = ?", (DEMO,))[0][0] == orders_before


def test_compliance_requests_export_then_erase_a_customer(installed):
    store = installed.store
    customer = store.customer(DEMO, "liam.chen@example.com")
    store.compliance(DEMO, "customers/data_request", customer["id"])
    wait_until(lambda: installed.db("select count(*) from shopapp_customerdataexport")[0][0] >= 1,
               what="the data export")
    store.compliance(DEMO, "customers/redact", customer["id"])
    wait_until(lambda: installed.db("select email, redacted_at is not null from shopapp_customer where shopify_id = ?",
                                    (customer["id"],)) == [("", 1)], what="the customer erased")


def test_token_refresh_from_two_workers_at_once_keeps_one_valid_token():
    stack = start_stack(token_ttl=60)  # shorter than Advocate's 5-minute margin: every use refreshes
    try:
        assert stack.store.install(NORTH).status_code == 200
        results = []

        def check():
            results.append(stack.manage("shop_check", NORTH))

        workers = [threading.Thread(target=check) for _ in range(2)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
        # The token Advocate kept still refreshes: no worker lost the rotation.
        final = stack.manage("shop_check", NORTH)
        assert final.returncode == 0, final.stderr
        assert "is connected: North Pole Goods, EUR" in final.stdout
        app = stack.store.store.shop(NORTH)["app"]
        assert len(app["used_refresh_tokens"]) >= 3
    finally:
        stack.stop()


def test_graphql_answers_throttled_when_the_bucket_is_empty(installed):
    token = installed.store.store.shop(DEMO)["app"]["access_token"]
    installed.store.set_bucket(DEMO, 0)
    url = f"{installed.store.url}/shops/{DEMO}/admin/api/2026-10/graphql.json"
    query = "{ products(first: 50) { nodes { title } } }"  # 52 points; the bucket restores 100 a second
    body = httpx.post(url, json={"query": query}, headers={"X-Shopify-Access-Token": token}).json()
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert body["extensions"]["cost"]["throttleStatus"]["restoreRate"] == 100.0
