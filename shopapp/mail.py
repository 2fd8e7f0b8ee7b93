"""Every email Advocate sends: one sender, the unsubscribe rules and the case pause, the headers mail clients expect."""
from __future__ import annotations

import logging
from datetime import timedelta
from enum import Enum
from typing import Callable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _, gettext_noop

from shopapp.connection import shop_installed_require
from shopapp.links import absolute, link_read, link_token
from shopapp.models import Customer, MailSettings, Shop
from shopapp.registry import marketing_blockers

log = logging.getLogger(__name__)

UNSUBSCRIBE_LINK_AGE = timedelta(days=3650)

def marketing_blocked(shop: Shop, customer: Customer | None, *, honour_shopify_consent: bool = True) -> str | None:
    """Why this customer must not get a review request, invitation or offer; None if they may."""
    if customer is None or not customer.email:
        return gettext_noop("no email address")
    if customer.redacted_at:
        return gettext_noop("customer data was erased")
    if customer.unsubscribed_at:
        return gettext_noop("unsubscribed from Advocate's emails")
    if honour_shopify_consent and customer.marketing == Customer.Marketing.UNSUBSCRIBED:
        return gettext_noop("opted out of marketing in Shopify")
    return marketing_paused(shop, customer)


def marketing_paused(shop: Shop, customer: Customer) -> str | None:
    """A registered reason (an open case, say) that holds back every ask to this customer: by email,
    and on the pages they open themselves (their thank-you and order pages), where the email
    opt-outs above do not apply."""
    for blocker in marketing_blockers():
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


class Audience(str, Enum):
    """Who an email is for, which decides the checks it must pass."""

    MARKETING = "marketing"  # review requests, invitations, advocate news: every opt-out and the case pause
    CUSTOMER = "customer"  # something the shopper asked for or is owed (a case reply, a code): no marketing checks
    MERCHANT = "merchant"  # the shop's own staff: alerts, test sends


def email_send(*, shop: Shop, audience: Audience, subject: str, text: str, html: str = "",
               customer: Customer | None = None, to: list[str] | None = None, reply_to: str | None = None,
               headers: dict | None = None, honour_shopify_consent: bool = True) -> bool:
    """The one way Advocate sends email: sender, checks, headers, postal address, then the backend.

    False (and nothing sent) when a rule forbids it; an exception when the backend failed, so the
    caller's claim can be released and the sweep retries. Whether the shop is installed is read
    from the database now, the one uninstall check on the email path: a `Shop` loaded before the
    uninstall does not slip through, and callers put back what they claimed for a reinstall.
    """
    if not Shop.objects.installed().filter(pk=shop.pk).exists():
        log.info("no email for %s: the app is uninstalled", shop.domain)
        return False
    if audience == Audience.MARKETING:
        reason = marketing_blocked(shop, customer, honour_shopify_consent=honour_shopify_consent)
        if reason:
            log.info("marketing email to customer %s not sent: %s", getattr(customer, "pk", None), reason)
            return False
    elif customer is not None and (customer.redacted_at or not customer.email):
        return False
    to = to or ([customer.email] if customer is not None else [])
    if not to:
        return False
    from_email, default_reply_to = sender(shop)
    headers = dict(headers or {})
    if customer is not None:
        # RFC 8058: mail providers POST "List-Unsubscribe=One-Click" to this URL, no person involved.
        headers.update({"List-Unsubscribe": f"<{unsubscribe_url(customer)}>",
                        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})
    if audience != Audience.MERCHANT:
        text, html = _with_postal_address(shop, text, html)
    message = EmailMultiAlternatives(subject=" ".join(subject.split()), body=text, from_email=from_email, to=to,
                                     reply_to=[reply_to or default_reply_to] if (reply_to or default_reply_to) else None,
                                     headers=headers)
    if html:
        message.attach_alternative(html, "text/html")
    message.send()
    return True


def owed_email_send(*, release: Callable[[], object], what: str, **message) -> bool:
    """email_send to a customer of something they are owed (a code, a reward), claimed by a row.

    When nothing went out, because the backend failed or the shop uninstalled since the claim,
    `release()` puts the claim back: the sweep sends it later, or after a reinstall."""
    try:
        sent = email_send(audience=Audience.CUSTOMER, **message)
    except Exception:
        log.exception("%s could not be sent; the sweep retries", what)
        sent = False
    if not sent:
        release()
    return sent


def _with_postal_address(shop: Shop, text: str, html: str) -> tuple[str, str]:
    # CAN-SPAM: commercial email names a valid postal address of the sender, the shop.
    lines = [line for line in (shop.postal_address or "").splitlines() if line.strip()]
    if not lines:
        return text, html
    name = shop.name or shop.domain
    text = f"{text.rstrip()}\n\n{name}, " + ", ".join(lines) + "\n"
    if html:
        footer = (f'<p style="margin:16px auto;max-width:560px;font-size:12px;color:#6d7175;text-align:center;">'
                  f"{escape(name)}, {escape(', '.join(lines))}</p>")
        html = html.replace("</body>", footer + "</body>", 1) if "</body>" in html else html + footer
    return text, html


def sender(shop: Shop) -> tuple[str, str]:
    """(From header, Reply-To address) for the shop's emails."""
    mail = MailSettings.objects.filter(shop=shop).first()
    name = ((mail.sender_name if mail else "") or shop.name or shop.domain).replace('"', "").replace("\n", " ")
    reply_to = (mail.reply_to if mail else "") or shop.email
    return f'"{name}" <{_from_address()}>', reply_to


def sender_test_send(*, shop: Shop, to: str) -> None:
    """A plain message to the merchant, to check how the sender looks in a real inbox; in the language
    of the panel that sent it (the staff member's)."""
    shop_installed_require(shop)  # a panel action: an uninstalled shop is refused, not silently skipped
    email_send(shop=shop, audience=Audience.MERCHANT, to=[to],
               subject=_("Test email from %(shop)s via Advocate") % {"shop": shop.name or shop.domain},
               text=_("This is how your customers will see emails from your store. Reply to check where answers go."))
    mail = MailSettings.for_shop(shop)
    mail.test_sent_at = timezone.now()
    mail.test_sent_to = to
    mail.save(update_fields=["test_sent_at", "test_sent_to"])


def _from_address() -> str:
    value = settings.DEFAULT_FROM_EMAIL
    return value.split("<", 1)[1].rstrip(">").strip() if "<" in value else value
