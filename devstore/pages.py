"""devstore's HTML: the admin, the storefront, the mailbox. Every value is escaped."""
from __future__ import annotations

import functools
import io
import re
from decimal import Decimal
from html import escape
from pathlib import Path
from urllib.parse import quote

from devstore import flow
from devstore.state import ORDER_ADDRESS, PLANS
from devstore.theme import script_json

STATIC = Path(__file__).parent / "static"

CSS = """
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#202223;background:#f1f2f4}
a{color:#005bd3}header{background:#1a1a1a;color:#fff;padding:10px 20px;display:flex;gap:16px;align-items:center;flex-wrap:wrap}
header a{color:#fff;text-decoration:none}header .sub{opacity:.7;font-size:13px}main{max-width:1100px;margin:0 auto;padding:20px}
.card{background:#fff;border-radius:12px;box-shadow:0 1px 2px rgba(0,0,0,.12);padding:16px 20px;margin-bottom:16px}
h1{font-size:22px;margin:0 0 12px}h2{font-size:17px;margin:0 0 10px}table{width:100%;border-collapse:collapse;font-size:14px}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #e3e3e3;vertical-align:top}
button,.button{background:#303030;color:#fff;border:0;border-radius:8px;padding:7px 12px;font:inherit;cursor:pointer;text-decoration:none;display:inline-block}
button.secondary,.button.secondary{background:#fff;color:#303030;border:1px solid #c9cccf}
form.inline{display:inline}input,select{font:inherit;padding:6px 8px;border:1px solid #8a8a8a;border-radius:8px}
label{display:block;margin:8px 0 2px;font-weight:600}.error{background:#fee;border:1px solid #e51c00;color:#8e1f0b;padding:8px 12px;border-radius:8px}
.notice{background:#eaf4ff;border:1px solid #91c0ff;padding:8px 12px;border-radius:8px}.muted{color:#616161;font-size:13px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:16px}.product{display:grid;gap:16px}.product-media img{width:100%;height:auto;display:block;border-radius:8px}@media(min-width:750px){.product{grid-template-columns:3fr 2fr}}.badge{font-size:12px;background:#e3e3e3;border-radius:10px;padding:1px 8px}
.card-rating{margin:4px 0;font-size:14px;color:#4a4a4a}.card-stars{color:#b26b00;letter-spacing:1px}
.ext-block{border:1px solid #d4d4d4;border-radius:10px;padding:14px 16px;margin:14px 0;background:#fafafa}.ext-block h2{font-size:17px}
.ext-block h3{font-size:15px;margin:10px 0 4px}.ext-text.subdued{color:#616161}.ext-text.success{color:#0c5132}.ext-row{display:flex;gap:8px;align-items:center;flex-wrap:wrap}
.ext-row input{flex:1 1 220px;min-width:0}.ext-copied{font-size:13px;color:#0c5132}.ext-share{list-style:none;padding:0;display:flex;gap:12px;flex-wrap:wrap}
.ext-stars-row{display:flex;gap:10px;align-items:center;flex-wrap:wrap;margin:6px 0}.ext-product{flex:1 1 140px}
.ext-star{display:inline-flex;align-items:center;justify-content:center;min-width:40px;min-height:40px;font-size:28px;color:#8a6100;text-decoration:none}
.ext-star:hover,.ext-star:focus{color:#5c4000}.ext-figures{display:grid;grid-template-columns:auto 1fr;gap:2px 14px}.ext-figures dt{color:#616161}.ext-figures dd{margin:0;font-weight:600}
.languages ul{list-style:none;display:flex;flex-wrap:wrap;gap:4px 12px;margin:0;padding:0}.languages a[aria-current]{font-weight:700;text-decoration:underline}
.frame{width:100%;height:calc(100vh - 110px);border:0;background:#fff;border-radius:12px}
"""


def layout(title: str, body: str, *, nav: str = "") -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{escape(title)} · devstore</title><link rel=icon href=\"data:,\"><style>{CSS}</style></head><body>"
            f'<header><a href="/"><strong>devstore</strong></a><span class="sub">a local Shopify for Advocate</span>{nav}'
            f'<a href="/mailbox">Mailbox</a></header><main>{body}</main></body></html>')


def index(store) -> str:
    rows = "".join(
        f"<tr><td><strong>{escape(s['name'])}</strong><br><span class=muted>{escape(d)}</span></td>"
        f"<td>{escape(PLANS[s['plan']][0])}, {escape(s['currency'])}</td>"
        f"<td>{'Installed' if s['app']['installed'] else 'Not installed'}</td>"
        f'<td><a class=button href="/shops/{escape(d)}/admin">Admin</a> '
        f'<a class="button secondary" href="/shops/{escape(d)}/">Storefront</a></td></tr>'
        for d, s in store.shops.items()
    )
    return layout("Shops", f'<div class=card><h1>Shops</h1><table><tr><th>Shop</th><th>Plan</th><th>Advocate</th><th></th></tr>{rows}</table></div>'
                           f'<div class=card><h2>Mailbox</h2><p><a href="/mailbox">{len(store.mail)} messages</a> sent by Advocate.</p></div>')


def shop_nav(domain: str) -> str:
    d = escape(domain)
    return f'<a href="/shops/{d}/admin">Admin</a><a href="/shops/{d}/admin/apps/advocate">Advocate</a><a href="/shops/{d}/">Storefront</a>'


def _button(domain: str, action: str, label: str, secondary: bool = False, **fields) -> str:
    hidden = "".join(f'<input type=hidden name="{escape(k)}" value="{escape(str(v))}">' for k, v in fields.items())
    cls = ' class="secondary"' if secondary else ""
    return (f'<form class=inline method=post action="/shops/{escape(domain)}/admin/actions/{action}">{hidden}'
            f"<button{cls}>{escape(label)}</button></form>")


# The languages devstore's admin offers its staff (Shopify offers more; Italian shows one Advocate lacks).
ADMIN_LANGUAGES = [("en", "English"), ("ko", "한국어"), ("ja", "日本語"), ("de", "Deutsch"), ("fr", "Français"),
                   ("es", "Español"), ("it", "Italiano")]


def _admin_language(domain: str, staff: int, chosen: str) -> str:
    options = "".join(f'<option value="{code}"{" selected" if code == chosen else ""}>{escape(name)}</option>'
                      for code, name in ADMIN_LANGUAGES)
    return (f'<div class=card><h2>Your account</h2><form class=inline method=post '
            f'action="/shops/{escape(domain)}/admin/actions/admin-language"><label for=admin-locale>Admin language '
            f'(staff member {staff})</label> <select id=admin-locale name=locale>{options}</select> '
            f'<button class=secondary>Save language</button></form>'
            f'<p class=muted>Apps read it from the <code>locale</code> Shopify adds when it opens them.</p></div>')


def admin(store, domain: str, message: str = "", error: str = "", *, staff: int = 0) -> str:
    shop = store.shop(domain)
    app = shop["app"]
    flash = (f'<p class=notice role=status>{escape(message)}</p>' if message else "") + (
        f'<p class=error role=alert>{escape(error)}</p>' if error else "")
    if app["installed"]:
        app_actions = (f'<a class=button href="/shops/{escape(domain)}/admin/apps/advocate">Open Advocate</a> '
                       + _button(domain, "uninstall", "Uninstall", True))
        state = f"Installed {escape(app['installed_at'] or '')}; token {'valid' if app['access_token'] else 'not issued yet'}"
    else:
        app_actions = _button(domain, "install", "Install Advocate")
        state = "Not installed" + (f" (uninstalled {escape(app['uninstalled_at'])})" if app["uninstalled_at"] else "")
    orders = sorted(shop["orders"].values(), key=lambda o: o["id"], reverse=True)[:30]
    order_rows = "".join(
        f"<tr><td>{escape(o['name'])}</td><td>{escape(_customer_name(shop, o))}</td><td>{escape(o['total'])} {escape(o['currency'])}"
        f"{' (refunded ' + escape(o['refunded']) + ')' if Decimal(o['refunded']) else ''}</td>"
        f"<td>{escape(', '.join(d['code'] for d in o['discount_codes']))}</td>"
        f"<td>{escape(o['financial_status'])}, {escape(o['fulfillment_status'] or 'unfulfilled')}"
        f"{', delivered' if any(f['shipment_status'] == 'delivered' for f in o['fulfillments']) else ''}"
        f"{', cancelled' if o['cancelled_at'] else ''}</td><td>"
        + ("" if o["cancelled_at"] else
           (_button(domain, "fulfil", "Fulfil", order=o["id"]) if not o["fulfillment_status"] else
            _button(domain, "deliver", "Mark delivered", True, order=o["id"]))
           + " " + _button(domain, "refund", "Refund", True, order=o["id"])
           + " " + _button(domain, "cancel", "Cancel", True, order=o["id"]))
        + "</td></tr>"
        for o in orders
    )
    customer_rows = "".join(
        f"<tr><td>{escape(c['first_name'])} {escape(c['last_name'])}</td><td>{escape(c['email'] or '(no email)')}</td>"
        f"<td>{escape(c['marketing'].lower().replace('_', ' '))}</td>"
        f"<td>{''.join(f'<span class=badge>{escape(t)}</span> ' for t in (c.get('tags') or '').split(',') if t.strip())}</td><td>"
        + _button(domain, "marketing", "Opt out" if c["marketing"] == "SUBSCRIBED" else "Opt in", True, customer=c["id"],
                  state="UNSUBSCRIBED" if c["marketing"] == "SUBSCRIBED" else "SUBSCRIBED")
        + " " + _button(domain, "data-request", "Request data", True, customer=c["id"])
        + " " + _button(domain, "redact", "Erase", True, customer=c["id"]) + "</td></tr>"
        for c in shop["customers"].values()
    )
    discounts = "".join(
        f"<tr><td>{escape(d['code'])}</td><td>{escape(d['title'])}</td><td>"
        f"{escape(str(round(d['percentage'] * 100)) + '%' if d['percentage'] is not None else d['amount'])}</td>"
        f"<td>{len(d['used_by'])}{' / ' + str(d['usage_limit']) if d['usage_limit'] else ''}</td></tr>"
        for d in shop["discounts"].values()
    ) or '<tr><td colspan=4 class=muted>No discount codes yet.</td></tr>'
    credit = "".join(
        f"<tr><td>{escape(_customer_name(shop, {'customer_id': a['customer_id']}))}</td><td>{escape(a['balance'])} {escape(a['currency'])}</td></tr>"
        for a in shop["credit_accounts"].values()
    ) or '<tr><td colspan=2 class=muted>No store credit issued yet.</td></tr>'
    deliveries = "".join(
        f"<tr><td>{escape(w['topic'])}</td><td>{escape(w['status'])}</td><td>{w['attempts']}</td><td>{escape(', '.join(w['responses']))}</td></tr>"
        for w in reversed(shop["deliveries"][-15:])
    ) or '<tr><td colspan=4 class=muted>No webhooks sent yet.</td></tr>'
    body = (
        f"<h1>{escape(shop['name'])}</h1>{flash}"
        f"<div class=card><h2>Apps</h2><p><strong>Advocate</strong> — {state}</p>{app_actions}</div>"
        f"<div class=card><h2>Orders</h2><table><tr><th>Order</th><th>Customer</th><th>Total</th><th>Codes</th><th>Status</th><th></th></tr>{order_rows}</table></div>"
        f"<div class=card><h2>Customers</h2><table><tr><th>Name</th><th>Email</th><th>Marketing</th><th>Tags</th><th></th></tr>{customer_rows}</table>"
        f"<p>{_button(domain, 'shop-redact', 'Send shop/redact', True)}</p></div>"
        f"<div class=card><h2>Discount codes</h2><table><tr><th>Code</th><th>Title</th><th>Value</th><th>Used</th></tr>{discounts}</table></div>"
        f"<div class=card><h2>Store credit</h2><table><tr><th>Customer</th><th>Balance</th></tr>{credit}</table></div>"
        f"<div class=card><h2>Webhooks sent</h2><table><tr><th>Topic</th><th>Status</th><th>Attempts</th><th>Answers</th></tr>{deliveries}</table></div>"
        + flow.admin_card(shop, domain)
        + _admin_language(domain, staff, store.staff_locale(domain, staff))
    )
    return layout(f"{shop['name']} admin", body, nav=shop_nav(domain))


def _customer_name(shop: dict, order: dict) -> str:
    customer = shop["customers"].get(str(order.get("customer_id")))
    if not customer:
        return order.get("email") or "Guest"
    return f"{customer['first_name']} {customer['last_name']}".strip()


# What the admin draws for the app, outside its iframe (devstore/static/app-bridge-host.js).
_APP_HOST = """<style>
.save-bar{position:fixed;top:0;left:0;right:0;z-index:20;display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center;
justify-content:space-between;padding:8px 20px;background:#1a1a1a;color:#fff}.save-bar[hidden]{display:none}
.save-bar p{margin:0;font-weight:600}.save-bar div{display:flex;gap:8px}
.save-bar .discard{background:#3a3a3a;border:1px solid #6b6b6b}.save-bar .save{background:#fff;color:#1a1a1a}
.toasts{position:fixed;left:50%;bottom:24px;transform:translateX(-50%);z-index:30;display:flex;flex-direction:column;
gap:8px;align-items:center;width:max-content;max-width:calc(100vw - 32px)}
.toast{display:flex;gap:12px;align-items:center;background:#1a1a1a;color:#fff;border-radius:10px;padding:10px 8px 10px 16px;
box-shadow:0 8px 20px rgba(0,0,0,.25)}.toast-error{background:#c70a24}
.toast button{background:none;padding:0 8px;font-size:20px;line-height:1}
dialog{border:0;border-radius:12px;padding:0;width:min(90vw,560px);box-shadow:0 20px 40px rgba(0,0,0,.3)}
dialog::backdrop{background:rgba(0,0,0,.5)}dialog h2{margin:0;padding:16px 20px;border-bottom:1px solid #e3e3e3}
dialog p{margin:0;padding:16px 20px}dialog .dialog-actions{display:flex;justify-content:flex-end;gap:8px;
padding:12px 20px;border-top:1px solid #e3e3e3}button.critical{background:#c70a24}
</style>
<div id=save-bar class=save-bar role=region aria-label="Unsaved changes" hidden><p>Unsaved changes</p>
<div><button type=button class=discard data-action=discard>Discard</button><button type=button class=save data-action=save>Save</button></div></div>
<div id=toasts class=toasts role=status></div>
<dialog id=leave-dialog aria-labelledby=leave-title><form method=dialog><h2 id=leave-title>Leave page with unsaved changes?</h2>
<p>Leaving this page will delete all unsaved changes.</p>
<div class=dialog-actions><button class=secondary value=stay>Stay</button><button class=critical value=leave>Leave page</button></div></form></dialog>"""


def app_frame(domain: str, frame_url: str, app_origin: str) -> str:
    body = (f'<iframe class=frame id=app-frame title="Advocate" src="{escape(frame_url)}" data-app-origin="{escape(app_origin)}" '
            f'data-token-url="/shops/{escape(domain)}/admin/session-token"></iframe>{_APP_HOST}'
            f"<script>{(STATIC / 'app-bridge-host.js').read_text()}</script>")
    return layout("Advocate", body, nav=shop_nav(domain))


def theme_editor(domain: str, block_name: str, query: str) -> str:
    return layout("Theme editor", f"""<div class=card><h1>Theme editor: Dawn</h1>
<p>Add <strong>{escape(block_name)}</strong> from Advocate to your live theme?</p>
<form method=post action="/shops/{escape(domain)}/admin/themes/current/editor?{escape(query)}"><button>Save</button></form>
<p class=muted>Shopify's theme editor lets you place and style the block; devstore places it in the main section
(or, asked for a new section, in an Apps section of its own).</p></div>""",
                  nav=shop_nav(domain))


def not_installed(domain: str) -> str:
    return layout("Advocate", f'<div class=card><h1>Advocate is not installed</h1><p>Install it from the '
                              f'<a href="/shops/{escape(domain)}/admin">admin</a> first.</p></div>', nav=shop_nav(domain))


def consent(domain: str, scopes: str, query: str) -> str:
    scope_items = "".join(f"<li>{escape(s)}</li>" for s in scopes.split(",") if s)
    return layout("Install app", f"""<div class=card><h1>Install Advocate on {escape(domain)}?</h1>
<p>Advocate will be able to:</p><ul>{scope_items}</ul>
<form method=post action="/shops/{escape(domain)}/admin/oauth/authorize?{escape(query)}"><button>Install app</button></form></div>""")


# --- storefront --------------------------------------------------------------------
def store_layout(shop: dict, domain: str, title: str, body: str, cart_count: int, customer: dict | None) -> str:
    d = escape(domain)
    who = (f'Hi {escape(customer["first_name"])} · <a href="/shops/{d}/account">Account</a> · '
           f'<a href="/shops/{d}/account/logout">Log out</a>' if customer
           else f'<a href="/shops/{d}/account/login">Log in</a>')
    # <!--languages-->: the server puts the language list there once it knows the page's address.
    nav = (f'<a href="/shops/{d}/">{escape(shop["name"])}</a><a href="/shops/{d}/cart">Cart ({cart_count})</a>'
           f'<span class=sub>{who}</span><!--languages-->')
    return layout(f"{title} · {shop['name']}", body, nav=nav)


def language_links(current: str, links: list[tuple[str, str, str]]) -> str:
    """The storefront's languages as Dawn's selector offers them, here a list of links: (code, name in its
    own language, this page's address in it). Nothing for a shop with one language."""
    if len(links) < 2:
        return ""
    items = "".join(f'<li><a href="{escape(href)}" hreflang="{escape(code)}" lang="{escape(code)}"'
                    f'{" aria-current=true" if code == current else ""}>{escape(name)}</a></li>'
                    for code, name, href in links)
    return f'<nav class=languages aria-label="Language"><ul>{items}</ul></nav>'


def card_rating(metafields: dict) -> str:
    """What Dawn's product card shows from the standard reviews.rating / rating_count metafields."""
    rating = metafields.get("reviews", {}).get("rating", {}).get("value")
    count = metafields.get("reviews", {}).get("rating_count", {}).get("value", 0)
    if not rating or not count:
        return ""
    value = rating["rating"]
    stars = "".join("★" if i <= int(value + 0.5) else "☆" for i in range(1, 6))  # rounded as Liquid rounds
    return (f'<p class=card-rating role=img aria-label="{value:.1f} out of 5.0 stars, {count} total reviews">'
            f'<span aria-hidden=true class=card-stars>{stars}</span> <span aria-hidden=true>{value:.1f} / 5.0 ({count})</span></p>')


def storefront_home(shop, domain, cart_count, customer, ratings: dict | None = None) -> str:
    """The home page's product grid, a collection as Dawn draws it (stars from the rating metafields)."""
    ratings = ratings or {}
    cards = "".join(
        # The photo repeats the title's link, so it is left out of the tab order and the accessibility tree.
        f'<div class=card><a href="/shops/{escape(domain)}/products/{escape(p["handle"])}" tabindex=-1 aria-hidden=true>'
        f'<img src="/shops/{escape(domain)}/images/{escape(p["handle"])}.svg" alt="" width=100% height=140></a>'
        f'<h2><a href="/shops/{escape(domain)}/products/{escape(p["handle"])}">{escape(p["title"])}</a></h2>'
        f'{ratings.get(p["id"], "")}'
        f'<p>{escape(p["price"])} {escape(shop["currency"])}</p></div>'
        for p in shop["products"].values()
    )
    return store_layout(shop, domain, "Home", f"<h1>{escape(shop['name'])}</h1><div class=grid>{cards}</div><!--app-blocks-->",
                        cart_count, customer)


def product_page(shop, domain, product, cart_count, customer, markup: dict | None = None) -> str:
    """A Dawn-like product page; `markup` is the theme's own Product JSON-LD, where the theme writes one."""
    d = escape(domain)
    # Dawn's main product: a large photo (the page's largest paint) beside the title and the buy form.
    body = (f'<script type="application/ld+json">{script_json(markup)}</script>' if markup else "") + (
            f'<div class="card product"><div class=product-media><img src="/shops/{d}/images/{escape(product["handle"])}.jpg" '
            f'alt="{escape(product["title"])}" width=1200 height=1200 fetchpriority=high></div><div>'
            f'<h1>{escape(product["title"])}</h1><p>{escape(product["price"])} {escape(shop["currency"])}</p>'
            f'<form method=post action="/shops/{d}/cart"><input type=hidden name=product value="{product["id"]}">'
            f'<label for=qty>Quantity</label><input id=qty name=quantity type=number min=1 value=1> <button>Add to cart</button></form></div></div>'
            f'<div class=card><!--app-blocks--></div>')
    return store_layout(shop, domain, product["title"], body, cart_count, customer)


def cart_page(shop, domain, items, discount_code, cart_count, customer, error="", values=None) -> str:
    d = escape(domain)
    values = values or {}
    rows = "".join(f"<tr><td>{escape(p['title'])}</td><td>{q}</td><td>{escape(p['price'])}</td></tr>" for p, q in items)
    if not items:
        return store_layout(shop, domain, "Cart", f'<div class=card><h1>Your cart is empty</h1><p><a href="/shops/{d}/">Continue shopping</a></p></div>', 0, customer)

    def field(name, label, value="", kind="text"):
        return (f'<label for={name}>{label}</label><input id={name} name={name} type={kind} '
                f'value="{escape(values.get(name, value))}">')

    person = _checkout_person(shop, customer)
    body = (f"<div class=card><h1>Cart</h1><table><tr><th>Product</th><th>Qty</th><th>Price</th></tr>{rows}</table></div>"
            f"<div class=card><h2>Checkout</h2>{f'<p class=error role=alert>{escape(error)}</p>' if error else ''}"
            f'<form method=post action="/shops/{d}/checkout">'
            + field("email", "Email", person["email"], "email")
            + field("first_name", "First name", person["first_name"])
            + field("last_name", "Last name", person["last_name"])
            + field("address1", "Address", person["address1"]) + field("city", "City", person["city"])
            + field("zip", "Postal code", person["zip"])
            + '<label for=country>Country</label><select id=country name=country>'
            + "".join(f'<option{" selected" if values.get("country", "US") == c else ""}>{c}</option>' for c in ("US", "CA", "GB", "DE", "FR"))
            + "</select>" + field("discount_code", "Discount code", discount_code or "")
            + "<p><button>Place order</button></p></form></div>")
    return store_layout(shop, domain, "Cart", body, cart_count, customer)


def _checkout_person(shop: dict, customer: dict | None) -> dict:
    """What the checkout form starts with: a logged-in customer's own details (at the address of the
    seeded orders), otherwise a new shopper who has never bought here, as a referred friend would be.

    The guest must not look like the seeded advocates (same address or email), or following the
    README's referral journey by hand gets the friend's order flagged as a self-referral."""
    if customer:
        return {"email": customer.get("email", ""), "first_name": customer.get("first_name", ""),
                "last_name": customer.get("last_name", ""), "address1": ORDER_ADDRESS["address1"],
                "city": ORDER_ADDRESS["city"], "zip": ORDER_ADDRESS["zip_code"]}
    number = 1000 + len(shop["orders"]) + 1  # a new email per order: each friend is a first-time customer
    return {"email": f"sam.rivera.{number}@example.com", "first_name": "Sam", "last_name": "Rivera",
            "address1": "27 Harbour Road", "city": "Portland", "zip": "97201"}


def thank_you(shop, domain, order, customer, extension: str = "") -> str:
    codes = ", ".join(d["code"] for d in order["discount_codes"])
    account = (f' · <a href="/shops/{escape(domain)}/account/orders/{order["id"]}">Order status</a>' if customer else "")
    body = (f"<div class=card><h1>Thank you!</h1><p>Order {escape(order['name'])} is confirmed: "
            f"{escape(order['total'])} {escape(order['currency'])}{' with ' + escape(codes) if codes else ''}.</p>"
            f"{extension}"
            f'<p class=muted><a href="/shops/{escape(domain)}/admin">See it in the admin</a> to fulfil it{account}.</p></div>')
    return store_layout(shop, domain, "Thank you", body, 0, customer)


def login_page(shop, domain, error="", return_url="") -> str:
    d = escape(domain)
    back = f"?return_url={quote(return_url, safe='/')}" if return_url else ""
    body = (f"<div class=card><h1>Log in</h1>{f'<p class=error role=alert>{escape(error)}</p>' if error else ''}"
            f'<form method=post action="/shops/{d}/account/login{escape(back)}"><label for=email>Email</label>'
            f"<input id=email name=email type=email required> <button>Log in</button></form>"
            f"<p class=muted>devstore has no passwords: any customer's email logs you in.</p></div>")
    return store_layout(shop, domain, "Log in", body, 0, None)


def theme_wrap(shop, domain, content: str, cart_count, customer) -> str:
    return store_layout(shop, domain, "", f"<div class=card>{content}</div>", cart_count, customer)


@functools.lru_cache(maxsize=64)
def product_photo(handle: str, color: str) -> bytes:
    """A product photo of real size and weight (1200 × 1200 JPEG, grainy like a photograph), so
    the product page's largest paint is what it is on a real shop."""
    from PIL import Image, ImageOps

    grain = Image.effect_noise((1200, 1200), 48).convert("L")
    photo = ImageOps.colorize(grain, black="#202020", white=color)
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=82)
    return out.getvalue()


def product_image(product: dict) -> str:
    title = escape(product["title"])
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300" viewBox="0 0 400 300" role="img" aria-label="{title}">'
            f'<rect width="400" height="300" fill="{escape(product["image_color"])}"/>'
            f'<text x="200" y="160" font-family="sans-serif" font-size="26" fill="#fff" text-anchor="middle">{title}</text></svg>')


def brand_logo(shop: dict) -> str:
    """The logo the merchant uploaded in Settings › Brand: a wordmark in the brand colour."""
    name, colour = escape(shop["name"]), escape((shop.get("brand") or {}).get("primary") or "#303030")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="360" height="80" viewBox="0 0 360 80" role="img" aria-label="{name}">'
            f'<circle cx="40" cy="40" r="30" fill="{colour}"/><path d="M22 52 L40 22 L58 52 Z" fill="#fff"/>'
            f'<text x="84" y="51" font-family="Georgia, serif" font-size="30" font-weight="700" fill="{colour}">{name}</text></svg>')


# --- mailbox -----------------------------------------------------------------------
def mailbox(messages: list[dict]) -> str:
    rows = "".join(
        f'<tr><td><a href="/mailbox/{m["id"]}">{escape(m["subject"] or "(no subject)")}</a></td>'
        f"<td>{escape(', '.join(m['to']))}</td><td>{escape(m['from'])}</td><td class=muted>{escape(m['received_at'])}</td></tr>"
        for m in reversed(messages)
    ) or '<tr><td colspan=4 class=muted>No messages yet. Advocate\'s emails arrive here.</td></tr>'
    return layout("Mailbox", f"<div class=card><h1>Mailbox</h1><table><tr><th>Subject</th><th>To</th><th>From</th><th>Received</th></tr>{rows}</table></div>")


def mail_html(html: str) -> str:
    """An email's HTML for the mailbox's sandboxed frame, with every link opening in a new tab.

    The sandbox keeps the email's scripts and forms out of devstore's page; a link followed
    inside it would inherit the sandbox, and the review form it opens could not be submitted.
    """
    base = '<base target="_blank">'
    head = re.search(r"<head(?:\s[^>]*)?>", html, re.I)
    return html[:head.end()] + base + html[head.end():] if head else base + html


def mail_message(message: dict) -> str:
    headers = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in message["headers"].items()
                      if k.lower() in ("from", "to", "reply-to", "subject", "date", "list-unsubscribe", "list-unsubscribe-post"))
    html_part = (f'<iframe class=frame style="height:70vh" title="Message" sandbox="allow-popups allow-popups-to-escape-sandbox" '
                 f'src="/mailbox/{message["id"]}/html"></iframe>' if message["html"] else "")
    body = (f'<p><a href="/mailbox">← Mailbox</a></p><div class=card><h1>{escape(message["subject"])}</h1><table>{headers}</table></div>'
            f"<div class=card>{html_part}<h2>Plain text</h2><pre style='white-space:pre-wrap;overflow-wrap:anywhere'>{escape(message['text'])}</pre></div>")
    return layout(message["subject"] or "Message", body)


def link(domain: str, path: str) -> str:
    return f"/shops/{quote(domain)}{path}"
