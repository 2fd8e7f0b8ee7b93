"""The review incentive (off by default): the same discount for any rating, the review labelled
incentivized. It is granted when a review is first saved through a request link, never for a
particular rating and never for changing a review.

The ReviewIncentive row (unique per review, with its code) is written in the review's own
transaction; the job that asks Shopify for the code runs after commit. A retried job looks the
code up first and adopts the discount it finds if it is ours (shopapp.discounts), so a job
that ran twice, or died after Shopify answered, never creates two codes.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from reviews.models import Review, ReviewIncentive, ReviewSettings
from shopapp.admin_api import ShopifyError, ShopifyUserError, ShopNotConnected
from shopapp.discounts import discount_ensure, starts_now
from shopapp.jobs import enqueue
from shopapp.languages import percent_format, shopper_language
from shopapp.mail import owed_email_send, unsubscribe_url

log = logging.getLogger(__name__)

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
MAX_ATTEMPTS = 8
RETRY_AFTER = timedelta(minutes=10)


def incentive_code(review_id: int) -> str:
    """The same unguessable code for the same review, so a retry can look it up in Shopify."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"review-incentive:{review_id}".encode(), hashlib.sha256).digest()
    return "REVIEW-" + "".join(CODE_ALPHABET[b % len(CODE_ALPHABET)] for b in digest[:8])


def review_incentive_grant(*, review: Review, config: ReviewSettings) -> ReviewIncentive:
    """Record the review's reward (call inside the review's transaction); the code is made after commit."""
    incentive, created = ReviewIncentive.objects.get_or_create(
        review=review, defaults={"shop": review.shop, "customer": review.customer,
                                 "code": incentive_code(review.pk), "percent": config.incentive_percent})
    if created:
        enqueue(review_incentive_issue, incentive.pk)
    return incentive


def discount_input(incentive: ReviewIncentive) -> dict:
    """A single-use percentage code, for that customer alone when Shopify knows them."""
    customer = incentive.customer
    return {
        "title": f"Thank you for your review ({incentive.code})",
        "code": incentive.code,
        "startsAt": starts_now(),
        "context": {"customers": {"add": [customer.gid]}} if customer is not None else {"all": "ALL"},
        "customerGets": {"value": {"percentage": incentive.percent / 100}, "items": {"all": True}},
        "appliesOncePerCustomer": True,
        "usageLimit": 1,
    }


def review_incentive_issue(incentive_id: int) -> ReviewIncentive | None:
    """Job: create the code in Shopify once (adopting one a lost attempt made), then email it."""
    incentive = ReviewIncentive.objects.select_related("shop", "customer", "review").filter(pk=incentive_id).first()
    if incentive is None:
        return None
    if incentive.status == ReviewIncentive.Status.PENDING:
        incentive = _create_in_shopify(incentive)
    if incentive.status == ReviewIncentive.Status.CREATED:
        review_incentive_email(incentive=incentive)
    return incentive


def _create_in_shopify(incentive: ReviewIncentive) -> ReviewIncentive:
    ReviewIncentive.objects.filter(pk=incentive.pk).update(attempts=incentive.attempts + 1)
    incentive.attempts += 1
    try:
        gid = discount_ensure(shop=incentive.shop, data=discount_input(incentive), look_first=incentive.attempts > 1)
    except ShopifyUserError as exc:
        return _settle(incentive, ReviewIncentive.Status.FAILED, error=f"Shopify refused the code: {exc}")
    except ShopifyError as exc:
        log.warning("incentive %s not created yet; the sweep retries", incentive.pk, exc_info=True)
        if isinstance(exc, ShopNotConnected):  # nothing was sent; waiting for a token is not an attempt
            ReviewIncentive.objects.filter(pk=incentive.pk).update(attempts=incentive.attempts - 1)
            return incentive
        if incentive.attempts >= MAX_ATTEMPTS:
            return _settle(incentive, ReviewIncentive.Status.FAILED, error=str(exc))
        return incentive
    return _settle(incentive, ReviewIncentive.Status.CREATED, gid=gid or "")


def _settle(incentive: ReviewIncentive, status: str, *, gid: str = "", error: str = "") -> ReviewIncentive:
    incentive.status, incentive.discount_gid, incentive.error = status, gid or incentive.discount_gid, error[:255]
    incentive.issued_at = timezone.now() if status == ReviewIncentive.Status.CREATED else None
    incentive.save(update_fields=["status", "discount_gid", "error", "issued_at"])
    return incentive


def review_incentive_email(*, incentive: ReviewIncentive) -> bool:
    """Send the code once (claimed by emailed_at); a customer without an email keeps the code on record."""
    customer = incentive.customer
    if customer is None or not customer.email or customer.redacted_at:
        return False
    claimed = ReviewIncentive.objects.filter(pk=incentive.pk, emailed_at__isnull=True,
                                             status=ReviewIncentive.Status.CREATED).update(emailed_at=timezone.now())
    if not claimed:
        return False
    shop = incentive.shop
    line = incentive.review.order_line
    with translation.override(shopper_language(shop, order=line.order if line else None, customer=customer)):
        context = {"shop": shop, "shop_name": shop.name or shop.domain, "first_name": customer.first_name,
                   "code": incentive.code, "percent": percent_format(incentive.percent),
                   "unsubscribe": unsubscribe_url(customer)}
        return owed_email_send(
            shop=shop, customer=customer,
            subject=_("Your %(percent)s code from %(shop)s") % {"percent": context["percent"], "shop": context["shop_name"]},
            text=render_to_string("reviews/email/incentive.txt", context),
            html=render_to_string("reviews/email/incentive.html", context),
            what=f"incentive email {incentive.pk}",
            release=lambda: ReviewIncentive.objects.filter(pk=incentive.pk).update(emailed_at=None),
        )


def review_incentives_sweep(*, now=None) -> int:
    """Re-drive codes whose job was lost or failed to reach Shopify, and codes not yet emailed."""
    now = now or timezone.now()
    due = (ReviewIncentive.objects.filter(created_at__lte=now - RETRY_AFTER, shop__uninstalled_at__isnull=True)
           .filter(Q(status=ReviewIncentive.Status.PENDING)
                   | Q(status=ReviewIncentive.Status.CREATED, emailed_at__isnull=True, customer__email__gt="",
                       customer__redacted_at__isnull=True))
           .values_list("pk", flat=True)[:200])
    count = 0
    for pk in due:
        review_incentive_issue(pk)
        count += 1
    return count
