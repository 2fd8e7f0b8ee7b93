"""The private conversation with the customer: reply templates and their placeholders, the signed
answer link, replies and answers as threaded emails, the remedy's message, and the public reply."""
from __future__ import annotations


import logging
import re
from datetime import timedelta
from email.utils import make_msgid

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _, gettext_noop, pgettext

from reviews.cases.models import Case, CaseMessage, Remedy, ReplyTemplate
from reviews.models import Review
from reviews.requests import review_link
from reviews.services import review_reply
from shopapp.jobs import enqueue
from shopapp.languages import money_format, shopper_language
from shopapp.links import absolute, link_read, link_token
from shopapp.mail import Audience, email_send
from shopapp.models import Shop

from reviews.cases.services import CUSTOMER_ACTOR, SYSTEM_ACTOR, S, CaseError, case_log, case_move, first_response_record

log = logging.getLogger(__name__)

ANSWER_LINK_PURPOSE = "case-answer"
ANSWER_LINK_VALIDITY = timedelta(days=120)

# Subjects and bodies are in the catalogue: a shop that kept them writes to each customer in their language.
DEFAULT_TEMPLATES = [
    ("apology", ReplyTemplate.DEFAULT_NAMES["apology"], gettext_noop("About your review of {product}"), gettext_noop(
        "Hi {first_name},\n\nThank you for telling us about your {product} from order {order}. We are sorry it "
        "fell short. We would like to put it right: {remedy}\n\nThis is yours whatever you do with your review; "
        "you do not need to change or remove it.\n\n{shop}")),
    ("replacement", ReplyTemplate.DEFAULT_NAMES["replacement"], gettext_noop("A replacement for your {product}"), gettext_noop(
        "Hi {first_name},\n\nWe are sorry your {product} from order {order} was not right. We can send you a "
        "replacement at no cost. Use the answer link below to confirm your address, or tell us if you would prefer "
        "something else.\n\nThe replacement does not depend on your review in any way.\n\n{shop}")),
    ("details", ReplyTemplate.DEFAULT_NAMES["details"], gettext_noop("Can you tell us more about your {product}?"), gettext_noop(
        "Hi {first_name},\n\nThank you for your review of {product}. We would like to understand what went "
        "wrong so we can help. Could you tell us a little more, and add a photo if it helps?\n\n{shop}")),
]
_DEFAULT_TEXTS = {key: {"subject": subject, "body": body} for key, _name, subject, body in DEFAULT_TEMPLATES}
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


def reply_template_texts(template: ReplyTemplate, language: str, *, own_version: bool = True) -> tuple[str, str]:
    """(subject, body) of a template for a customer who reads `language`: the merchant's version in it,
    else the built-in default's translation while they kept the default, else their own words
    (`own_version=False`: what it would be without their version in that language)."""
    own = ((template.translations or {}).get(language) or {}) if own_version else {}
    texts = []
    for field in ("subject", "body"):
        value = (own.get(field) or "").strip()
        if not value:
            value = getattr(template, field)
            default = _DEFAULT_TEXTS.get(template.key, {}).get(field)
            if default is not None and value.replace("\r\n", "\n").strip() == default:  # CRLF: as a browser sent it
                with translation.override(language):
                    value = _(default)
        texts.append(value)
    return texts[0], texts[1]


def reply_template_filled(template: ReplyTemplate, case: Case) -> dict:
    """A template's subject and body for this case, in the customer's language, placeholders filled
    (the remedy with the code the shop gave, when there is one)."""
    language = case_language(case)
    with translation.override(language):
        subject, body = reply_template_texts(template, language)
        remedy = case.remedies.filter(status=Remedy.Status.DONE).exclude(code="").last()
        offer = (_("a one-use code, %(code)s, worth %(amount)s.") % {
            "code": remedy.code, "amount": money_format(remedy.amount, remedy.currency)}) if remedy else ""
        return {"subject": template_fill(subject, case), "body": template_fill(body, case, remedy=offer)}


def case_default_subject(case: Case) -> str:
    """The subject of a reply written without a template, in the customer's language."""
    with translation.override(case_language(case)):
        return _default_subject(case)


def template_fill(text: str, case: Case, *, remedy: str = "") -> str:
    """Only the named placeholders (str.format would let a template reach attributes); in the active language."""
    review = case.review
    customer = case.customer
    order = case_order(case)
    nobody = pgettext("the customer's first name in a greeting when it is unknown, as in 'Hi there'", "there")
    values = {"first_name": (customer.first_name if customer and not customer.redacted_at else "") or nobody,
              "product": (review.product_title if review is not None else "")
              or pgettext("in a reply, when the product is unknown", "your order"),
              "order": order.name if order is not None else "",
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


# --- the private conversation -------------------------------------------------------

def case_language(case: Case) -> str:
    """The customer's language: the one they ordered the reviewed product (or the order they scored) in, else
    their latest, else the shop's."""
    return shopper_language(case.shop, order=case_order(case), customer=case.customer)


def case_order(case: Case):
    """The order the case is about: the reviewed line's, or the one the NPS question was asked for (or None)."""
    if case.review_id is None:
        return case.nps_survey.order if case.nps_survey_id else None
    review = case.review
    return review.order_line.order if review.order_line_id else None


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
        raise CaseError(_("This customer left no email address, so a private reply cannot reach them. "
                          "A public reply under the review still can."))
    subject, body = " ".join(subject.split()), body.strip()  # no line breaks in a mail header
    if not body:
        raise CaseError(_("Write a message first."))
    unfilled = unfilled_placeholders(f"{subject}\n{body}")
    if unfilled:
        raise CaseError(_("Replace %(placeholders)s with your own words before sending; nothing was sent.") % {
            "placeholders": ", ".join(f"“{p}”" for p in unfilled)})
    with transaction.atomic():
        message = _message_create(case, subject=subject, body=body, actor=actor)
        first_response_record(case)
        if case.status in (S.NEW, S.OPEN):
            case_move(case, S.WAITING, actor)
        case_log(case, "replied_private", subject[:200], actor)
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
    remedy = (Remedy.objects.select_related("case__shop", "case__customer", "case__review", "case__nps_survey")
              .filter(pk=remedy_id, status=Remedy.Status.DONE, kind__in=Remedy.REMOTE, delivery__isnull=True,
                      case__redacted_at__isnull=True).first())
    if remedy is None:
        return None
    case = remedy.case
    customer = case.customer
    if customer is None or customer.redacted_at or not customer.email or not case.shop.is_installed:
        return None
    with translation.override(case_language(case)):
        context = {"remedy": remedy, "shop_name": case.shop.name or case.shop.domain, "first_name": customer.first_name,
                   "amount": money_format(remedy.amount, remedy.currency), "product": case.review.product_title if case.review_id else "",
                   "nps": case.review_id is None}
        subject = (_("Your code from %(shop)s") if remedy.kind == Remedy.Kind.DISCOUNT
                   else _("Store credit from %(shop)s")) % {"shop": context["shop_name"]}
        body = render_to_string("cases/email/remedy.txt", context).strip()
    try:
        with transaction.atomic():
            message = _message_create(case, subject=subject, body=body, actor=SYSTEM_ACTOR, remedy=remedy)
            first_response_record(case)
            case_log(case, "remedy_delivered", "", SYSTEM_ACTOR, data={"kind": remedy.kind, "code": remedy.code})
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
    context = {"shop": case.shop, "case": case, "message": message, "link": answer_link(case)}
    try:
        with translation.override(case_language(case)):
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
    if case.review_id is None:
        return _("About your feedback")
    if case.review.product_title:
        return _("About your review of %(product)s") % {"product": case.review.product_title}
    return _("About your review of your order")


def case_customer_answer(*, case: Case, body: str) -> CaseMessage:
    """The customer's answer from the signed page: into the thread, and the case is open again."""
    body = body.strip()
    if not body:
        raise CaseError("Write your answer first.")
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        message = CaseMessage.objects.create(case=case, direction=CaseMessage.Direction.IN, body=body[:5000],
                                             author=CUSTOMER_ACTOR, sent_at=timezone.now())
        case_log(case, "customer_answered", "", CUSTOMER_ACTOR)
        if case.status != S.OPEN:
            case_move(case, S.OPEN, CUSTOMER_ACTOR)
    return message


def case_public_reply(*, case: Case, text: str, actor: str) -> Review:
    """The public answer under the review (empty text removes it); the reviews app escapes it."""
    if case.review_id is None:
        raise CaseError(_("This case was opened by an NPS answer, which is private: there is no review to reply "
                          "to in public. Reply privately instead."))
    review = review_reply(review=case.review, text=text, actor=actor)
    if review.reply:
        first_response_record(case)
    case_log(case, "replied_public", review.reply[:200], actor, data={} if review.reply else {"removed": True})
    return review


def case_review_link(case: Case) -> str:
    """The customer's original review link, for after resolution (empty when they have none)."""
    request = case.review.request if case.review_id else None
    return review_link(request) if request is not None else ""
