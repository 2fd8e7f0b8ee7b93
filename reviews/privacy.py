"""Reviews' answers to the compliance webhooks and the merchant's full export.

Redaction takes the reviewer's identity out of their reviews (name, email, the link to the
customer and their edit history's names); the words and stars stay published, as reviews
the store received, signed "Anonymous". Pending requests to that customer are cancelled.
"""
from __future__ import annotations

from django.db.models import Q

from reviews.models import ProductRating, Review, ReviewIncentive, ReviewReport, ReviewRequest, ReviewRevision, ReviewSettings
from reviews.services import product_rating_refresh
from shopapp.models import Shop
from shopapp.orders import customers_matching
from shopapp.registry import CustomerRef


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _theirs(shop: Shop, ref: CustomerRef):
    customers = customers_matching(shop, ref)
    mine = Q(customer__in=customers)
    if ref.email:
        mine |= Q(email__iexact=ref.email)  # storefront reviews from non-buyers carry only an email
    return Review.objects.for_shop(shop).filter(mine), customers


def _review_export(review: Review) -> dict:
    return {
        "product": review.product_title or str(review.product_id), "rating": review.rating, "title": review.title,
        "body": review.body, "display_name": review.display_name, "email": review.email, "status": review.status,
        "verified_buyer": review.verified, "incentivized": review.incentivized, "source": review.source,
        "created_at": _iso(review.created_at), "published_at": _iso(review.published_at),
        "merchant_reply": review.reply,
        "photos": len(review.photos.all()),
        "incentive_code": getattr(getattr(review, "incentive", None), "code", None),
        "earlier_versions": [
            {"rating": r.rating, "title": r.title, "body": r.body, "display_name": r.display_name,
             "created_at": _iso(r.created_at)}
            for r in review.revisions.all()
        ],
    }


def reviews_customer_export(shop: Shop, ref: CustomerRef) -> dict:
    reviews, customers = _theirs(shop, ref)
    requests = ReviewRequest.objects.for_shop(shop).filter(customer__in=customers).select_related("order")
    return {
        "reviews": [_review_export(r) for r in reviews.select_related("incentive").prefetch_related("revisions", "photos")],
        "review_requests": [
            {"order": r.order.name, "status": r.status, "sent_at": _iso(r.sent_at),
             "reminder_sent_at": _iso(r.reminder_sent_at), "completed_at": _iso(r.completed_at)}
            for r in requests
        ],
    }


def reviews_customer_redact(shop: Shop, ref: CustomerRef) -> None:
    reviews, customers = _theirs(shop, ref)
    reviews = list(reviews.only("pk", "product_id"))
    ReviewRevision.objects.filter(review__in=reviews).update(display_name="")
    Review.objects.filter(pk__in=[r.pk for r in reviews]).update(customer=None, display_name="", email="")
    ReviewRequest.objects.for_shop(shop).filter(
        customer__in=customers, status=ReviewRequest.Status.SCHEDULED,
    ).update(status=ReviewRequest.Status.CANCELLED, skip_reason="the customer's data was erased")
    ReviewRequest.objects.for_shop(shop).filter(customer__in=customers).update(customer=None)
    ReviewIncentive.objects.filter(shop=shop, customer__in=customers).update(customer=None)
    for product_id in {r.product_id for r in reviews}:
        product_rating_refresh(shop=shop, product_id=product_id)  # new version: cached widgets drop the name


def reviews_shop_export(shop: Shop) -> dict:
    config = ReviewSettings.for_shop(shop)
    return {
        "settings": {"trigger": config.trigger, "delay_days": config.delay_days,
                     "non_buyer_reviews": config.non_buyer_reviews, "incentive_enabled": config.incentive_enabled},
        "reviews": [_review_export(r) for r in Review.objects.for_shop(shop).prefetch_related("revisions", "photos")],
        "product_ratings": list(ProductRating.objects.filter(shop=shop).values("product_id", "product_title", "count", "total")),
        # Who reported is kept only as a hash, to count one report per shopper: it is not exported.
        "reports": [{"review": r.review_id, "reason": r.reason, "at": r.created_at.isoformat(),
                     "closed_at": r.dismissed_at.isoformat() if r.dismissed_at else None}
                    for r in ReviewReport.objects.for_shop(shop).order_by("pk")],
    }

