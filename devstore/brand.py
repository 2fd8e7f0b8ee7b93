"""The shop's brand settings, as Shopify serves them: only through the Storefront API, with a
storefront access token an app makes with the Admin API's `storefrontAccessTokenCreate`.

Shopify refuses to make one for an app without an `unauthenticated_*` scope, caps a shop at 100,
and drops an app's tokens when it is uninstalled (devstore does all three). The storefront
endpoint answers 401 without a valid token, like Shopify's.
"""
from __future__ import annotations

import secrets
from typing import Any

from graphql import build_schema, graphql_sync

from devstore.state import Store, gid

TOKENS_PER_SHOP = 100

SDL = """
type StorefrontAccessToken { id: ID! title: String! accessToken: String! }
type StorefrontAccessTokenConnection { nodes: [StorefrontAccessToken!]! }
input StorefrontAccessTokenInput { title: String! }
type StorefrontAccessTokenCreatePayload { storefrontAccessToken: StorefrontAccessToken userErrors: [UserError!]! }
extend type Shop { storefrontAccessTokens(first: Int): StorefrontAccessTokenConnection! }
extend type Mutation { storefrontAccessTokenCreate(input: StorefrontAccessTokenInput!): StorefrontAccessTokenCreatePayload }
"""

STOREFRONT_SCHEMA = build_schema("""
type Image { url: String! altText: String }
type MediaImage { image: Image }
type BrandColorGroup { background: String foreground: String }
type BrandColors { primary: [BrandColorGroup!]! secondary: [BrandColorGroup!]! }
type Brand { logo: MediaImage squareLogo: MediaImage colors: BrandColors! slogan: String shortDescription: String }
type Shop { name: String! brand: Brand }
type Query { shop: Shop! }
""")


def _tokens(store: Store, domain: str) -> list[dict]:
    return store.shop(domain).setdefault("storefront_tokens", [])


def tokens(store: Store, domain: str, first: int | None = None) -> dict:
    return {"nodes": [dict(t) for t in _tokens(store, domain)[: first or TOKENS_PER_SHOP]]}


def token_create(store: Store, domain: str, title: str) -> dict:
    app = store.shop(domain)["app"]
    if not any(s.strip().startswith("unauthenticated_") for s in (app.get("scopes") or "").split(",")):
        return {"storefrontAccessToken": None, "userErrors": [
            {"field": ["input"], "message": "The app has no unauthenticated access scopes to delegate."}]}
    with store.lock:
        held = _tokens(store, domain)
        if len(held) >= TOKENS_PER_SHOP:
            return {"storefrontAccessToken": None, "userErrors": [
                {"field": ["input"], "message": "Shop has reached the maximum number of storefront access tokens."}]}
        token = {"id": gid("StorefrontAccessToken", store.new_id()), "title": (title or "")[:255],
                 "accessToken": secrets.token_hex(16)}
        held.append(token)
        store.save()
    return {"storefrontAccessToken": dict(token), "userErrors": []}


def tokens_revoke(store: Store, domain: str) -> None:
    """The app was uninstalled: its storefront tokens stop working."""
    store.shop(domain)["storefront_tokens"] = []


def storefront(store: Store, domain: str, token: str | None, body: dict) -> tuple[int, dict]:
    """The Storefront API's `shop { brand }`, for a request carrying one of the shop's tokens."""
    if not token or token not in {t["accessToken"] for t in _tokens(store, domain)}:
        return 401, {"errors": [{"message": "Invalid Storefront API access token"}]}
    shop = store.shop(domain)
    brand = shop.get("brand") or {}

    def image(path: str | None) -> dict | None:
        return {"image": {"url": f"{store.base_url}/shops/{domain}{path}", "altText": shop["name"]}} if path else None

    root: dict[str, Any] = {"shop": {"name": shop["name"], "brand": {
        "logo": image(brand.get("logo")), "squareLogo": image(brand.get("logo")),
        "colors": {"primary": [{"background": brand["primary"], "foreground": "#ffffff"}] if brand.get("primary") else [],
                   "secondary": []},
        "slogan": brand.get("slogan"), "shortDescription": None,
    } if brand else None}}
    result = graphql_sync(STOREFRONT_SCHEMA, body.get("query") or "", root_value=root,
                          variable_values=body.get("variables"))
    answer: dict[str, Any] = {"data": result.data}
    if result.errors:
        answer["errors"] = [{"message": e.message} for e in result.errors]
    return 200, answer
