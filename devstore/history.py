"""Years of a shop's past orders, for the demo and the benchmarks, without storing them.

`seed_history(store, domain, orders=30_000, years=2)` makes the customers (real devstore
customers: they can check out again, unsubscribe, be redacted) and records a recipe; the orders
themselves are made again, identically, each time something reads them (`history_orders`), in id
order and in time order, from a seeded random generator. Tens of thousands of orders cost a few
megabytes of customers and a small dict, and the JSON state file stays small.

What the recipe gives: more orders lately than two years ago, more in November and December and
at weekends; about half the orders from returning customers, with a few very loyal ones (each
order picks a returning customer in proportion to what they bought already); guests without an
account; one to three lines; discount codes (a welcome code on first orders, seasonal codes, a few
codes a friend passed on); refunds (whole and partial), a few cancellations; everything older
than two days fulfilled and most of it delivered.
"""
from __future__ import annotations

import bisect
import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal

from devstore.state import ORDER_ADDRESS, Store, StoreError, iso, money, now

STRIDE = 8  # ids per order: the order, up to 3 lines, a refund, a fulfilment, a transaction, a refund line
FIRST = ["Maya", "Liam", "Ava", "Noah", "Zoe", "Ethan", "Mia", "Lucas", "Isla", "Omar", "Chloe", "Ravi", "Nora",
         "Felix", "Lena", "Hugo", "Sara", "Ivan", "Aiko", "Tomas", "Elif", "Jonah", "Priya", "Mateo", "Grace"]
LAST = ["Rossi", "Chen", "Patel", "Okafor", "Martin", "Berg", "Weber", "Silva", "Kowalski", "Nguyen", "Haddad",
        "Jensen", "Moreau", "Tanaka", "Garcia", "Novak", "Murphy", "Costa", "Ibrahim", "Larsen"]
NEW_CUSTOMER = 0.48  # the chance an order comes from someone who never bought before
GUEST = 0.07
GROWTH = 1.5  # the last day of the window is this much busier than the first, plus one


def seed_history(store: Store, domain: str, *, orders: int = 30_000, years: float = 2, seed: int = 18) -> dict:
    """Give the shop `orders` past orders over the last `years` (once: a second call changes nothing).

    No webhook is sent: this is what happened before Advocate was installed."""
    with store.lock:
        shop = store.shop(domain)
        if shop.get("history"):
            return _summary(shop["history"])
        products = [p for p in shop["products"].values() if p["status"] == "ACTIVE"]
        if not products:
            raise StoreError(f"{domain} has no products to sell.")
        end = now() - timedelta(hours=1)
        recipe = {"seed": seed, "orders": int(orders), "start": iso(end - timedelta(days=365 * years)), "end": iso(end),
                  "base_id": store.next_id + 1,
                  "products": [[p["id"], p["variant_id"], p["title"], p["price"], p["gift_card"], p["handle"]]
                               for p in sorted(products, key=lambda p: p["id"])],
                  "regulars": [c["id"] for c in shop["customers"].values()], "customers": []}
        store.next_id += int(orders) * STRIDE
        made = 0
        for new_at in _new_customer_times(recipe):
            cid = store.new_id()
            rng = random.Random(recipe["seed"] * 7919 + made)
            first, last = rng.choice(FIRST), rng.choice(LAST)
            made += 1
            marketing = rng.choices(["SUBSCRIBED", "NOT_SUBSCRIBED", "UNSUBSCRIBED"], [55, 30, 15])[0]
            shop["customers"][str(cid)] = {
                "id": cid, "first_name": first, "last_name": last,
                "email": f"{first}.{last}.{made}@example.net".lower(), "phone": "", "marketing": marketing,
                "marketing_updated_at": iso(new_at), "state": "enabled", "created_at": iso(new_at),
                "updated_at": iso(new_at)}
            recipe["customers"].append(cid)
        shop["history"] = recipe
        store.save()
        return _summary(recipe)


def _summary(recipe: dict) -> dict:
    return {"orders": recipe["orders"], "customers": len(recipe["customers"]), "start": recipe["start"],
            "end": recipe["end"]}


def _times(recipe: dict) -> Iterator[datetime]:
    """The orders' times, in order: busier lately, in November and December and at weekends."""
    start, end = _parse(recipe["start"]), _parse(recipe["end"])
    days = max(1, (end - start).days)
    weights, total = [], 0.0
    for d in range(days):
        day = start + timedelta(days=d)
        total += (1 + GROWTH * d / days) * (1.6 if day.month in (11, 12) else 1.0) * (1.2 if day.weekday() >= 5 else 1.0)
        weights.append(total)
    n = recipe["orders"]
    for i in range(n):
        position = (i + 0.5) / n * total
        d = bisect.bisect_left(weights, position)
        before = weights[d - 1] if d else 0.0
        within = (position - before) / (weights[d] - before)
        yield start + timedelta(days=d + within * 0.999)


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _buyers(recipe: dict) -> Iterator[tuple[int, datetime, int | None, bool]]:
    """(order number, time, the buyer's index among the recipe's customers or None for a guest,
    whether it is their first order). Regulars (the shop's own customers) come first in the pool."""
    rng = random.Random(recipe["seed"])
    regulars = len(recipe["regulars"])
    pool: list[int] = list(range(-regulars, 0))  # one entry per order so far: loyal buyers come back more
    made = 0
    for i, at in enumerate(_times(recipe)):
        roll = rng.random()
        if roll < GUEST:
            yield i, at, None, True
        elif roll < GUEST + NEW_CUSTOMER or not pool:
            pool.append(made)
            yield i, at, made, True
            made += 1
        else:
            who = rng.choice(pool)
            pool.append(who)
            yield i, at, who, False


def _new_customer_times(recipe: dict) -> Iterator[datetime]:
    for _, at, who, first in _buyers(recipe):
        if who is not None and who >= 0 and first:
            yield at


def history_orders(store: Store, domain: str) -> Iterator[dict]:
    """The shop's past orders, oldest (and lowest id) first, shaped like the orders checkout makes."""
    shop = store.shop(domain)
    recipe = shop.get("history")
    if not recipe:
        return
    customers = shop["customers"]
    regulars, made = recipe["regulars"], recipe["customers"]
    products = recipe["products"]
    popularity = [1.0 / (1 + k * 0.35) for k in range(len(products))]
    moment = now()
    for i, at, who, first in _buyers(recipe):
        if who is None:
            customer = None
        else:
            customer = customers.get(str(regulars[who] if who < 0 else made[who]))
        yield _order(recipe, shop, i, at, customer, first, products, popularity, moment)


def _order(recipe: dict, shop: dict, i: int, at: datetime, customer: dict | None, first: bool, products: list,
           popularity: list, moment: datetime) -> dict:
    rng = random.Random(recipe["seed"] * 1_000_003 + i)
    oid = recipe["base_id"] + i * STRIDE
    count = rng.choices([1, 2, 3], [60, 28, 12])[0]
    chosen = []
    for product in rng.choices(products, popularity, k=count):
        if product not in chosen and not (product[4] and rng.random() > 0.1):
            chosen.append(product)
    chosen = chosen or [products[0]]
    lines, subtotal = [], Decimal("0")
    for j, (pid, variant_id, title, price, gift_card, handle) in enumerate(chosen):
        quantity = rng.choices([1, 2, 3], [85, 12, 3])[0]
        subtotal += Decimal(price) * quantity
        lines.append({"id": oid + 1 + j, "product_id": pid, "variant_id": variant_id, "title": title,
                      "quantity": quantity, "price": price, "gift_card": gift_card, "sku": handle.upper()})
    code, off = _discount(rng, at, first, customer)
    discount = Decimal(money(subtotal * off))
    total = subtotal - discount
    email = customer["email"] if customer else f"guest.{i}@example.org"
    placed = iso(at.replace(microsecond=0))
    order = {
        "id": oid, "name": f"#{1001 + i}", "number": 1001 + i, "created_at": placed, "processed_at": placed,
        "customer_id": customer["id"] if customer else None, "email": email, "phone": "",
        "currency": shop["currency"], "presentment_currency": shop["currency"],
        "subtotal": money(total), "discount": money(discount), "total": money(total), "refunded": "0.00",
        "discount_codes": [{"code": code, "amount": money(discount), "type": "percentage"}] if code else [],
        "landing_site": "/", "referring_site": rng.choice(["https://www.google.com/", "https://www.instagram.com/", None]),
        "note_attributes": [], "browser_ip": f"198.51.100.{rng.randrange(1, 255)}", "user_agent": "Mozilla/5.0 (history)",
        "shipping_address": {"first_name": (customer or {}).get("first_name", ""),
                             "last_name": (customer or {}).get("last_name", ""), "address1": ORDER_ADDRESS["address1"],
                             "city": ORDER_ADDRESS["city"], "zip": ORDER_ADDRESS["zip_code"], "country_code": "US"},
        "financial_status": "paid", "fulfillment_status": None, "cancelled_at": None,
        "fulfillments": [], "refunds": [], "line_items": lines, "history": True,
    }
    if moment - at > timedelta(days=2) and rng.random() < 0.99:
        shipped = at + timedelta(hours=rng.randrange(6, 60))
        delivered = shipped + timedelta(days=rng.randrange(2, 7))
        order["fulfillment_status"] = "fulfilled"
        order["fulfillments"].append({
            "id": oid + 6, "order_id": oid, "status": "success", "created_at": iso(shipped),
            "shipment_status": "delivered" if delivered < moment else None, "updated_at": iso(min(delivered, moment)),
            "line_items": [{"id": li["id"], "quantity": li["quantity"]} for li in lines]})
    roll = rng.random()
    if roll < 0.07 and total > 0:
        whole = roll < 0.04
        refunded_lines = lines if whole else lines[-1:]
        value = total if whole else min(total, Decimal(refunded_lines[0]["price"]))
        refund_at = at + timedelta(days=rng.randrange(3, 30))
        if refund_at < moment:
            order["refunds"].append({
                "id": oid + 5, "order_id": oid, "created_at": iso(refund_at), "note": None,
                "refund_line_items": [{"id": oid + 7, "line_item_id": li["id"], "quantity": li["quantity"],
                                       "subtotal": money(Decimal(li["price"]) * li["quantity"])} for li in refunded_lines],
                "transactions": [{"id": oid + 4, "kind": "refund", "status": "success", "amount": money(value),
                                  "currency": shop["currency"]}], "order_adjustments": []})
            order["refunded"] = money(value)
            order["financial_status"] = "refunded" if value >= total else "partially_refunded"
            if whole and roll < 0.01:
                order["cancelled_at"] = iso(refund_at)
    return order


def _discount(rng: random.Random, at: datetime, first: bool, customer: dict | None) -> tuple[str | None, Decimal]:
    roll = rng.random()
    if first and customer and roll < 0.02:
        # A code a friend passed on before Advocate ran the shop's referrals.
        return f"FRIEND-{rng.choice(FIRST).upper()}", Decimal("0.10")
    if first and roll < 0.15:
        return "WELCOME10", Decimal("0.10")
    if at.month == 11 and at.day >= 20 and roll < 0.35:
        return "BFCM20", Decimal("0.20")
    if roll < 0.05:
        return "SPRING15", Decimal("0.15")
    return None, Decimal("0")
