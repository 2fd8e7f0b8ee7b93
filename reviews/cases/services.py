"""Cases: opening a case for a review, its statuses and their log, and the alerts to the shop's team.

The private conversation is reviews.cases.conversation, remedies reviews.cases.remedies, the
marketing pause and privacy reviews.cases.privacy, the sweep reviews.cases.sweep, figures
reviews.cases.figures.
"""
from __future__ import annotations


import logging
import re
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _, ngettext

from reviews.cases.models import Case, CaseEvent, CaseSettings
from reviews.models import Review
from shopapp.flow import flow_trigger_queue
from shopapp.jobs import enqueue
from shopapp.languages import DEFAULT_LANGUAGE, language_of, list_format
from shopapp.mail import Audience, email_send
from shopapp.models import Shop
from shopapp.shopify import shop_url


log = logging.getLogger(__name__)


SYSTEM_ACTOR = "Advocate"
CUSTOMER_ACTOR = "customer"
MARKETING_PAUSE_DAYS = 14
RETRY_AFTER = timedelta(minutes=2)


class CaseError(Exception):
    """An action the case cannot take; the message says why, in words for the merchant."""


S = Case.Status
TRANSITIONS: dict[str, set[str]] = {
    S.NEW: {S.OPEN, S.WAITING, S.RESOLVED, S.CLOSED},
    S.OPEN: {S.WAITING, S.RESOLVED, S.CLOSED},
    S.WAITING: {S.OPEN, S.RESOLVED, S.CLOSED},
    S.RESOLVED: {S.OPEN, S.CLOSED},
    S.CLOSED: {S.OPEN},
}

# --- opening ------------------------------------------------------------------------

def case_reason_for(review: Review, config: CaseSettings) -> tuple[str, str] | None:
    """(reason, keyword) when this review should open a case, else None."""
    if review.rating <= config.rating_threshold:
        return Case.Reason.RATING, ""
    text = f"{review.title}\n{review.body}".lower()
    for keyword in config.keyword_list:
        if re.search(rf"(?<!\w){re.escape(keyword)}(?!\w)", text):
            return Case.Reason.KEYWORD, keyword
    return None


def case_open(*, review: Review, reason: str, actor: str, keyword: str = "") -> tuple[Case, bool]:
    """Open the review's case (one per review): (case, created)."""
    existing = Case.objects.filter(review=review).first()
    if existing:
        return existing, False
    try:
        with transaction.atomic():
            case = Case.objects.create(shop=review.shop, review=review, customer=review.customer, reason=reason,
                                       keyword=keyword[:100], rating_at_open=review.rating)
            case_log(case, "opened", "", actor, data={"reason": reason, "keyword": keyword[:100]})
            flow_trigger_queue(shop=review.shop, handle="advocate-case-opened", key=f"case-opened:{case.pk}",
                               payload={**_flow_refs(review), "Rating": review.rating, "Case number": case.pk},
                               customer_shopify_id=_customer_id(review))
    except IntegrityError:  # the same review saved twice at once
        return Case.objects.get(review=review), False
    if CaseSettings.for_shop(review.shop).alert_mode == CaseSettings.AlertMode.AT_ONCE:
        enqueue(case_alert_send, case.pk)
    return case, True


def on_review_saved(review: Review, created: bool) -> None:
    """The reviews hook: a new (or newly unhappy) review opens a case; an edit is noted on its case."""
    review = Review.objects.select_related("shop", "customer").get(pk=review.pk)
    case = Case.objects.filter(review=review).first()
    if case is not None:
        if not created and case.review.rating != case.rating_at_open:
            case_log(case, "review_updated", "", CUSTOMER_ACTOR, data={"rating": review.rating})
        return
    if review.status == Review.Status.UNCONFIRMED:
        return
    found = case_reason_for(review, CaseSettings.for_shop(review.shop))
    if found and found[0] == Case.Reason.RATING:
        flow_trigger_queue(shop=review.shop, handle="advocate-negative-review", key=f"negative-review:{review.pk}",
                           payload={**_flow_refs(review), "Rating": review.rating, "Product": review.product_title},
                           customer_shopify_id=_customer_id(review))
    if found:
        case_open(review=review, reason=found[0], keyword=found[1], actor=SYSTEM_ACTOR)


def _customer_id(review: Review) -> int | None:
    return _shopify_customer_id(review.customer)


def _shopify_customer_id(customer) -> int | None:
    """The customer's Shopify id for Flow, unless they are a guest or were erased."""
    return customer.shopify_id if customer is not None and not customer.redacted_at else None


def _flow_refs(review: Review) -> dict:
    """Flow's reference fields for the review's customer and order, where Shopify knows them."""
    line = review.order_line
    return {"customer_id": _customer_id(review), "order_id": line.order.shopify_id if line is not None else None}


def case_flow_refs(case: Case) -> dict:
    """Flow's reference fields for a case: its review's, or the customer and order an NPS answer was about."""
    if case.review_id is not None:
        return _flow_refs(case.review)
    order = case.nps_survey.order if case.nps_survey_id else None
    return {"customer_id": _shopify_customer_id(case.customer), "order_id": order.shopify_id if order is not None else None}


# --- statuses and the log -----------------------------------------------------------

def case_log(case: Case, action: str, detail: str, actor: str, data: dict | None = None) -> CaseEvent:
    """Note what happened. With `data` (a status, a score, a remedy's kind), the panel writes the line
    in its reader's language, and `detail` is that line in English unless given."""
    from reviews.cases.history import event_english

    data = data or {}
    if data and not detail:
        detail = event_english(action, data)
    return CaseEvent.objects.create(case=case, action=action, detail=str(detail)[:300], data=data,
                                    actor=(actor or "merchant")[:100])


def case_transition(*, case: Case, to: str, actor: str) -> Case:
    """Move the case to `to`, or CaseError naming the refused move."""
    if to not in Case.Status.values:
        raise CaseError(_("“%(status)s” is not a case status.") % {"status": to})
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if to not in TRANSITIONS[case.status]:
            refused = (_("A case that is “%(status)s” cannot become “%(to)s”. Reopen it first.")
                       if case.status in (S.RESOLVED, S.CLOSED)
                       else _("A case that is “%(status)s” cannot become “%(to)s”."))
            raise CaseError(refused % {"status": case.get_status_display().lower(),
                                       "to": Case.Status(to).label.lower()})
        case_move(case, to, actor)
    return case


def case_move(case: Case, to: str, actor: str) -> None:
    now = timezone.now()
    before = case.status
    case.status = to
    if to in (S.RESOLVED, S.CLOSED):
        case.ended_at = now
        if to == S.RESOLVED:
            case.resolved_at = now
    else:
        case.ended_at = None
    case.save(update_fields=["status", "ended_at", "resolved_at"])
    case_log(case, "status", "", actor, data={"from": before, "to": to})
    if to in (S.RESOLVED, S.CLOSED):  # each ending is its own event: a reopened case may end again
        outcome = "Resolved" if to == S.RESOLVED else "Closed without a resolution"
        refs = case_flow_refs(case)
        flow_trigger_queue(shop=case.shop, handle="advocate-case-resolved", key=f"case-ended:{case.pk}:{now.isoformat()}",
                           payload={**refs, "Outcome": outcome, "Case number": case.pk},
                           customer_shopify_id=refs["customer_id"])


def case_assign(*, case: Case, assignee: str, actor: str) -> Case:
    Case.objects.filter(pk=case.pk).update(assignee=assignee[:100])
    case.assignee = assignee[:100]
    case_log(case, "assigned", "", actor, data={"to": assignee[:100]})
    return case


def first_response_record(case: Case) -> None:
    if case.first_response_at is None:
        case.first_response_at = timezone.now()
        Case.objects.filter(pk=case.pk, first_response_at__isnull=True).update(first_response_at=case.first_response_at)


# --- alerts -------------------------------------------------------------------------

def case_alert_send(case_id: int) -> bool:
    """Job: one alert email per case to the shop's recipients (claimed, so never twice)."""
    case = Case.objects.select_related("shop", "review", "nps_survey").filter(pk=case_id).first()
    if case is None:
        return False
    config = CaseSettings.for_shop(case.shop)
    recipients = config.recipients(case.shop)
    if not recipients or config.alert_mode != CaseSettings.AlertMode.AT_ONCE:
        return False
    if not Case.objects.filter(pk=case_id, alerted_at__isnull=True).update(alerted_at=timezone.now()):
        return False
    try:
        with translation.override(owner_language(case.shop)):
            _owner_email(case.shop, recipients, case_alert_subject(case), {"cases": [case], "shop": case.shop})
    except Exception:
        log.exception("alert for case %s could not be sent", case_id)
        Case.objects.filter(pk=case_id).update(alerted_at=None)
        return False
    case_log(case, "alert_sent", ", ".join(recipients), SYSTEM_ACTOR)
    return True


def owner_language(shop: Shop) -> str:
    """The language of the shop team's alerts: the shop's primary language, English if Advocate does not speak it."""
    return language_of(shop.primary_locale) or DEFAULT_LANGUAGE


def case_alert_subject(case: Case) -> str:
    if case.review_id is None:
        return _("New case: %(score)s/10, would not recommend %(shop)s") % {
            "score": case.rating_at_open, "shop": case.shop.name or case.shop.domain}
    if case.review.product_title:
        return _("New case: %(rating)s★ review of %(product)s") % {
            "rating": case.review.rating, "product": case.review.product_title}
    return _("New case: %(rating)s★ review of a product") % {"rating": case.review.rating}


def case_digest_send(*, shop: Shop, now: datetime | None = None) -> int:
    """Once a day, one email listing the cases nobody was told about yet."""
    now = now or timezone.now()
    config = CaseSettings.for_shop(shop)
    recipients = config.recipients(shop)
    pending = Case.objects.for_shop(shop).filter(alerted_at__isnull=True)
    if config.alert_mode != CaseSettings.AlertMode.DIGEST or not recipients or not pending.exists():
        return 0
    claimed = CaseSettings.objects.filter(
        Q(digest_sent_at__isnull=True) | Q(digest_sent_at__lte=now - settings.ADVOCATE_DAY), pk=config.pk,
    ).update(digest_sent_at=now)
    if not claimed:
        return 0
    cases = list(pending.select_related("review", "nps_survey"))
    Case.objects.filter(pk__in=[c.pk for c in cases]).update(alerted_at=now)
    try:
        with translation.override(owner_language(shop)):
            subject = ngettext("%(count)s new case in your Advocate inbox",
                               "%(count)s new cases in your Advocate inbox", len(cases)) % {"count": len(cases)}
            _owner_email(shop, recipients, subject, {"cases": cases, "shop": shop, "digest": True})
    except Exception:
        log.exception("case digest for %s could not be sent", shop.domain)
        Case.objects.filter(pk__in=[c.pk for c in cases]).update(alerted_at=None)
        CaseSettings.objects.filter(pk=config.pk).update(digest_sent_at=config.digest_sent_at)
        return 0
    return len(cases)


def _owner_email(shop: Shop, to: list[str], subject: str, context: dict) -> None:
    """The alert (one case, or the digest) to the shop's team, in the active language (owner_language)."""
    context = {**context, "inbox": shop_url(shop.domain, f"/admin/apps/{settings.SHOPIFY_API_KEY}/app/cases/")}
    email_send(shop=shop, audience=Audience.MERCHANT, to=to, subject=subject,
               text=render_to_string("cases/email/alert.txt", context))


def case_thanks_block(shop: Shop, reviews: list) -> str | None:
    """On the review thank-you page: a reviewer whose rating opens a case hears that the shop will
    be in touch (the case itself is opened by the review's follow-up, whatever this page says)."""
    if not reviews:
        return None
    threshold = CaseSettings.for_shop(shop).rating_threshold
    unhappy = [r for r in reviews if r.rating <= threshold or Case.objects.filter(review=r).exists()]
    if not unhappy:
        return None
    return render_to_string("cases/review_thanks.html", {
        "shop": shop, "products": list_format([r.product_title for r in unhappy])})
