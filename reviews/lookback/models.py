"""Look-back review requests: one run asks the customers of orders fulfilled in a past window,
through the ordinary ReviewRequest rows, spread over days at the merchant's rate."""
from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from reviews.models import ReviewRequest
from shopapp.models import Shop, ShopScopedQuerySet


class LookbackRun(models.Model):
    class Status(models.TextChoices):
        # SCHEDULING: a job is creating its requests.
        SCHEDULING = "scheduling", pgettext_lazy("a look-back run's status", "Scheduling")
        RUNNING = "running", pgettext_lazy("a look-back run's status", "Sending")
        DONE = "done", pgettext_lazy("a look-back run's status", "Done")
        CANCELLED = "cancelled", pgettext_lazy("a look-back run's status", "Cancelled")

    ACTIVE = (Status.SCHEDULING, Status.RUNNING)

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="lookback_runs")
    newest_days = models.PositiveSmallIntegerField(validators=[MaxValueValidator(730)])
    oldest_days = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(730)])
    per_day = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(1000)])
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULING)
    # Fixed when the run starts, so a resumed scheduling job plans exactly what the first one did.
    starts_at = models.DateTimeField(help_text="the first send; the n-th goes out n/per_day days later")
    fulfilled_from = models.DateTimeField()
    fulfilled_until = models.DateTimeField()
    preview_emails = models.PositiveIntegerField(default=0)
    preview_customers = models.PositiveIntegerField(default=0)
    preview_products = models.PositiveIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)  # one scheduling job at a time
    started_by = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    scheduled_at = models.DateTimeField(null=True, blank=True, help_text="when every request was created")
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = ShopScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            # A double click, or two staff members at once, start one run.
            models.UniqueConstraint(fields=["shop"], condition=models.Q(status__in=["scheduling", "running"]),
                                    name="one_active_lookback_run_per_shop"),
            models.CheckConstraint(condition=models.Q(newest_days__lt=models.F("oldest_days")),
                                   name="lookback_window_newest_before_oldest"),
        ]
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"look-back run {self.pk} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE


class LookbackRequest(models.Model):
    """A review request the run created, and its place in the run's order."""

    run = models.ForeignKey(LookbackRun, on_delete=models.CASCADE, related_name="lookback_requests")
    request = models.OneToOneField(ReviewRequest, on_delete=models.CASCADE, related_name="lookback")
    slot = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "slot"], name="lookback_slot_once")]
        ordering = ["slot"]
