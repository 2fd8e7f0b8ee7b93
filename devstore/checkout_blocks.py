"""Advocate's checkout and customer-account UI extensions, as devstore's pages host them.

Shopify runs an extension's bundle in a sandbox and draws its Polaris components; devstore
runs the extension's own view logic (`extensions/shared/advocate-view.js`, the module every
target uses) in the page and draws the same view nodes as plain HTML (`static/extension-host.js`).
So what a buyer sees on devstore's thank-you, order status and account pages comes from the
real endpoint, through a real cross-origin request with a real session token, and from the same
code that decides what the extension shows in Shopify.

The words come from the extension's own locale files (`extensions/<name>/locales/`), which each
block carries; the host picks one as Shopify does: the buyer's locale (the order's `customer_locale`
on the thank-you and order status pages, the customer's on the account pages, the page's `?locale=`
or language on the Refer friends page), then its language without the region, then the shop's
primary locale, then the extension's default.

A block appears only where the merchant placed it in the checkout and accounts editor, as in
Shopify; the "Refer friends" full page is an extension page and needs no placement.
"""
from __future__ import annotations

import json
import time
import uuid
from html import escape
from pathlib import Path
from urllib.parse import urlencode

import jwt

from devstore.state import Store, gid

EXTENSIONS_DIR = Path(__file__).resolve().parent.parent / "extensions"
VIEW_MODULE = EXTENSIONS_DIR / "shared" / "advocate-view.js"
# Where the merchant can place Advocate's blocks: page (as the editor's ?page= names it) -> target.
PLACEMENTS = {
    "thank-you": ("Thank you page", "purchase.thank-you.block.render"),
    "order-status": ("Order status page", "customer-account.order-status.block.render"),
    "profile": ("Profile page", "customer-account.profile.block.render"),
}
TOKEN_TTL = 300  # checkout and customer-account session tokens live five minutes
# Which UI extension renders each surface: the Refer friends page is advocate-account's only target.
EXTENSION_OF = {"thank-you": "advocate-checkout", "order-status": "advocate-checkout", "profile": "advocate-checkout",
                "account": "advocate-account"}


def buyer_session_token(store: Store, domain: str, customer_id: int | None) -> str:
    """What `shopify.sessionToken.get()` gives an extension: HS256 with the app secret, the shop in
    `dest`, and the customer in `sub` only when the buyer is logged in."""
    moment = int(time.time())
    claims = {"dest": domain, "aud": store.api_key, "exp": moment + TOKEN_TTL, "nbf": moment, "iat": moment,
              "jti": str(uuid.uuid4())}
    if customer_id:
        claims["sub"] = gid("Customer", int(customer_id))
    return jwt.encode(claims, store.api_secret, algorithm="HS256")


def placed(shop: dict, page: str) -> bool:
    return page in shop.get("checkout_blocks", [])


def place(store: Store, domain: str, page: str, *, on: bool) -> None:
    if page not in PLACEMENTS:
        raise ValueError(f"Unknown page {page!r}; use one of {', '.join(PLACEMENTS)}.")
    with store.lock:
        shop = store.shop(domain)
        pages = [p for p in shop.get("checkout_blocks", []) if p != page]
        shop["checkout_blocks"] = pages + ([page] if on else [])
        store.save()


def extension_locales(extension: str) -> dict:
    """An extension's locale files as Shopify loads them: {"default": "en", "files": {"en": {...}, "ko": {...}}}."""
    files, default = {}, None
    for path in sorted((EXTENSIONS_DIR / extension / "locales").glob("*.json")):
        code = path.name.removesuffix(".json").removesuffix(".default")
        files[code] = json.loads(path.read_text(encoding="utf-8"))
        default = code if path.name.endswith(".default.json") else default
    return {"default": default, "files": files}


def _refer_page_url(domain: str, locale: str) -> str:
    return f"/shops/{domain}/account/pages/refer" + (f"?{urlencode({'locale': locale})}" if locale else "")


def block(store: Store, domain: str, surface: str, *, order_gid: str = "", locale: str = "") -> str:
    """The spot where the extension renders, with its locale files and the buyer's locale (empty where the
    page does not know the buyer), and the host script that fills it."""
    d = escape(domain)
    page = f' data-page-url="{escape(_refer_page_url(domain, locale))}"' if surface == "profile" else ""
    # JSON in a script element: with no "<" in it, no text can end the element or open a comment.
    locales = json.dumps(extension_locales(EXTENSION_OF[surface]), ensure_ascii=False).replace("<", "\\u003c")
    return (f'<section class="ext-block" aria-label="Advocate" data-advocate-block data-surface="{escape(surface)}"{page} '
            f'data-order="{escape(order_gid)}" data-app="{escape(store.app_url)}" '
            f'data-locale="{escape(locale)}" data-shop-locale="{escape(store.primary_locale(domain))}" '
            f'data-token-url="/shops/{d}/extensions/session-token" '
            f'data-module="/shops/{d}/cdn/extensions/advocate-view.js">'
            f'<script type="application/json" data-advocate-locales>{locales}</script></section>'
            f'<script type=module src="/shops/{d}/cdn/extensions/host.js"></script>')


def editor_page(shop: dict, domain: str, page: str) -> str:
    """The checkout and accounts editor, as far as app blocks go."""
    d = escape(domain)
    label, target = PLACEMENTS[page]
    is_placed = placed(shop, page)
    tabs = " · ".join(f'<a href="/shops/{d}/admin/settings/checkout/editor?page={p}"'
                      f'{" aria-current=page" if p == page else ""}>{escape(name)}</a>' for p, (name, _) in PLACEMENTS.items())
    state = ("<p class=notice role=status>Advocate's block is on this page.</p>" if is_placed
             else "<p>Advocate's block is not on this page yet.</p>")
    action = "Remove block" if is_placed else "Add block"
    return (f"<div class=card><h1>Checkout and accounts editor</h1><p>{tabs}</p>"
            f"<h2>{escape(label)}</h2>{state}"
            f'<form method=post action="/shops/{d}/admin/settings/checkout/editor?page={escape(page)}">'
            f'<input type=hidden name=on value="{"0" if is_placed else "1"}">'
            f'<button{" class=secondary" if is_placed else ""}>{action}: Advocate — referrals and reviews</button></form>'
            f"<p class=muted>Extension target <code>{escape(target)}</code>. In Shopify you drag the block where you "
            f"want it; devstore puts it below the page's main content.</p></div>")


def order_state(order: dict) -> str:
    if order.get("cancelled_at"):
        return "Cancelled"
    if order.get("financial_status") == "refunded":
        return "Refunded"
    fulfillments = order.get("fulfillments") or []
    if any(f.get("shipment_status") == "delivered" for f in fulfillments):
        return "Delivered"
    return "On its way" if fulfillments else "Confirmed"


def account_page(store: Store, shop: dict, domain: str, customer: dict) -> str:
    """The customer account's Orders page, with the profile block when placed."""
    d = escape(domain)
    orders = sorted(store.customer_orders(domain, customer["id"]), key=lambda o: o["id"], reverse=True)
    rows = "".join(
        f'<tr><td><a href="/shops/{d}/account/orders/{o["id"]}">{escape(o["name"])}</a></td>'
        f'<td>{escape(o["created_at"][:10])}</td><td>{escape(o["total"])} {escape(o["currency"])}</td>'
        f"<td>{escape(order_state(o))}</td></tr>" for o in orders)
    table = (f"<table><tr><th>Order</th><th>Date</th><th>Total</th><th>Status</th></tr>{rows}</table>" if orders
             else "<p>No orders yet.</p>")
    locale = customer.get("locale") or ""
    profile = block(store, domain, "profile", locale=locale) if placed(shop, "profile") else ""
    refer = escape(_refer_page_url(domain, locale))
    return (f'<div class=card><h1>Your account</h1><p>{escape(customer["first_name"])} {escape(customer.get("last_name", ""))}'
            f' · {escape(customer.get("email", ""))}</p><p><a href="{refer}">Refer friends</a></p>'
            f"{profile}</div><div class=card><h2>Orders</h2>{table}</div>")


def order_status_page(store: Store, shop: dict, domain: str, order: dict) -> str:
    d = escape(domain)
    lines = "".join(f"<li>{escape(li['title'])} × {li['quantity']}</li>" for li in order["line_items"])
    extension = (block(store, domain, "order-status", order_gid=gid("Order", order["id"]),
                       locale=order.get("customer_locale") or "")
                 if placed(shop, "order-status") else "")
    return (f'<div class=card><p><a href="/shops/{d}/account">← Orders</a></p><h1>Order {escape(order["name"])}</h1>'
            f"<p><strong>{escape(order_state(order))}</strong> · {escape(order['total'])} {escape(order['currency'])}</p>"
            f"<ul>{lines}</ul>{extension}</div>")


def refer_page(store: Store, domain: str) -> str:
    """The extension's full page (customer-account.page.render), in the language its address asks for."""
    d = escape(domain)
    # The heading is the extension's page heading: the host writes it in the extension's language.
    return (f'<div class=card><p><a href="/shops/{d}/account">← Your account</a></p>'
            f'<h1 data-advocate-page-title>Refer friends</h1>{block(store, domain, "account")}</div>')


def thank_you_block(store: Store, shop: dict, domain: str, order: dict) -> str:
    if not placed(shop, "thank-you"):
        return ""
    return block(store, domain, "thank-you", order_gid=gid("OrderIdentity", order["id"]),
                 locale=order.get("customer_locale") or "")
