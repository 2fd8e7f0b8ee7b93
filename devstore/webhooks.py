"""Webhook delivery as Shopify does it: signed, with its headers, retried with backoff.

Modes for tests: "normal"; "duplicate" sends every webhook twice (same webhook id, as a
Shopify retry after a lost acknowledgement looks); "out_of_order" holds each shop's
webhooks briefly and sends them newest first.
"""
from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import itertools
import threading
import time

import httpx

from devstore.state import Delivery, Store

MAX_ATTEMPTS = 8
HOLD_SECONDS = 0.5


def sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def headers_for(delivery: Delivery, secret: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "Shopify-Captain-Hook",
        "X-Shopify-Topic": delivery.topic,
        "X-Shopify-Hmac-Sha256": sign(delivery.body, secret),
        "X-Shopify-Shop-Domain": delivery.shop,
        "X-Shopify-API-Version": delivery.api_version,
        "X-Shopify-Webhook-Id": delivery.id,
        "X-Shopify-Event-Id": delivery.event_id,
        "X-Shopify-Triggered-At": delivery.triggered_at,
    }


class Deliverer:
    """One thread that sends due webhooks; retries wait retry_base * 2**attempt seconds."""

    def __init__(self, store: Store, *, retry_base: float = 1.0, timeout: float = 5.0) -> None:
        self.store = store
        self.retry_base = retry_base
        self.mode = "normal"
        self.max_attempts = MAX_ATTEMPTS
        self._queue: list[tuple[float, int, Delivery]] = []
        self._held: list[Delivery] = []
        self._held_since = 0.0
        self._seq = itertools.count()
        self._cv = threading.Condition()
        self._busy = 0
        self._stop = False
        self._client = httpx.Client(timeout=timeout)
        self._thread = threading.Thread(target=self._loop, name="devstore-webhooks", daemon=True)
        store.listeners.append(self.add)
        self._thread.start()

    def add(self, delivery: Delivery) -> None:
        with self._cv:
            if self.mode == "out_of_order":
                if not self._held:
                    self._held_since = time.monotonic()
                self._held.append(delivery)
            else:
                self._push(delivery, time.monotonic())
                if self.mode == "duplicate":
                    twin = Delivery(**{**delivery.__dict__, "responses": []})
                    twin.duplicate_of = delivery.id  # type: ignore[attr-defined]
                    self._push(twin, time.monotonic() + 0.05)
            self._cv.notify()

    def _push(self, delivery: Delivery, when: float) -> None:
        heapq.heappush(self._queue, (when, next(self._seq), delivery))

    def idle(self) -> bool:
        with self._cv:
            return not self._queue and not self._held and not self._busy

    def wait_idle(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.idle():
                return True
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        with self._cv:
            self._stop = True
            self._cv.notify()
        self._thread.join(5)
        self._client.close()

    def _loop(self) -> None:
        while True:
            with self._cv:
                if self._stop:
                    return
                moment = time.monotonic()
                if self._held and moment - self._held_since >= HOLD_SECONDS:
                    for delivery in reversed(self._held):
                        self._push(delivery, moment)
                    self._held = []
                if not self._queue or self._queue[0][0] > moment:
                    wait = self._queue[0][0] - moment if self._queue else 0.5
                    self._cv.wait(min(wait, 0.1 if self._held else 0.5))
                    continue
                _, _, delivery = heapq.heappop(self._queue)
                self._busy += 1
            try:
                self._send(delivery)
            finally:
                with self._cv:
                    self._busy -= 1

    def _send(self, delivery: Delivery) -> None:
        delivery.attempts += 1
        try:
            response = self._client.post(delivery.uri, content=delivery.body, headers=headers_for(delivery, self.store.api_secret))
            outcome, ok = str(response.status_code), 200 <= response.status_code < 300
        except httpx.HTTPError as exc:
            outcome, ok = f"error: {type(exc).__name__}", False
        delivery.responses.append(outcome)
        if ok:
            delivery.status = "delivered"
        elif delivery.attempts >= self.max_attempts:
            delivery.status = "failed"
        else:
            with self._cv:
                self._push(delivery, time.monotonic() + self.retry_base * 2 ** (delivery.attempts - 1))
        if not getattr(delivery, "duplicate_of", None):
            self.store.delivery_update(delivery)
