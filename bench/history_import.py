"""The history import (#18) at 50,000 and 200,000 orders, and the dashboard of the larger shop.

devstore (in this process) holds each shop's two years of history: its customers, and orders with
their lines, refunds and discount codes made from devstore's recipe (devstore/history.py). The import
runs in a separate worker process, as an RQ worker would run it: the bulk queries, devstore's JSONL
read as a stream, batches stored in PostgreSQL. Measured per size: orders stored per second (the
orders phase, download and parse included), the worker's peak memory (its peak resident set, VmHWM,
as the kernel counts it; it must not grow with the shop) and the phase it happened in, and SQL
statements per 1,000 orders. Then
Advocate under gunicorn serves the 200,000-order shop's dashboard (30 days and a year) against a
bare Django view in the same run: p95 server time, and the SQL queries of each page for both shops
(they must be the same). The last line is one JSON object of named figures and their targets.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/history_import.py \\
        [--sizes 50000,200000] [--requests 200]

About five minutes on a laptop; each run imports both shops again from nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import PY, ROOT, describe, django_env, gunicorn, load, report, session_token  # noqa: E402

SCOPES = "read_orders,read_customers,read_products,read_all_orders"
PAGES = {"dashboard": "/", "dashboard-year": "/?range=365"}
STATEMENT_TIMEOUT = 120  # seconds: a dashboard statement running longer is stopped (and the page fails)
TOO_SLOW_TO_LOAD = 5  # seconds: a page this slow once is reported as that, not loaded 200 times
PRODUCTS = [("Trail Mug", "18.00"), ("Canvas Backpack", "89.00"), ("Merino Beanie", "32.00"),
            ("Camp Blanket", "120.00"), ("Enamel Pin Set", "12.00"), ("Gift Card", "50.00")]


def _domain(orders: int) -> str:
    return f"bench-history-{orders // 1000}k.myshopify.com"


def devstore_shop(running, orders: int) -> None:
    """The shop in devstore: a catalogue and two years of history, Advocate installed with all orders."""
    store = running.store
    domain = _domain(orders)
    store.shop_create(domain, name=f"Bench History {orders // 1000}k", email="owner@example.com", currency="USD",
                      timezone_name="America/New_York", plan="plus")
    for title, price in PRODUCTS:
        store.product_create(domain, title=title, price=price, gift_card=title == "Gift Card")
    began = time.perf_counter()
    store.app_install(domain, scopes=SCOPES)
    summary = running.seed_history(domain, orders=orders, years=2)
    print(f"   devstore: {summary['orders']:,} orders, {summary['customers']:,} customers "
          f"({time.perf_counter() - began:.1f} s)", flush=True)


def advocate_shop(running, orders: int):
    """The shop in Advocate with devstore's tokens, everything it held before deleted."""
    from django.utils import timezone

    from shopapp.models import Customer, Order, Shop

    domain = _domain(orders)
    tokens = running.store.tokens_issue(domain, expiring=True)
    now = timezone.now()
    shop = Shop.objects.filter(domain=domain).first()
    if shop is not None:  # children first, in batches PostgreSQL deletes quickly
        Order.objects.filter(shop=shop).delete()
        Customer.objects.filter(shop=shop).delete()
        shop.delete()
    return Shop.objects.create(domain=domain, name=f"Bench History {orders // 1000}k", currency="USD",
                               timezone="America/New_York", scopes=SCOPES, installed_at=now,
                               access_token=tokens["access_token"], access_token_expires_at=now + timedelta(hours=6),
                               refresh_token=tokens["refresh_token"], refresh_token_expires_at=now + timedelta(days=90))


def worker(domain: str) -> None:
    """The importing worker (a child process): run the import to its end as the finish webhook and
    the sweep would, and print what it measured as one JSON line."""
    import django

    django.setup()
    from django.db import connection

    from shopapp import history
    from shopapp.bulk import bulk_settle
    from shopapp.models import BulkOperation, HistoryImport, Order, Shop

    shop = Shop.objects.get(domain=domain)
    statements = {"n": 0}

    def count(execute, sql, params, many, context):
        statements["n"] += 1
        return execute(sql, params, many, context)

    began = time.perf_counter()
    row = history.history_import_start(shop=shop, months=24)
    phases: dict[str, dict] = {}
    peak = {"mb": 0.0, "phase": "start"}

    def sample() -> None:  # where the peak happens (the kernel's figure says only how high)
        while True:
            mb = int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
            if mb > peak["mb"]:
                peak.update(mb=mb, phase=row.phase)
            time.sleep(0.1)

    threading.Thread(target=sample, daemon=True).start()
    while True:
        row.refresh_from_db()
        if row.status != HistoryImport.Status.RUNNING:
            break
        operation = BulkOperation.objects.filter(shop=shop, status__in=BulkOperation.OPEN).first()
        if operation is None:
            history.history_import_advance(row.pk)
            continue
        phase = row.phase
        before, started = statements["n"], time.perf_counter()
        with connection.execute_wrapper(count):
            status = bulk_settle(operation.pk)
        if status in BulkOperation.OPEN:
            time.sleep(0.2)  # Shopify is still exporting: ask again, as the sweep would
            continue
        phases[phase] = {"seconds": time.perf_counter() - started, "statements": statements["n"] - before}
    row.refresh_from_db()
    print(json.dumps({"status": row.status, "error": row.error, "seconds": time.perf_counter() - began,
                      "orders": Order.objects.filter(shop=shop).count(), "phases": phases,
                      "peak_mb": _peak_mb(), "sampled_peak_mb": peak["mb"], "sampled_peak_phase": peak["phase"]}),
          flush=True)


def run_worker(env: dict, domain: str) -> dict:
    """Run the worker process to its end; what it measured."""
    done = subprocess.run([PY, str(Path(__file__).resolve()), "--worker", domain], cwd=ROOT, env=env,
                          stdout=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the importing worker failed ({done.returncode}):\n{done.stdout[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _peak_mb() -> float:
    """This process's peak resident memory since it started (VmHWM; the rusage a parent reads after
    wait() would also count the parent's own pages the child held between fork and exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _token(domain: str) -> str:
    return session_token(domain, lifetime=60)  # Advocate refuses tokens that live longer than Shopify's


def queries_per_page(shop) -> tuple[dict[str, int], dict[str, float]]:
    """Each dashboard page once, in this process: its SQL queries and its seconds (a statement
    running past STATEMENT_TIMEOUT is stopped, and the page counts as that slow)."""
    from django.db import OperationalError, connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client, counts, seconds = Client(raise_request_exception=False), {}, {}
    with connection.cursor() as cursor:
        cursor.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT * 1000}")
    for name, path in PAGES.items():
        sep = "&" if "?" in path else "?"
        began = time.perf_counter()
        with CaptureQueriesContext(connection) as ctx:
            try:
                response = client.get(f"{path}{sep}embedded=1&shop={shop.domain}&id_token={_token(shop.domain)}")
                status = response.status_code
            except OperationalError:
                status = 500
        seconds[name] = time.perf_counter() - began
        counts[name] = len(ctx.captured_queries)
        if status != 200:
            print(f"   {name} of {shop.domain} answered {status} after {seconds[name]:.1f} s", flush=True)
    return counts, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", metavar="DOMAIN", help=argparse.SUPPRESS)
    parser.add_argument("--sizes", default="50000,200000", help="orders per shop, comma-separated")
    parser.add_argument("--requests", type=int, default=200, help="dashboard requests per page")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker)
    print("== migrating", flush=True)
    env = django_env(require_redis=False)
    from django.conf import settings

    from devstore.server import start

    sizes = [int(s) for s in args.sizes.split(",")]
    running = start(app_url="http://127.0.0.1:9", api_key=settings.SHOPIFY_API_KEY,
                    api_secret=settings.SHOPIFY_API_SECRET, smtp_port=None)
    worker_env = {**env, "SHOPIFY_UPSTREAM_URL": running.url, "JOBS_INLINE": "1", "HISTORY_IMPORT_ON_INSTALL": "0"}
    env = {**env, "SHOPIFY_UPSTREAM_URL": running.url}
    shops, imports = {}, {}
    for orders in sizes:
        print(f"== {orders:,} orders: devstore's history, then the import in a worker process", flush=True)
        devstore_shop(running, orders)
        shops[orders] = advocate_shop(running, orders)
        imports[orders] = result = run_worker(worker_env, _domain(orders))
        if result["status"] != "done" or result["orders"] < orders:
            raise SystemExit(f"the import did not complete: {result}")
        phase = result["phases"]["orders"]
        result["orders_per_second"] = orders / phase["seconds"]
        result["statements_per_1000_orders"] = phase["statements"] / (orders / 1000)
        print(f"   {result['orders']:,} orders in {result['seconds']:.1f} s (orders phase {phase['seconds']:.1f} s: "
              f"{result['orders_per_second']:,.0f} orders/s, {result['statements_per_1000_orders']:.0f} SQL statements "
              f"per 1,000 orders); worker peak memory {result['peak_mb']:.0f} MB (sampled: "
              f"{result['sampled_peak_mb']:.0f} MB, in the {result['sampled_peak_phase']} phase)", flush=True)
    small, large = min(sizes), max(sizes)
    probes = {size: queries_per_page(shops[size]) for size in (small, large)}
    queries = {size: counts for size, (counts, _) in probes.items()}
    print(f"SQL queries per dashboard page: {queries}; one load of each, in seconds: "
          f"{ {size: {k: round(v, 2) for k, v in secs.items()} for size, (_, secs) in probes.items()} }", flush=True)
    from bench._load import build_request

    results = {}
    env = {**env, "PGOPTIONS": f"-c statement_timeout={STATEMENT_TIMEOUT * 1000}"}
    with gunicorn(env, workers=args.workers) as base:
        bare = [build_request("GET", f"{base}/healthz") for _ in range(args.requests)]
        load(base + "/healthz", bare[:50], args.concurrency)
        results["bare view"] = load(base + "/healthz", bare, args.concurrency)
        domain = _domain(large)
        for name, path in PAGES.items():
            if probes[large][1][name] > TOO_SLOW_TO_LOAD:  # 200 of these would take hours: the one load is the figure
                print(f"== {name} of the {large:,}-order shop took {probes[large][1][name]:.0f} s once: not loaded",
                      flush=True)
                results[name] = {"p95_ms": probes[large][1][name] * 1000}
                continue
            sep = "&" if "?" in path else "?"
            url = f"{base}{path}{sep}embedded=1&shop={domain}&id_token={_token(domain)}"  # fresh for each page
            batch = [build_request("GET", url) for _ in range(args.requests)]
            load(base + path, batch[:20], args.concurrency)
            print(f"== {name} of the {large:,}-order shop: {args.requests} requests", flush=True)
            results[name] = load(base + path, batch, args.concurrency)
    running.stop()
    for name, result in results.items():
        print((describe(name, result) if "rps" in result else name) + f"  p95 {result['p95_ms']:.1f} ms")
    figures = {
        **{f"orders_per_second_{size // 1000}k": imports[size]["orders_per_second"] for size in sizes},
        **{f"peak_memory_mb_{size // 1000}k": imports[size]["peak_mb"] for size in sizes},
        **{f"statements_per_1000_orders_{size // 1000}k": imports[size]["statements_per_1000_orders"] for size in sizes},
        **{f"import_seconds_{size // 1000}k": imports[size]["seconds"] for size in sizes},
        "peak_memory_ratio": imports[large]["peak_mb"] / imports[small]["peak_mb"],
        **{f"{name}_p95_ms": results[name]["p95_ms"] for name in PAGES},
        **{f"{name}_p95_ratio": results[name]["p95_ms"] / results["bare view"]["p95_ms"] for name in PAGES},
        "bare_p95_ms": results["bare view"]["p95_ms"],
        "queries_flat": all(queries[small][p] == queries[large][p] for p in PAGES), "queries": queries[large],
    }
    report("history_import", figures, at_least={"queries_flat": True},
           at_most={f"peak_memory_mb_{large // 1000}k": 300, "peak_memory_ratio": 1.25,
                    **{f"{name}_p95_ms": 150 for name in PAGES}})


if __name__ == "__main__":
    main()
