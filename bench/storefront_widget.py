"""The storefront reviews widget through the app proxy, against a bare Django view in the same run.

A shop with two products, one with 1,000 and one with 10,000 published reviews. Advocate
under gunicorn on the real PostgreSQL and Redis; the theme block's request
(`/proxy/reviews/<id>?view=fragment`, signed as Shopify's app proxy signs it, every page
and sort a shopper can ask for) from a separate process: at 32 connections for
throughput, then at a few connections for latency without a queue, in alternating rounds
(medians shown). Then both products in one mixed load: their median times, measured under the same conditions,
compare the 10,000-review product with the 1,000-review one more fairly than two runs do.
The last line is one JSON object of named figures and their targets; next to the throughput
ratio it gives the ratio of the server's CPU time per request (bare over widget), which does not depend on how the
server and the load generator share the machine's cores.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/storefront_widget.py [--requests 3000]

The first run creates the reviews (about half a minute); later runs reuse them.
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import random
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import describe, django_env, gunicorn, load, load_measured, report, server_pids  # noqa: E402

DOMAIN = "bench-storefront.myshopify.com"
PRODUCTS = {1_000: 9_100_000_001, 10_000: 9_100_000_010}
SORTS = ("newest", "highest", "lowest", "photos")
BATCH = 2000


def shop_populate():
    """The shop and its two products' reviews, unless they are there already."""
    from django.utils import timezone

    from reviews.models import Review
    from reviews.services import product_rating_refresh
    from shopapp.models import Shop

    shop, _ = Shop.objects.update_or_create(domain=DOMAIN, defaults={
        "name": "Bench Storefront", "installed_at": timezone.now(), "uninstalled_at": None})
    rng = random.Random(11)
    now = timezone.now()
    for count, product_id in PRODUCTS.items():
        have = Review.objects.filter(shop=shop, product_id=product_id).count()
        if have < count:
            print(f"   creating {count - have} reviews of product {product_id}", flush=True)
            Review.objects.bulk_create([
                Review(shop=shop, product_id=product_id, product_title=f"Product with {count} reviews",
                       rating=rng.choice((5, 5, 5, 4, 4, 3, 2, 1)), title=f"Review {i}",
                       body="Solid, comfortable and exactly as described. " * rng.randint(1, 4),
                       display_name=f"Shopper {i}", status=Review.Status.PUBLISHED,
                       published_at=now, created_at=now - timezone.timedelta(minutes=i))
                for i in range(have, count)], batch_size=BATCH)
        product_rating_refresh(shop=shop, product_id=product_id)  # a new version: the first requests render
    return shop


def signed_path(product_id: int, **query) -> str:
    """The path Advocate receives from the app proxy, with Shopify's signature."""
    from django.conf import settings

    params = {"shop": DOMAIN, "path_prefix": "/apps/advocate", "timestamp": str(int(time.time())),
              "logged_in_customer_id": "", **query}
    message = "".join(f"{k}={v}" for k, v in sorted(params.items()))
    params["signature"] = hmac.new(settings.SHOPIFY_API_SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()
    return f"/proxy/reviews/{product_id}?{urlencode(params)}"


def widget_requests(base: str, product_id: int, reviews: int, n: int) -> list[bytes]:
    """n widget requests spread over the pages and sorts shoppers open (mostly the first page)."""
    from bench._load import build_request

    rng = random.Random(product_id)
    pages = max(1, reviews // 10)
    paths = [signed_path(product_id, view="fragment", sort=sort, page=str(page))
             for sort in SORTS for page in (1, 2, 3, pages)]
    first = signed_path(product_id, view="fragment")
    return [build_request("GET", base + (first if rng.random() < 0.7 else rng.choice(paths))) for _ in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print("== migrating and preparing a shop with 1,000 and 10,000 reviews", flush=True)
    env = django_env()
    env["RATE_LIMIT_SCALE"] = "1000000"  # all load comes from loopback: measure the path, not the 429s
    from bench._load import build_request

    shop_populate()
    light = max(1, args.workers * 2)
    runs: dict[str, list[dict]] = {}
    with gunicorn(env, workers=args.workers) as base:
        bare = [build_request("GET", f"{base}/healthz") for _ in range(args.requests)]
        widgets = {count: widget_requests(base, product_id, count, args.requests)
                   for count, product_id in PRODUCTS.items()}
        load(base + "/healthz", bare[:300], args.concurrency)  # warm-up: imports, connections, first renders
        for count in PRODUCTS:
            load(base + "/proxy/", widgets[count][:600], args.concurrency)
        pids = server_pids(base)  # after the warm-up: every worker has been forked by now
        # Two cores run the server and the load generator: measure in alternating rounds, keep the medians.
        for round_ in range(1, args.rounds + 1):
            print(f"== round {round_} of {args.rounds}: the bare view and each product, {args.requests} requests "
                  f"at {args.concurrency} connections, then 1000 at {light}", flush=True)
            runs.setdefault("bare", []).append(load_measured(base + "/healthz", bare, args.concurrency, pids))
            for count in PRODUCTS:
                runs.setdefault(str(count), []).append(
                    load_measured(base + "/proxy/", widgets[count], args.concurrency, pids))
            runs.setdefault("bare light", []).append(load(base + "/healthz", bare[:1000], light))
            for count in PRODUCTS:
                runs.setdefault(f"{count} light", []).append(load(base + "/proxy/", widgets[count][:1000], light))
        # The two products side by side in one load, so both see the same machine at the same moment.
        # Shuffled, so every connection (and the worker it lands on) carries both products.
        pairs = [(str(count), request) for count in PRODUCTS for request in widgets[count]]
        random.Random(5).shuffle(pairs)
        labels, mixed = [label for label, _ in pairs], [request for _, request in pairs]
        print(f"== both products mixed: {len(mixed)} requests at {args.concurrency} connections", flush=True)
        side_by_side = load(base + "/proxy/", mixed, args.concurrency, labels)["by_label"]
    results = {name: sorted(found, key=lambda r: r["rps"])[len(found) // 2] for name, found in runs.items()}
    for name, result in results.items():
        print(describe(str(name), result))
    statuses = {code for found in runs.values() for r in found for code in r["statuses"]}
    if statuses != {"200"}:
        raise SystemExit(f"some requests failed: {statuses}")
    ratio = results["1000"]["rps"] / results["bare"]["rps"]
    cpu_ratio = results["bare"]["cpu_ms"] / results["1000"]["cpu_ms"]
    big = results["10000"]["rps"] / results["1000"]["rps"]
    # Same load, same moment: the 1,000-review product's median time over the 10,000-review one's.
    big_mixed = side_by_side["1000"]["p50_ms"] / side_by_side["10000"]["p50_ms"]
    print(f"mixed     : p50 {side_by_side['1000']['p50_ms']:.1f} ms (1,000 reviews) "
          f"{side_by_side['10000']['p50_ms']:.1f} ms (10,000 reviews)")
    p99 = max(results[f"{count} light"]["p99_ms"] for count in PRODUCTS)
    report("storefront_widget", {
        "ratio": ratio, "rps": results["1000"]["rps"], "bare_rps": results["bare"]["rps"],
        "p99_ms": p99, "bare_p99_ms": results["bare light"]["p99_ms"], "light_connections": light,
        "p99_ratio": p99 / results["bare light"]["p99_ms"],
        "big_over_small": big, "mixed": big_mixed, "server_cpu_ratio": cpu_ratio,
        "cpu_ms": results["1000"]["cpu_ms"], "bare_cpu_ms": results["bare"]["cpu_ms"],
    }, at_least={"ratio": 0.5, "mixed": 0.90}, at_most={"p99_ms": 30})


if __name__ == "__main__":
    main()
