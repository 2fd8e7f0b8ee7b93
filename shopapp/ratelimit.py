"""A fixed-window rate limit for public endpoints, kept in Redis (the local cache when there is none).

Exact limits (forms, links) cost one Redis increment per request. The storefront's
high-volume reads use `shared_every`: each worker counts locally and adds its counts to Redis
in one pipelined round trip at most every `TALLY_SECONDS`, deciding on the last shared total
plus its own count since. Across N workers a client can pass such a limit by what the other
workers let through in one interval before they hear of it; in exchange most requests cost no
round trip.
"""
from __future__ import annotations

import hashlib
import ipaddress
import threading
import time
from functools import wraps

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import ngettext

from shopapp.languages import request_language


def client_ip(request: HttpRequest) -> str:
    # Behind a proxy set REMOTE_ADDR from the proxy's header at the proxy, not here:
    # a client-supplied X-Forwarded-For would let anyone pick their own bucket. Requests
    # through Shopify's app proxy come from Shopify's servers; once their signature is
    # verified, shopapp.proxy puts the shopper's address (Shopify's header) on the request.
    return getattr(request, "shopper_ip", None) or request.META.get("REMOTE_ADDR", "")


def client_network(ip: str) -> str:
    """What a limit counts: an IPv4 address, or an IPv6 address's /64. One IPv6 subscriber
    routinely holds a whole /64 (2^64 addresses), so counting exact IPv6 addresses limits nobody."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if address.version == 6:
        if address.ipv4_mapped:  # ::ffff:203.0.113.9 is the IPv4 client 203.0.113.9
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def limit_key(request: HttpRequest) -> str:
    """The client's bucket for rate limits (hashed, as everything keyed by a client address)."""
    return ip_hash(client_network(client_ip(request)))


def hashed_ip(request: HttpRequest) -> str:
    """A stable, non-reversible key for an IP (stored with clicks; never the raw IP)."""
    return ip_hash(client_ip(request))


def ip_hash(ip: str) -> str:
    """The same key for an IP that arrived some other way (an order's browser_ip)."""
    from django.conf import settings

    return hashlib.sha256(f"{settings.SECRET_KEY}:{ip}".encode()).hexdigest()[:32]


_redis = None


def _redis_client():
    """One client per process (redis-py pools its connections and is thread-safe)."""
    global _redis
    if _redis is None:
        import redis

        from django.conf import settings

        _redis = redis.Redis.from_url(settings.REDIS_URL)
    return _redis


def allow(key: str, *, limit: int, window: int, shared_every: bool = False) -> bool:
    """True while `key` has made fewer than `limit` calls in the current `window` seconds."""
    from django.conf import settings

    limit *= settings.RATE_LIMIT_SCALE
    bucket = _bucket(key, window)
    if settings.REDIS_URL and shared_every:
        return _tally.allow(bucket, limit=limit, window=window)
    return _count(bucket, window) <= limit


def _bucket(key: str, window: int) -> str:
    return f"advocate:rl:{key}:{int(time.time() // window)}"


def _count(bucket: str, window: int) -> int:
    """Adds one to the bucket; its new total."""
    from django.conf import settings

    if settings.REDIS_URL:
        # One round trip on the hot path (INCR); the bucket's expiry is set by whoever created it.
        client = _redis_client()
        count = client.incr(bucket)
        if count == 1:
            client.expire(bucket, window + 1)
        return count
    if cache.add(bucket, 1, timeout=window + 1):
        return 1
    try:
        return cache.incr(bucket)
    except ValueError:  # expired between add and incr
        cache.add(bucket, 1, timeout=window + 1)
        return 1


def spent(keys: list[str], *, window: int) -> list[int]:
    """How often each key was counted (`spend`) in the current window, in one round trip."""
    from django.conf import settings

    buckets = [_bucket(key, window) for key in keys]
    if settings.REDIS_URL:
        return [int(count or 0) for count in _redis_client().mget(buckets)]
    found = cache.get_many(buckets)
    return [int(found.get(bucket) or 0) for bucket in buckets]


def spend(keys: list[str], *, window: int) -> None:
    for key in keys:
        _count(_bucket(key, window), window)


TALLY_SECONDS = 0.1


class Tally:
    """This worker's counts not yet in Redis, and the shared totals as of its last flush."""

    def __init__(self, client=None, *, seconds: float = TALLY_SECONDS):
        self.client = client
        self.seconds = seconds
        self._pending: dict[str, list[int]] = {}  # bucket -> [count, window]
        self._shared: dict[str, tuple[int, float]] = {}  # bucket -> (total, forget after)
        self._flushed_at = 0.0
        self._lock = threading.Lock()

    def allow(self, bucket: str, *, limit: int, window: int) -> bool:
        now = time.monotonic()
        with self._lock:
            pending = self._pending.setdefault(bucket, [0, window])
            pending[0] += 1
            estimate = self._shared.get(bucket, (0, 0.0))[0] + pending[0]
            batch = None
            if now - self._flushed_at >= self.seconds:
                batch, self._pending, self._flushed_at = self._pending, {}, now
        if batch:  # this request is in the batch: decide on the fresh shared total
            self._flush(batch, now)
            with self._lock:
                estimate = self._shared[bucket][0] + self._pending.get(bucket, [0])[0]
        return estimate <= limit

    def forget(self) -> None:
        with self._lock:
            self._pending, self._shared, self._flushed_at = {}, {}, 0.0

    def _flush(self, batch: dict[str, list[int]], now: float) -> None:
        try:
            pipe = (self.client or _redis_client()).pipeline(transaction=False)
            for bucket, (count, window) in batch.items():
                pipe.incrby(bucket, count)
                pipe.expire(bucket, window + 1)
            totals = pipe.execute()[::2]
        except Exception:
            with self._lock:  # keep the counts for the next flush
                for bucket, (count, window) in batch.items():
                    self._pending.setdefault(bucket, [0, window])[0] += count
            raise
        with self._lock:
            self._shared = {bucket: shared for bucket, shared in self._shared.items() if shared[1] > now}
            for (bucket, (_, window)), total in zip(batch.items(), totals):
                self._shared[bucket] = (total, now + window + 1)  # counts since then are in _pending


_tally = Tally()


def rate_limited(name: str, *, limit: int, window: int = 60, shared_every: bool = False):
    """Refuse a client IP's request with 429 once it passes `limit` per `window` seconds
    (`shared_every`: counted in each worker and shared every TALLY_SECONDS; see the module)."""

    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not allow(f"{name}:{limit_key(request)}", limit=limit, window=window, shared_every=shared_every):
                return _too_many(request, window)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def misses_limited(name: str, *, limit: int, window: int, shop_limit: int | None = None, limit_when_shop_over: int = 2):
    """Refuse every request of a client (IPv4 address or IPv6 /64) that got `limit` 404s within
    `window` seconds, for the rest of that window: guessing codes or ids answers 429 whether the
    guess is right or wrong, so the guesses teach nothing. Answers that are found cost nothing.

    `shop_limit`: once a shop's signed (app proxy) requests got that many 404s in the window, from
    whoever, each client there may miss only `limit_when_shop_over` times: guessing spread over many
    addresses slows down too, while shoppers who open real links are never refused."""

    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            keys = [f"{name}:{limit_key(request)}"]
            shop = getattr(request, "shop", None) if shop_limit else None
            if shop is not None:
                keys.append(f"{name}:shop:{shop.pk}")
            counts, allowed = spent(keys, window=window), limit
            if shop is not None and counts[1] >= shop_limit * _scale():
                allowed = min(limit, limit_when_shop_over)
            if counts[0] >= allowed * _scale():
                return _too_many(request, window)
            response = view(request, *args, **kwargs)
            if response.status_code == 404:
                spend(keys, window=window)
            return response

        return wrapped

    return decorate


def _scale() -> int:
    from django.conf import settings

    return settings.RATE_LIMIT_SCALE


def _too_many(request: HttpRequest, window: int) -> HttpResponse:
    """The refusal in the reader's language (the page's own choice has not run yet: the browser's)."""
    minutes = max(1, window // 60)
    with translation.override(request_language(request)):
        text = ngettext("Too many requests. Wait a minute and try again.",
                        "Too many requests. Wait %(minutes)s minutes and try again.", minutes) % {"minutes": minutes}
    response = HttpResponse(text, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(window)
    return response
