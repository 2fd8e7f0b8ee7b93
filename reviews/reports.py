"""Shoppers report a published review; the merchant keeps it or rejects it.

A report changes nothing on the store by itself: reviews are not taken down because someone,
maybe the shop's competitor or the reviewed product's fan, pressed a button. Each report waits
in the panel's Reviews (filter "Reported") until the merchant decides; one client reports a
review once. The report form has no cookie (Shopify's proxy strips them), so a signed token
naming the shop and the review, and a rate limit, stand in for CSRF as on the write form.
"""
from __future__ import annotations

from datetime import timedelta

from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import ngettext

from reviews.models import ModerationDecision, Review, ReviewReport
from shopapp.languages import number_format
from shopapp.models import Shop

TOKEN_SALT = "advocate:review-report"
TOKEN_MAX_AGE = timedelta(hours=2)


def report_token(*, shop: Shop, review_id: int) -> str:
    return signing.TimestampSigner(salt=TOKEN_SALT).sign(f"{shop.pk}:{review_id}")


def report_token_valid(token: str, *, shop: Shop, review_id: int) -> bool:
    try:
        return signing.TimestampSigner(salt=TOKEN_SALT).unsign(token, max_age=TOKEN_MAX_AGE) == f"{shop.pk}:{review_id}"
    except signing.BadSignature:
        return False


def reportable_review(*, shop: Shop, review_id: int) -> Review | None:
    """A published review of this shop; anything else cannot be reported from the store."""
    return Review.objects.for_shop(shop).published().filter(pk=review_id).first()


def review_report(*, review: Review, reason: str, client: str) -> ReviewReport:
    """Record the report once per client; a second report from them is the first one."""
    if reason not in ReviewReport.Reason.values:
        raise ValueError(f"{reason!r} is not a report reason")
    try:
        with transaction.atomic():
            return ReviewReport.objects.create(shop=review.shop, review=review, reason=reason, client=client)
    except IntegrityError:
        return ReviewReport.objects.get(review=review, client=client)


def review_reports_dismiss(*, review: Review, actor: str, kept: bool) -> int:
    """Close the review's open reports: the merchant kept it (recorded as a decision) or rejected it."""
    with transaction.atomic():
        closed = ReviewReport.objects.filter(review=review).open().update(dismissed_at=timezone.now())
        if closed and kept:
            # Kept in English, as every decision's reason is; the panel shows it with reports_dismissed_text.
            ModerationDecision.objects.create(review=review, action=ModerationDecision.Action.REPORTS_DISMISSED,
                                              reason=f"{closed} report{'s' if closed != 1 else ''}", actor=actor[:100])
    return closed


def reports_dismissed_text(reason: str) -> str:
    """A "kept after reports" decision's reason ("2 reports", as review_reports_dismiss writes it) in the
    active language."""
    count = reason.split(" ", 1)[0]
    if not (count.isascii() and count.isdigit()):
        return reason
    return ngettext("%(count)s report", "%(count)s reports", int(count)) % {"count": number_format(int(count))}


def reported_count(shop: Shop) -> int:
    """Reviews with a report waiting for the merchant (shown beside Reviews in the panel's menu)."""
    return ReviewReport.objects.for_shop(shop).open().values("review").distinct().count()
