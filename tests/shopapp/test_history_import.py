"""The history import (#18) end to end against devstore: Demo Outfitters with two years of past
orders, read through three bulk queries and stored in batches, under each way it can go wrong."""
from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from shopapp import history
from shopapp.bulk import bulk_settle, bulk_sweep
from shopapp.history import history_import_advance, history_import_cancel, history_import_start
from shopapp.models import BulkOperation, Customer, HistoryImport, Order, OrderDay, OrderLine, OrderRefund, ProductCard
from tests.money.conftest import DEMO, connected_shop, devstore  # noqa: F401  (the devstore fixture)

pytestmark = pytest.mark.django_db
ALL_SCOPES = "read_orders,read_customers,read_products,read_all_orders"
ORDERS = 150


class Killed(BaseException):
    """A worker dying mid-file: not an Exception, so nothing on the way catches it."""


@pytest.fixture
def store(devstore):  # noqa: F811
    devstore.seed_history(DEMO, orders=ORDERS, years=2)
    return devstore


@pytest.fixture
def shop(db, store):
    return connected_shop(store, scopes=ALL_SCOPES)


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(history, "BATCH_LINES", 40)


@pytest.fixture
def run(store, django_capture_on_commit_callbacks):
    """run(shop, months=24) starts an import and drives it to its end the way the finish webhook
    (here: the settle job) would; the import row."""
    def drive(shop, *, months: int = 24, start: bool = True) -> HistoryImport:
        with django_capture_on_commit_callbacks(execute=True):
            row = history_import_start(shop=shop, months=months) if start else \
                HistoryImport.objects.get(shop=shop, status=HistoryImport.Status.RUNNING)
        for _ in range(10):
            _bulk(store).wait(30)
            row.refresh_from_db()
            if row.status != HistoryImport.Status.RUNNING:
                return row
            with django_capture_on_commit_callbacks(execute=True):
                for pk in BulkOperation.objects.filter(shop=shop, status__in=BulkOperation.OPEN).values_list("pk", flat=True):
                    bulk_settle(pk)
        raise AssertionError(f"the import did not finish: {row.status} {row.phase} {row.error}")
    return drive


def _bulk(store):
    from devstore.bulk import bulk_of

    return bulk_of(store.store)


def _queries(store) -> list[dict]:
    return [o for o in _bulk(store).operations(DEMO) if o["type"] == "QUERY"]


def _shopify_orders(store, *, since=None) -> list[dict]:
    from devstore.history import history_orders

    placed = list(store.store.shop(DEMO)["orders"].values())
    orders = list(history_orders(store.store, DEMO)) + placed
    return [o for o in orders if since is None or o["created_at"] >= since.strftime("%Y-%m-%dT%H:%M:%SZ")]


def _sorted(rows) -> list:
    return sorted(rows, key=repr)  # guests have no Shopify id


def _snapshot(shop) -> dict:
    """Every row the import writes, as comparable tuples (no primary keys)."""
    return {
        "customers": _sorted(Customer.objects.filter(shop=shop).values_list(
            "shopify_id", "email", "first_name", "marketing", "orders_count", "total_spent", "last_order_at")),
        "orders": _sorted(Order.objects.filter(shop=shop).values_list(
            "shopify_id", "customer__shopify_id", "email", "total", "subtotal", "refunded", "financial_status",
            "placed_at", "paid_at", "fulfilled_at", "cancelled_at", "discount_codes")),
        "lines": _sorted(OrderLine.objects.filter(order__shop=shop).values_list(
            "order__shopify_id", "shopify_id", "product_id", "quantity", "price", "refunded_quantity", "fulfilled_at")),
        "refunds": _sorted(OrderRefund.objects.filter(order__shop=shop).values_list("order__shopify_id", "shopify_id", "amount")),
        "days": _sorted(OrderDay.objects.filter(shop=shop).values_list("day", "orders", "revenue", "refunded")),
        "products": _sorted(ProductCard.objects.filter(shop=shop).values_list("shopify_id", "title", "price")),
    }


def test_an_import_brings_in_customers_orders_lines_refunds_and_products(shop, store, run):
    row = run(shop)
    assert row.status == HistoryImport.Status.DONE and row.phase == HistoryImport.Phase.DONE and row.error == ""
    shopify = _shopify_orders(store)
    assert Order.objects.filter(shop=shop).count() == len(shopify) == ORDERS + 3  # the seed's own 3 too
    assert OrderLine.objects.filter(order__shop=shop).count() == sum(len(o["line_items"]) for o in shopify)
    refunded = [o for o in shopify if o["refunds"]]
    assert refunded and OrderRefund.objects.filter(order__shop=shop).count() == len(refunded)
    for o in refunded:
        assert Order.objects.get(shop=shop, shopify_id=o["id"]).refunded == Decimal(o["refunded"])
    # A repeat buyer's counters, and the days the dashboard reads, are those of their orders.
    buyers: dict[int, list[dict]] = {}
    for o in shopify:
        if o["customer_id"] and not o["cancelled_at"]:
            buyers.setdefault(o["customer_id"], []).append(o)
    loyal, theirs = max(buyers.items(), key=lambda item: len(item[1]))
    customer = Customer.objects.get(shop=shop, shopify_id=loyal)
    assert len(theirs) > 2 and customer.orders_count == len(theirs)
    assert customer.total_spent == sum(Decimal(o["total"]) - Decimal(o["refunded"]) for o in theirs)
    live = [o for o in shopify if not o["cancelled_at"]]
    assert sum(d.orders for d in OrderDay.objects.filter(shop=shop)) == len(live)
    assert sum(d.revenue for d in OrderDay.objects.filter(shop=shop)) == sum(Decimal(o["total"]) for o in live)
    # Consent as Shopify holds it, and every product.
    unsubscribed = next(c for c in store.store.shop(DEMO)["customers"].values() if c["marketing"] == "UNSUBSCRIBED")
    assert Customer.objects.get(shop=shop, shopify_id=unsubscribed["id"]).marketing == Customer.Marketing.UNSUBSCRIBED
    assert ProductCard.objects.filter(shop=shop).count() == len(store.store.shop(DEMO)["products"])
    assert row.orders_new == len(shopify) and row.customers_new == len(store.store.shop(DEMO)["customers"])
    assert len(_queries(store)) == 3  # customers, orders, products: one bulk query each


def test_imported_orders_ask_for_no_review_and_send_no_email(shop, store, run):
    from reviews.models import ReviewRequest

    run(shop)
    assert Order.objects.filter(shop=shop, fulfilled_at__isnull=False).count() > 100
    assert ReviewRequest.objects.count() == 0 and mail.outbox == []


def test_the_existing_customer_rule_sees_orders_from_before_install(shop, store, run):
    from referrals.fraud import existing_customer
    from referrals.models import Advocate, ProgramSettings

    run(shop)
    maya = Customer.objects.get(shop=shop, email="maya@example.com")
    advocate = Advocate.objects.create(shop=shop, customer=maya, code="MAYA-1", code_state=Advocate.CodeState.CREATED)
    regular = Customer.objects.filter(shop=shop, orders_count__gte=2).exclude(pk=maya.pk).first()
    friend_order = Order.objects.create(shop=shop, shopify_id=1, customer=regular, email=regular.email, currency="USD",
                                        total=Decimal("20.00"), placed_at=timezone.now())
    program = ProgramSettings(shop=shop, friend_first_order_only=True)
    assert existing_customer(advocate, friend_order, program) is not None


def test_an_order_imported_then_received_by_webhook_is_one_order(shop, store, run, post_webhook):
    run(shop)
    from devstore.history import history_orders

    past = next(o for o in history_orders(store.store, DEMO) if o["customer_id"] and not o["refunds"])
    payload = store.store.order_payload(DEMO, {**past, "fulfillment_status": "fulfilled"})
    assert post_webhook("orders/fulfilled", payload, shop).status_code == 200
    assert Order.objects.filter(shop=shop, shopify_id=past["id"]).count() == 1
    assert OrderLine.objects.filter(order__shopify_id=past["id"]).count() == len(past["line_items"])


def test_a_second_import_adds_nothing(shop, store, run):
    run(shop)
    before = _snapshot(shop)
    again = run(shop)
    assert again.status == HistoryImport.Status.DONE and again.orders_new == 0 and again.customers_new == 0
    assert _snapshot(shop) == before


def test_a_worker_killed_mid_file_resumes_to_exactly_the_rows_of_an_uninterrupted_run(
        shop, store, run, small_batches, monkeypatch, django_capture_on_commit_callbacks):
    real = history.orders_store
    calls = {"n": 0}

    def dies_on_the_third_batch(*args):
        calls["n"] += 1
        if calls["n"] == 3:
            real(*args)  # this batch's rows are written, then the worker dies before its COMMIT
            raise Killed()
        return real(*args)

    monkeypatch.setattr(history, "orders_store", dies_on_the_third_batch)
    with django_capture_on_commit_callbacks(execute=True):
        history_import_start(shop=shop, months=24)
    for _ in range(3):  # customers phase, then the orders phase until the worker dies
        _bulk(store).wait(30)
        operation = BulkOperation.objects.filter(shop=shop, status__in=BulkOperation.OPEN).first()
        try:
            with django_capture_on_commit_callbacks(execute=True):
                bulk_settle(operation.pk)
        except Killed:
            break
    row = HistoryImport.objects.get(shop=shop)
    assert row.phase == HistoryImport.Phase.ORDERS and row.lines_done > 0 and calls["n"] == 3
    partial = Order.objects.filter(shop=shop).count()
    assert 0 < partial < ORDERS
    # The next worker (the sweep's settle, after the lease) resumes where the last COMMIT left it.
    BulkOperation.objects.filter(pk=operation.pk).update(reading_until=None)
    resumed = run(shop, start=False)
    assert resumed.status == HistoryImport.Status.DONE
    killed_run = _snapshot(shop)

    monkeypatch.setattr(history, "orders_store", real)
    HistoryImport.objects.filter(shop=shop).delete()
    for model in (OrderDay, ProductCard, Customer):
        model.objects.filter(shop=shop).delete()
    Order.objects.filter(shop=shop).delete()
    run(shop)
    assert _snapshot(shop) == killed_run
    assert len(killed_run["orders"]) == ORDERS + 3


def test_cancel_stops_the_import_and_keeps_what_was_stored(shop, store, run, django_capture_on_commit_callbacks):
    hold = threading.Event()
    _bulk(store).switches[DEMO] = {"hold": hold}
    with django_capture_on_commit_callbacks(execute=True):
        history_import_start(shop=shop, months=24)
    row = history_import_cancel(shop=shop)
    assert row.status == HistoryImport.Status.CANCELED
    hold.set()
    _bulk(store).wait(30)
    with django_capture_on_commit_callbacks(execute=True):
        for pk in BulkOperation.objects.filter(shop=shop, status__in=BulkOperation.OPEN).values_list("pk", flat=True):
            bulk_settle(pk)
    assert [o["status"] for o in _queries(store)] == ["CANCELED"]
    assert Customer.objects.filter(shop=shop).count() == 0
    assert HistoryImport.objects.get(shop=shop).status == HistoryImport.Status.CANCELED
    assert history_import_cancel(shop=shop) is None  # nothing left to cancel
    assert run(shop).status == HistoryImport.Status.DONE  # and a new import starts at once


def test_without_read_all_orders_the_window_is_sixty_days(db, store, run):
    shop = connected_shop(store, scopes="read_orders,read_customers,read_products")
    row = run(shop, months=12)
    assert row.capped and row.status == HistoryImport.Status.DONE
    assert timezone.now() - row.since < timedelta(days=61)
    recent = _shopify_orders(store, since=row.since)
    assert Order.objects.filter(shop=shop).count() == len(recent) < ORDERS


def test_a_query_already_running_is_a_clear_error_and_nothing_starts_twice(shop, store, django_capture_on_commit_callbacks):
    from shopapp.admin_api import AdminClient
    from shopapp.bulk import RUN_QUERY

    hold = threading.Event()
    _bulk(store).switches[DEMO] = {"hold": hold}
    AdminClient(shop).mutate(RUN_QUERY, {"query": "{ products { edges { node { id } } } }"},
                             field="bulkOperationRunQuery")  # another export of the app's, unknown to the import
    with django_capture_on_commit_callbacks(execute=True):
        row = history_import_start(shop=shop)
    row.refresh_from_db()
    assert row.status == HistoryImport.Status.FAILED
    assert "already running a data export" in row.error and "start it again" in row.error
    assert len(_queries(store)) == 1
    hold.set()


def test_a_lost_finish_webhook_is_settled_by_the_sweep(shop, store, django_capture_on_commit_callbacks):
    _bulk(store).switches[DEMO] = {"silent": True}
    with django_capture_on_commit_callbacks(execute=True):
        row = history_import_start(shop=shop, months=24)
    for _ in range(3):
        _bulk(store).wait(30)
        with django_capture_on_commit_callbacks(execute=True):
            assert bulk_sweep(now=timezone.now() + timedelta(minutes=3)) == 1
    row.refresh_from_db()
    assert row.status == HistoryImport.Status.DONE and Order.objects.filter(shop=shop).count() == ORDERS + 3
    assert not any(d["topic"] == "bulk_operations/finish" for d in store.webhook_deliveries(DEMO))


def test_the_finish_webhook_reads_the_result(shop, store, post_webhook, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        row = history_import_start(shop=shop, months=24)
    for _ in range(3):
        _bulk(store).wait(30)
        operation = _queries(store)[-1]
        from devstore.bulk_query import finished_payload

        assert post_webhook("bulk_operations/finish", finished_payload(operation), shop).status_code == 200
    row.refresh_from_db()
    assert row.status == HistoryImport.Status.DONE and ProductCard.objects.filter(shop=shop).exists()


def test_an_unanswered_start_is_settled_from_current_bulk_operation_never_started_twice(
        shop, store, run, django_capture_on_commit_callbacks):
    store.fault(DEMO, "bulkOperationRunQuery", "fail_after")  # Shopify starts it, then answers 504
    with django_capture_on_commit_callbacks(execute=True):
        row = history_import_start(shop=shop, months=24)
    operation = BulkOperation.objects.get(shop=shop)
    assert operation.status == BulkOperation.Status.UNKNOWN and not operation.operation_id
    with django_capture_on_commit_callbacks(execute=True):
        history_import_advance(row.pk)  # the sweep, or a second job: nothing is sent again
    assert len(_queries(store)) == 1
    done = run(shop, start=False)
    assert done.status == HistoryImport.Status.DONE
    assert BulkOperation.objects.get(pk=operation.pk).operation_id == _queries(store)[0]["id"]
    assert len(_queries(store)) == 3


def test_uninstall_mid_import_stops_it(shop, store, post_webhook, django_capture_on_commit_callbacks):
    hold = threading.Event()
    _bulk(store).switches[DEMO] = {"hold": hold}
    with django_capture_on_commit_callbacks(execute=True):
        row = history_import_start(shop=shop, months=24)
    post_webhook("app/uninstalled", {"id": 1, "domain": DEMO}, shop)
    row.refresh_from_db()
    assert row.status == HistoryImport.Status.FAILED and "uninstalled" in row.error
    hold.set()
    _bulk(store).wait(30)
    with django_capture_on_commit_callbacks(execute=True):
        for pk in BulkOperation.objects.filter(shop=shop).values_list("pk", flat=True):
            bulk_settle(pk)
    assert Customer.objects.filter(shop=shop).count() == 0 and Order.objects.filter(shop=shop).count() == 0


def test_customers_redacted_before_or_during_the_import_are_not_brought_back(
        shop, store, run, post_webhook, small_batches, monkeypatch):
    from devstore.history import history_orders

    orders = [o for o in history_orders(store.store, DEMO) if o["customer_id"]]
    before, during = orders[0]["customer_id"], orders[-1]["customer_id"]
    assert before != during

    def redact(customer_id: int) -> None:
        mine = [o["id"] for o in orders if o["customer_id"] == customer_id]
        post_webhook("customers/redact", {"shop_id": 1, "shop_domain": DEMO, "customer": {
            "id": customer_id, "email": store.store.customer(DEMO, customer_id)["email"], "phone": None},
            "orders_to_redact": mine}, shop)

    redact(before)
    real = history.orders_store

    def redacted_mid_orders(shop_, lines):
        if not Customer.objects.filter(shopify_id=during, redacted_at__isnull=False).exists():
            redact(during)  # arrives while the orders are being stored
        return real(shop_, lines)

    monkeypatch.setattr(history, "orders_store", redacted_mid_orders)
    run(shop)
    for customer_id in (before, during):
        customer = Customer.objects.get(shop=shop, shopify_id=customer_id)
        assert customer.redacted_at and customer.email == "" and customer.first_name == ""
        theirs = Order.objects.filter(shop=shop, customer=customer)
        assert theirs.exists() and set(theirs.values_list("email", flat=True)) == {""}
        assert not theirs.filter(shipping_address__isnull=False).exists()


def test_a_first_install_starts_the_import_and_a_reconnect_does_not_start_another(shop, store, settings):
    from shopapp.history import history_import_on_install

    settings.HISTORY_IMPORT_ON_INSTALL = True
    history_import_on_install(shop, reinstalled=False)
    history_import_on_install(shop, reinstalled=True)
    assert HistoryImport.objects.filter(shop=shop).count() == 1


# --- the panel page ---------------------------------------------------------------------

def test_the_panel_starts_an_import_shows_its_progress_and_cancels_it(shop, store, panel_get, client,
                                                                      make_session_token, other_shop):
    hold = threading.Event()
    _bulk(store).switches[DEMO] = {"hold": hold}
    page = panel_get("/app/history/", shop).content.decode()
    assert "Import your history" in page and "The last 12 months" in page
    token = make_session_token(shop.domain)
    response = client.post(f"/app/history/?id_token={token}", {"action": "start", "months": "18"})
    text = " ".join(response.content.decode().split())
    assert response.status_code == 200 and "Import started" in text
    assert "<progress" in text and "Customers" in text and "Shopify is gathering them" in text
    row = HistoryImport.objects.get(shop=shop)
    assert row.months == 18 and row.status == HistoryImport.Status.RUNNING
    part = panel_get("/app/history/?part=progress", shop, fetch=True)
    assert part.status_code == 200 and 'data-running="true"' in part.content.decode()
    # Another shop sees nothing of it and cannot cancel it.
    assert "Importing your history" not in panel_get("/app/history/", other_shop).content.decode()
    client.post(f"/app/history/?id_token={make_session_token(other_shop.domain)}", {"action": "cancel"})
    assert HistoryImport.objects.get(shop=shop).status == HistoryImport.Status.RUNNING
    response = client.post(f"/app/history/?id_token={make_session_token(shop.domain)}", {"action": "cancel"})
    assert "Import canceled" in response.content.decode()
    assert HistoryImport.objects.get(shop=shop).status == HistoryImport.Status.CANCELED
    hold.set()


def test_the_panel_shows_progress_with_rows_and_time_left(shop, store, panel_get):
    operation = BulkOperation.objects.create(shop=shop, purpose=history.PURPOSE, kind=BulkOperation.Kind.QUERY,
                                             status=BulkOperation.Status.DONE, object_count=1200)
    HistoryImport.objects.create(shop=shop, months=12, since=timezone.now() - timedelta(days=365),
                                 phase=HistoryImport.Phase.ORDERS, operation=operation, rows_done=300,
                                 phase_started_at=timezone.now() - timedelta(minutes=2))
    text = " ".join(panel_get("/app/history/", shop).content.decode().split())
    assert "300 of 1,200 stored" in text and "about 6 minutes left" in text
    assert 'value="37"' in text  # customers (20) and a quarter of the orders (70)


def test_without_read_all_orders_the_panel_says_why_and_how_and_checks_again(db, store, panel_get, client,
                                                                             make_session_token):
    shop = connected_shop(store, scopes="read_orders,read_customers,read_products")
    text = " ".join(panel_get("/app/history/", shop).content.decode().split())
    assert "only the last 60 days" in text and "read all orders" in text
    store.grant_scopes(DEMO, ["read_all_orders"])  # the merchant approves it in Shopify
    response = client.post(f"/app/history/?id_token={make_session_token(shop.domain)}", {"action": "scopes"})
    assert "Advocate can now read all your orders" in response.content.decode()
    shop.refresh_from_db()
    assert shop.has_scope("read_all_orders")


def test_a_failed_import_says_what_to_do(shop, store, panel_get, django_capture_on_commit_callbacks):
    HistoryImport.objects.create(shop=shop, months=12, since=timezone.now(), status=HistoryImport.Status.FAILED,
                                 error=history.REFUSED["OPERATION_IN_PROGRESS"], finished_at=timezone.now())
    text = " ".join(panel_get("/app/history/", shop).content.decode().split())
    assert "The import stopped" in text and "Wait a few minutes, then start it again" in text
    assert "Import again" in text


def test_read_all_orders_is_an_optional_scope_in_the_app_configuration(settings):
    import tomllib
    from pathlib import Path

    toml = tomllib.loads((Path(__file__).resolve().parents[2] / "shopify.app.toml").read_text())
    assert toml["access_scopes"]["optional_scopes"] == settings.SHOPIFY_OPTIONAL_SCOPES == [history.ALL_ORDERS_SCOPE]
    assert history.ALL_ORDERS_SCOPE not in toml["access_scopes"]["scopes"].split(",")  # never required to install


def test_the_dashboard_shows_the_import_with_a_progress_bar_then_what_it_brought(shop, store, panel_get, run):
    HistoryImport.objects.create(shop=shop, months=12, since=timezone.now() - timedelta(days=365),
                                 phase=HistoryImport.Phase.ORDERS)
    text = " ".join(panel_get("/", shop).content.decode().split())
    assert "Importing your history since" in text and 'aria-label="Order history import, 20% done"' in text
    HistoryImport.objects.filter(shop=shop).update(status=HistoryImport.Status.CANCELED)
    run(shop)
    text = " ".join(panel_get("/", shop).content.decode().split())
    assert f"({ORDERS + 3} orders," in text and "<progress" not in text


def test_an_import_whose_job_was_lost_between_phases_is_moved_on_by_the_sweep(shop, store, django_capture_on_commit_callbacks):
    from shopapp.history import history_imports_sweep

    operation = BulkOperation.objects.create(shop=shop, purpose=history.PURPOSE, kind=BulkOperation.Kind.QUERY,
                                             status=BulkOperation.Status.DONE, operation_id="gid://shopify/BulkOperation/1")
    row = HistoryImport.objects.create(shop=shop, months=24, since=timezone.now() - timedelta(days=700),
                                       operation=operation, updated_at=timezone.now() - timedelta(minutes=1))
    assert history_imports_sweep() == 0  # moved recently: its job may still be on its way
    with django_capture_on_commit_callbacks(execute=True):
        assert history_imports_sweep(now=timezone.now() + timedelta(minutes=10)) == 1
    row.refresh_from_db()
    assert row.phase == HistoryImport.Phase.ORDERS and row.operation.status == BulkOperation.Status.RUNNING
    _bulk(store).wait(30)


def test_the_finished_import_refreshes_the_planners_statistics_once(shop, store, run):
    """On PostgreSQL an ANALYZE of the tables the import filled, when it finishes (never a failure)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert run(shop).status == HistoryImport.Status.DONE
    analyzed = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("ANALYZE")]
    if connection.vendor == "postgresql":
        assert analyzed == ['ANALYZE "shopapp_customer", "shopapp_order", "shopapp_orderline"']
    else:
        assert analyzed == []


def test_a_reinstall_finishes_the_import_an_uninstall_stopped(shop, store, run, post_webhook, settings,
                                                              django_capture_on_commit_callbacks):
    """Uninstalled mid-import, then installed again from the admin: the reconnect starts the import
    again with the same window, and it ends with exactly the rows of an uninterrupted run."""
    from django.test import Client

    settings.HISTORY_IMPORT_ON_INSTALL = True
    hold = threading.Event()
    _bulk(store).switches[DEMO] = {"hold": hold}
    with django_capture_on_commit_callbacks(execute=True):
        history_import_start(shop=shop, months=24)
    post_webhook("app/uninstalled", {"id": 1, "domain": DEMO}, shop)
    assert not BulkOperation.objects.filter(shop=shop, status__in=BulkOperation.OPEN).exists()
    hold.set()
    _bulk(store).wait(30)
    _bulk(store).switches.pop(DEMO, None)
    store.store.app_install(DEMO, scopes=ALL_SCOPES)
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().get(f"/?embedded=1&shop={DEMO}&id_token={store.session_token(DEMO)}")
    assert response.status_code == 200
    imports = HistoryImport.objects.filter(shop=shop).order_by("pk")
    assert [(i.status, i.months) for i in imports] == [(HistoryImport.Status.FAILED, 24),
                                                      (HistoryImport.Status.RUNNING, 24)]
    assert run(shop, start=False).status == HistoryImport.Status.DONE
    stopped_then_finished = _snapshot(shop)
    assert run(shop).orders_new == 0  # an uninterrupted run adds nothing more
    assert _snapshot(shop) == stopped_then_finished
    assert len(stopped_then_finished["orders"]) == len(_shopify_orders(store))


def test_a_reinstall_leaves_a_cancelled_or_finished_import_alone(shop, store, run, settings):
    from shopapp.history import history_import_cancel, history_import_on_install

    settings.HISTORY_IMPORT_ON_INSTALL = True
    hold = threading.Event()
    _bulk(store).switches[DEMO] = {"hold": hold}
    history_import_start(shop=shop, months=24)
    history_import_cancel(shop=shop)
    hold.set()
    history_import_on_install(shop, reinstalled=True)
    assert list(HistoryImport.objects.filter(shop=shop).values_list("status", flat=True)) == ["canceled"]


def test_batches_of_any_size_store_the_same_rows(shop, store, run, monkeypatch):
    """A batch ends every BATCH_LINES lines, sometimes between an order and its lines: those lines
    still get their order's fulfilment (found by a real SIGKILL test, tests/shopapp/test_history_kill.py)."""
    run(shop)
    whole = _snapshot(shop)
    assert any(line[-1] is not None for line in whole["lines"])
    HistoryImport.objects.filter(shop=shop).delete()
    for model in (OrderDay, ProductCard, Customer):
        model.objects.filter(shop=shop).delete()
    Order.objects.filter(shop=shop).delete()
    monkeypatch.setattr(history, "BATCH_LINES", 7)
    run(shop)
    assert _snapshot(shop) == whole
