"""NPS: one question per order ("How likely are you to recommend {shop} to a friend?", 0-10), asked
in the review request or in an email of its own after delivery, answered with one click.

Nothing here touches reviews or incentives: a score changes nothing a customer is offered for a review.
"""
from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _, pgettext_lazy

from shopapp.models import Customer, Order, Shop, ShopScopedQuerySet

PROMOTER_FROM = 9  # 9 and 10
DETRACTOR_UP_TO = 6  # 0 to 6


class NpsSettings(models.Model):
    """Whether the shop asks, and where: in its review request or in an email of its own."""

    class Mode(models.TextChoices):
        IN_REQUEST = "in_request", _("In the review request email")
        OWN_EMAIL = "own_email", _("In an email of its own, after delivery")

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="nps_settings")
    enabled = models.BooleanField(default=False)
    mode = models.CharField(max_length=12, choices=Mode.choices, default=Mode.IN_REQUEST)
    delay_days = models.PositiveSmallIntegerField(
        default=7, validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text="days after delivery (or fulfilment, when Shopify never reports delivery)")

    @classmethod
    def for_shop(cls, shop: Shop) -> "NpsSettings":
        settings, _ = cls.objects.get_or_create(shop=shop)
        return settings


class NpsSurveyQuerySet(ShopScopedQuerySet):
    def answered(self):
        return self.filter(score__isnull=False)


class NpsSurvey(models.Model):
    """One order's question: asked at most once, answered (and changed) with the link it was sent with."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", pgettext_lazy("an NPS question's status", "Scheduled")
        # claimed by a worker; a worker that died here is never resent (no second email)
        SENDING = "sending", pgettext_lazy("an NPS question's status", "Sending")
        SENT = "sent", pgettext_lazy("an NPS question's status", "Sent")
        SKIPPED = "skipped", pgettext_lazy("an NPS question's status", "Skipped")
        CANCELLED = "cancelled", pgettext_lazy("an NPS question's status", "Cancelled")

    class Channel(models.TextChoices):
        REQUEST = "request", _("Review request")
        EMAIL = "email", _("Its own email")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="nps_surveys")
    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="nps_survey")
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="nps_surveys")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    due_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    skip_reason = models.CharField(max_length=200, blank=True)
    score = models.PositiveSmallIntegerField(null=True, blank=True,
                                             validators=[MinValueValidator(0), MaxValueValidator(10)])
    comment = models.TextField(max_length=1000, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True, help_text="the first answer (the dashboard's day)")
    updated_at = models.DateTimeField(null=True, blank=True, help_text="the latest change of the answer")
    redacted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = NpsSurveyQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(score__isnull=True) | models.Q(score__gte=0, score__lte=10),
                                   name="nps_score_0_to_10"),
        ]
        indexes = [
            models.Index(fields=["status", "due_at"]),
            models.Index(fields=["shop", "answered_at"]),
            models.Index(fields=["customer", "sent_at"]),
        ]
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"NPS question for {self.order} ({self.status})"

    @property
    def category(self) -> str:
        """promoter, passive or detractor ("" before an answer)."""
        if self.score is None:
            return ""
        if self.score >= PROMOTER_FROM:
            return "promoter"
        return "detractor" if self.score <= DETRACTOR_UP_TO else "passive"
