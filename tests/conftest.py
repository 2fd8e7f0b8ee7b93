"""Fixtures shared by the suite: shops, a fake Shopify at our HTTP boundary, signed webhooks."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from tests.browser import browser, open_page  # noqa: F401  (fixtures)


FIXTURES = Path(__file__).parent / "fixtures"


def load_fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture(autouse=True)
def _rate_limit_window_stands_still(monkeypatch):
    """Rate limits count in fixed windows of real time: a test that counts up to a limit must not
    straddle a window's end (it would start counting again), so each test's windows stand still."""
    import time
    from types import SimpleNamespace

    from shopapp import ratelimit

    now = time.time()
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: now, monotonic=time.monotonic))


@pytest.fixture(autouse=True)
def _registry_restored():
    """What a test registers (a handler, a sweeper, a blocker) is gone after it: the registry is
    snapshotted before each test and restored after, instead of tests adding globals at import."""
    from shopapp.registry import registry_restore, registry_snapshot

    snapshot = registry_snapshot()
    yield
    registry_restore(snapshot)


@pytest.fixture(autouse=True)
def _clean_platform_state(settings):
    """Each test gets a fresh HTTP client, cost bucket and Redis keys; jobs run at once
    (through Redis when REDIS_URL is set, in-process otherwise)."""
    from shopapp import admin_api, shopify

    from referrals.landing import landing_cards_forget
    from reviews.storefront import local_caches_forget
    from shopapp.proxy import installed_shops_forget
    from shopapp.ratelimit import _tally

    settings.JOBS_INLINE = True
    settings.HISTORY_IMPORT_ON_INSTALL = False  # tests/shopapp/test_history_import.py switches it on
    settings.CLICK_BATCH_MAX_WAIT_MS = 0  # each click written at once (tests/referrals/test_click.py tests the batching)
    # Most tests have no Shopify to ask who a staff member is (tests/shopapp/test_staff.py asks devstore).
    settings.STAFF_NAMES_FROM_SHOPIFY = False
    from shopapp.staff import staff_names_forget

    staff_names_forget()
    landing_cards_forget()
    installed_shops_forget()
    _tally.forget()
    local_caches_forget()
    shopify.set_http_client(None)
    admin_api.reset_cost_bucket()
    if settings.REDIS_URL:
        import redis

        conn = redis.Redis.from_url(settings.REDIS_URL)
        for key in conn.scan_iter("advocate:*"):
            conn.delete(key)
    yield
    shopify.set_http_client(None)
    admin_api.reset_cost_bucket()


@pytest.fixture(autouse=True)
def _no_retry_pauses(monkeypatch):
    """The Admin client's pauses between read retries are real sleeps: no test waits on them."""
    from shopapp import admin_api

    monkeypatch.setattr(admin_api, "_pause", lambda seconds: None)


@pytest.fixture
def fake_shopify():
    """A Shopify stand-in on httpx's MockTransport, wired in as Advocate's HTTP client."""
    import httpx

    from shopapp import shopify
    from tests.fake_shopify import FakeShopify

    fake = FakeShopify()
    shopify.set_http_client(httpx.Client(transport=httpx.MockTransport(fake.handle)))
    return fake


def _make_shop(domain: str, **extra):
    from django.utils import timezone

    from shopapp.models import Shop

    now = timezone.now()
    return Shop.objects.create(
        domain=domain,
        name=domain.split(".")[0].replace("-", " ").title(),
        access_token=f"token-{domain}",
        access_token_expires_at=now + timedelta(hours=1),
        refresh_token=f"refresh-{domain}",
        refresh_token_expires_at=now + timedelta(days=90),
        installed_at=now,
        **extra,
    )


@pytest.fixture
def shop(db):
    return _make_shop("owner-shop.myshopify.com")


@pytest.fixture
def other_shop(db):
    return _make_shop("outsider-shop.myshopify.com")


def session_token(domain: str, *, secret: str | None = None, aud: str | None = None, exp_in: int = 60,
                  iss: str | None = None, sub: str = "42") -> str:
    import jwt
    from django.conf import settings

    now = int(time.time())
    claims = {
        "iss": iss or f"https://{domain}/admin",
        "dest": f"https://{domain}",
        "aud": aud or settings.SHOPIFY_API_KEY,
        "sub": sub,
        "exp": now + exp_in,
        "nbf": now - 5,
        "iat": now - 5,
        "jti": str(uuid.uuid4()),
        "sid": "session-" + sub,
    }
    return jwt.encode(claims, secret or settings.SHOPIFY_API_SECRET, algorithm="HS256")


@pytest.fixture
def make_session_token():
    return session_token


@pytest.fixture
def panel_get(client):
    """GET a panel page as Shopify's admin would: document load with id_token, or fetch with Bearer."""

    def get(path: str, shop, *, fetch: bool = False, **token_kwargs):
        token = session_token(shop.domain if hasattr(shop, "domain") else shop, **token_kwargs)
        if fetch:
            return client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")
        sep = "&" if "?" in path else "?"
        domain = shop.domain if hasattr(shop, "domain") else shop
        return client.get(f"{path}{sep}embedded=1&shop={domain}&id_token={token}")

    return get


def sign_webhook(body: bytes, secret: str | None = None) -> str:
    from django.conf import settings

    digest = hmac.new((secret or settings.SHOPIFY_API_SECRET).encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@pytest.fixture
def post_webhook(client, django_capture_on_commit_callbacks):
    """POST a webhook signed like Shopify signs it; jobs enqueued on commit run at once."""

    def post(topic: str, payload, shop, *, event_id: str | None = None, webhook_id: str | None = None,
             secret: str | None = None, hmac_header: str | None = "auto", raw: bytes | None = None):
        domain = shop.domain if hasattr(shop, "domain") else shop
        body = raw if raw is not None else json.dumps(payload).encode()
        headers = {
            "HTTP_X_SHOPIFY_TOPIC": topic,
            "HTTP_X_SHOPIFY_SHOP_DOMAIN": domain,
            "HTTP_X_SHOPIFY_API_VERSION": "2026-10",
            "HTTP_X_SHOPIFY_WEBHOOK_ID": webhook_id or str(uuid.uuid4()),
            "HTTP_X_SHOPIFY_EVENT_ID": event_id or str(uuid.uuid4()),
            "HTTP_X_SHOPIFY_TRIGGERED_AT": "2026-11-22T10:00:00.000Z",
        }
        if hmac_header == "auto":
            headers["HTTP_X_SHOPIFY_HMAC_SHA256"] = sign_webhook(body, secret)
        elif hmac_header is not None:
            headers["HTTP_X_SHOPIFY_HMAC_SHA256"] = hmac_header
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/webhooks", data=body, content_type="application/json", **headers)

    return post
