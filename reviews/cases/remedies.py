"""Remedies: a one-use discount code, store credit, or a note of a refund or replacement.

The intent is a row first; a job does the Shopify call through shopapp.discounts. A retry
never gives twice: a discount code is chosen up front and looked up before it is created
again; store credit is settled against Shopify's own transactions, one to one, before it is
ever sent again. No remedy is ever
conditioned on the review: the wording everywhere says so.
"""
from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from reviews.cases.models import Case, Remedy
from reviews.cases.conversation import remedy_deliver
from reviews.cases.services import CaseError, case_log
from shopapp.admin_api import ShopifyError, ShopifyUserError, ShopNotConnected
from shopapp.discounts import credit_once, discount_ensure, personal_code_input, retry_backoff
from shopapp.jobs import enqueue
from shopapp.webhooks import CONNECT_RECHECK

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _code() -> str:
    return "SORRY-" + "".join(secrets.choice(CODE_ALPHABET) for _position in range(8))


def remedy_offer(*, case: Case, kind: str, amount: Decimal, note: str, actor: str) -> Remedy:
    """Record the remedy; discount codes and store credit are then made in Shopify by a job."""
    if kind not in Remedy.Kind.values:
        raise CaseError(_("Choose what you are giving."))
    if amount is None or amount < 0 or (kind in Remedy.REMOTE and amount <= 0):
        raise CaseError(_("Enter an amount greater than zero."))
    customer = case.customer
    if kind in Remedy.REMOTE and (customer is None or customer.shopify_id is None or customer.redacted_at):
        raise CaseError(_("This customer has no Shopify customer account (a guest checkout), so a code or store "
                          "credit cannot be tied to them. Record a refund or replacement instead."))
    with transaction.atomic():
        remedy = Remedy.objects.create(
            case=case, kind=kind, amount=amount.quantize(Decimal("0.01")), currency=case.shop.currency,
            code=_code() if kind == Remedy.Kind.DISCOUNT else "", note=note.strip()[:300], actor=actor[:100],
            status=Remedy.Status.PENDING if kind in Remedy.REMOTE else Remedy.Status.DONE,
            done_at=None if kind in Remedy.REMOTE else timezone.now(),
        )
        case_log(case, "remedy", "", actor, data={"kind": remedy.kind, "amount": str(remedy.amount),
                                                  "currency": remedy.currency})
    if kind in Remedy.REMOTE:
        enqueue(remedy_apply_job, remedy.pk)
    return remedy


def remedy_apply_job(remedy_id: int) -> None:
    remedy_apply(remedy_id=remedy_id)


def remedy_apply(*, remedy_id: int, now: datetime | None = None) -> Remedy | None:
    """Do the remedy in Shopify once: claimed by a conditional UPDATE, then created or adopted."""
    now = now or timezone.now()
    claimed = Remedy.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        pk=remedy_id, kind__in=Remedy.REMOTE, attempts__lt=MAX_ATTEMPTS,
        status__in=[Remedy.Status.PENDING, Remedy.Status.SENDING, Remedy.Status.FAILED],
    ).exclude(status=Remedy.Status.FAILED, next_attempt_at__isnull=True).update(
        status=Remedy.Status.SENDING, attempts=F("attempts") + 1, next_attempt_at=now + retry_backoff(1))
    if not claimed:
        return None
    remedy = Remedy.objects.select_related("case__shop", "case__customer").get(pk=remedy_id)
    Remedy.objects.filter(pk=remedy.pk).update(next_attempt_at=now + retry_backoff(remedy.attempts))
    try:
        shopify_id = _discount(remedy) if remedy.kind == Remedy.Kind.DISCOUNT else _credit(remedy, now)
    except ShopifyUserError as exc:  # Shopify refused the input: retrying would not help
        return _failed(remedy, str(exc), retry=False)
    except ShopNotConnected as exc:  # nothing was sent; waiting for a token is not an attempt
        Remedy.objects.filter(pk=remedy.pk).update(attempts=F("attempts") - 1, error=str(exc)[:500],
                                                   next_attempt_at=now + CONNECT_RECHECK)
        return None
    except ShopifyError as exc:
        return _failed(remedy, str(exc), retry=remedy.attempts < MAX_ATTEMPTS)
    Remedy.objects.filter(pk=remedy.pk).update(status=Remedy.Status.DONE, shopify_id=shopify_id[:120], error="",
                                               done_at=timezone.now(), next_attempt_at=None)
    case_log(remedy.case, "remedy_done", "", "Advocate", data={"kind": remedy.kind, "code": remedy.code})
    remedy_deliver(remedy_id=remedy.pk)
    remedy.refresh_from_db()
    return remedy


def _discount(remedy: Remedy) -> str:
    case = remedy.case
    data = personal_code_input(code=remedy.code, title=f"Case {case.pk}: {remedy.code}",
                               customer_gid=case.customer.gid, amount=remedy.amount)
    # A retry may follow a create Shopify applied but whose answer was lost.
    return discount_ensure(shop=case.shop, data=data, look_first=remedy.attempts > 1)


def _credit(remedy: Remedy, now: datetime) -> str:
    case = remedy.case
    return credit_once(shop=case.shop, key=f"remedy:{remedy.pk}", customer_gid=case.customer.gid,
                       amount=remedy.amount, currency=remedy.currency, now=now)


def _failed(remedy: Remedy, error: str, *, retry: bool) -> Remedy:
    # Without a next attempt, the sweep leaves it alone until the merchant tries again.
    Remedy.objects.filter(pk=remedy.pk).update(status=Remedy.Status.FAILED, error=error[:500],
                                               **({} if retry else {"next_attempt_at": None}))
    case_log(remedy.case, "remedy_failed", "", "Advocate", data={"kind": remedy.kind, "error": error[:200]})
    remedy.refresh_from_db()
    return remedy


def remedy_retry(*, remedy: Remedy, actor: str) -> Remedy:
    """The merchant's "try again" on a failed remedy."""
    if remedy.status != Remedy.Status.FAILED:
        raise CaseError(_("Only a remedy that failed can be tried again."))
    Remedy.objects.filter(pk=remedy.pk).update(next_attempt_at=None, attempts=0, status=Remedy.Status.PENDING)
    case_log(remedy.case, "remedy_retry", "", actor, data={"kind": remedy.kind})
    enqueue(remedy_apply_job, remedy.pk)
    remedy.refresh_from_db()
    return remedy


def remedies_due(*, now: datetime | None = None) -> int:
    """Sweeper part: remedies whose job was lost or whose last attempt failed for a passing reason."""
    now = now or timezone.now()
    due = Remedy.objects.filter(
        Q(status=Remedy.Status.PENDING, created_at__lte=now - timedelta(minutes=2), next_attempt_at__isnull=True)
        | Q(status__in=[Remedy.Status.SENDING, Remedy.Status.FAILED], next_attempt_at__lte=now),
        kind__in=Remedy.REMOTE, attempts__lt=MAX_ATTEMPTS, case__shop__uninstalled_at__isnull=True,
    ).values_list("pk", flat=True)[:200]
    ids = list(due)
    for pk in ids:
        remedy_apply(remedy_id=pk, now=now)
    return len(ids)
