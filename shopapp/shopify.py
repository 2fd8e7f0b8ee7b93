"""Where Advocate meets Shopify's libraries: one app config, one HTTP client, shop URLs."""
from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit

import httpx
import shopify
from django.conf import settings
from shopify.utils.shop_url import sanitize_shop_domain
from shopify_app import ShopifyApp


@lru_cache(maxsize=1)
def shopify_app() -> ShopifyApp:
    return ShopifyApp(
        client_id=settings.SHOPIFY_API_KEY,
        client_secret=settings.SHOPIFY_API_SECRET,
        old_client_secret=settings.SHOPIFY_API_SECRET_OLD,
    )


def shopify_api_session_class() -> type[shopify.Session]:
    """ShopifyAPI's Session, set up with our credentials (OAuth helpers, HMAC checks)."""
    shopify.Session.setup(api_key=settings.SHOPIFY_API_KEY, secret=settings.SHOPIFY_API_SECRET)
    return shopify.Session


def clean_shop_domain(value: str | None) -> str | None:
    """`example.myshopify.com` from what a request said, or None when it is not a shop."""
    return sanitize_shop_domain(value) if value else None


_GID_TAIL = re.compile(r"^(?:gid://shopify/([A-Za-z]+)/)?(\d{1,19})$")


def shopify_numeric_id(value: str | None, *, kind: str | None = None) -> int | None:
    """123 from "123", "gid://shopify/Customer/123" or "gid://shopify/OrderIdentity/123"; None otherwise
    (and None for a GID of another type than `kind`, when given)."""
    match = _GID_TAIL.match((value or "").strip())
    if not match or (kind and match.group(1) not in (None, kind)):
        return None
    return int(match.group(2))


def shop_url(domain: str, path: str = "/") -> str:
    """The address of `path` on a shop: the real Shopify, or the local simulator."""
    if settings.SHOPIFY_UPSTREAM_URL:
        return f"{settings.SHOPIFY_UPSTREAM_URL}/shops/{domain}{path}"
    return f"https://{domain}{path}"


def admin_origins(domain: str) -> list[str]:
    """Origins allowed to frame the panel (CSP frame-ancestors)."""
    origins = [f"https://{domain}", "https://admin.shopify.com"]
    if settings.SHOPIFY_UPSTREAM_URL:
        parts = urlsplit(settings.SHOPIFY_UPSTREAM_URL)
        origins.append(f"{parts.scheme}://{parts.netloc}")
    return origins


class UpstreamTransport(httpx.BaseTransport):
    """Sends https://{shop}/... to {upstream}/shops/{shop}/... (the local simulator)."""

    def __init__(self, upstream: str, inner: httpx.BaseTransport | None = None):
        self._upstream = httpx.URL(upstream)
        self._inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host.endswith(".myshopify.com"):
            prefix = self._upstream.path.rstrip("/")
            request.url = request.url.copy_with(
                scheme=self._upstream.scheme,
                host=self._upstream.host,
                port=self._upstream.port,
                path=f"{prefix}/shops/{request.url.host}{request.url.path}",
            )
            request.headers["Host"] = request.url.netloc.decode()
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


_client: httpx.Client | None = None


def http_client() -> httpx.Client:
    """The process-wide client for calls to Shopify: timeouts always, simulator when set."""
    global _client
    if _client is None:
        transport = (
            UpstreamTransport(settings.SHOPIFY_UPSTREAM_URL) if settings.SHOPIFY_UPSTREAM_URL else None
        )
        _client = httpx.Client(timeout=settings.SHOPIFY_HTTP_TIMEOUT, transport=transport)
    return _client


def set_http_client(client: httpx.Client | None) -> None:
    """Swap the client (tests point it at a fake Shopify; None rebuilds from settings)."""
    global _client
    _client = client
