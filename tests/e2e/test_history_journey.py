"""Installing Advocate on a shop with two years of history (#18): devstore and Advocate as real
processes, the import started by the install itself, a progress bar on the dashboard while Shopify
exports, then the dashboard's figures filled from the past orders, with nobody emailed."""
from __future__ import annotations

import threading

import pytest

from devstore.bulk import bulk_of
from devstore.history import history_orders
from tests.e2e.conftest import DEMO
from tests.e2e.harness import start_stack, wait_until

pytestmark = pytest.mark.e2e
ORDERS = 3000


@pytest.fixture(scope="module")
def stack():
    running = start_stack(extra_env={"HISTORY_IMPORT_ON_INSTALL": "1"})
    running.store.seed_history(DEMO, orders=ORDERS, years=2)
    yield running
    running.stop()


def test_install_imports_the_history_with_a_progress_bar_and_fills_the_dashboard(stack):
    hold = threading.Event()
    bulk_of(stack.store.store).switches[DEMO] = {"hold": hold}  # Shopify takes its time with the export
    assert stack.store.install(DEMO).status_code == 200
    wait_until(lambda: stack.db("SELECT status FROM shopapp_historyimport"), what="the import to start")
    dashboard = stack.store.open_app(DEMO, "/").text
    assert "Importing your history since" in dashboard and "<progress" in dashboard
    page = stack.store.open_app(DEMO, "/app/history/").text
    assert "Shopify is gathering them" in page and "Cancel the import" in page

    bulk_of(stack.store.store).switches[DEMO] = {}
    hold.set()
    wait_until(lambda: stack.db("SELECT status FROM shopapp_historyimport")[0][0] == "done", timeout=120,
               interval=0.5, what="the import to finish")
    shopify = list(history_orders(stack.store.store, DEMO))
    recent = [o for o in shopify if o["created_at"] >= _since(stack)]
    assert stack.db("SELECT COUNT(*) FROM shopapp_order")[0][0] == len(recent) + 3
    assert stack.db("SELECT COUNT(*) FROM shopapp_orderday")[0][0] > 30
    dashboard = stack.store.open_app(DEMO, "/?range=365").text
    assert "Includes your orders since" in dashboard and "No orders in the last 365 days" not in dashboard
    assert stack.store.mailbox() == []  # nobody is asked to review last spring's purchase
    assert "Your history is in" in stack.store.open_app(DEMO, "/app/history/").text


def _since(stack) -> str:
    since = stack.db("SELECT since FROM shopapp_historyimport")[0][0]  # SQLite: '2026-10-05 06:12:00.123+00:00'
    return since.replace(" ", "T")[:19] + "Z"
