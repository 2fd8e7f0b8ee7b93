"""Bulk queries the way Shopify runs them: `bulkOperationRunQuery` checks the query, runs it over
the whole shop in the background (no pagination, no cost limit) and writes a JSONL file: one line
per object of the top-level connection, and each object of a nested connection on its own line
after its parent's, with `__parentId` naming the parent (which must select `id`). Lists that are
not connections (an order's refunds and fulfilments) stay inline.

Shopify's rules kept here: one top-level connection (orders, customers or products in devstore),
at most five connections nested at most two deep, no `node`/`nodes` at the top; the scope each
connection needs (an operation without it fails with ACCESS_DENIED); and without `read_all_orders`
only the last 60 days of orders. The file is written to disk and served from there, so a shop of
200,000 orders costs devstore no memory.
"""
from __future__ import annotations

import heapq
import json
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import IO

from graphql import FieldNode, GraphQLError, GraphQLSchema, InlineFragmentNode, OperationDefinitionNode, parse, validate

from devstore.history import history_orders
from devstore.state import Store, gid, iso, money, now

SDL = """
type Attribute { key: String! value: String }
type MailingAddress {
  firstName: String lastName: String address1: String address2: String city: String zip: String
  provinceCode: String countryCodeV2: String
}
type CustomerVisit { landingPage: URL referrerUrl: URL }
type CustomerJourneySummary { firstVisit: CustomerVisit lastVisit: CustomerVisit }
type Refund { id: ID! createdAt: DateTime totalRefundedSet: MoneyBag }
type Fulfillment { id: ID! createdAt: DateTime! status: String! displayStatus: String deliveredAt: DateTime }
extend type Order {
  processedAt: DateTime phone: String currencyCode: CurrencyCode presentmentCurrencyCode: CurrencyCode
  subtotalPriceSet: MoneyBag totalDiscountsSet: MoneyBag clientIp: String customAttributes: [Attribute!]
  shippingAddress: MailingAddress customerJourneySummary: CustomerJourneySummary
  refunds(first: Int): [Refund!] fulfillments(first: Int): [Fulfillment!]
}
type LineItemEdge { cursor: String! node: LineItem! }
extend type LineItemConnection { edges: [LineItemEdge!] }
extend type LineItem {
  currentQuantity: Int variant: ProductVariant originalUnitPriceSet: MoneyBag isGiftCard: Boolean
  requiresShipping: Boolean sku: String
}
extend type CustomerEmailAddress { marketingUpdatedAt: DateTime }
extend type Customer { state: String updatedAt: DateTime }
extend type BulkOperation { rootObjectCount: UnsignedInt64 query: String }
type BulkOperationUserError { field: [String!] message: String! code: String }
type BulkOperationRunQueryPayload { bulkOperation: BulkOperation userErrors: [BulkOperationUserError!]! }
type BulkOperationCancelPayload { bulkOperation: BulkOperation userErrors: [UserError!]! }
extend type Query { currentBulkOperation(type: BulkOperationType = QUERY): BulkOperation }
extend type Mutation {
  bulkOperationRunQuery(query: String!, groupObjects: Boolean): BulkOperationRunQueryPayload
  bulkOperationCancel(id: ID!): BulkOperationCancelPayload
}
"""

ROOTS = {"orders": "read_orders", "customers": "read_customers", "products": "read_products"}
RECENT_ORDERS = timedelta(days=60)  # what an app without read_all_orders sees
MAX_CONNECTIONS = 5
MAX_DEPTH = 2


class Invalid(Exception):
    """The query is not one Shopify would run in bulk; the message says why (a userError)."""


class Connection:
    """A nested connection's items inside an object: written as their own lines, not inline."""

    def __init__(self, items: Iterable[dict]):
        self.items = items


class Plan:
    """A checked bulk query: its top-level connection, that field's search, and the node's selections."""

    def __init__(self, root: str, search: str, selections: list):
        self.root, self.search, self.selections = root, search, selections


def plan(schema: GraphQLSchema, query: str) -> Plan:
    try:
        document = parse(query)
    except GraphQLError as exc:
        raise Invalid(f"Invalid bulk query: {exc.message}") from None
    problems = validate(schema, document)
    if problems:
        raise Invalid(f"Invalid bulk query: {problems[0].message}")
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].operation.value != "query":
        raise Invalid("Invalid bulk query: a bulk query is one query operation.")
    fields = [s for s in operations[0].selection_set.selections if isinstance(s, FieldNode)]
    if len(fields) != 1 or fields[0].name.value not in ROOTS:
        raise Invalid(f"Invalid bulk query: the query must select one connection of {', '.join(sorted(ROOTS))}.")
    root = fields[0]
    selections = _node_selections(root)
    if selections is None:
        raise Invalid("Invalid bulk query: select the connection's edges { node } or nodes.")
    count = 1 + _check_nested(selections, depth=1)
    if count > MAX_CONNECTIONS:
        raise Invalid(f"Invalid bulk query: bulk queries cannot contain more than {MAX_CONNECTIONS} connections.")
    search = next((a.value.value for a in root.arguments or [] if a.name.value == "query"
                   and hasattr(a.value, "value")), "")
    return Plan(root.name.value, search, selections)


def _node_selections(field: FieldNode) -> list | None:
    for sub in field.selection_set.selections if field.selection_set else []:
        if isinstance(sub, FieldNode) and sub.name.value == "nodes":
            return list(sub.selection_set.selections)
        if isinstance(sub, FieldNode) and sub.name.value == "edges":
            node = next((s for s in sub.selection_set.selections if isinstance(s, FieldNode) and s.name.value == "node"), None)
            return list(node.selection_set.selections) if node else None
    return None


CONNECTION_FIELDS = {"lineItems"}  # the nested connections devstore's objects hold


def _check_nested(selections: list, *, depth: int) -> int:
    """The number of nested connections under these selections; Invalid past Shopify's limits."""
    count = 0
    for sel in selections:
        if isinstance(sel, InlineFragmentNode):
            count += _check_nested(list(sel.selection_set.selections), depth=depth)
        elif isinstance(sel, FieldNode) and sel.name.value in CONNECTION_FIELDS:
            if depth >= MAX_DEPTH:
                raise Invalid(f"Invalid bulk query: connections may be nested at most {MAX_DEPTH} levels deep.")
            if not any(isinstance(s, FieldNode) and s.name.value == "id" for s in selections):
                raise Invalid(f"Invalid bulk query: the parent of the nested connection '{sel.name.value}' must select 'id'.")
            inner = _node_selections(sel) or []
            count += 1 + _check_nested(inner, depth=depth + 1)
    return count


def missing_scope(plan: Plan, scopes: str) -> str | None:
    granted = set(filter(None, (s.strip() for s in (scopes or "").split(","))))
    need = ROOTS[plan.root]
    return None if need in granted or need.replace("read_", "write_") in granted else need


# --- what devstore's objects look like to a bulk query ----------------------------------
def objects(store: Store, domain: str, plan: Plan, scopes: str) -> Iterator[dict]:
    """The top-level connection's objects, by id, each shaped with its nested connections."""
    shop = store.shop(domain)
    if plan.root == "customers":
        for c in sorted(list(shop["customers"].values()), key=lambda c: c["id"]):
            yield customer_shape(c)
    elif plan.root == "products":
        for p in sorted(list(shop["products"].values()), key=lambda p: p["id"]):
            yield product_shape(store, domain, p)
    else:
        recent = "read_all_orders" not in (scopes or "").split(",")
        since = now() - RECENT_ORDERS if recent else None
        test = _created_test(plan.search)
        placed = sorted(list(shop["orders"].values()), key=lambda o: o["id"])
        for o in heapq.merge(history_orders(store, domain), placed, key=lambda o: o["id"]):
            at = _time(o["created_at"])
            if (since is None or at >= since) and test(at):
                yield order_shape(shop, o)


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _created_test(search: str) -> Callable[[datetime], bool]:
    """Shopify's search syntax, the part that matters here: created_at:>=, >, <=, < a date or time."""
    tests = []
    for op, value in re.findall(r"created_at:\s*(>=|<=|>|<)\s*['\"]?([0-9T:.+\-Z]+)['\"]?", search or ""):
        bound = _time(value if "T" in value else value + "T00:00:00+00:00")
        tests.append({">=": lambda t, b=bound: t >= b, ">": lambda t, b=bound: t > b,
                      "<=": lambda t, b=bound: t <= b, "<": lambda t, b=bound: t < b}[op])
    return lambda t: all(test(t) for test in tests)


def _bag(amount, currency: str) -> dict:
    value = {"amount": money(amount), "currencyCode": currency}
    return {"shopMoney": value, "presentmentMoney": value}


def customer_shape(c: dict) -> dict:
    return {
        "id": gid("Customer", c["id"]), "legacyResourceId": str(c["id"]), "firstName": c["first_name"],
        "lastName": c["last_name"], "displayName": f"{c['first_name']} {c['last_name']}".strip(),
        "email": c["email"] or None, "phone": c["phone"] or None, "state": c.get("state", "enabled").upper(),
        "createdAt": c["created_at"], "updatedAt": c.get("updated_at"), "tags": [],
        "defaultEmailAddress": {"emailAddress": c["email"], "marketingState": c["marketing"],
                                "marketingUpdatedAt": c.get("marketing_updated_at")} if c["email"] else None,
    }


def product_shape(store: Store, domain: str, p: dict) -> dict:
    base, price = store.base_url, {"amount": p["price"], "currencyCode": store.shop(domain)["currency"]}
    return {
        "id": gid("Product", p["id"]), "legacyResourceId": str(p["id"]), "title": p["title"], "handle": p["handle"],
        "status": p["status"], "isGiftCard": p["gift_card"], "vendor": p.get("vendor") or store.shop(domain)["name"],
        "featuredImage": {"url": f"{base}/shops/{domain}/images/{p['handle']}.jpg", "altText": p["title"]},
        "onlineStoreUrl": f"{base}/shops/{domain}/products/{p['handle']}",
        "priceRangeV2": {"minVariantPrice": price, "maxVariantPrice": price},
    }


def order_shape(shop: dict, o: dict) -> dict:
    currency, presentment = o["currency"], o["presentment_currency"]
    customer = shop["customers"].get(str(o["customer_id"])) if o["customer_id"] else None
    address = o.get("shipping_address") or None
    refunded = {li["line_item_id"]: li["quantity"] for r in o["refunds"] for li in r["refund_line_items"]}
    return {
        "id": gid("Order", o["id"]), "legacyResourceId": str(o["id"]), "name": o["name"],
        "createdAt": o["created_at"], "processedAt": o["processed_at"], "cancelledAt": o["cancelled_at"],
        "email": o["email"] or None, "phone": o["phone"] or None, "currencyCode": currency,
        "presentmentCurrencyCode": presentment, "clientIp": o.get("browser_ip"),
        "displayFinancialStatus": o["financial_status"].upper(),
        "displayFulfillmentStatus": (o["fulfillment_status"] or "unfulfilled").upper(),
        "totalPriceSet": {"shopMoney": {"amount": o["total"], "currencyCode": currency},
                          "presentmentMoney": {"amount": o["total"], "currencyCode": presentment}},
        "subtotalPriceSet": _bag(o["subtotal"], currency), "totalDiscountsSet": _bag(o["discount"], currency),
        "totalRefundedSet": _bag(o["refunded"], currency),
        "discountCodes": [d["code"] for d in o["discount_codes"]],
        "customAttributes": [{"key": a.get("name"), "value": a.get("value")} for a in o["note_attributes"]],
        "customer": {"id": gid("Customer", customer["id"]), "legacyResourceId": str(customer["id"]),
                     "email": customer["email"] or None, "firstName": customer["first_name"],
                     "lastName": customer["last_name"]} if customer else None,
        "shippingAddress": {"firstName": address.get("first_name"), "lastName": address.get("last_name"),
                            "address1": address.get("address1"), "address2": address.get("address2"),
                            "city": address.get("city"), "zip": address.get("zip"),
                            "countryCodeV2": address.get("country_code")} if address else None,
        "customerJourneySummary": {"firstVisit": {"landingPage": o.get("landing_site"),
                                                  "referrerUrl": o.get("referring_site")}, "lastVisit": None},
        "refunds": [{"id": gid("Refund", r["id"]), "createdAt": r["created_at"], "totalRefundedSet": _bag(
            sum((Decimal(t["amount"]) for t in r["transactions"] if t["kind"] == "refund"), Decimal("0")), currency)}
            for r in o["refunds"]],
        "fulfillments": [{"id": gid("Fulfillment", f["id"]), "createdAt": f["created_at"], "status": f["status"].upper(),
                          "displayStatus": "DELIVERED" if f.get("shipment_status") == "delivered" else "FULFILLED",
                          "deliveredAt": f["updated_at"] if f.get("shipment_status") == "delivered" else None}
                         for f in o["fulfillments"]],
        "lineItems": Connection({
            "id": gid("LineItem", li["id"]), "title": li["title"], "quantity": li["quantity"],
            "currentQuantity": li["quantity"] - refunded.get(li["id"], 0), "sku": li.get("sku"),
            "originalUnitPriceSet": _bag(li["price"], currency), "isGiftCard": li["gift_card"],
            "requiresShipping": not li["gift_card"],
            "product": {"id": gid("Product", li["product_id"]), "legacyResourceId": str(li["product_id"])},
            "variant": {"id": gid("ProductVariant", li["variant_id"])},
        } for li in o["line_items"]),
    }


# --- the JSONL ----------------------------------------------------------------------------
def write_jsonl(plan: Plan, items: Iterable[dict], out: IO[bytes], *, keep_going: Callable[[int], bool]) -> tuple[int, int]:
    """Write each object and its nested connections' objects; (lines, top-level objects). Stops
    when `keep_going(objects so far)` says so (a cancel, a failure)."""
    lines = roots = 0
    for item in items:
        if not keep_going(roots):
            break
        for line in _flatten(item, plan.selections, None):
            out.write(json.dumps(line, separators=(",", ":")).encode() + b"\n")
            lines += 1
        roots += 1
    return lines, roots


def _flatten(value: dict, selections: list, parent_id: str | None) -> Iterator[dict]:
    children: list[tuple[Iterable[dict], list]] = []
    line = _project(value, selections, children)
    if parent_id:
        line["__parentId"] = parent_id
    yield line
    for items, inner in children:
        for child in items:
            yield from _flatten(child, inner, value["id"])


def _project(value, selections: list, children: list) -> dict:
    out: dict = {}
    for sel in selections:
        if isinstance(sel, InlineFragmentNode):
            out.update(_project(value, list(sel.selection_set.selections), children))
            continue
        name = sel.name.value
        key = sel.alias.value if sel.alias else name
        item = value.get(name) if isinstance(value, dict) else None
        if isinstance(item, Connection):
            children.append((item.items, _node_selections(sel) or []))
        elif sel.selection_set is None or item is None:
            out[key] = item
        elif isinstance(item, list):
            out[key] = [_project(x, list(sel.selection_set.selections), []) for x in item]
        else:
            out[key] = _project(item, list(sel.selection_set.selections), [])
    return out


def operation_fields(operation: dict) -> dict:
    """The BulkOperation as the API shows it (the runner's bookkeeping left out)."""
    return {k: v for k, v in operation.items() if not k.startswith("_")}


def finished_payload(operation: dict) -> dict:
    """The bulk_operations/finish webhook's body."""
    return {"admin_graphql_api_id": operation["id"], "completed_at": operation["completedAt"] or iso(now()),
            "created_at": operation["createdAt"], "error_code": (operation["errorCode"] or "").lower() or None,
            "status": operation["status"].lower(), "type": operation["type"].lower()}
