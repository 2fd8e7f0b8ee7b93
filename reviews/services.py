"""Reviews: collecting, editing, confirming, moderating, replying, and the product's rating
(review requests are reviews.requests).

Other features subscribe to saved reviews with `review_saved_subscribe(name, func)` from their
ready(); `func(review, created)` runs after the save commits, as a follow-up row recorded in
the save's own transaction, so a failure is retried by the sweep instead of only logged (a
negative review must not silently open no case).
"""
from __future__ import annotations

import logging
from datetime import datetime
from functools import partial
from typing import Callable, Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone
from django.utils.translation import gettext_noop

from reviews.models import (
    ModerationDecision, ProductRating, Review, ReviewPhoto, ReviewRequest, ReviewRevision, ReviewSettings,
)
from reviews.incentives import review_incentive_grant
from reviews.metafields import featured_reviews_changed, product_metafields_due, sync_possible
from reviews.moderation import REASONS, personal_data_mask, review_text_reasons
from reviews.photos import MAX_PHOTOS, CleanPhoto, thumbnail_bytes
from reviews.storefront import version_pointer_forget
from shopapp.flow import flow_trigger_queue
from shopapp.jobs import enqueue, follow_ups_record
from shopapp.models import Customer, OrderLine, Shop
from shopapp.registry import register_follow_up

log = logging.getLogger(__name__)

AUTO_PUBLISH_AFTER_DAYS = 14
SYSTEM_ACTOR = "Advocate"

REVIEW_SAVED = "review_saved"


def review_saved_subscribe(name: str, func: Callable[[Review, bool], None]) -> None:
    """Run `func(review, created)` after every review_create / review_update / review_confirm commits.

    Call it from an AppConfig.ready(); the step is retried until it succeeds, so it must be idempotent."""
    register_follow_up(REVIEW_SAVED, name, partial(_with_review, func))


def _with_review(func: Callable[[Review, bool], None], review_id: int, created: bool) -> None:
    review = Review.objects.filter(pk=review_id).first()
    if review is not None:  # deleted since (an unconfirmed review expired): nothing left to follow up
        func(review, created)


def _review_saved(review: Review, created: bool) -> None:
    """Inside the save's transaction: the follow-ups (and Flow's event) commit with the review, or not at all."""
    follow_ups_record(REVIEW_SAVED, review.pk, created)
    review_published_flow(review)


# --- reviews --------------------------------------------------------------------------

def review_create(*, shop: Shop, product_id: int, product_title: str, rating: int, title: str = "", body: str = "",
                  display_name: str = "", order_line: OrderLine | None = None, request: ReviewRequest | None = None,
                  customer: Customer | None = None, source: str = Review.Source.REQUEST, email: str = "",
                  photos: Iterable[CleanPhoto] = (), incentivized: bool = False, confirmed: bool = True) -> Review:
    """Save a review, moderate its text, publish it at once unless a rule holds it."""
    now = timezone.now()
    reasons = review_text_reasons(shop=shop, title=title, body=body)
    with transaction.atomic():
        review = Review.objects.create(
            shop=shop, product_id=product_id, product_title=product_title[:255], rating=rating, title=title,
            body=body, display_name=display_name, order_line=order_line, request=request, customer=customer,
            source=source, email=email, incentivized=incentivized, created_at=now, updated_at=now,
            **_visibility(reasons, confirmed, now),
        )
        if reasons:
            _decide(review, ModerationDecision.Action.HELD, _reason_text(reasons), SYSTEM_ACTOR)
        _photos_add(review, photos)
        if incentivized and request is not None:
            # The same reward for any rating, decided before anyone reads the stars.
            review_incentive_grant(review=review, config=ReviewSettings.for_shop(shop))
        if request is not None:
            ReviewRequest.objects.filter(pk=request.pk, completed_at__isnull=True).update(
                status=ReviewRequest.Status.COMPLETED, completed_at=now)
        product_rating_refresh(shop=shop, product_id=product_id, product_title=product_title)
        _review_saved(review, True)
    return review


def review_update(*, review: Review, rating: int, title: str, body: str, display_name: str,
                  photos: Iterable[CleanPhoto] = (), remove_photo_ids: Iterable[int] = ()) -> Review:
    """The reviewer's edit through the same link: the old text is kept as a revision, the new one moderated."""
    now = timezone.now()
    photos = list(photos)
    remove_photo_ids = list(remove_photo_ids)
    changed = (rating, title, body, display_name) != (review.rating, review.title, review.body, review.display_name)
    if not changed and not photos and not remove_photo_ids:
        return review
    with transaction.atomic():
        review = Review.objects.select_for_update().get(pk=review.pk)
        if changed:
            ReviewRevision.objects.create(review=review, rating=review.rating, title=review.title, body=review.body,
                                          display_name=review.display_name, created_at=now)
        review.rating, review.title, review.body, review.display_name = rating, title, body, display_name
        review.updated_at = now
        if changed:
            reasons = review_text_reasons(shop=review.shop, title=title, body=body, exclude_review_id=review.pk)
            if review.status == Review.Status.REJECTED:
                reasons = reasons or ["edited_after_rejection"]
            if review.status != Review.Status.UNCONFIRMED:
                for field, value in _visibility(reasons, True, now, review.published_at).items():
                    setattr(review, field, value)
            if reasons:
                _decide(review, ModerationDecision.Action.HELD, _reason_text(reasons), SYSTEM_ACTOR)
        review.save()
        review.photos.filter(pk__in=remove_photo_ids).delete()
        _photos_add(review, photos)
        product_rating_refresh(shop=review.shop, product_id=review.product_id)
        _review_saved(review, False)
    return review


def review_confirm(*, review: Review) -> Review:
    """A storefront review's email was confirmed: the content rules decide, as for any new review.

    Confirming again (a second click) changes nothing."""
    now = timezone.now()
    reasons = review_text_reasons(shop=review.shop, title=review.title, body=review.body, exclude_review_id=review.pk)
    visibility = _visibility(reasons, True, now)
    with transaction.atomic():
        if not Review.objects.filter(pk=review.pk, status=Review.Status.UNCONFIRMED).update(
                updated_at=now, **visibility):
            review.refresh_from_db()
            return review
        if reasons:
            _decide(review, ModerationDecision.Action.HELD, _reason_text(reasons), SYSTEM_ACTOR)
        product_rating_refresh(shop=review.shop, product_id=review.product_id)
        review.refresh_from_db()
        _review_saved(review, False)
    return review


def _visibility(reasons: list[str], confirmed: bool, now: datetime, published_at: datetime | None = None) -> dict:
    if not confirmed:
        return {"status": Review.Status.UNCONFIRMED, "held_reasons": reasons, "published_at": None}
    if reasons:
        return {"status": Review.Status.HELD, "held_reasons": reasons, "published_at": None}
    return {"status": Review.Status.PUBLISHED, "held_reasons": [], "published_at": published_at or now}


def _reason_text(reasons: list[str]) -> str:
    return "; ".join(REASON_LABELS.get(r, r) for r in reasons)


REASON_LABELS = {**REASONS, "edited_after_rejection": gettext_noop("Edited after it was rejected")}


def _photos_add(review: Review, photos: Iterable[CleanPhoto]) -> None:
    room = MAX_PHOTOS - review.photos.count()
    for photo in list(photos)[:max(room, 0)]:
        saved = ReviewPhoto.objects.create(review=review, content_type=photo.content_type, image=photo.data,
                                           width=photo.width, height=photo.height)
        enqueue(review_photo_thumbnail, saved.pk)


def review_photo_thumbnail(photo_id: int) -> None:
    """Job: make the storefront thumbnail (idempotent)."""
    photo = ReviewPhoto.objects.filter(pk=photo_id, thumbnail__isnull=True).first()
    if photo is not None:
        ReviewPhoto.objects.filter(pk=photo.pk).update(thumbnail=thumbnail_bytes(bytes(photo.image)))


def review_photo_hide(*, photo: ReviewPhoto, hidden: bool, actor: str) -> ReviewPhoto:
    """Hide one photo from the public (or show it again); the review itself stays as it is."""
    with transaction.atomic():
        changed = ReviewPhoto.objects.filter(pk=photo.pk, hidden_at__isnull=hidden).update(
            hidden_at=timezone.now() if hidden else None)
        if changed:  # a double click or a second tab records one decision
            action = ModerationDecision.Action.PHOTO_HIDDEN if hidden else ModerationDecision.Action.PHOTO_SHOWN
            position = photo.review.photos.filter(pk__lte=photo.pk).count()  # as the merchant sees them
            _decide(photo.review, action, f"photo {position}", actor)
            product_rating_refresh(shop=photo.review.shop, product_id=photo.review.product_id)
    photo.refresh_from_db(fields=["hidden_at"])
    return photo


def _decide(review: Review, action: str, reason: str, actor: str) -> ModerationDecision:
    return ModerationDecision.objects.create(review=review, action=action, reason=reason[:200], actor=actor[:100])


def review_publish(*, review: Review, actor: str) -> Review:
    with transaction.atomic():
        now = timezone.now()
        Review.objects.filter(pk=review.pk).update(status=Review.Status.PUBLISHED, published_at=now,
                                                   rejection_reason="")
        _decide(review, ModerationDecision.Action.PUBLISHED, "", actor)
        product_rating_refresh(shop=review.shop, product_id=review.product_id)
        review.refresh_from_db()
        review_published_flow(review)
    return review


def review_published_flow(review: Review) -> None:
    """Tell Shopify Flow a review is on the store, once per review (however it got there: published
    when written, confirmed, published by the merchant or by the timer), in the change's transaction."""
    if review.status != Review.Status.PUBLISHED:
        return
    customer = review.customer if review.customer_id and not review.customer.redacted_at else None
    line = review.order_line
    flow_trigger_queue(shop=review.shop, handle="advocate-review-published", key=f"review-published:{review.pk}",
                       payload={"customer_id": customer.shopify_id if customer else None,
                                "order_id": line.order.shopify_id if line is not None else None,
                                "Rating": review.rating, "Verified buyer": review.verified,
                                "Has photos": review.photos.exists(), "Product": review.product_title},
                       customer_shopify_id=customer.shopify_id if customer else None)


def review_reject(*, review: Review, reason: str, actor: str) -> Review:
    """Reject for one of the fixed reasons; "negative" is never one of them."""
    if reason not in ModerationDecision.Reason.values:
        raise ValueError(f"{reason!r} is not a rejection reason")
    with transaction.atomic():
        Review.objects.filter(pk=review.pk).update(status=Review.Status.REJECTED, published_at=None,
                                                   rejection_reason=reason)
        _decide(review, ModerationDecision.Action.REJECTED, ModerationDecision.Reason(reason).label, actor)
        product_rating_refresh(shop=review.shop, product_id=review.product_id)
    review.refresh_from_db()
    return review


def review_reply(*, review: Review, text: str, actor: str) -> Review:
    """The merchant's public answer, shown under the review (empty text removes it)."""
    with transaction.atomic():
        review.reply = text.strip()
        review.replied_at = timezone.now() if review.reply else None
        review.save(update_fields=["reply", "replied_at"])
        _decide(review, ModerationDecision.Action.REPLIED, "removed" if not review.reply else "", actor)
        product_rating_refresh(shop=review.shop, product_id=review.product_id)
    return review


def reviews_auto_publish(*, now: datetime | None = None) -> int:
    """Held reviews nobody decided on within 14 days publish themselves, an email address or phone
    number in them masked: the merchant's silence must not publish a shopper's contact details."""
    now = now or timezone.now()
    cutoff = now - AUTO_PUBLISH_AFTER_DAYS * settings.ADVOCATE_DAY
    published = 0
    for review_id in Review.objects.filter(status=Review.Status.HELD, updated_at__lte=cutoff).values_list("pk", flat=True)[:500]:
        with transaction.atomic():
            # Locked, then read: the text masked is the text published, even if the reviewer edits it meanwhile.
            review = Review.objects.select_for_update().select_related("shop").filter(
                pk=review_id, status=Review.Status.HELD, updated_at__lte=cutoff).first()
            if review is None:
                continue  # the merchant decided, or the reviewer edited it, meanwhile
            masked = _personal_data_masked(review)
            Review.objects.filter(pk=review.pk).update(status=Review.Status.PUBLISHED, published_at=now, **masked)
            reason = "no decision within 14 days" + ("; email address or phone number masked" if masked else "")
            _decide(review, ModerationDecision.Action.AUTO_PUBLISHED, reason, SYSTEM_ACTOR)
            product_rating_refresh(shop=review.shop, product_id=review.product_id)
            review.refresh_from_db()
            review_published_flow(review)
            published += 1
    return published


def _personal_data_masked(review: Review) -> dict[str, str]:
    """The fields whose text changes once personal data is masked."""
    masked = {field: personal_data_mask(getattr(review, field))[:Review._meta.get_field(field).max_length]
              for field in ("title", "body")}
    return {field: text for field, text in masked.items() if text != getattr(review, field)}


def product_rating_refresh(*, shop: Shop, product_id: int, product_title: str = "") -> ProductRating:
    """Recount one product's published reviews and bump its version (which invalidates caches)."""
    # The shop's featured reviews (the home page's carousel) may show this product's: due too. First,
    # so every transaction takes the shop's row before its products' rows (one order: no deadlock).
    featured_reviews_changed(shop)
    published = Review.objects.for_shop(shop).published().filter(product_id=product_id)
    counts = dict(published.values_list("rating").annotate(n=Count("pk")).values_list("rating", "n"))
    with_photos = published.filter(photos__isnull=False, photos__hidden_at__isnull=True).values("pk").distinct().count()
    rating, _ = ProductRating.objects.get_or_create(shop=shop, product_id=product_id)
    ProductRating.objects.filter(pk=rating.pk).update(
        count=sum(counts.values()), total=sum(r * n for r, n in counts.items()),
        histogram={str(r): counts.get(r, 0) for r in range(1, 6)}, with_photos=with_photos,
        product_title=product_title or rating.product_title or _title_of(shop, product_id),
        version=F("version") + 1, updated_at=timezone.now(),
    )
    rating.refresh_from_db()
    version_pointer_forget(shop_id=shop.pk, product_id=product_id)
    if sync_possible(shop):
        product_metafields_due(shop_id=shop.pk)  # Shopify's copy, after the commit
    return rating


def _title_of(shop: Shop, product_id: int) -> str:
    review = Review.objects.for_shop(shop).filter(product_id=product_id).exclude(product_title="").first()
    return review.product_title if review else ""
