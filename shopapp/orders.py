"""Customers and orders from Shopify's webhooks: parsed once, here, for every app.

Webhooks arrive more than once, out of order and late; every order topic carries the
whole order, so each one upserts it, and the lifecycle times only ever move forward.
Apps do not read the raw payloads: after storing a change, the handlers here hand them
one parsed OrderEvent (registry.register_order_listener, in an explicit order). An event
about an order not stored yet waits for it (webhooks.AwaitingOrder) instead of failing.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Count, DecimalField, Max, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from shopapp.models import Customer, Order, OrderDay, OrderLine, OrderRefund, Shop, WebhookEvent
from shopapp.registry import CustomerRef, OrderEvent, order_listeners
from shopapp.webhooks import AwaitingOrder, webhook_events_wake

ORDER_TOPICS = ("orders/create", "orders/paid", "orders/fulfilled", "orders/cancelled")


def money(value, default: str = "0") -> Decimal:
    try:
        return Decimal(str(value if value not in (None, "") else default)).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not an amount of money") from None


def _time(value) -> datetime | None:
    return parse_datetime(value) if isinstance(value, str) and value else None


def _int(value) -> int | None:
    return int(value) if value not in (None, "") else None


def customer_upsert(*, shop: Shop, data: dict | None, email: str = "", phone: str = "",
                    event: WebhookEvent | None = None) -> Customer | None:
    """The customer a payload names, locked until the transaction ends; None for a guest with no email or phone.

    Events about one customer run at once in several workers (customers/update, orders/create,
    customers/redact): each writes only the fields it carries, under the row's lock, and never into
    a redacted row. A payload about a redacted customer is stored without its personal data.
    """
    data = data or {}
    shopify_id = _int(data.get("id"))
    email = (data.get("email") or email or "").strip().lower()
    phone = (data.get("phone") or phone or "").strip()
    if shopify_id is None and not email and not phone:
        return None
    with transaction.atomic():
        customer = _customer_locked(shop=shop, shopify_id=shopify_id, email=email, phone=phone)
        if customer.redacted_at:
            if event is not None:
                webhook_event_redact(event)
            return customer  # never re-fill a customer the shop told us to forget
        fields = {"email": email, "phone": phone, "first_name": (data.get("first_name") or "")[:100],
                  "last_name": (data.get("last_name") or "")[:100]}
        changed = {name: value for name, value in fields.items() if value and value != getattr(customer, name)}
        # The redaction condition sits in the statement too, not only in the check above.
        if changed and Customer.objects.filter(pk=customer.pk, redacted_at__isnull=True).update(**changed):
            for name, value in changed.items():
                setattr(customer, name, value)
        customer_consent_apply(customer=customer, consent=data.get("email_marketing_consent"))
    return customer


def _customer_locked(*, shop: Shop, shopify_id: int | None, email: str, phone: str) -> Customer:
    customers = Customer.objects.select_for_update().filter(shop=shop)
    if shopify_id is not None:
        customer, _ = customers.get_or_create(shop=shop, shopify_id=shopify_id)
        return customer
    # A guest: matched by email so their orders still count together.
    return (customers.filter(shopify_id__isnull=True, email=email).order_by("pk").first() if email else None) \
        or Customer.objects.create(shop=shop, email=email, phone=phone)


def customer_consent_apply(*, customer: Customer, consent: dict | None) -> bool:
    """Record a marketing consent statement unless a newer one is known; True if it was recorded.

    Shopify delivers consent out of order (an old customers/update or order after the unsubscribe),
    so its consent_updated_at decides; a payload without a state says neither yes nor no.
    """
    state = (consent or {}).get("state")
    if not state:
        return False
    at = _time(consent.get("consent_updated_at"))
    marketing = marketing_state(state)
    rows = Customer.objects.filter(pk=customer.pk, redacted_at__isnull=True)
    if at is None:
        # Undated: it may be older than any dated statement, so it only fills in until one is known.
        rows = rows.filter(marketing_updated_at__isnull=True)
    else:
        newer = Q(marketing_updated_at__isnull=True) | Q(marketing_updated_at__lt=at)
        if marketing == Customer.Marketing.UNSUBSCRIBED:
            newer |= Q(marketing_updated_at=at)  # a tie goes to the opt-out
        rows = rows.filter(newer)
    if not rows.update(marketing=marketing, marketing_updated_at=at):
        return False
    customer.marketing, customer.marketing_updated_at = marketing, at
    return True


def customer_consent_update(*, shop: Shop, payload: dict, event: WebhookEvent | None = None) -> Customer | None:
    """customers_email_marketing_consent/update: since API 2025-01 consent arrives only here."""
    with transaction.atomic():
        customer = customer_upsert(shop=shop, data={"id": payload.get("customer_id"), "email": payload.get("email_address")},
                                   event=event)
        if customer is not None:
            customer_consent_apply(customer=customer, consent=payload.get("email_marketing_consent"))
    return customer


def marketing_state(state: str) -> str:
    """Shopify's email-marketing state (a webhook's or the Admin API's) as Customer.Marketing."""
    state = state.lower()
    if state in ("subscribed", "pending"):
        return Customer.Marketing.SUBSCRIBED if state == "subscribed" else Customer.Marketing.NOT_SUBSCRIBED
    if state in ("unsubscribed", "redacted", "invalid"):
        return Customer.Marketing.UNSUBSCRIBED
    return Customer.Marketing.NOT_SUBSCRIBED


# Keys that hold a person's data wherever they appear in an order or customer payload (an
# address's name and a fulfilment's destination go with the whole address).
_PERSONAL_KEYS = frozenset({
    "email", "contact_email", "email_address", "phone", "first_name", "last_name", "note", "note_attributes",
    "browser_ip", "client_details", "shipping_address", "billing_address", "default_address", "addresses",
    "destination", "customer_locale",
})


def personal_data_strip(value):
    """A copy of a webhook payload without the personal data Shopify puts in it."""
    if isinstance(value, dict):
        return {key: personal_data_strip(item) for key, item in value.items() if key not in _PERSONAL_KEYS}
    if isinstance(value, list):
        return [personal_data_strip(item) for item in value]
    return value


def webhook_event_redact(event: WebhookEvent) -> None:
    """Store the event's body without personal data (its customer was redacted).

    The dict is stripped in place too: the handlers that run after this one in the same
    transaction (reviews, referrals) get the same payload and must not store it either.
    """
    stripped = personal_data_strip(event.payload or {})
    if isinstance(event.payload, dict):
        event.payload.clear()
        event.payload.update(stripped)
    WebhookEvent.objects.filter(pk=event.pk).update(payload=stripped, raw_body="")


def order_upsert(*, shop: Shop, payload: dict, event: WebhookEvent | None = None) -> Order:
    """Create or update the order and its lines from any order topic's payload.

    The customer's row is locked first (as customers/redact locks it before the orders), so a
    redaction either lands before this and is seen, or waits and then covers this order.
    """
    shopify_id = _int(payload.get("id"))
    if shopify_id is None:
        raise ValueError("order payload has no id")
    total_set = payload.get("total_price_set") or {}
    presentment = total_set.get("presentment_money") or {}
    with transaction.atomic():
        customer = customer_upsert(shop=shop, data=payload.get("customer"), email=payload.get("email") or "",
                                   phone=payload.get("phone") or "")
        order, _ = Order.objects.select_for_update().get_or_create(
            shop=shop, shopify_id=shopify_id,
            defaults={"currency": payload.get("currency") or shop.currency,
                      "placed_at": _time(payload.get("created_at")) or timezone.now()},
        )
        previous_customer_id = order.customer_id
        order.customer = customer or order.customer
        redacted = bool(order.customer and order.customer.redacted_at)
        order.name = payload.get("name") or order.name
        order.currency = payload.get("currency") or order.currency
        order.total = money((total_set.get("shop_money") or {}).get("amount") or payload.get("total_price"))
        order.subtotal = money(payload.get("subtotal_price") or payload.get("total_price"))
        order.presentment_currency = payload.get("presentment_currency") or presentment.get("currency_code") or ""
        order.presentment_total = money(presentment["amount"]) if presentment.get("amount") else None
        order.discount_codes = [
            {"code": str(d.get("code", "")), "amount": str(d.get("amount", "0")), "type": d.get("type", "")}
            for d in payload.get("discount_codes") or []
        ]
        order.landing_site = payload.get("landing_site") or order.landing_site
        order.referring_site = payload.get("referring_site") or order.referring_site
        shipping = payload.get("shipping_address") or None
        order.shipping_country = ((shipping or {}).get("country_code") or order.shipping_country or "")[:2]
        if redacted:
            # Late and out-of-order deliveries about a redacted customer keep the amounts, not the person.
            order.email = order.phone = order.browser_ip = order.user_agent = order.customer_locale = ""
            order.shipping_address, order.note_attributes = None, []
        else:
            _order_personal_fields(order, payload, shipping)
        order.financial_status = payload.get("financial_status") or order.financial_status
        if order.financial_status in ("paid", "partially_refunded", "refunded") and not order.paid_at:
            order.paid_at = _time(payload.get("processed_at")) or timezone.now()
        if payload.get("fulfillment_status") == "fulfilled" and not order.fulfilled_at:
            order.fulfilled_at = _fulfilled_at(payload)
        if payload.get("cancelled_at") and not order.cancelled_at:
            order.cancelled_at = _time(payload["cancelled_at"])
        order.save()
        order_stats_refresh(order, previous_customer_id)
        for line in payload.get("line_items") or []:
            OrderLine.objects.update_or_create(
                order=order, shopify_id=int(line["id"]),
                defaults={
                    "product_id": _int(line.get("product_id")),
                    "variant_id": _int(line.get("variant_id")),
                    "title": (line.get("title") or line.get("name") or "Item")[:255],
                    "quantity": int(line.get("quantity") or 1),
                    "price": money(((line.get("price_set") or {}).get("shop_money") or {}).get("amount") or line.get("price")),
                    "gift_card": bool(line.get("gift_card")),
                    "requires_shipping": line.get("requires_shipping") is not False,
                },
            )
        order_lines_fulfilled(order=order, payload=payload)
        if redacted and event is not None:
            webhook_event_redact(event)  # last: it strips the payload this function reads
    return order


def order_event_redact(*, order: Order, event: WebhookEvent) -> None:
    """Store an event about the order without personal data once its customer is redacted
    (a fulfilment carries the destination address, an order the whole person)."""
    if order.customer_id and Customer.objects.filter(pk=order.customer_id, redacted_at__isnull=False).exists():
        webhook_event_redact(event)


def _order_personal_fields(order: Order, payload: dict, shipping: dict | None) -> None:
    client = payload.get("client_details") or {}
    order.email = (payload.get("email") or "").strip().lower()
    order.phone = payload.get("phone") or ""
    order.note_attributes = payload.get("note_attributes") or order.note_attributes
    order.browser_ip = payload.get("browser_ip") or client.get("browser_ip") or order.browser_ip
    order.user_agent = client.get("user_agent") or order.user_agent
    order.shipping_address = shipping
    # Every order topic carries it; a payload without it (an older fetch) keeps what was stored.
    order.customer_locale = (payload.get("customer_locale") or order.customer_locale or "")[:20]


def order_lines_fulfilled(*, order: Order, payload: dict) -> None:
    """Record when each line shipped, from an order's `fulfillments` or one fulfilment's own payload.

    Times only move from unknown to known; an order Shopify calls fulfilled without saying which
    fulfilment shipped what has all its lines shipped at the order's time.
    """
    fulfillments = payload.get("fulfillments") or ([payload] if "order_id" in payload else [])
    for fulfillment in fulfillments:
        ids = [_int(item.get("id")) for item in fulfillment.get("line_items") or []]
        if fulfillment.get("status") in (None, "success") and ids:
            OrderLine.objects.filter(order=order, shopify_id__in=ids, fulfilled_at__isnull=True).update(
                fulfilled_at=_time(fulfillment.get("created_at")) or timezone.now())
    if payload.get("fulfillment_status") == "fulfilled" and order.fulfilled_at:
        OrderLine.objects.filter(order=order, fulfilled_at__isnull=True).update(fulfilled_at=order.fulfilled_at)


def order_stats_refresh(order: Order, *other_customer_ids: int | None) -> None:
    """Recount what the dashboard reads after an order changed: its customer's counters and its day."""
    customer_stats_refresh(order.customer_id, *other_customer_ids)
    order_days_refresh(shop=order.shop, days=[order_day_of(order.shop, order.placed_at)])


def order_stats_rebuild(*, shop: Shop) -> None:
    """Recount every customer and every day of the shop in grouped passes (after a bulk load or a timezone change)."""
    _stats_recount(Customer.objects.filter(shop=shop))
    rows = (Order.objects.filter(shop=shop, cancelled_at__isnull=True)
            .annotate(day=TruncDate("placed_at", tzinfo=_shop_tz(shop))).values("day")
            .annotate(n=Count("pk"), revenue=Sum("total"), refunded=Sum("refunded")))
    with transaction.atomic():
        OrderDay.objects.filter(shop=shop).delete()
        OrderDay.objects.bulk_create([
            OrderDay(shop=shop, day=r["day"], orders=r["n"], revenue=r["revenue"] or 0, refunded=r["refunded"] or 0)
            for r in rows
        ])


def customer_stats_refresh(*customer_ids: int | None) -> None:
    """Recount these customers' orders, net spend and last order from their orders (idempotent)."""
    ids = {c for c in customer_ids if c}
    if ids:
        _stats_recount(Customer.objects.filter(pk__in=ids))


def _stats_recount(customers) -> int:
    """One UPDATE for all of them (an import recounts a thousand customers a batch)."""
    orders = Order.objects.filter(customer=OuterRef("pk"), cancelled_at__isnull=True).order_by().values("customer")
    amount = DecimalField(max_digits=14, decimal_places=2)
    with transaction.atomic():
        # Lock, then count: a count read before another worker's new order commits, written after
        # it, would undo that worker's count (READ COMMITTED gives the next statement a new snapshot).
        list(customers.select_for_update().order_by("pk").values_list("pk", flat=True))
        return customers.update(
            orders_count=Coalesce(Subquery(orders.annotate(n=Count("pk")).values("n")), 0),
            total_spent=Coalesce(Subquery(orders.annotate(net=Sum("total") - Sum("refunded")).values("net"),
                                          output_field=amount), Value(Decimal("0")), output_field=amount),
            last_order_at=Subquery(orders.annotate(last=Max("placed_at")).values("last")))


def _shop_tz(shop: Shop) -> ZoneInfo:
    try:
        return ZoneInfo(shop.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def order_day_of(shop: Shop, moment: datetime) -> date:
    return moment.astimezone(_shop_tz(shop)).date()


def order_days_refresh(*, shop: Shop, days: Iterable[date]) -> None:
    """Recount these days of the shop's orders from the orders placed on them (idempotent): one
    grouped query and one upsert, however many days (an import's batch spans a few)."""
    days = sorted(set(days))
    if not days:
        return
    tz = _shop_tz(shop)
    rows = {r["day"]: r for r in Order.objects.filter(
        shop=shop, cancelled_at__isnull=True, placed_at__gte=datetime.combine(days[0], time.min, tzinfo=tz),
        placed_at__lt=datetime.combine(days[-1] + timedelta(days=1), time.min, tzinfo=tz),
    ).annotate(day=TruncDate("placed_at", tzinfo=tz)).values("day").annotate(
        n=Count("pk"), revenue=Sum("total"), refunded=Sum("refunded")).order_by()}
    OrderDay.objects.bulk_create([
        OrderDay(shop=shop, day=day, orders=(rows.get(day) or {}).get("n") or 0,
                 revenue=(rows.get(day) or {}).get("revenue") or 0, refunded=(rows.get(day) or {}).get("refunded") or 0)
        for day in days
    ], update_conflicts=True, unique_fields=["shop", "day"], update_fields=["orders", "revenue", "refunded"])


def _fulfilled_at(payload: dict) -> datetime:
    times = [_time(f.get("created_at")) for f in payload.get("fulfillments") or []]
    times = [t for t in times if t]
    return max(times) if times else timezone.now()


def order_for(shop: Shop, order_id) -> Order:
    """The stored order, or AwaitingOrder: the event waits (no attempt spent) until orders/create lands."""
    if _int(order_id) is None:
        raise ValueError("the payload names no order")
    order = Order.objects.filter(shop=shop, shopify_id=_int(order_id)).first()
    if order is None:
        raise AwaitingOrder(_int(order_id))
    return order


def order_changed(*, shop: Shop, order: Order, topic: str) -> None:
    """Hand the stored change to every app's order listener, in their registered order."""
    event = OrderEvent(shop=shop, order=order, topic=topic)
    for listener in order_listeners():
        listener(event)


def on_order(shop: Shop | None, payload: dict, event: WebhookEvent) -> None:
    order = order_upsert(shop=shop, payload=payload, event=event)
    if event.topic == "orders/paid" and not order.paid_at:
        order.paid_at = timezone.now()
        order.save(update_fields=["paid_at", "updated_at"])
    if event.topic == "orders/fulfilled" and not order.fulfilled_at:
        order.fulfilled_at = _fulfilled_at(payload)
        order.save(update_fields=["fulfilled_at", "updated_at"])
    webhook_events_wake(shop=shop, order_id=order.shopify_id)
    order_changed(shop=shop, order=order, topic=event.topic)


def on_fulfillment(shop: Shop | None, payload: dict, event: WebhookEvent) -> None:
    order = order_for(shop, payload.get("order_id"))
    changed = []
    if payload.get("status") == "success" and not order.fulfilled_at:
        order.fulfilled_at = _time(payload.get("created_at")) or timezone.now()
        changed.append("fulfilled_at")
    if payload.get("shipment_status") == "delivered" and not order.delivered_at:
        order.delivered_at = _time(payload.get("updated_at")) or timezone.now()
        changed.append("delivered_at")
    if changed:
        order.save(update_fields=changed + ["updated_at"])
    order_lines_fulfilled(order=order, payload=payload)
    order_event_redact(order=order, event=event)
    order_changed(shop=shop, order=order, topic=event.topic)


def on_refund(shop: Shop | None, payload: dict, event: WebhookEvent) -> None:
    order = order_for(shop, payload.get("order_id"))
    _refund_apply(order, payload)
    order_changed(shop=shop, order=Order.objects.get(pk=order.pk), topic=event.topic)


def _refund_apply(order: Order, payload: dict) -> None:
    with transaction.atomic():
        # Customer before order, the order order_upsert locks them in: the other way round
        # a refund and a new order for the same customer could deadlock.
        if order.customer_id:
            Customer.objects.select_for_update().filter(pk=order.customer_id).first()
        order = Order.objects.select_for_update().get(pk=order.pk)
        # Refunded money is what the transactions returned: a refund's shipping can
        # appear both as a shipping line and as an order adjustment, so adding up lines
        # would count it twice.
        amount = sum(
            (money(t.get("amount")) for t in payload.get("transactions") or []
             if t.get("kind") == "refund" and t.get("status") in (None, "success")),
            Decimal("0"),
        )
        _, created = OrderRefund.objects.get_or_create(
            order=order, shopify_id=int(payload["id"]),
            defaults={"amount": amount, "created_at": _time(payload.get("created_at")) or timezone.now()},
        )
        if not created:
            return  # counted already: a repeated delivery under a new event id
        order.refunded = min(order.total, order.refunded + amount) if order.total else order.refunded + amount
        order.save(update_fields=["refunded", "updated_at"])
        order_stats_refresh(order)
        for item in payload.get("refund_line_items") or []:
            OrderLine.objects.filter(order=order, shopify_id=_int(item.get("line_item_id"))).update(
                refunded_quantity=int(item.get("quantity") or 0)
            )


def on_customer(shop: Shop | None, payload: dict, event: WebhookEvent) -> None:
    customer_upsert(shop=shop, data=payload, event=event)


def on_marketing_consent(shop: Shop | None, payload: dict, event: WebhookEvent) -> None:
    customer_consent_update(shop=shop, payload=payload, event=event)


def customers_matching(shop: Shop, ref: CustomerRef):
    query = Q(pk__in=[])
    if ref.shopify_id:
        query |= Q(shopify_id=_int(ref.shopify_id))
    if ref.email:
        query |= Q(email=ref.email)
    return Customer.objects.filter(shop=shop).filter(query)


def webhook_events_about(shop: Shop, ref: CustomerRef):
    """The shop's stored webhook bodies that name this customer (by id, email or phone)."""
    needles = [n for n in (ref.shopify_id, ref.email, ref.phone) if n]
    query = Q(pk__in=[])
    for needle in needles:
        query |= Q(payload__icontains=needle)
    return WebhookEvent.objects.filter(shop_domain=shop.domain, payload__isnull=False).filter(query)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def orders_customer_export(shop: Shop, ref: CustomerRef) -> dict:
    """Everything this module keeps about the customer, as plain JSON the merchant can hand over."""
    customers = list(customers_matching(shop, ref))
    orders = (Order.objects.filter(Q(customer__in=customers) | Q(shopify_id__in=[_int(i) for i in ref.order_ids]), shop=shop)
              .prefetch_related("lines", "refunds").order_by("placed_at"))
    return {
        "customers": [
            {"id": c.shopify_id, "email": c.email, "phone": c.phone, "first_name": c.first_name,
             "last_name": c.last_name, "marketing": c.marketing, "marketing_updated_at": _iso(c.marketing_updated_at),
             "unsubscribed_at": _iso(c.unsubscribed_at), "redacted_at": _iso(c.redacted_at),
             "orders_count": c.orders_count, "total_spent": str(c.total_spent), "last_order_at": _iso(c.last_order_at),
             "first_seen_at": _iso(c.created_at)}
            for c in customers
        ],
        "orders": [
            {"id": o.shopify_id, "name": o.name, "placed_at": _iso(o.placed_at), "email": o.email, "phone": o.phone,
             "total": str(o.total), "refunded": str(o.refunded), "currency": o.currency,
             "presentment_total": str(o.presentment_total) if o.presentment_total is not None else None,
             "presentment_currency": o.presentment_currency, "discount_codes": o.discount_codes,
             "shipping_address": o.shipping_address, "shipping_country": o.shipping_country,
             "browser_ip": o.browser_ip, "user_agent": o.user_agent, "note_attributes": o.note_attributes,
             "customer_locale": o.customer_locale, "landing_site": o.landing_site, "referring_site": o.referring_site,
             "financial_status": o.financial_status, "paid_at": _iso(o.paid_at), "fulfilled_at": _iso(o.fulfilled_at),
             "delivered_at": _iso(o.delivered_at), "cancelled_at": _iso(o.cancelled_at),
             "lines": [{"title": ln.title, "product_id": ln.product_id, "quantity": ln.quantity, "price": str(ln.price),
                        "refunded_quantity": ln.refunded_quantity, "fulfilled_at": _iso(ln.fulfilled_at)}
                       for ln in o.lines.all()],
             "refunds": [{"amount": str(r.amount), "created_at": _iso(r.created_at)} for r in o.refunds.all()]}
            for o in orders
        ],
        # Shopify's own bodies, as received: they hold more than the rows above (billing address, notes).
        "webhooks": [
            {"topic": e.topic, "received_at": _iso(e.received_at), "body": e.payload}
            for e in webhook_events_about(shop, ref).exclude(topic__startswith="customers/data_request").order_by("received_at")
        ],
    }


def orders_customer_redact(shop: Shop, ref: CustomerRef) -> None:
    # The customer rows first: their UPDATE waits for any order being stored for them (order_upsert
    # holds the row's lock), so the orders UPDATE below also covers that order.
    if ref.shopify_id:
        # A customer Advocate never heard of yet still leaves a mark, so their late orders are stored redacted.
        Customer.objects.get_or_create(shop=shop, shopify_id=_int(ref.shopify_id))
    customer_ids = list(customers_matching(shop, ref).values_list("pk", flat=True))
    Customer.objects.filter(pk__in=customer_ids).update(email="", phone="", first_name="", last_name="",
                                                        redacted_at=timezone.now())
    Order.objects.filter(Q(customer__in=customer_ids) | Q(shopify_id__in=[_int(i) for i in ref.order_ids]), shop=shop).update(
        email="", phone="", shipping_address=None, browser_ip="", user_agent="", note_attributes=[], customer_locale=""
    )


def orders_shop_export(shop: Shop) -> dict:
    customers = Customer.objects.filter(shop=shop).order_by("pk")
    orders = Order.objects.filter(shop=shop).order_by("pk")
    return {
        "customers": [
            {"id": c.shopify_id, "email": c.email, "phone": c.phone, "first_name": c.first_name, "last_name": c.last_name,
             "marketing": c.marketing, "unsubscribed": c.unsubscribed_at is not None}
            for c in customers.iterator()
        ],
        "orders": [
            {"id": o.shopify_id, "name": o.name, "customer_id": o.customer_id, "placed_at": o.placed_at.isoformat(),
             "total": str(o.total), "refunded": str(o.refunded), "currency": o.currency}
            for o in orders.iterator()
        ],
    }

