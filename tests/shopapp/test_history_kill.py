"""A worker process killed with SIGKILL in the middle of the history import's orders file: the next
worker resumes from the last committed batch, and the shop ends with exactly the rows an
uninterrupted import gives (#18). The kill is real: a child process reading devstore's JSONL,
killed by this test at whatever point it has reached once it has stored some batches."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from shopapp.models import BulkOperation, Customer, HistoryImport, Order, OrderDay, ProductCard
from tests.money.conftest import connected_shop, devstore  # noqa: F401  (the devstore fixture)
from tests.shopapp.test_history_import import ALL_SCOPES, ORDERS, _bulk, _snapshot, run, store  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)  # the child process sees only what is committed
ROOT = Path(settings.BASE_DIR)

# The child: a worker settling the open bulk operation, slowed to a batch every 50 ms so the test
# can kill it while it is in the middle of the file.
CHILD = """
import sys, time, django
django.setup()
from shopapp import history
from shopapp.bulk import bulk_settle
history.BATCH_LINES = 40
real = history.orders_store
def slow(*args):
    time.sleep(0.05)
    return real(*args)
history.orders_store = slow
print("settling", flush=True)
bulk_settle(int(sys.argv[1]))
print("finished", flush=True)
"""


def _database_url() -> str:
    conf = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(conf['NAME']).resolve()}"
    return f"postgres://{conf['USER'] or 'postgres'}:{conf['PASSWORD'] or ''}@{conf['HOST'] or '127.0.0.1'}:" \
           f"{conf['PORT'] or 5432}/{conf['NAME']}"


def _child(operation_pk: int, upstream: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": _database_url(), "REDIS_URL": "", "JOBS_INLINE": "1",
           "SHOPIFY_UPSTREAM_URL": upstream, "DJANGO_SETTINGS_MODULE": "shopapp.settings", "LOG_LEVEL": "WARNING",
           "SHOPIFY_API_KEY": settings.SHOPIFY_API_KEY, "SHOPIFY_API_SECRET": settings.SHOPIFY_API_SECRET}
    return subprocess.Popen([sys.executable, "-c", CHILD, str(operation_pk)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_a_worker_killed_with_sigkill_mid_file_resumes_to_the_rows_of_an_uninterrupted_run(
        store, run, settings, django_capture_on_commit_callbacks):
    from shopapp.history import history_import_start

    settings.JOBS_INLINE = True
    shop = connected_shop(store, scopes=ALL_SCOPES)
    run_jobs = lambda: django_capture_on_commit_callbacks(execute=True)  # noqa: E731
    with run_jobs():
        history_import_start(shop=shop, months=24)
    # The customers phase in this process; the orders phase is the child's.
    for _ in range(20):
        _bulk(store).wait(30)
        row = HistoryImport.objects.get(shop=shop)
        if row.phase == HistoryImport.Phase.ORDERS and row.operation_id:
            break
        from shopapp.bulk import bulk_settle

        with run_jobs():
            for pk in BulkOperation.objects.filter(shop=shop, status__in=BulkOperation.OPEN).values_list("pk", flat=True):
                bulk_settle(pk)
    assert row.phase == HistoryImport.Phase.ORDERS
    _bulk(store).wait(30)
    child = _child(row.operation_id, store.url)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and child.poll() is None:
        if Order.objects.filter(shop=shop).count() >= 40:  # at least one batch committed: kill it now
            break
        time.sleep(0.02)
    assert child.poll() is None, f"the child ended before it could be killed: {child.stdout.read()}"
    os.kill(child.pid, signal.SIGKILL)
    assert child.wait(10) == -signal.SIGKILL
    partial = Order.objects.filter(shop=shop).count()
    assert 0 < partial < ORDERS, partial
    row = HistoryImport.objects.get(shop=shop)
    assert row.status == HistoryImport.Status.RUNNING and row.phase == HistoryImport.Phase.ORDERS
    assert row.lines_done > 0

    # The dead worker's lease on the file runs out; the sweep's settle resumes from the last commit.
    BulkOperation.objects.filter(pk=row.operation_id).update(reading_until=None)
    assert run(shop, start=False).status == HistoryImport.Status.DONE
    killed = _snapshot(shop)

    HistoryImport.objects.filter(shop=shop).delete()
    BulkOperation.objects.filter(shop=shop).delete()
    for model in (OrderDay, ProductCard, Customer):
        model.objects.filter(shop=shop).delete()
    Order.objects.filter(shop=shop).delete()
    assert run(shop).status == HistoryImport.Status.DONE
    again = _snapshot(shop)
    for key in again:
        a, b = set(map(repr, again[key])), set(map(repr, killed[key]))
        assert (key, sorted(a - b, key=repr)[:5], sorted(b - a, key=repr)[:5]) == (key, [], [])
    assert again == killed
    assert len(killed["orders"]) == ORDERS + 3
