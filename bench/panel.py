"""The embedded panel's heaviest pages for a large shop, against a bare Django view in the same run.

A shop with 50,000 orders, 10,000 reviews and 10,000 referrals (and a small shop with a
hundredth of that). Advocate under gunicorn on PostgreSQL; the dashboard (30 days and a
year) and the reviews list are loaded with a valid session token from a separate process.
Prints server time p95 for each page, and the SQL queries each page runs for the small and
the large shop (they must be the same). The last line is one JSON object of named figures
and their targets.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/panel.py [--requests 200]

The first run creates the data (about a minute); later runs reuse it.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import describe, django_env, gunicorn, load, report, session_token  # noqa: E402

SIZES = {"large": {"orders": 50_000, "reviews": 10_000, "referrals": 10_000},
         "small": {"orders": 500, "reviews": 100, "referrals": 100}}
PAGES = {"dashboard": "/", "dashboard-year": "/?range=365", "reviews": "/app/reviews/"}
BATCH = 2000


def _domain(size: str) -> str:
    return f"bench-panel-{size}.myshopify.com"


def shop_populate(size: str):
    """Create the shop's customers, orders, reviews and referrals unless they are there already."""
    from django.db import transaction
    from django.utils import timezone

    from referrals.models import Advocate, Referral
    from reviews.models import Review
    from shopapp.models import Customer, Order, Shop
    from shopapp.orders import order_stats_rebuild

    want = SIZES[size]
    now = timezone.now()
    shop, _ = Shop.objects.update_or_create(domain=_domain(size), defaults={
        "name": f"Bench {size}", "installed_at": now, "uninstalled_at": None, "access_token": "shpat_bench",
        "access_token_expires_at": now + timedelta(days=3650), "refresh_token": "shprt_bench",
        "refresh_token_expires_at": now + timedelta(days=3650)})
    if (Order.objects.filter(shop=shop).count() == want["orders"] and Review.objects.filter(shop=shop).count() == want["reviews"]
            and Referral.objects.filter(shop=shop).count() == want["referrals"]):
        return shop
    print(f"== creating the {size} shop: {want}", flush=True)
    rng = random.Random(size)
    with transaction.atomic():
        Referral.objects.filter(shop=shop).delete()
        Advocate.objects.filter(shop=shop).delete()
        Review.objects.filter(shop=shop).delete()
        Order.objects.filter(shop=shop).delete()
        Customer.objects.filter(shop=shop).delete()
        n_customers = max(10, want["orders"] * 2 // 5)
        customers = Customer.objects.bulk_create(
            [Customer(shop=shop, shopify_id=9_100_000_000_000_000 + i, email=f"c{i}@example.com", first_name=f"C{i}")
             for i in range(n_customers)], batch_size=BATCH)
        orders = []
        for i in range(want["orders"]):
            placed = now - timedelta(days=rng.uniform(0, 365))
            total = Decimal(rng.randint(1500, 25000)) / 100
            orders.append(Order(shop=shop, shopify_id=9_200_000_000_000_000 + i, name=f"#{1000 + i}",
                                customer=customers[rng.randrange(n_customers)], currency="USD", total=total,
                                subtotal=total, placed_at=placed, paid_at=placed, fulfilled_at=placed + timedelta(days=1),
                                financial_status="paid"))
            if len(orders) % 10_000 == 0:
                print(f"   orders {len(orders)}/{want['orders']}", flush=True)
        orders = Order.objects.bulk_create(orders, batch_size=BATCH)
        Review.objects.bulk_create([
            Review(shop=shop, product_id=rng.randint(1, 40), product_title=f"Product {i % 40}", rating=rng.choice([5, 5, 5, 4, 4, 3, 2, 1]),
                   title=f"Review {i}", body="Solid and well made. " * 3, display_name=f"C{i}",
                   customer=customers[i % n_customers], published_at=(at := now - timedelta(days=rng.uniform(0, 365))),
                   created_at=at, updated_at=at,
                   status=Review.Status.HELD if i % 50 == 0 else Review.Status.PUBLISHED)
            for i in range(want["reviews"])], batch_size=BATCH)
        n_advocates = max(5, want["referrals"] // 5)
        advocates = Advocate.objects.bulk_create(
            [Advocate(shop=shop, customer=customers[i], code=f"BP{size[0].upper()}-{i:05d}", code_state=Advocate.CodeState.CREATED)
             for i in range(n_advocates)], batch_size=BATCH)
        statuses = [Referral.Status.ISSUED, Referral.Status.PENDING, Referral.Status.VOID, Referral.Status.FLAGGED]
        Referral.objects.bulk_create([
            Referral(shop=shop, advocate=advocates[i % n_advocates], order=orders[-(i + 1)], friend=orders[-(i + 1)].customer,
                     via=Referral.Via.CODE, status=statuses[i % 4], order_total=orders[-(i + 1)].total,
                     reward_amount=Decimal("10.00"), currency="USD", created_at=orders[-(i + 1)].placed_at)
            for i in range(want["referrals"])], batch_size=BATCH)
        order_stats_rebuild(shop=shop)
    return shop


def queries_per_page(shop) -> dict[str, int]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    counts = {}
    for name, path in PAGES.items():
        sep = "&" if "?" in path else "?"
        url = f"{path}{sep}embedded=1&shop={shop.domain}&id_token={session_token(shop.domain)}"
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{name} answered {response.status_code} for {shop.domain}: {response.content[:300]!r}")
        counts[name] = len(ctx.captured_queries)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per page")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    print("== migrating", flush=True)
    env = django_env(require_redis=False)
    from bench._load import build_request

    shops = {size: shop_populate(size) for size in SIZES}
    queries = {size: queries_per_page(shop) for size, shop in shops.items()}
    for size, counts in queries.items():
        print(f"SQL queries per page, {size} shop: {counts}")
    large = shops["large"].domain
    results = {}
    with gunicorn(env, workers=args.workers) as base:
        bare = [build_request("GET", f"{base}/healthz") for _ in range(args.requests)]
        load(base + "/healthz", bare[:50], args.concurrency)
        results["bare view"] = load(base + "/healthz", bare, args.concurrency)
        for name, path in PAGES.items():
            sep = "&" if "?" in path else "?"
            url = f"{base}{path}{sep}embedded=1&shop={large}&id_token={session_token(large)}"
            batch = [build_request("GET", url) for _ in range(args.requests)]
            load(base + path, batch[:20], args.concurrency)  # warm-up
            print(f"== {name}: {args.requests} requests at {args.concurrency} connections", flush=True)
            results[name] = load(base + path, batch, args.concurrency)
    for name, result in results.items():
        print(describe(name, result) + f"  p95 {result['p95_ms']:.1f} ms")
    flat = all(queries["small"][p] == queries["large"][p] for p in PAGES)
    report("panel", {
        **{f"{name}_p95_ms": results[name]["p95_ms"] for name in PAGES},
        **{f"{name}_p95_ratio": results[name]["p95_ms"] / results["bare view"]["p95_ms"] for name in PAGES},
        "bare_p95_ms": results["bare view"]["p95_ms"], "queries_flat": flat, "queries": queries["large"],
    }, at_least={"queries_flat": True}, at_most={f"{name}_p95_ms": 150 for name in PAGES})


if __name__ == "__main__":
    main()
