"""Builders for referral tests: customers, orders and Shopify answers."""
from __future__ import annotations

import copy
import itertools
from decimal import Decimal

from django.utils import timezone

from shopapp.models import Customer, Order
from tests.conftest import load_fixture

_ids = itertools.count(5_000_000_000_000)


def customer(shop, *, first_name="Maya", email=None, phone="", shopify_id=None) -> Customer:
    n = next(_ids)
    return Customer.objects.create(
        shop=shop, shopify_id=shopify_id or n, first_name=first_name,
        email=email if email is not None else f"{first_name.lower()}{n}@example.com", phone=phone,
    )


def order(shop, buyer=None, *, codes=(), total="100.00", paid=True, placed_at=None, **fields) -> Order:
    now = timezone.now()
    return Order.objects.create(
        shop=shop, shopify_id=next(_ids), name=f"#{next(_ids) % 10000}", customer=buyer,
        email=buyer.email if buyer else "", currency=shop.currency, total=Decimal(total), subtotal=Decimal(total),
        discount_codes=[{"code": c, "amount": "10.00", "type": "percentage"} for c in codes],
        placed_at=placed_at or now, paid_at=now if paid else None, **fields,
    )


def order_payload(*, order_id=None, customer_id=None, email="friend@example.com", first_name="Sam", codes=(),
                  landing_site="/", note_attributes=None, browser_ip="198.51.100.20", user_agent="Mozilla/5.0 (Android)",
                  shipping=None, total="80.00", financial_status="paid") -> dict:
    payload = copy.deepcopy(load_fixture("webhooks/orders_create.json"))
    payload.update({
        "id": order_id or next(_ids), "email": email, "financial_status": financial_status,
        "total_price": total, "subtotal_price": total, "currency": "USD", "presentment_currency": "USD",
        "total_price_set": {"shop_money": {"amount": total, "currency_code": "USD"},
                            "presentment_money": {"amount": total, "currency_code": "USD"}},
        "discount_codes": [{"code": c, "amount": "8.00", "type": "percentage"} for c in codes],
        "landing_site": landing_site, "note_attributes": note_attributes or [], "browser_ip": browser_ip,
        "client_details": {"browser_ip": browser_ip, "user_agent": user_agent},
        "customer": {"id": customer_id or next(_ids), "email": email, "first_name": first_name, "last_name": "Lee",
                     "phone": None},
        "shipping_address": shipping or {"address1": "9 Elm Rd", "city": "Austin", "zip": "73301", "country_code": "US"},
    })
    return payload


def discount_created(variables: dict) -> dict:
    return {"codeDiscountNode": {"id": "gid://shopify/DiscountCodeNode/77"}, "userErrors": []}


class Segments:
    """Shopify's customer segments for the fake: names are unique per shop, as in Shopify."""

    def __init__(self) -> None:
        self.made: dict[str, str] = {}  # name -> gid
        self.creates = 0

    def install(self, fake) -> "Segments":
        fake.responders["segments"] = self.search
        fake.responders["segmentCreate"] = self.create
        return self

    def search(self, variables: dict) -> dict:
        words = variables.get("query", "").strip('"').lower()
        return {"nodes": [{"id": g, "name": n} for n, g in self.made.items() if words in n.lower()]}

    def create(self, variables: dict) -> dict:
        self.creates += 1
        name = variables["name"]
        if name in self.made:
            return {"segment": None, "userErrors": [{"field": ["name"], "message": "Name has already been taken"}]}
        self.made[name] = f"gid://shopify/Segment/{next(_ids)}"
        return {"segment": {"id": self.made[name], "name": name}, "userErrors": []}
