"""The referral part of what the checkout and customer-account extensions show (shopapp.buyer_api).

A logged-in buyer sees their own link once Advocate has made it; a guest is told it comes by
email (the invitation after their order ships), since nothing in a guest's request says who
they are. While something pauses asks to the customer (an open case), there is no referral part.
"""
from __future__ import annotations

from referrals.models import Advocate, ProgramSettings
from referrals.services import store_referral_link
from referrals.sharing import advocate_summary, reward_label, share_link, share_message, share_subject, share_targets
from shopapp.languages import money_format
from shopapp.mail import marketing_paused

# The thank-you page usually opens before Advocate has the order (its webhook follows within
# seconds) or the new advocate's code (a job): the extension asks again after this many seconds.
PREPARING_RETRY_SECONDS = 4


def buyer_referral(buyer) -> dict | None:
    shop = buyer.shop
    program = ProgramSettings.for_shop(shop)
    if not program.enabled:
        return None
    terms = {"friend_offer": program.offer_label(shop.currency, whose="their"),
             "reward": reward_label(program, shop.currency)}
    if not buyer.logged_in:
        return {"referral": {"state": "by_email", **terms}} if buyer.surface == "thank-you" else None
    customer = buyer.customer
    if customer is not None and marketing_paused(shop, customer):
        return None
    advocate = Advocate.objects.filter(shop=shop, customer=customer).first() if customer else None
    if advocate is not None:
        advocate.shop, advocate.customer = shop, customer  # both known already: no query to load them again
    if advocate is None or advocate.code_state == Advocate.CodeState.PENDING:
        if buyer.surface != "thank-you" and advocate is None:
            return None  # no paid order yet: there is no link to wait for
        return {"referral": {"state": "preparing", "retry_after": PREPARING_RETRY_SECONDS, **terms}}
    if advocate.code_state != Advocate.CodeState.CREATED or advocate.status != Advocate.Status.ACTIVE:
        return None
    link = store_referral_link(advocate)
    message = share_message(advocate, program)
    subject = share_subject(shop)
    part = {"referral": {
        "state": "ready", "link": link, "share_url": share_link(advocate), "share_message": message,
        "share_targets": [{"label": t.label, "url": t.url} for t in share_targets(link=link, message=message, subject=subject)],
        **terms,
    }}
    if buyer.surface in ("account", "profile"):
        summary = advocate_summary(advocate)
        part["account"] = {
            "friends": [{"first_name": f["first_name"], "status": f["status"]} for f in summary["friends"]],
            "friend_count": summary["friend_count"],
            "credit_earned": money_format(summary["earned"], shop.currency),
            "credit_pending": money_format(summary["pending"], shop.currency),
        }
    return part
