"""The marketing pause while a customer's case is open, and the customer's cases in exports and redaction."""
from __future__ import annotations


import logging
import re

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from reviews.cases.models import Case, CaseMessage
from reviews.cases.pause import pause_redact
from shopapp.models import Customer, Shop
from shopapp.orders import customers_matching

from reviews.cases.services import MARKETING_PAUSE_DAYS

log = logging.getLogger(__name__)

# --- marketing pause, privacy -------------------------------------------------------

def case_marketing_block(shop: Shop, customer: Customer) -> str | None:
    """No review reminders, invitations or offers during a case and for 14 days after."""
    since = timezone.now() - MARKETING_PAUSE_DAYS * settings.ADVOCATE_DAY
    cases = Case.objects.filter(shop=shop, customer=customer)
    if cases.filter(Q(status__in=Case.ACTIVE) | Q(ended_at__gte=since)).exists():
        return gettext_noop("has an open case, or one that ended less than 14 days ago")
    return None


def _cases_of(shop: Shop, ref):
    by_customer = Q(customer__in=customers_matching(shop, ref))
    by_address = Q(messages__to_email=ref.email) if ref.email else Q(pk__in=[])
    return Case.objects.for_shop(shop).filter(by_customer | by_address).distinct()


def cases_export(shop: Shop, ref) -> list[dict]:
    return [
        {"case": c.pk, "status": c.status, "opened": c.created_at.isoformat(), "review_id": c.review_id,
         "nps_answer_id": c.nps_survey_id, "rating_at_open": c.rating_at_open,
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
    pause_redact(shop, customers_matching(shop, ref))  # the tag and metafield in Shopify come off too
    cases = list(_cases_of(shop, ref).select_related("customer", "review"))
    for case in cases:
        CaseMessage.objects.filter(case=case, direction=CaseMessage.Direction.IN).update(
            body="[removed at the customer's request]")
        outgoing = list(case.messages.filter(direction=CaseMessage.Direction.OUT))
        names = {ref.email, case.review.display_name if case.review_id else ""} | {m.to_email for m in outgoing}
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
