"""Webhook intake under load, against a bare Django view on the same server set-up.

Starts Advocate under gunicorn on the real PostgreSQL and Redis (DATABASE_URL, REDIS_URL),
an rqworker to process the events, and fires a burst of signed webhooks from a separate
process at 32 concurrent connections. Then checks that every event was stored exactly
once and processed. The last line is one JSON object of named figures and their targets;
latency and CPU are judged against the bare view's in the same run (p99 at most 2x, server
CPU per webhook at most 2x).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/0 \
        .venv/bin/python bench/webhook_intake.py [--events 3000]
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import PY, ROOT, describe, django_env, gunicorn, load, load_measured, report, server_pids  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="gunicorn workers (default: one per core)")
    args = parser.parse_args()
    print("== migrating and resetting the benchmark shop", flush=True)
    env = django_env()
    import django
    from django.conf import settings

    from bench._load import build_request
    from shopapp.models import CustomerDataExport, Shop, WebhookEvent

    domain = "bench-shop.myshopify.com"
    Shop.objects.update_or_create(domain=domain, defaults={"installed_at": django.utils.timezone.now(), "uninstalled_at": None})
    WebhookEvent.objects.filter(shop_domain=domain).delete()
    CustomerDataExport.objects.filter(shop__domain=domain).delete()

    worker = subprocess.Popen([PY, "manage.py", "rqworker", "default", "--burst"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker.wait()  # empty the queue of anything left from earlier runs
    with gunicorn(env, workers=args.workers) as base:
        bare = [build_request("GET", f"{base}/healthz") for _ in range(args.events)]
        print(f"== bare Django view: {args.events} requests at {args.concurrency} connections", flush=True)
        load(base + "/healthz", bare[:300], args.concurrency)  # warm-up
        pids = server_pids(base)  # after the warm-up: every worker has been forked by now
        bare_result = load_measured(base + "/healthz", bare, args.concurrency, pids)

        secret = settings.SHOPIFY_API_SECRET.encode()
        hooks = []
        for i in range(args.events):
            # A topic with a real handler, so processing does real work (an export).
            body = json.dumps({"shop_domain": domain, "customer": {"id": 7_000_000_000_000_000 + i, "email": f"c{i}@example.com"},
                               "orders_requested": [i], "data_request": {"id": i}}).encode()
            sig = base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode()
            hooks.append(build_request("POST", f"{base}/webhooks", {
                "Content-Type": "application/json", "X-Shopify-Topic": "customers/data_request",
                "X-Shopify-Shop-Domain": domain, "X-Shopify-Hmac-Sha256": sig,
                "X-Shopify-Webhook-Id": str(uuid.uuid4()), "X-Shopify-Event-Id": f"bench-{i}",
                "X-Shopify-API-Version": settings.SHOPIFY_API_VERSION,
            }, body))
        # Every tenth event is delivered twice, as Shopify does: acknowledged, stored once.
        burst = hooks + hooks[::10]
        print(f"== webhooks: {len(burst)} deliveries ({args.events} events) at {args.concurrency} connections", flush=True)
        hook_result = load_measured(base + "/webhooks", burst, args.concurrency, pids)

        print("== processing with rqworker --burst", flush=True)
        subprocess.run([PY, "manage.py", "rqworker", "default", "--burst"], cwd=ROOT, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)

    events = WebhookEvent.objects.filter(shop_domain=domain)
    stored = events.count()
    distinct = events.values("event_key").distinct().count()
    processed = events.filter(status="done").count()
    lost = args.events - distinct
    duplicates = stored - distinct
    print(describe("bare view", bare_result))
    print(describe("webhooks", hook_result))
    print(f"stored {stored}, processed {processed}, lost {lost}, duplicates {duplicates}")
    # Latency and CPU targets are relative to the bare view in this run: the machine is shared and noisy.
    report("webhook_intake", {
        "ratio": hook_result["rps"] / bare_result["rps"],
        "rps": hook_result["rps"], "bare_rps": bare_result["rps"],
        "p50_ms": hook_result["p50_ms"], "p99_ms": hook_result["p99_ms"], "bare_p99_ms": bare_result["p99_ms"],
        "p99_ratio": hook_result["p99_ms"] / bare_result["p99_ms"],
        "cpu_ms": hook_result["cpu_ms"], "bare_cpu_ms": bare_result["cpu_ms"],
        "cpu_ratio": hook_result["cpu_ms"] / bare_result["cpu_ms"],
        "db_cpu_ms": hook_result["db_cpu_ms"], "client_cpu_ms": hook_result["client_cpu_ms"],
        "concurrency": args.concurrency, "events": args.events,
        "lost": lost, "duplicates": duplicates, "unprocessed": stored - processed,
    }, at_least={"ratio": 0.35}, at_most={"p99_ratio": 2.0, "cpu_ratio": 2.0, "lost": 0, "duplicates": 0, "unprocessed": 0})


if __name__ == "__main__":
    main()
