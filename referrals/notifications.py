"""The advocate's news: a friend ordered with their link or code, their store credit was issued,
or a refunded friend's reward was taken back.

The first two are marketing (the advocate asked for nothing): every opt-out and the case pause
apply. The third is account news (their balance changed), sent like a case reply.
Each is claimed by a timestamp with a conditional UPDATE before it is sent, so a rerun or a
second worker never sends it twice; a failed send releases the claim for the next sweep. A
blocked one stays claimed: old news is not sent later when the block lifts.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Callable

from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from referrals.models import CreditEntry, Referral
from referrals.sharing import share_link
from shopapp.languages import money_format, shopper_language
from shopapp.mail import Audience, email_send, unsubscribe_url

log = logging.getLogger(__name__)

# Older news is not worth an email (and a restored backup must not send a burst of it).
NEWS_WINDOW = timedelta(days=7)
# A flagged referral waits for the merchant's decision; rejected and void ones are no news.
TOLD_STATUSES = (Referral.Status.PENDING, Referral.Status.APPROVED, Referral.Status.ISSUED)


def referral_advocate_tell(*, referral_id: int, now: datetime | None = None) -> bool:
    """Tell the advocate a friend ordered (never who: the friend's name is theirs); once."""
    now = now or timezone.now()
    claimed = Referral.objects.filter(pk=referral_id, advocate_told_at__isnull=True,
                                      status__in=TOLD_STATUSES).update(advocate_told_at=now)
    if not claimed:
        return False
    referral = Referral.objects.select_related("shop", "advocate__customer").get(pk=referral_id)
    with translation.override(_language(referral.advocate)):
        context = _context(referral.advocate, amount=referral.reward_amount, currency=referral.currency)
        return _send(referral.advocate, "referrals/email/friend_ordered",
                     _("A friend ordered from %(shop)s") % {"shop": context["shop_name"]},
                     context, release=lambda: Referral.objects.filter(pk=referral_id).update(advocate_told_at=None))


def credit_advocate_tell(*, entry_id: int) -> bool:
    """Tell the advocate their store credit was issued; once (a reward code has its own email)."""
    claimed = CreditEntry.objects.filter(pk=entry_id, notified_at__isnull=True, method=CreditEntry.Method.STORE_CREDIT,
                                         status=CreditEntry.Status.CONFIRMED, amount__gt=0).update(
        notified_at=timezone.now())
    if not claimed:
        return False
    entry = CreditEntry.objects.select_related("shop", "advocate__customer").get(pk=entry_id)
    with translation.override(_language(entry.advocate)):
        context = _context(entry.advocate, amount=entry.amount, currency=entry.currency)
        return _send(entry.advocate, "referrals/email/credit_issued",
                     _("%(amount)s store credit from %(shop)s") % {"amount": context["amount"],
                                                                  "shop": context["shop_name"]}, context,
                     release=lambda: CreditEntry.objects.filter(pk=entry_id).update(notified_at=None))


def reversal_advocate_tell(*, referral_id: int) -> bool:
    """Tell the advocate a paid reward was taken back, and how; once (claimed on the first step's entry).

    Account news, not marketing: the advocate's balance changed and they are owed the reason."""
    steps = CreditEntry.objects.filter(referral_id=referral_id).filter(
        Q(key__startswith=f"reversal:{referral_id}:") | Q(key__startswith=f"owed:{referral_id}:"))
    first = steps.order_by("pk").first()
    if first is None or not CreditEntry.objects.filter(pk=first.pk, notified_at__isnull=True).update(
            notified_at=timezone.now()):
        return False
    referral = Referral.objects.select_related("shop", "advocate__customer").get(pk=referral_id)
    settled = steps.filter(status=CreditEntry.Status.CONFIRMED)
    debited = -(settled.filter(method=CreditEntry.Method.STORE_CREDIT).balance())
    owed = -(settled.filter(method=CreditEntry.Method.OFFSET).balance())
    paid = CreditEntry.objects.filter(referral_id=referral_id, key__startswith=f"reward:{referral_id}").confirmed()
    try:
        with translation.override(_language(referral.advocate)):
            context = _context(referral.advocate, amount=debited, currency=referral.currency)
            context.update(reward=money_format(paid.balance(), referral.currency),
                           debited=money_format(debited, referral.currency) if debited else "",
                           owed=money_format(owed, referral.currency) if owed else "")
            return email_send(shop=referral.shop, audience=Audience.CUSTOMER, customer=referral.advocate.customer,
                              subject=_("About your referral reward from %(shop)s") % {"shop": context["shop_name"]},
                              text=render_to_string("referrals/email/credit_reversed.txt", context),
                              html=render_to_string("referrals/email/credit_reversed.html", context))
    except Exception:
        log.exception("reversal news for referral %s could not be sent; the sweep retries", referral_id)
        CreditEntry.objects.filter(pk=first.pk).update(notified_at=None)
        return False


def _language(advocate) -> str:
    """The advocate's language: the one they last ordered in, else the shop's."""
    return shopper_language(advocate.shop, customer=advocate.customer)


def _context(advocate, *, amount, currency) -> dict:
    """In the active language: the amount is written as it writes money."""
    shop, customer = advocate.shop, advocate.customer
    return {"shop": shop, "shop_name": shop.name or shop.domain, "first_name": customer.first_name,
            "amount": money_format(amount, currency) if amount else "", "currency": currency,
            "page": share_link(advocate), "unsubscribe": unsubscribe_url(customer)}


def _send(advocate, template: str, subject: str, context: dict, *, release: Callable[[], object]) -> bool:
    try:
        return email_send(shop=advocate.shop, audience=Audience.MARKETING, customer=advocate.customer, subject=subject,
                          text=render_to_string(f"{template}.txt", context),
                          html=render_to_string(f"{template}.html", context))
    except Exception:
        log.exception("advocate %s news could not be sent; the sweep retries", advocate.pk)
        release()
        return False


def advocate_news_sweep(now: datetime | None = None) -> None:
    """The sweeper: recent referrals and store credit the advocate was not told of yet."""
    now = now or timezone.now()
    referrals = Referral.objects.filter(advocate_told_at__isnull=True, status__in=TOLD_STATUSES,
                                        created_at__gte=now - NEWS_WINDOW, shop__uninstalled_at__isnull=True)
    for pk in list(referrals.values_list("pk", flat=True)[:200]):
        referral_advocate_tell(referral_id=pk, now=now)
    credits = CreditEntry.objects.filter(notified_at__isnull=True, method=CreditEntry.Method.STORE_CREDIT,
                                         status=CreditEntry.Status.CONFIRMED, amount__gt=0,
                                         confirmed_at__gte=now - NEWS_WINDOW, shop__uninstalled_at__isnull=True)
    for pk in list(credits.values_list("pk", flat=True)[:200]):
        credit_advocate_tell(entry_id=pk)
    reversed_ = Referral.objects.filter(status=Referral.Status.REVERSED, reversal_due_at__isnull=True,
                                        decided_at__gte=now - NEWS_WINDOW, shop__uninstalled_at__isnull=True) \
        .filter(Q(credit_entries__key__startswith="reversal:") | Q(credit_entries__key__startswith="owed:"),
                credit_entries__notified_at__isnull=True).distinct()
    for pk in list(reversed_.values_list("pk", flat=True)[:200]):
        reversal_advocate_tell(referral_id=pk)
