"""The Admin GraphQL API, the parts Advocate calls, with Shopify's shapes, costs and errors."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from graphql import (
    FieldNode, FragmentSpreadNode, GraphQLError, InlineFragmentNode, OperationDefinitionNode, build_schema,
    graphql_sync, parse, validate,
)
from graphql.language import IntValueNode, VariableNode

from devstore import brand, bulk, flow, metafields
from devstore.state import PLANS, Store, StoreError, gid, gid_id, iso, money, now

SDL = """
scalar DateTime
scalar Decimal
scalar URL

enum CurrencyCode { USD EUR GBP CAD AUD JPY }
enum DiscountStatus { ACTIVE EXPIRED SCHEDULED }
enum DiscountBuyerSelection { ALL }
enum CustomerEmailMarketingState { SUBSCRIBED UNSUBSCRIBED NOT_SUBSCRIBED PENDING INVALID REDACTED }
enum WebhookSubscriptionFormat { JSON XML }
enum WebhookSubscriptionTopic {
  APP_UNINSTALLED ORDERS_CREATE ORDERS_PAID ORDERS_FULFILLED ORDERS_CANCELLED ORDERS_UPDATED
  FULFILLMENTS_CREATE FULFILLMENTS_UPDATE REFUNDS_CREATE CUSTOMERS_CREATE CUSTOMERS_UPDATE
  CUSTOMERS_EMAIL_MARKETING_CONSENT_UPDATE
}

type MoneyV2 { amount: Decimal! currencyCode: CurrencyCode! }
type MoneyBag { shopMoney: MoneyV2! presentmentMoney: MoneyV2! }
type PageInfo { hasNextPage: Boolean! hasPreviousPage: Boolean! endCursor: String startCursor: String }
type UserError { field: [String!] message: String! }
type DiscountUserError { field: [String!] message: String! code: String }
type StoreCreditAccountCreditUserError { field: [String!] message: String! code: String }

type ShopPlan { displayName: String! shopifyPlus: Boolean! partnerDevelopment: Boolean! }
type Domain { host: String! url: URL! }
type ShopAddress {
  address1: String address2: String city: String company: String country: String countryCodeV2: String
  province: String provinceCode: String zip: String
}
type Shop {
  id: ID! name: String! email: String! myshopifyDomain: String! currencyCode: CurrencyCode!
  ianaTimezone: String! plan: ShopPlan! primaryDomain: Domain! contactEmail: String! billingAddress: ShopAddress!
}

type Image { url: URL! altText: String }
type ProductVariant { id: ID! title: String! price: Decimal! sku: String barcode: String }
type ProductVariantConnection { nodes: [ProductVariant!]! }
type ProductPriceRangeV2 { minVariantPrice: MoneyV2! maxVariantPrice: MoneyV2! }
interface Node { id: ID! }
type Product implements Node {
  id: ID! legacyResourceId: String! title: String! handle: String! status: String! isGiftCard: Boolean!
  vendor: String! featuredImage: Image onlineStoreUrl: URL priceRangeV2: ProductPriceRangeV2!
  variants(first: Int): ProductVariantConnection!
}
type ProductEdge { cursor: String! node: Product! }
type ProductConnection { edges: [ProductEdge!]! nodes: [Product!]! pageInfo: PageInfo! }

type CustomerEmailAddress { emailAddress: String! marketingState: CustomerEmailMarketingState! }
type StoreCreditAccountTransactionConnection { nodes: [StoreCreditAccountTransaction!]! }
type StoreCreditAccount {
  id: ID! balance: MoneyV2!
  transactions(first: Int, reverse: Boolean): StoreCreditAccountTransactionConnection!
}
type StoreCreditAccountConnection { nodes: [StoreCreditAccount!]! }
type Customer {
  id: ID! legacyResourceId: String! firstName: String lastName: String displayName: String!
  email: String phone: String defaultEmailAddress: CustomerEmailAddress numberOfOrders: String!
  amountSpent: MoneyV2! createdAt: DateTime! tags: [String!]! locale: String!
  storeCreditAccounts(first: Int): StoreCreditAccountConnection!
}
type TagsNode { id: ID! }
type TagsAddPayload { node: TagsNode userErrors: [UserError!]! }
type TagsRemovePayload { node: TagsNode userErrors: [UserError!]! }
type CustomerEdge { cursor: String! node: Customer! }
type CustomerConnection { edges: [CustomerEdge!]! nodes: [Customer!]! pageInfo: PageInfo! }

type LineItem { id: ID! title: String! quantity: Int! product: Product }
type LineItemConnection { nodes: [LineItem!]! }
type Order {
  id: ID! legacyResourceId: String! name: String! createdAt: DateTime! cancelledAt: DateTime email: String
  customerLocale: String
  displayFinancialStatus: String displayFulfillmentStatus: String!
  totalPriceSet: MoneyBag! totalRefundedSet: MoneyBag! customer: Customer discountCodes: [String!]!
  lineItems(first: Int): LineItemConnection!
}
type OrderEdge { cursor: String! node: Order! }
type OrderConnection { edges: [OrderEdge!]! nodes: [Order!]! pageInfo: PageInfo! }

type DiscountRedeemCode { code: String! asyncUsageCount: Int! }
type DiscountRedeemCodeConnection { nodes: [DiscountRedeemCode!]! }
type DiscountCodeBasic {
  title: String! status: DiscountStatus! startsAt: DateTime! endsAt: DateTime usageLimit: Int
  appliesOncePerCustomer: Boolean! asyncUsageCount: Int! codes(first: Int): DiscountRedeemCodeConnection!
}
union DiscountCode = DiscountCodeBasic
type DiscountCodeNode { id: ID! codeDiscount: DiscountCode! }
type DiscountCodeBasicCreatePayload { codeDiscountNode: DiscountCodeNode userErrors: [DiscountUserError!]! }
type DiscountCodeDeletePayload { deletedCodeDiscountId: ID userErrors: [DiscountUserError!]! }
type DiscountCodeBasicUpdatePayload { codeDiscountNode: DiscountCodeNode userErrors: [DiscountUserError!]! }

type StoreCreditAccountTransaction { id: ID! amount: MoneyV2! balanceAfterTransaction: MoneyV2! account: StoreCreditAccount! createdAt: DateTime! }
type StoreCreditAccountCreditPayload { storeCreditAccountTransaction: StoreCreditAccountTransaction userErrors: [StoreCreditAccountCreditUserError!]! }
type StoreCreditAccountDebitPayload { storeCreditAccountTransaction: StoreCreditAccountTransaction userErrors: [StoreCreditAccountCreditUserError!]! }

type Segment { id: ID! name: String! query: String! creationDate: DateTime! }
type SegmentEdge { cursor: String! node: Segment! }
type SegmentConnection { edges: [SegmentEdge!]! nodes: [Segment!]! pageInfo: PageInfo! }
type SegmentCreatePayload { segment: Segment userErrors: [UserError!]! }

type WebhookSubscription { id: ID! topic: WebhookSubscriptionTopic! uri: String! }
type WebhookSubscriptionCreatePayload { webhookSubscription: WebhookSubscription userErrors: [UserError!]! }

enum ThemeRole { MAIN UNPUBLISHED DEVELOPMENT DEMO ARCHIVED LOCKED }
type OnlineStoreThemeFileBodyText { content: String! }
union OnlineStoreThemeFileBody = OnlineStoreThemeFileBodyText
type OnlineStoreThemeFile { filename: String! body: OnlineStoreThemeFileBody! }
type OnlineStoreThemeFileConnection { nodes: [OnlineStoreThemeFile!]! }
type OnlineStoreTheme { id: ID! name: String! role: ThemeRole! files(filenames: [String!], first: Int): OnlineStoreThemeFileConnection }
type OnlineStoreThemeConnection { nodes: [OnlineStoreTheme!]! }

enum ProductSortKeys { ID TITLE BEST_SELLING CREATED_AT UPDATED_AT RELEVANCE }

type ShopLocale { locale: String! name: String! primary: Boolean! published: Boolean! }

type AccessScope { handle: String! }
type AppInstallation { id: ID! accessScopes: [AccessScope!]! }

type Query {
  shop: Shop!
  currentAppInstallation: AppInstallation!
  shopLocales(published: Boolean): [ShopLocale!]!
  themes(first: Int, roles: [ThemeRole!]): OnlineStoreThemeConnection!
  product(id: ID!): Product
  nodes(ids: [ID!]!): [Node]!
  products(first: Int, after: String, query: String, sortKey: ProductSortKeys, reverse: Boolean): ProductConnection!
  customer(id: ID!): Customer
  customers(first: Int, after: String, query: String): CustomerConnection!
  order(id: ID!): Order
  orders(first: Int, after: String, query: String): OrderConnection!
  codeDiscountNodeByCode(code: String!): DiscountCodeNode
  segments(first: Int, after: String, query: String): SegmentConnection!
}

input MoneyInput { amount: Decimal! currencyCode: CurrencyCode! }
input DiscountAmountInput { amount: Decimal appliesOnEachItem: Boolean }
input DiscountCustomerGetsValueInput { percentage: Float discountAmount: DiscountAmountInput }
input DiscountItemsInput { all: Boolean }
input DiscountCustomerGetsInput { value: DiscountCustomerGetsValueInput items: DiscountItemsInput }
input DiscountMinimumSubtotalInput { greaterThanOrEqualToSubtotal: Decimal }
input DiscountMinimumQuantityInput { greaterThanOrEqualToQuantity: String }
input DiscountMinimumRequirementInput { subtotal: DiscountMinimumSubtotalInput quantity: DiscountMinimumQuantityInput }
input DiscountCustomersInput { add: [ID!] remove: [ID!] }
input DiscountCustomerSegmentsInput { add: [ID!] remove: [ID!] }
input DiscountContextInput { all: DiscountBuyerSelection customers: DiscountCustomersInput customerSegments: DiscountCustomerSegmentsInput }
input DiscountCustomerSelectionInput { all: Boolean customers: DiscountCustomersInput }
input DiscountCombinesWithInput { orderDiscounts: Boolean productDiscounts: Boolean shippingDiscounts: Boolean }
input DiscountCodeBasicInput {
  title: String code: String startsAt: DateTime endsAt: DateTime
  context: DiscountContextInput customerSelection: DiscountCustomerSelectionInput
  customerGets: DiscountCustomerGetsInput minimumRequirement: DiscountMinimumRequirementInput
  appliesOncePerCustomer: Boolean usageLimit: Int combinesWith: DiscountCombinesWithInput
}
input StoreCreditAccountCreditInput { creditAmount: MoneyInput! expiresAt: DateTime notify: Boolean }
input StoreCreditAccountDebitInput { debitAmount: MoneyInput! }
input WebhookSubscriptionInput { uri: String callbackUrl: URL format: WebhookSubscriptionFormat includeFields: [String!] filter: String }

type Mutation {
  discountCodeBasicCreate(basicCodeDiscount: DiscountCodeBasicInput!): DiscountCodeBasicCreatePayload
  discountCodeDelete(id: ID!): DiscountCodeDeletePayload
  discountCodeBasicUpdate(id: ID!, basicCodeDiscount: DiscountCodeBasicInput!): DiscountCodeBasicUpdatePayload
  storeCreditAccountCredit(id: ID!, creditInput: StoreCreditAccountCreditInput!): StoreCreditAccountCreditPayload
  storeCreditAccountDebit(id: ID!, debitInput: StoreCreditAccountDebitInput!): StoreCreditAccountDebitPayload
  webhookSubscriptionCreate(topic: WebhookSubscriptionTopic!, webhookSubscription: WebhookSubscriptionInput!): WebhookSubscriptionCreatePayload
  segmentCreate(name: String!, query: String!): SegmentCreatePayload
  tagsAdd(id: ID!, tags: [String!]!): TagsAddPayload
  tagsRemove(id: ID!, tags: [String!]!): TagsRemovePayload
}
"""

SCHEMA = build_schema(SDL + metafields.SDL + bulk.SDL + flow.SDL + brand.SDL)
SCHEMA.get_type("Node").resolve_type = lambda value, info, type_: value.get("__typename", "Product")
SCHEMA.get_type("DiscountCode").resolve_type = lambda value, info, type_: "DiscountCodeBasic"
SCHEMA.get_type("OnlineStoreThemeFileBody").resolve_type = lambda value, info, type_: "OnlineStoreThemeFileBodyText"
MAX_QUERY_COST = 1000
MUTATION_COST = 10
CONNECTION_DEFAULT = 10
LOCALE_NAMES = {"en": "English", "ko": "Korean", "ja": "Japanese", "de": "German", "fr": "French", "es": "Spanish"}

# Every Shopify shop has a billing address; a devstore shop whose state names none answers with this one.
DEFAULT_BILLING_ADDRESS = {"address1": "150 Elgin Street", "address2": "8th Floor", "city": "Ottawa", "company": None,
                           "country": "Canada", "countryCodeV2": "CA", "province": "Ontario", "provinceCode": "ON",
                           "zip": "K2P 1L4"}


class Throttled(Exception):
    def __init__(self, status: dict, requested: int):
        self.status, self.requested = status, requested


def execute(store: Store, domain: str, body: dict) -> dict:
    """Answer one GraphQL request as Shopify would (the token was checked already)."""
    query = body.get("query") or ""
    variables = body.get("variables") or {}
    try:
        document = parse(query)
    except GraphQLError as exc:
        return {"errors": [{"message": exc.message, "locations": _locations(exc)}]}
    problems = validate(SCHEMA, document)
    if problems:
        return {"errors": [{"message": p.message, "locations": _locations(p),
                            "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}} for p in problems]}
    requested = query_cost(document, variables, body.get("operationName"))
    if requested > MAX_QUERY_COST:
        return {"errors": [{"message": f"Query cost is {requested}, which exceeds the single query max cost limit ({MAX_QUERY_COST}).",
                            "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": MAX_QUERY_COST}}]}
    allowed, status = store.bucket_take(domain, requested)
    cost = {"requestedQueryCost": requested, "actualQueryCost": requested if allowed else None, "throttleStatus": status}
    if not allowed:
        return {"errors": [{"message": "Throttled", "extensions": {
            "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
            "extensions": {"cost": cost}}
    result = graphql_sync(SCHEMA, query, root_value=_root_mapping(_Root(store, domain)), variable_values=variables,
                          operation_name=body.get("operationName"))
    answer: dict[str, Any] = {"data": result.data}
    if result.errors:
        answer["errors"] = [{"message": e.message, "locations": _locations(e), "path": e.path,
                             **({"extensions": e.extensions} if e.extensions else {})} for e in result.errors]
    answer["extensions"] = {"cost": cost}
    return answer


def _locations(error: GraphQLError) -> list[dict]:
    return [{"line": loc.line, "column": loc.column} for loc in error.locations or []]


def query_cost(document, variables: dict, operation_name: str | None) -> int:
    """Shopify's static cost: objects 1, connections `first` times their node, scalars 0, mutations 10."""
    fragments = {d.name.value: d for d in document.definitions if d.kind == "fragment_definition"}
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    operation = next((o for o in operations if not operation_name or (o.name and o.name.value == operation_name)),
                     operations[0] if operations else None)
    if operation is None:
        return 0
    if operation.operation.value == "mutation":
        return MUTATION_COST * len(operation.selection_set.selections)

    def first_of(field: FieldNode) -> int | None:
        for arg in field.arguments or []:
            if arg.name.value in ("first", "last"):
                if isinstance(arg.value, IntValueNode):
                    return int(arg.value.value)
                if isinstance(arg.value, VariableNode):
                    return int(variables.get(arg.value.name.value) or CONNECTION_DEFAULT)
        return None

    def cost(selection_set) -> int:
        total = 0
        for selection in selection_set.selections if selection_set else []:
            if isinstance(selection, FieldNode):
                if selection.selection_set is None:
                    continue
                n = first_of(selection)
                inner = cost(selection.selection_set)
                total += 2 + n * max(inner, 1) if n is not None else 1 + inner
            elif isinstance(selection, InlineFragmentNode):
                total += cost(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments:
                total += cost(fragments[selection.name.value].selection_set)
        return total

    # Connections count their node and the wrapping edges/nodes objects once.
    return max(1, cost(operation.selection_set))


def customer_tags(customer: dict) -> list[str]:
    """A customer's tags: Shopify keeps them as one comma-separated string."""
    return [t.strip() for t in (customer.get("tags") or "").split(",") if t.strip()]


def _connection(items: list[Any], first: int | None, after: str | None, cursor_of) -> dict:
    start = 0
    if after:
        cursors = [cursor_of(i) for i in items]
        start = cursors.index(after) + 1 if after in cursors else len(items)
    count = first if first is not None else CONNECTION_DEFAULT
    page = items[start:start + count]
    return {
        "edges": [{"cursor": cursor_of(i), "node": i} for i in page],
        "nodes": page,
        "pageInfo": {"hasNextPage": start + count < len(items), "hasPreviousPage": start > 0,
                     "endCursor": cursor_of(page[-1]) if page else None,
                     "startCursor": cursor_of(page[0]) if page else None},
    }


def _ean13(number: int) -> str:
    """A stable, valid-looking EAN-13 barcode for a devstore product (GS1 check digit)."""
    digits = f"{number % 10**12:012d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits))
    return digits + str((10 - total % 10) % 10)


def _match(item: dict, query: str | None, fields: tuple[str, ...]) -> bool:
    """Shopify search syntax, the small part used here: `field:value` terms or free text."""
    if not query:
        return True
    for term in query.split():
        key, _, value = term.partition(":")
        if not value:
            key, value = "", term
        value = value.strip("'\"").lower()
        haystack = [str(item.get(key, "")).lower()] if key else [str(item.get(f, "")).lower() for f in fields]
        if not any(value in h for h in haystack):
            return False
    return True


class _Root:
    """Resolvers: plain dicts shaped like the schema; callables for fields with arguments."""

    def __init__(self, store: Store, domain: str):
        self.store, self.domain = store, domain
        self.shop_data = store.shop(domain)
        self.metafields_api = metafields.MetafieldsApi(self)

    # --- shapes
    def _money(self, amount: Any, currency: str | None = None) -> dict:
        return {"amount": money(amount), "currencyCode": currency or self.shop_data["currency"]}

    def product(self, p: dict) -> dict:
        base = self.store.base_url
        return {
            "id": gid("Product", p["id"]), "legacyResourceId": str(p["id"]), "title": p["title"],
            "handle": p["handle"], "status": p["status"], "isGiftCard": p["gift_card"],
            "featuredImage": {"url": f"{base}/shops/{self.domain}/images/{p['handle']}.jpg", "altText": p["title"]},
            "onlineStoreUrl": f"{base}/shops/{self.domain}/products/{p['handle']}",
            "priceRangeV2": {"minVariantPrice": self._money(p["price"]), "maxVariantPrice": self._money(p["price"])},
            "vendor": p.get("vendor") or self.shop_data["name"],
            "variants": lambda info, first=None: {"nodes": [
                {"id": gid("ProductVariant", p["variant_id"]), "title": "Default Title", "price": p["price"],
                 "sku": p["handle"].upper(), "barcode": None if p["gift_card"] else _ean13(p["id"])}]},
            **self.metafields_api.product_fields(p),
        }

    def customer(self, c: dict) -> dict:
        orders = self.store.customer_orders(self.domain, c["id"])
        spent = sum((Decimal(o["total"]) - Decimal(o["refunded"]) for o in orders), Decimal("0"))
        return {
            "id": gid("Customer", c["id"]), "legacyResourceId": str(c["id"]), "firstName": c["first_name"],
            "lastName": c["last_name"], "displayName": f"{c['first_name']} {c['last_name']}".strip(),
            "email": c["email"] or None, "phone": c["phone"] or None,
            "defaultEmailAddress": {"emailAddress": c["email"], "marketingState": c["marketing"]} if c["email"] else None,
            "numberOfOrders": str(len(orders)), "amountSpent": self._money(spent), "createdAt": c["created_at"],
            "tags": customer_tags(c), "locale": c.get("locale") or "en",
            "storeCreditAccounts": lambda info, first=None: {"nodes": [
                self.credit_account(a) for a in self.store.credit_accounts(self.domain, c["id"])]},
        }

    def order(self, o: dict) -> dict:
        customers = self.shop_data["customers"]
        products = self.shop_data["products"]

        def bag(amount: str) -> dict:
            return {"shopMoney": self._money(amount, o["currency"]),
                    "presentmentMoney": self._money(amount, o["presentment_currency"])}

        return {
            "id": gid("Order", o["id"]), "legacyResourceId": str(o["id"]), "name": o["name"],
            "createdAt": o["created_at"], "cancelledAt": o["cancelled_at"], "email": o["email"] or None,
            "customerLocale": o.get("customer_locale") or "en",
            "displayFinancialStatus": o["financial_status"].upper(),
            "displayFulfillmentStatus": (o["fulfillment_status"] or "unfulfilled").upper(),
            "totalPriceSet": bag(o["total"]), "totalRefundedSet": bag(o["refunded"]),
            "customer": self.customer(customers[str(o["customer_id"])]) if o["customer_id"] else None,
            "discountCodes": [d["code"] for d in o["discount_codes"]],
            "lineItems": lambda info, first=None: {"nodes": [
                {"id": gid("LineItem", li["id"]), "title": li["title"], "quantity": li["quantity"],
                 "product": self.product(products[str(li["product_id"])]) if str(li["product_id"]) in products else None}
                for li in o["line_items"][: first or CONNECTION_DEFAULT]]},
        }

    def credit_account(self, a: dict) -> dict:
        def transactions(info, first=None, reverse=False) -> dict:
            listed = list(reversed(a["transactions"])) if reverse else list(a["transactions"])
            return {"nodes": [self.credit_transaction(t, a) for t in listed[: first or CONNECTION_DEFAULT]]}

        return {"id": gid("StoreCreditAccount", a["id"]), "balance": self._money(a["balance"], a["currency"]),
                "transactions": transactions}

    def credit_transaction(self, t: dict, a: dict) -> dict:
        kind = "StoreCreditAccountDebitTransaction" if t["amount"].startswith("-") else "StoreCreditAccountCreditTransaction"
        return {"id": gid(kind, t["id"]), "amount": self._money(t["amount"], a["currency"]),
                "balanceAfterTransaction": self._money(t["balance_after"], a["currency"]), "createdAt": t["created_at"],
                "account": {"id": gid("StoreCreditAccount", a["id"]), "balance": self._money(a["balance"], a["currency"])}}

    def discount_node(self, d: dict) -> dict:
        return {"id": gid("DiscountCodeNode", d["id"]), "codeDiscount": {
            "title": d["title"], "status": d["status"], "startsAt": d["starts_at"], "endsAt": d["ends_at"],
            "usageLimit": d["usage_limit"], "appliesOncePerCustomer": d["once_per_customer"],
            "asyncUsageCount": len(d["used_by"]),
            "codes": lambda info, first=None: {"nodes": [{"code": d["code"], "asyncUsageCount": len(d["used_by"])}]},
        }}

    # --- Query
    def shop(self, info) -> dict:
        s = self.shop_data
        display, _, _, plus = PLANS[s["plan"]]
        return {"id": gid("Shop", s["id"]), "name": s["name"], "email": s["email"], "contactEmail": s["email"],
                "myshopifyDomain": self.domain, "currencyCode": s["currency"], "ianaTimezone": s["timezone"],
                "plan": {"displayName": display, "shopifyPlus": plus, "partnerDevelopment": False},
                "primaryDomain": {"host": self.domain, "url": f"https://{self.domain}"},
                "billingAddress": s.get("billing_address") or DEFAULT_BILLING_ADDRESS,
                "storefrontAccessTokens": lambda info, first=None: brand.tokens(self.store, self.domain, first)}

    def currentAppInstallation(self, info) -> dict:
        scopes = [s for s in (self.shop_data["app"].get("scopes") or "").split(",") if s]
        return {"id": gid("AppInstallation", self.shop_data["id"] + 3), "accessScopes": [{"handle": s} for s in scopes]}

    def shopLocales(self, info, published=False) -> list[dict]:
        metafields.scope_require(self.shop_data, "read_locales", "shopLocales")
        codes = self.shop_data.get("locales") or ["en"]
        return [{"locale": code, "name": LOCALE_NAMES.get(code, code), "primary": index == 0, "published": True}
                for index, code in enumerate(codes)]

    def themes(self, info, first=None, roles=None) -> dict:
        theme = self.shop_data["theme"]
        if roles and theme["role"] not in roles:
            return {"nodes": []}
        files = theme["files"]
        return {"nodes": [{
            "id": gid("OnlineStoreTheme", self.shop_data["id"] + 7), "name": theme["name"], "role": theme["role"],
            "files": lambda info, filenames=None, first=None: {"nodes": [
                {"filename": name, "body": {"content": files[name]}}
                for name in (filenames or list(files)) if name in files][: first or CONNECTION_DEFAULT]},
        }]}

    def products(self, info, first=None, after=None, query=None, sortKey=None, reverse=False) -> dict:
        items = [p for p in self.shop_data["products"].values() if _match(p, query, ("title", "handle", "status"))]
        if sortKey == "BEST_SELLING":  # units sold, most first (ties by id)
            sold: dict[int, int] = {}
            for order in self.shop_data["orders"].values():
                for line in order["line_items"]:
                    sold[line["product_id"]] = sold.get(line["product_id"], 0) + line["quantity"]
            items.sort(key=lambda p: (-sold.get(p["id"], 0), p["id"]))
        elif sortKey == "TITLE":
            items.sort(key=lambda p: p["title"])
        if reverse:
            items.reverse()
        return _connection([self.product(p) for p in items], first, after, lambda p: p["legacyResourceId"])

    def customers(self, info, first=None, after=None, query=None) -> dict:
        items = [c for c in self.shop_data["customers"].values()
                 if _match(c, query, ("first_name", "last_name", "email", "phone"))]
        return _connection([self.customer(c) for c in items], first, after, lambda c: c["legacyResourceId"])

    def orders(self, info, first=None, after=None, query=None) -> dict:
        items = [o for o in self.shop_data["orders"].values() if _match(o, query, ("name", "email"))]
        items.sort(key=lambda o: o["id"], reverse=True)
        return _connection([self.order(o) for o in items], first, after, lambda o: o["legacyResourceId"])

    def _lookup(self, table: str, value: str, kind: str):
        item = self.shop_data[table].get(str(gid_id(value, kind)))
        return item

    def product_by_id(self, info, id):
        p = self._lookup("products", id, "Product")
        return self.product(p) if p else None

    def nodes(self, info, ids):
        """`nodes(ids:)`: up to 250 objects by id in one request (products here), null for unknown ids."""
        if len(ids) > 250:
            raise GraphQLError("The ids argument accepts at most 250 ids.")
        return [self.product_by_id(info, i) if gid_id(i, "Product") is not None else None for i in ids]

    def customer_by_id(self, info, id):
        c = self._lookup("customers", id, "Customer")
        return self.customer(c) if c else None

    def order_by_id(self, info, id):
        o = self._lookup("orders", id, "Order")
        return self.order(o) if o else None

    def codeDiscountNodeByCode(self, info, code):
        found = self.store.discount(self.domain, code)
        return self.discount_node(found) if found else None

    # --- Mutation
    def discountCodeBasicCreate(self, info, basicCodeDiscount):
        data = basicCodeDiscount
        errors = []
        code = (data.get("code") or "").strip()
        if not code:
            errors.append((["basicCodeDiscount", "code"], "Code can't be blank", "BLANK"))
        elif len(code) > 255:
            errors.append((["basicCodeDiscount", "code"], "Code is too long (maximum is 255 characters)", "TOO_LONG"))
        elif self.store.discount(self.domain, code):
            errors.append((["basicCodeDiscount", "code"], "Code must be unique. Please try a different code.", "TAKEN"))
        if not (data.get("title") or "").strip():
            errors.append((["basicCodeDiscount", "title"], "Title can't be blank", "BLANK"))
        if data.get("context") and data.get("customerSelection"):
            errors.append((["basicCodeDiscount"], "Only one of context or customerSelection can be provided.", "INVALID"))
        value = ((data.get("customerGets") or {}).get("value")) or {}
        percentage = value.get("percentage")
        amount = (value.get("discountAmount") or {}).get("amount")
        if percentage is None and amount is None:
            errors.append((["basicCodeDiscount", "customerGets", "value"], "Value can't be blank", "BLANK"))
        if percentage is not None and not (0 < float(percentage) <= 1):
            errors.append((["basicCodeDiscount", "customerGets", "value", "percentage"],
                           "Value must be between 0.0 and 1.0", "VALUE_OUTSIDE_RANGE"))
        try:
            if amount is not None and Decimal(str(amount)) <= 0:
                errors.append((["basicCodeDiscount", "customerGets", "value", "discountAmount", "amount"],
                               "Value must be greater than 0", "GREATER_THAN"))
        except InvalidOperation:
            errors.append((["basicCodeDiscount", "customerGets", "value", "discountAmount", "amount"],
                           "Value is not a number", "INVALID"))
        minimum = ((data.get("minimumRequirement") or {}).get("subtotal") or {}).get("greaterThanOrEqualToSubtotal")
        if data.get("usageLimit") is not None and int(data["usageLimit"]) < 1:
            errors.append((["basicCodeDiscount", "usageLimit"], "Usage limit must be greater than 0", "GREATER_THAN"))
        starts, ends = data.get("startsAt") or iso(now()), data.get("endsAt")
        if ends and ends <= starts:
            errors.append((["basicCodeDiscount", "endsAt"], "Ends at needs to be after starts_at", "INVALID"))
        customer_ids, segment_ids = self._context(data.get("context") or data.get("customerSelection") or {}, errors)
        if errors:
            return {"codeDiscountNode": None, "userErrors": [{"field": f, "message": m, "code": c} for f, m, c in errors]}
        with self.store.lock:
            did = self.store.new_id()
            discount = {
                "id": did, "code": code, "title": data["title"], "status": "ACTIVE", "starts_at": starts, "ends_at": ends,
                "percentage": float(percentage) if percentage is not None else None,
                "amount": money(amount) if amount is not None else None,
                "minimum_subtotal": money(minimum) if minimum is not None else None,
                "once_per_customer": bool(data.get("appliesOncePerCustomer")),
                "usage_limit": data.get("usageLimit"), "customer_ids": customer_ids, "segment_ids": segment_ids,
                "used_by": [],
                "created_at": iso(now()),
            }
            self.shop_data["discounts"][str(did)] = discount
            self.store.save()
        return {"codeDiscountNode": self.discount_node(discount), "userErrors": []}

    def discountCodeBasicUpdate(self, info, id, basicCodeDiscount):
        """Change the fields given; the value, minimum and limits of an existing code."""
        data, did = basicCodeDiscount, gid_id(id, "DiscountCodeNode")
        value = ((data.get("customerGets") or {}).get("value")) or {}
        percentage, amount = value.get("percentage"), (value.get("discountAmount") or {}).get("amount")
        if percentage is not None and not (0 < float(percentage) <= 1):
            return {"codeDiscountNode": None, "userErrors": [{
                "field": ["basicCodeDiscount", "customerGets", "value", "percentage"],
                "message": "Value must be between 0.0 and 1.0", "code": "VALUE_OUTSIDE_RANGE"}]}
        errors: list = []
        context = self._context(data["context"], errors) if data.get("context") else None
        if errors:
            return {"codeDiscountNode": None, "userErrors": [{"field": f, "message": m, "code": c} for f, m, c in errors]}
        with self.store.lock:
            discount = self.shop_data["discounts"].get(str(did)) if did is not None else None
            if discount is None:
                return {"codeDiscountNode": None,
                        "userErrors": [{"field": ["id"], "message": "Discount does not exist", "code": "INVALID"}]}
            if percentage is not None or amount is not None:
                discount["percentage"] = float(percentage) if percentage is not None else None
                discount["amount"] = money(amount) if amount is not None else None
            if context is not None:  # a new context replaces the old buyers
                discount["customer_ids"], discount["segment_ids"] = context
            if "minimumRequirement" in data:
                minimum = ((data.get("minimumRequirement") or {}).get("subtotal") or {}).get("greaterThanOrEqualToSubtotal")
                discount["minimum_subtotal"] = money(minimum) if minimum is not None else None
            for field, key in (("title", "title"), ("appliesOncePerCustomer", "once_per_customer"),
                               ("usageLimit", "usage_limit"), ("endsAt", "ends_at")):
                if field in data:
                    discount[key] = data[field]
            self.store.save()
        return {"codeDiscountNode": self.discount_node(discount), "userErrors": []}

    def _context(self, selection: dict, errors: list) -> tuple[list, list]:
        """(customer ids, segment ids) from a DiscountContextInput; problems appended to `errors`."""
        if sum(1 for key in ("all", "customers", "customerSegments") if selection.get(key)) > 1:
            errors.append((["basicCodeDiscount", "context"], "Only one of all, customers or customerSegments can be provided.",
                           "INVALID"))
        customer_ids = [gid_id(c, "Customer") for c in ((selection.get("customers") or {}).get("add") or [])]
        if any(c is None or str(c) not in self.shop_data["customers"] for c in customer_ids):
            errors.append((["basicCodeDiscount", "context", "customers"], "Customer does not exist", "INVALID"))
        segment_ids = [gid_id(s, "Segment") for s in ((selection.get("customerSegments") or {}).get("add") or [])]
        if any(s is None or str(s) not in self.store.segments(self.domain) for s in segment_ids):
            errors.append((["basicCodeDiscount", "context", "customerSegments"], "Segment does not exist", "INVALID"))
        return customer_ids, segment_ids

    def segment(self, s: dict) -> dict:
        return {"id": gid("Segment", s["id"]), "name": s["name"], "query": s["query"], "creationDate": s["created_at"]}

    def segments(self, info, first=None, after=None, query=None) -> dict:
        items = [s for s in self.store.segments(self.domain).values() if _match(s, query, ("name",))]
        return _connection([self.segment(s) for s in items], first, after, lambda s: s["id"])

    def segmentCreate(self, info, name, query):
        try:
            made = self.store.segment_create(self.domain, name=name, query=query)
        except StoreError as exc:
            field = ["name"] if "Name" in str(exc) else ["query"]
            return {"segment": None, "userErrors": [{"field": field, "message": str(exc)}]}
        return {"segment": self.segment(made), "userErrors": []}

    def discountCodeDelete(self, info, id):
        did = gid_id(id, "DiscountCodeNode")
        with self.store.lock:
            if did is None or str(did) not in self.shop_data["discounts"]:
                return {"deletedCodeDiscountId": None,
                        "userErrors": [{"field": ["id"], "message": "Discount does not exist", "code": "INVALID"}]}
            del self.shop_data["discounts"][str(did)]
            self.store.save()
        return {"deletedCodeDiscountId": id, "userErrors": []}

    def storeCreditAccountCredit(self, info, id, creditInput):
        return self._store_credit_move(id, creditInput["creditAmount"], sign=1)

    def storeCreditAccountDebit(self, info, id, debitInput):
        return self._store_credit_move(id, debitInput["debitAmount"], sign=-1)

    def _store_credit_move(self, id: str, amount: dict, *, sign: int) -> dict:
        customer_id = gid_id(id, "Customer")
        if customer_id is None:
            account_id = gid_id(id, "StoreCreditAccount")
            account = next((a for a in self.shop_data["credit_accounts"].values() if a["id"] == account_id), None)
            if account is None:
                return {"storeCreditAccountTransaction": None, "userErrors": [
                    {"field": ["id"], "message": "Store credit account does not exist", "code": "ACCOUNT_NOT_FOUND"}]}
            customer_id = account["customer_id"]
        field = ["creditInput", "creditAmount"] if sign > 0 else ["debitInput", "debitAmount"]
        try:
            result = self.store.store_credit(self.domain, customer_id, str(amount["amount"]), amount["currencyCode"],
                                             sign=sign)
        except StoreError as exc:
            code, _, message = str(exc).partition(":")
            return {"storeCreditAccountTransaction": None, "userErrors": [
                {"field": field if code != "OWNER_NOT_FOUND" else ["id"], "message": message, "code": code}]}
        return {"storeCreditAccountTransaction": self.credit_transaction(result["transaction"], result["account"]),
                "userErrors": []}

    # --- tags (customers; Shopify's rules: trimmed, at most 255 characters, 250 per customer)
    def tagsAdd(self, info, id, tags):
        return self._tags(id, tags, add=True)

    def tagsRemove(self, info, id, tags):
        return self._tags(id, tags, add=False)

    def _tags(self, id: str, tags: list[str], *, add: bool) -> dict:
        customer_id = gid_id(id, "Customer")
        if customer_id is None:
            return {"node": None, "userErrors": [{"field": ["id"], "message": "Only customers are tagged in devstore."}]}
        metafields.scope_require(self.shop_data, "write_customers", "tagsAdd" if add else "tagsRemove")
        wanted = [t.strip() for t in tags if t.strip()]
        if any(len(t) > 255 for t in wanted):
            return {"node": None, "userErrors": [{"field": ["tags"], "message": "Tags are at most 255 characters."}]}
        with self.store.lock:
            customer = self.shop_data["customers"].get(str(customer_id))
            if customer is None:
                return {"node": None, "userErrors": [{"field": ["id"], "message": "Customer does not exist"}]}
            have = customer_tags(customer)
            lowered = {t.lower() for t in wanted}
            if add:
                have += [t for t in wanted if t.lower() not in {h.lower() for h in have}]
                if len(have) > 250:
                    return {"node": None, "userErrors": [{"field": ["tags"], "message": "A customer has at most 250 tags."}]}
            else:
                have = [h for h in have if h.lower() not in lowered]
            customer["tags"] = ", ".join(have)
            self.store.save()
        return {"node": {"id": id}, "userErrors": []}

    # --- bulk operations (devstore/bulk.py)
    def stagedUploadsCreate(self, info, input):
        targets = [bulk.bulk_of(self.store).staged_target(self.domain, i["filename"], i["mimeType"]) for i in input]
        return {"stagedTargets": targets, "userErrors": []}

    def bulkOperationRunMutation(self, info, mutation, stagedUploadPath, clientIdentifier=None):
        store = self.store
        return bulk.bulk_of(store).run_mutation(self.domain, mutation, stagedUploadPath,
                                                lambda domain, text, variables: run_line(store, domain, text, variables))

    def bulkOperation(self, info, id):
        return bulk.bulk_of(self.store).operation(self.domain, id)

    def bulkOperationRunQuery(self, info, query, groupObjects=None):
        return bulk.bulk_of(self.store).run_query(self.domain, query, SCHEMA)

    def bulkOperationCancel(self, info, id):
        return bulk.bulk_of(self.store).cancel(self.domain, id)

    def currentBulkOperation(self, info, type="QUERY"):
        return bulk.bulk_of(self.store).current(self.domain, type)

    def bulkOperations(self, info, first=None, query=None, reverse=None):
        return bulk.bulk_of(self.store).search(self.domain, first, query, reverse)

    def webhookSubscriptionCreate(self, info, topic, webhookSubscription):
        uri = webhookSubscription.get("uri") or webhookSubscription.get("callbackUrl")
        if not uri:
            return {"webhookSubscription": None, "userErrors": [{"field": ["webhookSubscription", "uri"],
                                                                  "message": "Address can't be blank"}]}
        rest_topic = topic.lower().replace("_", "/", 1)
        if topic == "CUSTOMERS_EMAIL_MARKETING_CONSENT_UPDATE":
            rest_topic = "customers_email_marketing_consent/update"
        with self.store.lock:
            subs = self.shop_data["extra_subscriptions"]
            if any(rest_topic in s["topics"] and s["uri"] == uri for s in subs):
                return {"webhookSubscription": None, "userErrors": [
                    {"field": ["webhookSubscription", "callbackUrl"], "message": "Address for this topic has already been taken"}]}
            sid = self.store.new_id()
            subs.append({"id": sid, "topics": [rest_topic], "uri": uri})
            self.store.save()
        return {"webhookSubscription": {"id": gid("WebhookSubscription", sid), "topic": topic, "uri": uri}, "userErrors": []}



def _root_mapping(root: _Root) -> dict:
    """Root fields -> resolvers (`product(id:)` and friends differ from the shape helpers' names)."""
    return {
        "shop": root.shop, "themes": root.themes, "currentAppInstallation": root.currentAppInstallation, "products": root.products, "customers": root.customers, "orders": root.orders,
        "shopLocales": root.shopLocales,
        "product": root.product_by_id, "nodes": root.nodes, "customer": root.customer_by_id, "order": root.order_by_id,
        "codeDiscountNodeByCode": root.codeDiscountNodeByCode,
        "discountCodeBasicCreate": root.discountCodeBasicCreate, "discountCodeDelete": root.discountCodeDelete,
        "discountCodeBasicUpdate": root.discountCodeBasicUpdate,
        "storeCreditAccountCredit": root.storeCreditAccountCredit,
        "storeCreditAccountDebit": root.storeCreditAccountDebit,
        "webhookSubscriptionCreate": root.webhookSubscriptionCreate,
        "tagsAdd": root.tagsAdd, "tagsRemove": root.tagsRemove,
        "flowTriggerReceive": lambda info, handle=None, payload=None, body=None: flow.receive(
            root.store, root.domain, handle, payload),
        "segments": root.segments, "segmentCreate": root.segmentCreate,
        "storefrontAccessTokenCreate": lambda info, input: brand.token_create(root.store, root.domain, input["title"]),
        "metafieldsSet": root.metafields_api.metafieldsSet, "metafieldsDelete": root.metafields_api.metafieldsDelete,
        "standardMetafieldDefinitionEnable": root.metafields_api.standardMetafieldDefinitionEnable,
        "stagedUploadsCreate": root.stagedUploadsCreate, "bulkOperationRunMutation": root.bulkOperationRunMutation,
        "bulkOperation": root.bulkOperation, "bulkOperations": root.bulkOperations,
        "bulkOperationRunQuery": root.bulkOperationRunQuery, "bulkOperationCancel": root.bulkOperationCancel,
        "currentBulkOperation": root.currentBulkOperation,
    }


def run_line(store: Store, domain: str, mutation: str, variables: dict) -> dict:
    """One line of a bulk mutation: the mutation with that line's variables, outside the rate limit."""
    result = graphql_sync(SCHEMA, mutation, root_value=_root_mapping(_Root(store, domain)), variable_values=variables)
    answer: dict[str, Any] = {"data": result.data}
    if result.errors:
        answer["errors"] = [{"message": e.message, "path": e.path} for e in result.errors]
    return answer
