from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlencode

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from shopapp.proxy import app_proxy_view
from shopapp.ratelimit import rate_limited

pytestmark = pytest.mark.django_db


def signed_proxy_query(shop_domain: str, secret: str | None = None, **extra) -> str:
    """Query string as Shopify's app proxy sends it (hex HMAC of sorted k=v pairs, no separator)."""
    from django.conf import settings

    params = {"shop": shop_domain, "path_prefix": "/apps/advocate", "timestamp": str(int(time.time())),
              "logged_in_customer_id": "", **extra}
    message = "".join(f"{k}={v}" for k, v in sorted(params.items()))
    params["signature"] = hmac.new((secret or settings.SHOPIFY_API_SECRET).encode(), message.encode(), hashlib.sha256).hexdigest()
    return urlencode(params)


@app_proxy_view
def _whoami(request):
    return HttpResponse(f"{request.shop.domain}|{request.logged_in_customer_id}")


def test_signed_proxy_request_gets_its_shop(shop):
    request = RequestFactory().get(f"/proxy/x?{signed_proxy_query(shop.domain, logged_in_customer_id='9007199254740993')}")
    assert _whoami(request).content.decode() == f"{shop.domain}|9007199254740993"


def test_tampered_proxy_request_is_refused(shop, other_shop):
    query = signed_proxy_query(shop.domain).replace(shop.domain, other_shop.domain)
    assert _whoami(RequestFactory().get(f"/proxy/x?{query}")).status_code == 401


def test_proxy_request_signed_with_another_secret_is_refused(shop):
    request = RequestFactory().get(f"/proxy/x?{signed_proxy_query(shop.domain, secret='wrong')}")
    assert _whoami(request).status_code == 401


def test_proxy_request_for_a_shop_without_advocate_is_404(db):
    request = RequestFactory().get(f"/proxy/x?{signed_proxy_query('stranger.myshopify.com')}")
    assert _whoami(request).status_code == 404


def test_rate_limit_refuses_past_the_limit_with_retry_after(settings):
    from django.core.cache import cache

    cache.clear()

    @rate_limited("test", limit=3, window=60)
    def view(request):
        return HttpResponse("ok")

    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.9")
    statuses = [view(request).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    assert view(RequestFactory().get("/", REMOTE_ADDR="198.51.100.10")).status_code == 200


def test_rate_limit_scale_raises_every_limit(settings):
    from django.core.cache import cache

    cache.clear()
    settings.RATE_LIMIT_SCALE = 2

    @rate_limited("scaled", limit=3, window=60)
    def view(request):
        return HttpResponse("ok")

    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.11")
    assert [view(request).status_code for _ in range(7)] == [200] * 6 + [429]


def test_installed_shop_is_remembered_and_uninstall_takes_effect_at_once(shop, django_assert_num_queries):
    from shopapp.services import shop_uninstall

    query = signed_proxy_query(shop.domain)
    assert _whoami(RequestFactory().get(f"/proxy/x?{query}")).status_code == 200
    with django_assert_num_queries(0):  # the next request of a storefront burst does not ask the database
        assert _whoami(RequestFactory().get(f"/proxy/x?{query}")).status_code == 200
    shop_uninstall(shop=shop)
    assert _whoami(RequestFactory().get(f"/proxy/x?{query}")).status_code == 404


def test_remembered_shop_is_forgotten_after_a_few_seconds(shop, monkeypatch):
    """A change made by another process (here: a bulk update, which sends no signal) shows within SHOP_SECONDS."""
    from shopapp import memo, proxy
    from shopapp.models import Shop

    clock = [1000.0]
    monkeypatch.setattr(memo.time, "monotonic", lambda: clock[0])
    query = signed_proxy_query(shop.domain)
    assert _whoami(RequestFactory().get(f"/proxy/x?{query}")).status_code == 200
    Shop.objects.filter(pk=shop.pk).update(name="Renamed elsewhere")
    assert proxy.installed_shop(shop.domain).name == shop.name
    clock[0] += proxy.SHOP_SECONDS + 1
    assert proxy.installed_shop(shop.domain).name == "Renamed elsewhere"


def test_each_request_gets_its_own_copy_of_the_shop(shop):
    from shopapp.proxy import installed_shop

    first, second = installed_shop(shop.domain), installed_shop(shop.domain)
    first.name = "changed by one request"
    assert first is not second and second.name == shop.name


def test_proxied_requests_are_limited_per_shopper_not_per_shopify_server(shop):
    """Every proxied request comes from Shopify's servers; the shopper is the address Shopify forwards."""
    @app_proxy_view
    @rate_limited("per-shopper", limit=2, window=60)
    def view(request):
        return HttpResponse(request.shopper_ip)

    def get(forwarded_for: str):
        return view(RequestFactory().get(f"/proxy/x?{signed_proxy_query(shop.domain)}", REMOTE_ADDR="23.227.38.1",
                                         HTTP_X_FORWARDED_FOR=forwarded_for))

    assert [get("203.0.113.7").status_code for _ in range(3)] == [200, 200, 429]
    assert get("203.0.113.8").content == b"203.0.113.8"  # another shopper behind the same Shopify server
    # A shopper who sends their own X-Forwarded-For cannot pick a bucket: Shopify's entry is the last.
    assert get("198.51.100.1, 203.0.113.7").status_code == 429


def test_an_unsigned_request_is_refused_before_it_counts_against_anyone(shop, settings):
    from django.core.cache import cache

    cache.clear()

    @app_proxy_view
    @rate_limited("unsigned", limit=1, window=60)
    def view(request):
        return HttpResponse("ok")

    forged = RequestFactory().get(f"/proxy/x?{signed_proxy_query(shop.domain, secret='wrong')}",
                                  HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert [view(forged).status_code for _ in range(3)] == [401, 401, 401]
    signed = RequestFactory().get(f"/proxy/x?{signed_proxy_query(shop.domain)}", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert view(signed).status_code == 200


def test_a_remembered_shop_reads_its_token_fresh(shop):
    """Another worker may have rotated the token meanwhile: Shopify keeps only the newest valid."""
    from shopapp.models import Shop
    from shopapp.proxy import installed_shop

    assert installed_shop(shop.domain).domain == shop.domain
    Shop.objects.filter(pk=shop.pk).update(access_token="shpat_rotated_elsewhere")  # no signal: another process
    assert installed_shop(shop.domain).access_token == "shpat_rotated_elsewhere"


def _tallies(monkeypatch, workers: int = 2):
    """Workers' tallies over one shared (fake) Redis, with a clock the test moves."""
    import fakeredis

    from shopapp import ratelimit

    clock = [1000.0]
    monkeypatch.setattr(ratelimit.time, "monotonic", lambda: clock[0])
    shared = fakeredis.FakeRedis()
    return clock, shared, [ratelimit.Tally(shared, seconds=0.1) for _ in range(workers)]


def test_a_shared_every_limit_is_exact_within_one_worker(monkeypatch):
    clock, shared, [worker] = _tallies(monkeypatch, workers=1)
    assert [worker.allow("b", limit=3, window=60) for _ in range(5)] == [True, True, True, False, False]
    clock[0] += 0.2
    assert worker.allow("b", limit=3, window=60) is False
    assert int(shared.get("b")) == 6 and 0 < shared.ttl("b") <= 61


def test_workers_hear_of_each_others_counts_within_an_interval(monkeypatch):
    clock, shared, [one, two] = _tallies(monkeypatch)
    assert all(one.allow("b", limit=4, window=60) for _ in range(3))  # the first flushed at once (1), 2 pending
    clock[0] += 0.2
    assert one.allow("b", limit=4, window=60)  # flushes: Redis has 4
    assert two.allow("b", limit=4, window=60) is False  # two flushes on its first request and hears of 4 + 1
    clock[0] += 0.2
    assert one.allow("b", limit=4, window=60) is False
    assert int(shared.get("b")) == 6


def test_a_failed_flush_keeps_the_counts_for_the_next(monkeypatch):
    import redis

    clock, shared, [worker] = _tallies(monkeypatch, workers=1)
    real = shared.pipeline
    monkeypatch.setattr(shared, "pipeline", lambda **kw: (_ for _ in ()).throw(redis.ConnectionError("down")))
    with pytest.raises(redis.ConnectionError):
        worker.allow("b", limit=10, window=60)
    monkeypatch.setattr(shared, "pipeline", real)
    clock[0] += 0.2
    assert worker.allow("b", limit=10, window=60)
    assert int(shared.get("b")) == 2


def test_storefront_reads_share_their_counts_and_forms_stay_exact(settings, monkeypatch):
    """With Redis, only limits marked shared_every go through the tally."""
    from shopapp import ratelimit

    seen = []
    monkeypatch.setattr(ratelimit._tally, "allow", lambda bucket, **kw: seen.append(bucket) or True)
    settings.REDIS_URL = "redis://tally-test"
    assert ratelimit.allow("reads", limit=5, window=60, shared_every=True)
    assert len(seen) == 1 and seen[0].startswith("advocate:rl:reads:")
    settings.REDIS_URL = ""
    assert ratelimit.allow("reads", limit=5, window=60, shared_every=True)  # no Redis: the local cache, exactly
    assert len(seen) == 1
