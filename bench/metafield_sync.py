"""Shopify's copy of the storefront: how fast the metafield sync writes, and what it loses.

devstore (in this process, on a Basic plan: a 1,000-point bucket refilling at 100 points a
second, each metafieldsSet costing 10) holds a catalogue of --products products, each with a
published review in Advocate's PostgreSQL. Three measurements:

1. The ordinary sync (metafieldsSet, eight products a call, under the shared cost bucket) over
   the whole catalogue while reviews keep changing on random products, with --workers sync jobs
   running at once as RQ workers would. Calls made against the most the bucket allowed in that
   time (its full 1,000 points at the start plus 100 a second, ÷ 10 a call), THROTTLED answers that reached the sync as errors, and at the end, after
   the sweep's last pass, products whose Shopify copy is missing or older than the review
   count (lost or stale).
2. A review published on each of 100 products: seconds until all 100 are in Shopify.
3. The same catalogue resynced through one bulk mutation (staged upload + bulkOperationRunMutation),
   settled as the sweep would: seconds until every product is marked synced (for information).

The last line is one JSON object of named figures and their targets.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/metafield_sync.py [--products 10000] [--workers 4]
"""
from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import django_env, report  # noqa: E402

DOMAIN = "bench-metafields.myshopify.com"
SCOPES = "read_orders,read_customers,read_products,write_products,write_discounts"


def devstore_with_catalogue(count: int):
    from devstore.server import start
    from devstore.state import money, now, iso

    running = start(app_url="http://127.0.0.1:9", api_key=_setting("SHOPIFY_API_KEY"),
                    api_secret=_setting("SHOPIFY_API_SECRET"), smtp_port=None)
    store = running.store
    store.shop_create(DOMAIN, name="Bench Metafields", email="owner@example.com", currency="USD",
                      timezone_name="UTC", plan="basic")
    products = store.shop(DOMAIN)["products"]
    for n in range(count):  # straight into the dict: product_create would emit a webhook each
        pid = store.new_id()
        products[str(pid)] = {"id": pid, "title": f"Product {n}", "handle": f"product-{n}", "price": money(10),
                              "status": "ACTIVE", "variant_id": store.new_id(), "image_color": "#888",
                              "gift_card": False, "created_at": iso(now())}
    store.app_install(DOMAIN, scopes=SCOPES)
    return running, [int(p) for p in products]


def _setting(name: str):
    from django.conf import settings

    return getattr(settings, name)


def shop_in_advocate(running, product_ids: list[int]):
    """The shop with devstore's tokens and one published review per product (made in bulk)."""
    from django.conf import settings
    from django.utils import timezone

    from reviews.models import ProductRating, Review
    from shopapp.models import Shop

    Shop.objects.filter(domain=DOMAIN).delete()
    tokens = running.store.tokens_issue(DOMAIN, expiring=True)
    moment = timezone.now()
    shop = Shop.objects.create(domain=DOMAIN, name="Bench Metafields", currency="USD", scopes=SCOPES,
                               access_token=tokens["access_token"], access_token_expires_at=moment + timedelta(hours=2),
                               refresh_token=tokens["refresh_token"], refresh_token_expires_at=moment + timedelta(days=90),
                               installed_at=moment)
    Review.objects.bulk_create([
        Review(shop=shop, product_id=pid, product_title=f"Product {n}", rating=1 + n % 5, title="Fine",
               body=f"Honest review {n}", display_name=f"Shopper {n}", status=Review.Status.PUBLISHED,
               published_at=moment, created_at=moment) for n, pid in enumerate(product_ids)], batch_size=2000)
    ProductRating.objects.bulk_create([
        ProductRating(shop=shop, product_id=pid, product_title=f"Product {n}", count=1, total=1 + n % 5,
                      histogram={str(1 + n % 5): 1}, version=1, synced_version=0)
        for n, pid in enumerate(product_ids)], batch_size=2000)
    settings.SHOPIFY_UPSTREAM_URL = running.url
    from shopapp import shopify

    shopify.set_http_client(None)
    return shop


def _quiet_queue():
    """Jobs the code enqueues go nowhere: the bench runs the sync itself, as workers would."""
    from reviews import metafields, services

    services.product_metafields_due = metafields.product_metafields_due = lambda *, shop_id: None


def in_shopify(running, product_id: int) -> int:
    from devstore.metafields import product_metafield

    found = product_metafield(running.store, DOMAIN, product_id, "reviews", "rating_count")
    return int(found["value"]) if found else 0


def drain(shop, *, workers: int, changer=None) -> tuple[float, int, int]:
    """Run sync jobs on `workers` threads until nothing is due; (seconds, metafieldsSet calls, errors)."""
    from django.db import close_old_connections
    from django.db.models import F

    from reviews import metafields
    from reviews.models import ProductRating

    calls, errors = [0], [0]
    real = metafields.AdminClient.mutate

    def counted(self, mutation, variables, *, field):
        if field == "metafieldsSet":
            calls[0] += 1
        try:
            return real(self, mutation, variables, field=field)
        except Exception:
            errors[0] += 1
            raise

    metafields.AdminClient.mutate = counted
    stop = threading.Event()

    def worker():
        try:
            while not stop.is_set():
                if metafields.product_metafields_sync(shop.pk) == 0:
                    time.sleep(0.05)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(workers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    if changer:
        changer.start()
    while True:
        time.sleep(0.2)
        changing = changer is not None and changer.is_alive()
        if not changing and not ProductRating.objects.filter(shop=shop, version__gt=F("synced_version")).exists():
            break
    elapsed = time.perf_counter() - started
    stop.set()
    for thread in threads:
        thread.join()
    metafields.AdminClient.mutate = real
    errors[0] += ProductRating.objects.filter(shop=shop).exclude(sync_error="").count()
    return elapsed, calls[0], errors[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    django_env()
    from django.conf import settings
    from django.db import close_old_connections

    from devstore.state import PLANS
    from reviews.metafields import definitions_ensure, metafields_resync
    from reviews.models import ProductRating, Review
    from reviews.services import product_rating_refresh
    from shopapp.admin_api import AdminClient
    from shopapp.bulk import bulk_settle
    from shopapp.models import BulkOperation

    print(f"== {args.products} products in devstore and in Advocate", flush=True)
    running, product_ids = devstore_with_catalogue(args.products)
    shop = shop_in_advocate(running, product_ids)
    _quiet_queue()
    definitions_ensure(shop, AdminClient(shop))
    restore = PLANS["basic"][2]
    settings.METAFIELDS_BULK_AT = 10 ** 9  # 1: the ordinary path only

    changed: list[int] = []

    def change_reviews():
        rng = random.Random(5)
        try:
            for n in range(args.products // 50):  # reviews keep arriving while the sync runs
                pid = rng.choice(product_ids)
                Review.objects.create(shop=shop, product_id=pid, product_title="Product", rating=rng.randint(1, 5),
                                      body=f"Another review {n}", display_name="Late shopper",
                                      status=Review.Status.PUBLISHED)
                product_rating_refresh(shop=shop, product_id=pid)
                changed.append(pid)
                time.sleep(0.02)
        finally:
            close_old_connections()

    print(f"== 1. ordinary sync, {args.workers} workers, reviews changing meanwhile (about "
          f"{args.products / 8 / (restore / 10):.0f} s at the restore rate)", flush=True)
    seconds, calls, errors = drain(shop, workers=args.workers, changer=threading.Thread(target=change_reviews))
    counts = dict(ProductRating.objects.filter(shop=shop).values_list("product_id", "count"))
    wrong = [pid for pid in product_ids if in_shopify(running, pid) != counts[pid]]
    # What the bucket allowed in that time: its full start plus what it restored.
    allowed = (PLANS["basic"][1] + restore * seconds) / 10
    rate_share = calls / allowed
    print(f"   {calls} metafieldsSet calls in {seconds:.1f} s, of the {allowed:.0f} the bucket allowed "
          f"({rate_share:.0%}); {len(changed)} reviews changed meanwhile; "
          f"{errors} errors; {len(wrong)} products lost or stale", flush=True)

    print("== 2. a review published on each of 100 products: until all are in Shopify", flush=True)
    hundred = product_ids[:100]
    for pid in hundred:
        Review.objects.create(shop=shop, product_id=pid, product_title="Product", rating=5, body="Just published",
                              display_name="New shopper", status=Review.Status.PUBLISHED)
        product_rating_refresh(shop=shop, product_id=pid)
    published_at = time.perf_counter()
    drain(shop, workers=args.workers)
    counts = dict(ProductRating.objects.filter(shop=shop, product_id__in=hundred).values_list("product_id", "count"))
    assert all(in_shopify(running, pid) == counts[pid] for pid in hundred)
    to_storefront = time.perf_counter() - published_at
    print(f"   on the storefront after {to_storefront:.1f} s", flush=True)

    print("== 3. the whole catalogue resynced through one bulk mutation", flush=True)
    settings.METAFIELDS_BULK_AT = 250
    metafields_resync(shop)
    started = time.perf_counter()
    from reviews.metafields import product_metafields_sync

    product_metafields_sync(shop.pk)
    operation = BulkOperation.objects.filter(shop=shop).order_by("-pk").first()
    while operation and bulk_settle(operation.pk) in BulkOperation.OPEN:
        time.sleep(1)  # what the finish webhook or the sweep would do
    while product_metafields_sync(shop.pk):
        pass
    bulk_seconds = time.perf_counter() - started
    left = ProductRating.objects.filter(shop=shop, synced_version__lt=1).count()
    print(f"   {args.products} products in {bulk_seconds:.1f} s through bulk operation "
          f"{operation.operation_id if operation else '(none)'}; {left} left", flush=True)
    running.stop()

    report("metafield_sync", {
        "products": args.products, "workers": args.workers,
        "calls_per_second": calls / seconds, "restore_rate_calls_per_second": restore / 10,
        "share_of_restore_rate": rate_share, "throttled_or_errors_surfaced": errors,
        "lost_or_stale_products": len(wrong), "seconds_to_storefront_100_products": to_storefront,
        "bulk_resync_seconds": bulk_seconds,
    }, at_least={"share_of_restore_rate": 0.9},
       at_most={"throttled_or_errors_surfaced": 0, "lost_or_stale_products": 0,
                "seconds_to_storefront_100_products": 60})


if __name__ == "__main__":
    main()
