"""What Advocate costs a storefront: product and collection pages through devstore, with and
without Advocate's blocks, once Advocate has written the product metafields.

Advocate runs under gunicorn on the real PostgreSQL and Redis; devstore (in this process)
renders its Dawn-like pages with the real .liquid blocks and proxies /apps/advocate to it. A
product with 40 published reviews, synced to its metafields. Measured:

1. Requests that reach Advocate per page view, in Chromium with JavaScript on: the product page
   (badge, first page of reviews, launcher) and the collection page (stars on the cards).
   Target 0: Shopify renders both from the metafields.
2. The page's server time with the blocks against the same page without them (median of
   alternating requests): the Liquid the blocks add.
3. Lighthouse (the `lighthouse` npm package driving the system Chromium, mobile), median of
   alternating runs with and without the blocks: performance score (Shopify's App Store allows
   a 10-point drop), LCP within 50 ms, CLS within 0.01, and no render-blocking Advocate resource.
   Skipped, and said so, when `npm ci` has not installed Lighthouse.

The last line is one JSON object of named figures and their targets.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/storefront_page.py [--lighthouse-runs 3]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import ROOT, django_env, free_port, gunicorn, report  # noqa: E402

DEMO = "demo-outfitters.myshopify.com"
SCOPES = "read_orders,read_customers,read_products,write_products,write_discounts"
LIGHTHOUSE = ROOT / "node_modules" / "lighthouse" / "cli" / "index.js"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def setup(app_url: str):
    """devstore with the blocks placed, the shop in Advocate, 40 reviews synced to the metafields."""
    from django.conf import settings
    from django.utils import timezone

    from devstore import theme
    from devstore.server import start
    from reviews.metafields import product_metafields_sync
    from reviews.models import Review
    from reviews.services import product_rating_refresh
    from shopapp import shopify
    from shopapp.models import Shop

    running = start(port=free_port(), app_url=app_url, api_key=settings.SHOPIFY_API_KEY,
                    api_secret=settings.SHOPIFY_API_SECRET, smtp_port=None)
    running.seed()
    store = running.store
    store.app_install(DEMO, scopes=SCOPES)
    for handle in ("star-badge", "reviews", "referral-embed"):
        theme.add_block(store.shop(DEMO)["theme"], handle)
    tokens = store.tokens_issue(DEMO, expiring=True)
    moment = timezone.now()
    Shop.objects.filter(domain=DEMO).delete()
    shop = Shop.objects.create(domain=DEMO, name="Demo Outfitters", currency="USD", scopes=SCOPES,
                               access_token=tokens["access_token"], access_token_expires_at=moment + timedelta(hours=2),
                               refresh_token=tokens["refresh_token"], refresh_token_expires_at=moment + timedelta(days=90),
                               installed_at=moment)
    product = store.product(DEMO, "trail-mug")
    Review.objects.bulk_create([
        Review(shop=shop, product_id=product["id"], product_title="Trail Mug", rating=5 - n % 3,
               title=f"Trail notes {n}", body="Kept my coffee hot from the car park to the summit. " * (1 + n % 3),
               display_name=f"Hiker {n}", status=Review.Status.PUBLISHED, published_at=moment, created_at=moment)
        for n in range(40)])
    product_rating_refresh(shop=shop, product_id=product["id"])
    settings.SHOPIFY_UPSTREAM_URL = running.url
    shopify.set_http_client(None)
    product_metafields_sync(shop.pk)
    return running


def pages(running) -> dict[str, str]:
    return {"product": f"{running.url}/shops/{DEMO}/products/trail-mug", "collection": f"{running.url}/shops/{DEMO}/"}


class Blocks:
    """Switch the theme between with and without Advocate's blocks."""

    def __init__(self, running):
        from devstore import theme

        self.shop = running.store.shop(DEMO)
        self.placed = self.shop["theme"]
        self.bare = theme.default_theme()

    def on(self, placed: bool) -> None:
        self.shop["theme"] = self.placed if placed else self.bare


def requests_reaching_advocate(url: str) -> int:
    """Requests a real browser sends to Advocate (through the app proxy) while loading the page."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        seen: list[str] = []
        page.on("request", lambda request: seen.append(request.url))
        page.goto(url, wait_until="networkidle")
        browser.close()
    return sum("/apps/advocate/" in address for address in seen)


def server_time(url: str, blocks: Blocks, rounds: int = 40) -> tuple[float, float]:
    """Median milliseconds for the page with and without the blocks, alternating."""
    times: dict[bool, list[float]] = {True: [], False: []}
    with httpx.Client(timeout=10) as client:
        for n in range(rounds * 2):
            placed = n % 2 == 0
            blocks.on(placed)
            started = time.perf_counter()
            assert client.get(url).status_code == 200
            times[placed].append((time.perf_counter() - started) * 1000)
    blocks.on(True)
    return statistics.median(times[True]), statistics.median(times[False])


def lighthouse(url: str) -> dict:
    out = subprocess.run(
        ["node", str(LIGHTHOUSE), url, "--output=json", "--quiet", "--only-categories=performance",
         "--chrome-flags=--headless=new --no-sandbox --disable-gpu"],
        capture_output=True, text=True, timeout=180, env={**os.environ, "CHROME_PATH": CHROMIUM or ""})
    if out.returncode != 0:
        raise RuntimeError(f"lighthouse failed: {out.stderr[-500:]}")
    data = json.loads(out.stdout)
    audits = data["audits"]
    blocking = [item.get("url", "") for item in (audits.get("render-blocking-resources", {}).get("details") or {})
                .get("items", [])]
    return {"score": data["categories"]["performance"]["score"] * 100,
            "lcp": audits["largest-contentful-paint"]["numericValue"],
            "cls": audits["cumulative-layout-shift"]["numericValue"],
            "advocate_blocking": sum("advocate" in address for address in blocking)}


def lighthouse_compare(url: str, blocks: Blocks, runs: int) -> dict:
    results: dict[bool, list[dict]] = {True: [], False: []}
    for n in range(runs * 2):
        placed = n % 2 == 0
        blocks.on(placed)
        results[placed].append(lighthouse(url))
    blocks.on(True)

    def median(placed: bool, key: str) -> float:
        return statistics.median(r[key] for r in results[placed])

    return {"score_drop": median(False, "score") - median(True, "score"),
            "lcp_added_ms": median(True, "lcp") - median(False, "lcp"),
            "cls_added": median(True, "cls") - median(False, "cls"),
            "advocate_render_blocking": max(r["advocate_blocking"] for r in results[True])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lighthouse-runs", type=int, default=3)
    args = parser.parse_args()
    env = django_env()
    figures: dict = {}
    at_most: dict = {}
    with gunicorn(env, workers=2) as app_url:
        running = setup(app_url)
        blocks = Blocks(running)
        for name, url in pages(running).items():
            print(f"== {name} page", flush=True)
            reached = requests_reaching_advocate(url)
            with_ms, without_ms = server_time(url, blocks)
            print(f"   {reached} requests reached Advocate; server time {with_ms:.1f} ms with the blocks, "
                  f"{without_ms:.1f} ms without", flush=True)
            figures[f"{name}_requests_to_advocate"] = reached
            figures[f"{name}_server_ms_with_blocks"] = with_ms
            figures[f"{name}_server_ms_without_blocks"] = without_ms
            at_most[f"{name}_requests_to_advocate"] = 0
            if LIGHTHOUSE.exists() and CHROMIUM:
                compared = lighthouse_compare(url, blocks, args.lighthouse_runs)
                print(f"   Lighthouse (median of {args.lighthouse_runs}): score {-compared['score_drop']:+.0f}, "
                      f"LCP {compared['lcp_added_ms']:+.0f} ms, CLS {compared['cls_added']:+.3f}, "
                      f"{compared['advocate_render_blocking']} render-blocking Advocate resources", flush=True)
                for key, limit in (("score_drop", 10), ("lcp_added_ms", 50), ("cls_added", 0.01),
                                   ("advocate_render_blocking", 0)):
                    figures[f"{name}_{key}"] = compared[key]
                    at_most[f"{name}_{key}"] = limit
            else:
                print("   Lighthouse skipped: run `npm ci` (and install chromium) to measure it", flush=True)
        running.stop()
    report("storefront_page", figures, at_most=at_most)


if __name__ == "__main__":
    main()
