"""Webhook handlers for app/uninstalled and the three mandatory compliance topics (registered in ShopappConfig.ready)."""
from __future__ import annotations

from shopapp.models import CustomerDataExport, Shop, WebhookEvent
from shopapp.registry import CustomerRef, customer_data_export, customer_data_redact
from shopapp.services import shop_erase, shop_uninstall


def _customer_ref(payload: dict) -> CustomerRef:
    customer = payload.get("customer") or {}
    return CustomerRef(
        shopify_id=str(customer.get("id") or ""),
        email=(customer.get("email") or "").strip().lower(),
        phone=(customer.get("phone") or "").strip(),
        order_ids=tuple(str(i) for i in payload.get("orders_requested") or payload.get("orders_to_redact") or ()),
    )


def on_app_uninstalled(shop: Shop | None, payload: dict, event: WebhookEvent) -> None:
    if shop is not None:
        shop_uninstall(shop=shop)


def on_customers_data_request(shop: Shop | None, payload: dict, event: WebhookEvent) -> None:
    if shop is None:
        return  # nothing is stored for a shop Advocate does not know
    customer = _customer_ref(payload)
    CustomerDataExport.objects.update_or_create(
        shop=shop,
        request_id=str((payload.get("data_request") or {}).get("id") or event.event_key),
        defaults={
            "customer_id": customer.shopify_id,
            "customer_email": customer.email,
            "data": {
                "shop_domain": shop.domain,
                "customer": {"id": customer.shopify_id, "email": customer.email, "phone": customer.phone},
                "orders_requested": list(customer.order_ids),
                "data": customer_data_export(shop, customer),
            },
        },
    )


def on_customers_redact(shop: Shop | None, payload: dict, event: WebhookEvent) -> None:
    if shop is None:
        return
    customer = _customer_ref(payload)
    customer_data_redact(shop, customer)
    # The exports hold the same personal data; they go too.
    exports = CustomerDataExport.objects.filter(shop=shop)
    if customer.shopify_id:
        exports.filter(customer_id=customer.shopify_id).delete()
    if customer.email:
        exports.filter(customer_email=customer.email).delete()
    _webhook_payloads_scrub(shop, customer, keep=event.pk)


def _webhook_payloads_scrub(shop: Shop, customer: CustomerRef, *, keep: int) -> None:
    """Stored webhook bodies (orders, customers) carry the customer too: blank them."""
    needles = [n for n in (customer.email, customer.shopify_id, customer.phone) if n]
    events = WebhookEvent.objects.filter(shop_domain=shop.domain, payload__isnull=False).exclude(pk=keep)
    for needle in needles:
        events.filter(payload__icontains=needle).exclude(
            status__in=[WebhookEvent.Status.RECEIVED, WebhookEvent.Status.PROCESSING]
        ).update(payload={"redacted": True}, raw_body="")


def on_shop_redact(shop: Shop | None, payload: dict, event: WebhookEvent) -> None:
    shop_erase(domain=event.shop_domain)
