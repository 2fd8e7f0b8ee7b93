"""Cases: an unhappy customer answered by the shop, from opening to resolution.

A case is opened by a review (a low rating, a complaint keyword, or by hand) or by an NPS answer
of 0 to 6 (a detractor): exactly one of the two. The review itself is never touched by a case: it
stays published (16 CFR 465 forbids suppressing reviews by rating), and no remedy depends on what
the review or the score says.
"""
from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy as _, gettext_noop, pgettext_lazy

from reviews.models import Review
from shopapp.models import Customer, Shop, ShopScopedQuerySet

class CaseSettings(models.Model):
    """When a review opens a case, who hears about it, and how fast the shop means to answer."""

    class AlertMode(models.TextChoices):
        AT_ONCE = "at_once", _("At once, one email per case")
        DIGEST = "digest", _("Once a day, a digest")

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="case_settings")
    rating_threshold = models.PositiveSmallIntegerField(
        default=2, validators=[MinValueValidator(1), MaxValueValidator(4)],
        help_text="reviews at or under this many stars open a case")
    keywords = models.TextField(blank=True, max_length=2000,
                                help_text="one per line; a higher rating whose text contains one opens a case too")
    alert_recipients = models.TextField(blank=True, max_length=1000,
                                        help_text="email addresses, one per line; empty: the shop's email")
    alert_mode = models.CharField(max_length=10, choices=AlertMode.choices, default=AlertMode.AT_ONCE)
    first_response_hours = models.PositiveSmallIntegerField(
        default=24, validators=[MinValueValidator(1), MaxValueValidator(720)])
    digest_sent_at = models.DateTimeField(null=True, blank=True)
    pause_tag = models.CharField(
        max_length=40, default="advocate-case-open",
        help_text="the tag on a Shopify customer while their case is open and for the pause after it")
    pause_lease_until = models.DateTimeField(null=True, blank=True)  # one pause sync per shop at a time

    @classmethod
    def for_shop(cls, shop: Shop) -> "CaseSettings":
        settings, _ = cls.objects.get_or_create(shop=shop)
        return settings

    @property
    def keyword_list(self) -> list[str]:
        return [k.strip().lower() for k in self.keywords.splitlines() if k.strip()]

    def recipients(self, shop: Shop) -> list[str]:
        listed = [r.strip() for r in self.alert_recipients.replace(",", "\n").splitlines() if r.strip()]
        return listed or ([shop.email] if shop.email else [])


class ReplyTemplate(models.Model):
    """A private reply the merchant starts from; placeholders are filled when it is chosen."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="case_templates")
    key = models.SlugField(max_length=40)
    name = models.CharField(max_length=80)
    subject = models.CharField(max_length=200)
    body = models.TextField(max_length=5000)
    # The merchant's own versions per language, {"ko": {"subject": "...", "body": "..."}}; subject and
    # body above are the shop's default language (reviews.cases.conversation.reply_template_texts).
    translations = models.JSONField(default=dict, blank=True)

    # The built-in templates' names, stored in English when a shop's templates are first made.
    DEFAULT_NAMES = {"apology": gettext_noop("Apology"), "replacement": gettext_noop("Replacement"),
                     "details": gettext_noop("Asking for details")}

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "key"], name="case_template_once")]
        ordering = ["pk"]

    @property
    def name_shown(self) -> str:
        """The name in the panel's language while the merchant kept the built-in one; else theirs."""
        default = self.DEFAULT_NAMES.get(self.key)
        return gettext(default) if default and self.name == default else self.name


class CaseQuerySet(ShopScopedQuerySet):
    def active(self):
        return self.filter(status__in=Case.ACTIVE)


class Case(models.Model):
    """One review's case, or one NPS answer's (at most one for each)."""

    class Status(models.TextChoices):
        NEW = "new", pgettext_lazy("a case's status", "New")
        OPEN = "open", pgettext_lazy("a case's status", "Open")
        WAITING = "waiting", pgettext_lazy("a case's status", "Waiting for customer")
        RESOLVED = "resolved", pgettext_lazy("a case's status", "Resolved")
        CLOSED = "closed", pgettext_lazy("a case's status", "Closed")

    class Reason(models.TextChoices):
        RATING = "rating", _("Low rating")
        KEYWORD = "keyword", _("Complaint keyword")
        MANUAL = "manual", _("Opened by hand")
        NPS = "nps", _("Would not recommend the shop")

    ACTIVE = (Status.NEW, Status.OPEN, Status.WAITING)

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="cases")
    review = models.OneToOneField(Review, null=True, blank=True, on_delete=models.CASCADE, related_name="case")
    nps_survey = models.OneToOneField("nps.NpsSurvey", null=True, blank=True, on_delete=models.CASCADE,
                                      related_name="case", help_text="the detractor's answer that opened it")
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    reason = models.CharField(max_length=10, choices=Reason.choices)
    keyword = models.CharField(max_length=100, blank=True)
    rating_at_open = models.PositiveSmallIntegerField(help_text="the review's stars, or the NPS score (0-10)")
    assignee = models.CharField(max_length=100, blank=True, help_text="the staff member's id from the session token")
    created_at = models.DateTimeField(default=timezone.now)
    first_response_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True, help_text="when it was last resolved or closed")
    resolved_at = models.DateTimeField(null=True, blank=True)
    alerted_at = models.DateTimeField(null=True, blank=True)
    redacted_at = models.DateTimeField(null=True, blank=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["shop", "status", "created_at"]), models.Index(fields=["customer", "ended_at"])]
        ordering = ["-created_at", "-pk"]
        constraints = [models.CheckConstraint(
            condition=models.Q(review__isnull=False, nps_survey__isnull=True)
            | models.Q(review__isnull=True, nps_survey__isnull=False), name="case_of_a_review_or_an_nps_answer")]

    def __str__(self) -> str:
        return f"case {self.pk} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def from_nps(self) -> bool:
        return self.review_id is None


class CaseEvent(models.Model):
    """Everything that happened to a case: who, what, when."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=30)
    detail = models.CharField(max_length=300, blank=True, help_text="in English, as it happened")
    # What the detail says, as values (a status, a score, a remedy's kind): the panel writes the line in
    # the reader's language from these (reviews.cases.history); an event without them shows `detail`.
    data = models.JSONField(default=dict, blank=True)
    actor = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)

    LABELS = {"opened": _("Opened"), "status": pgettext_lazy("a case's history", "Status"),
              "assigned": _("Assignee"), "replied_private": _("Private reply"), "replied_public": _("Public reply"),
              "customer_answered": _("The customer answered"), "review_updated": _("Review updated"),
              "remedy": _("Remedy"), "remedy_done": _("Remedy done"), "remedy_failed": _("Remedy failed"),
              "remedy_retry": _("Remedy tried again"), "remedy_delivered": _("Remedy sent"),
              "alert_sent": _("Alert sent"), "score_updated": _("Score updated")}

    class Meta:
        ordering = ["-created_at", "-pk"]

    @property
    def label(self) -> str:
        return self.LABELS.get(self.action, self.action.replace("_", " ").capitalize())


class CaseMessage(models.Model):
    """The private conversation: the shop's emails and the customer's answers."""

    class Direction(models.TextChoices):
        OUT = "out", _("From the shop")
        IN = "in", _("From the customer")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(max_length=5000)
    author = models.CharField(max_length=100)
    to_email = models.EmailField(blank=True)
    to_name = models.CharField(max_length=200, blank=True, help_text="kept so an erasure can find the name in the text")
    message_id = models.CharField(max_length=200, blank=True, help_text="the email's Message-ID, for threading")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    send_error = models.CharField(max_length=300, blank=True)
    # The message that told the customer about a remedy: one per remedy, so delivering twice is refused.
    remedy = models.OneToOneField("Remedy", on_delete=models.SET_NULL, null=True, blank=True, related_name="delivery")

    class Meta:
        ordering = ["created_at", "pk"]


class Remedy(models.Model):
    """What the shop gave: recorded first (the intent), then done in Shopify by a job."""

    class Kind(models.TextChoices):
        DISCOUNT = "discount", _("Discount code")
        STORE_CREDIT = "store_credit", _("Store credit")
        REFUND = "refund", _("Refund done in Shopify")
        REPLACEMENT = "replacement", _("Replacement sent from Shopify")

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("a remedy's status", "Pending")
        SENDING = "sending", pgettext_lazy("a remedy's status", "Sending to Shopify")
        DONE = "done", pgettext_lazy("a remedy's status", "Done")
        FAILED = "failed", pgettext_lazy("a remedy's status", "Failed")

    REMOTE = (Kind.DISCOUNT, Kind.STORE_CREDIT)

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="remedies")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.00"))])
    currency = models.CharField(max_length=3)
    code = models.CharField(max_length=40, blank=True)
    note = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    shopify_id = models.CharField(max_length=120, blank=True)
    balance_before = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    actor = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]


class CustomerPause(models.Model):
    """What Shopify holds of a customer's marketing pause (reviews/cases/pause.py): the tag and the
    app metafield Advocate put on the Shopify customer, and whether that is due for a check."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="customer_pauses")
    # Kept apart from the customer row: a redacted customer's tag must still come off in Shopify.
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    customer_gid = models.CharField(max_length=100)
    tag_in_shopify = models.CharField(max_length=255, blank=True, help_text="the tag Shopify has, as far as we know")
    value_in_shopify = models.CharField(max_length=200, blank=True, help_text="the metafield value Shopify has")
    until = models.DateTimeField(null=True, blank=True, help_text="when the pause written to Shopify ends")
    version = models.PositiveIntegerField(default=1)
    synced_version = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "customer_gid"], name="one_pause_row_per_customer")]
