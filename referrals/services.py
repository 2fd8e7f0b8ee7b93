"""Advocates, their codes and their clicks."""
from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import timedelta
from decimal import Decimal
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from referrals import discount_api
from referrals.clicklog import click_log, clicks_insert
from referrals.models import Advocate, CreditEntry, ProgramSettings, Referral
from shopapp.admin_api import ShopifyError
from shopapp.discounts import discount_ensure, retry_backoff
from shopapp.jobs import enqueue
from shopapp.models import Customer, Order, Shop
from shopapp.shopify import shop_url

# No 0/O, 1/I/L: a code read aloud or copied by hand still works.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_MAX_ATTEMPTS = 8


def code_generate(first_name: str) -> str:
    """`MAYA-7K2Q`: a readable name part and four characters from a cryptographic source."""
    ascii_name = unicodedata.normalize("NFKD", first_name or "").encode("ascii", "ignore").decode()
    name = re.sub(r"[^A-Z]", "", ascii_name.upper())[:10] or "FRIEND"
    return f"{name}-{''.join(secrets.choice(CODE_ALPHABET) for _ in range(4))}"


def advocate_enrol(*, shop: Shop, customer: Customer) -> Advocate:
    """The customer's advocate row, created once; its Shopify code is made by a job."""
    existing = Advocate.objects.filter(customer=customer).first()
    if existing:
        return existing
    for _ in range(20):
        try:
            with transaction.atomic():
                advocate = Advocate.objects.create(shop=shop, customer=customer, code=code_generate(customer.first_name))
        except IntegrityError:
            existing = Advocate.objects.filter(customer=customer).first()
            if existing:  # a concurrent delivery enrolled them first
                return existing
            continue  # the code was taken: draw again
        enqueue(advocate_code_job, advocate.pk)
        return advocate
    raise RuntimeError("could not draw a free referral code")


def advocate_enrol_for_order(*, order: Order) -> Advocate | None:
    """Every customer with a paid order becomes an advocate."""
    if order.customer is None or order.paid_at is None or order.customer.redacted_at:
        return None
    return advocate_enrol(shop=order.shop, customer=order.customer)


def advocate_code_job(advocate_id: int) -> None:
    advocate = Advocate.objects.filter(pk=advocate_id).select_related("shop").first()
    if advocate:
        advocate_code_create(advocate=advocate)


def advocate_code_create(*, advocate: Advocate) -> Advocate:
    """Make the advocate's code a Shopify discount; safe to run twice (claimed, then looked up)."""
    now = timezone.now()
    claimed = Advocate.objects.filter(
        Q(code_next_attempt_at__isnull=True) | Q(code_next_attempt_at__lte=now),
        pk=advocate.pk, code_state__in=[Advocate.CodeState.PENDING, Advocate.CodeState.FAILED],
    ).update(code_attempts=F("code_attempts") + 1, code_next_attempt_at=now + retry_backoff(advocate.code_attempts + 1))
    advocate.refresh_from_db()
    if not claimed:
        return advocate
    shop = advocate.shop
    try:
        # A retry may follow a call Shopify applied but whose answer was lost: look it up first.
        gid = discount_ensure(shop=shop, data=discount_api.friend_discount_input(advocate, ProgramSettings.for_shop(shop)),
                              look_first=advocate.code_attempts > 1)
    except ShopifyError as exc:
        advocate.code_state = Advocate.CodeState.FAILED
        advocate.code_error = str(exc)[:1000]
        if advocate.code_attempts >= CODE_MAX_ATTEMPTS:
            advocate.code_next_attempt_at = None
        advocate.save(update_fields=["code_state", "code_error", "code_next_attempt_at"])
        return advocate
    advocate.code_state = Advocate.CodeState.CREATED
    advocate.discount_gid = gid or ""
    advocate.code_error = ""
    advocate.code_next_attempt_at = None
    advocate.save(update_fields=["code_state", "discount_gid", "code_error", "code_next_attempt_at"])
    return advocate


def advocate_codes_due() -> int:
    """Re-drive code creation that failed or whose job was lost."""
    now = timezone.now()
    due = Advocate.objects.filter(
        Q(code_next_attempt_at__isnull=True, code_state=Advocate.CodeState.PENDING, created_at__lte=now - timedelta(minutes=2))
        | Q(code_next_attempt_at__lte=now, code_attempts__lt=CODE_MAX_ATTEMPTS),
        code_state__in=[Advocate.CodeState.PENDING, Advocate.CodeState.FAILED],
        shop__uninstalled_at__isnull=True,
    ).values_list("pk", flat=True)[:200]
    ids = list(due)
    for pk in ids:
        enqueue(advocate_code_job, pk)
    return len(ids)


def advocate_for_code(code: str) -> Advocate | None:
    """The advocate behind a link's code, for an installed shop; None otherwise."""
    code = (code or "").strip().upper()
    if not code or len(code) > 40:
        return None
    return (
        Advocate.objects.select_related("shop", "customer", "shop__referral_settings")
        .filter(code=code, shop__uninstalled_at__isnull=True, shop__installed_at__isnull=False)
        .first()
    )


def referral_record_click(*, advocate: Advocate, ip_hash: str, user_agent: str, landing_path: str,
                          referrer: str, own: bool) -> None:
    click_record(shop_id=advocate.shop_id, advocate_id=advocate.pk, ip_hash=ip_hash, user_agent=user_agent,
                        landing_path=landing_path, referrer=referrer, own=own)


def click_record(*, shop_id: int, advocate_id: int, ip_hash: str, user_agent: str, landing_path: str,
                 referrer: str, own: bool) -> None:
    """One click row: written behind the response in a batch, or at once for the advocate's own click
    (the fraud rules compare friends' orders with those)."""
    row = (shop_id, advocate_id, connection.ops.adapt_datetimefield_value(timezone.now()), ip_hash, user_agent[:500],
           landing_path[:500], (urlsplit(referrer).hostname or "")[:255], own)
    if own:
        clicks_insert([row])
    else:
        click_log.add(row)


def discount_url(advocate: Advocate, *, to: str = "/") -> str:
    """The store's own discount link: Shopify applies the code and lands the friend on `to` (a path
    on the store: the home page, or a product's page)."""
    return shop_url(advocate.shop.domain, f"/discount/{quote(advocate.code)}?redirect={quote(to, safe='/')}")


def referral_link(advocate: Advocate) -> str:
    return f"{settings.APP_URL}/r/{advocate.code}"


def store_referral_link(advocate: Advocate) -> str:
    """The same link on the store's own domain, through the app proxy."""
    return shop_url(advocate.shop.domain, f"/apps/advocate/referrals/r/{advocate.code}")


def referral_decide(*, shop: Shop, referral: Referral, approve: bool, actor: str, note: str = "") -> Referral:
    """The merchant's decision: approving a flagged referral puts it into the normal hold; rejecting
    a flagged or held one ends it. Referral.DoesNotExist for another shop's referral; ValueError
    when it is past deciding (a double submit decides once).
    """
    if referral.shop_id != shop.pk:
        raise Referral.DoesNotExist("no such referral in this shop")
    status = Referral.Status.PENDING if approve else Referral.Status.REJECTED
    from_states = [Referral.Status.FLAGGED] if approve else [Referral.Status.FLAGGED, Referral.Status.PENDING]
    now = timezone.now()
    decided = Referral.objects.filter(pk=referral.pk, shop=shop, status__in=from_states).update(
        status=status, decided_at=now, decided_by=actor[:255], decision_note=note[:255])
    referral.refresh_from_db()
    if not decided:
        raise ValueError(f"This referral is already {referral.get_status_display().lower()}.")
    return referral


def advocate_balance(advocate: Advocate) -> Decimal:
    """Credit Shopify confirmed for this advocate: the sum of their ledger."""
    return CreditEntry.objects.filter(advocate=advocate).confirmed().balance()
