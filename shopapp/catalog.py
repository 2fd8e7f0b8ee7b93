"""Products as shoppers see them beside Advocate's emails and pages: a picture next to each
product's stars in a review request, and a few best sellers on a friend's landing page.

Read from Shopify and kept a day as ProductCard rows. A shopper's page never waits on Shopify:
it shows the cards there are and queues a refresh when they are old. An email job may read the
products it names (one `nodes` query; a failed read sends the email without pictures).
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from shopapp.admin_api import AdminClient
from shopapp.errors import ShopifyError, ShopNotConnected
from shopapp.jobs import enqueue
from shopapp.memo import Memo
from shopapp.models import ProductCard, Shop

log = logging.getLogger(__name__)

FRESH_FOR = timedelta(days=1)
FEATURED = 8  # kept; a page shows fewer
ASK_AGAIN_SECONDS = 600
_asked: Memo[bool] = Memo(seconds=ASK_AGAIN_SECONDS, max_items=100_000)

# What a card needs of a Product (the history import's bulk query selects it too).
FIELDS = "legacyResourceId title handle status onlineStoreUrl featuredImage { url } priceRangeV2 { minVariantPrice { amount } }"
BY_ID = f"query AdvocateProductCards($ids: [ID!]!) {{ nodes(ids: $ids) {{ ... on Product {{ {FIELDS} }} }} }}"
BEST_SELLERS = (f"query AdvocateBestSellers($n: Int!) {{ products(first: $n, sortKey: BEST_SELLING, "
                f'query: "status:active gift_card:false") {{ nodes {{ {FIELDS} }} }} }}')


def product_cards(shop: Shop, product_ids: Iterable[int]) -> dict[int, ProductCard]:
    """The cards of these products, reading from Shopify those missing or a day old (for jobs)."""
    ids = {int(pk) for pk in product_ids if pk}
    cards = {c.shopify_id: c for c in ProductCard.objects.for_shop(shop).filter(shopify_id__in=ids)}
    stale = [pk for pk in ids if pk not in cards or cards[pk].refreshed_at < timezone.now() - FRESH_FOR]
    if stale:
        try:
            nodes = AdminClient(shop).query(BY_ID, {"ids": [f"gid://shopify/Product/{pk}" for pk in stale]},
                                            cost=len(stale) + 1).get("nodes") or []
        except (ShopifyError, ShopNotConnected) as exc:
            log.info("product cards of %s not read: %s", shop.domain, exc)
            return cards
        cards.update({c.shopify_id: c for c in product_cards_keep(shop, [n for n in nodes if isinstance(n, dict)])})
    return cards


def featured_products(shop: Shop, n: int = 4) -> list[ProductCard]:
    """For a shopper's page: the shop's best sellers as last read, with a picture and a page; a
    refresh is queued when they are old or were never read (this call never waits on Shopify)."""
    cards = list(ProductCard.objects.for_shop(shop).filter(featured_rank__isnull=False).order_by("featured_rank"))
    if (not cards or min(c.refreshed_at for c in cards) < timezone.now() - FRESH_FOR) and _asked.get(shop.pk) is None:
        _asked.put(shop.pk, True)  # once per process per ASK_AGAIN_SECONDS, however many pages are opened
        enqueue(featured_products_refresh, shop.pk)
    return [c for c in cards if c.image_url and c.url][:n]


def featured_products_due(shop: Shop, *, reinstalled: bool = False) -> None:
    """Reconnect hook: read the best sellers after an install, before a friend's page needs them."""
    enqueue(featured_products_refresh, shop.pk)


def featured_products_refresh(shop_id: int) -> int:
    """Job: read the shop's best sellers again. Returns how many it keeps."""
    shop = Shop.objects.get(pk=shop_id)
    if not shop.is_installed:
        return 0
    try:
        nodes = (AdminClient(shop).query(BEST_SELLERS, {"n": FEATURED}, cost=FEATURED + 2).get("products") or {}).get("nodes") or []
    except (ShopifyError, ShopNotConnected) as exc:
        log.info("best sellers of %s not read: %s", shop.domain, exc)
        return 0
    with transaction.atomic():
        ProductCard.objects.for_shop(shop).filter(featured_rank__isnull=False).update(featured_rank=None)
        kept = product_cards_keep(shop, nodes, ranked=True)
    return len(kept)


def product_cards_keep(shop: Shop, nodes: list[dict], *, ranked: bool = False) -> list[ProductCard]:
    """Store these products (Admin API Product nodes with FIELDS) as the shop's cards, in one
    upsert; `ranked`: their order is the best sellers'. The history import keeps a whole catalogue."""
    cards, seen = [], set()
    for rank, node in enumerate(nodes):
        try:
            shopify_id = int(node["legacyResourceId"])
        except (KeyError, TypeError, ValueError):
            continue
        if shopify_id in seen:
            continue
        seen.add(shopify_id)
        published = (node.get("status") or "ACTIVE") == "ACTIVE"
        cards.append(ProductCard(
            shop=shop, shopify_id=shopify_id, title=(node.get("title") or "")[:255],
            handle=(node.get("handle") or "")[:255], image_url=_https_or_blank((node.get("featuredImage") or {}).get("url")),
            url=_https_or_blank(node.get("onlineStoreUrl")) if published else "", price=_price(node),
            refreshed_at=timezone.now(), featured_rank=rank if ranked else None))
    fields = ["title", "handle", "image_url", "url", "price", "refreshed_at"] + (["featured_rank"] if ranked else [])
    return ProductCard.objects.bulk_create(cards, update_conflicts=True, unique_fields=["shop", "shopify_id"],
                                           update_fields=fields) if cards else []


def _https_or_blank(url: str | None) -> str:
    url = (url or "")[:1000]
    return url if url.startswith(("https://", "http://")) else ""


def _price(node: dict) -> Decimal | None:
    try:
        return Decimal(str(node["priceRangeV2"]["minVariantPrice"]["amount"]))
    except (KeyError, TypeError, InvalidOperation):
        return None
