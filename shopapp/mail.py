"""Email to shoppers: one sender, the unsubscribe rules, and the headers mail clients expect."""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Callable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from shopapp.links import absolute, link_read, link_token
from shopapp.models import Customer, Shop

log = logging.getLogger(__name__)

UNSUBSCRIBE_LINK_AGE = timedelta(days=3650)

# Apps add reasons not to send marketing to a customer (reviews: an open case).
_blockers: list[Callable[[Shop, Customer], str | None]] = []


def register_marketing_block(func: Callable[[Shop, Customer], str | None]) -> None:
    if func not in _blockers:
        _blockers.append(func)


def marketing_blocked(shop: Shop, customer: Customer | None, *, honour_shopify_consent: bool = True) -> str | None:
    """Why this customer must not get a review request, invitation or offer; None if they may."""
    if customer is None or not customer.email:
        return "no email address"
    if customer.redacted_at:
        return "customer data was erased"
    if customer.unsubscribed_at:
        return "unsubscribed from Advocate's emails"
    if honour_shopify_consent and customer.marketing == Customer.Marketing.UNSUBSCRIBED:
        return "opted out of marketing in Shopify"
    for blocker in _blockers:
        reason = blocker(shop, customer)
        if reason:
            return reason
    return None


def unsubscribe_url(customer: Customer) -> str:
    return absolute(f"/u/{link_token('unsubscribe', customer.pk)}")


def customer_for_unsubscribe(token: str) -> Customer:
    customer_id, _ = link_read("unsubscribe", token, max_age=UNSUBSCRIBE_LINK_AGE)
    return Customer.objects.get(pk=customer_id)


def customer_unsubscribe(*, customer: Customer) -> Customer:
    if customer.unsubscribed_at is None:
        customer.unsubscribed_at = timezone.now()
        customer.save(update_fields=["unsubscribed_at"])
    return customer


def customer_resubscribe(*, customer: Customer) -> Customer:
    customer.unsubscribed_at = None
    customer.save(update_fields=["unsubscribed_at"])
    return customer


def shopper_email_send(*, shop: Shop, customer: Customer, subject: str, text: str, html: str,
                       reply_to: str | None = None, headers: dict | None = None) -> None:
    """Send from the shop's name, with List-Unsubscribe (RFC 8058 one-click) on every message."""
    link = unsubscribe_url(customer)
    from_email, default_reply_to = sender(shop)
    reply_to = reply_to or default_reply_to
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=from_email,
        to=[customer.email],
        reply_to=[reply_to] if reply_to else None,
        headers={"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                 **(headers or {})},
    )
    message.attach_alternative(html, "text/html")
    message.send()


def sender(shop: Shop) -> tuple[str, str]:
    """(From header, Reply-To address) for the shop's emails."""
    from shopapp.models import MailSettings
    from shopapp.services import shop_installed_require

    # Every email Advocate sends (shopper or owner) takes its sender from here: after an
    # uninstall none goes out, whichever sweep or late job asks.
    shop_installed_require(shop)

    mail = MailSettings.objects.filter(shop=shop).first()
    name = ((mail.sender_name if mail else "") or shop.name or shop.domain).replace('"', "").replace("\n", " ")
    reply_to = (mail.reply_to if mail else "") or shop.email
    return f'"{name}" <{_from_address()}>', reply_to


def sender_test_send(*, shop: Shop, to: str) -> None:
    """A plain message to the merchant, to check how the sender looks in a real inbox."""
    from shopapp.models import MailSettings

    from_email, reply_to = sender(shop)
    EmailMultiAlternatives(
        subject=f"Test email from {shop.name or shop.domain} via Advocate",
        body="This is how your customers will see emails from your store. Reply to check where answers go.",
        from_email=from_email, to=[to], reply_to=[reply_to] if reply_to else None,
    ).send()
    mail = MailSettings.for_shop(shop)
    mail.test_sent_at = timezone.now()
    mail.test_sent_to = to
    mail.save(update_fields=["test_sent_at", "test_sent_to"])


def _from_address() -> str:
    value = settings.DEFAULT_FROM_EMAIL
    return value.split("<", 1)[1].rstrip(">").strip() if "<" in value else value
