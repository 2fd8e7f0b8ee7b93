"""A product's published reviews as the storefront shows them: a page of reviews, the rating
histogram, the star badge, JSON-LD and JSON, rendered once per product version and cached.

The cache key carries the product's ProductRating version, which every change to one of its
reviews bumps (reviews.services.product_rating_refresh), so a cached answer is never stale
and a request costs the same whether the product has ten reviews or ten thousand (see the
caches below).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from django.core.cache import cache
from django.db.models import Exists, F, OuterRef, Prefetch
from django.db.models.signals import post_save
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext as _, gettext_lazy

from reviews.models import ProductRating, Review, ReviewPhoto, ReviewSettings
from shopapp.memo import Memo, now_and_once_committed
from shopapp.models import Shop

PAGE_SIZE = 10
# Every cached body is filed under its product's version, which changes with the product's
# reviews and with the shop's review settings; the shop's own name shows within this many
# seconds (plus the half minute a worker keeps a body).
CACHE_SECONDS = 300
SORTS = {"newest": gettext_lazy("Newest"), "highest": gettext_lazy("Highest rating"),
         "lowest": gettext_lazy("Lowest rating"), "photos": gettext_lazy("With photos")}
KINDS = ("page", "fragment", "json", "badge")
STYLESHEET = Path(__file__).resolve().parent.parent / "extensions" / "advocate-theme" / "assets" / "advocate.css"

_REVIEW_FIELDS = ("pk", "shop_id", "product_id", "rating", "title", "body", "display_name", "order_line_id",
                  "incentivized", "imported_verified", "created_at", "published_at", "reply", "replied_at")


@dataclass(frozen=True)
class Listing:
    rating: ProductRating | None
    sort: str
    page: int
    pages: int
    reviews: list[Review]


def product_rating_get(*, shop: Shop, product_id: int) -> ProductRating | None:
    return ProductRating.objects.filter(shop=shop, product_id=product_id).first()


def page_count(reviews: int) -> int:
    return max(1, math.ceil(reviews / PAGE_SIZE))


def reviews_listing(*, shop: Shop, rating: ProductRating | None, sort: str, page: int) -> Listing:
    """One page of a product's published reviews in the asked order (page clamped to those that exist)."""
    pages = page_count(rating.count if rating else 0)
    page = min(max(page, 1), pages)
    if rating is None or rating.count == 0:
        return Listing(rating, sort, page, pages, [])
    published = (Review.objects.for_shop(shop).published().filter(product_id=rating.product_id)
                 .only(*_REVIEW_FIELDS)
                 .prefetch_related(Prefetch("photos", queryset=ReviewPhoto.objects.shown().only("pk", "review_id", "width", "height"))))
    if sort == "highest":
        ordered = published.order_by("-rating", "-created_at", "-pk")
    elif sort == "lowest":
        ordered = published.order_by("rating", "-created_at", "-pk")
    elif sort == "photos":
        ordered = published.annotate(has_photos=Exists(ReviewPhoto.objects.shown().filter(review=OuterRef("pk")))).order_by(
            "-has_photos", "-created_at", "-pk")
    else:
        ordered = published.order_by("-created_at", "-pk")
    start = (page - 1) * PAGE_SIZE
    return Listing(rating, sort, page, pages, list(ordered[start:start + PAGE_SIZE]))


def histogram_rows(rating: ProductRating | None) -> list[dict]:
    """Five rows, 5 stars first: count and share of the published reviews."""
    counts = rating.histogram if rating else {}
    total = rating.count if rating else 0
    return [{"stars": n, "count": int(counts.get(str(n), 0)),
             "percent": round(100 * int(counts.get(str(n), 0)) / total) if total else 0} for n in range(5, 0, -1)]


def verification_statement(config: ReviewSettings) -> str:
    """How reviews are checked, as the EU's Omnibus Directive asks traders to disclose (in the active language)."""
    parts = [_("Reviews marked “Verified buyer” were written by customers who bought the product: "
               "we email them after their order and tie the review to that order.")]
    if config.non_buyer_reviews:
        parts.append(_("Other reviews come from shoppers who confirmed their email address; "
                       "we could not check that they bought the product."))
    else:
        parts.append(_("Only customers with an order can review."))
    if config.incentive_enabled:
        parts.append(_("Reviews marked “Incentivized” were written for an offer, given for any honest review "
                       "whatever its rating."))
    parts.append(_("Every review is published, positive or negative, unless it breaks our content rules "
                   "(spam, abuse, personal data or not about the product)."))
    return " ".join(parts)


# Inside <script>, "</" ends the element and "<!--" changes parsing; U+2028/9 break old JS parsers.
_SCRIPT_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026",
                   0x2028: "\\u2028", 0x2029: "\\u2029"}


def script_json(data) -> SafeString:
    """JSON safe to place inside a <script> element, also when Shopify renders the page as Liquid."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":")).translate(_SCRIPT_ESCAPES)
    # json.dumps never writes "{{" or "{%" itself (a key's quote follows "{"), so these come
    # from shopper text inside a string, where the escaped form decodes to the same text.
    return mark_safe(text.replace("{{", "{\\u007b").replace("{%", "{\\u0025"))


def product_json_ld(listing: Listing) -> SafeString | None:
    """The rating and the page's Reviews as schema.org data, for a fragment (none without reviews).

    Only the fragment carries it: advocate.js moves it into the reviews block's own Product markup,
    which shares the theme's Product @id, so a product page never holds a second, partial Product.
    The full reviews page on the proxy is not a product page and carries none."""
    rating = listing.rating
    if rating is None or rating.count == 0:
        return None
    data = {
        "@context": "https://schema.org", "@type": "Product", "name": rating.product_title or f"Product {rating.product_id}",
        "aggregateRating": {"@type": "AggregateRating", "ratingValue": rating.average, "reviewCount": rating.count,
                            "bestRating": 5, "worstRating": 1},
        "review": [{
            "@type": "Review", "author": {"@type": "Person", "name": review.author},
            "datePublished": (review.published_at or review.created_at).date().isoformat(),
            **({"name": review.title} if review.title else {}), **({"reviewBody": review.body} if review.body else {}),
            "reviewRating": {"@type": "Rating", "ratingValue": review.rating, "bestRating": 5, "worstRating": 1},
        } for review in listing.reviews],
    }
    return script_json(data)


def liquid_safe(html: str) -> str:
    """Shopify renders an application/liquid answer as Liquid: keep shopper text from becoming tags."""
    return html.replace("{{", "{&#123;").replace("{%", "{&#37;")


def stars(value: float) -> str:
    filled = min(5, max(0, int(value + 0.5)))  # half up: 4.5 shows five stars
    return "★" * filled + "☆" * (5 - filled)


def _links(prefix: str, product_id: int, listing: Listing) -> dict:
    base = f"{prefix}/reviews/{product_id}"

    def url(sort: str, page: int) -> str:
        query = [f"sort={sort}"] if sort != "newest" else []
        query += [f"page={page}"] if page > 1 else []
        return base + ("?" + "&".join(query) if query else "")

    return {
        "base": base,
        "sorts": [{"key": key, "label": label, "url": url(key, 1), "current": key == listing.sort}
                  for key, label in SORTS.items()],
        "previous": url(listing.sort, listing.page - 1) if listing.page > 1 else "",
        "next": url(listing.sort, listing.page + 1) if listing.page < listing.pages else "",
    }


def _review_rows(listing: Listing, prefix: str) -> list[dict]:
    return [{"review": review, "stars": stars(review.rating), "report_url": f"{prefix}/reviews/report/{review.pk}",
             "photos": [{"url": f"{prefix}/reviews/photos/{p.pk}.jpg", "width": p.width, "height": p.height}
                        for p in review.photos.all()]} for review in listing.reviews]


# --- the shop's All reviews page (/apps/advocate/reviews) ------------------------------------
# Newest first only: the (shop, status, created_at) index serves it at any size, where sorting
# every review of a large shop by rating on each request would not. The summary adds up the
# products' ratings and is kept a minute.
SHOP_SUMMARY_SECONDS = 60


def shop_rating_summary(shop: Shop) -> dict:
    """The shop's average, count and histogram over all its products' published reviews."""
    key = f"advocate:sf:shop-summary:{shop.pk}"
    found = cache.get(key)
    if found is None:
        count = total = 0
        histogram = {str(n): 0 for n in range(1, 6)}
        for rating_count, rating_total, rows in ProductRating.objects.filter(shop=shop, count__gt=0).values_list(
                "count", "total", "histogram").iterator():
            count, total = count + rating_count, total + rating_total
            for stars_, n in (rows or {}).items():
                histogram[stars_] = histogram.get(stars_, 0) + int(n)
        found = {"count": count, "average": round(total / count, 2) if count else 0, "histogram": histogram}
        cache.set(key, found, SHOP_SUMMARY_SECONDS)
    return found


def shop_reviews_render(*, shop: Shop, page: int, prefix: str) -> bytes:
    """The All reviews page: every product's published reviews, newest first, each naming its product."""
    summary = shop_rating_summary(shop)
    pages = page_count(summary["count"])
    page = min(max(page, 1), pages)
    start = (page - 1) * PAGE_SIZE
    reviews = list(Review.objects.for_shop(shop).published().only(*_REVIEW_FIELDS, "product_title")
                   .prefetch_related(Prefetch("photos", queryset=ReviewPhoto.objects.shown().only(
                       "pk", "review_id", "width", "height")))
                   .order_by("-created_at", "-pk")[start:start + PAGE_SIZE])
    handles = dict(ProductRating.objects.filter(shop=shop, product_id__in={r.product_id for r in reviews})
                   .exclude(handle="").values_list("product_id", "handle"))
    listing = Listing(None, "newest", page, pages, reviews)
    rows = [{**row, "product_url": f"/products/{handles[row['review'].product_id]}"
             if row["review"].product_id in handles else f"{prefix}/reviews/{row['review'].product_id}"}
            for row in _review_rows(listing, prefix)]
    histogram = [{"stars": n, "count": summary["histogram"].get(str(n), 0),
                  "percent": round(100 * summary["histogram"].get(str(n), 0) / summary["count"]) if summary["count"] else 0}
                 for n in range(5, 0, -1)]
    base = f"{prefix}/reviews"
    context = {
        "shop": shop, "listing": listing, "rows": rows, "summary": summary, "histogram": histogram,
        "average_stars": stars(summary["average"]), "statement": verification_statement(ReviewSettings.for_shop(shop)),
        "previous": f"{base}?page={page - 1}" if page > 1 else "", "next": f"{base}?page={page + 1}" if page < pages else "",
        "stylesheet": mark_safe(STYLESHEET.read_text()),  # our own file, not shopper text
    }
    return liquid_safe(render_to_string("reviews/storefront/all.html", context)).encode()


def _render(kind: str, *, shop: Shop, product_id: int, rating: ProductRating | None, sort: str, page: int,
            prefix: str) -> bytes:
    if kind == "badge":
        if rating is None or rating.count == 0:
            return b""
        return render_to_string("reviews/storefront/badge.html", {
            "rating": rating, "stars": stars(rating.average), "url": f"{prefix}/reviews/{product_id}",
        }).encode()
    listing = reviews_listing(shop=shop, rating=rating, sort=sort, page=page)
    config = ReviewSettings.for_shop(shop)
    rows = _review_rows(listing, prefix)
    if kind == "json":
        return json.dumps(_as_json(listing, rows, config), separators=(",", ":")).encode()
    context = {
        "shop": shop, "listing": listing, "rows": rows, "histogram": histogram_rows(rating),
        "links": _links(prefix, product_id, listing), "statement": verification_statement(config),
        "json_ld": product_json_ld(listing) if kind == "fragment" else None, "average_stars": stars(rating.average) if rating else "",
        "product_title": rating.product_title if rating else "",
        "write_url": f"{prefix}/reviews/{product_id}/write" if config.non_buyer_reviews else "",
    }
    if kind == "fragment":
        return render_to_string("reviews/storefront/widget.html", context).encode()
    context["stylesheet"] = mark_safe(STYLESHEET.read_text())  # our own file, not shopper text
    return liquid_safe(render_to_string("reviews/storefront/page.html", context)).encode()


def _as_json(listing: Listing, rows: list[dict], config: ReviewSettings) -> dict:
    rating = listing.rating
    return {
        "product_id": str(rating.product_id) if rating else None,
        "rating": {"average": rating.average if rating else 0, "count": rating.count if rating else 0,
                   "histogram": {str(n): int((rating.histogram if rating else {}).get(str(n), 0)) for n in range(1, 6)}},
        "sort": listing.sort, "page": listing.page, "pages": listing.pages, "page_size": PAGE_SIZE,
        "verification": verification_statement(config),
        "reviews": [{
            "id": row["review"].pk, "rating": row["review"].rating, "title": row["review"].title,
            "body": row["review"].body, "author": row["review"].author, "verified": row["review"].verified,
            "verified_imported": row["review"].imported_verified,
            "incentivized": row["review"].incentivized,
            "published_at": (row["review"].published_at or row["review"].created_at).isoformat(),
            "reply": row["review"].reply or None,
            "photos": [photo["url"] for photo in row["photos"]],
        } for row in rows],
    }


def storefront_render(*, shop: Shop, product_id: int, kind: str, sort: str = "newest", page: int = 1,
                      prefix: str = "/apps/advocate") -> bytes:
    """The answer body for one storefront request, from the caches when this product version was rendered."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    sort = sort if sort in SORTS else "newest"
    pointer, rating = _version_pointer(shop, product_id)
    if pointer is None:  # nothing was ever reviewed: cheap, and not worth a cache entry per guessed id
        return _render(kind, shop=shop, product_id=product_id, rating=None, sort=sort, page=1, prefix=prefix)
    rating_pk, version, count = pointer
    page = min(max(page, 1), page_count(count))
    # One body per language too: the words around the reviews are the shopper's (the storefront's).
    key = f"advocate:sf:{shop.pk}:{product_id}:{rating_pk}.{version}:{kind}:{sort}:{page}:{prefix}:{get_language()}"
    body = _bodies.get(key)
    if body is None:
        body = cache.get(key)
        if body is None:
            rating = rating or product_rating_get(shop=shop, product_id=product_id)
            body = _render(kind, shop=shop, product_id=product_id, rating=rating, sort=sort, page=page, prefix=prefix)
            if rating is not None and rating.version == version:  # never file a newer body under an old key
                cache.set(key, body, CACHE_SECONDS)
        _bodies.put(key, body)
    return body


# --- caches ----------------------------------------------------------------------------
# A request needs the product's current version (its "pointer"), then the body rendered for
# that version. Bodies are filed under their version, so they are never stale. The pointer
# lives in Redis, shared by all workers and forgotten whenever the product's reviews change;
# each worker also remembers it for POINTER_LOCAL_SECONDS, so during a burst of storefront
# traffic a request needs neither SQL nor Redis: a change shows at once in the process that
# made it and within that second everywhere else.
POINTER_SECONDS = 60  # bounds how long a pointer read just before a commit could linger in Redis
POINTER_LOCAL_SECONDS = 1
_pointers: Memo[tuple] = Memo(seconds=POINTER_LOCAL_SECONDS, max_items=10_000)
_bodies: Memo[bytes] = Memo(seconds=30, max_items=500)  # about 6 MB of pages per worker process


def _pointer_key(shop_id: int, product_id: int) -> str:
    return f"advocate:sf:v:{shop_id}:{product_id}"


def _version_pointer(shop: Shop, product_id: int) -> tuple[tuple[int, int, int] | None, ProductRating | None]:
    """(ProductRating pk, version, review count) of the product, or None when it was never reviewed;
    and the ProductRating when it had to be read to answer."""
    key = _pointer_key(shop.pk, product_id)
    pointer, rating = _pointers.get(key), None
    if pointer is None:
        pointer = cache.get(key)
        if pointer is None:
            rating = product_rating_get(shop=shop, product_id=product_id)
            pointer = (rating.pk, rating.version, rating.count) if rating else ()
            cache.set(key, pointer, POINTER_SECONDS)
        _pointers.put(key, pointer)
    return pointer or None, rating


def _pointers_forget(keys: list[str]) -> None:
    cache.delete_many(keys)
    for key in keys:
        _pointers.forget(key)


def version_pointer_forget(*, shop_id: int, product_id: int) -> None:
    """The product's reviews changed: the next request reads its new version (now, and once committed)."""
    now_and_once_committed(lambda: _pointers_forget([_pointer_key(shop_id, product_id)]))


def local_caches_forget() -> None:
    _pointers.forget()
    _bodies.forget()


def _settings_changed(sender, instance: ReviewSettings, created: bool = False, **kwargs) -> None:
    """Review settings change every product's page (the labels, the write link): new versions for all."""
    if created:
        return
    ratings = ProductRating.objects.filter(shop_id=instance.shop_id)
    keys = [_pointer_key(instance.shop_id, product_id) for product_id in ratings.values_list("product_id", flat=True)]
    ratings.update(version=F("version") + 1)
    now_and_once_committed(lambda: _pointers_forget(keys))
    # Shopify's copy (reviews.metafields) is due again too; the sweep writes it.


post_save.connect(_settings_changed, sender=ReviewSettings, dispatch_uid="storefront-settings-saved")


