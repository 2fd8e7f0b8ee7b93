"""Metafields the way the Admin API keeps them: definitions, `metafieldsSet`, `metafieldsDelete`.

Shopify's rules that Advocate has to live with are enforced here, so the tests meet them:
at most 25 metafields a call, the call atomic (one bad input and nothing is stored), a value
checked against its type and its size limit (128 KB for `json`, 64 KB for most others), the
standard `reviews.rating` / `reviews.rating_count` definitions enabled once per shop, and the
reserved `$app` namespace resolved to `app--<app id>` (`$app:x` to `app--<app id>--x`), which
is the name Liquid and other apps see. Writing product metafields needs `write_products`; the shop's
own (owner `gid://shopify/Shop/<id>`, Liquid's `shop.metafields`) need no scope.
"""
from __future__ import annotations

import json
import zlib
from decimal import Decimal, InvalidOperation

from graphql import GraphQLError

from devstore.state import Store, gid, gid_id, iso, now

SDL = """
type Metafield {
  id: ID! namespace: String! key: String! type: String! value: String! ownerType: String!
  createdAt: DateTime! updatedAt: DateTime! compareDigest: String!
}
type MetafieldConnection { nodes: [Metafield!]! }
type MetafieldIdentifier { ownerId: ID! namespace: String! key: String! }
type MetafieldsSetUserError { field: [String!] message: String! code: String elementIndex: Int }
type MetafieldsSetPayload { metafields: [Metafield!] userErrors: [MetafieldsSetUserError!]! }
type MetafieldsDeletePayload { deletedMetafields: [MetafieldIdentifier] userErrors: [UserError!]! }
type MetafieldDefinition { id: ID! name: String! namespace: String! key: String! ownerType: String! }
type StandardMetafieldDefinitionEnableUserError { field: [String!] message: String! code: String }
type StandardMetafieldDefinitionEnablePayload {
  createdDefinition: MetafieldDefinition userErrors: [StandardMetafieldDefinitionEnableUserError!]!
}
enum MetafieldOwnerType { PRODUCT CUSTOMER }
input MetafieldsSetInput { ownerId: ID! namespace: String key: String! type: String value: String! compareDigest: String }
input MetafieldIdentifierInput { ownerId: ID! namespace: String! key: String! }

extend type Product {
  metafield(namespace: String, key: String!): Metafield
  metafields(first: Int, namespace: String): MetafieldConnection!
}
extend type Mutation {
  metafieldsSet(metafields: [MetafieldsSetInput!]!): MetafieldsSetPayload
  metafieldsDelete(metafields: [MetafieldIdentifierInput!]!): MetafieldsDeletePayload
  standardMetafieldDefinitionEnable(ownerType: MetafieldOwnerType!, namespace: String, key: String): StandardMetafieldDefinitionEnablePayload
}
"""

MAX_PER_CALL = 25
SIZE_LIMITS = {"json": 128 * 1024, "url": 2048, "id": 2048}
DEFAULT_SIZE_LIMIT = 64 * 1024
# Shopify's standard definitions Advocate enables: (namespace, key) -> (type, name).
STANDARD = {("reviews", "rating"): ("rating", "Product rating"),
            ("reviews", "rating_count"): ("number_integer", "Product rating count")}
# kind -> (the shop's table of them, ownerType); the shop itself is in no table.
OWNERS = {"Product": ("products", "PRODUCT"), "Customer": ("customers", "CUSTOMER"), "Shop": (None, "SHOP")}
OWNER_WRITE_SCOPES = {"Product": "write_products", "Customer": "write_customers"}


def scope_require(shop_data: dict, scope: str, field: str) -> None:
    """Shopify's ACCESS_DENIED when the app was not granted `scope`."""
    if scope not in set(filter(None, (shop_data["app"].get("scopes") or "").split(","))):
        raise GraphQLError(f"Access denied for {field} field. Required access: `{scope}` access scope.",
                           extensions={"code": "ACCESS_DENIED"})


def app_id(store: Store) -> int:
    """The app's numeric id, stable for its API key (Shopify's reserved namespaces embed it)."""
    return zlib.crc32(store.api_key.encode()) % 10**9


def resolve_namespace(store: Store, namespace: str | None) -> str:
    """`$app` -> `app--<id>`, `$app:x` -> `app--<id>--x`; any other namespace as given."""
    namespace = namespace or "$app"
    if namespace == "$app":
        return f"app--{app_id(store)}"
    if namespace.startswith("$app:"):
        return f"app--{app_id(store)}--{namespace[5:]}"
    return namespace


def stored(shop: dict) -> dict:
    """owner gid -> {"namespace.key": metafield}; kept in the shop's state (added lazily to old states)."""
    return shop.setdefault("metafields", {})


def product_metafield(store: Store, domain: str, product_id: int, namespace: str, key: str) -> dict | None:
    """A product's metafield as devstore holds it (tests and the storefront read it from here)."""
    return owner_metafield(store, domain, gid("Product", product_id), namespace, key)


def owner_metafield(store: Store, domain: str, owner_id: str, namespace: str, key: str) -> dict | None:
    """Any owner's metafield (a product's, a customer's) as devstore holds it."""
    return stored(store.shop(domain)).get(owner_id, {}).get(f"{resolve_namespace(store, namespace)}.{key}")


def _value_error(kind: str, value: str) -> str | None:
    """Why `value` is not a valid `kind` value (None when it is), as Shopify words it roughly."""
    if len(value.encode()) > SIZE_LIMITS.get(kind, DEFAULT_SIZE_LIMIT):
        return f"Value exceeds the maximum size of {SIZE_LIMITS.get(kind, DEFAULT_SIZE_LIMIT)} bytes for {kind}."
    if kind == "number_integer":
        try:
            int(value)
        except ValueError:
            return "Value must be an integer."
    elif kind in ("json", "rating"):
        try:
            data = json.loads(value)
        except ValueError:
            return "Value is invalid JSON."
        if kind == "rating":
            try:
                low, high, given = (Decimal(str(data[k])) for k in ("scale_min", "scale_max", "value"))
            except (KeyError, TypeError, InvalidOperation):
                return "Value must have value, scale_min and scale_max."
            if not low <= given <= high:
                return f"Value must be between {low} and {high}."
    return None


class MetafieldsApi:
    """The resolvers; `root` is graphql_api's per-request root (store, domain, shop data)."""

    def __init__(self, root):
        self.root, self.store, self.domain = root, root.store, root.domain

    def _owner(self, owner_id: str) -> tuple[str, dict] | None:
        for kind, (table, _) in OWNERS.items():
            pk = gid_id(owner_id, kind)
            if pk is not None and table is None and pk == self.root.shop_data["id"]:
                return kind, self.root.shop_data
            if pk is not None and table is not None and str(pk) in self.root.shop_data[table]:
                return kind, self.root.shop_data[table][str(pk)]
        return None

    def _owners_scope_require(self, kinds: set[str], field: str) -> None:
        """Writing a product's metafields needs write_products, a customer's write_customers."""
        for kind, scope in OWNER_WRITE_SCOPES.items():
            if kind in kinds:
                scope_require(self.root.shop_data, scope, field)

    @staticmethod
    def shape(m: dict) -> dict:
        return {**m, "compareDigest": format(zlib.crc32(m["value"].encode()), "x")}

    def product_fields(self, product: dict) -> dict:
        owner = gid("Product", product["id"])

        def metafield(info, key, namespace=None):
            found = stored(self.root.shop_data).get(owner, {}).get(f"{resolve_namespace(self.store, namespace)}.{key}")
            return self.shape(found) if found else None

        def metafields(info, first=None, namespace=None):
            items = list(stored(self.root.shop_data).get(owner, {}).values())
            if namespace:
                items = [m for m in items if m["namespace"] == resolve_namespace(self.store, namespace)]
            return {"nodes": [self.shape(m) for m in items[:first or 10]]}

        return {"metafield": metafield, "metafields": metafields}

    def metafieldsSet(self, info, metafields):
        owners = [self._owner(m["ownerId"]) for m in metafields]
        self._owners_scope_require({owner[0] for owner in owners if owner}, "metafieldsSet")
        if len(metafields) > MAX_PER_CALL:
            return {"metafields": None, "userErrors": [{
                "field": ["metafields"], "code": "LESS_THAN_OR_EQUAL_TO", "elementIndex": None,
                "message": f"Exceeded the maximum metafields input limit of {MAX_PER_CALL}."}]}
        with self.store.lock:
            errors, ready = [], []
            definitions = self.root.shop_data.setdefault("metafield_definitions", {})
            for index, m in enumerate(metafields):
                namespace = resolve_namespace(self.store, m.get("namespace"))
                owner = self._owner(m["ownerId"])
                standard = STANDARD.get((namespace, m["key"]))
                kind = m.get("type") or (standard[0] if standard else None)
                problem = None
                if owner is None:
                    problem = ("ownerId", "INVALID_VALUE", "Owner does not exist.")
                elif kind is None:
                    problem = ("type", "BLANK", "Type can't be blank.")
                elif standard and f"{OWNERS[owner[0]][1]}:{namespace}.{m['key']}" in definitions and kind != standard[0]:
                    problem = ("type", "INVALID_TYPE", f"Type must be {standard[0]} (the definition's type).")
                elif (reason := _value_error(kind, m["value"])) is not None:
                    problem = ("value", "INVALID_VALUE" if "exceeds" not in reason else "TOO_LONG", reason)
                if problem:
                    field, code, message = problem
                    errors.append({"field": ["metafields", str(index), field], "code": code, "message": message,
                                   "elementIndex": index})
                else:
                    ready.append((owner[0], m, namespace, kind))
            if errors:  # atomic, as Shopify's: nothing is stored
                return {"metafields": [], "userErrors": errors}
            written, moment = [], iso(now())
            for kind_of_owner, m, namespace, kind in ready:
                bucket = stored(self.root.shop_data).setdefault(m["ownerId"], {})
                existing = bucket.get(f"{namespace}.{m['key']}")
                record = {
                    "id": existing["id"] if existing else gid("Metafield", self.store.new_id()),
                    "namespace": namespace, "key": m["key"], "type": kind, "value": m["value"],
                    "ownerType": OWNERS[kind_of_owner][1], "createdAt": existing["createdAt"] if existing else moment,
                    "updatedAt": moment,
                }
                bucket[f"{namespace}.{m['key']}"] = record
                written.append(self.shape(record))
            self.store.save()
        return {"metafields": written, "userErrors": []}

    def metafieldsDelete(self, info, metafields):
        kinds = {kind for m in metafields for kind in OWNERS if gid_id(m["ownerId"], kind) is not None}
        self._owners_scope_require(kinds, "metafieldsDelete")
        deleted = []
        with self.store.lock:
            for m in metafields:
                bucket = stored(self.root.shop_data).get(m["ownerId"], {})
                namespace = resolve_namespace(self.store, m["namespace"])
                if bucket.pop(f"{namespace}.{m['key']}", None) is None:
                    deleted.append(None)
                else:
                    deleted.append({"ownerId": m["ownerId"], "namespace": namespace, "key": m["key"]})
            self.store.save()
        return {"deletedMetafields": deleted, "userErrors": []}

    def standardMetafieldDefinitionEnable(self, info, ownerType, namespace=None, key=None):
        standard = STANDARD.get((namespace or "", key or ""))
        if ownerType != "PRODUCT" or standard is None:
            return {"createdDefinition": None, "userErrors": [{
                "field": ["namespace"], "code": "TEMPLATE_NOT_FOUND", "message": "A standard definition wasn't found."}]}
        with self.store.lock:
            definitions = self.root.shop_data.setdefault("metafield_definitions", {})
            name = f"PRODUCT:{namespace}.{key}"
            if name in definitions:
                return {"createdDefinition": None, "userErrors": [{
                    "field": ["namespace"], "code": "TAKEN",
                    "message": f"Key is in use for Product metafields on the '{namespace}' namespace."}]}
            definitions[name] = {"id": gid("MetafieldDefinition", self.store.new_id()), "name": standard[1],
                                 "namespace": namespace, "key": key, "ownerType": "PRODUCT"}
            self.store.save()
            return {"createdDefinition": definitions[name], "userErrors": []}


def liquid_metafields(store: Store, domain: str, product_id: int) -> dict:
    """`product.metafields` as Shopify's Liquid sees it (see owner_liquid_metafields)."""
    return owner_liquid_metafields(store, domain, gid("Product", product_id))


def shop_liquid_metafields(store: Store, domain: str) -> dict:
    """`shop.metafields` as Shopify's Liquid sees it."""
    return owner_liquid_metafields(store, domain, gid("Shop", store.shop(domain)["id"]))


def owner_liquid_metafields(store: Store, domain: str, owner_id: str) -> dict:
    """An owner's `metafields` as Shopify's Liquid sees them: namespace -> key -> {value, type}, values
    parsed by type (a `rating` is an object with `rating`, `scale_min`, `scale_max`), and the
    app's reserved namespace reachable as `$app` too."""
    seen: dict[str, dict] = {}
    for m in stored(store.shop(domain)).get(owner_id, {}).values():
        value: object = m["value"]
        if m["type"] == "json":
            value = json.loads(m["value"])
        elif m["type"] == "number_integer":
            value = int(m["value"])
        elif m["type"] == "rating":
            raw = json.loads(m["value"])
            value = {"rating": float(raw["value"]), "scale_min": float(raw["scale_min"]),
                     "scale_max": float(raw["scale_max"])}
        seen.setdefault(m["namespace"], {})[m["key"]] = {"value": value, "type": m["type"]}
    app = seen.get(resolve_namespace(store, "$app"))
    if app is not None:
        seen["$app"] = app
    return seen
