"""The one Admin GraphQL client: token, pinned version, retries, and a shared cost bucket.

Shopify meters GraphQL by query cost: each shop has a bucket that refills at its
plan's restore rate. Every worker reads and writes the same bucket state (Redis, or
process memory when embedded), so bulk work runs near the restore rate and is not
THROTTLED.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings

from shopapp.connection import shop_access_token
# The errors live below this module (the shop's connection raises them too); callers of the
# client catch them from here.
from shopapp.errors import (  # noqa: F401
    ShopifyAmbiguous, ShopifyError, ShopifyUnreachable, ShopifyUserError, ShopNotConnected, ShopUninstalled,
)
from shopapp.models import Shop
from shopapp.shopify import http_client, shopify_app

log = logging.getLogger(__name__)


# The library would retry 502/503/504 itself, sleeping 1, 2, 4 s and resending even a mutation
# Shopify already applied. Reads are retried here instead, with these pauses (tests switch them off).
READ_RETRY_DELAYS = (0.5, 1.0, 2.0)
TRANSIENT_STATUSES = {500, 502, 503, 504}


def _pause(seconds: float) -> None:
    time.sleep(seconds)


# --- cost bucket -----------------------------------------------------------------


@dataclass
class BucketState:
    available: float
    maximum: float
    restore_rate: float
    at: float  # time.time() of the reading

    def now_available(self, now: float) -> float:
        return min(self.maximum, self.available + (now - self.at) * self.restore_rate)


class CostBucket:
    """Per-shop GraphQL cost budget shared by every worker."""

    _LUA_RESERVE = """
    local s = redis.call('HMGET', KEYS[1], 'available', 'maximum', 'restore', 'at')
    if not s[1] then return '0' end
    local now = tonumber(ARGV[1]); local cost = tonumber(ARGV[2])
    local avail = math.min(tonumber(s[2]), tonumber(s[1]) + (now - tonumber(s[4])) * tonumber(s[3]))
    if avail >= cost then
      redis.call('HSET', KEYS[1], 'available', avail - cost, 'at', now)
      return '0'
    end
    return tostring((cost - avail) / tonumber(s[3]))
    """

    def __init__(self) -> None:
        self._local: dict[str, BucketState] = {}
        self._lock = threading.Lock()
        self._redis = None
        if settings.REDIS_URL:
            import redis

            self._redis = redis.Redis.from_url(settings.REDIS_URL)
            self._reserve_script = self._redis.register_script(self._LUA_RESERVE)

    def reserve(self, shop: str, cost: float) -> float:
        """Take `cost` points if there; else return how many seconds to wait first."""
        now = time.time()
        if self._redis is not None:
            return float(self._reserve_script(keys=[f"advocate:cost:{shop}"], args=[now, cost]))
        with self._lock:
            state = self._local.get(shop)
            if state is None:
                return 0.0
            available = state.now_available(now)
            if available >= cost:
                self._local[shop] = BucketState(available - cost, state.maximum, state.restore_rate, now)
                return 0.0
            return (cost - available) / state.restore_rate

    def record(self, shop: str, throttle_status: dict) -> None:
        """Store Shopify's own reading of the bucket (extensions.cost.throttleStatus)."""
        try:
            state = BucketState(
                float(throttle_status["currentlyAvailable"]),
                float(throttle_status["maximumAvailable"]),
                float(throttle_status["restoreRate"]),
                time.time(),
            )
        except (KeyError, TypeError, ValueError):
            return
        if self._redis is not None:
            key = f"advocate:cost:{shop}"
            self._redis.hset(
                key,
                mapping={"available": state.available, "maximum": state.maximum, "restore": state.restore_rate, "at": state.at},
            )
            self._redis.expire(key, 3600)
        else:
            with self._lock:
                self._local[shop] = state


_bucket: CostBucket | None = None


def cost_bucket() -> CostBucket:
    global _bucket
    if _bucket is None:
        _bucket = CostBucket()
    return _bucket


def reset_cost_bucket() -> None:
    global _bucket
    _bucket = None


# --- client ------------------------------------------------------------------------


class AdminClient:
    """Admin GraphQL for one shop. `query()` returns `data`; errors raise ShopifyError."""

    max_throttle_retries = 5

    def __init__(self, shop: Shop):
        self.shop = shop

    def query(self, query: str, variables: dict | None = None, *, cost: float = 10) -> dict[str, Any]:
        """A read: transient failures (5xx, timeouts, no connection, 429, THROTTLED) are retried with a pause."""
        for delay in (*READ_RETRY_DELAYS, None):
            try:
                return self._send(query, variables, cost=cost)
            except (ShopifyAmbiguous, ShopifyUnreachable):
                if delay is None:
                    raise
                _pause(delay)
        raise AssertionError("unreachable")

    def mutate(self, mutation: str, variables: dict, *, field: str) -> dict[str, Any]:
        """Send a mutation once and return `data[field]`; userErrors raise ShopifyUserError.

        ShopifyAmbiguous when the answer does not say whether Shopify applied it. Only a
        refusal that happens before Shopify runs anything (429, THROTTLED) is sent again;
        ShopifyUnreachable when the connection never opened (nothing was sent)."""
        data = self._send(mutation, variables, cost=10)
        payload = data.get(field)
        if not isinstance(payload, dict):
            raise ShopifyAmbiguous(f"Shopify answered {field} without its result.")
        errors = payload.get("userErrors") or []
        if errors:
            raise ShopifyUserError(errors)
        return payload

    def _send(self, query: str, variables: dict | None, *, cost: float) -> dict[str, Any]:
        bucket = cost_bucket()
        for attempt in range(self.max_throttle_retries + 1):
            wait = bucket.reserve(self.shop.domain, cost)
            if wait > 0:
                time.sleep(min(wait, 10.0))
            token = shop_access_token(self.shop)
            result = shopify_app().admin_graphql_request(
                query,
                shop=self.shop.handle,
                access_token=token,
                api_version=settings.SHOPIFY_API_VERSION,
                variables=variables,
                max_retries=0,  # never resent by the library: see READ_RETRY_DELAYS
                http_client=_ConnectFailuresRaised(http_client()),
            )
            status = result.response.status
            body = _json(result.response.body)
            throttle = ((body.get("extensions") or result.extensions or {}).get("cost") or {}).get("throttleStatus")
            if throttle:
                bucket.record(self.shop.domain, throttle)
            if result.ok:
                return result.data or {}
            # 429 and THROTTLED are refused before anything runs: safe to send again, mutations too.
            if (status == 429 or _is_throttled(body)) and attempt < self.max_throttle_retries:
                if status == 429:
                    _pause(_retry_after(result.response.headers))
                cost = float((body.get("extensions", {}).get("cost") or {}).get("requestedQueryCost") or cost)
                continue
            if status == 0 or status in TRANSIENT_STATUSES:
                raise ShopifyAmbiguous(_describe_failure(result.log.code, status, body))
            raise ShopifyError(_describe_failure(result.log.code, status, body))
        raise ShopifyError("Shopify kept answering THROTTLED; the job will be retried later.")


class _ConnectFailuresRaised:
    """The HTTP client as the library uses it (`post`), except that a connection that never opened
    raises ShopifyUnreachable. The library reports it like a timeout after sending (status 0), and a
    mutation would then look ambiguous although Shopify never saw it."""

    def __init__(self, client: httpx.Client):
        self._client = client

    def post(self, *args: Any, **kwargs: Any) -> httpx.Response:
        try:
            return self._client.post(*args, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise ShopifyUnreachable(f"Could not connect to Shopify ({exc.__class__.__name__}); nothing was sent.") from exc


def _retry_after(headers: dict) -> float:
    value = next((v for k, v in (headers or {}).items() if k.lower() == "retry-after"), "1")
    try:
        return min(max(float(value), 0.0), 10.0)
    except ValueError:
        return 1.0


def _json(text: str) -> dict:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _is_throttled(body: dict) -> bool:
    errors = body.get("errors")
    return isinstance(errors, list) and any(
        (e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors if isinstance(e, dict)
    )


def _describe_failure(code: str, status: int, body: dict) -> str:
    errors = body.get("errors")
    if isinstance(errors, list):
        detail = "; ".join(str(e.get("message", e)) for e in errors if isinstance(e, dict))
    else:
        detail = str(errors or "")
    if status == 401:
        return f"Shopify refused the access token (401). {detail}".strip()
    return f"Shopify Admin API failed ({code}, HTTP {status}). {detail}".strip()
