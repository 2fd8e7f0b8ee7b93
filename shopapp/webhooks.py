"""Webhook intake and processing.

Intake verifies the HMAC on the raw body with Shopify's library, stores one row per
(shop, topic, event) and answers at once; a job processes the row later. With Redis, each
worker hands its stored events to the queue in batches (`WEBHOOK_BATCH_MAX_WAIT_MS`): one job for
many events instead of two Redis transactions per webhook on the hot path.
"""
from __future__ import annotations

import atexit
import hashlib
import logging
from contextlib import nullcontext
from datetime import timedelta
from functools import lru_cache

from django.conf import settings
from django.db import DataError, IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from shopapp import registry
from shopapp.admin_api import ShopNotConnected
from shopapp.batcher import WriteBehindBatcher
from shopapp.jobs import backoff, enqueue, enqueue_unqueued
from shopapp.models import Order, Shop, WebhookEvent
from shopapp.shopify import clean_shop_domain, shopify_app

log = logging.getLogger(__name__)

# Topics whose handler must run even when the shop row is gone or uninstalled.
_SHOPLESS_TOPICS = {"shop/redact", "customers/redact", "customers/data_request", "app/uninstalled"}

# An event that needs a shop with no usable token waits, uncounted; reconnecting re-drives
# it at once (webhook_events_resume), and this re-check covers a reconnect it raced with.
WAITING_FOR_SHOP = "Waiting for the shop to reconnect: "
CONNECT_RECHECK = timedelta(hours=1)


class AwaitingOrder(LookupError):
    """The event is about an order not stored yet (its orders/create is late): park it, do not fail it."""

    def __init__(self, order_id: int) -> None:
        self.order_id = order_id
        super().__init__(f"order {order_id} is not known yet (its orders/create has not arrived)")


@csrf_exempt
@require_POST
def webhook_receive(request: HttpRequest) -> HttpResponse:
    """The one endpoint for every topic: verify, store once, answer in milliseconds."""
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > settings.WEBHOOK_MAX_BODY:
        return HttpResponse("Payload too large", status=413)
    try:
        body = request.body.decode("utf-8")
    except UnicodeDecodeError:
        return HttpResponse("Body is not UTF-8", status=400)
    if len(body) > settings.WEBHOOK_MAX_BODY:
        return HttpResponse("Payload too large", status=413)

    result = shopify_app().verify_webhook_req(
        {"method": request.method, "headers": dict(request.headers), "url": request.build_absolute_uri(), "body": body}
    )
    if not result.ok:
        # Missing or bad signature: nothing is stored.
        status = 401 if result.response.status in (400, 401) else result.response.status
        return HttpResponse(result.response.body or "Unauthorized", status=status)

    headers = request.headers
    domain = clean_shop_domain(headers.get("X-Shopify-Shop-Domain"))
    topic = headers.get("X-Shopify-Topic", "").strip()
    if not domain or not topic:
        return HttpResponse("Missing shop domain or topic header", status=400)

    pk = _event_store(domain=domain, topic=topic, body=body, headers=headers)
    if pk is not None:
        transaction.on_commit(lambda: _dispatch.add(pk))
    return HttpResponse(status=200)


class _Dispatch(WriteBehindBatcher):
    """This worker's stored events, handed to the job queue in batches."""

    def max_wait_ms(self) -> int:
        batching = settings.REDIS_URL and not settings.JOBS_INLINE
        return settings.WEBHOOK_BATCH_MAX_WAIT_MS if batching else 0

    def write(self, event_ids: list[int]) -> None:
        if len(event_ids) == 1:
            enqueue(webhook_event_process, event_ids[0])
        else:
            enqueue(webhook_events_process, event_ids)
        # Marked once handed over (one UPDATE a batch): the sweep leaves them to the queue. A batch a
        # killed worker never handed over stays unmarked, and the sweep queues it after 30 s.
        WebhookEvent.objects.filter(pk__in=event_ids, status=WebhookEvent.Status.RECEIVED).update(
            queued_at=timezone.now())


_dispatch = _Dispatch("webhook-dispatch")
atexit.register(_dispatch.flush)


def _event_store(*, domain: str, topic: str, body: str, headers) -> int | None:
    """Insert the row; its id when it waits for processing, None when this event was
    stored before (a repeated delivery) or has nothing to process (ignored, failed)."""
    webhook_id = headers.get("X-Shopify-Webhook-Id", "")
    event_key = headers.get("X-Shopify-Event-Id") or webhook_id or hashlib.sha256(body.encode()).hexdigest()
    handled = bool(registry.webhook_handlers(topic))
    row = {
        "shop_domain": domain,
        "topic": topic,
        "event_key": event_key[:100],
        "webhook_id": webhook_id[:100],
        "api_version": headers.get("X-Shopify-API-Version", "")[:20],
        "triggered_at": headers.get("X-Shopify-Triggered-At", "")[:40],
        "payload": body,
        "raw_body": "",
        "status": WebhookEvent.Status.RECEIVED if handled else WebhookEvent.Status.IGNORED,
        "attempts": 0,
        "last_error": "" if handled else "No handler for this topic",
        "received_at": timezone.now(),
    }
    # JSON text never holds a raw NUL (only the escape \u0000), and database text cannot.
    refusal = "it holds a NUL character" if "\x00" in body else None
    if refusal is None:
        try:
            pk = _insert_once(row)
        except (DataError, IntegrityError) as exc:
            # The database's JSON parser refused it (PostgreSQL's jsonb, SQLite's JSON_VALID
            # check): malformed, or JSON that jsonb cannot hold (NaN, \u0000).
            refusal = str(exc).strip()
    if refusal is not None:
        # Kept as text, failed, for someone to look at: answered 200, never lost.
        row.update(payload=None, raw_body=body.replace("\x00", "\ufffd"), status=WebhookEvent.Status.FAILED,
                   last_error=f"Body is not valid JSON: {refusal}"[:2000])
        pk = _insert_once(row)
    return pk if row["status"] == WebhookEvent.Status.RECEIVED else None


_INSERT_COLUMNS = (
    "shop_domain", "topic", "event_key", "webhook_id", "api_version", "triggered_at",
    "payload", "raw_body", "status", "attempts", "last_error", "received_at",
)


def _insert_once(row: dict) -> int | None:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id: one round trip on the hot path.

    The ORM's create() would need a savepoint and an IntegrityError to learn the same
    thing, which triples the database round trips per webhook. The body goes in as the
    text Shopify sent, and the database's JSON parser is the one that checks it.
    """
    adapt = connection.ops.adapt_datetimefield_value
    values = [adapt(row[name]) if name == "received_at" else row[name] for name in _INSERT_COLUMNS]
    # A refused body fails the statement; inside a transaction (a caller's, or a test's)
    # a savepoint keeps that from breaking the transaction. On the hot path there is none.
    with transaction.atomic() if connection.in_atomic_block else nullcontext():
        with connection.cursor() as cursor:
            cursor.execute(_insert_sql(connection.vendor), values)
            found = cursor.fetchone()
    return found[0] if found else None


@lru_cache(maxsize=None)
def _insert_sql(vendor: str) -> str:
    """The intake's INSERT, written once per database vendor instead of per webhook."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(name) for name in _INSERT_COLUMNS)
    marks = ", ".join("%s::jsonb" if name == "payload" and vendor == "postgresql" else "%s" for name in _INSERT_COLUMNS)
    return (f"INSERT INTO {quote(WebhookEvent._meta.db_table)} ({columns}) VALUES ({marks}) "
            "ON CONFLICT (shop_domain, topic, event_key) DO NOTHING RETURNING id")


def webhook_events_process(event_ids: list[int]) -> None:
    """Job: process a batch of events one by one (each is claimed and recorded on its own)."""
    for event_id in event_ids:
        try:
            webhook_event_process(event_id)
        except Exception:  # the event stays claimed or received; the sweep gives it back
            log.exception("webhook event %s could not be processed", event_id)


def webhook_event_process(event_id: int) -> None:
    """Job: claim the event, run its handlers, record the outcome. Safe to run twice, never twice at once.

    The claim (a conditional UPDATE) takes a received, failed or abandoned event and counts
    the attempt; then the worker holds the row locked until it records the outcome. A second
    worker can neither claim it (the lease is live, or its UPDATE waits on the lock and then
    finds the event done) nor record over it (the attempt number is the claim's token). A
    killed worker's lock goes with its connection, so its event is free once the short lease
    ends, however long a live worker's job may take."""
    now = timezone.now()
    S = WebhookEvent.Status
    claimed = WebhookEvent.objects.filter(
        Q(status__in=[S.RECEIVED, S.FAILED]) | Q(status=S.PROCESSING, lease_until__lt=now),
        pk=event_id, payload__isnull=False,
    ).update(status=S.PROCESSING, started_at=now, attempts=F("attempts") + 1, queued_at=None,
             lease_until=now + timedelta(seconds=settings.JOB_LEASE_SECONDS))
    if not claimed:
        return
    attempt = WebhookEvent.objects.values_list("attempts", flat=True).get(pk=event_id)
    with transaction.atomic():
        event = (WebhookEvent.objects.select_for_update()
                 .filter(pk=event_id, status=S.PROCESSING, attempts=attempt).first())
        if event is None:
            return  # another worker took it over after our lease ran out
        _event_run(event)


def _event_run(event: WebhookEvent) -> None:
    """Run the handlers in a savepoint and record what happened, inside the caller's lock."""
    S = WebhookEvent.Status
    mine = WebhookEvent.objects.filter(pk=event.pk, attempts=event.attempts)
    shop = Shop.objects.filter(domain=event.shop_domain).first()
    try:
        if shop is None and event.topic not in _SHOPLESS_TOPICS:
            raise LookupError(f"No shop {event.shop_domain} is known to Advocate")
        with transaction.atomic():
            for handler in registry.webhook_handlers(event.topic):
                handler(shop, event.payload, event)
    except AwaitingOrder as exc:
        # Out of order: wait for the parent without spending an attempt. The order's own
        # webhook wakes it; if that never comes, the sweep fetches the order from Shopify.
        mine.update(status=S.WAITING, awaits_order_id=exc.order_id, attempts=F("attempts") - 1,
                    last_error=str(exc)[:2000], finished_at=timezone.now(), lease_until=None,
                    next_attempt_at=timezone.now() + timedelta(seconds=settings.WEBHOOK_AWAIT_FETCH_SECONDS))
        return
    except ShopNotConnected as exc:
        mine.update(
            status=S.FAILED, attempts=F("attempts") - 1,
            last_error=f"{WAITING_FOR_SHOP}{exc}"[:2000], finished_at=timezone.now(), lease_until=None,
            next_attempt_at=timezone.now() + CONNECT_RECHECK,
        )
        return
    except Exception as exc:
        log.warning("webhook %s %s failed: %s", event.topic, event.pk, exc)
        retry = event.attempts < settings.WEBHOOK_MAX_ATTEMPTS
        mine.update(
            status=S.FAILED,
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
            lease_until=None,
            next_attempt_at=timezone.now() + backoff(event.attempts) if retry else None,
        )
        return
    mine.update(status=S.DONE, last_error="", finished_at=timezone.now(), next_attempt_at=None, lease_until=None)


def webhook_events_wake(*, shop: Shop, order_id: int) -> int:
    """The order is stored now: the events waiting for it go back to the queue (after commit)."""
    S = WebhookEvent.Status
    waiting = list(WebhookEvent.objects.filter(shop_domain=shop.domain, status=S.WAITING, awaits_order_id=order_id)
                   .values_list("pk", flat=True))
    WebhookEvent.objects.filter(pk__in=waiting, status=S.WAITING).update(
        status=S.RECEIVED, awaits_order_id=None, next_attempt_at=None, queued_at=timezone.now())
    for pk in waiting:
        enqueue(webhook_event_process, pk)
    return len(waiting)


def webhook_events_resume(shop: Shop, *, reinstalled: bool) -> int:
    """Reconnect hook: the shop's events that waited for a token are due now."""
    return WebhookEvent.objects.filter(
        shop_domain=shop.domain, status=WebhookEvent.Status.FAILED, last_error__startswith=WAITING_FOR_SHOP,
    ).update(next_attempt_at=timezone.now())


def webhook_events_redrive() -> int:
    """Sweeper: queue events whose job was lost, failed ones whose retry is due, abandoned claims,
    and waiting ones whose order has been stored meanwhile; each at most once per hold."""
    now = timezone.now()
    S = WebhookEvent.Status
    stored = Order.objects.filter(shop__domain=OuterRef("shop_domain"), shopify_id=OuterRef("awaits_order_id"))
    WebhookEvent.objects.filter(Exists(stored), status=S.WAITING).update(
        status=S.RECEIVED, awaits_order_id=None, next_attempt_at=None, queued_at=None)
    with transaction.atomic():
        # An event whose worker died on every attempt (it kills them: memory, a timeout) fails
        # visibly instead of killing one more each minute. Rows a live worker holds are skipped.
        poison = list(WebhookEvent.objects.select_for_update(skip_locked=True).filter(
            status=S.PROCESSING, lease_until__lt=now, attempts__gte=settings.WEBHOOK_MAX_ATTEMPTS,
        ).values_list("pk", flat=True))
        WebhookEvent.objects.filter(pk__in=poison).update(
            status=S.FAILED, lease_until=None, next_attempt_at=None, finished_at=now,
            last_error=f"its worker stopped during each of {settings.WEBHOOK_MAX_ATTEMPTS} attempts")
    due = WebhookEvent.objects.filter(
        Q(status=S.RECEIVED, received_at__lt=now - timedelta(seconds=30))
        | Q(status=S.FAILED, next_attempt_at__lte=now)
        | Q(status=S.PROCESSING, lease_until__lt=now),  # its worker died (a live one holds the lock)
        payload__isnull=False,
    )
    return enqueue_unqueued(due, webhook_event_process)


def webhook_events_awaiting(*, due_only: bool = True):
    """Events parked for an order (due: waited long enough that the order should be fetched)."""
    waiting = WebhookEvent.objects.filter(status=WebhookEvent.Status.WAITING)
    return waiting.filter(next_attempt_at__lte=timezone.now()) if due_only else waiting


def webhook_event_give_up(event: WebhookEvent, reason: str) -> None:
    """A waiting event whose order never came: failed and visible, for someone to look at."""
    WebhookEvent.objects.filter(pk=event.pk, status=WebhookEvent.Status.WAITING).update(
        status=WebhookEvent.Status.FAILED, last_error=reason[:2000], next_attempt_at=None, finished_at=timezone.now())
