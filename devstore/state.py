"""devstore's shops and everything in them, kept in memory and saved to one JSON file.

Every change goes through a method here, under one lock, and emits the webhooks Shopify
would emit for it. Ids are 64-bit integers above 2**53, as Shopify's are, so a client
that reads them as floats breaks here first.
"""
from __future__ import annotations

import itertools
import json
import operator
import os
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Callable

from devstore.theme import default_theme

FIRST_ID = 2**53 + 1000
ACCESS_TOKEN_TTL = 3600  # seconds: Shopify's expiring offline tokens last an hour
REFRESH_TOKEN_TTL = 90 * 86400
# Where orders placed by script (the seeds, the demo's own orders) ship: the customers' home address.
ORDER_ADDRESS = {"address1": "1 Main Street", "city": "Springfield", "zip_code": "12345"}
# The ShopifyQL devstore's segments understand: one comparison on the customer's order count.
SEGMENT_QUERY = re.compile(r"\s*number_of_orders\s*(=|!=|>=|<=|>|<)\s*(\d+)\s*")
SEGMENT_OPS: dict[str, Callable[[int, int], bool]] = {
    "=": operator.eq, "!=": operator.ne, ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt,
}
PLANS = {  # plan -> (display name, bucket size, restore rate per second, Plus?)
    "basic": ("Basic", 1000.0, 100.0, False),
    "advanced": ("Advanced", 2000.0, 200.0, False),
    "plus": ("Shopify Plus", 10000.0, 1000.0, True),
}


# The shop's staff as the admin knows them: n is the `staff` a devstore session token is made for.
STAFF = [("Dana", "Reyes", "dana@example.com"), ("Sam", "Okafor", "sam@example.com"), ("Lea", "Martin", "lea@example.com")]


class StoreError(Exception):
    """A request devstore refuses, with a message for the person who made it."""


def now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def money(value: Any) -> str:
    return str(Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def gid(kind: str, value: int) -> str:
    return f"gid://shopify/{kind}/{value}"


def gid_id(value: str | int, kind: str | None = None) -> int | None:
    """The number in `gid://shopify/Kind/123` (or a bare number); None if it is not one."""
    text = str(value)
    if text.startswith("gid://shopify/"):
        parts = text.split("/")
        if kind and parts[3] != kind:
            return None
        text = parts[-1]
    return int(text) if text.isdigit() else None


@dataclass
class Delivery:
    """One webhook as devstore sends it: retried until the app answers 2xx."""

    id: str
    shop: str
    topic: str
    event_id: str
    body: bytes
    triggered_at: str
    uri: str
    api_version: str
    attempts: int = 0
    status: str = "pending"  # pending, delivered, failed
    responses: list[str] = field(default_factory=list)
    next_attempt: float = 0.0


class Store:
    def __init__(self, *, app_url: str, api_key: str, api_secret: str, data_dir: str | None = None,
                 scopes: str = "", api_version: str = "2026-10", token_ttl: int = ACCESS_TOKEN_TTL,
                 subscriptions: list[dict] | None = None, proxy_url: str | None = None) -> None:
        self.lock = threading.RLock()
        self.app_url = app_url.rstrip("/")
        self.base_url = ""  # devstore's own address, known once its server listens
        self.api_key = api_key
        self.api_secret = api_secret
        self.scopes = scopes
        self.optional_scopes: list[str] = []  # shopify.app.toml's: what the app may ask for after install
        self.api_version = api_version
        self.token_ttl = token_ttl
        self.proxy_url = (proxy_url or f"{self.app_url}/proxy").rstrip("/")
        self.subscriptions = subscriptions or []  # from shopify.app.toml: [{"topics": [...], "uri": ...}]
        self.path = Path(data_dir) / "state.json" if data_dir else None
        self.shops: dict[str, dict] = {}
        self.mail: list[dict] = []
        self.next_id = FIRST_ID
        self.listeners: list[Callable[[Delivery], None]] = []
        self.faults: list[dict] = []  # fault switches for GraphQL calls (DevStore.fault); not persisted
        self._load()

    # --- persistence -------------------------------------------------------------
    def _load(self) -> None:
        if self.path and self.path.exists():
            data = json.loads(self.path.read_text())
            self.shops, self.mail, self.next_id = data["shops"], data["mail"], data["next_id"]

    def save(self) -> None:
        if not self.path:
            return
        with self.lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"shops": self.shops, "mail": self.mail, "next_id": self.next_id}))
            os.replace(tmp, self.path)

    def new_id(self) -> int:
        with self.lock:
            self.next_id += 1
            return self.next_id

    # --- shops -------------------------------------------------------------------
    def shop(self, domain: str) -> dict:
        shop = self.shops.get(domain)
        if shop is None:
            raise StoreError(f"There is no shop {domain} in devstore.")
        return shop

    def shop_create(self, domain: str, *, name: str, email: str, currency: str, timezone_name: str,
                    plan: str = "basic", store_credit: bool = True, locales: tuple[str, ...] = ("en",)) -> dict:
        """A shop; `locales` are its storefront languages, the first the primary one (shopLocales)."""
        if plan not in PLANS:
            raise StoreError(f"Unknown plan {plan!r}; use one of {', '.join(PLANS)}.")
        with self.lock:
            if domain in self.shops:
                return self.shops[domain]
            size = PLANS[plan][1]
            self.shops[domain] = {
                "domain": domain, "id": self.new_id(), "name": name, "email": email, "currency": currency,
                "timezone": timezone_name, "plan": plan, "store_credit": store_credit, "locales": list(locales),
                "products": {}, "customers": {}, "orders": {}, "discounts": {}, "credit_accounts": {},
                "app": {"installed": False, "scopes": "", "access_token": None, "access_expires": 0,
                        "refresh_token": None, "refresh_expires": 0, "used_refresh_tokens": [],
                        "installed_at": None, "uninstalled_at": None},
                "extra_subscriptions": [],
                "theme": default_theme(),
                "bucket": {"available": size, "updated": time.time()},
                "deliveries": [],
            }
            self.save()
            return self.shops[domain]

    def product_create(self, domain: str, *, title: str, price: str, handle: str | None = None,
                       image_color: str = "#5c6ac4", gift_card: bool = False) -> dict:
        with self.lock:
            shop = self.shop(domain)
            pid = self.new_id()
            handle = handle or title.lower().replace(" ", "-")
            product = {"id": pid, "title": title, "handle": handle, "price": money(price), "status": "ACTIVE",
                       "variant_id": self.new_id(), "image_color": image_color, "gift_card": gift_card,
                       "created_at": iso(now())}
            shop["products"][str(pid)] = product
            self.save()
            return product

    def product(self, domain: str, ref: str | int) -> dict:
        shop = self.shop(domain)
        for product in shop["products"].values():
            if str(product["id"]) == str(ref) or product["handle"] == ref:
                return product
        raise StoreError(f"No product {ref} in {domain}.")

    # --- customers -----------------------------------------------------------------
    def customer_create(self, domain: str, *, first_name: str, last_name: str = "", email: str = "",
                        phone: str = "", marketing: str = "SUBSCRIBED", emit: bool = True,
                        locale: str | None = None) -> dict:
        with self.lock:
            shop = self.shop(domain)
            if email and self.customer_by_email(domain, email):
                raise StoreError(f"A customer with {email} already exists in {domain}.")
            cid = self.new_id()
            customer = {"id": cid, "first_name": first_name, "last_name": last_name, "email": email.lower(),
                        "phone": phone, "marketing": marketing, "state": "enabled", "created_at": iso(now()),
                        "updated_at": iso(now()), "locale": locale or self.primary_locale(domain)}
            shop["customers"][str(cid)] = customer
            self.save()
        if emit:
            self.emit(domain, "customers/create", self.customer_payload(customer))
        return customer

    def primary_locale(self, domain: str) -> str:
        return (self.shop(domain).get("locales") or ["en"])[0]

    def customer(self, domain: str, customer_id: int | str) -> dict:
        customer = self.shop(domain)["customers"].get(str(gid_id(customer_id) or customer_id))
        if customer is None:
            raise StoreError(f"No customer {customer_id} in {domain}.")
        return customer

    def customer_by_email(self, domain: str, email: str) -> dict | None:
        email = email.strip().lower()
        return next((c for c in self.shop(domain)["customers"].values() if email and c["email"] == email), None)

    def customer_set_marketing(self, domain: str, customer_id: int, state: str) -> dict:
        """The shopper opts in or out of marketing (SUBSCRIBED / UNSUBSCRIBED)."""
        with self.lock:
            customer = self.customer(domain, customer_id)
            customer["marketing"] = state
            customer["updated_at"] = iso(now())
            self.save()
        event = self.emit(domain, "customers/update", self.customer_payload(customer))
        self.emit(domain, "customers_email_marketing_consent/update", {
            "customer_id": customer["id"], "email_address": customer["email"],
            "email_marketing_consent": {"state": state.lower(), "opt_in_level": "single_opt_in",
                                        "consent_updated_at": iso(now())},
        }, event_id=event)
        return customer

    def customer_payload(self, customer: dict) -> dict:
        return {
            "id": customer["id"], "admin_graphql_api_id": gid("Customer", customer["id"]),
            "email": customer["email"] or None, "phone": customer["phone"] or None,
            "first_name": customer["first_name"], "last_name": customer["last_name"],
            "state": customer["state"], "created_at": customer["created_at"], "updated_at": customer["updated_at"],
            "verified_email": True, "tags": "", "currency": None,
        }

    def customer_orders(self, domain: str, customer_id: int) -> list[dict]:
        return [o for o in self.shop(domain)["orders"].values() if o.get("customer_id") == customer_id]

    # --- customer segments ---------------------------------------------------------
    def segments(self, domain: str) -> dict:
        # setdefault: shops saved before segments existed have none yet.
        return self.shop(domain).setdefault("segments", {})

    def segment_create(self, domain: str, *, name: str, query: str) -> dict:
        """A segment; StoreError (Shopify's userError wording) for a taken name or a query devstore cannot run."""
        name = name.strip()
        if not name:
            raise StoreError("Name can't be blank")
        if not SEGMENT_QUERY.fullmatch(query or ""):
            raise StoreError("Query is invalid: devstore understands `number_of_orders <op> <n>` only")
        with self.lock:
            segments = self.segments(domain)
            if any(s["name"].lower() == name.lower() for s in segments.values()):
                raise StoreError("Name has already been taken")
            sid = self.new_id()
            segments[str(sid)] = {"id": sid, "name": name, "query": query.strip(), "created_at": iso(now())}
            self.save()
            return segments[str(sid)]

    def segment_admits(self, domain: str, segment: dict, *, customer: dict | None, email: str) -> bool:
        """Whether the buyer is in the segment now. A guest is judged by the orders placed with their email."""
        op, limit = SEGMENT_QUERY.fullmatch(segment["query"]).group(1, 2)
        email = (customer["email"] if customer else email or "").lower()
        count = sum(1 for o in self.shop(domain)["orders"].values()
                    if (customer and o.get("customer_id") == customer["id"]) or (email and o.get("email", "").lower() == email))
        return SEGMENT_OPS[op](count, int(limit))

    # --- discounts -----------------------------------------------------------------
    def discount(self, domain: str, code: str) -> dict | None:
        code = code.strip().upper()
        return next((d for d in self.shop(domain)["discounts"].values() if d["code"].upper() == code), None)

    def discount_check(self, domain: str, code: str, *, customer: dict | None, email: str, subtotal: Decimal) -> dict:
        """The discount if it applies to this checkout; StoreError saying why not otherwise."""
        found = self.discount(domain, code)
        moment = now()
        if found is None:
            raise StoreError(f"Discount code {code} is not valid.")
        if found["status"] != "ACTIVE" or (found["starts_at"] and datetime.fromisoformat(found["starts_at"].replace("Z", "+00:00")) > moment):
            raise StoreError(f"Discount code {code} is not active.")
        if found["ends_at"] and datetime.fromisoformat(found["ends_at"].replace("Z", "+00:00")) <= moment:
            raise StoreError(f"Discount code {code} has expired.")
        if found["usage_limit"] is not None and len(found["used_by"]) >= found["usage_limit"]:
            raise StoreError(f"Discount code {code} has reached its usage limit.")
        who = str(customer["id"]) if customer else email.lower()
        if found["once_per_customer"] and who in found["used_by"]:
            raise StoreError(f"Discount code {code} can be used once per customer.")
        if found["customer_ids"] and (customer is None or customer["id"] not in found["customer_ids"]):
            raise StoreError(f"Discount code {code} is not available to this customer.")
        segments = [self.segments(domain).get(str(sid)) for sid in found.get("segment_ids") or []]
        if segments and not any(seg and self.segment_admits(domain, seg, customer=customer, email=email) for seg in segments):
            raise StoreError(f"Discount code {code} isn't valid for this customer.")
        if found["minimum_subtotal"] and subtotal < Decimal(found["minimum_subtotal"]):
            raise StoreError(f"Discount code {code} needs a subtotal of at least {found['minimum_subtotal']}.")
        return found

    def discount_amount(self, discount: dict, subtotal: Decimal) -> Decimal:
        if discount["percentage"] is not None:
            return Decimal(money(subtotal * Decimal(str(discount["percentage"]))))
        return min(subtotal, Decimal(discount["amount"]))

    # --- orders --------------------------------------------------------------------
    def order_place(self, domain: str, *, lines: list[tuple[str | int, int]], customer_id: int | None = None,
                    email: str = "", phone: str = "", first_name: str = "", last_name: str = "",
                    discount_code: str | None = None, landing_site: str | None = None,
                    referring_site: str | None = None, note_attributes: list[dict] | None = None,
                    browser_ip: str = "203.0.113.7", user_agent: str = "Mozilla/5.0 (devstore)",
                    country: str = "US", address1: str = ORDER_ADDRESS["address1"], city: str = ORDER_ADDRESS["city"],
                    zip_code: str = ORDER_ADDRESS["zip_code"], presentment_currency: str | None = None,
                    locale: str | None = None) -> dict:
        """A checkout: creates the order (and the customer when new) and emits orders/create + orders/paid.
        `locale` is the storefront language of the checkout (default: the customer's, else the shop's)."""
        if not lines:
            raise StoreError("An order needs at least one product.")
        with self.lock:
            shop = self.shop(domain)
            customer = self.customer(domain, customer_id) if customer_id else (self.customer_by_email(domain, email) if email else None)
            new_customer = None
            if customer is None and (email or phone) and first_name:
                new_customer = customer = self.customer_create(domain, first_name=first_name, last_name=last_name,
                                                               email=email, phone=phone, emit=False)
            email = (customer["email"] if customer else email).lower()
            line_items, subtotal = [], Decimal("0")
            for ref, quantity in lines:
                product = self.product(domain, ref)
                price = Decimal(product["price"])
                subtotal += price * int(quantity)
                line_items.append({"product": product, "quantity": int(quantity), "price": price})
            discount, discount_value = None, Decimal("0")
            if discount_code:
                discount = self.discount_check(domain, discount_code, customer=customer, email=email, subtotal=subtotal)
                discount_value = self.discount_amount(discount, subtotal)
                discount["used_by"].append(str(customer["id"]) if customer else email)
            number = 1000 + len(shop["orders"]) + 1
            oid = self.new_id()
            created = iso(now())
            order = {
                "id": oid, "name": f"#{number}", "number": number, "created_at": created, "processed_at": created,
                "customer_id": customer["id"] if customer else None, "email": email, "phone": phone,
                "currency": shop["currency"], "presentment_currency": presentment_currency or shop["currency"],
                "subtotal": money(subtotal - discount_value), "discount": money(discount_value),
                "total": money(subtotal - discount_value), "refunded": "0.00",
                "discount_codes": [{"code": discount["code"], "amount": money(discount_value),
                                    "type": "percentage" if discount["percentage"] is not None else "fixed_amount"}]
                if discount else [],
                "landing_site": landing_site, "referring_site": referring_site,
                "customer_locale": locale or (customer or {}).get("locale") or self.primary_locale(domain),
                "note_attributes": note_attributes or [], "browser_ip": browser_ip, "user_agent": user_agent,
                "shipping_address": {"first_name": first_name or (customer or {}).get("first_name", ""),
                                     "last_name": last_name or (customer or {}).get("last_name", ""),
                                     "address1": address1, "city": city, "zip": zip_code, "country_code": country},
                "financial_status": "paid", "fulfillment_status": None, "cancelled_at": None,
                "fulfillments": [], "refunds": [],
                "line_items": [
                    {"id": self.new_id(), "product_id": item["product"]["id"], "variant_id": item["product"]["variant_id"],
                     "title": item["product"]["title"], "quantity": item["quantity"], "price": money(item["price"]),
                     "gift_card": item["product"]["gift_card"], "sku": item["product"]["handle"].upper()}
                    for item in line_items
                ],
            }
            shop["orders"][str(oid)] = order
            self.save()
        if new_customer:
            self.emit(domain, "customers/create", self.customer_payload(new_customer))
        event = self.emit(domain, "orders/create", self.order_payload(domain, order))
        self.emit(domain, "orders/paid", self.order_payload(domain, order), event_id=event)
        return order

    def order(self, domain: str, order_id: int | str) -> dict:
        order = self.shop(domain)["orders"].get(str(gid_id(order_id) or order_id))
        if order is None:
            raise StoreError(f"No order {order_id} in {domain}.")
        return order

    def order_fulfil(self, domain: str, order_id: int) -> dict:
        with self.lock:
            order = self.order(domain, order_id)
            if order["cancelled_at"]:
                raise StoreError(f"Order {order['name']} was cancelled; it cannot be fulfilled.")
            if order["fulfillment_status"] == "fulfilled":
                raise StoreError(f"Order {order['name']} is already fulfilled.")
            fulfillment = {"id": self.new_id(), "order_id": order["id"], "status": "success", "shipment_status": None,
                           "created_at": iso(now()), "updated_at": iso(now()),
                           "tracking_company": "Devstore Post", "tracking_number": f"DS{secrets.randbelow(10**9):09d}",
                           "line_items": [{"id": li["id"], "quantity": li["quantity"]} for li in order["line_items"]]}
            order["fulfillments"].append(fulfillment)
            order["fulfillment_status"] = "fulfilled"
            self.save()
        event = self.emit(domain, "fulfillments/create", fulfillment)
        self.emit(domain, "orders/fulfilled", self.order_payload(domain, order), event_id=event)
        return order

    def order_deliver(self, domain: str, order_id: int) -> dict:
        with self.lock:
            order = self.order(domain, order_id)
            if not order["fulfillments"]:
                raise StoreError(f"Order {order['name']} has not been fulfilled yet.")
            fulfillment = order["fulfillments"][-1]
            fulfillment["shipment_status"] = "delivered"
            fulfillment["updated_at"] = iso(now())
            self.save()
        self.emit(domain, "fulfillments/update", fulfillment)
        return order

    def order_refund(self, domain: str, order_id: int, *, amount: str | None = None,
                     line_item_ids: list[int] | None = None) -> dict:
        """Refund the whole order (no amount), an amount, or some lines."""
        with self.lock:
            order = self.order(domain, order_id)
            remaining = Decimal(order["total"]) - Decimal(order["refunded"])
            lines = [li for li in order["line_items"] if not line_item_ids or li["id"] in line_item_ids]
            if amount is None:
                value = remaining if not line_item_ids else sum(Decimal(li["price"]) * li["quantity"] for li in lines)
            else:
                value = Decimal(str(amount))
            if value <= 0 or value > remaining:
                raise StoreError(f"Refund amount must be between 0.01 and {money(remaining)}.")
            refund = {
                "id": self.new_id(), "order_id": order["id"], "created_at": iso(now()), "note": None,
                "refund_line_items": [{"id": self.new_id(), "line_item_id": li["id"], "quantity": li["quantity"],
                                       "subtotal": money(Decimal(li["price"]) * li["quantity"])}
                                      for li in lines] if (line_item_ids or amount is None) else [],
                "transactions": [{"id": self.new_id(), "kind": "refund", "status": "success",
                                  "amount": money(value), "currency": order["currency"]}],
                "order_adjustments": [],
            }
            order["refunds"].append(refund)
            order["refunded"] = money(Decimal(order["refunded"]) + value)
            order["financial_status"] = "refunded" if Decimal(order["refunded"]) >= Decimal(order["total"]) else "partially_refunded"
            self.save()
        self.emit(domain, "refunds/create", refund)
        return order

    def order_cancel(self, domain: str, order_id: int) -> dict:
        with self.lock:
            order = self.order(domain, order_id)
            if order["cancelled_at"]:
                raise StoreError(f"Order {order['name']} is already cancelled.")
            order["cancelled_at"] = iso(now())
            self.save()
        if Decimal(order["total"]) > Decimal(order["refunded"]):
            self.order_refund(domain, order["id"])
        self.emit(domain, "orders/cancelled", self.order_payload(domain, order))
        return order

    def order_payload(self, domain: str, order: dict) -> dict:
        """The order as Shopify's order webhooks carry it."""
        shop = self.shop(domain)
        customer = shop["customers"].get(str(order["customer_id"])) if order["customer_id"] else None

        def price_set(amount: str) -> dict:
            return {"shop_money": {"amount": amount, "currency_code": order["currency"]},
                    "presentment_money": {"amount": amount, "currency_code": order["presentment_currency"]}}

        return {
            "id": order["id"], "admin_graphql_api_id": gid("Order", order["id"]), "name": order["name"],
            "order_number": order["number"], "email": order["email"] or "", "phone": order["phone"] or None,
            "created_at": order["created_at"], "processed_at": order["processed_at"], "updated_at": iso(now()),
            "currency": order["currency"], "presentment_currency": order["presentment_currency"],
            "financial_status": order["financial_status"], "fulfillment_status": order["fulfillment_status"],
            "cancelled_at": order["cancelled_at"],
            "total_price": order["total"], "subtotal_price": order["subtotal"],
            "total_discounts": order["discount"], "total_price_set": price_set(order["total"]),
            "current_total_price": money(Decimal(order["total"]) - Decimal(order["refunded"])),
            "discount_codes": order["discount_codes"], "landing_site": order["landing_site"],
            "referring_site": order["referring_site"], "note_attributes": order["note_attributes"],
            "browser_ip": order["browser_ip"], "customer_locale": order.get("customer_locale") or "en",
            "client_details": {"browser_ip": order["browser_ip"], "user_agent": order["user_agent"]},
            "customer": self.customer_payload(customer) if customer else None,
            "shipping_address": order["shipping_address"],
            "line_items": [{**li, "price_set": price_set(li["price"])} for li in order["line_items"]],
            "fulfillments": order["fulfillments"], "refunds": order["refunds"],
        }

    # --- app installation and tokens ----------------------------------------------
    def app_install(self, domain: str, *, scopes: str | None = None) -> dict:
        """The merchant approves Advocate (managed install): the app may now exchange tokens."""
        with self.lock:
            app = self.shop(domain)["app"]
            app.update(installed=True, scopes=scopes if scopes is not None else self.scopes,
                       installed_at=iso(now()), uninstalled_at=None)
            self.save()
            return app

    def app_scopes_grant(self, domain: str, scopes: list[str]) -> str:
        """Optional scopes the merchant granted after install: the token the app holds carries them."""
        with self.lock:
            app = self.shop(domain)["app"]
            if not app["installed"]:
                raise StoreError(f"Advocate is not installed on {domain}.")
            undeclared = [s for s in scopes if s not in self.optional_scopes]
            if undeclared:
                raise StoreError(f"{', '.join(undeclared)} is not among the app's optional scopes.")
            have = [s for s in (app["scopes"] or "").split(",") if s]
            app["scopes"] = ",".join(have + [s for s in scopes if s not in have])
            self.save()
            return app["scopes"]

    def app_uninstall(self, domain: str) -> None:
        with self.lock:
            shop = self.shop(domain)
            if not shop["app"]["installed"]:
                raise StoreError(f"Advocate is not installed on {domain}.")
            shop["app"].update(installed=False, access_token=None, refresh_token=None, access_expires=0,
                               refresh_expires=0, uninstalled_at=iso(now()))
            shop["storefront_tokens"] = []  # Shopify drops the app's storefront tokens with it
            self.save()
        self.emit(domain, "app/uninstalled", {
            "id": shop["id"], "name": shop["name"], "email": shop["email"], "domain": domain,
            "myshopify_domain": domain, "currency": shop["currency"], "plan_name": shop["plan"],
        })

    def tokens_issue(self, domain: str, *, expiring: bool) -> dict:
        """A new access token (and refresh token); every earlier one stops working."""
        with self.lock:
            app = self.shop(domain)["app"]
            if app["refresh_token"]:
                app["used_refresh_tokens"] = (app["used_refresh_tokens"] + [app["refresh_token"]])[-20:]
            app["access_token"] = f"shpat_{secrets.token_hex(16)}"
            if expiring:
                app["access_expires"] = time.time() + self.token_ttl
                app["refresh_token"] = f"shprt_{secrets.token_hex(16)}"
                app["refresh_expires"] = time.time() + REFRESH_TOKEN_TTL
            else:
                app["access_expires"], app["refresh_token"], app["refresh_expires"] = 0, None, 0
            self.save()
            answer = {"access_token": app["access_token"], "scope": app["scopes"]}
            if expiring:
                answer.update(expires_in=self.token_ttl, refresh_token=app["refresh_token"],
                              refresh_token_expires_in=REFRESH_TOKEN_TTL)
            return answer

    def token_refresh(self, domain: str, refresh_token: str) -> dict:
        with self.lock:
            app = self.shop(domain)["app"]
            if not app["installed"] or not refresh_token or refresh_token != app["refresh_token"]:
                raise StoreError("invalid_grant")
            if time.time() > app["refresh_expires"]:
                raise StoreError("invalid_grant")
            return self.tokens_issue(domain, expiring=True)

    def access_token_valid(self, domain: str, token: str | None) -> bool:
        app = self.shop(domain)["app"]
        if not app["installed"] or not token or token != app["access_token"]:
            return False
        return not app["access_expires"] or time.time() < app["access_expires"]

    def expire_access_token(self, domain: str) -> None:
        """Make the current access token expire now (tests of the refresh path)."""
        with self.lock:
            self.shop(domain)["app"]["access_expires"] = time.time() - 1
            self.save()

    # --- fault switches ------------------------------------------------------------
    FAULT_MODES = ("fail_before", "fail_after", "reset_after", "delay_after")

    def fault_add(self, domain: str, field: str, mode: str, *, times: int = 1, seconds: float = 2.0) -> None:
        if mode not in self.FAULT_MODES:
            raise StoreError(f"Unknown fault {mode!r}: one of {', '.join(self.FAULT_MODES)}.")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", field or "") or int(times) < 1:
            raise StoreError("A fault needs a GraphQL field name and times of at least 1.")
        self.shop(domain)
        with self.lock:
            self.faults.append({"domain": domain, "field": field, "mode": mode, "left": int(times),
                                "seconds": float(seconds)})

    def fault_take(self, domain: str, query: str) -> dict | None:
        """The fault switched on for this call, if any (each switch counts down its calls)."""
        with self.lock:
            for fault in self.faults:
                if fault["domain"] == domain and re.search(rf"(?<![A-Za-z0-9_]){fault['field']}\s*\(", query):
                    fault["left"] -= 1
                    if fault["left"] <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    # --- store credit ----------------------------------------------------------------
    def store_credit(self, domain: str, customer_id: int, amount: str, currency: str, *, sign: int = 1) -> dict:
        """Credit (sign 1) or debit (sign -1) a customer's account; each move is a listed transaction."""
        with self.lock:
            shop = self.shop(domain)
            customer = shop["customers"].get(str(customer_id))
            if customer is None:
                raise StoreError("OWNER_NOT_FOUND:Owner does not exist.")
            if not shop["store_credit"]:
                raise StoreError("UNSUPPORTED_CURRENCY:The currency provided is not currently supported.")
            if Decimal(str(amount)) <= 0:
                raise StoreError("NEGATIVE_OR_ZERO_AMOUNT:A positive amount must be used to credit a store credit account.")
            key = f"{customer_id}:{currency}"
            account = shop["credit_accounts"].get(key)
            if sign < 0 and (account is None or Decimal(account["balance"]) < Decimal(str(amount))):
                raise StoreError("INSUFFICIENT_FUNDS:The store credit account does not have sufficient funds.")
            account = shop["credit_accounts"].setdefault(key, {
                "id": self.new_id(), "customer_id": customer_id, "currency": currency, "balance": "0.00",
                "transactions": []})
            moved = Decimal(str(amount)) * sign
            account["balance"] = money(Decimal(account["balance"]) + moved)
            transaction = {"id": self.new_id(), "amount": money(moved), "created_at": iso(now()),
                           "balance_after": account["balance"]}
            account["transactions"].append(transaction)
            self.save()
            return {"account": account, "transaction": transaction}

    def credit_accounts(self, domain: str, customer_id: int) -> list[dict]:
        return [a for a in self.shop(domain)["credit_accounts"].values() if a["customer_id"] == customer_id]

    # --- webhooks ------------------------------------------------------------------
    def topics_uri(self, domain: str, topic: str) -> list[str]:
        uris = []
        for sub in self.subscriptions + self.shop(domain)["extra_subscriptions"]:
            if topic in sub.get("topics", []) or topic in sub.get("compliance_topics", []):
                uri = sub["uri"]
                uris.append(uri if uri.startswith("http") else f"{self.app_url}{uri}")
        return list(dict.fromkeys(uris))

    def emit(self, domain: str, topic: str, payload: dict, *, event_id: str | None = None) -> str:
        """Queue `topic` for every subscription of an installed app; returns the event id."""
        event_id = event_id or str(uuid.uuid4())
        shop = self.shop(domain)
        always = topic in ("app/uninstalled", "customers/data_request", "customers/redact", "shop/redact")
        if not shop["app"]["installed"] and not always:
            return event_id
        body = json.dumps(payload).encode()
        for uri in self.topics_uri(domain, topic):
            delivery = Delivery(id=str(uuid.uuid4()), shop=domain, topic=topic, event_id=event_id, body=body,
                                triggered_at=iso(datetime.now(timezone.utc)), uri=uri, api_version=self.api_version)
            with self.lock:
                shop["deliveries"].append({"id": delivery.id, "topic": topic, "event_id": event_id, "uri": uri,
                                           "status": "pending", "attempts": 0, "responses": []})
                shop["deliveries"] = shop["deliveries"][-500:]
            for listener in self.listeners:
                listener(delivery)
        return event_id

    def delivery_update(self, delivery: Delivery) -> None:
        with self.lock:
            for row in self.shop(delivery.shop)["deliveries"]:
                if row["id"] == delivery.id:
                    row.update(status=delivery.status, attempts=delivery.attempts, responses=delivery.responses[-10:])
            self.save()

    def compliance(self, domain: str, topic: str, customer_id: int | None = None) -> str:
        shop = self.shop(domain)
        payload: dict[str, Any] = {"shop_id": shop["id"], "shop_domain": domain}
        if topic in ("customers/data_request", "customers/redact"):
            customer = self.customer(domain, customer_id)
            orders = [o["id"] for o in self.customer_orders(domain, customer["id"])]
            payload["customer"] = {"id": customer["id"], "email": customer["email"], "phone": customer["phone"]}
            if topic == "customers/data_request":
                payload.update(orders_requested=orders, data_request={"id": self.new_id()})
            else:
                payload["orders_to_redact"] = orders
        elif topic != "shop/redact":
            raise StoreError(f"{topic} is not a compliance topic.")
        return self.emit(domain, topic, payload)

    # --- mail ----------------------------------------------------------------------
    def mail_add(self, message: dict) -> dict:
        with self.lock:
            message = {"id": len(self.mail) + 1, "received_at": iso(now()), **message}
            self.mail.append(message)
            self.save()
            return message

    # --- the bucket ------------------------------------------------------------------
    def bucket_take(self, domain: str, requested: float) -> tuple[bool, dict]:
        """Leaky bucket per shop: (allowed, throttleStatus)."""
        with self.lock:
            shop = self.shop(domain)
            _, size, rate, _ = PLANS[shop["plan"]]
            bucket = shop["bucket"]
            moment = time.time()
            bucket["available"] = min(size, bucket["available"] + (moment - bucket["updated"]) * rate)
            bucket["updated"] = moment
            allowed = requested <= bucket["available"]
            if allowed:
                bucket["available"] -= requested
            status = {"maximumAvailable": size, "currentlyAvailable": round(bucket["available"], 1), "restoreRate": rate}
            return allowed, status

    def staff_locale(self, domain: str, staff: int) -> str:
        """The admin language staff member `staff` chose (Shopify: their account's preferred language)."""
        return (self.shop(domain).get("staff_locales") or {}).get(str(staff), "en")

    def staff_locale_set(self, domain: str, staff: int, locale: str) -> None:
        locale = (locale or "").strip()
        if not re.fullmatch(r"[a-z]{2}(-[A-Za-z]{2})?", locale):
            raise StoreError(f"{locale or 'An empty value'} is not a language Shopify's admin offers.")
        with self.lock:
            self.shop(domain).setdefault("staff_locales", {})[str(staff)] = locale
            self.save()

    def online_token(self, domain: str, user_id: int) -> dict:
        """Token exchange for an online token: short-lived, and it says who the staff member is."""
        shop = self.shop(domain)
        index = user_id - shop["id"] - 100  # devstore's session tokens name staff member n as shop id + 100 + n
        first, last, email = STAFF[index % len(STAFF)]
        return {"access_token": "shpua_" + secrets.token_hex(16), "scope": shop["app"]["scopes"], "expires_in": 86399,
                "associated_user_scope": shop["app"]["scopes"],
                "associated_user": {"id": user_id, "first_name": first, "last_name": last, "email": email,
                                    "account_owner": index == 0, "locale": self.staff_locale(domain, index),
                                    "collaborator": False,
                                    "email_verified": True}}

    def bucket_set(self, domain: str, available: float) -> None:
        with self.lock:
            bucket = self.shop(domain)["bucket"]
            bucket.update(available=float(available), updated=time.time())


def seed(store: Store) -> None:
    """Two shops with a catalogue, customers (one opted out, one without email) and past orders."""
    catalogue = {
        "demo-outfitters.myshopify.com": dict(
            name="Demo Outfitters", email="owner@demo-outfitters.example", currency="USD",
            timezone_name="America/New_York", plan="basic", locales=("en", "ko", "de"),
            brand={"logo": "/brand/logo.svg", "primary": "#2f6f4e", "slogan": "Gear for the long way round"},
            products=[("Trail Mug", "18.00", "#b45309"), ("Canvas Backpack", "89.00", "#4d7c0f"),
                      ("Merino Beanie", "32.00", "#1d4ed8"), ("Camp Blanket", "120.00", "#9d174d"),
                      ("Enamel Pin Set", "12.00", "#6d28d9")],
            gift_card="Gift Card",
            customers=[("Maya", "Rossi", "maya@example.com", "+15555550100", "SUBSCRIBED"),
                       ("Liam", "Chen", "liam.chen@example.com", "", "SUBSCRIBED"),
                       ("Ava", "Patel", "ava@example.com", "", "UNSUBSCRIBED"),
                       ("Noah", "Okafor", "", "+15555550123", "NOT_SUBSCRIBED"),
                       ("Zoe", "Martin", "zoe.martin@example.com", "", "SUBSCRIBED"),
                       # Shoppers who buy in Korean and in German: their orders carry customer_locale.
                       ("지민", "김", "jimin@example.com", "", "SUBSCRIBED", "ko-KR"),
                       ("Lukas", "Becker", "lukas@example.com", "", "SUBSCRIBED", "de-DE")],
        ),
        "north-pole-goods.myshopify.com": dict(
            name="North Pole Goods", email="owner@north-pole-goods.example", currency="EUR",
            timezone_name="Europe/Berlin", plan="plus", brand=None, locales=("en", "de"),
            products=[("Wool Mittens", "29.00", "#be123c"), ("Sled Lantern", "64.00", "#0f766e"),
                      ("Spiced Tea Tin", "14.50", "#92400e")],
            gift_card=None,
            customers=[("Elsa", "Berg", "elsa@example.com", "", "SUBSCRIBED"),
                       ("Jonas", "Weber", "jonas@example.com", "", "UNSUBSCRIBED")],
        ),
    }
    for domain, spec in catalogue.items():
        if domain in store.shops:
            continue
        store.shop_create(domain, name=spec["name"], email=spec["email"], currency=spec["currency"],
                          timezone_name=spec["timezone_name"], plan=spec["plan"], locales=spec["locales"])
        store.shop(domain)["brand"] = spec["brand"]  # Settings › Brand in the admin (None: never set)
        products = [store.product_create(domain, title=t, price=p, image_color=c) for t, p, c in spec["products"]]
        if spec["gift_card"]:
            store.product_create(domain, title=spec["gift_card"], price="50.00", gift_card=True, image_color="#334155")
        customers = [store.customer_create(domain, first_name=f, last_name=l, email=e, phone=ph, marketing=m, emit=False,
                                           locale=(rest or [None])[0])
                     for f, l, e, ph, m, *rest in spec["customers"]]
        # Order history from before Advocate was installed: no webhooks reach the app.
        for customer, product in itertools.islice(zip(customers, itertools.cycle(products)), 3):
            order = store.order_place(domain, lines=[(product["id"], 1)], customer_id=customer["id"])
            past = iso(now() - timedelta(days=40))
            order.update(created_at=past, processed_at=past, fulfillment_status="fulfilled")
    store.save()
