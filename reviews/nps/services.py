"""Asking the NPS question, recording the answer, and the links between the two.

Two ways to ask, the merchant's choice (NpsSettings.mode): inside the review request (a part the
request email adds, reviews.requests), or an email of its own after delivery, a row the sweep
claims when due. Both honour every opt-out and the case and Flow pauses (shopapp.mail), the review
emails' cap of 5 in 30 days (this email counts in it), and ask a customer at most once in 90 days.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial
from typing import Callable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _, gettext_noop

from reviews.models import ReviewRequest, ReviewSettings
from reviews.nps.models import NpsSettings, NpsSurvey
from reviews.requests import email_cap_reason
from shopapp.languages import shopper_language
from shopapp.jobs import follow_ups_record
from shopapp.links import LinkInvalid, absolute, link_read, link_token
from shopapp.mail import Audience, email_send, marketing_blocked, unsubscribe_url
from shopapp.models import Customer, Order
from shopapp.registry import OrderEvent, register_follow_up

log = logging.getLogger(__name__)

LINK_PURPOSE = "nps"
LINK_VALIDITY = timedelta(days=180)
ASK_WINDOW = timedelta(days=90)  # one question per customer in this time, whichever email carries it
RESUME_WITHIN = 7  # days: a question that came due longer ago (the shop was uninstalled meanwhile) is dropped
SCORES = range(0, 11)
S = NpsSurvey.Status
NPS_ANSWERED = "nps_answered"


def nps_answered_subscribe(name: str, func: Callable[[NpsSurvey], None]) -> None:
    """Run `func(survey)` after an answer is first given or changed (score or comment) commits.

    Call it from an AppConfig.ready(); the step is retried until it succeeds, so it must be idempotent."""
    register_follow_up(NPS_ANSWERED, name, partial(_with_survey, func))


def _with_survey(func: Callable[[NpsSurvey], None], survey_id: int) -> None:
    survey = NpsSurvey.objects.select_related("shop", "order", "customer").filter(pk=survey_id).first()
    if survey is not None and survey.redacted_at is None:  # erased since: nothing left to follow up
        func(survey)


def question(shop) -> str:
    return _("How likely are you to recommend %(shop)s to a friend?") % {"shop": shop.name or shop.domain}


# --- scheduling (the email of its own) ----------------------------------------------

def on_order_changed(event: OrderEvent) -> None:
    if event.is_fulfilment:
        nps_schedule(order=event.order)
    if event.is_refund_or_cancel and event.order.is_refunded_or_cancelled:
        NpsSurvey.objects.filter(order=event.order, status=S.SCHEDULED).update(
            status=S.CANCELLED, skip_reason=gettext_noop("order refunded or cancelled"))


def nps_schedule(*, order: Order) -> NpsSurvey | None:
    """The order's own NPS email, due some days after delivery; at most one per order."""
    config = NpsSettings.for_shop(order.shop)
    if not config.enabled or config.mode != NpsSettings.Mode.OWN_EMAIL or order.customer_id is None:
        return None
    basis = order.delivered_at or order.fulfilled_at
    if basis is None or order.is_refunded_or_cancelled:
        return None
    due = basis + config.delay_days * settings.ADVOCATE_DAY
    existing = NpsSurvey.objects.filter(order=order).first()
    if existing is not None:
        # Delivery reported after fulfilment: the question waits for it.
        NpsSurvey.objects.filter(pk=existing.pk, status=S.SCHEDULED, due_at__lt=due).update(due_at=due)
        return existing
    try:
        with transaction.atomic():
            return NpsSurvey.objects.create(shop=order.shop, order=order, customer=order.customer,
                                            channel=NpsSurvey.Channel.EMAIL, due_at=due)
    except IntegrityError:  # the same order's webhook processed twice at once
        return NpsSurvey.objects.get(order=order)


def nps_sweep(now: datetime | None = None) -> int:
    now = now or timezone.now()
    due = NpsSurvey.objects.filter(status=S.SCHEDULED, due_at__lte=now, shop__uninstalled_at__isnull=True)
    return sum(nps_send(survey_id=pk, now=now) for pk in list(due.order_by("due_at").values_list("pk", flat=True)[:500]))


def nps_send(*, survey_id: int, now: datetime | None = None) -> bool:
    """Send a due question once: the conditional UPDATE lets one worker claim it."""
    now = now or timezone.now()
    if not NpsSurvey.objects.filter(pk=survey_id, status=S.SCHEDULED).update(status=S.SENDING):
        return False
    survey = NpsSurvey.objects.select_related("shop", "order", "customer").get(pk=survey_id)
    reason = _block_reason(survey, now)
    if reason:
        NpsSurvey.objects.filter(pk=survey_id).update(status=S.SKIPPED, skip_reason=reason[:200])
        return False
    subject, text, html = nps_email(survey)
    try:
        sent = email_send(shop=survey.shop, audience=Audience.MARKETING, customer=survey.customer, subject=subject,
                          text=text, html=html, honour_shopify_consent=_honour_consent(survey.shop))
    except Exception:
        log.exception("NPS question %s could not be sent", survey_id)
        sent = False
    if not sent:
        # Nothing went out (the backend failed, the shop uninstalled since the claim): due again later.
        NpsSurvey.objects.filter(pk=survey_id).update(status=S.SCHEDULED, due_at=now + timedelta(hours=1))
        return False
    NpsSurvey.objects.filter(pk=survey_id).update(status=S.SENT, sent_at=now)
    return True


def _block_reason(survey: NpsSurvey, now: datetime) -> str | None:
    config = NpsSettings.for_shop(survey.shop)
    if not config.enabled or config.mode != NpsSettings.Mode.OWN_EMAIL:
        return gettext_noop("the shop no longer asks in an email of its own")
    if survey.due_at and survey.due_at < now - RESUME_WITHIN * settings.ADVOCATE_DAY:
        return gettext_noop("came due too long ago")
    if survey.order.is_refunded_or_cancelled:
        return gettext_noop("order refunded or cancelled")
    reason = marketing_blocked(survey.shop, survey.customer, honour_shopify_consent=_honour_consent(survey.shop))
    return reason or _asked_lately(survey, now) or email_cap_reason(survey.customer, now)


def _asked_lately(survey: NpsSurvey, now: datetime) -> str | None:
    asked = NpsSurvey.objects.filter(customer=survey.customer, sent_at__gte=now - ASK_WINDOW).exclude(pk=survey.pk)
    return gettext_noop("asked in the last 90 days") if survey.customer_id and asked.exists() else None


def _honour_consent(shop) -> bool:
    return ReviewSettings.for_shop(shop).honour_shopify_consent


def nps_emails_count(customer: Customer, since: datetime) -> int:
    """For the review emails' cap: the NPS emails of their own this customer got since then."""
    return NpsSurvey.objects.filter(customer=customer, channel=NpsSurvey.Channel.EMAIL, status=S.SENT,
                                    sent_at__gte=since).count()


# --- the question in an email -------------------------------------------------------

def nps_link(survey: NpsSurvey, score: int | None = None) -> str:
    url = absolute(f"/nps/{link_token(LINK_PURPOSE, survey.pk)}")
    return url if score is None else f"{url}?score={score}"


def _scores(link) -> list[tuple[int, str]]:
    return [(n, link(n)) for n in SCORES]


def nps_email(survey: NpsSurvey) -> tuple[str, str, str]:
    """(subject, text, html) of the question sent on its own, in the language the customer ordered in."""
    shop = survey.shop
    customer = survey.customer
    with translation.override(shopper_language(shop, order=survey.order, customer=customer)):
        context = {"shop": shop, "question": question(shop), "scores": _scores(lambda n: nps_link(survey, n)),
                   "first_name": customer.first_name if customer else "", "order": survey.order.name,
                   "unsubscribe": unsubscribe_url(customer) if customer else ""}
        subject = _("A quick question from %(shop)s") % {"shop": shop.name or shop.domain}
        return (subject, render_to_string("nps/email/question.txt", context),
                render_to_string("nps/email/question.html", context))


def nps_request_part(request: ReviewRequest, *, reminder: bool) -> tuple[str, str] | None:
    """The question inside a review request (not its reminder), when the shop asks there. An unsaved
    request is the merchant's preview: its links go nowhere."""
    config = NpsSettings.for_shop(request.shop)
    if reminder or not config.enabled or config.mode != NpsSettings.Mode.IN_REQUEST:
        return None
    if request.pk is None:
        link = lambda n: "#nps"  # noqa: E731
    else:
        survey = _survey_for_request(request)
        if survey is None:
            return None
        link = lambda n: nps_link(survey, n)  # noqa: E731
    context = {"shop": request.shop, "question": question(request.shop), "scores": _scores(link)}
    return render_to_string("nps/email/_part.txt", context), render_to_string("nps/email/_part.html", context)


def _survey_for_request(request: ReviewRequest) -> NpsSurvey | None:
    """The order's question, made when its request is written (again, if that send failed and is retried)."""
    now = timezone.now()
    survey = NpsSurvey.objects.filter(order_id=request.order_id).first()
    if survey is None:
        if request.customer_id is None or NpsSurvey.objects.filter(customer_id=request.customer_id,
                                                                   sent_at__gte=now - ASK_WINDOW).exists():
            return None
        try:
            with transaction.atomic():
                survey = NpsSurvey.objects.create(shop=request.shop, order_id=request.order_id,
                                                  customer_id=request.customer_id, channel=NpsSurvey.Channel.REQUEST,
                                                  status=S.SENT, sent_at=now)
        except IntegrityError:
            survey = NpsSurvey.objects.get(order_id=request.order_id)
    if survey.channel != NpsSurvey.Channel.REQUEST or survey.redacted_at:
        return None
    return survey


# --- the answer ---------------------------------------------------------------------

def nps_survey_for_token(token: str) -> NpsSurvey:
    """The question a link names, or LinkInvalid (tampered, expired, another purpose's, never sent,
    erased, or the shop uninstalled)."""
    survey_id, _extra = link_read(LINK_PURPOSE, token, max_age=LINK_VALIDITY)
    survey = NpsSurvey.objects.select_related("shop", "customer").filter(
        pk=survey_id, status=S.SENT, redacted_at__isnull=True,
        shop__installed_at__isnull=False, shop__uninstalled_at__isnull=True).first()
    if survey is None:
        raise LinkInvalid("not available")
    return survey


def nps_answer(*, survey: NpsSurvey, score: int, comment: str | None = None) -> NpsSurvey:
    """Record the customer's score (and comment, when one is given: the one-click save carries none
    and keeps what they wrote before); the same answer twice changes nothing."""
    if score not in SCORES:
        raise ValueError("a score is a whole number from 0 to 10")
    now = timezone.now()
    fields = {"score": score, "updated_at": now}
    if comment is not None:
        fields["comment"] = comment.strip()[:1000]
    live = NpsSurvey.objects.filter(pk=survey.pk, redacted_at__isnull=True)
    same = Q(score=score) & (Q() if comment is None else Q(comment=fields.get("comment", "")))
    with transaction.atomic():
        if live.exclude(same).update(**fields):
            # A detractor's case (reviews.cases) commits with the answer's follow-up, or neither does.
            follow_ups_record(NPS_ANSWERED, survey.pk)
        live.filter(answered_at__isnull=True).update(answered_at=now)
    survey.refresh_from_db()
    return survey
