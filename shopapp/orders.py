"""Customers and orders from Shopify's webhooks: parsed once, here, for every app.

Webhooks arrive more than once, out of order and late; every order topic carries the
whole order, so each one upserts it, and the lifecycle times only ever move forward.
Apps do not read the raw payloads: after storing a change, the handlers here hand them
one parsed OrderEvent (registry.register_order_listener, in an explicit order). An event
about an order not stored yet waits for it (webhooks.AwaitingOrder) instead of failing.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Count, Max, Sum
from django.db.models.functions import TruncDate
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


def customer_upsert(*, shop: Shop, data: dict | None, email: str = "", phone: str = "") -> Customer | None:
    """The customer a payload names; None for a guest checkout with no email or phone."""
    data = data or {}
    shopify_id = _int(data.get("id"))
    email = (data.get("email") or email or "").strip().lower()
    phone = (data.get("phone") or phone or "").strip()
    if shopify_id is None and not email and not phone:
        return None
    if shopify_id is not None:
        customer, _ = Customer.objects.get_or_create(shop=shop, shopify_id=shopify_id)
    else:
        # A guest: matched by email so their orders still count together.
        customer = (
            Customer.objects.filter(shop=shop, shopify_id__isnull=True, email=email).first()
            if email else None
        ) or Customer.objects.create(shop=shop, email=email, phone=phone)
    if customer.redacted_at:
        return customer  # never re-fill a customer the shop told us to forget
    customer.email = email or customer.email
    customer.phone = phone or customer.phone
    customer.first_name = (data.get("first_name") or customer.first_name or "")[:100]
    customer.last_name = (data.get("last_name") or customer.last_name or "")[:100]
    consent = (data.get("email_marketing_consent") or {}).get("state")
    if consent:
        customer.marketing = _marketing_state(consent)
    customer.save()
    return customer


def _marketing_state(state: str) -> str:
    state = state.lower()
    if state in ("subscribed", "pending"):
        return Customer.Marketing.SUBSCRIBED if state == "subscribed" else Customer.Marketing.NOT_SUBSCRIBED
    if state in ("unsubscribed", "redacted", "invalid"):
        return Customer.Marketing.UNSUBSCRIBED
    return Customer.Marketing.NOT_SUBSCRIBED


def order_upsert(*, shop: Shop, payload: dict) -> Order:
    """Create or update the order and its lines from any order topic's payload."""
    shopify_id = _int(payload.get("id"))
    if shopify_id is None:
        raise ValueError("order payload has no id")
    customer = customer_upsert(shop=shop, data=payload.get("customer"), email=payload.get("email") or "",
                               phone=payload.get("phone") or "")
    total_set = payload.get("total_price_set") or {}
    presentment = total_set.get("presentment_money") or {}
    shipping = payload.get("shipping_address") or None
    client = payload.get("client_details") or {}
    with transaction.atomic():
        order, _ = Order.objects.select_for_update().get_or_create(
            shop=shop, shopify_id=shopify_id,
            defaults={"currency": payload.get("currency") or shop.currency,
                      "placed_at": _time(payload.get("created_at")) or timezone.now()},
        )
        order.name = payload.get("name") or order.name
        previous_customer_id = order.customer_id
        order.customer = customer or order.customer
        order.email = (payload.get("email") or "").strip().lower()
        order.phone = payload.get("phone") or ""
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
        order.note_attributes = payload.get("note_attributes") or order.note_attributes
        order.browser_ip = payload.get("browser_ip") or client.get("browser_ip") or order.browser_ip
        order.user_agent = client.get("user_agent") or order.user_agent
        order.shipping_address = shipping
        order.shipping_country = ((shipping or {}).get("country_code") or "")[:2]
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
                },
            )
    return order


def order_stats_refresh(order: Order, *other_customer_ids: int | None) -> None:
    """Recount what the dashboard reads after an order changed: its customer's counters and its day."""
    customer_stats_refresh(order.customer_id, *other_customer_ids)
    order_day_refresh(shop=order.shop, day=order_day_of(order.shop, order.placed_at))


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
    rows = (Order.objects.filter(customer__in=customers, cancelled_at__isnull=True).values("customer_id")
            .annotate(n=Count("pk"), total=Sum("total"), refunded=Sum("refunded"), last=Max("placed_at")))
    with transaction.atomic():
        rows = list(rows)
        customers.update(orders_count=0, total_spent=0, last_order_at=None)
        for row in rows:
            Customer.objects.filter(pk=row["customer_id"]).update(
                orders_count=row["n"], total_spent=(row["total"] or Decimal("0")) - (row["refunded"] or Decimal("0")),
                last_order_at=row["last"])
    return len(rows)


def _shop_tz(shop: Shop) -> ZoneInfo:
    try:
        return ZoneInfo(shop.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def order_day_of(shop: Shop, moment: datetime) -> date:
    return moment.astimezone(_shop_tz(shop)).date()


def order_day_refresh(*, shop: Shop, day: date) -> None:
    """Recount one day of the shop's orders from the orders placed that day (idempotent)."""
    tz = _shop_tz(shop)
    start = datetime.combine(day, time.min, tzinfo=tz)
    totals = Order.objects.filter(
        shop=shop, cancelled_at__isnull=True, placed_at__gte=start, placed_at__lt=start + timedelta(days=1),
    ).aggregate(n=Count("pk"), revenue=Sum("total"), refunded=Sum("refunded"))
    OrderDay.objects.update_or_create(shop=shop, day=day, defaults={
        "orders": totals["n"], "revenue": totals["revenue"] or 0, "refunded": totals["refunded"] or 0})


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
    order = order_upsert(shop=shop, payload=payload)
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
    order_changed(shop=shop, order=order, topic=event.topic)


def on_refund(shop: Shop | None, payload: dict, event: WebhookEvent) -> None:
    order = order_for(shop, payload.get("order_id"))
    _refund_apply(order, payload)
    order_changed(shop=shop, order=Order.objects.get(pk=order.pk), topic=event.topic)


def _refund_apply(order: Order, payload: dict) -> None:
    with transaction.atomic():
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
    customer_upsert(shop=shop, data=payload)


def on_marketing_consent(shop: Shop | None, payload: dict, event: WebhookEvent) -> None:
    # Since API 2025-01 consent arrives only here, not on customers/update.
    customer = customer_upsert(shop=shop, data={"id": payload.get("customer_id"), "email": payload.get("email_address")})
    state = (payload.get("email_marketing_consent") or {}).get("state")
    if customer and state:
        customer.marketing = _marketing_state(state)
        customer.save(update_fields=["marketing"])


def customers_matching(shop: Shop, ref: CustomerRef):
    from django.db.models import Q

    query = Q(pk__in=[])
    if ref.shopify_id:
        query |= Q(shopify_id=_int(ref.shopify_id))
    if ref.email:
        query |= Q(email=ref.email)
    return Customer.objects.filter(shop=shop).filter(query)


def _export(shop: Shop, ref: CustomerRef) -> dict:
    customers = list(customers_matching(shop, ref))
    orders = Order.objects.filter(shop=shop, customer__in=customers).prefetch_related("lines")
    return {
        "customers": [
            {"id": c.shopify_id, "email": c.email, "phone": c.phone, "first_name": c.first_name,
             "last_name": c.last_name, "marketing": c.marketing,
             "unsubscribed_at": c.unsubscribed_at.isoformat() if c.unsubscribed_at else None}
            for c in customers
        ],
        "orders": [
            {"id": o.shopify_id, "name": o.name, "placed_at": o.placed_at.isoformat(), "total": str(o.total),
             "currency": o.currency, "lines": [{"title": ln.title, "quantity": ln.quantity} for ln in o.lines.all()]}
            for o in orders
        ],
    }


def _redact(shop: Shop, ref: CustomerRef) -> None:
    customers = customers_matching(shop, ref)
    Order.objects.filter(shop=shop, customer__in=customers).update(
        email="", phone="", shipping_address=None, browser_ip="", user_agent="", note_attributes=[]
    )
    customers.update(email="", phone="", first_name="", last_name="", redacted_at=timezone.now())


def _shop_export(shop: Shop) -> dict:
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

