"""devstore's bulk queries and its seeded history, held to what Shopify does: JSONL with nested
connections flattened (`__parentId`), one query per app and shop, cancel, currentBulkOperation,
the scopes a query needs, the 60-day window without read_all_orders, and the finish webhook."""
from __future__ import annotations

import json
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from devstore.bulk import bulk_of
from devstore.history import history_orders, seed_history
from devstore.server import start

DEMO = "demo-outfitters.myshopify.com"
SCOPES = "read_orders,read_customers,read_products,read_all_orders"
RUN = "mutation($q: String!) { bulkOperationRunQuery(query: $q) { bulkOperation { id status } userErrors { field message code } } }"
ORDERS = """{ orders { edges { node { id name createdAt customer { id } refunds { id }
  lineItems { edges { node { id quantity product { id } } } } } } } }"""


@pytest.fixture
def store():
    running = start(app_url="http://127.0.0.1:9", api_key="key", api_secret="secret", smtp_port=None)
    running.seed()
    running.seed_history(DEMO, orders=300, years=2)
    yield running
    running.stop()


def _graphql(store, query: str, variables: dict | None = None, *, scopes: str = SCOPES) -> dict:
    store.store.app_install(DEMO, scopes=scopes)
    token = store.store.shop(DEMO)["app"]["access_token"] or store.store.tokens_issue(DEMO, expiring=True)["access_token"]
    response = httpx.post(f"{store.url}/shops/{DEMO}/admin/api/2026-10/graphql.json",
                          json={"query": query, "variables": variables or {}}, headers={"X-Shopify-Access-Token": token})
    return response.json()


def _run(store, query: str, **kwargs) -> dict:
    return _graphql(store, RUN, {"q": query}, **kwargs)["data"]["bulkOperationRunQuery"]


def _current(store) -> dict:
    return _graphql(store, "{ currentBulkOperation(type: QUERY) { id status errorCode objectCount rootObjectCount url } }"
                    )["data"]["currentBulkOperation"]


def _lines(store, url: str) -> list[dict]:
    return [json.loads(line) for line in httpx.get(url).text.splitlines()]


def test_a_bulk_query_writes_each_child_on_its_own_line_after_its_parent(store):
    assert _run(store, ORDERS)["userErrors"] == []
    bulk_of(store.store).wait()
    done = _current(store)
    assert done["status"] == "COMPLETED" and done["url"].endswith(".jsonl")
    lines = _lines(store, done["url"])
    orders = [line for line in lines if "__parentId" not in line]
    items = [line for line in lines if "__parentId" in line]
    assert len(orders) == int(done["rootObjectCount"]) == 303 and len(lines) == int(done["objectCount"])
    seen = set()
    for line in lines:  # every child after its parent, naming it
        if "__parentId" in line:
            assert line["__parentId"] in seen and line["id"].startswith("gid://shopify/LineItem/")
        else:
            seen.add(line["id"])
            assert "lineItems" not in line and isinstance(line["refunds"], list)  # a list stays inline
    assert len(items) == sum(len(o["line_items"]) for o in history_orders(store.store, DEMO)) + 3
    assert [o["id"] for o in orders] == sorted(o["id"] for o in orders)


def test_one_bulk_query_per_app_and_shop_and_current_bulk_operation_names_it(store):
    hold = threading.Event()
    bulk_of(store.store).switches[DEMO] = {"hold": hold}
    first = _run(store, ORDERS)["bulkOperation"]
    refused = _run(store, "{ products { edges { node { id } } } }")
    assert refused["bulkOperation"] is None and refused["userErrors"][0]["code"] == "OPERATION_IN_PROGRESS"
    assert _current(store)["id"] == first["id"]
    hold.set()
    bulk_of(store.store).wait()
    assert _current(store)["status"] == "COMPLETED"


def test_a_canceled_query_ends_canceled_without_a_result(store):
    hold = threading.Event()
    bulk_of(store.store).switches[DEMO] = {"hold": hold}
    operation = _run(store, ORDERS)["bulkOperation"]
    answer = _graphql(store, "mutation($id: ID!) { bulkOperationCancel(id: $id) { bulkOperation { status } userErrors { message } } }",
                      {"id": operation["id"]})["data"]["bulkOperationCancel"]
    assert answer == {"bulkOperation": {"status": "CANCELING"}, "userErrors": []}
    hold.set()
    bulk_of(store.store).wait()
    assert _current(store)["status"] == "CANCELED" and _current(store)["url"] is None
    finished = [d for d in store.webhook_deliveries(DEMO) if d["topic"] == "bulk_operations/finish"]
    assert len(finished) == 1


@pytest.mark.parametrize("query, message", [
    ("{ shop { name } }", "one connection"),
    ("mutation { tagsAdd(id: \"1\", tags: []) { node { id } } }", "one query operation"),
    ("{ orders { edges { node { name lineItems { edges { node { id } } } } } } }", "must select 'id'"),
    ("{ orders { edges { node { nope } } } }", "Cannot query field"),
])
def test_a_query_shopify_would_not_run_is_a_user_error(store, query, message):
    answer = _run(store, query)
    assert answer["bulkOperation"] is None and answer["userErrors"][0]["code"] == "INVALID"
    assert message in answer["userErrors"][0]["message"]


def test_without_the_scope_the_operation_fails_access_denied(store):
    _run(store, ORDERS, scopes="read_customers,read_products")
    bulk_of(store.store).wait()
    assert _current(store)["status"] == "FAILED" and _current(store)["errorCode"] == "ACCESS_DENIED"


def test_without_read_all_orders_only_the_last_sixty_days_are_shown(store):
    _run(store, ORDERS, scopes="read_orders,read_customers,read_products")
    bulk_of(store.store).wait()
    orders = [line for line in _lines(store, _current(store)["url"]) if "__parentId" not in line]
    since = datetime.now(timezone.utc) - timedelta(days=60, minutes=1)
    assert orders and all(datetime.fromisoformat(o["createdAt"].replace("Z", "+00:00")) >= since for o in orders)
    assert len(orders) < 303


def test_a_search_on_created_at_narrows_the_orders(store):
    cut = (datetime.now(timezone.utc) - timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ")
    _run(store, ORDERS.replace("orders {", f"orders(query: \"created_at:>='{cut}'\") {{"))
    bulk_of(store.store).wait()
    orders = [line for line in _lines(store, _current(store)["url"]) if "__parentId" not in line]
    assert orders and min(o["createdAt"] for o in orders) >= cut and len(orders) < 303


def test_seeded_history_is_realistic_fast_and_stored_as_a_recipe():
    running = start(app_url="http://127.0.0.1:9", api_key="key", api_secret="secret", smtp_port=None)
    try:
        running.seed()
        began = time.perf_counter()
        summary = running.seed_history(DEMO, orders=20_000, years=2)
        orders = list(history_orders(running.store, DEMO))
        seconds = time.perf_counter() - began
    finally:
        running.stop()
    assert seconds < 10 and summary["orders"] == len(orders) == 20_000
    assert len(running.store.shop(DEMO)["history"]) < 10  # a recipe, not the orders
    per_customer = Counter(o["customer_id"] for o in orders if o["customer_id"])
    repeat = sum(1 for n in per_customer.values() if n > 1) / len(per_customer)
    assert 0.2 < repeat < 0.6 and max(per_customer.values()) >= 10  # repeat buyers, a few very loyal ones
    assert 0.03 < sum(1 for o in orders if o["customer_id"] is None) / len(orders) < 0.12  # guests
    assert 0.04 < sum(1 for o in orders if o["refunds"]) / len(orders) < 0.10
    assert {"WELCOME10", "BFCM20"} <= {d["code"] for o in orders for d in o["discount_codes"]}
    assert any(d["code"].startswith("FRIEND-") for o in orders for d in o["discount_codes"])  # a few referrals
    times = [o["created_at"] for o in orders]
    assert times == sorted(times) and times[-1] > times[0]
    last_year = sum(1 for t in times if t >= (datetime.now(timezone.utc) - timedelta(days=365)).isoformat())
    assert last_year > len(times) / 2  # the shop grew
    assert seed_history(running.store, DEMO, orders=5) == summary  # once


def test_the_admin_grants_only_the_apps_declared_optional_scopes(store):
    from devstore.state import StoreError

    store.store.app_install(DEMO, scopes="read_orders")
    assert store.grant_scopes(DEMO, ["read_all_orders"]) == "read_orders,read_all_orders"
    with pytest.raises(StoreError, match="not among the app's optional scopes"):
        store.grant_scopes(DEMO, ["write_orders"])
    granted = httpx.post(f"{store.url}/shops/{DEMO}/admin/scopes", json={"scopes": ["read_all_orders"]}).json()
    assert granted == {"scopes": "read_orders,read_all_orders"}  # what App Bridge's scopes.request posts
    scopes = _graphql(store, "{ currentAppInstallation { accessScopes { handle } } }", scopes="read_orders,read_all_orders")
    assert [s["handle"] for s in scopes["data"]["currentAppInstallation"]["accessScopes"]] == ["read_orders", "read_all_orders"]


def test_result_files_are_removed_when_devstore_stops():
    running = start(app_url="http://127.0.0.1:9", api_key="key", api_secret="secret", smtp_port=None)
    running.seed()
    _run(running, ORDERS)
    bulk_of(running.store).wait()
    folder = bulk_of(running.store).folder
    assert folder is not None and list(folder.glob("*.jsonl"))
    running.stop()
    assert not folder.exists()
