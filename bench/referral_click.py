"""The referral click path, `/r/<code>`, against a bare Django view on the same server set-up.

Advocate under gunicorn on the real PostgreSQL and Redis; a shop with 500 advocates; a
burst of clicks on their links (each records a click row and renders the landing page)
from a separate process at 32 concurrent connections for throughput, then at a few connections
for latency without a queue. Every click sent must be recorded. The last line is one JSON
object of named figures and their targets.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/referral_click.py [--clicks 3000]
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import describe, django_env, gunicorn, load, report  # noqa: E402

DOMAIN = "bench-referrals.myshopify.com"
UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Mobile/15E148"


def setup_shop(advocates: int) -> list[str]:
    from django.utils import timezone

    from referrals.models import Advocate, Click
    from shopapp.models import Customer, Shop

    shop, _ = Shop.objects.update_or_create(domain=DOMAIN, defaults={
        "name": "Bench Referrals", "installed_at": timezone.now(), "uninstalled_at": None})
    Click.objects.filter(shop=shop).delete()
    existing = list(Advocate.objects.filter(shop=shop).values_list("code", flat=True))
    for i in range(len(existing), advocates):
        customer = Customer.objects.create(shop=shop, shopify_id=8_000_000_000_000_000 + i, email=f"a{i}@example.com",
                                           first_name=f"Advocate{i}")
        code = f"BENCH-{i:05d}"
        Advocate.objects.create(shop=shop, customer=customer, code=code, code_state=Advocate.CodeState.CREATED)
        existing.append(code)
    return existing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=3000)
    parser.add_argument("--advocates", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    print("== migrating and preparing a shop with advocates", flush=True)
    env = django_env()
    # All load comes from loopback: lift the per-IP limit so it measures the path, not the 429s.
    env["RATE_LIMIT_SCALE"] = "1000000"
    from bench._load import build_request
    from referrals.models import Click

    codes = setup_shop(args.advocates)
    rng = random.Random(7)
    with gunicorn(env, workers=args.workers) as base:
        bare = [build_request("GET", f"{base}/healthz") for _ in range(args.clicks)]
        clicks = [build_request("GET", f"{base}/r/{rng.choice(codes)}", {"User-Agent": UA}) for _ in range(args.clicks)]
        load(base + "/healthz", bare[:300], args.concurrency)  # warm-up
        load(base + "/r/x", clicks[:300], args.concurrency)
        print(f"== bare Django view: {args.clicks} requests at {args.concurrency} connections", flush=True)
        bare_result = load(base + "/healthz", bare, args.concurrency)
        print(f"== referral clicks: {args.clicks} requests at {args.concurrency} connections", flush=True)
        click_result = load(base + "/r/x", clicks, args.concurrency)
        # Latency without a queue: at 32 connections most of p99 is waiting for a free thread.
        light = max(1, args.workers * 2)
        print(f"== latency at {light} connections (below the servers' thread count)", flush=True)
        bare_light = load(base + "/healthz", bare[:1000], light)
        click_light = load(base + "/r/x", clicks[:1000], light)
    time.sleep(0.5)  # gunicorn's workers write their last clicks as they exit
    recorded = Click.objects.filter(shop__domain=DOMAIN).count()
    sent = args.clicks + min(300, args.clicks) + min(1000, args.clicks)  # the burst, the warm-up, the light load
    ratio = click_result["rps"] / bare_result["rps"]
    print(describe("bare view", bare_result))
    print(describe("clicks", click_result))
    print(describe(f"bare @{light}", bare_light))
    print(describe(f"clicks @{light}", click_light))
    print(f"clicks recorded {recorded} of {sent} sent")
    report("referral_click", {
        "ratio": ratio, "rps": click_result["rps"], "bare_rps": bare_result["rps"],
        "p99_ms": click_light["p99_ms"], "bare_p99_ms": bare_light["p99_ms"], "light_connections": light,
        "p99_ratio": click_light["p99_ms"] / bare_light["p99_ms"],
        "p99_ms_at_concurrency": click_result["p99_ms"], "bare_p99_ms_at_concurrency": bare_result["p99_ms"],
        "concurrency": args.concurrency, "recorded": recorded, "sent": sent, "unrecorded": sent - recorded,
    }, at_least={"ratio": 0.4}, at_most={"p99_ms": 30, "unrecorded": 0})


if __name__ == "__main__":
    main()
