"""What the storefront shows, kept in Shopify's product metafields, so Shopify renders it itself.

Per product with published reviews:
- `reviews.rating` (type `rating`, 1–5) and `reviews.rating_count`: Shopify's standard
  definitions, which Online Store 2.0 themes already read for the stars on product cards and in
  their Product markup, and Search & Discovery for filters;
- `$app.reviews` (type `json`, app-owned, so only Advocate can write it): the summary, the
  histogram and the first page of published reviews as data (Liquid escapes the text when the
  block renders it), shrunk to fewer reviews rather than ever exceeding Shopify's 128 KB.

A product is due while its ProductRating `version` (bumped by every change the storefront shows:
publish, reject, edit, reply, a hidden photo, a redaction, the review settings) is ahead of
`synced_version`. `product_metafields_sync` writes due products with `metafieldsSet` (eight
products, 24 metafields, a call; Shopify allows 25), then marks each synced *for the version it
read*: a review that changes during the write leaves its product due for the next pass, so
nothing is lost. metafieldsSet sets values, so sending the same values again after an ambiguous
answer is harmless; failures back off per product and the sweep drives them again. One sync runs
per shop at a time (a lease on its ReviewSettings row), so writes land in the order they were read.
With METAFIELDS_BULK_AT products or more due (a resync of a large catalogue), the sync hands them
to one bulk mutation (shopapp/bulk.py) instead, and nothing else is written for the shop until
Shopify has finished it; its result marks the products it applied, each for the version it sent,
and the ordinary sync writes whatever changed meanwhile. Nothing is
sent for an uninstalled shop or one that has not granted `write_products`; a reinstall writes
everything again (Shopify drops app-owned metafields with the app).

The shop itself has one: `$app.featured_reviews` (type `json`), the reviews the home page's carousel
block shows (its newest published reviews of 4 or 5 stars with words, each naming its product, and
the shop's average). Every product change marks it due too (FeaturedReviews, versioned the same way),
and the same sync writes it after the products, with the same backoff, lease and sweep.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q, Sum
from django.utils import timezone

from reviews.feed import product_identifiers_refresh
from reviews.models import FeaturedReviews, ProductRating, Review, ReviewPhoto, ReviewSettings
from reviews.storefront import PAGE_SIZE, verification_statement
from shopapp.admin_api import AdminClient
from shopapp.bulk import bulk_mutation_start, bulk_open
from shopapp.errors import ShopifyError, ShopifyUserError, ShopNotConnected
from shopapp.jobs import backoff, enqueue, row_lease
from shopapp.models import Shop
from shopapp.services import shop_sync_details

log = logging.getLogger(__name__)

APP_NAMESPACE, APP_KEY = "$app", "reviews"
REQUIRED_SCOPE = "write_products"
JSON_LIMIT = 128 * 1024  # Shopify's size limit for a json metafield value (bytes)
PRODUCTS_PER_CALL = 8  # three metafields each: 24 of the 25 metafieldsSet takes
PRODUCTS_PER_RUN = 200
LEASE = timedelta(minutes=5)  # a sync that died holding the lease frees it after this
BULK_PURPOSE = "reviews.metafields"
PHOTO_PATH = "/apps/advocate/reviews/photos/{pk}.jpg"  # through the app proxy, on the shop's domain
FEATURED_KEY = "featured_reviews"  # the shop's `$app.featured_reviews`, read by the carousel block
FEATURED_COUNT = 12
FEATURED_MIN_RATING = 4
# A card shows a few lines; cutting the words keeps the value small (12 reviews stay under 64 KB
# whatever they hold, half of Shopify's limit for json).
FEATURED_WORDS = 360

METAFIELDS_SET = """
mutation advocateMetafieldsSet($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) { metafields { key namespace } userErrors { field message code elementIndex } }
}
"""
METAFIELDS_DELETE = """
mutation advocateMetafieldsDelete($metafields: [MetafieldIdentifierInput!]!) {
  metafieldsDelete(metafields: $metafields) { deletedMetafields { key namespace ownerId } userErrors { field message } }
}
"""
DEFINITION_ENABLE = """
mutation advocateStandardDefinition($namespace: String!, $key: String!) {
  standardMetafieldDefinitionEnable(ownerType: PRODUCT, namespace: $namespace, key: $key) {
    createdDefinition { id } userErrors { field message code }
  }
}
"""


def sync_possible(shop: Shop) -> bool:
    return shop.is_installed and shop.has_scope(REQUIRED_SCOPE)


def reviews_value(shop: Shop, rating: ProductRating, *, limit: int = JSON_LIMIT) -> str:
    """The `$app.reviews` value: summary, histogram, the first page, fewer reviews if it must fit."""
    config = ReviewSettings.for_shop(shop)
    reviews = list(
        Review.objects.for_shop(shop).published().filter(product_id=rating.product_id)
        .order_by("-published_at", "-pk")[:PAGE_SIZE]
    )
    photos: dict[int, list[dict]] = {}
    for photo in ReviewPhoto.objects.filter(review__in=reviews, hidden_at__isnull=True).order_by("pk"):
        photos.setdefault(photo.review_id, []).append(
            {"url": PHOTO_PATH.format(pk=photo.pk), "width": photo.width, "height": photo.height})
    rows = [{
        "id": r.pk, "author": r.author, "date": (r.published_at or r.created_at).date().isoformat(),
        "rating": r.rating, "title": r.title, "body": r.body, "verified": r.verified,
        "incentivized": r.incentivized, "imported": r.source == Review.Source.IMPORT,
        "imported_verified": r.imported_verified,
        "reply": r.reply or None, "photos": photos.get(r.pk, []),
    } for r in reviews]
    data = {"v": 1, "average": rating.average, "count": rating.count,
            "histogram": {str(n): int(rating.histogram.get(str(n), 0)) for n in range(5, 0, -1)},
            # The theme block writes the statement in the shopper's language from `write` and `incentives`;
            # `verification` (in the language of the sync) stays for blocks that predate them.
            "verification": verification_statement(config), "write": config.non_buyer_reviews,
            "incentives": config.incentive_enabled, "reviews": rows, "more": rating.count > len(rows)}
    while True:
        value = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        if len(value.encode()) <= limit or not data["reviews"]:
            return value
        data["reviews"] = data["reviews"][:-1]  # one review fewer rather than a refused write
        data["more"] = True


def product_inputs(shop: Shop, rating: ProductRating) -> list[dict]:
    """metafieldsSet inputs for one product with published reviews."""
    owner = f"gid://shopify/Product/{rating.product_id}"
    return [
        {"ownerId": owner, "namespace": "reviews", "key": "rating", "type": "rating",
         "value": json.dumps({"value": f"{rating.average:.2f}", "scale_min": "1.0", "scale_max": "5.0"})},
        {"ownerId": owner, "namespace": "reviews", "key": "rating_count", "type": "number_integer",
         "value": str(rating.count)},
        {"ownerId": owner, "namespace": APP_NAMESPACE, "key": APP_KEY, "type": "json",
         "value": reviews_value(shop, rating)},
    ]


def product_identifiers(rating: ProductRating) -> list[dict]:
    """The three metafields of a product whose last published review went away (to delete)."""
    owner = f"gid://shopify/Product/{rating.product_id}"
    return [{"ownerId": owner, "namespace": ns, "key": key}
            for ns, key in (("reviews", "rating"), ("reviews", "rating_count"), (APP_NAMESPACE, APP_KEY))]


def products_due(shop: Shop, now: datetime):
    return (ProductRating.objects.filter(shop=shop, version__gt=F("synced_version"))
            .filter(Q(sync_next_at__isnull=True) | Q(sync_next_at__lte=now)).order_by("updated_at", "pk"))


def product_metafields_sync(shop_id: int, *, now: datetime | None = None) -> int:
    """Job: write the shop's due products to Shopify; how many were brought up to date."""
    now = now or timezone.now()
    shop = Shop.objects.filter(pk=shop_id).first()
    if shop is None or not sync_possible(shop):
        return 0
    if bulk_open(shop):
        return 0  # Shopify is running a bulk mutation for this shop; its end queues this again
    ReviewSettings.for_shop(shop)
    with row_lease(ReviewSettings.objects.filter(shop=shop), "metafields_lease_until", lasts=LEASE) as ours:
        if not ours:
            return 0  # another worker is syncing this shop; what it does not reach stays due for the sweep
        try:
            client = AdminClient(shop)
            definitions_ensure(shop, client)
            if (products_due(shop, now).filter(count__gt=0).count() >= settings.METAFIELDS_BULK_AT
                    and _bulk_start(shop, now)):
                return 0
            due = list(products_due(shop, now)[:PRODUCTS_PER_RUN])
            done = sum(_write(shop, client, due[start:start + PRODUCTS_PER_CALL], now)
                       for start in range(0, len(due), PRODUCTS_PER_CALL))
            _featured_write(shop, client, now)
            return done
        except ShopNotConnected:
            return 0  # nothing was sent; the rows stay due and the sweep tries after the reconnect


def _bulk_start(shop: Shop, now: datetime) -> bool:
    """Hand every due product with reviews to one bulk mutation; False when it did not start."""
    pairs = list(products_due(shop, now).filter(count__gt=0).order_by("pk").values_list("pk", "version"))
    groups = [pairs[i:i + PRODUCTS_PER_CALL] for i in range(0, len(pairs), PRODUCTS_PER_CALL)]

    def lines():
        for group in groups:
            ratings = ProductRating.objects.filter(shop=shop, pk__in=[pk for pk, _ in group]).order_by("pk")
            # Values read now are at least as new as the version recorded for the line, never older.
            yield {"metafields": [i for r in ratings for i in product_inputs(shop, r)]}

    row = bulk_mutation_start(shop, purpose=BULK_PURPOSE, mutation=METAFIELDS_SET, lines=lines(),
                              context={"lines": groups})
    if row is not None:
        log.info("metafields of %s products on %s handed to bulk operation %s", len(pairs), shop.domain, row.pk)
    return row is not None


def metafields_bulk_read(shop: Shop, operation, results) -> int:
    """A finished bulk mutation: each line Shopify applied marks its products synced for the version
    it carried. Idempotent (a line read twice marks nothing new)."""
    groups = operation.context.get("lines") or []
    done = 0
    for n, result in results:
        payload = (result.get("data") or {}).get("metafieldsSet") or {}
        if result.get("errors") or payload.get("userErrors") or payload.get("metafields") is None or n >= len(groups):
            continue  # this line's products stay due: the ordinary sync writes them
        for pk, version in groups[n]:
            done += ProductRating.objects.filter(pk=pk, shop=shop, synced_version__lt=version).update(
                synced_version=version, sync_attempts=0, sync_next_at=None, sync_error="")
    return done


def metafields_bulk_done(shop: Shop, operation) -> None:
    """After the bulk mutation closed (done or failed): write what is still due the ordinary way."""
    product_metafields_due(shop_id=shop.pk)


def _write(shop: Shop, client: AdminClient, ratings: list[ProductRating], now: datetime) -> int:
    sets = [i for r in ratings if r.count for i in product_inputs(shop, r)]
    deletes = [i for r in ratings if not r.count for i in product_identifiers(r)]
    try:
        if sets:
            client.mutate(METAFIELDS_SET, {"metafields": sets}, field="metafieldsSet")
        if deletes:
            client.mutate(METAFIELDS_DELETE, {"metafields": deletes}, field="metafieldsDelete")
    except ShopNotConnected:
        raise
    except ShopifyError as exc:
        # Refused (userErrors) or no definite answer: metafieldsSet is a set, so the next
        # attempt may send the same values again; each product waits its backoff.
        log.warning("metafields of %s products on %s: %s", len(ratings), shop.domain, _failure(exc))
        for r in ratings:
            ProductRating.objects.filter(pk=r.pk).update(
                sync_attempts=F("sync_attempts") + 1, sync_next_at=now + backoff(r.sync_attempts + 1),
                sync_error=_failure(exc))
        return 0
    done = 0
    for r in ratings:
        # Synced as far as the version read: a change since then keeps the product due.
        done += ProductRating.objects.filter(pk=r.pk, synced_version__lt=r.version).update(
            synced_version=r.version, sync_attempts=0, sync_next_at=None, sync_error="")
    return done


def _failure(exc: ShopifyError) -> str:
    kind = "refused" if isinstance(exc, ShopifyUserError) else "no answer"
    return f"{kind}: {exc}"[:255]


# --- the shop's featured reviews (the carousel) ------------------------------------------------

def featured_reviews(shop: Shop) -> list[Review]:
    """The carousel's reviews: the newest published ones of FEATURED_MIN_RATING stars or more with
    words, signed with the name the reviewer chose to show (an anonymous review is never featured,
    and so neither is a redacted customer's, whose name redaction took away)."""
    # Newest by created_at, as the All reviews page: the (shop, status, created_at) index serves it.
    return list(Review.objects.for_shop(shop).published()
                .filter(rating__gte=FEATURED_MIN_RATING, body__regex=r"\S").exclude(display_name="")
                .only("pk", "product_id", "product_title", "rating", "title", "body", "display_name",
                      "order_line_id", "incentivized", "imported_verified", "created_at", "published_at")
                .order_by("-created_at", "-pk")[:FEATURED_COUNT])


def featured_value(shop: Shop, reviews: list[Review]) -> str | None:
    """The `$app.featured_reviews` value (None when no review qualifies): the shop's average and
    count, and each review with its product's title and handle and its first shown photo."""
    if not reviews:
        return None
    products = {r.product_id: r for r in ProductRating.objects.filter(
        shop=shop, product_id__in={r.product_id for r in reviews}).only("product_id", "product_title", "handle")}
    photos: dict[int, str] = {}
    for photo in ReviewPhoto.objects.shown().filter(review__in=reviews).order_by("pk").only("pk", "review_id"):
        photos.setdefault(photo.review_id, PHOTO_PATH.format(pk=photo.pk))
    totals = ProductRating.objects.filter(shop=shop).aggregate(count=Sum("count"), total=Sum("total"))
    count = totals["count"] or 0
    rows = []
    for r in reviews:
        product = products.get(r.product_id)
        rows.append({
            "id": r.pk, "rating": r.rating, "title": r.title, "body": _excerpt(r.body.strip(), FEATURED_WORDS),
            "author": r.author, "verified": r.verified, "imported_verified": r.imported_verified,
            "incentivized": r.incentivized, "date": (r.published_at or r.created_at).date().isoformat(),
            "product_id": r.product_id, "product_title": (product.product_title if product else "") or r.product_title,
            "handle": product.handle if product else "", "photo": photos.get(r.pk),
        })
    data = {"v": 1, "average": round((totals["total"] or 0) / count, 2) if count else 0, "count": count,
            "reviews": rows}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _excerpt(text: str, limit: int) -> str:
    """The text cut at a word before `limit` characters, with an ellipsis when anything was cut."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    if len(cut.split()) > 1:
        cut = cut.rsplit(None, 1)[0]
    return cut.rstrip(" ,.;:-") + "…"


def featured_due(shop: Shop, now: datetime):
    return (FeaturedReviews.objects.filter(shop=shop, version__gt=F("synced_version"))
            .filter(Q(sync_next_at__isnull=True) | Q(sync_next_at__lte=now)))


def featured_reviews_changed(shop: Shop) -> None:
    """In the transaction of any change the storefront shows: the featured list is due again."""
    FeaturedReviews.objects.get_or_create(shop=shop)
    # Bumped after the get, also when another transaction created the row: this change is counted.
    FeaturedReviews.objects.filter(shop=shop).update(version=F("version") + 1)


def _featured_write(shop: Shop, client: AdminClient, now: datetime) -> bool:
    """Write (or delete, when none qualifies) the shop's featured reviews if they are due; synced for
    the version read, so a review changed during the write leaves them due."""
    row = featured_due(shop, now).first()
    if row is None:
        return False
    try:
        owner = shop.shopify_gid or shop_sync_details(shop).shopify_gid
        if not owner:
            raise ShopifyError("the shop's id could not be read")
        reviews = featured_reviews(shop)
        # Product links need handles: read once per product, only for those featured.
        product_identifiers_refresh(shop, product_ids={r.product_id for r in reviews})
        value = featured_value(shop, reviews)
        target = {"ownerId": owner, "namespace": APP_NAMESPACE, "key": FEATURED_KEY}
        if value is None:
            client.mutate(METAFIELDS_DELETE, {"metafields": [target]}, field="metafieldsDelete")
        else:
            client.mutate(METAFIELDS_SET, {"metafields": [{**target, "type": "json", "value": value}]},
                          field="metafieldsSet")
    except ShopNotConnected:
        raise
    except ShopifyError as exc:
        log.warning("featured reviews of %s: %s", shop.domain, _failure(exc))
        FeaturedReviews.objects.filter(pk=row.pk).update(
            sync_attempts=F("sync_attempts") + 1, sync_next_at=now + backoff(row.sync_attempts + 1),
            sync_error=_failure(exc))
        return False
    return bool(FeaturedReviews.objects.filter(pk=row.pk, synced_version__lt=row.version).update(
        synced_version=row.version, sync_attempts=0, sync_next_at=None, sync_error=""))


def definitions_ensure(shop: Shop, client: AdminClient) -> None:
    """Enable Shopify's standard reviews.rating and reviews.rating_count definitions, once per shop."""
    config = ReviewSettings.for_shop(shop)
    if config.metafield_definitions_at:
        return
    for key in ("rating", "rating_count"):
        try:
            client.mutate(DEFINITION_ENABLE, {"namespace": "reviews", "key": key},
                          field="standardMetafieldDefinitionEnable")
        except ShopifyUserError as exc:
            if not any(e.get("code") == "TAKEN" for e in exc.errors):  # TAKEN: enabled already
                raise
    # update(), not save(): a settings save would mark every product due again.
    ReviewSettings.objects.filter(pk=config.pk).update(metafield_definitions_at=timezone.now())


def product_metafields_due(*, shop_id: int) -> None:
    """After a change commits: sync the shop's due products soon (the sweep is the safety net)."""
    enqueue(product_metafields_sync, shop_id)


def metafields_sweep(*, now: datetime | None = None) -> int:
    """Sweeper: queue a sync for every installed shop that has products or its featured reviews due."""
    now = now or timezone.now()
    waited = Q(sync_next_at__isnull=True) | Q(sync_next_at__lte=now)
    shops = (Shop.objects.installed().exclude(access_token="")
             .filter(Q(product_ratings__in=ProductRating.objects.filter(version__gt=F("synced_version")).filter(waited))
                     | Q(featured_reviews__in=FeaturedReviews.objects.filter(version__gt=F("synced_version"))
                         .filter(waited)))
             .distinct())
    count = 0
    for shop in shops:
        if sync_possible(shop):
            enqueue(product_metafields_sync, shop.pk)
            count += 1
    return count


def metafields_resync(shop: Shop) -> int:
    """Every product due again (the merchant's "Resync"); the sync runs after the commit."""
    count = ProductRating.objects.filter(shop=shop).update(synced_version=0, sync_attempts=0, sync_next_at=None,
                                                           sync_error="")
    FeaturedReviews.objects.get_or_create(shop=shop)
    FeaturedReviews.objects.filter(shop=shop).update(synced_version=0, sync_attempts=0, sync_next_at=None,
                                                     sync_error="")
    product_metafields_due(shop_id=shop.pk)
    return count


def metafields_reconnected(shop: Shop, *, reinstalled: bool) -> None:
    """Reconnect hook: a reinstall writes everything again (Shopify drops app-owned metafields with
    the app), and a reconnect (perhaps with write_products newly granted) syncs what is due."""
    if reinstalled:
        metafields_resync(shop)
    else:
        product_metafields_due(shop_id=shop.pk)


def metafields_status(shop: Shop) -> dict:
    """For the settings page: whether Shopify's copy can be written, and how far it is."""
    ratings = ProductRating.objects.filter(shop=shop)
    return {"possible": sync_possible(shop), "scope": REQUIRED_SCOPE, "products": ratings.count(),
            "bulk": bulk_open(shop, BULK_PURPOSE),
            "due": ratings.filter(version__gt=F("synced_version")).count(),
            "failing": ratings.exclude(sync_error="").count()}
