"""A fixed-window rate limit for public endpoints, kept in Redis (the local cache when there is none)."""
from __future__ import annotations

import hashlib
import time
from functools import wraps

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse


def client_ip(request: HttpRequest) -> str:
    # Behind a proxy set REMOTE_ADDR from the proxy's header at the proxy, not here:
    # a client-supplied X-Forwarded-For would let anyone pick their own bucket. Requests
    # through Shopify's app proxy come from Shopify's servers; once their signature is
    # verified, shopapp.proxy puts the shopper's address (Shopify's header) on the request.
    return getattr(request, "shopper_ip", None) or request.META.get("REMOTE_ADDR", "")


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


def allow(key: str, *, limit: int, window: int) -> bool:
    """True while `key` has made fewer than `limit` calls in the current `window` seconds."""
    from django.conf import settings

    limit *= settings.RATE_LIMIT_SCALE
    bucket = f"advocate:rl:{key}:{int(time.time() // window)}"
    if settings.REDIS_URL:
        # One round trip on the hot path (INCR); the bucket's expiry is set by whoever created it.
        client = _redis_client()
        count = client.incr(bucket)
        if count == 1:
            client.expire(bucket, window + 1)
        return count <= limit
    if cache.add(bucket, 1, timeout=window + 1):
        return True
    try:
        return cache.incr(bucket) <= limit
    except ValueError:  # expired between add and incr
        cache.add(bucket, 1, timeout=window + 1)
        return True


def rate_limited(name: str, *, limit: int, window: int = 60):
    """Refuse a client IP's request with 429 once it passes `limit` per `window` seconds."""

    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not allow(f"{name}:{hashed_ip(request)}", limit=limit, window=window):
                response = HttpResponse("Too many requests. Wait a minute and try again.", status=429,
                                        content_type="text/plain")
                response["Retry-After"] = str(window)
                return response
            return view(request, *args, **kwargs)

        return wrapped

    return decorate
