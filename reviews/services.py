"""Review requests and reviews: scheduling, sending, collecting, moderating.

Other features subscribe to saved reviews with `on_review_saved(name, func)` from their
ready(); `func(review, created)` runs after the save commits, as a follow-up row recorded in
the save's own transaction, so a failure is retried by the sweep instead of only logged (a
negative review must not silently open no case).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial
from typing import Callable, Iterable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from reviews.models import (
    ModerationDecision, ProductRating, Review, ReviewPhoto, ReviewRequest, ReviewRequestItem, ReviewRevision,
    ReviewSettings,
)
from reviews.moderation import REASONS, personal_data_mask, review_text_reasons
from reviews.photos import CleanPhoto, thumbnail_bytes
from reviews.storefront import version_pointer_forget
from shopapp.jobs import enqueue, follow_ups_record
from shopapp.links import LinkInvalid, absolute, link_read, link_token
from shopapp.mail import Audience, email_send, marketing_blocked
from shopapp.models import Customer, Order, OrderLine, Shop
from shopapp.registry import register_follow_up

log = logging.getLogger(__name__)

LINK_PURPOSE = "review-request"
LINK_VALIDITY = timedelta(days=180)
EMAIL_CAP = 5
EMAIL_CAP_WINDOW = timedelta(days=30)
PRODUCT_ASK_WINDOW = timedelta(days=365)
AUTO_PUBLISH_AFTER_DAYS = 14
SYSTEM_ACTOR = "Advocate"

REVIEW_SAVED = "review_saved"


def on_review_saved(name: str, func: Callable[[Review, bool], None]) -> None:
    """Run `func(review, created)` after every review_create / review_update / review_confirm commits.

    Call it from an AppConfig.ready(); the step is retried until it succeeds, so it must be idempotent."""
    register_follow_up(REVIEW_SAVED, name, partial(_with_review, func))


def _with_review(func: Callable[[Review, bool], None], review_id: int, created: bool) -> None:
    review = Review.objects.filter(pk=review_id).first()
    if review is not None:  # deleted since (an unconfirmed review expired): nothing left to follow up
        func(review, created)


def _review_saved(review: Review, created: bool) -> None:
    """Inside the save's transaction: the follow-ups commit with the review, or not at all."""
    follow_ups_record(REVIEW_SAVED, review.pk, created)


# --- requests -------------------------------------------------------------------------

def reviewable_lines(order: Order) -> list[OrderLine]:
    """Lines a shopper can review: shipped products, not gift cards, digital goods or custom items, not fully refunded."""
    return [
        line for line in order.lines.order_by("pk")
        if line.product_id is not None and not line.gift_card and line.requires_shipping
        and line.refunded_quantity < line.quantity
    ]


def review_request_schedule(*, order: Order) -> ReviewRequest | None:
    """The order's request, due after the shop's delay from its trigger; at most one per order."""
    shop = order.shop
    config = ReviewSettings.for_shop(shop)
    if not config.requests_enabled or order.is_refunded_or_cancelled:
        return None
    existing = ReviewRequest.objects.filter(order=order).first()
    if existing:
        return existing
    lines = reviewable_lines(order)
    # Only a fulfilment that ships something reviewable starts the clock: Shopify fulfils a gift
    # card (or a download) at checkout, days before the products leave.
    shipped = [line.fulfilled_at for line in lines if line.fulfilled_at]
    if not shipped:
        return None
    basis = order.delivered_at if config.trigger == ReviewSettings.Trigger.DELIVERED else min(shipped)
    if basis is None:
        return None
    international = bool(config.home_country and order.shipping_country
                         and order.shipping_country.upper() != config.home_country.upper())
    days = config.international_delay_days if international else config.delay_days
    try:
        with transaction.atomic():
            request = ReviewRequest.objects.create(
                shop=shop, order=order, customer=order.customer, due_at=basis + days * settings.ADVOCATE_DAY,
            )
            ReviewRequestItem.objects.bulk_create([
                ReviewRequestItem(request=request, order_line=line, product_id=line.product_id, title=line.title)
                for line in lines
            ])
    except IntegrityError:  # the same order's webhook processed twice at once
        return ReviewRequest.objects.get(order=order)
    return request


def review_requests_cancel(*, order: Order, reason: str) -> int:
    """Cancel the order's request if it has not gone out yet, or stop its reminder."""
    pending = ReviewRequest.objects.filter(order=order, status=ReviewRequest.Status.SCHEDULED).update(
        status=ReviewRequest.Status.CANCELLED, skip_reason=reason)
    ReviewRequest.objects.filter(order=order, reminder_sent_at__isnull=True).exclude(
        reminder_due_at=None).update(reminder_due_at=None)
    return pending


def review_requests_sweep(now: datetime | None = None) -> None:
    """The periodic sweep: due requests, due reminders, held reviews whose time is up."""
    now = now or timezone.now()
    due = ReviewRequest.objects.filter(status=ReviewRequest.Status.SCHEDULED, due_at__lte=now,
                                       shop__uninstalled_at__isnull=True)
    for pk in list(due.order_by("due_at").values_list("pk", flat=True)[:500]):
        review_request_send(request_id=pk, now=now)
    reminders = ReviewRequest.objects.filter(status=ReviewRequest.Status.SENT, reminder_due_at__lte=now,
                                             reminder_sent_at__isnull=True, shop__uninstalled_at__isnull=True)
    for pk in list(reminders.order_by("reminder_due_at").values_list("pk", flat=True)[:500]):
        review_reminder_send(request_id=pk, now=now)
    reviews_auto_publish(now=now)


def review_request_send(*, request_id: int, now: datetime | None = None) -> ReviewRequest | None:
    """Send a due request once: the conditional UPDATE lets only one worker claim it."""
    now = now or timezone.now()
    claimed = ReviewRequest.objects.filter(pk=request_id, status=ReviewRequest.Status.SCHEDULED).update(
        status=ReviewRequest.Status.SENT, sent_at=now)
    if not claimed:
        return None
    request = ReviewRequest.objects.select_related("shop", "order", "customer").get(pk=request_id)
    config = ReviewSettings.for_shop(request.shop)
    reason = _block_reason(request, config, now)
    items = _items_to_ask(request, now) if reason is None else []
    if reason is None and not items:
        reason = "every product was already asked about in the last 12 months"
    if reason:
        status = ReviewRequest.Status.CANCELLED if request.order.is_refunded_or_cancelled else ReviewRequest.Status.SKIPPED
        ReviewRequest.objects.filter(pk=request.pk).update(status=status, sent_at=None, skip_reason=reason)
        return ReviewRequest.objects.get(pk=request.pk)
    try:
        sent = _send(request, config, items, reminder=False)
    except Exception:
        log.exception("review request %s could not be sent", request.pk)
        sent = False
    if not sent:
        # Nothing went out (the backend failed, or the shop uninstalled after the claim):
        # put it back for a later sweep, or for the reinstall, rather than lose it.
        ReviewRequest.objects.filter(pk=request.pk).update(
            status=ReviewRequest.Status.SCHEDULED, sent_at=None, due_at=now + timedelta(hours=1))
        return None
    reminder_due = now + config.reminder_days * settings.ADVOCATE_DAY if config.reminder_enabled else None
    ReviewRequest.objects.filter(pk=request.pk).update(reminder_due_at=reminder_due)
    return ReviewRequest.objects.get(pk=request.pk)


def review_reminder_send(*, request_id: int, now: datetime | None = None) -> bool:
    """The one reminder, only while nothing from the order has been reviewed."""
    now = now or timezone.now()
    claimed = ReviewRequest.objects.filter(
        pk=request_id, status=ReviewRequest.Status.SENT, reminder_sent_at__isnull=True, reminder_due_at__lte=now,
    ).update(reminder_sent_at=now)
    if not claimed:
        return False
    request = ReviewRequest.objects.select_related("shop", "order", "customer").get(pk=request_id)
    config = ReviewSettings.for_shop(request.shop)
    items = list(request.items.filter(asked=True))
    if request.reviews.exists() or not items or _block_reason(request, config, now):
        ReviewRequest.objects.filter(pk=request.pk).update(reminder_due_at=None, reminder_sent_at=None)
        return False
    if not _send(request, config, items, reminder=True):
        ReviewRequest.objects.filter(pk=request.pk).update(reminder_sent_at=None)
        return False
    return True


def _block_reason(request: ReviewRequest, config: ReviewSettings, now: datetime) -> str | None:
    if request.order.is_refunded_or_cancelled:
        return "order refunded or cancelled"
    reason = marketing_blocked(request.shop, request.customer, honour_shopify_consent=config.honour_shopify_consent)
    if reason:
        return reason
    since = now - EMAIL_CAP_WINDOW
    others = ReviewRequest.objects.filter(customer=request.customer).exclude(pk=request.pk)
    sent = others.filter(sent_at__gte=since).count() + others.filter(reminder_sent_at__gte=since).count()
    if request.reminder_sent_at and request.sent_at and request.sent_at >= since:
        sent += 1  # sending a reminder: the first email counts too
    if sent >= EMAIL_CAP:
        return f"already {sent} emails to this customer in 30 days"
    return None


def _items_to_ask(request: ReviewRequest, now: datetime) -> list[ReviewRequestItem]:
    """Drop products this customer was asked about in the last 12 months (any order)."""
    asked_recently = set(
        ReviewRequestItem.objects.filter(
            request__customer=request.customer, request__sent_at__gte=now - PRODUCT_ASK_WINDOW, asked=True,
        ).exclude(request=request).values_list("product_id", flat=True)
    ) if request.customer_id else set()
    items = list(request.items.select_related("order_line"))
    keep = []
    for item in items:
        line = item.order_line
        ok = item.product_id not in asked_recently and line.refunded_quantity < line.quantity
        if not ok:
            ReviewRequestItem.objects.filter(pk=item.pk).update(asked=False)
        else:
            keep.append(item)
            asked_recently.add(item.product_id)  # the same product twice in one order: ask once
    return keep


def review_link(request: ReviewRequest) -> str:
    return absolute(f"/reviews/r/{link_token(LINK_PURPOSE, request.pk)}")


def review_request_for_token(token: str) -> ReviewRequest:
    """The request a link names, or LinkInvalid (tampered, expired, cancelled or never sent)."""
    request_id, _ = link_read(LINK_PURPOSE, token, max_age=LINK_VALIDITY)
    request = ReviewRequest.objects.select_related("shop", "order", "customer").filter(pk=request_id).first()
    if request is None or request.status not in (ReviewRequest.Status.SENT, ReviewRequest.Status.COMPLETED):
        raise LinkInvalid("not available")
    return request


def _fill(template: str, values: dict[str, str]) -> str:
    # Only the named placeholders: str.format would let a template reach attributes.
    for key, value in values.items():
        template = template.replace("{" + key + "}", value)
    return template


def request_email(request: ReviewRequest, config: ReviewSettings, items: Iterable[ReviewRequestItem], *,
                  reminder: bool = False, link: str | None = None) -> tuple[str, str, str]:
    """(subject, text, html) of a request email, as the merchant's templates make it."""
    shop = request.shop
    customer = request.customer
    values = {"shop": shop.name or shop.domain, "first_name": (customer.first_name if customer else "") or "there",
              "order": request.order.name or ""}
    subject = _fill(config.email_subject, values)
    if reminder:
        subject = f"Reminder: {subject}"
    link = link or review_link(request)
    products = [{"title": item.title, "url": f"{link}?item={item.pk}",
                 "stars": [(n, f"{link}?item={item.pk}&rating={n}") for n in range(1, 6)]} for item in items]
    context = {"shop": shop, "config": config, "body": _fill(config.email_body, values), "products": products,
               "link": link, "reminder": reminder, "unsubscribe": _unsubscribe_link(customer),
               "incentive": config.incentive_text if config.incentive_enabled else ""}
    return (subject, render_to_string("reviews/email/request.txt", context),
            render_to_string("reviews/email/request.html", context))


def _unsubscribe_link(customer: Customer | None) -> str:
    from shopapp.mail import unsubscribe_url

    return unsubscribe_url(customer) if customer else ""


def _send(request: ReviewRequest, config: ReviewSettings, items: list[ReviewRequestItem], *, reminder: bool) -> bool:
    subject, text, html = request_email(request, config, items, reminder=reminder)
    return email_send(shop=request.shop, audience=Audience.MARKETING, customer=request.customer, subject=subject, text=text,
               html=html, honour_shopify_consent=config.honour_shopify_consent)


def review_request_test_send(*, shop: Shop, to: str) -> None:
    """The request email as a shopper would get it, with sample products, to the merchant."""
    config = ReviewSettings.for_shop(shop)
    sample = sample_request(shop)
    subject, text, html = request_email(sample, config, sample.sample_items, link=absolute("/reviews/sample"))
    # The shopper's layout (postal address included), but no unsubscribe headers: there is no customer.
    email_send(shop=shop, audience=Audience.CUSTOMER, to=[to], subject=f"[Test] {subject}", text=text, html=html)
    ReviewSettings.objects.filter(pk=config.pk).update(test_sent_at=timezone.now())


def sample_request(shop: Shop) -> ReviewRequest:
    """An unsaved request for previews: the shop's latest order lines, or a made-up product."""
    order = Order(shop=shop, name="#1001", currency=shop.currency, placed_at=timezone.now())
    request = ReviewRequest(shop=shop, order=order, customer=Customer(shop=shop, first_name="Alex"))
    titles = list(OrderLine.objects.filter(order__shop=shop, product_id__isnull=False, gift_card=False)
                  .order_by("-pk").values_list("title", flat=True).distinct()[:2]) or ["Your product"]
    request.sample_items = [ReviewRequestItem(pk=i + 1, title=t, product_id=0) for i, t in enumerate(titles)]
    return request


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
            from reviews.incentives import review_incentive_grant

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
        _review_saved(review, False)
    review.refresh_from_db()
    return review


def _visibility(reasons: list[str], confirmed: bool, now: datetime, published_at: datetime | None = None) -> dict:
    if not confirmed:
        return {"status": Review.Status.UNCONFIRMED, "held_reasons": reasons, "published_at": None}
    if reasons:
        return {"status": Review.Status.HELD, "held_reasons": reasons, "published_at": None}
    return {"status": Review.Status.PUBLISHED, "held_reasons": [], "published_at": published_at or now}


def _reason_text(reasons: list[str]) -> str:
    return "; ".join(REASON_LABELS.get(r, r) for r in reasons)


REASON_LABELS = {**REASONS, "edited_after_rejection": "Edited after it was rejected"}


def _photos_add(review: Review, photos: Iterable[CleanPhoto]) -> None:
    from reviews.photos import MAX_PHOTOS

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
    return review


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
            published += 1
    return published


def _personal_data_masked(review: Review) -> dict[str, str]:
    """The fields whose text changes once personal data is masked."""
    masked = {field: personal_data_mask(getattr(review, field))[:Review._meta.get_field(field).max_length]
              for field in ("title", "body")}
    return {field: text for field, text in masked.items() if text != getattr(review, field)}


def product_rating_refresh(*, shop: Shop, product_id: int, product_title: str = "") -> ProductRating:
    """Recount one product's published reviews and bump its version (which invalidates caches)."""
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
    return rating


def _title_of(shop: Shop, product_id: int) -> str:
    review = Review.objects.for_shop(shop).filter(product_id=product_id).exclude(product_title="").first()
    return review.product_title if review else ""


def request_funnel(shop: Shop, since: datetime, until: datetime) -> dict[str, int]:
    """Requests sent, clicked and reviewed in a period (by the time they were sent)."""
    sent = ReviewRequest.objects.for_shop(shop).filter(sent_at__gte=since, sent_at__lt=until)
    return sent.aggregate(
        sent=Count("pk"), clicked=Count("pk", filter=Q(clicked_at__isnull=False)),
        reviewed=Count("pk", filter=Q(completed_at__isnull=False)),
    )
