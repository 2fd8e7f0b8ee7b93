"""The referral invitation: one email after the advocate's order is fulfilled, with their link.

The due time is a row (Advocate.invite_due_at); the sweep claims it with a conditional
UPDATE, so two workers never send it twice and a lost job is picked up again.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _, gettext_noop

from referrals.models import Advocate, ProgramSettings
from referrals.services import referral_link
from referrals.sharing import reward_label, share_link, share_message, share_subject, share_targets
from shopapp.languages import shopper_language
from shopapp.mail import Audience, email_send, marketing_blocked, unsubscribe_url
from shopapp.models import Order

log = logging.getLogger(__name__)

RETRY_AFTER = timedelta(hours=1)


def invite_delay() -> timedelta:
    """An hour after fulfilment, in the app's (possibly compressed) days."""
    return settings.ADVOCATE_DAY / 24


def advocate_invite_schedule(*, order: Order) -> bool:
    """A fulfilled, kept order makes its buyer's invitation due, once per advocate."""
    if not order.fulfilled_at or order.is_refunded_or_cancelled or order.customer_id is None:
        return False
    return bool(Advocate.objects.filter(customer_id=order.customer_id, invite_due_at__isnull=True,
                                        invited_at__isnull=True).update(invite_due_at=order.fulfilled_at + invite_delay()))


def advocate_invites_sweep(now: datetime | None = None) -> int:
    now = now or timezone.now()
    due = Advocate.objects.filter(
        invite_due_at__lte=now, invited_at__isnull=True, code_state=Advocate.CodeState.CREATED,
        shop__uninstalled_at__isnull=True,
    )
    sent = 0
    for pk in list(due.order_by("invite_due_at").values_list("pk", flat=True)[:500]):
        sent += advocate_invite_send(advocate_id=pk, now=now)
    return sent


def advocate_invite_send(*, advocate_id: int, now: datetime | None = None) -> bool:
    """Send the invitation once; never to a customer who opted out or has an open case."""
    now = now or timezone.now()
    claimed = Advocate.objects.filter(pk=advocate_id, invited_at__isnull=True, invite_due_at__lte=now).update(
        invited_at=now)
    if not claimed:
        return False
    advocate = Advocate.objects.select_related("shop", "customer").get(pk=advocate_id)
    program = ProgramSettings.for_shop(advocate.shop)
    reason = invite_block_reason(advocate, program)
    if reason:
        Advocate.objects.filter(pk=advocate.pk).update(invite_skip_reason=reason[:255])
        return False
    subject, text, html = invitation_email(advocate, program)
    try:
        sent = email_send(shop=advocate.shop, audience=Audience.MARKETING, customer=advocate.customer,
                          subject=subject, text=text, html=html)
    except Exception:
        # Nothing went out: due again later rather than lost.
        log.exception("referral invitation for advocate %s could not be sent", advocate.pk)
        Advocate.objects.filter(pk=advocate.pk).update(invited_at=None, invite_due_at=now + RETRY_AFTER)
        return False
    if not sent:  # a block that arrived between the check above and the send
        Advocate.objects.filter(pk=advocate.pk).update(invite_skip_reason=gettext_noop("blocked when it was due to be sent"))
    return sent


def invite_block_reason(advocate: Advocate, program: ProgramSettings) -> str | None:
    """Why the invitation must not go to this advocate now (also the past-buyer campaign's preview); None if it may."""
    if not program.enabled:
        return gettext_noop("the referral program is paused")
    if advocate.status != Advocate.Status.ACTIVE:
        return gettext_noop("the advocate's code is paused")
    return marketing_blocked(advocate.shop, advocate.customer)


def invitation_email(advocate: Advocate, program: ProgramSettings) -> tuple[str, str, str]:
    """(subject, text, html) of the invitation, in the language the advocate ordered in."""
    shop = advocate.shop
    shop_name = shop.name or shop.domain
    link = referral_link(advocate)
    with translation.override(shopper_language(shop, customer=advocate.customer)):
        offer = program.offer_label(shop.currency)
        context = {
            "shop": shop, "shop_name": shop_name, "first_name": advocate.customer.first_name,
            "link": link, "code": advocate.code, "offer": offer, "reward": reward_label(program, shop.currency),
            "page": share_link(advocate), "unsubscribe": unsubscribe_url(advocate.customer),
            "targets": share_targets(link=link, message=share_message(advocate, program), subject=share_subject(shop)),
        }
        subject = _("Give your friends %(offer)s at %(shop)s") % {"offer": offer, "shop": shop_name}
        return (subject, render_to_string("referrals/email/invitation.txt", context),
                render_to_string("referrals/email/invitation.html", context))

