"""A small Shopify stand-in for unit tests, served through httpx.MockTransport.

It keeps Shopify's rules that Advocate's code depends on: one valid offline token per
shop, refresh tokens that rotate and fail once used, GraphQL cost and THROTTLED/429.
The end-to-end suite uses the real simulator (devstore) instead.
"""
from __future__ import annotations

import itertools
import json
import re
import threading
import time
from urllib.parse import parse_qs

import httpx
import jwt
from django.conf import settings


class FakeShopify:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self.valid_tokens: dict[str, str] = {}  # shop domain -> the one valid access token
        self.refresh_tokens: dict[str, str] = {}
        self.refresh_calls = 0
        self.exchange_calls = 0
        self.graphql_calls: list[dict] = []
        self.script: list[str] = []  # per GraphQL call: "throttled", "429", "500" or "ok"
        self.shop_info = {
            "id": "gid://shopify/Shop/9007199254740993",
            "name": "Owner Shop",
            "email": "owner@example.com",
            "currencyCode": "EUR",
            "ianaTimezone": "Europe/Berlin",
            "plan": {"displayName": "Basic", "shopifyPlus": False},
            "billingAddress": {"address1": "12 Harbour Road", "address2": "", "city": "Portland", "company": "Owner Shop LLC",
                               "country": "United States", "countryCodeV2": "US", "province": "Oregon",
                               "provinceCode": "OR", "zip": "97201"},
        }
        self.token_ttl = 3600
        self.refresh_delay = 0.0
        self.available = 2000.0
        self.token_endpoint_down = False
        # Per root field ("discountCodeBasicCreate"): callable(variables) -> that field's value.
        self.responders: dict = {}

    def calls_to(self, field: str) -> list[dict]:
        """The GraphQL calls whose query selects `field` (e.g. "storeCreditAccountCredit")."""
        return [c for c in self.graphql_calls if _selects(c["query"], field)]

    # --- helpers for tests
    def grant(self, domain: str, access: str, refresh: str) -> None:
        self.valid_tokens[domain] = access
        self.refresh_tokens[domain] = refresh

    def handle(self, request: httpx.Request) -> httpx.Response:
        domain = request.url.host
        if request.url.path == "/admin/oauth/access_token":
            return self._token(domain, request)
        if request.url.path.endswith("/graphql.json"):
            return self._graphql(domain, request)
        return httpx.Response(404, json={"errors": "Not Found"})

    def _issue(self, domain: str) -> dict:
        n = next(self._seq)
        access, refresh = f"shpat_{domain}_{n}", f"shprt_{domain}_{n}"
        self.grant(domain, access, refresh)
        return {
            "access_token": access,
            "scope": ",".join(settings.SHOPIFY_SCOPES),
            "expires_in": self.token_ttl,
            "refresh_token": refresh,
            "refresh_token_expires_in": 90 * 86400,
        }

    def _token(self, domain: str, request: httpx.Request) -> httpx.Response:
        if self.token_endpoint_down:
            return httpx.Response(503, json={"error": "unavailable"})
        if request.headers.get("content-type", "").startswith("application/json"):
            body = json.loads(request.content)
        else:
            body = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        if body.get("client_secret") != settings.SHOPIFY_API_SECRET:
            return httpx.Response(401, json={"error": "invalid_client"})
        grant = body.get("grant_type")
        if grant == "refresh_token":
            time.sleep(self.refresh_delay)  # widen the window a racing refresh would hit
            with self._lock:
                self.refresh_calls += 1
                if body.get("refresh_token") != self.refresh_tokens.get(domain):
                    return httpx.Response(400, json={"error": "invalid_grant", "error_description": "refresh token is invalid"})
                return httpx.Response(200, json=self._issue(domain))
        if grant == "urn:ietf:params:oauth:grant-type:token-exchange":
            try:
                claims = jwt.decode(body["subject_token"], settings.SHOPIFY_API_SECRET, algorithms=["HS256"],
                                    audience=settings.SHOPIFY_API_KEY)
            except jwt.PyJWTError:
                return httpx.Response(400, json={"error": "invalid_subject_token"})
            if claims["dest"] != f"https://{domain}":
                return httpx.Response(400, json={"error": "invalid_subject_token"})
            self.exchange_calls += 1
            return httpx.Response(200, json=self._issue(domain))
        if body.get("code"):
            return httpx.Response(200, json=self._issue(domain))
        return httpx.Response(400, json={"error": "unsupported_grant_type"})

    def _graphql(self, domain: str, request: httpx.Request) -> httpx.Response:
        if request.headers.get("X-Shopify-Access-Token") != self.valid_tokens.get(domain):
            return httpx.Response(401, json={"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"})
        body = json.loads(request.content)
        self.graphql_calls.append({"shop": domain, **body})
        step = self.script.pop(0) if self.script else "ok"
        cost = {"requestedQueryCost": 10, "actualQueryCost": 10,
                "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": self.available, "restoreRate": 100.0}}
        if step == "429":
            return httpx.Response(429, headers={"Retry-After": "0"}, json={"errors": "Throttled"})
        if step == "503":
            return httpx.Response(503, json={"errors": "Service unavailable"})
        if step == "throttled":
            cost = {**cost, "actualQueryCost": None,
                    "throttleStatus": {**cost["throttleStatus"], "currentlyAvailable": 0.0}}
            return httpx.Response(200, json={
                "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                "extensions": {"cost": cost},
            })
        if step == "user_error":
            return httpx.Response(200, json={"data": {"discountCodeBasicCreate": {
                "codeDiscountNode": None,
                "userErrors": [{"field": ["basicCodeDiscount", "code"], "message": "Code must be unique. Please try a different code.", "code": "TAKEN"}],
            }}, "extensions": {"cost": cost}})
        answered = {f: r(body.get("variables") or {}) for f, r in self.responders.items() if _selects(body["query"], f)}
        if answered:
            return httpx.Response(200, json={"data": answered, "extensions": {"cost": cost}})
        data = {"shop": self.shop_info} if "shop" in body["query"] else {}
        return httpx.Response(200, json={"data": data, "extensions": {"cost": cost}})


def _selects(query: str, field: str) -> bool:
    return re.search(rf"(?<![A-Za-z_]){re.escape(field)}\s*\(", query) is not None
