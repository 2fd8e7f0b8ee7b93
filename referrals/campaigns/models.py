"""Past buyers as advocates: customers who ordered before Advocate was installed get a referral code
(a switch, off by default), and an optional invitation campaign tells them about it, throttled."""
from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from referrals.models import Advocate
from shopapp.models import Customer, Shop, ShopScopedQuerySet


class PastBuyerSettings(models.Model):
    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="past_buyer_settings")
    enrol = models.BooleanField(default=False)
    switched_on_at = models.DateTimeField(null=True, blank=True)

    @classmethod
    def for_shop(cls, shop: Shop) -> "PastBuyerSettings":
        settings, _ = cls.objects.get_or_create(shop=shop)
        return settings


class PastBuyer(models.Model):
    """A customer enrolled as an advocate because they ordered before the program (one row per customer)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="past_buyers")
    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="past_buyer")
    advocate = models.ForeignKey(Advocate, on_delete=models.CASCADE, related_name="+")
    enrolled_at = models.DateTimeField(default=timezone.now)

    objects = ShopScopedQuerySet.as_manager()


class InviteCampaign(models.Model):
    """One invitation campaign to the shop's past buyers, sent at `per_day`."""

    class Status(models.TextChoices):
        RUNNING = "running", pgettext_lazy("campaign status", "Sending")
        DONE = "done", pgettext_lazy("campaign status", "Done")
        CANCELLED = "cancelled", pgettext_lazy("campaign status", "Cancelled")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="invite_campaigns")
    per_day = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(1000)])
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    starts_at = models.DateTimeField()
    preview_count = models.PositiveIntegerField(default=0)
    started_by = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = ShopScopedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop"], condition=models.Q(status="running"),
                                               name="one_running_invite_campaign_per_shop")]
        ordering = ["-created_at", "-pk"]


class CampaignInvite(models.Model):
    """One past buyer's invitation in a campaign: at most one per advocate, ever."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled"
        SENDING = "sending"
        HANDED = "handed", "Handed to the invitation email"  # its outcome is the advocate's (invited_at, skip reason)
        SKIPPED = "skipped"

    campaign = models.ForeignKey(InviteCampaign, on_delete=models.CASCADE, related_name="invites")
    advocate = models.OneToOneField(Advocate, on_delete=models.CASCADE, related_name="campaign_invite")
    slot = models.PositiveIntegerField()
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    skip_reason = models.CharField(max_length=255, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "due_at"])]
        ordering = ["slot"]
