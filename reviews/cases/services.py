"""Cases: opening, alerting, statuses, the private conversation and the public reply.

Remedies live in reviews.cases.remedies, figures in reviews.cases.figures.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from email.utils import make_msgid

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from reviews.cases.models import Case, CaseEvent, CaseMessage, CaseSettings, Remedy, ReplyTemplate
from reviews.models import Review
from reviews.requests import review_link
from reviews.services import review_reply
from shopapp.jobs import enqueue
from shopapp.links import absolute, link_read, link_token
from shopapp.mail import Audience, email_send
from shopapp.models import Customer, Shop

log = logging.getLogger(__name__)

SYSTEM_ACTOR = "Advocate"
CUSTOMER_ACTOR = "customer"
ANSWER_LINK_PURPOSE = "case-answer"
ANSWER_LINK_VALIDITY = timedelta(days=120)
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

DEFAULT_TEMPLATES = [
    ("apology", "Apology", "About your review of {product}",
     "Hi {first_name},\n\nThank you for telling us about your {product} from order {order}. We are sorry it "
     "fell short. We would like to put it right: {remedy}\n\nThis is yours whatever you do with your review; "
     "you do not need to change or remove it.\n\n{shop}"),
    ("replacement", "Replacement", "A replacement for your {product}",
     "Hi {first_name},\n\nWe are sorry your {product} from order {order} was not right. We can send you a "
     "replacement at no cost. Use the answer link below to confirm your address, or tell us if you would prefer "
     "something else.\n\nThe replacement does not depend on your review in any way.\n\n{shop}"),
    ("details", "Asking for details", "Can you tell us more about your {product}?",
     "Hi {first_name},\n\nThank you for your review of {product}. We would like to understand what went "
     "wrong so we can help. Could you tell us a little more, and add a photo if it helps?\n\n{shop}"),
]
PLACEHOLDERS = ("first_name", "product", "order", "shop", "remedy")
# What template_fill leaves where only the merchant can write the words.
OFFER_TO_WRITE = "[describe what you offer]"
# A {name} the fill did not know, or a bracketed note to the writer such as "[your name]"; an
# editorial "[Sic]"-style bracket starting with a capital is left alone.
_UNFILLED = re.compile(r"{\w+}|\[[a-z][^\]\n]{1,80}\]")


# --- settings and templates ---------------------------------------------------------

def reply_templates(shop: Shop) -> list[ReplyTemplate]:
    """The shop's templates, the three defaults created on first use."""
    templates = list(ReplyTemplate.objects.filter(shop=shop))
    if not templates:
        for key, name, subject, body in DEFAULT_TEMPLATES:
            ReplyTemplate.objects.get_or_create(shop=shop, key=key, defaults={"name": name, "subject": subject,
                                                                              "body": body})
        templates = list(ReplyTemplate.objects.filter(shop=shop))
    return templates


def template_fill(text: str, case: Case, *, remedy: str = "") -> str:
    """Only the named placeholders (str.format would let a template reach attributes)."""
    review = case.review
    customer = case.customer
    order = review.order_line.order.name if review.order_line_id else ""
    values = {"first_name": (customer.first_name if customer and not customer.redacted_at else "") or "there",
              "product": review.product_title or "your order", "order": order or "",
              "shop": case.shop.name or case.shop.domain,
              "remedy": remedy or OFFER_TO_WRITE}
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


def unknown_placeholders(text: str) -> list[str]:
    return [p for p in re.findall(r"{(\w+)}", text) if p not in PLACEHOLDERS]


def unfilled_placeholders(text: str) -> list[str]:
    """Placeholders still in a message about to be sent, each once, in order."""
    return list(dict.fromkeys(_UNFILLED.findall(text)))


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
            detail = Case.Reason(reason).label + (f": “{keyword}”" if keyword else "")
            _log(case, "opened", detail, actor)
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
            _log(case, "review_updated", f"the customer's rating is now {review.rating}★", CUSTOMER_ACTOR)
        return
    if review.status == Review.Status.UNCONFIRMED:
        return
    found = case_reason_for(review, CaseSettings.for_shop(review.shop))
    if found:
        case_open(review=review, reason=found[0], keyword=found[1], actor=SYSTEM_ACTOR)


# --- statuses and the log -----------------------------------------------------------

def _log(case: Case, action: str, detail: str, actor: str) -> CaseEvent:
    return CaseEvent.objects.create(case=case, action=action, detail=detail[:300], actor=(actor or "merchant")[:100])


def case_transition(*, case: Case, to: str, actor: str) -> Case:
    """Move the case to `to`, or CaseError naming the refused move."""
    if to not in Case.Status.values:
        raise CaseError(f"“{to}” is not a case status.")
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if to not in TRANSITIONS[case.status]:
            raise CaseError(f"A case that is “{case.get_status_display().lower()}” cannot become "
                            f"“{Case.Status(to).label.lower()}”." + (" Reopen it first." if case.status in
                                                                    (S.RESOLVED, S.CLOSED) else ""))
        _move(case, to, actor)
    return case


def _move(case: Case, to: str, actor: str) -> None:
    now = timezone.now()
    before = case.get_status_display()
    case.status = to
    if to in (S.RESOLVED, S.CLOSED):
        case.ended_at = now
        if to == S.RESOLVED:
            case.resolved_at = now
    else:
        case.ended_at = None
    case.save(update_fields=["status", "ended_at", "resolved_at"])
    _log(case, "status", f"{before} → {case.get_status_display()}", actor)


def case_assign(*, case: Case, assignee: str, actor: str) -> Case:
    Case.objects.filter(pk=case.pk).update(assignee=assignee[:100])
    case.assignee = assignee[:100]
    _log(case, "assigned", f"assigned to {assignee}" if assignee else "unassigned", actor)
    return case


def _first_response(case: Case) -> None:
    if case.first_response_at is None:
        case.first_response_at = timezone.now()
        Case.objects.filter(pk=case.pk, first_response_at__isnull=True).update(first_response_at=case.first_response_at)


# --- the private conversation -------------------------------------------------------

def answer_link(case: Case) -> str:
    return absolute(f"/cases/a/{link_token(ANSWER_LINK_PURPOSE, case.pk)}")


def case_for_token(token: str) -> Case:
    """The case an answer link names, or LinkInvalid (tampered or expired) / Case.DoesNotExist."""
    case_id, _ = link_read(ANSWER_LINK_PURPOSE, token, max_age=ANSWER_LINK_VALIDITY)
    return Case.objects.select_related("shop", "review", "customer").get(pk=case_id, redacted_at__isnull=True)


def case_reply_send(*, case: Case, subject: str, body: str, actor: str) -> CaseMessage:
    """A private email to the customer, threaded with the earlier ones; sent by a job once.

    Transactional, not marketing: it answers the customer's own complaint, so it goes even
    when they opted out of marketing or used Advocate's unsubscribe link (which covers
    review and referral emails). It never goes to an erased customer or without an address.
    """
    customer = case.customer
    if customer is None or customer.redacted_at or not customer.email:
        raise CaseError("This customer left no email address, so a private reply cannot reach them. "
                        "A public reply under the review still can.")
    subject, body = " ".join(subject.split()), body.strip()  # no line breaks in a mail header
    if not body:
        raise CaseError("Write a message first.")
    unfilled = unfilled_placeholders(f"{subject}\n{body}")
    if unfilled:
        raise CaseError("Replace " + ", ".join(f"“{p}”" for p in unfilled) + " with your own words before sending; "
                        "nothing was sent.")
    with transaction.atomic():
        message = _message_create(case, subject=subject, body=body, actor=actor)
        _first_response(case)
        if case.status in (S.NEW, S.OPEN):
            _move(case, S.WAITING, actor)
        _log(case, "replied_private", subject[:200], actor)
    enqueue(case_message_send, message.pk)
    return message


def _message_create(case: Case, *, subject: str, body: str, actor: str, remedy: Remedy | None = None) -> CaseMessage:
    customer = case.customer
    return CaseMessage.objects.create(
        case=case, direction=CaseMessage.Direction.OUT, subject=subject[:200], body=body, author=actor[:100],
        to_email=customer.email, to_name=f"{customer.first_name} {customer.last_name}".strip()[:200],
        message_id=make_msgid(domain=_mail_domain()), remedy=remedy,
    )


def remedy_deliver(*, remedy_id: int) -> CaseMessage | None:
    """Tell the customer what a done remedy is (its code), by email and on their case page; once.

    The message row is the claim: one per remedy (a unique column), so the remedy job, a rerun
    and the sweep can all call this and only one message is ever made; its sending is then the
    ordinary, claimed reply job. An erased or unreachable customer gets nothing.
    """
    remedy = (Remedy.objects.select_related("case__shop", "case__customer", "case__review")
              .filter(pk=remedy_id, status=Remedy.Status.DONE, kind__in=Remedy.REMOTE, delivery__isnull=True,
                      case__redacted_at__isnull=True).first())
    if remedy is None:
        return None
    case = remedy.case
    customer = case.customer
    if customer is None or customer.redacted_at or not customer.email or not case.shop.is_installed:
        return None
    context = {"remedy": remedy, "shop_name": case.shop.name or case.shop.domain,
               "first_name": customer.first_name or "there", "product": case.review.product_title or "your order"}
    subject = (f"Your code from {context['shop_name']}" if remedy.kind == Remedy.Kind.DISCOUNT
               else f"Store credit from {context['shop_name']}")
    try:
        with transaction.atomic():
            message = _message_create(case, subject=subject, body=render_to_string("cases/email/remedy.txt", context).strip(),
                                      actor=SYSTEM_ACTOR, remedy=remedy)
            _first_response(case)
            _log(case, "remedy_delivered", f"{remedy.get_kind_display()} {remedy.code} sent to the customer"
                 .replace("  ", " "), SYSTEM_ACTOR)
    except IntegrityError:  # another worker delivered it first
        return None
    enqueue(case_message_send, message.pk)
    return message


def _mail_domain() -> str:
    return settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].rstrip("> ") or "advocate.localhost"


def case_message_send(message_id: int) -> bool:
    """Job: send one private reply (claimed, so a rerun never sends it twice)."""
    claimed = CaseMessage.objects.filter(pk=message_id, sent_at__isnull=True,
                                         direction=CaseMessage.Direction.OUT).update(sent_at=timezone.now())
    if not claimed:
        return False
    message = CaseMessage.objects.select_related("case__shop", "case__customer").get(pk=message_id)
    case = message.case
    earlier = list(case.messages.filter(direction=CaseMessage.Direction.OUT, pk__lt=message.pk)
                   .exclude(message_id="").values_list("message_id", flat=True))
    headers = {"Message-ID": message.message_id}
    if earlier:
        headers.update({"In-Reply-To": earlier[-1], "References": " ".join(earlier)})
    context = {"shop": case.shop, "message": message, "link": answer_link(case)}
    try:
        sent = email_send(shop=case.shop, audience=Audience.CUSTOMER, customer=case.customer,
                          subject=message.subject or _default_subject(case),
                          text=render_to_string("cases/email/reply.txt", context),
                          html=render_to_string("cases/email/reply.html", context), headers=headers)
    except Exception as exc:
        log.exception("case message %s could not be sent", message_id)
        CaseMessage.objects.filter(pk=message_id).update(sent_at=None, send_error=str(exc)[:300])
        return False
    if not sent:  # erased or uninstalled meanwhile: it stays claimed, so it is never sent later either
        CaseMessage.objects.filter(pk=message_id).update(send_error="not sent: the customer can no longer be emailed")
        return False
    CaseMessage.objects.filter(pk=message_id).update(send_error="")
    return True


def _default_subject(case: Case) -> str:
    return f"About your review of {case.review.product_title or 'your order'}"


def case_customer_answer(*, case: Case, body: str) -> CaseMessage:
    """The customer's answer from the signed page: into the thread, and the case is open again."""
    body = body.strip()
    if not body:
        raise CaseError("Write your answer first.")
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        message = CaseMessage.objects.create(case=case, direction=CaseMessage.Direction.IN, body=body[:5000],
                                             author=CUSTOMER_ACTOR, sent_at=timezone.now())
        _log(case, "customer_answered", "", CUSTOMER_ACTOR)
        if case.status != S.OPEN:
            _move(case, S.OPEN, CUSTOMER_ACTOR)
    return message


def case_public_reply(*, case: Case, text: str, actor: str) -> Review:
    """The public answer under the review (empty text removes it); the reviews app escapes it."""
    review = review_reply(review=case.review, text=text, actor=actor)
    if review.reply:
        _first_response(case)
    _log(case, "replied_public", "removed" if not review.reply else review.reply[:200], actor)
    return review


def case_review_link(case: Case) -> str:
    """The customer's original review link, for after resolution (empty when they have none)."""
    request = case.review.request
    return review_link(request) if request is not None else ""


# --- alerts -------------------------------------------------------------------------

def case_alert_send(case_id: int) -> bool:
    """Job: one alert email per case to the shop's recipients (claimed, so never twice)."""
    case = Case.objects.select_related("shop", "review").filter(pk=case_id).first()
    if case is None:
        return False
    config = CaseSettings.for_shop(case.shop)
    recipients = config.recipients(case.shop)
    if not recipients or config.alert_mode != CaseSettings.AlertMode.AT_ONCE:
        return False
    if not Case.objects.filter(pk=case_id, alerted_at__isnull=True).update(alerted_at=timezone.now()):
        return False
    subject = f"New case: {case.review.rating}★ review of {case.review.product_title or 'a product'}"
    try:
        _owner_email(case.shop, recipients, subject, "cases/email/alert.txt", {"cases": [case], "shop": case.shop})
    except Exception:
        log.exception("alert for case %s could not be sent", case_id)
        Case.objects.filter(pk=case_id).update(alerted_at=None)
        return False
    _log(case, "alert_sent", ", ".join(recipients), SYSTEM_ACTOR)
    return True


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
    cases = list(pending.select_related("review"))
    Case.objects.filter(pk__in=[c.pk for c in cases]).update(alerted_at=now)
    subject = f"{len(cases)} new case{'s' if len(cases) != 1 else ''} in your Advocate inbox"
    try:
        _owner_email(shop, recipients, subject, "cases/email/alert.txt", {"cases": cases, "shop": shop, "digest": True})
    except Exception:
        log.exception("case digest for %s could not be sent", shop.domain)
        Case.objects.filter(pk__in=[c.pk for c in cases]).update(alerted_at=None)
        CaseSettings.objects.filter(pk=config.pk).update(digest_sent_at=config.digest_sent_at)
        return 0
    return len(cases)


def _owner_email(shop: Shop, to: list[str], subject: str, template: str, context: dict) -> None:
    from django.conf import settings as conf

    from shopapp.shopify import shop_url

    context = {**context, "inbox": shop_url(shop.domain, f"/admin/apps/{conf.SHOPIFY_API_KEY}/app/cases/")}
    email_send(shop=shop, audience=Audience.MERCHANT, to=to, subject=subject, text=render_to_string(template, context))


def cases_sweep(now: datetime | None = None) -> None:
    """Re-drive lost alerts and unsent replies; send due digests; retry remedies."""
    from reviews.cases.remedies import remedies_due

    now = now or timezone.now()
    lost = Case.objects.filter(alerted_at__isnull=True, created_at__lte=now - RETRY_AFTER,
                               created_at__gte=now - timedelta(days=2),
                               shop__case_settings__alert_mode=CaseSettings.AlertMode.AT_ONCE,
                               shop__uninstalled_at__isnull=True)
    for pk in list(lost.values_list("pk", flat=True)[:200]):
        case_alert_send(pk)
    digest_shops = Shop.objects.installed().filter(case_settings__alert_mode=CaseSettings.AlertMode.DIGEST,
                                                   cases__alerted_at__isnull=True).distinct()
    for shop in list(digest_shops[:200]):
        case_digest_send(shop=shop, now=now)
    unsent = CaseMessage.objects.filter(direction=CaseMessage.Direction.OUT, sent_at__isnull=True,
                                        created_at__lte=now - RETRY_AFTER, created_at__gte=now - timedelta(days=2),
                                        case__shop__uninstalled_at__isnull=True)
    for pk in list(unsent.values_list("pk", flat=True)[:200]):
        case_message_send(pk)
    remedies_due(now=now)
    # A worker that died between Shopify's answer and remedy_deliver left a done remedy untold.
    untold = Remedy.objects.filter(status=Remedy.Status.DONE, kind__in=Remedy.REMOTE, delivery__isnull=True,
                                   done_at__lte=now - RETRY_AFTER, done_at__gte=now - timedelta(days=2),
                                   case__redacted_at__isnull=True, case__shop__uninstalled_at__isnull=True)
    for pk in list(untold.values_list("pk", flat=True)[:200]):
        remedy_deliver(remedy_id=pk)


# --- marketing pause, privacy -------------------------------------------------------

def case_marketing_block(shop: Shop, customer: Customer) -> str | None:
    """No review reminders, invitations or offers during a case and for 14 days after."""
    since = timezone.now() - MARKETING_PAUSE_DAYS * settings.ADVOCATE_DAY
    cases = Case.objects.filter(shop=shop, customer=customer)
    if cases.filter(Q(status__in=Case.ACTIVE) | Q(ended_at__gte=since)).exists():
        return "has an open case, or one that ended less than 14 days ago"
    return None


def _cases_of(shop: Shop, ref):
    from shopapp.orders import customers_matching

    by_customer = Q(customer__in=customers_matching(shop, ref))
    by_address = Q(messages__to_email=ref.email) if ref.email else Q(pk__in=[])
    return Case.objects.for_shop(shop).filter(by_customer | by_address).distinct()


def cases_export(shop: Shop, ref) -> list[dict]:
    return [
        {"case": c.pk, "status": c.status, "opened": c.created_at.isoformat(), "review_id": c.review_id,
         "rating_at_open": c.rating_at_open,
         "messages": [{"from": m.get_direction_display(), "subject": m.subject, "body": m.body,
                       "at": m.created_at.isoformat()} for m in c.messages.all()],
         "remedies": [{"kind": r.kind, "amount": str(r.amount), "currency": r.currency, "code": r.code,
                       "status": r.status} for r in c.remedies.all()]}
        for c in _cases_of(shop, ref).prefetch_related("messages", "remedies")
    ]


def cases_shop_export(shop: Shop) -> list[dict]:
    """Every case of the shop, for the merchant's full export."""
    return [
        {"case": c.pk, "review_id": c.review_id, "status": c.status, "reason": c.reason, "opened": c.created_at.isoformat(),
         "first_response": c.first_response_at.isoformat() if c.first_response_at else None,
         "rating_at_open": c.rating_at_open, "assignee": c.assignee,
         "messages": [{"direction": m.direction, "subject": m.subject, "body": m.body, "at": m.created_at.isoformat()}
                      for m in c.messages.all()],
         "remedies": [{"kind": r.kind, "amount": str(r.amount), "currency": r.currency, "code": r.code,
                       "status": r.status} for r in c.remedies.all()]}
        for c in Case.objects.for_shop(shop).order_by("pk").prefetch_related("messages", "remedies")
    ]


def cases_redact(shop: Shop, ref) -> None:
    """The customer's words go; the shop's messages keep their shape without the customer's name or address.

    Names come from the messages themselves: another app's redactor may have blanked the
    customer row already.
    """
    cases = list(_cases_of(shop, ref).select_related("customer", "review"))
    for case in cases:
        CaseMessage.objects.filter(case=case, direction=CaseMessage.Direction.IN).update(
            body="[removed at the customer's request]")
        outgoing = list(case.messages.filter(direction=CaseMessage.Direction.OUT))
        names = {ref.email, case.review.display_name} | {m.to_email for m in outgoing}
        for m in outgoing:
            names |= set(m.to_name.split())
        if case.customer:
            names |= {case.customer.first_name, case.customer.last_name, case.customer.email}
        names = sorted({n for n in names if n and len(n) > 1}, key=len, reverse=True)
        for message in outgoing:
            subject, body = message.subject, message.body
            for name in names:
                subject = re.sub(re.escape(name), "[customer]", subject, flags=re.I)
                body = re.sub(re.escape(name), "[customer]", body, flags=re.I)
            CaseMessage.objects.filter(pk=message.pk).update(subject=subject, body=body, to_email="", to_name="")
    Case.objects.filter(pk__in=[c.pk for c in cases]).update(customer=None, redacted_at=timezone.now())
