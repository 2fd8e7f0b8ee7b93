"""Webhook intake under load, against a bare Django view on the same server set-up.

Starts Advocate under gunicorn on the real PostgreSQL and Redis (DATABASE_URL, REDIS_URL),
an rqworker to process the events, and fires a burst of signed webhooks from a separate
process at 32 concurrent connections. Then checks that every event was stored exactly
once and processed. The last line is the figure.

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
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PY = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(port: int, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server on port {port} did not start within {timeout}s")


def load(url: str, requests: list[bytes], concurrency: int) -> dict:
    spec = json.dumps({"url": url, "concurrency": concurrency, "requests": [r.hex() for r in requests]})
    out = subprocess.run([PY, str(ROOT / "bench" / "_load.py")], input=spec, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="gunicorn workers (default: one per core)")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        raise SystemExit("Set DATABASE_URL (PostgreSQL) and REDIS_URL: this benchmark measures the production set-up.")

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "shopapp.settings", "LOG_LEVEL": "WARNING"}
    os.environ.update(env)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from bench._load import build_request
    from shopapp.models import CustomerDataExport, Shop, WebhookEvent

    print("== migrating and resetting the benchmark shop", flush=True)
    call_command("migrate", verbosity=0)
    domain = "bench-shop.myshopify.com"
    Shop.objects.update_or_create(domain=domain, defaults={"installed_at": django.utils.timezone.now(), "uninstalled_at": None})
    WebhookEvent.objects.filter(shop_domain=domain).delete()
    CustomerDataExport.objects.filter(shop__domain=domain).delete()

    port = free_port()
    server = subprocess.Popen(
        [PY, "-m", "gunicorn", "shopapp.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(args.workers),
         "--worker-class", "gthread", "--threads", "4", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )
    worker = subprocess.Popen([PY, "manage.py", "rqworker", "default", "--burst"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker.wait()  # empty the queue of anything left from earlier runs
    try:
        wait_http(port)
        base = f"http://127.0.0.1:{port}"
        bare = [build_request("GET", f"{base}/healthz") for _ in range(args.events)]
        print(f"== bare Django view: {args.events} requests at {args.concurrency} connections", flush=True)
        load(base + "/healthz", bare[:300], args.concurrency)  # warm-up
        bare_result = load(base + "/healthz", bare, args.concurrency)

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
        hook_result = load(base + "/webhooks", burst, args.concurrency)

        print("== processing with rqworker --burst", flush=True)
        subprocess.run([PY, "manage.py", "rqworker", "default", "--burst"], cwd=ROOT, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(10)

    events = WebhookEvent.objects.filter(shop_domain=domain)
    stored = events.count()
    distinct = events.values("event_key").distinct().count()
    processed = events.filter(status="done").count()
    lost = args.events - distinct
    duplicates = stored - distinct
    ratio = hook_result["rps"] / bare_result["rps"]
    print(f"bare view : {bare_result['rps']:.0f} req/s  p50 {bare_result['p50_ms']:.1f} ms  p99 {bare_result['p99_ms']:.1f} ms  {bare_result['statuses']}")
    print(f"webhooks  : {hook_result['rps']:.0f} req/s  p50 {hook_result['p50_ms']:.1f} ms  p99 {hook_result['p99_ms']:.1f} ms  {hook_result['statuses']}")
    print(f"stored {stored}, processed {processed}, lost {lost}, duplicates {duplicates}")
    print(f"RESULT webhook_intake ratio={ratio:.2f} (target >= 0.35) p99={hook_result['p99_ms']:.1f}ms (target < 50) "
          f"lost={lost} duplicates={duplicates} unprocessed={stored - processed}")


if __name__ == "__main__":
    main()
