"""Webhook handlers for app/uninstalled and the three mandatory compliance topics (registered in ShopappConfig.ready)."""
from __future__ import annotations

import logging

from shopapp.models import CustomerDataExport, Shop, WebhookEvent
from shopapp.orders import webhook_event_redact, webhook_events_about
from shopapp.registry import CustomerRef, customer_data_export, customer_data_redact
from shopapp.services import shop_erase, shop_uninstall
from shopapp.shopify import clean_shop_domain

log = logging.getLogger(__name__)


class ShopMismatch(ValueError):
    """A compliance body about another shop than the one its verified header names."""


def _same_shop(payload: dict, event: WebhookEvent) -> None:
    """Refuse a compliance body whose shop_domain is not the header's shop: erasing or exporting
    one shop's customers on another shop's word is the one mistake these topics cannot afford."""
    named = clean_shop_domain(str(payload.get("shop_domain") or ""))
    if named != event.shop_domain:
        log.warning("%s %s refused: body names shop %r, header %r", event.topic, event.pk,
                    payload.get("shop_domain"), event.shop_domain)
        raise ShopMismatch(f"body's shop_domain {payload.get('shop_domain')!r} is not the header's {event.shop_domain!r}")


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
    _same_shop(payload, event)
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
    _same_shop(payload, event)
    customer = _customer_ref(payload)
    # The request itself names the customer (email, phone): kept as the record of what was asked, without them.
    webhook_event_redact(event)
    if shop is None:
        return
    customer_data_redact(shop, customer)
    # The exports hold the same personal data; they go too.
    exports = CustomerDataExport.objects.filter(shop=shop)
    if customer.shopify_id:
        exports.filter(customer_id=customer.shopify_id).delete()
    if customer.email:
        exports.filter(customer_email=customer.email).delete()
    _webhook_payloads_scrub(shop, customer, keep=event.pk)


def _webhook_payloads_scrub(shop: Shop, customer: CustomerRef, *, keep: int) -> None:
    """Stored webhook bodies (orders, customers) carry the customer too: blank them.

    Events still waiting are left to their handlers, which store them without the customer."""
    webhook_events_about(shop, customer).exclude(pk=keep).exclude(
        status__in=[WebhookEvent.Status.RECEIVED, WebhookEvent.Status.PROCESSING]
    ).update(payload={"redacted": True}, raw_body="")


def on_shop_redact(shop: Shop | None, payload: dict, event: WebhookEvent) -> None:
    _same_shop(payload, event)
    shop_erase(domain=event.shop_domain)
