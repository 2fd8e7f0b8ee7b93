"""Past buyers as advocates: enrolment through referrals' own path, and a throttled invitation campaign.

Enrolment (off by default) gives every customer with a non-cancelled order placed before Advocate
was installed an advocate row through `advocate_enrol`, whose job makes the Shopify discount code
once (looked up before any retry after an ambiguous answer). The campaign invites those past buyers
with the ordinary invitation email (`advocate_invite_send`: once per advocate, opt-outs, the case and
Flow pauses), only those who accepted email marketing in Shopify, `per_day` a day, each at most once.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from referrals.campaigns.models import CampaignInvite, InviteCampaign, PastBuyer, PastBuyerSettings
from referrals.invitations import advocate_invite_send, invite_block_reason
from referrals.models import Advocate, ProgramSettings
from referrals.services import CODE_MAX_ATTEMPTS, advocate_enrol
from shopapp.jobs import enqueue
from shopapp.models import Customer, Shop

ENROL_BATCH = 200  # customers enrolled per shop and sweep: their codes are Shopify calls, spread out
WAIT_FOR_CODE = timedelta(hours=1)
# Reasons are stored and counted in English; the panel shows them in the merchant's language.
NO_CONSENT = gettext_noop("has not accepted email marketing in Shopify")
ALREADY_INVITED = gettext_noop("already invited")
NO_CODE = gettext_noop("no referral code: Shopify refused to make it")
I = CampaignInvite.Status


# --- enrolment ----------------------------------------------------------------------

def past_buyers(shop: Shop):
    """Customers with a non-cancelled order placed before Advocate was installed (an email to reach them)."""
    if shop.installed_at is None:
        return Customer.objects.none()
    return (Customer.objects.filter(shop=shop, redacted_at__isnull=True, orders__placed_at__lt=shop.installed_at,
                                    orders__cancelled_at__isnull=True).exclude(email="").distinct())


def past_buyers_switch(*, shop: Shop, enrol: bool) -> PastBuyerSettings:
    config = PastBuyerSettings.for_shop(shop)
    PastBuyerSettings.objects.filter(pk=config.pk).update(enrol=enrol, switched_on_at=timezone.now() if enrol else None)
    if enrol:
        enqueue(past_buyers_enrol_job, shop.pk)
    config.refresh_from_db()
    return config


def past_buyers_enrol_job(shop_id: int) -> int:
    shop = Shop.objects.installed().filter(pk=shop_id).first()
    return past_buyers_enrol(shop=shop) if shop else 0


def past_buyers_enrol(*, shop: Shop, limit: int = ENROL_BATCH) -> int:
    """Enrol the next past buyers; safe to run twice or at once (enrolment and the row are each once)."""
    if not PastBuyerSettings.for_shop(shop).enrol:
        return 0
    enrolled = 0
    for customer in list(past_buyers(shop).filter(past_buyer__isnull=True).order_by("pk")[:limit]):
        advocate = advocate_enrol(shop=shop, customer=customer)  # an advocate already: the same row
        try:
            with transaction.atomic():
                PastBuyer.objects.create(shop=shop, customer=customer, advocate=advocate)
            enrolled += 1
        except IntegrityError:  # another worker enrolled them first
            continue
    return enrolled


# --- the invitation campaign --------------------------------------------------------

@dataclass
class InvitePreview:
    advocates: list[Advocate] = field(default_factory=list)
    waiting_for_code: int = 0
    excluded: Counter = field(default_factory=Counter)

    @property
    def count(self) -> int:
        return len(self.advocates)

    @property
    def excluded_rows(self) -> list[tuple[str, int]]:
        return self.excluded.most_common()


def invite_reason(advocate: Advocate, program: ProgramSettings) -> str | None:
    """Why a past buyer must not be invited now (the preview and the send ask the same); None if they may."""
    if advocate.invited_at or advocate.invite_due_at:
        return ALREADY_INVITED
    if advocate.customer.marketing != Customer.Marketing.SUBSCRIBED:
        return NO_CONSENT
    if advocate.code_state == Advocate.CodeState.FAILED and advocate.code_attempts >= CODE_MAX_ATTEMPTS:
        return NO_CODE
    return invite_block_reason(advocate, program)


def invite_preview(shop: Shop) -> InvitePreview:
    """Who a campaign started now would invite, and who it leaves out and why."""
    program = ProgramSettings.for_shop(shop)
    preview = InvitePreview()
    rows = (PastBuyer.objects.for_shop(shop).filter(advocate__campaign_invite__isnull=True)
            .select_related("advocate__customer", "advocate__shop").order_by("pk"))
    for row in rows:
        reason = invite_reason(row.advocate, program)
        if reason:
            preview.excluded[reason] += 1
            continue
        preview.advocates.append(row.advocate)
        preview.waiting_for_code += row.advocate.code_state != Advocate.CodeState.CREATED
    return preview


def invite_campaign_start(*, shop: Shop, per_day: int, actor: str,
                          now: datetime | None = None) -> tuple[InviteCampaign, bool]:
    """Start the campaign (one running per shop): (campaign, created). Each invitation is due at its slot."""
    now = now or timezone.now()
    running = InviteCampaign.objects.for_shop(shop).filter(status=InviteCampaign.Status.RUNNING).first()
    if running is not None:
        return running, False
    preview = invite_preview(shop)
    try:
        with transaction.atomic():
            campaign = InviteCampaign.objects.create(shop=shop, per_day=per_day, starts_at=now,
                                                     preview_count=preview.count, started_by=actor[:100])
            CampaignInvite.objects.bulk_create([
                CampaignInvite(campaign=campaign, advocate=advocate, slot=slot,
                               due_at=now + slot * settings.ADVOCATE_DAY / per_day)
                for slot, advocate in enumerate(preview.advocates)
            ])
    except IntegrityError:  # another start won the race (or invited one of them first)
        return InviteCampaign.objects.for_shop(shop).get(status=InviteCampaign.Status.RUNNING), False
    return campaign, True


def invite_campaign_cancel(*, campaign: InviteCampaign) -> int:
    """Stop the campaign: invitations not handed over yet are dropped (they may be invited later)."""
    InviteCampaign.objects.filter(pk=campaign.pk, status=InviteCampaign.Status.RUNNING).update(
        status=InviteCampaign.Status.CANCELLED, ended_at=timezone.now())
    dropped, _ = CampaignInvite.objects.filter(campaign=campaign, status=I.SCHEDULED).delete()
    campaign.refresh_from_db()
    return dropped


def campaign_invite_send(*, invite_id: int, now: datetime | None = None) -> bool:
    """Hand one due invitation to the invitation email, once; the rules are read again now."""
    now = now or timezone.now()
    if not CampaignInvite.objects.filter(pk=invite_id, status=I.SCHEDULED,
                                         campaign__status=InviteCampaign.Status.RUNNING).update(status=I.SENDING):
        return False
    invite = CampaignInvite.objects.select_related("advocate__customer", "advocate__shop").get(pk=invite_id)
    advocate = invite.advocate
    reason = invite_reason(advocate, ProgramSettings.for_shop(advocate.shop))
    if reason is None and advocate.code_state != Advocate.CodeState.CREATED:
        # The code is still being made in Shopify: the invitation waits for it.
        CampaignInvite.objects.filter(pk=invite_id).update(status=I.SCHEDULED, due_at=now + WAIT_FOR_CODE)
        return False
    if reason:
        CampaignInvite.objects.filter(pk=invite_id).update(status=I.SKIPPED, skip_reason=reason[:255])
        return False
    Advocate.objects.filter(pk=advocate.pk, invited_at__isnull=True, invite_due_at__isnull=True).update(invite_due_at=now)
    CampaignInvite.objects.filter(pk=invite_id).update(status=I.HANDED)
    return advocate_invite_send(advocate_id=advocate.pk, now=now)


def campaigns_sweep(now: datetime | None = None) -> None:
    """Enrol the next past buyers, send due invitations, close campaigns with nothing left."""
    now = now or timezone.now()
    for shop in Shop.objects.installed().filter(past_buyer_settings__enrol=True):
        past_buyers_enrol(shop=shop)
    due = CampaignInvite.objects.filter(status=I.SCHEDULED, due_at__lte=now, campaign__status="running",
                                        campaign__shop__uninstalled_at__isnull=True)
    for pk in list(due.order_by("due_at").values_list("pk", flat=True)[:500]):
        campaign_invite_send(invite_id=pk, now=now)
    finished = InviteCampaign.objects.filter(status=InviteCampaign.Status.RUNNING).exclude(
        invites__status__in=[I.SCHEDULED, I.SENDING])
    InviteCampaign.objects.filter(pk__in=list(finished.values_list("pk", flat=True))).update(
        status=InviteCampaign.Status.DONE, ended_at=now)


@dataclass(frozen=True)
class CampaignProgress:
    total: int
    waiting: int
    sent: int
    held: int
    reasons: list[tuple[str, int]]


def campaign_progress(campaign: InviteCampaign) -> CampaignProgress:
    invites = CampaignInvite.objects.filter(campaign=campaign)
    sent = Q(status=I.HANDED, advocate__invited_at__isnull=False, advocate__invite_skip_reason="")
    counts = invites.aggregate(total=Count("pk"), waiting=Count("pk", filter=Q(status__in=[I.SCHEDULED, I.SENDING])),
                               sent=Count("pk", filter=sent))
    skipped = Counter(invites.filter(status=I.SKIPPED).values_list("skip_reason", flat=True))
    skipped.update(invites.filter(status=I.HANDED).exclude(advocate__invite_skip_reason="")
                   .values_list("advocate__invite_skip_reason", flat=True))
    return CampaignProgress(counts["total"], counts["waiting"], counts["sent"], sum(skipped.values()),
                            skipped.most_common())
