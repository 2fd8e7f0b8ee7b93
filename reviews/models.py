"""Review requests, reviews and their moderation, per shop."""
from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language, gettext, gettext_lazy, gettext_noop, override, pgettext_lazy

from shopapp.languages import percent_format
from shopapp.models import Customer, Order, OrderLine, Shop, ShopScopedQuerySet

# Marked for the catalogue: a shop that kept them sends each customer their translation.
DEFAULT_SUBJECT = gettext_noop("How was your order from {shop}?")
DEFAULT_BODY = gettext_noop(
    "Hi {first_name},\n\n"
    "Thank you for your order {order} from {shop}. Would you tell other shoppers what you think? "
    "Click a star to start; it takes a minute."
)


class ReviewSettings(models.Model):
    """How and when a shop asks for reviews, and what its storefront accepts."""

    class Trigger(models.TextChoices):
        FULFILLED = "fulfilled", gettext_lazy("When the order is fulfilled")
        DELIVERED = "delivered", gettext_lazy("When the order is delivered")

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="review_settings")
    requests_enabled = models.BooleanField(default=True)
    trigger = models.CharField(max_length=12, choices=Trigger.choices, default=Trigger.FULFILLED)
    delay_days = models.PositiveSmallIntegerField(default=14, validators=[MaxValueValidator(60)])
    home_country = models.CharField(max_length=2, blank=True,
                                    help_text="orders shipped elsewhere use the international delay")
    international_delay_days = models.PositiveSmallIntegerField(default=21, validators=[MaxValueValidator(60)])
    reminder_enabled = models.BooleanField(default=True)
    reminder_days = models.PositiveSmallIntegerField(default=7, validators=[MinValueValidator(1), MaxValueValidator(30)])
    honour_shopify_consent = models.BooleanField(default=True)
    logo_url = models.URLField(blank=True, help_text="shown at the top of review emails")
    email_subject = models.CharField(max_length=200, default=DEFAULT_SUBJECT)
    email_body = models.TextField(max_length=2000, default=DEFAULT_BODY)
    non_buyer_reviews = models.BooleanField(default=False)
    incentive_enabled = models.BooleanField(default=False)
    incentive_text = models.CharField(max_length=200, blank=True)
    incentive_percent = models.PositiveSmallIntegerField(default=10, validators=[MinValueValidator(1), MaxValueValidator(100)])
    # The merchant's own words per language, e.g. {"ko": {"email_subject": "...", "email_body": "..."}}; the
    # fields above are the shop's default-language text (TRANSLATABLE names what may be written here).
    translations = models.JSONField(default=dict, blank=True)
    test_sent_at = models.DateTimeField(null=True, blank=True)
    # When Shopify's standard reviews.rating / rating_count definitions were enabled for the shop.
    metafield_definitions_at = models.DateTimeField(null=True, blank=True)
    # The secret in the Google Product Ratings feed's address (reviews/feed.py); empty until first shown.
    feed_token = models.CharField(max_length=64, blank=True, db_index=True)
    # One metafield sync per shop at a time (writes must land in the order they were read).
    metafields_lease_until = models.DateTimeField(null=True, blank=True)

    TRANSLATABLE = ("email_subject", "email_body", "incentive_text")

    @classmethod
    def for_shop(cls, shop: Shop) -> "ReviewSettings":
        settings, _ = cls.objects.get_or_create(shop=shop)
        return settings

    def translated(self, field: str, language: str, *, own_version: bool = True) -> str:
        """The merchant's `field` for shoppers who read `language`: their version in it, else the built-in
        default's translation while they kept the default, else their own words as they wrote them
        (`own_version=False`: what it would be without their version in that language)."""
        own = ((self.translations or {}).get(language) or {}).get(field, "").strip() if own_version else ""
        if own:
            return own
        default = {"email_subject": DEFAULT_SUBJECT, "email_body": DEFAULT_BODY}.get(field)
        value = getattr(self, field)
        if default is not None and value.replace("\r\n", "\n").strip() == default:  # CRLF: as a browser sent it
            with override(language):
                return gettext(default)
        return value

    def request_texts(self, language: str) -> tuple[str, str]:
        """(subject, body) templates of the review request in that language."""
        return self.translated("email_subject", language), self.translated("email_body", language)

    def incentive_label(self, language: str | None = None) -> str:
        """What the incentive is, in words, in the active language ("15% off your next order")."""
        language = language or get_language() or "en"
        own = ((self.translations or {}).get(language) or {}).get("incentive_text", "").strip()
        text = (self.incentive_text or "").strip()
        if own:
            return own
        if text and text != f"{self.incentive_percent}% off your next order":
            return text  # the merchant's own words (the panel fills in the English default when left empty)
        with override(language):
            return gettext("%(percent)s off your next order") % {"percent": percent_format(self.incentive_percent)}


class ReviewRequest(models.Model):
    """One order's invitation to review its products: a row the sweep claims when due."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled"
        SENT = "sent"
        COMPLETED = "completed"
        SKIPPED = "skipped"
        CANCELLED = "cancelled"

    # The customer may open the form from their account for these (not for a cancelled order's).
    OPEN_FROM_ACCOUNT = (Status.SCHEDULED, Status.SENT, Status.COMPLETED, Status.SKIPPED)

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="review_requests")
    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="review_request")
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="review_requests")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    due_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    reminder_due_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    skip_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ShopScopedQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["status", "due_at"]),
            models.Index(fields=["status", "reminder_due_at"]),
            models.Index(fields=["customer", "sent_at"]),
        ]

    def __str__(self) -> str:
        return f"review request for {self.order} ({self.status})"


class ReviewRequestItem(models.Model):
    """A product of the order the request asks about (gift cards and custom items are left out)."""

    request = models.ForeignKey(ReviewRequest, on_delete=models.CASCADE, related_name="items")
    order_line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="review_items")
    product_id = models.BigIntegerField()
    title = models.CharField(max_length=255)
    asked = models.BooleanField(default=True, help_text="false when the same product was asked within a year")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["request", "order_line"], name="review_item_once")]
        ordering = ["pk"]


class ReviewQuerySet(ShopScopedQuerySet):
    def published(self):
        return self.filter(status=Review.Status.PUBLISHED)


class Review(models.Model):
    """A shopper's review of one product; verified only when it comes from a real order line."""

    class Status(models.TextChoices):
        PUBLISHED = "published", pgettext_lazy("a review's status", "Published")
        HELD = "held", pgettext_lazy("a review's status", "Held")
        REJECTED = "rejected", pgettext_lazy("a review's status", "Rejected")
        UNCONFIRMED = "unconfirmed", pgettext_lazy("a review's status", "Awaiting email confirmation")

    class Source(models.TextChoices):
        REQUEST = "request", "Review request"
        STOREFRONT = "storefront", "Storefront"
        IMPORT = "import", "Imported"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="reviews")
    product_id = models.BigIntegerField()
    product_title = models.CharField(max_length=255, blank=True)
    order_line = models.ForeignKey(OrderLine, null=True, blank=True, on_delete=models.SET_NULL, related_name="reviews")
    request = models.ForeignKey(ReviewRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="reviews")
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="reviews")
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.REQUEST)
    rating = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    title = models.CharField(max_length=120, blank=True)
    body = models.TextField(max_length=5000, blank=True)
    display_name = models.CharField(max_length=60, blank=True)
    email = models.EmailField(blank=True, help_text="for storefront reviews from non-buyers, to confirm")
    incentivized = models.BooleanField(default=False)
    imported_verified = models.BooleanField(default=False, help_text="marked verified in an imported file; "
                                            "Advocate could not check it against an order")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PUBLISHED)
    held_reasons = models.JSONField(default=list, blank=True)
    rejection_reason = models.CharField(max_length=20, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    reply = models.TextField(max_length=2000, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order_line"], name="one_review_per_order_line",
                                    condition=models.Q(order_line__isnull=False)),
            models.CheckConstraint(condition=models.Q(rating__gte=1, rating__lte=5), name="review_rating_1_to_5"),
        ]
        indexes = [
            models.Index(fields=["shop", "product_id", "status", "created_at"]),
            models.Index(fields=["shop", "status", "created_at"]),
        ]
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.rating}★ {self.product_title or self.product_id}"

    @property
    def verified(self) -> bool:
        """A verified buyer: the review is tied to a line of a real order."""
        return self.order_line_id is not None

    @property
    def author(self) -> str:
        return self.display_name or "Anonymous"


class ReviewRevision(models.Model):
    """What a review said before the reviewer edited it."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="revisions")
    rating = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=120, blank=True)
    body = models.TextField(blank=True)
    display_name = models.CharField(max_length=60, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]


class ReviewPhotoQuerySet(models.QuerySet):
    def shown(self):
        """Photos the public may see: a merchant can hide one without rejecting its review."""
        return self.filter(hidden_at__isnull=True)


class ReviewPhoto(models.Model):
    """A re-encoded photo (metadata stripped), kept in the database with its thumbnail."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="photos")
    content_type = models.CharField(max_length=20)
    image = models.BinaryField()
    thumbnail = models.BinaryField(null=True, blank=True)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    hidden_at = models.DateTimeField(null=True, blank=True)

    objects = ReviewPhotoQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]


class ReviewReportQuerySet(ShopScopedQuerySet):
    def open(self):
        return self.filter(dismissed_at__isnull=True)


class ReviewReport(models.Model):
    """A shopper's "Report" on a published review: it waits for the merchant's decision and changes
    nothing by itself (a review never leaves the store because someone disliked it)."""

    class Reason(models.TextChoices):
        SPAM = "spam", gettext_lazy("Spam or fake")
        OFFENSIVE = "offensive", gettext_lazy("Offensive or abusive")
        PERSONAL_DATA = "personal_data", gettext_lazy("Shares someone's personal details")
        UNRELATED = "unrelated", gettext_lazy("Not about the product")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="review_reports")
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="reports")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    client = models.CharField(max_length=32, help_text="a hash of the reporter's address: one report per client")
    created_at = models.DateTimeField(default=timezone.now)
    dismissed_at = models.DateTimeField(null=True, blank=True, help_text="the merchant kept the review, or rejected it")

    objects = ReviewReportQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["review", "client"], name="one_report_per_client")]
        indexes = [models.Index(fields=["shop", "dismissed_at"])]


class ModerationDecision(models.Model):
    """Every change of a review's visibility or reply: who, what, why, when."""

    class Action(models.TextChoices):
        PUBLISHED = "published", pgettext_lazy("what happened to a review", "Published")
        HELD = "held", pgettext_lazy("what happened to a review", "Held")
        REJECTED = "rejected", pgettext_lazy("what happened to a review", "Rejected")
        AUTO_PUBLISHED = "auto_published", pgettext_lazy("what happened to a review", "Published automatically")
        REPLIED = "replied", pgettext_lazy("what happened to a review", "Replied")
        PHOTO_HIDDEN = "photo_hidden", pgettext_lazy("what happened to a review", "Photo hidden")
        PHOTO_SHOWN = "photo_shown", pgettext_lazy("what happened to a review", "Photo shown again")
        REPORTS_DISMISSED = "reports_dismissed", pgettext_lazy("what happened to a review", "Kept after reports")

    # English labels, marked for the catalogue only: the rejection's label is written into the decision's
    # `reason` as it reads in English, and the panel translates it when it shows one (gettext(label)).
    class Reason(models.TextChoices):
        ABUSIVE = "abusive", gettext_noop("Abusive")
        PERSONAL_DATA = "personal_data", gettext_noop("Personal data")
        UNRELATED = "unrelated", gettext_noop("Unrelated to the product")
        SPAM = "spam", gettext_noop("Spam or fake")

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="decisions")
    action = models.CharField(max_length=20, choices=Action.choices)
    reason = models.CharField(max_length=200, blank=True)
    actor = models.CharField(max_length=100, help_text="a panel user id, or 'Advocate' for rules and timers")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]


class ReviewIncentive(models.Model):
    """One review's reward code, written with the review before Shopify is asked: a retried job
    finds this row (and its code) and never creates a second discount."""

    class Status(models.TextChoices):
        PENDING = "pending"
        CREATED = "created"
        FAILED = "failed"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="review_incentives")
    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="incentive")
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="review_incentives")
    code = models.CharField(max_length=40, unique=True)
    percent = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    discount_gid = models.CharField(max_length=255, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=255, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    issued_at = models.DateTimeField(null=True, blank=True)

    objects = ShopScopedQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.code} ({self.status})"


class ProductRating(models.Model):
    """A product's published-review aggregates, updated whenever one of its reviews changes."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="product_ratings")
    product_id = models.BigIntegerField()
    product_title = models.CharField(max_length=255, blank=True)
    count = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    histogram = models.JSONField(default=dict)
    with_photos = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=0, help_text="bumped on change; part of the cache key")
    updated_at = models.DateTimeField(default=timezone.now)
    # Shopify's copy in the product's metafields (reviews/metafields.py): the version written
    # last; the product is due while `version` is ahead of it.
    synced_version = models.PositiveIntegerField(default=0)
    sync_attempts = models.PositiveSmallIntegerField(default=0)
    sync_next_at = models.DateTimeField(null=True, blank=True)
    sync_error = models.CharField(max_length=255, blank=True)
    # The product's identifiers, read from Shopify once, for the Google Product Ratings feed.
    handle = models.CharField(max_length=255, blank=True)
    brand = models.CharField(max_length=255, blank=True)
    skus = models.JSONField(default=list, blank=True)
    gtins = models.JSONField(default=list, blank=True)
    identifiers_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "product_id"], name="product_rating_once")]

    @property
    def average(self) -> float:
        return round(self.total / self.count, 2) if self.count else 0.0


class FeaturedReviews(models.Model):
    """Shopify's copy of the shop's featured reviews (the carousel's shop metafield, reviews/metafields.py):
    due while `version`, bumped with every product's, is ahead of `synced_version`, as a ProductRating is."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="featured_reviews")
    version = models.PositiveIntegerField(default=1)
    synced_version = models.PositiveIntegerField(default=0)
    sync_attempts = models.PositiveSmallIntegerField(default=0)
    sync_next_at = models.DateTimeField(null=True, blank=True)
    sync_error = models.CharField(max_length=255, blank=True)
