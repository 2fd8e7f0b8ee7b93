"""Named fraud rules. Each returns a reason a merchant can read, or None; a referral with
any reason waits for the merchant instead of being paid or dropped.

A reason is stored in English, as one of REASONS with its values put in; the panel shows it in the
language of whoever reads it (referrals.templatetags: fraud_reason, through stored_message_translate)."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext_noop

from referrals.models import Advocate, Click, ProgramSettings, Referral
from shopapp.errors import stored_message_translate
from shopapp.models import Order
from shopapp.ratelimit import ip_hash

SELF_ORDER = gettext_noop("Self-referral: the advocate placed this order.")
SELF_EMAIL = gettext_noop("Self-referral: same email address as the advocate (after normalising).")
SELF_PHONE = gettext_noop("Self-referral: same phone number as the advocate.")
SELF_ADDRESS = gettext_noop("Self-referral: ships to the advocate's own address.")
EXISTING = gettext_noop("First order only: the friend had already ordered from the shop before this order.")
SAME_VISITS = gettext_noop("Same IP address and browser as the advocate's own visits.")
SAME_ORDERS = gettext_noop("Same IP address and browser as the advocate's own orders.")
WEEKLY_LIMIT = gettext_noop("More than %(limit)s referrals from this advocate in a week.")
COUPON_SITE = gettext_noop("The friend arrived from a coupon site (%(site)s).")
COUPON_SPREAD = gettext_noop("The code is spreading from coupon sites (%(sites)s).")
REASONS = (SELF_ORDER, SELF_EMAIL, SELF_PHONE, SELF_ADDRESS, EXISTING, SAME_VISITS, SAME_ORDERS, WEEKLY_LIMIT,
           COUPON_SITE, COUPON_SPREAD)

GMAIL_DOMAINS = {"gmail.com", "googlemail.com"}
# Where leaked codes get posted: a click from one of these means the code is spreading.
COUPON_SITES = (
    "retailmenot.", "honey.", "joinhoney.", "couponfollow.", "coupons.com", "slickdeals.", "dealspotr.",
    "wethrift.", "knoji.", "couponbirds.", "couponcabin.", "groupon.", "promocodes.", "savings.com",
    "dontpayfull.", "hotdeals.", "offers.com", "goodshop.", "couponchief.", "capitaloneshopping.",
)
COUPON_LOOKBACK_DAYS = 30


def email_normalise(email: str) -> str:
    """Case folded; for Gmail also without dots and +tags (they all reach one inbox)."""
    email = (email or "").strip().lower()
    local, _, domain = email.partition("@")
    if not domain:
        return email
    local = local.split("+", 1)[0]
    if domain in GMAIL_DOMAINS:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def phone_normalise(phone: str) -> str:
    """The last ten digits: '+1 (555) 555-0100' and '555.555.0100' are the same phone."""
    return re.sub(r"\D", "", phone or "")[-10:]


def address_normalise(address: dict | None) -> str:
    if not address:
        return ""
    parts = [address.get(k) or "" for k in ("address1", "address2", "zip", "country_code")]
    text = " ".join(re.sub(r"[^a-z0-9]+", " ", p.lower()).strip() for p in parts)
    return re.sub(r"\s+", " ", text).strip() if (address.get("address1") or "").strip() else ""


def _coupon_site(host: str) -> bool:
    host = (host or "").lower()
    return any(site in host for site in COUPON_SITES)


def self_referral(advocate: Advocate, order: Order) -> str | None:
    own = advocate.customer
    friend = order.customer
    if friend is not None and (friend.pk == own.pk or (own.shopify_id and friend.shopify_id == own.shopify_id)):
        return SELF_ORDER
    friend_emails = {email_normalise(e) for e in (order.email, friend.email if friend else "") if e}
    if own.email and email_normalise(own.email) in friend_emails:
        return SELF_EMAIL
    friend_phones = {phone_normalise(p) for p in (order.phone, friend.phone if friend else "") if phone_normalise(p)}
    if own.phone and phone_normalise(own.phone) in friend_phones:
        return SELF_PHONE
    address = address_normalise(order.shipping_address)
    if address:
        own_orders = Order.objects.filter(shop=order.shop, customer=own).exclude(pk=order.pk)
        if any(address_normalise(a) == address for a in own_orders.values_list("shipping_address", flat=True)):
            return SELF_ADDRESS
    return None


def existing_customer(advocate: Advocate, order: Order, program: ProgramSettings) -> str | None:
    """Only a rule when the program is for first orders: otherwise returning customers are welcome."""
    if not program.friend_first_order_only:
        return None
    earlier = Order.objects.filter(shop=order.shop, placed_at__lt=order.placed_at).exclude(pk=order.pk)
    match = Q(customer=order.customer) if order.customer_id else Q(pk__in=[])
    if order.email:
        match |= Q(email__iexact=order.email)
    if earlier.filter(match).exists():
        return EXISTING
    return None


def same_device(advocate: Advocate, order: Order) -> str | None:
    if not order.browser_ip or not order.user_agent:
        return None
    if Click.objects.filter(advocate=advocate, own=True, ip_hash=ip_hash(order.browser_ip),
                            user_agent=order.user_agent[:500]).exists():
        return SAME_VISITS
    own_orders = Order.objects.filter(shop=order.shop, customer=advocate.customer).exclude(pk=order.pk)
    if own_orders.filter(browser_ip=order.browser_ip, user_agent=order.user_agent).exists():
        return SAME_ORDERS
    return None


def too_many_this_week(advocate: Advocate, order: Order, program: ProgramSettings) -> str | None:
    since = order.placed_at - 7 * settings.ADVOCATE_DAY
    recent = Referral.objects.filter(advocate=advocate, order__placed_at__gte=since,
                                     order__placed_at__lt=order.placed_at).exclude(order=order).count()
    if recent >= program.weekly_referral_limit:
        return WEEKLY_LIMIT % {"limit": program.weekly_referral_limit}
    return None


def coupon_site_spread(advocate: Advocate, order: Order) -> str | None:
    if _coupon_site(_host(order.referring_site)):
        return COUPON_SITE % {"site": _host(order.referring_site)}
    since = order.placed_at - COUPON_LOOKBACK_DAYS * settings.ADVOCATE_DAY
    hosts = Click.objects.filter(advocate=advocate, at__gte=since).exclude(referrer_host="") \
        .values_list("referrer_host", flat=True).distinct()
    sites = sorted(h for h in hosts if _coupon_site(h))
    if sites:
        return COUPON_SPREAD % {"sites": ", ".join(sites[:3])}
    return None


def _host(url: str) -> str:
    return (urlsplit(url or "").hostname or "").lower()


def fraud_reasons(advocate: Advocate, order: Order, program: ProgramSettings) -> list[dict]:
    """Every rule that fires, as {"rule", "reason"}; an empty list means nothing looked wrong."""
    checks = [
        ("self_referral", self_referral(advocate, order)),
        ("existing_customer", existing_customer(advocate, order, program)),
        ("same_device", same_device(advocate, order)),
        ("weekly_limit", too_many_this_week(advocate, order, program)),
        ("coupon_site", coupon_site_spread(advocate, order)),
    ]
    return [{"rule": rule, "reason": reason} for rule, reason in checks if reason]



def fraud_reason_shown(flag: dict) -> str:
    """A stored reason (English, as the rule wrote it) in the active language."""
    return stored_message_translate(flag.get("reason", ""), REASONS)
