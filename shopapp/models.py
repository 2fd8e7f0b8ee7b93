from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from shopapp.fields import EncryptedTextField


class ShopQuerySet(models.QuerySet):
    def installed(self) -> "ShopQuerySet":
        return self.filter(uninstalled_at__isnull=True, installed_at__isnull=False)


class ShopScopedQuerySet(models.QuerySet):
    """Every model that belongs to a shop: queries go through `.for_shop(shop)`, the verified tenant."""

    def for_shop(self, shop: "Shop"):
        return self.filter(shop=shop)


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
    # Shopify's shop billingAddress, one line per part: every email to shoppers carries it (CAN-SPAM).
    postal_address = models.TextField(blank=True)
    # The storefront's primary locale (shopLocales, with read_locales): what a shopper whose order
    # names no language Advocate speaks reads (shopapp.languages). Empty: not read, English.
    primary_locale = models.CharField(max_length=20, blank=True)

    scopes = models.TextField(blank=True)
    access_token = EncryptedTextField(blank=True)
    access_token_expires_at = models.DateTimeField(null=True, blank=True)
    refresh_token = EncryptedTextField(blank=True)
    refresh_token_expires_at = models.DateTimeField(null=True, blank=True)

    installed_at = models.DateTimeField(null=True, blank=True)
    uninstalled_at = models.DateTimeField(null=True, blank=True)
    theme_blocks = models.JSONField(default=list, blank=True, help_text="Advocate's blocks found in the live theme")
    theme_checked_at = models.DateTimeField(null=True, blank=True)

    # The brand on what shoppers see from Advocate (shopapp.branding): the merchant's own choice in
    # the panel, else Shopify's brand settings as last read, else the shop's name in plain type.
    brand_logo_url = models.URLField(max_length=1000, blank=True, help_text="the merchant's logo for Advocate")
    brand_color = models.CharField(max_length=7, blank=True, help_text="the merchant's colour for Advocate, #rrggbb")
    shopify_logo_url = models.URLField(max_length=1000, blank=True, help_text="Shopify's brand logo, as last read")
    shopify_brand_color = models.CharField(max_length=7, blank=True, help_text="Shopify's primary brand colour")
    brand_read_at = models.DateTimeField(null=True, blank=True)
    brand_read_error = models.CharField(max_length=255, blank=True)
    storefront_token = EncryptedTextField(blank=True, help_text="Advocate's Storefront API token (brand reads)")
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

    def has_scope(self, scope: str) -> bool:
        """Whether the merchant granted this access scope (as of the last token)."""
        return scope in {s.strip() for s in (self.scopes or "").split(",")}


class WebhookEvent(models.Model):
    """One webhook delivery as Shopify sent it, and what became of it."""

    class Status(models.TextChoices):
        RECEIVED = "received", pgettext_lazy("a webhook's status", "Received")
        PROCESSING = "processing", pgettext_lazy("a webhook's status", "Processing")
        # parked until the order it is about is stored (no attempt spent)
        WAITING = "waiting", pgettext_lazy("a webhook's status", "Waiting")
        DONE = "done", pgettext_lazy("a webhook's status", "Done")
        FAILED = "failed", pgettext_lazy("a webhook's status", "Failed")
        IGNORED = "ignored", pgettext_lazy("a webhook's status", "Ignored")

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
    # Handed to the job queue at this time: the sweep does not queue it again until the mark is old.
    queued_at = models.DateTimeField(null=True, blank=True)
    # A worker's claim lasts until then; a live worker also holds the row locked while it runs.
    lease_until = models.DateTimeField(null=True, blank=True)
    awaits_order_id = models.BigIntegerField(null=True, blank=True, help_text="the order a waiting event needs first")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop_domain", "topic", "event_key"], name="webhook_event_once"
            )
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.topic} for {self.shop_domain} ({self.status})"


class FollowUp(models.Model):
    """A step that must happen after a state change (a case for a negative review), recorded in
    the change's own transaction and retried by the sweep until it has happened."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DONE = "done"
        FAILED = "failed"  # gave up after the maximum attempts: visible, never silent

    after = models.CharField(max_length=50, help_text="the state change, e.g. review_saved")
    name = models.CharField(max_length=100, help_text="the registered step")
    args = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.after}: {self.name}{tuple(self.args)} ({self.status})"


class Heartbeat(models.Model):
    """When a periodic process last completed a round (the health check reads it)."""

    name = models.CharField(max_length=50, unique=True)
    at = models.DateTimeField()


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


class Customer(models.Model):
    """A shop's customer as the order and customer webhooks describe them."""

    class Marketing(models.TextChoices):
        SUBSCRIBED = "subscribed"
        NOT_SUBSCRIBED = "not_subscribed"
        UNSUBSCRIBED = "unsubscribed"
        UNKNOWN = "unknown"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="customers")
    # Shopify ids exceed 2**53: stored as 64-bit integers, never floats.
    shopify_id = models.BigIntegerField(null=True, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    marketing = models.CharField(max_length=20, choices=Marketing.choices, default=Marketing.UNKNOWN)
    # Shopify's consent_updated_at of the statement `marketing` holds: consent webhooks arrive
    # out of order, and only a newer statement may replace it.
    marketing_updated_at = models.DateTimeField(null=True, blank=True)
    # Advocate's own unsubscribe link (review and referral emails), honoured everywhere.
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    redacted_at = models.DateTimeField(null=True, blank=True)
    # Kept by shopapp.orders.customer_stats_refresh on every order change, so the dashboard's
    # retention figures read one row per customer instead of joining every order.
    orders_count = models.PositiveIntegerField(default=0, help_text="orders not cancelled")
    total_spent = models.DecimalField(max_digits=14, decimal_places=2, default=0, help_text="net of refunds")
    last_order_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "shopify_id"], name="customer_once_per_shop",
                                    condition=models.Q(shopify_id__isnull=False)),
        ]
        indexes = [models.Index(fields=["shop", "email"])]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or self.email or "Customer"

    @property
    def gid(self) -> str:
        return f"gid://shopify/Customer/{self.shopify_id}"


class Order(models.Model):
    """An order as the order webhooks describe it; amounts in shop money."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="orders")
    shopify_id = models.BigIntegerField()
    name = models.CharField(max_length=64, blank=True)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders")
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    currency = models.CharField(max_length=3)
    total = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    subtotal = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    presentment_currency = models.CharField(max_length=3, blank=True)
    presentment_total = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    refunded = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    discount_codes = models.JSONField(default=list, blank=True)
    landing_site = models.TextField(blank=True)
    referring_site = models.TextField(blank=True)
    note_attributes = models.JSONField(default=list, blank=True)
    browser_ip = models.CharField(max_length=64, blank=True)
    user_agent = models.TextField(blank=True)
    shipping_address = models.JSONField(null=True, blank=True)
    shipping_country = models.CharField(max_length=2, blank=True)
    # The storefront language the customer bought in ('ko-KR', 'de'): their emails and pages speak it.
    customer_locale = models.CharField(max_length=20, blank=True)
    financial_status = models.CharField(max_length=32, blank=True)
    placed_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "shopify_id"], name="order_once_per_shop")]
        indexes = [models.Index(fields=["shop", "placed_at"])]

    def __str__(self) -> str:
        return self.name or str(self.shopify_id)

    @property
    def is_refunded_or_cancelled(self) -> bool:
        return self.cancelled_at is not None or (self.total > 0 and self.refunded >= self.total)


class OrderDay(models.Model):
    """One day of a shop's orders (in the shop's timezone), kept on every order change.

    The dashboard reads a year as 365 of these rows instead of grouping every order.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="order_days")
    day = models.DateField()
    orders = models.PositiveIntegerField(default=0, help_text="orders not cancelled")
    revenue = models.DecimalField(max_digits=16, decimal_places=2, default=0, help_text="their totals")
    refunded = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "day"], name="order_day_once")]


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    shopify_id = models.BigIntegerField()
    product_id = models.BigIntegerField(null=True, blank=True, help_text="null for custom items")
    variant_id = models.BigIntegerField(null=True, blank=True)
    title = models.CharField(max_length=255)
    quantity = models.PositiveIntegerField(default=1)
    price = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    gift_card = models.BooleanField(default=False)
    requires_shipping = models.BooleanField(default=True, help_text="false for digital goods and services")
    # When a fulfilment shipped this line: a gift card is fulfilled at checkout, long before the rest.
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    refunded_quantity = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["order", "shopify_id"], name="order_line_once")]


class OrderRefund(models.Model):
    """One refund, counted once however often its webhook arrives."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="refunds")
    shopify_id = models.BigIntegerField()
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["order", "shopify_id"], name="refund_once")]


class MailSettings(models.Model):
    """How Advocate's emails to a shop's customers are signed."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="mail_settings")
    sender_name = models.CharField(max_length=100, blank=True, help_text="defaults to the shop's name")
    reply_to = models.EmailField(blank=True, help_text="defaults to the shop's email")
    test_sent_at = models.DateTimeField(null=True, blank=True)
    test_sent_to = models.EmailField(blank=True)

    @classmethod
    def for_shop(cls, shop: Shop) -> "MailSettings":
        settings, _ = cls.objects.get_or_create(shop=shop)
        return settings


class CreditAttempt(models.Model):
    """One store credit (or debit) Advocate asked Shopify for, matched one to one with
    Shopify's transaction. Every feature that moves store credit goes through it
    (shopapp/discounts.py), so no two of them can both claim one transaction."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="credit_attempts")
    key = models.CharField(max_length=120, help_text="the business event, e.g. reward:12 or remedy:5")
    customer_gid = models.CharField(max_length=100)
    amount = models.DecimalField(max_digits=14, decimal_places=2, help_text="negative for a debit")
    currency = models.CharField(max_length=3)
    # Written before each send: the transactions Shopify already listed, and when it was sent.
    known_transactions = models.JSONField(default=list, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    sends = models.PositiveIntegerField(default=0)
    transaction_id = models.CharField(max_length=120, blank=True, help_text="Shopify's transaction for this attempt")
    settled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "key"], name="credit_attempt_once_per_event"),
            # The one-to-one rule: a transaction Shopify lists settles one attempt, never two.
            models.UniqueConstraint(fields=["shop", "transaction_id"], name="credit_transaction_matched_once",
                                    condition=~models.Q(transaction_id="")),
        ]
        indexes = [models.Index(fields=["shop", "customer_gid", "currency"])]


class BulkOperation(models.Model):
    """One bulk mutation or bulk query Advocate asked Shopify to run (shopapp/bulk.py). The row is
    written before anything is sent, so a crash leaves a trace; at most one of each kind is open per
    shop, as Shopify runs one bulk mutation and one bulk query at a time per app and shop."""

    class Kind(models.TextChoices):
        MUTATION = "mutation"
        QUERY = "query"

    class Status(models.TextChoices):
        STARTING = "starting", pgettext_lazy("a bulk operation's status", "Starting")
        RUNNING = "running", pgettext_lazy("a bulk operation's status", "Running at Shopify")
        UNKNOWN = "unknown", pgettext_lazy("a bulk operation's status", "Start not confirmed")
        DONE = "done", pgettext_lazy("a bulk operation's status", "Done")
        FAILED = "failed", pgettext_lazy("a bulk operation's status", "Failed")

    OPEN = (Status.STARTING, Status.RUNNING, Status.UNKNOWN)

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="bulk_operations")
    purpose = models.CharField(max_length=64, help_text="whose result handler reads it, e.g. reviews.metafields")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.MUTATION)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.STARTING)
    operation_id = models.CharField(max_length=120, blank=True, help_text="Shopify's BulkOperation gid")
    context = models.JSONField(default=dict, blank=True, help_text="what the purpose needs to read the result")
    lines = models.PositiveIntegerField(default=0)
    object_count = models.PositiveIntegerField(default=0, help_text="objects Shopify has gathered, as last asked")
    error = models.CharField(max_length=255, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    checked_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # A worker reading the result holds it until then (renewed as it goes): the webhook's job and
    # the sweep's never read one file at once; a worker that dies lets the next one resume.
    reading_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "kind"], name="one_open_bulk_operation_per_shop_and_kind",
                                    condition=models.Q(status__in=["starting", "running", "unknown"])),
        ]


class StaffMember(models.Model):
    """A staff member who opened the panel, by the name Shopify gives with an online token, so the
    panel's histories say "Dana Reyes", not a user id; and the admin language they read it in."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="staff")
    user_id = models.CharField(max_length=40, help_text="the session token's sub")
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    locale = models.CharField(max_length=20, blank=True,
                              help_text="the admin language they chose in Shopify ('ko', 'pt-BR'): the panel's")
    asked_at = models.DateTimeField(default=timezone.now, help_text="when Shopify was last asked who this is")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "user_id"], name="staff_member_once")]


class FlowTrigger(models.Model):
    """One event Advocate tells Shopify Flow about (flowTriggerReceive): written in the transaction
    of the change it reports, sent once by a job, re-driven by the sweep (shopapp/flow.py)."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("a Flow event's status", "Pending")
        SENDING = "sending", pgettext_lazy("a Flow event's status", "Sending")
        SENT = "sent", pgettext_lazy("a Flow event's status", "Sent")
        UNCERTAIN = "uncertain", pgettext_lazy("a Flow event's status", "Not known whether Flow got it")
        FAILED = "failed", pgettext_lazy("a Flow event's status", "Failed")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="flow_triggers")
    key = models.CharField(max_length=120, help_text="the event, e.g. case-opened:42: one row per event")
    handle = models.CharField(max_length=30, help_text="the trigger extension's handle")
    payload = models.JSONField(default=dict, help_text="ids and figures only, no personal data")
    customer_shopify_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(null=True, blank=True, help_text="its job was queued then (the sweep waits)")
    lease_until = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "key"], name="flow_trigger_once")]
        indexes = [models.Index(fields=["status", "next_at"])]


class EmailPause(models.Model):
    """"Pause Advocate emails for a customer", a Shopify Flow action run: no marketing email to the
    customer (matched by their Shopify id, known to Advocate or not) until `until`."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="email_pauses")
    customer_shopify_id = models.BigIntegerField()
    until = models.DateTimeField()
    action_run_id = models.CharField(max_length=120, help_text="Flow's id of the run: a retried run pauses once")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "action_run_id"], name="email_pause_once_per_run")]
        indexes = [models.Index(fields=["shop", "customer_shopify_id", "until"])]


class ProductCard(models.Model):
    """A product as shoppers see it beside Advocate's emails and pages (shopapp.catalog): read
    from Shopify, kept a day. `featured_rank`: its place among the shop's best sellers."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="product_cards")
    shopify_id = models.BigIntegerField()
    title = models.CharField(max_length=255)
    handle = models.CharField(max_length=255, blank=True)
    image_url = models.URLField(max_length=1000, blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    url = models.URLField(max_length=1000, blank=True, help_text="its page on the online store; empty when unpublished")
    featured_rank = models.PositiveSmallIntegerField(null=True, blank=True)
    refreshed_at = models.DateTimeField(default=timezone.now)

    objects = ShopScopedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "shopify_id"], name="product_card_once")]
        indexes = [models.Index(fields=["shop", "featured_rank"])]


class HistoryImport(models.Model):
    """One import of a shop's past customers, orders and products through bulk queries
    (shopapp/history.py): the progress row every batch commits with, so a killed worker or a lost
    Redis resumes from the last batch stored instead of starting again."""

    class Status(models.TextChoices):
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"
        CANCELED = "canceled"

    class Phase(models.TextChoices):
        CUSTOMERS = "customers", pgettext_lazy("a history import's phase", "Customers")
        ORDERS = "orders", pgettext_lazy("a history import's phase", "Orders")
        PRODUCTS = "products", pgettext_lazy("a history import's phase", "Products")
        DONE = "done", pgettext_lazy("a history import's phase", "Done")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="history_imports")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    phase = models.CharField(max_length=10, choices=Phase.choices, default=Phase.CUSTOMERS)
    months = models.PositiveSmallIntegerField(help_text="how far back the merchant asked for")
    since = models.DateTimeField(help_text="orders placed from then on are imported")
    # Shopify shows an app only the last 60 days of orders without read_all_orders.
    capped = models.BooleanField(default=False, help_text="the window was shortened to 60 days")
    operation = models.ForeignKey(BulkOperation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                  help_text="the current phase's bulk query")
    lines_done = models.PositiveIntegerField(default=0, help_text="lines of the phase's result stored")
    rows_done = models.PositiveIntegerField(default=0, help_text="objects of the phase's result stored")
    customers_new = models.PositiveIntegerField(default=0)
    orders_new = models.PositiveIntegerField(default=0)
    products_seen = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    phase_started_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # A worker moving the import on holds it until then: two jobs never start one phase twice.
    lease_until = models.DateTimeField(null=True, blank=True)

    objects = ShopScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop"], name="one_running_history_import_per_shop",
                                    condition=models.Q(status="running")),
        ]

    def __str__(self) -> str:
        return f"history import of {self.shop_id} ({self.status}, {self.phase})"
