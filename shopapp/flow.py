"""Shopify Flow: Advocate's triggers (flowTriggerReceive) and its "Pause Advocate emails" action.

A feature reports an event with `flow_trigger_queue()` inside the transaction of the change
itself, so the event exists exactly when the change does. The row's key names the event
(`case-opened:42`): a retried service call or a webhook processed twice queues it once. A job
sends it; the sweep re-drives what a lost job or a clear failure left.

Flow has no idempotency key, and a trigger starts the merchant's workflows (emails, tags,
tasks), so a trigger is never resent blindly: after an answer that does not say whether Flow got
it (a 5xx, a timeout, a worker that died mid-call) the row becomes *uncertain* and is shown on the
activity page instead of being sent again. A failure before Shopify ran anything (no connection,
429 or THROTTLED past the client's own retries, a userError such as a trigger not deployed yet) is
retried with backoff, and after MAX_ATTEMPTS it fails, shown on the same page.

A shop where no enabled workflow starts with the trigger (or without Flow at all) still answers
without userErrors: Flow accepts the trigger and runs nothing, so the row counts as sent. (Flow's
trigger lifecycle callback would let Advocate skip those calls; it is not used.)

Payloads carry Shopify ids and figures only, never names or addresses. A shop that uninstalls
loses its unsent rows; a customer's redaction deletes the unsent ones about them.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from shopapp.admin_api import AdminClient, ShopifyAmbiguous, ShopifyError, ShopifyUserError, ShopNotConnected, ShopUninstalled
from shopapp.errors import stored_message_translate
from shopapp.jobs import backoff, enqueue, enqueue_unqueued
from shopapp.models import EmailPause, FlowTrigger, Shop
from shopapp.shopify import shopify_numeric_id

log = logging.getLogger(__name__)

# Each trigger extension's handle (extensions/advocate-flow-*/shopify.extension.toml) and its fields
# with the type the toml gives them: customer_id and order_id are Flow's reference fields (numeric
# Shopify ids), the others the trigger's own, named as Flow's editor shows them.
TRIGGERS: dict[str, dict[str, str]] = {
    "advocate-negative-review": {"customer_id": "customer_reference", "order_id": "order_reference",
                                 "Rating": "number_integer", "Product": "single_line_text_field"},
    "advocate-case-opened": {"customer_id": "customer_reference", "order_id": "order_reference",
                             "Rating": "number_integer", "Case number": "number_integer"},
    "advocate-case-resolved": {"customer_id": "customer_reference", "order_id": "order_reference",
                               "Outcome": "single_line_text_field", "Case number": "number_integer"},
    "advocate-review-published": {"customer_id": "customer_reference", "order_id": "order_reference",
                                  "Rating": "number_integer", "Verified buyer": "boolean", "Has photos": "boolean",
                                  "Product": "single_line_text_field"},
    "advocate-referral-attributed": {"customer_id": "customer_reference", "order_id": "order_reference",
                                     "Advocate customer id": "number_integer", "Reward amount": "number_decimal",
                                     "Currency": "single_line_text_field"},
    "advocate-reward-issued": {"customer_id": "customer_reference", "order_id": "order_reference",
                               "Reward amount": "number_decimal", "Currency": "single_line_text_field",
                               "Paid as": "single_line_text_field"},
}
# As the trigger extensions name them in Flow's editor, which shows them in English: the activity page
# names a trigger as the merchant finds it there, so these are names, not translated.
NAMES = {
    "advocate-negative-review": "Negative review received", "advocate-case-opened": "Case opened",
    "advocate-case-resolved": "Case resolved", "advocate-review-published": "Review published",
    "advocate-referral-attributed": "Referral attributed", "advocate-reward-issued": "Referral reward issued",
}
PAUSE_ACTION = "advocate-pause-emails"
MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=2)
SWEEP_BATCH = 500

# Why a trigger is not sent (yet), stored in English by the job and shown on the activity page in the
# merchant's language; %(reason)s is Shopify's own words or another of these.
AMBIGUOUS = gettext_noop("no clear answer from Shopify: %(reason)s")
NOT_YET = gettext_noop("not sent yet: %(reason)s")
REFUSED = gettext_noop("Shopify refused it: %(reason)s")
# Translators: %(count)s is always 8 or more.
GAVE_UP = gettext_noop("gave up after %(count)s tries. %(reason)s")
WORKER_STOPPED = gettext_noop("the worker stopped while sending: Flow may or may not have it")
SENT_AGAIN = gettext_noop("sent again at the merchant's request")
ERRORS = (GAVE_UP, AMBIGUOUS, NOT_YET, REFUSED, WORKER_STOPPED, SENT_AGAIN)

RECEIVE = """
mutation AdvocateFlowTrigger($handle: String!, $payload: JSON!) {
  flowTriggerReceive(handle: $handle, payload: $payload) { userErrors { field message } }
}
"""


def _wire_value(field_type: str, value):
    """The value as a JSON payload carries that field type; ValueError for a value of another kind."""
    if field_type == "boolean" and isinstance(value, bool):
        return value
    if field_type in ("customer_reference", "order_reference", "number_integer") and type(value) is int:
        return value
    if field_type == "number_decimal" and isinstance(value, (Decimal, int)) and not isinstance(value, bool):
        return float(value)  # Flow reads a JSON number; two decimals survive the float
    if field_type == "single_line_text_field" and isinstance(value, str):
        return value[:255]
    raise ValueError(f"{value!r} is not a {field_type}")


def _wire_payload(handle: str, payload: dict) -> dict:
    if handle not in TRIGGERS:
        raise ValueError(f"{handle!r} is not one of Advocate's Flow triggers")
    fields = TRIGGERS[handle]
    unknown = set(payload) - set(fields)
    if unknown:
        raise ValueError(f"{handle} carries no field {sorted(unknown)}")
    return {key: _wire_value(fields[key], value) for key, value in payload.items() if value is not None}


def flow_trigger_queue(*, shop: Shop, handle: str, key: str, payload: dict,
                       customer_shopify_id: int | None = None) -> FlowTrigger | None:
    """Record the event (once per key) and send it after the caller's transaction commits.

    `payload` holds the trigger's fields (None: left out, as for a guest's customer_id); money as
    Decimal. ValueError for a field the trigger does not declare or a value of the wrong kind."""
    payload = _wire_payload(handle, payload)
    if not shop.is_installed:
        return None
    try:
        with transaction.atomic():
            row = FlowTrigger.objects.create(shop=shop, key=key[:120], handle=handle, payload=payload,
                                             customer_shopify_id=customer_shopify_id, queued_at=timezone.now())
    except IntegrityError:
        return FlowTrigger.objects.get(shop=shop, key=key[:120])  # the same event again: already queued
    enqueue(flow_trigger_send, row.pk)
    return row


def flow_trigger_send(trigger_id: int, *, now: datetime | None = None) -> str | None:
    """Job: send one trigger, once. Returns the row's new status (None when another worker has it,
    or the shop has uninstalled and the row is gone)."""
    now = now or timezone.now()
    claimed = FlowTrigger.objects.filter(pk=trigger_id, status=FlowTrigger.Status.PENDING).update(
        status=FlowTrigger.Status.SENDING, lease_until=now + LEASE, attempts=F("attempts") + 1)
    if not claimed:
        return None
    row = FlowTrigger.objects.select_related("shop").get(pk=trigger_id)
    if not row.shop.is_installed:
        row.delete()  # uninstalled meanwhile: nobody's workflows to start
        return None
    try:
        AdminClient(row.shop).mutate(RECEIVE, {"handle": row.handle, "payload": row.payload}, field="flowTriggerReceive")
    except ShopifyAmbiguous as exc:
        return _settle(row, FlowTrigger.Status.UNCERTAIN, AMBIGUOUS % {"reason": exc})
    except ShopUninstalled:
        row.delete()  # uninstalled meanwhile: nobody's workflows to start, nothing was sent
        return None
    except ShopNotConnected as exc:  # no token until the merchant's next visit: wait, without counting a try
        return _retry(row, now + backoff(1), NOT_YET % {"reason": exc}, counted=False)
    except ShopifyError as exc:  # refused before anything ran: a userError, no connection, THROTTLED
        why = (REFUSED if isinstance(exc, ShopifyUserError) else NOT_YET) % {"reason": exc}
        if row.attempts >= MAX_ATTEMPTS:
            return _settle(row, FlowTrigger.Status.FAILED, GAVE_UP % {"count": row.attempts, "reason": why})
        return _retry(row, now + backoff(row.attempts), why)
    FlowTrigger.objects.filter(pk=row.pk).update(status=FlowTrigger.Status.SENT, sent_at=timezone.now(),
                                                 lease_until=None, error="")
    return FlowTrigger.Status.SENT


def _retry(row: FlowTrigger, at: datetime, error: str, *, counted: bool = True) -> str:
    FlowTrigger.objects.filter(pk=row.pk, status=FlowTrigger.Status.SENDING).update(
        status=FlowTrigger.Status.PENDING, next_at=at, lease_until=None, queued_at=None, error=error[:255],
        attempts=F("attempts") if counted else F("attempts") - 1)
    return FlowTrigger.Status.PENDING


def _settle(row: FlowTrigger, status: str, error: str) -> str:
    log.warning("flow trigger %s (%s) on %s: %s", row.key, row.handle, row.shop.domain, error)
    FlowTrigger.objects.filter(pk=row.pk).update(status=status, lease_until=None, error=error[:255])
    return status


def flow_triggers_sweep(*, now: datetime | None = None) -> int:
    """Sweeper: send what is due; a send whose worker died mid-call is uncertain, never resent."""
    now = now or timezone.now()
    FlowTrigger.objects.filter(status=FlowTrigger.Status.SENDING, lease_until__lt=now).update(
        status=FlowTrigger.Status.UNCERTAIN, lease_until=None,
        error=WORKER_STOPPED)
    due = FlowTrigger.objects.filter(status=FlowTrigger.Status.PENDING, next_at__lte=now,
                                     shop__uninstalled_at__isnull=True)
    return enqueue_unqueued(due, flow_trigger_send, limit=SWEEP_BATCH)


def flow_uninstalled(shop: Shop) -> None:
    """Uninstall hook: nothing more is sent for the shop."""
    FlowTrigger.objects.filter(shop=shop, status__in=[FlowTrigger.Status.PENDING, FlowTrigger.Status.SENDING]).delete()


def flow_customer_redact(shop: Shop, customer) -> None:
    """Customer data owner: unsent events about them go; sent ones carry only ids Shopify gave."""
    if customer.shopify_id:
        customer_id = int(customer.shopify_id)
        FlowTrigger.objects.filter(shop=shop, customer_shopify_id=customer_id).exclude(
            status=FlowTrigger.Status.SENT).delete()
        EmailPause.objects.filter(shop=shop, customer_shopify_id=customer_id).delete()


def flow_customer_export(shop: Shop, customer) -> dict:
    customer_id = int(customer.shopify_id) if customer.shopify_id else None
    return {
        "flow_events": list(FlowTrigger.objects.filter(shop=shop, customer_shopify_id=customer_id)
                            .values("handle", "status", "created_at", "sent_at")) if customer_id else [],
        "email_pauses": list(EmailPause.objects.filter(shop=shop, customer_shopify_id=customer_id)
                             .values("until", "created_at")) if customer_id else [],
    }


# --- the "Pause Advocate emails" action ------------------------------------------------------

MAX_PAUSE_DAYS = 365


class PauseRefused(ValueError):
    """The action's input cannot pause anyone: the message says why."""


def email_pause_from_flow(*, shop: Shop, body: dict, now: datetime | None = None) -> EmailPause:
    """Record Flow's action run (once per run id): no Advocate marketing email to the customer until it ends."""
    now = now or timezone.now()
    run_id = str(body.get("action_run_id") or "").strip()
    properties = body.get("properties") if isinstance(body.get("properties"), dict) else {}
    customer_id = shopify_numeric_id(str(properties.get("customer_id") or ""), kind="Customer")
    try:
        days = int(properties.get("days", 30))
    except (TypeError, ValueError):
        days = 0
    if not run_id:
        raise PauseRefused("action_run_id is missing.")
    if customer_id is None:
        raise PauseRefused("customer_id must be the customer's Shopify id.")
    if not 1 <= days <= MAX_PAUSE_DAYS:
        raise PauseRefused(f"days must be between 1 and {MAX_PAUSE_DAYS}.")
    try:
        with transaction.atomic():
            return EmailPause.objects.create(shop=shop, customer_shopify_id=customer_id, action_run_id=run_id[:120],
                                             until=now + timedelta(days=days))
    except IntegrityError:
        return EmailPause.objects.get(shop=shop, action_run_id=run_id[:120])  # Flow retried the same run


def email_pause_reason(shop: Shop, customer, now: datetime | None = None) -> str | None:
    """Marketing blocker: a Flow action paused this customer's emails and the pause has not ended."""
    if not customer.shopify_id:
        return None
    now = now or timezone.now()
    pause = (EmailPause.objects.filter(shop=shop, customer_shopify_id=customer.shopify_id, until__gt=now)
             .order_by("-until").first())
    # Stored in English as a skip reason and translated where shown, so it names no date (it would also
    # split one reason into one per day in the look-back and campaign previews).
    return gettext_noop("paused by a Shopify Flow workflow") if pause else None


def flow_activity(shop: Shop) -> list[FlowTrigger]:
    """Triggers the merchant should know about: not known to have reached Flow, or refused."""
    rows = list(FlowTrigger.objects.filter(shop=shop).filter(
        Q(status=FlowTrigger.Status.UNCERTAIN) | Q(status=FlowTrigger.Status.FAILED)).order_by("-created_at")[:20])
    for row in rows:
        row.name = NAMES.get(row.handle, row.handle)
        row.why = stored_message_translate(row.error, ERRORS)
    return rows


def flow_trigger_resend(*, shop: Shop, trigger_id: int) -> bool:
    """The merchant checked their workflow's runs in Flow and asks for an uncertain trigger again."""
    resent = FlowTrigger.objects.filter(pk=trigger_id, shop=shop, status=FlowTrigger.Status.UNCERTAIN).update(
        status=FlowTrigger.Status.PENDING, next_at=timezone.now(), queued_at=timezone.now(),
        error=SENT_AGAIN)
    if resent:
        enqueue(flow_trigger_send, trigger_id)
    return bool(resent)
