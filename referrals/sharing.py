"""The advocate's own page: the signed link that opens it, and the ways to pass their link on."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote, urlencode

from django.db.models import Sum
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _

from referrals.models import ZERO, Advocate, CreditEntry, ProgramSettings, Referral
from referrals.services import store_referral_link
from shopapp.languages import money_format, percent_format
from shopapp.links import LinkInvalid, absolute, link_read, link_token
from shopapp.mail import marketing_blocked
from shopapp.models import Customer, Shop

SHARE_PURPOSE = "referral-share"
SHARE_MAX_AGE = timedelta(days=365)
FRIENDS_SHOWN = 50


def share_token(advocate: Advocate) -> str:
    return link_token(SHARE_PURPOSE, advocate.pk)


def share_link(advocate: Advocate) -> str:
    """The absolute address of the advocate's own page, for emails."""
    return absolute(reverse("referral-share", args=[share_token(advocate)]))


def advocate_for_share_token(token: str) -> Advocate:
    """The advocate a share link names; LinkInvalid when bad, expired, or the shop is gone."""
    advocate_id, _ = link_read(SHARE_PURPOSE, token, max_age=SHARE_MAX_AGE)
    advocate = Advocate.objects.select_related("shop", "customer").filter(
        pk=advocate_id, shop__uninstalled_at__isnull=True).first()
    if advocate is None or advocate.customer.redacted_at:
        raise LinkInvalid("gone")
    return advocate


def advocate_for_customer(shop: Shop, shopify_customer_id) -> Advocate | None:
    """The logged-in customer's advocate row in this shop (from the verified proxy request)."""
    try:
        customer_id = int(shopify_customer_id)
    except (TypeError, ValueError):
        return None
    customer = Customer.objects.filter(shop=shop, shopify_id=customer_id, redacted_at__isnull=True).first()
    if customer is None:
        return None
    return Advocate.objects.select_related("shop", "customer").filter(customer=customer).first()


@dataclass(frozen=True)
class ShareTarget:
    key: str
    label: str
    url: str


def share_targets(*, link: str, message: str, subject: str) -> list[ShareTarget]:
    """Plain links every phone understands: no script, no tracking pixels from the networks."""
    text = f"{message} {link}"
    return [
        ShareTarget("whatsapp", "WhatsApp", f"https://wa.me/?{urlencode({'text': text})}"),
        ShareTarget("sms", _("Text message"), f"sms:?&body={quote(text)}"),
        ShareTarget("email", _("Email"), f"mailto:?{urlencode({'subject': subject, 'body': text}, quote_via=quote)}"),
        ShareTarget("x", "X", f"https://x.com/intent/post?{urlencode({'text': message, 'url': link})}"),
        ShareTarget("facebook", "Facebook", f"https://www.facebook.com/sharer/sharer.php?{urlencode({'u': link})}"),
    ]


def advocate_summary(advocate: Advocate) -> dict:
    """What the advocate's page shows: their friends (first names only) and their credit."""
    referrals = Referral.objects.filter(advocate=advocate).exclude(status=Referral.Status.REJECTED)
    friends = [
        {"first_name": (r.friend.first_name if r.friend and not r.friend.redacted_at else "") or _("A friend"),
         "status": _friend_status(r.status), "at": r.created_at}
        for r in referrals.select_related("friend").only(
            "status", "created_at", "friend__first_name", "friend__redacted_at")[:FRIENDS_SHOWN]
    ]
    pending = referrals.filter(status__in=[Referral.Status.PENDING, Referral.Status.APPROVED,
                                           Referral.Status.FLAGGED]).aggregate(s=Sum("reward_amount"))["s"] or ZERO
    earned = CreditEntry.objects.filter(advocate=advocate).confirmed().balance()
    return {"friends": friends, "friend_count": referrals.count(), "pending": pending, "earned": earned}


def _friend_status(status: str) -> str:
    if status == Referral.Status.ISSUED:
        return _("Credit earned")
    if status == Referral.Status.VOID:
        return _("Order returned")
    return _("Ordered: credit on the way")


def share_message(advocate: Advocate, program: ProgramSettings) -> str:
    """What the advocate's message to a friend says before the link, in the active language."""
    shop_name = advocate.shop.name or advocate.shop.domain
    return _("Here's %(offer)s at %(shop)s:") % {"offer": program.offer_label(advocate.shop.currency), "shop": shop_name}


def share_subject(shop: Shop) -> str:
    return _("A gift from %(shop)s") % {"shop": shop.name or shop.domain}



def reward_label(program: ProgramSettings, currency: str) -> str:
    """What the advocate earns per friend, in words."""
    if program.reward_kind == ProgramSettings.RewardKind.FIXED:
        return _("%(amount)s in store credit") % {"amount": money_format(program.reward_value, currency)}
    percent = percent_format(program.reward_value)
    if program.reward_cap:
        return _("%(percent)s of their order in store credit (up to %(cap)s)") % {
            "percent": percent, "cap": money_format(program.reward_cap, currency)}
    return _("%(percent)s of their order in store credit") % {"percent": percent}


def review_thanks_block(shop: Shop, reviews: list) -> str | None:
    """On the review thank-you page, a reviewer whose every rating here is 4 or 5 stars is offered
    their referral link, when the program runs, their code exists and nothing pauses marketing to
    them (an open case, say). Only this page's wording follows the rating."""
    customers = {r.customer for r in reviews if r.customer_id}
    if not reviews or min(r.rating for r in reviews) < 4 or len(customers) != 1:
        return None
    return link_offer_block(shop, customers.pop())


def link_offer_block(shop: Shop, customer: Customer) -> str | None:
    """The customer's own referral link, offered on a thank-you page (a happy review's, or a promoter's
    NPS answer): when the program runs, their code exists and nothing pauses marketing to them."""
    config = ProgramSettings.for_shop(shop)
    advocate = Advocate.objects.filter(shop=shop, customer=customer, code_state=Advocate.CodeState.CREATED).first()
    if not config.enabled or advocate is None or customer.redacted_at or marketing_blocked(shop, customer):
        return None
    return render_to_string("referrals/review_thanks.html", {
        "link": store_referral_link(advocate), "offer": config.offer_label(shop.currency, whose="their"),
        "share_url": share_link(advocate), "shop": shop})
