from __future__ import annotations

from django.db import models
from django.utils import timezone

from shopapp.fields import EncryptedTextField


class ShopQuerySet(models.QuerySet):
    def installed(self) -> "ShopQuerySet":
        return self.filter(uninstalled_at__isnull=True, installed_at__isnull=False)


class Shop(models.Model):
    """A store that installed Advocate: the tenant every other row hangs from."""

    domain = models.CharField(max_length=255, unique=True, help_text="example.myshopify.com")
    shopify_gid = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=255, blank=True)
    email = models.EmailField(blank=True)
    currency = models.CharField(max_length=3, default="USD")
    timezone = models.CharField(max_length=64, default="UTC")
    plan_name = models.CharField(max_length=64, blank=True)
    is_plus = models.BooleanField(default=False)

    scopes = models.TextField(blank=True)
    access_token = EncryptedTextField(blank=True)
    access_token_expires_at = models.DateTimeField(null=True, blank=True)
    refresh_token = EncryptedTextField(blank=True)
    refresh_token_expires_at = models.DateTimeField(null=True, blank=True)

    installed_at = models.DateTimeField(null=True, blank=True)
    uninstalled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ShopQuerySet.as_manager()

    def __str__(self) -> str:
        return self.domain

    @property
    def handle(self) -> str:
        """The shop's name without .myshopify.com, as shopifyapp expects it."""
        return self.domain.removesuffix(".myshopify.com")

    @property
    def is_installed(self) -> bool:
        return self.installed_at is not None and self.uninstalled_at is None

    @property
    def has_token(self) -> bool:
        return bool(self.access_token)


class WebhookEvent(models.Model):
    """One webhook delivery as Shopify sent it, and what became of it."""

    class Status(models.TextChoices):
        RECEIVED = "received"
        PROCESSING = "processing"
        DONE = "done"
        FAILED = "failed"
        IGNORED = "ignored"

    # The domain from the verified header, not a Shop foreign key: compliance
    # topics can arrive for a shop that is gone, and intake must stay one INSERT.
    shop_domain = models.CharField(max_length=255)
    topic = models.CharField(max_length=100)
    event_key = models.CharField(max_length=100, help_text="X-Shopify-Event-Id, else the webhook id")
    webhook_id = models.CharField(max_length=100, blank=True)
    api_version = models.CharField(max_length=20, blank=True)
    triggered_at = models.CharField(max_length=40, blank=True)
    payload = models.JSONField(null=True, blank=True)
    raw_body = models.TextField(blank=True, help_text="kept only when the body is not valid JSON")

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RECEIVED)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop_domain", "topic", "event_key"], name="webhook_event_once"
            )
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.topic} for {self.shop_domain} ({self.status})"


class CustomerDataExport(models.Model):
    """What `customers/data_request` asked for, kept for the merchant to hand over."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="data_exports")
    customer_id = models.CharField(max_length=64, blank=True)
    customer_email = models.CharField(max_length=255, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]


class OAuthState(models.Model):
    """A nonce for the authorization-code install, used once."""

    nonce = models.CharField(max_length=64, unique=True)
    shop_domain = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
