"""Reviews from shoppers who did not buy, written on the storefront (off by default).

The review is stored unconfirmed, the writer gets an email with a signed, expiring link,
and only that link lets the normal content rules publish it. It is never tied to an order
line, so it is never shown as verified. Unconfirmed reviews are deleted when their link expires.
"""
from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from django.core import signing
from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from reviews.models import ProductRating, Review
from reviews.services import review_create
from shopapp.admin_api import AdminClient, ShopifyError
from shopapp.jobs import enqueue
from shopapp.languages import DEFAULT_LANGUAGE, language_of
from shopapp.links import LinkInvalid, absolute, link_read, link_token
from shopapp.mail import Audience, email_send
from shopapp.models import OrderLine, Shop

log = logging.getLogger(__name__)

FORM_SALT = "advocate:storefront-review-form"
FORM_MAX_AGE = timedelta(hours=3)
CONFIRM_PURPOSE = "storefront-review-confirm"
CONFIRM_VALIDITY = timedelta(days=7)
PRODUCT_CACHE_SECONDS = 600

PRODUCT_TITLE = """
query advocateProductTitle($id: ID!) {
  product(id: $id) { id title }
}
"""


def form_token(*, shop: Shop, product_id: int) -> str:
    """A signed, timestamped token naming the shop and product the form was served for."""
    return signing.TimestampSigner(salt=FORM_SALT).sign(f"{shop.pk}:{product_id}")


def form_token_valid(token: str, *, shop: Shop, product_id: int) -> bool:
    try:
        value = signing.TimestampSigner(salt=FORM_SALT).unsign(token, max_age=FORM_MAX_AGE)
    except signing.BadSignature:  # also SignatureExpired
        return False
    return value == f"{shop.pk}:{product_id}"


def storefront_product_title(*, shop: Shop, product_id: int) -> str | None:
    """The product's title if it belongs to this shop, else None.

    Known from the shop's own reviews or order lines first; otherwise the shop's Admin API is
    asked (a product id of another shop is not found there), and the answer cached briefly.
    """
    rating = ProductRating.objects.filter(shop=shop, product_id=product_id).exclude(product_title="").first()
    if rating is not None:
        return rating.product_title
    line = OrderLine.objects.filter(order__shop=shop, product_id=product_id).exclude(title="").first()
    if line is not None:
        return line.title
    key = f"advocate:product-title:{shop.pk}:{product_id}"
    cached = cache.get(key)
    if cached is not None:
        return cached or None
    try:
        data = AdminClient(shop).query(PRODUCT_TITLE, {"id": f"gid://shopify/Product/{product_id}"}, cost=1)
    except ShopifyError:
        log.warning("product %s of %s could not be looked up", product_id, shop.domain, exc_info=True)
        return None  # not cached: Shopify may answer next time
    title = ((data.get("product") or {}).get("title") or "").strip()
    cache.set(key, title, PRODUCT_CACHE_SECONDS)
    return title or None


def storefront_review_submit(*, shop: Shop, product_id: int, product_title: str, rating: int, title: str,
                             body: str, display_name: str, email: str, language: str = DEFAULT_LANGUAGE) -> Review:
    """Store the review unconfirmed and email its confirmation link (after commit), in the language
    of the page it was written on."""
    review = review_create(shop=shop, product_id=product_id, product_title=product_title, rating=rating, title=title,
                           body=body, display_name=display_name, email=email, source=Review.Source.STOREFRONT,
                           confirmed=False)
    enqueue(storefront_review_confirmation_send, review.pk, language)
    return review


def email_key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:16]


def confirmation_link(review: Review, language: str = DEFAULT_LANGUAGE) -> str:
    # The token names the review and a digest of its email (never the email itself); the page it
    # opens speaks the language the review was written in.
    token = link_token(CONFIRM_PURPOSE, review.pk, extra=email_key(review.email))
    return absolute(f"/reviews/confirm/{token}" + (f"?lang={language}" if language != DEFAULT_LANGUAGE else ""))


def storefront_review_confirmation_send(review_id: int, language: str = DEFAULT_LANGUAGE) -> None:
    """Job: email the confirmation link while the review is still unconfirmed, in the writer's language."""
    review = (Review.objects.select_related("shop")
              .filter(pk=review_id, status=Review.Status.UNCONFIRMED, source=Review.Source.STOREFRONT)
              .exclude(email="").first())
    if review is None:
        return
    shop = review.shop
    language = language_of(language) or DEFAULT_LANGUAGE
    with translation.override(language):
        context = {"shop": shop, "shop_name": shop.name or shop.domain, "review": review,
                   "link": confirmation_link(review, language), "days": CONFIRM_VALIDITY.days}
        subject = (_("Confirm your review of %(product)s") % {"product": review.product_title} if review.product_title
                   else _("Confirm your review"))
        # Transactional: the writer asked for this message by sending the form; no marketing.
        email_send(shop=shop, audience=Audience.CUSTOMER, to=[review.email], subject=subject,
                   text=render_to_string("reviews/email/confirm.txt", context),
                   html=render_to_string("reviews/email/confirm.html", context))


def unconfirmed_reviews_delete() -> int:
    """Reviews whose confirmation link expired unused are deleted, with the email they hold."""
    expired = Review.objects.filter(status=Review.Status.UNCONFIRMED, source=Review.Source.STOREFRONT,
                                    created_at__lt=timezone.now() - CONFIRM_VALIDITY)
    deleted, _ = expired.delete()
    return deleted


def storefront_review_for_token(token: str) -> Review:
    """The storefront review a confirmation link names; LinkInvalid if bad, expired or not for it."""
    review_id, key = link_read(CONFIRM_PURPOSE, token, max_age=CONFIRM_VALIDITY)
    review = Review.objects.select_related("shop").filter(pk=review_id, source=Review.Source.STOREFRONT).first()
    if review is None or email_key(review.email) != key or not review.shop.is_installed:
        raise LinkInvalid("not available")
    return review
