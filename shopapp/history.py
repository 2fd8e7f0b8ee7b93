"""A shop's history from before Advocate: its customers, orders (with their lines and refunds) and
products, read through Shopify's bulk queries (shopapp.bulk), so the dashboard, the fraud rule
"the friend was already a customer" and the per-customer caps see what happened before install.

Three phases, one bulk query each, one after the other (Shopify runs one bulk query at a time per
app and shop): customers with their email-marketing consent, the orders placed in the chosen
window, then products. Each phase's JSONL is read as a stream and stored in batches; every batch
commits with the progress row (HistoryImport.lines_done), so a worker killed mid-file, or a job
lost with Redis, resumes after the last batch stored: nothing twice, nothing missed.

The rows are the ones the webhooks make (shopapp.orders): one order per Shopify id, its customer's
row locked first, a redacted customer's order kept without the person, the customers' counters and
the day rows recounted by the same functions. An order already stored (its webhook came first, or
an earlier import) is left as it is and only gains the lines and refunds it lacks, so a second
import adds nothing. Imported orders go to no order listener: nobody is asked to review last
spring's purchase and no referral email goes out, while the fraud rules and caps, which read the
Order rows, see them.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Case, DecimalField, F, OuterRef, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, Least
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.translation import gettext as _, gettext_noop, ngettext, pgettext_lazy

from shopapp.bulk import BulkQueryRefused, bulk_cancel, bulk_query_start
from shopapp.catalog import FIELDS as PRODUCT_FIELDS
from shopapp.catalog import product_cards_keep
from shopapp.errors import stored_message_translate
from shopapp.jobs import enqueue, row_lease
from shopapp.languages import date_format, number_format
from shopapp.models import BulkOperation, Customer, HistoryImport, Order, OrderLine, OrderRefund, Shop, WebhookEvent
from shopapp.orders import customer_stats_refresh, marketing_state, money, order_day_of, order_days_refresh

log = logging.getLogger(__name__)

PURPOSE = "shopapp.history"
ALL_ORDERS_SCOPE = "read_all_orders"
RECENT_DAYS = 60  # what Shopify shows an app without read_all_orders
DEFAULT_MONTHS = 12
MAX_MONTHS = 24
BATCH_LINES = 2000
STALLED = timedelta(minutes=5)  # a running import nobody moved on for this long is moved on by the sweep
Phase, Status = HistoryImport.Phase, HistoryImport.Status
NEXT = {Phase.CUSTOMERS: Phase.ORDERS, Phase.ORDERS: Phase.PRODUCTS, Phase.PRODUCTS: Phase.DONE}

CUSTOMERS_QUERY = """{ customers { edges { node {
  id firstName lastName email phone defaultEmailAddress { emailAddress marketingState marketingUpdatedAt }
} } } }"""
ORDERS_QUERY = """{ orders(query: "created_at:>='%s'") { edges { node {
  id name createdAt processedAt cancelledAt email phone currencyCode presentmentCurrencyCode clientIp
  displayFinancialStatus displayFulfillmentStatus discountCodes
  totalPriceSet { shopMoney { amount } presentmentMoney { amount currencyCode } }
  subtotalPriceSet { shopMoney { amount } } totalDiscountsSet { shopMoney { amount } }
  customer { id }
  shippingAddress { firstName lastName address1 address2 city zip provinceCode countryCodeV2 }
  customAttributes { key value } customerJourneySummary { firstVisit { landingPage referrerUrl } }
  refunds { id createdAt totalRefundedSet { shopMoney { amount } } }
  fulfillments { createdAt status deliveredAt }
  lineItems { edges { node {
    id title quantity currentQuantity isGiftCard requiresShipping
    originalUnitPriceSet { shopMoney { amount } } product { id } variant { id }
  } } }
} } } }"""
PRODUCTS_QUERY = "{ products { edges { node { id %s } } } }" % PRODUCT_FIELDS

# What the merchant reads when Shopify refuses, and what to do about it: stored in English by the job
# (HistoryImport.error) and shown in the merchant's language (history_progress).
REFUSED = {
    "OPERATION_IN_PROGRESS": gettext_noop("Shopify is already running a data export for Advocate in your store, so "
                                          "the import could not start. Wait a few minutes, then start it again."),
    "OPEN_HERE": gettext_noop("Advocate is already exporting data from your store. Wait for it to finish, then start "
                              "again."),
    "LIMIT_REACHED": gettext_noop("Shopify limits how many exports an app runs; it refused this one for now. Try "
                                  "again in an hour."),
    "ACCESS_DENIED": gettext_noop("Shopify refused to share this data: Advocate is missing an access permission. Open "
                                  "Advocate from your Shopify admin to approve its permissions, then start again."),
}
UNREACHABLE = gettext_noop("Advocate could not reach Shopify to start the import. Try again in a few minutes.")
UNINSTALLED = gettext_noop("Advocate was uninstalled, so the import stopped. Install it again to import your history.")
# %(reason)s is Shopify's own words.
EXPORT_REFUSED = gettext_noop("Shopify refused the export: %(reason)s. Try again later.")
EXPORT_STOPPED = gettext_noop("Shopify stopped the export before it finished (%(reason)s). What was read is kept: "
                              "start the import again to complete it.")
NO_REASON = gettext_noop("no reason given")
ERRORS = (*REFUSED.values(), UNREACHABLE, UNINSTALLED, EXPORT_REFUSED, EXPORT_STOPPED, NO_REASON)
# The phases as the import's card names them, and inside a sentence ("…: orders, 40% done").
PHASES = {Phase.CUSTOMERS: pgettext_lazy("history import phase", "Customers"),
          Phase.ORDERS: pgettext_lazy("history import phase", "Orders"),
          Phase.PRODUCTS: pgettext_lazy("history import phase", "Products"),
          Phase.DONE: pgettext_lazy("history import phase", "Done")}
PHASES_IN_SENTENCE = {Phase.CUSTOMERS: pgettext_lazy("history import phase, inside a sentence", "customers"),
                      Phase.ORDERS: pgettext_lazy("history import phase, inside a sentence", "orders"),
                      Phase.PRODUCTS: pgettext_lazy("history import phase, inside a sentence", "products"),
                      Phase.DONE: pgettext_lazy("history import phase, inside a sentence", "done")}


# --- the window and its start ------------------------------------------------------------

def history_window(shop: Shop, months: int, *, now: datetime | None = None) -> tuple[datetime, bool]:
    """Where the import starts for `months`, and whether it was cut to 60 days because the shop
    has not granted read_all_orders (Shopify would show only those days anyway)."""
    now = now or timezone.now()
    since = now - timedelta(days=round(months * 30.44))
    if not shop.has_scope(ALL_ORDERS_SCOPE) and since < now - timedelta(days=RECENT_DAYS):
        return now - timedelta(days=RECENT_DAYS), True
    return since, False


def history_import_start(*, shop: Shop, months: int = DEFAULT_MONTHS) -> HistoryImport:
    """Import the shop's history (or the import already running); the work runs in jobs."""
    months = min(max(int(months), 1), MAX_MONTHS)
    since, capped = history_window(shop, months)
    try:
        with transaction.atomic():
            row = HistoryImport.objects.create(shop=shop, months=months, since=since, capped=capped)
    except IntegrityError:
        return HistoryImport.objects.for_shop(shop).get(status=Status.RUNNING)
    enqueue(history_import_advance, row.pk)
    return row


def history_import_on_install(shop: Shop, *, reinstalled: bool) -> None:
    """Reconnect hook: a shop connecting for the first time gets its last year imported. A reinstall
    starts again an import that never finished because it failed (the uninstall stopped it, or a scope
    was missing), with the same window: what was stored stays, the new import adds only the rest. An
    import the merchant cancelled stays cancelled."""
    if not settings.HISTORY_IMPORT_ON_INSTALL:
        return
    imports = HistoryImport.objects.for_shop(shop)
    latest = imports.order_by("-pk").first()
    if latest is None:
        history_import_start(shop=shop)
    elif reinstalled and latest.status == Status.FAILED and not imports.filter(status=Status.DONE).exists():
        history_import_start(shop=shop, months=latest.months)


def history_import_cancel(*, shop: Shop) -> HistoryImport | None:
    """Stop the running import (what is stored stays; a new import completes it); None if none runs."""
    with transaction.atomic():
        row = HistoryImport.objects.for_shop(shop).select_for_update().filter(status=Status.RUNNING).first()
        if row is None:
            return None
        _end(row, Status.CANCELED, "")
    if row.operation_id:
        bulk_cancel(BulkOperation.objects.select_related("shop").get(pk=row.operation_id))
    return row


def history_uninstalled(shop: Shop) -> None:
    """Uninstall hook: the running import stops at once (a batch being stored checks first)."""
    for row in HistoryImport.objects.for_shop(shop).filter(status=Status.RUNNING):
        _end(row, Status.FAILED, UNINSTALLED)


def _end(row: HistoryImport, status: str, error: str) -> None:
    HistoryImport.objects.filter(pk=row.pk, status=Status.RUNNING).update(
        status=status, error=error[:500], finished_at=timezone.now(), updated_at=timezone.now())
    row.status, row.error = status, error


# --- moving it on ------------------------------------------------------------------------

def history_import_advance(import_id: int) -> str:
    """Job: take the import as far as it goes now (start its phase's bulk query, or go on to the
    next phase once the last one was read); its phase. One worker at a time, and every move is
    conditional, so running it twice is safe."""
    with row_lease(HistoryImport.objects.filter(pk=import_id), "lease_until", lasts=timedelta(minutes=2)) as mine:
        row = HistoryImport.objects.filter(pk=import_id).first()
        if row is None or not mine:
            return row.phase if row else "missing"
        while _step(import_id):
            pass
        return HistoryImport.objects.get(pk=import_id).phase


def _step(import_id: int) -> bool:
    """One move; whether there may be another to make at once."""
    row = HistoryImport.objects.select_related("shop", "operation").get(pk=import_id)
    if row.status != Status.RUNNING:
        return False
    if not row.shop.is_installed:
        _end(row, Status.FAILED, UNINSTALLED)
        return False
    operation = row.operation
    if operation is not None:
        if operation.status in BulkOperation.OPEN:
            return False  # Shopify is at it: its finish webhook, or the sweep, reads the result
        if operation.status == BulkOperation.Status.FAILED and operation.operation_id:
            _end(row, Status.FAILED, _failure(operation))
            return False
        # Read: the next phase. A start Shopify never listed did not happen: the same phase again.
        phase = NEXT[row.phase] if operation.status == BulkOperation.Status.DONE else row.phase
        HistoryImport.objects.filter(pk=row.pk, operation=operation).update(
            phase=phase, operation=None, lines_done=0, rows_done=0, phase_started_at=timezone.now(),
            updated_at=timezone.now())
        return True
    if row.phase == Phase.DONE:
        if HistoryImport.objects.filter(pk=row.pk, status=Status.RUNNING).update(
                status=Status.DONE, finished_at=timezone.now(), updated_at=timezone.now()):
            _statistics_refresh()
        return False
    try:
        operation = bulk_query_start(row.shop, purpose=PURPOSE, query=_query(row),
                                     context={"import": row.pk, "phase": row.phase})
    except BulkQueryRefused as exc:
        log.info("history import %s of %s not started: %s %s", row.pk, row.shop.domain, exc.code, exc)
        _end(row, Status.FAILED, REFUSED.get(exc.code, UNREACHABLE if exc.code == "UNREACHABLE" else
                                             EXPORT_REFUSED % {"reason": exc}))
        return False
    HistoryImport.objects.filter(pk=row.pk, operation__isnull=True).update(operation=operation, updated_at=timezone.now())
    if HistoryImport.objects.filter(pk=row.pk, status=Status.CANCELED).exists():
        bulk_cancel(operation)  # canceled while Shopify was being asked
    # Shopify may have finished (and its result been read) before the row named the operation.
    return BulkOperation.objects.filter(pk=operation.pk).exclude(status__in=BulkOperation.OPEN).exists()


def _statistics_refresh() -> None:
    """After a bulk load, PostgreSQL's planner still believes the tables' old sizes until autovacuum
    gets round to them; the first dashboard queries would be planned for a few rows. ANALYZE now."""
    if connection.vendor != "postgresql":
        return
    tables = [model._meta.db_table for model in (Customer, Order, OrderLine)]
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(t) for t in tables))
    except DatabaseError as exc:  # a statistics refresh never fails the import
        log.warning("ANALYZE after the history import failed: %s", exc)


def _query(row: HistoryImport) -> str:
    if row.phase == Phase.CUSTOMERS:
        return CUSTOMERS_QUERY
    if row.phase == Phase.ORDERS:
        return ORDERS_QUERY % row.since.strftime("%Y-%m-%dT%H:%M:%SZ")
    return PRODUCTS_QUERY


def _failure(operation: BulkOperation) -> str:
    for code, message in REFUSED.items():
        if code in operation.error:
            return message
    return EXPORT_STOPPED % {"reason": operation.error or NO_REASON}


def history_bulk_done(shop: Shop, operation: BulkOperation) -> None:
    """The phase's bulk query is closed (read, failed or canceled): move the import on."""
    import_id = (operation.context or {}).get("import")
    if import_id:
        enqueue(history_import_advance, import_id)


def history_imports_sweep(*, now: datetime | None = None) -> int:
    """Sweeper: move on running imports nobody moved for a while (a job lost with Redis)."""
    now = now or timezone.now()
    stalled = (HistoryImport.objects.filter(status=Status.RUNNING, updated_at__lt=now - STALLED)
               .exclude(operation__status__in=BulkOperation.OPEN).values_list("pk", flat=True))
    count = 0
    for pk in stalled:
        enqueue(history_import_advance, pk)
        count += 1
    return count


# --- reading a phase's result ------------------------------------------------------------

def history_result_read(shop: Shop, operation: BulkOperation, lines: Iterator[tuple[int, dict]]) -> None:
    """Store a phase's JSONL in batches, from the first line not stored yet (a resumed read skips
    what a killed worker stored). Stops when the import is canceled or the shop uninstalled."""
    context = operation.context or {}
    # The import names its operation once Shopify answered; a result may come before that.
    HistoryImport.objects.filter(pk=context.get("import"), phase=context.get("phase"), status=Status.RUNNING,
                                 operation__isnull=True).update(operation=operation)
    row = HistoryImport.objects.filter(pk=context.get("import")).first()
    if row is None or row.operation_id != operation.pk or row.status != Status.RUNNING:
        return
    for batch in _batches(lines, skip=row.lines_done):
        with transaction.atomic():
            current = HistoryImport.objects.select_for_update().filter(pk=row.pk).first()
            if current is None or current.status != Status.RUNNING or current.operation_id != operation.pk:
                return
            store = {Phase.CUSTOMERS: customers_store, Phase.ORDERS: orders_store, Phase.PRODUCTS: products_store}
            counts = store[current.phase](shop, [line for _, line in batch])
            HistoryImport.objects.filter(pk=row.pk).update(
                lines_done=batch[-1][0] + 1, rows_done=F("rows_done") + sum(1 for _, line in batch if "__parentId" not in line),
                updated_at=timezone.now(), **{name: F(name) + value for name, value in counts.items()})


def _batches(lines: Iterable[tuple[int, dict]], *, skip: int) -> Iterator[list[tuple[int, dict]]]:
    batch: list[tuple[int, dict]] = []
    for number, line in lines:
        if number < skip:
            continue
        batch.append((number, line))
        if len(batch) >= BATCH_LINES:
            yield batch
            batch = []
    if batch:
        yield batch


def _id(gid: str | None) -> int | None:
    """The number at the end of a Shopify gid ("gid://shopify/Order/123" -> 123)."""
    tail = (gid or "").rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else None


def _time(value) -> datetime | None:
    return parse_datetime(value) if isinstance(value, str) and value else None


def _amount(value: dict | None, default: str = "0") -> Decimal:
    try:
        return money(((value or {}).get("shopMoney") or {}).get("amount"), default)
    except (ValueError, InvalidOperation):
        return Decimal(default)


def _redactions(shop: Shop) -> tuple[set[int], set[int]]:
    """(customer ids, order ids) the shop's customers/redact requests named, handled yet or not:
    the import never brings back a person Shopify told Advocate to forget."""
    customers, orders = set(), set()
    for payload in WebhookEvent.objects.filter(shop_domain=shop.domain, topic="customers/redact").values_list(
            "payload", flat=True):
        payload = payload if isinstance(payload, dict) else {}
        customers.add(_id(str((payload.get("customer") or {}).get("id") or "")))
        orders.update(_id(str(o)) for o in payload.get("orders_to_redact") or [])
    return customers - {None}, orders - {None}


def customers_store(shop: Shop, lines: list[dict]) -> dict[str, int]:
    """Customers not known yet are added; known ones get only what they lack and a newer consent
    (a webhook may have told more since the export); redacted ones are never touched."""
    redacted, _ = _redactions(shop)
    nodes = {i: n for n in lines if (i := _id(n.get("id"))) is not None and i not in redacted}
    known = {c.shopify_id: c for c in Customer.objects.select_for_update().filter(shop=shop, shopify_id__in=list(nodes))}
    new, changed = [], []
    for shopify_id, node in nodes.items():
        customer = known.get(shopify_id) or Customer(shop=shop, shopify_id=shopify_id)
        if customer.redacted_at:
            continue
        email_address = node.get("defaultEmailAddress") or {}
        fields = {"email": (node.get("email") or email_address.get("emailAddress") or "").strip().lower()[:254],
                  "phone": (node.get("phone") or "").strip()[:40], "first_name": (node.get("firstName") or "")[:100],
                  "last_name": (node.get("lastName") or "")[:100]}
        touched = False
        for name, value in fields.items():
            if value and not getattr(customer, name):
                setattr(customer, name, value)
                touched = True
        state, at = email_address.get("marketingState"), _time(email_address.get("marketingUpdatedAt"))
        if state and _consent_is_newer(customer, at):
            customer.marketing, customer.marketing_updated_at = marketing_state(state), at
            touched = True
        if shopify_id not in known:
            new.append(customer)
        elif touched:
            changed.append(customer)
    Customer.objects.bulk_create(new, ignore_conflicts=True)
    if changed:
        Customer.objects.bulk_update(changed, ["email", "phone", "first_name", "last_name", "marketing",
                                               "marketing_updated_at"])
    return {"customers_new": len(new)}


def _consent_is_newer(customer: Customer, at: datetime | None) -> bool:
    """As shopapp.orders.customer_consent_apply decides: an undated statement only fills a blank."""
    if customer.marketing_updated_at is None:
        return at is not None or customer.marketing == Customer.Marketing.UNKNOWN
    return at is not None and at > customer.marketing_updated_at


def products_store(shop: Shop, lines: list[dict]) -> dict[str, int]:
    return {"products_seen": len(product_cards_keep(shop, [n for n in lines if "__parentId" not in n]))}


def orders_store(shop: Shop, lines: list[dict]) -> dict[str, int]:
    """Orders not stored yet, with their lines and refunds; lines and refunds an order lacks; then
    the counters and day rows they change. The customers' rows are locked first, as order_upsert
    locks them, so a redaction either came before (and is seen) or waits and then covers these."""
    orders = {i: n for n in lines if "__parentId" not in n and (i := _id(n.get("id"))) is not None}
    items = [n for n in lines if "__parentId" in n]
    redacted_customers, redacted_orders = _redactions(shop)
    customers = _customers_for(shop, orders, redacted_customers, redacted_orders)
    known = set(Order.objects.filter(shop=shop, shopify_id__in=list(orders)).values_list("shopify_id", flat=True))
    new = []
    for shopify_id, node in orders.items():
        if shopify_id in known:
            continue
        customer = customers.get(_id((node.get("customer") or {}).get("id"))) or customers.get(
            (node.get("email") or "").strip().lower())
        forget = shopify_id in redacted_orders or bool(customer and customer.redacted_at) or \
            _id((node.get("customer") or {}).get("id")) in redacted_customers
        new.append(_order(shop, shopify_id, node, customer, forget=forget))
    Order.objects.bulk_create(new, ignore_conflicts=True)
    # A line's order may be in an earlier batch (a batch ends every BATCH_LINES lines, even between an
    # order and its lines), or stored before by a webhook: its id and fulfilment come from the table.
    stored = Order.objects.filter(shop=shop, shopify_id__in=list(orders) + [_id(i["__parentId"]) for i in items])
    pks, fulfilled = {}, {}
    for shopify_id, pk, fulfilled_at in stored.values_list("shopify_id", "pk", "fulfilled_at"):
        pks[shopify_id], fulfilled[shopify_id] = pk, fulfilled_at
    OrderLine.objects.bulk_create([line for item in items if (line := _line(item, pks, fulfilled))],
                                  ignore_conflicts=True)
    refunds = [OrderRefund(order_id=pks[oid], shopify_id=rid, amount=_amount(r.get("totalRefundedSet")),
                           created_at=_time(r.get("createdAt")) or timezone.now())
               for oid, node in orders.items() if oid in pks for r in node.get("refunds") or []
               if (rid := _id(r.get("id"))) is not None]
    OrderRefund.objects.bulk_create(refunds, ignore_conflicts=True)
    refunded = {r.order_id for r in refunds}
    if refunded:
        _refunded_recount(refunded)
    changed = Order.objects.filter(pk__in={pks[o.shopify_id] for o in new if o.shopify_id in pks} | refunded)
    rows = list(changed.values_list("customer_id", "placed_at"))
    customer_stats_refresh(*{c for c, _ in rows})
    order_days_refresh(shop=shop, days={order_day_of(shop, placed) for _, placed in rows})
    return {"orders_new": len(new)}


def _customers_for(shop: Shop, orders: dict[int, dict], redacted: set[int], redacted_orders: set[int]) -> dict:
    """The batch's customers by Shopify id (and guests by email), locked; those missing are added,
    as the order webhooks add them (a guest is matched by email)."""
    ids = {i for n in orders.values() if (i := _id((n.get("customer") or {}).get("id"))) is not None}
    guests = {(n.get("email") or "").strip().lower() for oid, n in orders.items()
              if not n.get("customer") and oid not in redacted_orders} - {""}
    rows = Customer.objects.select_for_update().filter(shop=shop)
    found = {c.shopify_id: c for c in rows.filter(shopify_id__in=ids)}
    missing = [Customer(shop=shop, shopify_id=i) for i in ids - set(found)]
    by_email = {}
    for customer in rows.filter(shopify_id__isnull=True, email__in=guests).order_by("pk"):
        by_email.setdefault(customer.email, customer)
    missing += [Customer(shop=shop, email=email[:254]) for email in guests - set(by_email)]
    if missing:
        Customer.objects.bulk_create(missing, ignore_conflicts=True)
        found = {c.shopify_id: c for c in rows.filter(shopify_id__in=ids)}
        for customer in rows.filter(shopify_id__isnull=True, email__in=guests).order_by("pk"):
            by_email.setdefault(customer.email, customer)
    return {**found, **by_email}


def _order(shop: Shop, shopify_id: int, node: dict, customer: Customer | None, *, forget: bool) -> Order:
    """An Order as order_upsert makes it from an order webhook (from the bulk query's shapes)."""
    total = node.get("totalPriceSet") or {}
    presentment = total.get("presentmentMoney") or {}
    status = (node.get("displayFinancialStatus") or "").lower()
    placed = _time(node.get("createdAt")) or timezone.now()
    fulfillments = node.get("fulfillments") or []
    shipped = [t for f in fulfillments if (t := _time(f.get("createdAt")))]
    delivered = [t for f in fulfillments if (t := _time(f.get("deliveredAt")))]
    codes = node.get("discountCodes") or []
    discount = str(_amount(node.get("totalDiscountsSet")))
    address = node.get("shippingAddress") or None
    visit = (node.get("customerJourneySummary") or {}).get("firstVisit") or {}
    order = Order(
        shop=shop, shopify_id=shopify_id, name=(node.get("name") or "")[:64], customer=customer,
        currency=node.get("currencyCode") or shop.currency, total=_amount(total), subtotal=_amount(node.get("subtotalPriceSet")),
        presentment_currency=node.get("presentmentCurrencyCode") or presentment.get("currencyCode") or "",
        presentment_total=money(presentment["amount"]) if presentment.get("amount") else None,
        discount_codes=[{"code": str(c), "amount": discount if n == 0 else "0.00", "type": ""} for n, c in enumerate(codes)],
        landing_site=visit.get("landingPage") or "", referring_site=visit.get("referrerUrl") or "",
        shipping_country=((address or {}).get("countryCodeV2") or "")[:2], financial_status=status[:32],
        placed_at=placed, cancelled_at=_time(node.get("cancelledAt")),
        paid_at=(_time(node.get("processedAt")) or placed) if status in ("paid", "partially_refunded", "refunded") else None,
        fulfilled_at=max(shipped) if node.get("displayFulfillmentStatus") == "FULFILLED" and shipped else None,
        delivered_at=max(delivered) if delivered else None,
    )
    if not forget:
        order.email = (node.get("email") or "").strip().lower()[:254]
        order.phone = (node.get("phone") or "")[:40]
        order.browser_ip = (node.get("clientIp") or "")[:64]
        order.note_attributes = [{"name": a.get("key"), "value": a.get("value")} for a in node.get("customAttributes") or []]
        order.shipping_address = {
            "first_name": address.get("firstName"), "last_name": address.get("lastName"), "address1": address.get("address1"),
            "address2": address.get("address2"), "city": address.get("city"), "zip": address.get("zip"),
            "province_code": address.get("provinceCode"), "country_code": address.get("countryCodeV2"),
        } if address else None
    return order


def _line(item: dict, pks: dict[int, int], fulfilled: dict[int, datetime | None]) -> OrderLine | None:
    order_id, shopify_id = _id(item.get("__parentId")), _id(item.get("id"))
    if order_id not in pks or shopify_id is None:
        return None  # a child of an order outside the window (or not an order's line)
    quantity = int(item.get("quantity") or 1)
    current = item.get("currentQuantity")
    return OrderLine(
        order_id=pks[order_id], shopify_id=shopify_id, product_id=_id((item.get("product") or {}).get("id")),
        variant_id=_id((item.get("variant") or {}).get("id")), title=(item.get("title") or "Item")[:255],
        quantity=quantity, price=_amount(item.get("originalUnitPriceSet")), gift_card=bool(item.get("isGiftCard")),
        requires_shipping=item.get("requiresShipping") is not False, fulfilled_at=fulfilled.get(order_id),
        refunded_quantity=max(0, quantity - int(current)) if current is not None else 0)


def _refunded_recount(order_pks: set[int]) -> None:
    """An order's refunded money from its refund rows, capped at its total as on_refund caps it."""
    amount = DecimalField(max_digits=14, decimal_places=2)
    refunds = Coalesce(Subquery(OrderRefund.objects.filter(order=OuterRef("pk")).order_by().values("order")
                                .annotate(s=Sum("amount")).values("s"), output_field=amount),
                       Value(Decimal("0")), output_field=amount)
    Order.objects.filter(pk__in=order_pks).update(refunded=Case(
        When(total__gt=0, then=Least(F("total"), refunds)), default=refunds, output_field=amount))


# --- what the panel shows ------------------------------------------------------------------

def history_progress(row: HistoryImport, *, now: datetime | None = None) -> dict:
    """The import as the panel shows it: the phase, how far (percent of the whole, or None while
    Shopify gathers and nobody knows how much there is), rows stored, the time left and why it failed."""
    now = now or timezone.now()
    phases = [Phase.CUSTOMERS, Phase.ORDERS, Phase.PRODUCTS]
    weights = {Phase.CUSTOMERS: 20, Phase.ORDERS: 70, Phase.PRODUCTS: 10}
    expected = row.operation.object_count if row.operation_id and row.operation else 0
    gathering = row.status == Status.RUNNING and (row.operation is None or row.operation.status in BulkOperation.OPEN)
    share = min(1.0, row.rows_done / expected) if expected and not gathering else 0.0
    if row.status == Status.DONE:
        percent = 100
    elif row.phase in phases:
        done = sum(weights[p] for p in phases[:phases.index(row.phase)])
        percent = int(done + weights[row.phase] * share)
    else:
        percent = 100
    left = ""
    elapsed = (now - row.phase_started_at).total_seconds()
    if row.status == Status.RUNNING and not gathering and 0 < row.rows_done < expected and elapsed > 0:
        left = _time_left((expected - row.rows_done) * elapsed / row.rows_done)
    return {"percent": percent, "gathering": gathering, "expected": expected, "left": left,
            "phase": str(PHASES[row.phase]), "phase_in_sentence": str(PHASES_IN_SENTENCE[row.phase]),
            "error": stored_message_translate(row.error, ERRORS)}


def _time_left(seconds: float) -> str:
    """At the phase's pace so far: 'less than a minute left', 'about 4 minutes left'."""
    minutes = round(seconds / 60)
    if minutes < 1:
        return _("less than a minute left")
    if minutes < 90:
        return ngettext("about %(count)s minute left", "about %(count)s minutes left", minutes) % {"count": minutes}
    hours = round(minutes / 60)
    return ngettext("about %(count)s hour left", "about %(count)s hours left", hours) % {"count": hours}


def history_imported(shop: Shop) -> bool:
    """Onboarding: an import of the shop's history has finished."""
    return HistoryImport.objects.for_shop(shop).filter(status=Status.DONE).exists()


def history_dashboard_section(shop: Shop, period) -> dict:
    """The dashboard's line about the shop's history: a progress bar while it is imported."""
    row = HistoryImport.objects.for_shop(shop).select_related("operation").order_by("-started_at", "-pk").first()
    link = (_("Order history"), "/app/history/?from=dashboard")
    if row is None:
        return {"figures": [], "charts": [], "link": (_("Import your order history"), link[1]),
                "note": _("These figures start on the day you installed Advocate. Import your past orders to see "
                          "your whole history here.")}
    since = date_format(row.since)
    if row.status == Status.RUNNING:
        progress = history_progress(row)
        bar = format_html('<progress max="100" value="{}" style="width:100%" aria-label="{}"></progress>',
                          progress["percent"],
                          _("Order history import, %(percent)s%% done") % {"percent": progress["percent"]})
        values = {"since": since, "phase": progress["phase_in_sentence"], "percent": progress["percent"],
                  "left": progress["left"]}
        note = (_("Importing your history since %(since)s: %(phase)s, %(percent)s%% done, %(left)s. The figures fill "
                  "in as it goes.") if progress["left"] else
                _("Importing your history since %(since)s: %(phase)s, %(percent)s%% done. The figures fill in as it "
                  "goes."))
        return {"figures": [], "charts": [bar], "link": link, "note": note % values}
    if row.status == Status.DONE:
        orders = ngettext("%(count)s order", "%(count)s orders", row.orders_new) % {
            "count": number_format(row.orders_new)}
        customers = ngettext("%(count)s customer", "%(count)s customers", row.customers_new) % {
            "count": number_format(row.customers_new)}
        return {"figures": [], "charts": [], "link": link,
                "note": _("Includes your orders since %(since)s, imported from Shopify (%(orders)s, %(customers)s).")
                % {"since": since, "orders": orders, "customers": customers}}
    return {"figures": [], "charts": [], "link": link,
            "note": _("The import of your past orders stopped before the end; the figures include what was imported.")}
