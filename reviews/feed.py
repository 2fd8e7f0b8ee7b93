"""The Google Product Ratings feed: every published review in Google's Product Reviews Feed schema
(version 2.4), at an unguessable per-shop address the merchant pastes into Merchant Center.

Whatever its rating, every published review with words is in it (Google wants a full feed each
time, and text in each review: a stars-only review is left out), with
the product's identifiers (GTIN, SKU, brand, read from Shopify once per product, 25 products a
request), how the review was asked for, the
incentivized and verified-purchase marks, and no personal data beyond the name the reviewer
chose to show. The body is streamed row by row from a database cursor, so a shop with 100,000
reviews is served with flat memory.
"""
from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Iterable, Iterator
from datetime import timezone as dt_timezone
from xml.sax.saxutils import escape, quoteattr

from django.utils import timezone

from reviews.models import ProductRating, Review, ReviewSettings
from shopapp.admin_api import AdminClient
from shopapp.errors import ShopifyError
from shopapp.models import Shop
from shopapp.shopify import shop_url

log = logging.getLogger(__name__)

SCHEMA = "http://www.google.com/shopping/reviews/schema/product/2.4/product_reviews.xsd"
ELIGIBLE_AT = 50  # Google shows product ratings for shops with at least this many reviews
CHUNK = 500
# How each review was asked for, in Google's words (an imported review's is not known).
COLLECTION = {Review.Source.REQUEST: "post_fulfillment", Review.Source.STOREFRONT: "unsolicited"}
ANONYMOUS = ' is_anonymous="true"'
# XML 1.0 cannot carry these characters at all, escaped or not.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

IDENTIFIERS_PER_CALL = 25  # products per nodes() request
PRODUCT_IDENTIFIERS = """
query advocateProductIdentifiers($ids: [ID!]!) {
  nodes(ids: $ids) { ... on Product { id handle vendor variants(first: 35) { nodes { sku barcode } } } }
}
"""


def feed_token_for(shop: Shop) -> str:
    """The shop's feed secret, made on first use."""
    config = ReviewSettings.for_shop(shop)
    if not config.feed_token:
        token = secrets.token_urlsafe(32)
        ReviewSettings.objects.filter(pk=config.pk, feed_token="").update(feed_token=token)
        config.refresh_from_db(fields=["feed_token"])
    return config.feed_token


def feed_token_rotate(shop: Shop) -> str:
    """A new address; the old one answers 404 from now on."""
    token = secrets.token_urlsafe(32)
    ReviewSettings.objects.filter(shop=shop).update(feed_token=token)
    return token


def feed_shop(token: str) -> Shop | None:
    """The installed shop whose feed this is, or None (unknown, rotated away, or uninstalled)."""
    if len(token) < 32:
        return None
    config = ReviewSettings.objects.select_related("shop").filter(feed_token=token).first()
    return config.shop if config and config.shop.is_installed else None


def product_identifiers_refresh(shop: Shop, *, limit: int = 200, product_ids: Iterable[int] | None = None) -> int:
    """Read handle, brand, SKUs and GTINs from Shopify for reviewed products not read yet (of
    `product_ids` only, when given), in requests of IDENTIFIERS_PER_CALL products each."""
    pending = ProductRating.objects.filter(shop=shop, identifiers_at__isnull=True, count__gt=0)
    if product_ids is not None:
        pending = pending.filter(product_id__in=list(product_ids))
    pending = list(pending.order_by("pk")[:limit])
    if not pending:
        return 0
    client = AdminClient(shop)
    done = 0
    for start in range(0, len(pending), IDENTIFIERS_PER_CALL):
        batch = {f"gid://shopify/Product/{r.product_id}": r for r in pending[start:start + IDENTIFIERS_PER_CALL]}
        try:
            nodes = client.query(PRODUCT_IDENTIFIERS, {"ids": list(batch)}, cost=len(batch) * 37).get("nodes") or []
        except ShopifyError as exc:
            log.warning("identifiers of %s products on %s: %s", len(batch), shop.domain, exc)
            break  # the sweep tries again
        found = {node["id"]: node for node in nodes if node}
        for product_gid, rating in batch.items():
            product = found.get(product_gid) or {}  # a deleted product: read, with nothing to show
            variants = (product.get("variants") or {}).get("nodes") or []
            ProductRating.objects.filter(pk=rating.pk).update(
                handle=product.get("handle") or "", brand=product.get("vendor") or "",
                skus=sorted({v["sku"] for v in variants if v.get("sku")}),
                gtins=sorted({v["barcode"] for v in variants if (v.get("barcode") or "").isdigit()}),
                identifiers_at=timezone.now())
            done += 1
    return done


def identifiers_sweep() -> int:
    """Sweeper: identifiers for newly reviewed products of shops that publish a feed."""
    total = 0
    for config in ReviewSettings.objects.exclude(feed_token="").select_related("shop"):
        shop = config.shop
        if shop.is_installed and shop.access_token and ProductRating.objects.filter(
                shop=shop, identifiers_at__isnull=True, count__gt=0).exists():
            total += product_identifiers_refresh(shop)
    return total


def _text(value: str) -> str:
    return escape(_NOT_XML.sub("", value or ""))


def feed_lines(shop: Shop) -> Iterator[str]:
    """The feed document, a few lines at a time."""
    yield '<?xml version="1.0" encoding="UTF-8"?>\n'
    yield ('<feed xmlns:vc="http://www.w3.org/2007/XMLSchema-versioning" '
           'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
           f'xsi:noNamespaceSchemaLocation={quoteattr(SCHEMA)}>\n')
    yield "<version>2.4</version>\n<aggregator><name>Advocate</name></aggregator>\n"
    yield f"<publisher><name>{_text(shop.name or shop.domain)}</name></publisher>\n<reviews>\n"
    products = {r.product_id: r for r in ProductRating.objects.filter(shop=shop)}
    # Google's schema requires text: a stars-only review (no title, no body) is left out.
    reviews = (Review.objects.for_shop(shop).published().exclude(title="", body="").order_by("pk")
               .only("pk", "product_id", "product_title", "rating", "title", "body", "display_name", "source",
                     "order_line_id", "incentivized", "imported_verified", "created_at", "published_at"))
    for review in reviews.iterator(chunk_size=CHUNK):
        yield _review_xml(shop, review, products.get(review.product_id))
    yield "</reviews>\n</feed>\n"


def _review_xml(shop: Shop, review: Review, product: ProductRating | None) -> str:
    handle = product.handle if product else ""
    url = shop_url(shop.domain, f"/products/{handle}") if handle else shop_url(shop.domain, "/")
    moment = (review.published_at or review.created_at).astimezone(dt_timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    anonymous = review.author == "Anonymous"
    ids = []
    if product and product.gtins:
        ids.append("<gtins>" + "".join(f"<gtin>{_text(g)}</gtin>" for g in product.gtins) + "</gtins>")
    if product and product.skus:
        ids.append("<skus>" + "".join(f"<sku>{_text(s)}</sku>" for s in product.skus) + "</skus>")
    if product and product.brand:
        ids.append(f"<brands><brand>{_text(product.brand)}</brand></brands>")
    title = (product.product_title if product else "") or review.product_title
    parts = [
        f"<review><review_id>{review.pk}</review_id>",
        f"<reviewer><name{ANONYMOUS if anonymous else ''}>{_text(review.author)}</name></reviewer>",
        f"<is_verified_purchase>{'true' if review.verified or review.imported_verified else 'false'}</is_verified_purchase>",
        f"<is_incentivized_review>{'true' if review.incentivized else 'false'}</is_incentivized_review>",
        f"<review_timestamp>{moment}</review_timestamp>",
        f"<title>{_text(review.title)}</title>" if review.title.strip() else "",
        f"<content>{_text(review.body) or _text(review.title)}</content>",
        f'<review_url type="group">{_text(url)}</review_url>',
        f'<ratings><overall min="1" max="5">{review.rating}</overall></ratings>',
        "<products><product>",
        f"<product_ids>{''.join(ids)}</product_ids>" if ids else "",
        f"<product_name>{_text(title)}</product_name>" if title else "",
        f"<product_url>{_text(url)}</product_url>",
        "</product></products>",
        f"<collection_method>{COLLECTION[review.source]}</collection_method>" if review.source in COLLECTION else "",
        "</review>\n",
    ]
    return "".join(parts)


def feed_status(shop: Shop) -> dict:
    """For the panel: the address, how many reviews it holds, and whether Google will use it."""
    published = Review.objects.for_shop(shop).published().count()
    return {"token": feed_token_for(shop), "published": published, "eligible": published >= ELIGIBLE_AT,
            "needed": max(ELIGIBLE_AT - published, 0)}
