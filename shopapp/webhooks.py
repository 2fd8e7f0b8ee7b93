"""Webhook intake and processing.

Intake verifies the HMAC on the raw body with Shopify's library, stores one row per
(shop, topic, event) and answers at once; a job processes the row later. With Redis, each
worker hands its stored events to the queue in batches (`WEBHOOK_DISPATCH_MS`): one job for
many events instead of two Redis transactions per webhook on the hot path.
"""
from __future__ import annotations

import atexit
import hashlib
import logging
from contextlib import nullcontext
from datetime import timedelta
from functools import lru_cache
from typing import Any, Callable

from django.conf import settings
from django.db import DataError, IntegrityError, connection, transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from shopapp.admin_api import ShopNotConnected
from shopapp.behind import Behind
from shopapp.jobs import enqueue, register_sweeper
from shopapp.models import Shop, WebhookEvent
from shopapp.shopify import clean_shop_domain, shopify_app

log = logging.getLogger(__name__)

Handler = Callable[[Shop | None, dict, WebhookEvent], Any]
_handlers: dict[str, list[Handler]] = {}

# Topics whose handler must run even when the shop row is gone or uninstalled.
_SHOPLESS_TOPICS = {"shop/redact", "customers/redact", "customers/data_request", "app/uninstalled"}

# An event that needs a shop with no usable token waits, uncounted; reconnecting re-drives
# it at once (webhook_events_resume), and this re-check covers a reconnect it raced with.
WAITING_FOR_SHOP = "Waiting for the shop to reconnect: "
CONNECT_RECHECK = timedelta(hours=1)


def webhook_handler(topic: str) -> Callable[[Handler], Handler]:
    """Register `func(shop, payload, event)` for a topic; apps call this from ready()."""

    def register(func: Handler) -> Handler:
        _handlers.setdefault(topic, [])
        if func not in _handlers[topic]:
            _handlers[topic].append(func)
        return func

    return register


def registered_topics() -> list[str]:
    return sorted(_handlers)


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


class _Dispatch(Behind):
    """This worker's stored events, handed to the job queue in batches."""

    def delay_ms(self) -> int:
        batching = settings.REDIS_URL and not settings.JOBS_INLINE
        return settings.WEBHOOK_DISPATCH_MS if batching else 0

    def write(self, event_ids: list[int]) -> None:
        if len(event_ids) == 1:
            enqueue(webhook_event_process, event_ids[0])
        else:
            enqueue(webhook_events_process, event_ids)


_dispatch = _Dispatch("webhook-dispatch")
atexit.register(_dispatch.flush)


def _event_store(*, domain: str, topic: str, body: str, headers) -> int | None:
    """Insert the row; its id when it waits for processing, None when this event was
    stored before (a repeated delivery) or has nothing to process (ignored, failed)."""
    webhook_id = headers.get("X-Shopify-Webhook-Id", "")
    event_key = headers.get("X-Shopify-Event-Id") or webhook_id or hashlib.sha256(body.encode()).hexdigest()
    handled = topic in _handlers
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
    """Job: claim the event, run its handlers, record the outcome. Safe to run twice."""
    now = timezone.now()
    claimed = WebhookEvent.objects.filter(
        pk=event_id, status__in=[WebhookEvent.Status.RECEIVED, WebhookEvent.Status.FAILED], payload__isnull=False
    ).update(status=WebhookEvent.Status.PROCESSING, started_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return
    event = WebhookEvent.objects.get(pk=event_id)
    shop = Shop.objects.filter(domain=event.shop_domain).first()
    try:
        if shop is None and event.topic not in _SHOPLESS_TOPICS:
            raise LookupError(f"No shop {event.shop_domain} is known to Advocate")
        with transaction.atomic():
            for handler in _handlers.get(event.topic, []):
                handler(shop, event.payload, event)
    except ShopNotConnected as exc:
        WebhookEvent.objects.filter(pk=event.pk).update(
            status=WebhookEvent.Status.FAILED, attempts=F("attempts") - 1,
            last_error=f"{WAITING_FOR_SHOP}{exc}"[:2000], finished_at=timezone.now(),
            next_attempt_at=timezone.now() + CONNECT_RECHECK,
        )
        return
    except Exception as exc:
        log.warning("webhook %s %s failed: %s", event.topic, event.pk, exc)
        retry = event.attempts < settings.WEBHOOK_MAX_ATTEMPTS
        WebhookEvent.objects.filter(pk=event.pk).update(
            status=WebhookEvent.Status.FAILED,
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
            next_attempt_at=timezone.now() + _backoff(event.attempts) if retry else None,
        )
        return
    WebhookEvent.objects.filter(pk=event.pk).update(
        status=WebhookEvent.Status.DONE, last_error="", finished_at=timezone.now(), next_attempt_at=None
    )


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 6 * 3600))


def webhook_events_resume(shop: Shop, *, reinstalled: bool) -> int:
    """Reconnect hook: the shop's events that waited for a token are due now."""
    return WebhookEvent.objects.filter(
        shop_domain=shop.domain, status=WebhookEvent.Status.FAILED, last_error__startswith=WAITING_FOR_SHOP,
    ).update(next_attempt_at=timezone.now())


@register_sweeper
def webhook_events_redrive() -> int:
    """Re-enqueue events whose job was lost, and failed ones whose retry is due."""
    now = timezone.now()
    S = WebhookEvent.Status
    # A worker killed mid-event leaves it in processing; give it back after a while.
    WebhookEvent.objects.filter(status=S.PROCESSING, started_at__lt=now - timedelta(minutes=10)).update(
        status=S.RECEIVED
    )
    due = list(
        WebhookEvent.objects.filter(status=S.RECEIVED, received_at__lt=now - timedelta(seconds=30))
        .values_list("pk", flat=True)[:500]
    ) + list(
        WebhookEvent.objects.filter(status=S.FAILED, next_attempt_at__lte=now, payload__isnull=False)
        .values_list("pk", flat=True)[:500]
    )
    for pk in due:
        enqueue(webhook_event_process, pk)
    return len(due)
