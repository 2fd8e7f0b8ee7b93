from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _, gettext_lazy, pgettext_lazy

from shopapp.languages import money_format, percent_format
from shopapp.models import Customer, Order, Shop, ShopScopedQuerySet

ZERO = Decimal("0.00")


class ProgramSettings(models.Model):
    """How a shop's referral program pays friends and advocates."""

    class OfferKind(models.TextChoices):
        PERCENT = "percent", gettext_lazy("Percent off")
        FIXED = "fixed", gettext_lazy("Fixed amount off")

    class RewardKind(models.TextChoices):
        FIXED = "fixed", gettext_lazy("Fixed store credit")
        PERCENT = "percent", gettext_lazy("Percent of the friend's order")

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="referral_settings")
    enabled = models.BooleanField(default=True)
    friend_offer_kind = models.CharField(max_length=10, choices=OfferKind.choices, default=OfferKind.PERCENT)
    friend_offer_value = models.DecimalField(
        max_digits=10, decimal_places=2, default=Decimal("10.00"), validators=[MinValueValidator(Decimal("0.01"))]
    )
    friend_minimum_subtotal = models.DecimalField(max_digits=10, decimal_places=2, default=ZERO,
                                                  validators=[MinValueValidator(ZERO)])
    friend_first_order_only = models.BooleanField(default=True)
    # The shop's "no orders yet" customer segment in Shopify, made once and reused by every friend code.
    friend_segment_gid = models.CharField(max_length=255, blank=True, default="")
    reward_kind = models.CharField(max_length=10, choices=RewardKind.choices, default=RewardKind.FIXED)
    reward_value = models.DecimalField(
        max_digits=10, decimal_places=2, default=Decimal("10.00"), validators=[MinValueValidator(Decimal("0.01"))]
    )
    reward_cap = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True,
                                     validators=[MinValueValidator(Decimal("0.01"))])
    hold_days = models.PositiveIntegerField(default=30, validators=[MaxValueValidator(365)])
    monthly_cap = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True,
                                      validators=[MinValueValidator(Decimal("0.01"))])
    weekly_referral_limit = models.PositiveIntegerField(default=5, validators=[MinValueValidator(1)])
    landing_text = models.TextField(blank=True, max_length=1000)
    # The landing text per language, {"ko": {"landing_text": "..."}}; the field above is the shop's default language.
    translations = models.JSONField(default=dict, blank=True)
    saved_at = models.DateTimeField(null=True, blank=True, help_text="set when the merchant saves the form")

    @classmethod
    def for_shop(cls, shop: Shop) -> "ProgramSettings":
        # The click path loads them with the shop (select_related): no second query there.
        if Shop.referral_settings.is_cached(shop) and getattr(shop, "referral_settings", None) is not None:
            return shop.referral_settings
        settings, _ = cls.objects.get_or_create(shop=shop)
        return settings

    def landing_text_in(self, language: str) -> str:
        """What the merchant tells a friend who reads `language`: their version in it, else their own words."""
        own = ((self.translations or {}).get(language) or {}).get("landing_text", "").strip()
        return own or self.landing_text

    def offer_label(self, currency: str, *, whose: str = "your") -> str:
        """The friend's offer in words, in the active language, to the friend ("your") or about them ("their")."""
        if self.friend_offer_kind == self.OfferKind.PERCENT:
            amount = percent_format(self.friend_offer_value)
        else:
            amount = money_format(self.friend_offer_value, currency)
        if self.friend_minimum_subtotal > 0:
            return _("%(amount)s off orders over %(minimum)s") % {
                "amount": amount, "minimum": money_format(self.friend_minimum_subtotal, currency)}
        if whose == "their":
            label = (_("%(amount)s off their first order") if self.friend_first_order_only
                     else _("%(amount)s off their order"))
        else:
            label = _("%(amount)s off your first order") if self.friend_first_order_only else _("%(amount)s off your order")
        return label % {"amount": amount}


class Advocate(models.Model):
    """A customer with a referral code; the code is also a Shopify discount code."""

    class Status(models.TextChoices):
        ACTIVE = "active"
        PAUSED = "paused"

    class CodeState(models.TextChoices):
        PENDING = "pending"
        CREATED = "created"
        FAILED = "failed"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="advocates")
    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="advocate")
    # Unique across shops too: /r/<code> on the app's own domain names no shop.
    code = models.CharField(max_length=40, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    code_state = models.CharField(max_length=10, choices=CodeState.choices, default=CodeState.PENDING)
    discount_gid = models.CharField(max_length=100, blank=True)
    code_attempts = models.PositiveIntegerField(default=0)
    code_error = models.TextField(blank=True)
    code_next_attempt_at = models.DateTimeField(null=True, blank=True)
    invite_due_at = models.DateTimeField(null=True, blank=True)
    invited_at = models.DateTimeField(null=True, blank=True)
    invite_skip_reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ShopScopedQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["code_state", "code_next_attempt_at"])]

    def __str__(self) -> str:
        return self.code

    @property
    def first_name(self) -> str:
        return self.customer.first_name or _("A friend")

    def balance(self) -> Decimal:
        return CreditEntry.objects.filter(advocate=self).confirmed().balance()


class Click(models.Model):
    """One visit to /r/<code>: no raw IP is kept."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="referral_clicks")
    advocate = models.ForeignKey(Advocate, on_delete=models.CASCADE, related_name="clicks")
    at = models.DateTimeField(default=timezone.now)
    ip_hash = models.CharField(max_length=64)
    user_agent = models.CharField(max_length=500, blank=True)
    landing_path = models.CharField(max_length=500, blank=True)
    referrer_host = models.CharField(max_length=255, blank=True)
    own = models.BooleanField(default=False, help_text="the advocate opening their own link")

    objects = ShopScopedQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["shop", "at"]), models.Index(fields=["advocate", "at"])]


class ReferralQuerySet(ShopScopedQuerySet):
    def earning(self):
        return self.filter(status__in=[Referral.Status.PENDING, Referral.Status.APPROVED, Referral.Status.ISSUED])


class Referral(models.Model):
    """A friend's order attributed to an advocate, and what it earns them."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("referral status", "Pending")  # in the hold period
        FLAGGED = "flagged", pgettext_lazy("referral status", "Flagged")  # a fraud rule fired: the merchant decides
        APPROVED = "approved", pgettext_lazy("referral status", "Approved")  # hold over, reward being issued
        REJECTED = "rejected", pgettext_lazy("referral status", "Rejected")
        # Refunded or cancelled during the hold (or after approval, before anything was paid).
        VOID = "void", pgettext_lazy("referral status", "Void")
        ISSUED = "issued", pgettext_lazy("referral status", "Issued")
        # Refunded or cancelled after the reward was paid: it is taken back.
        REVERSED = "reversed", pgettext_lazy("referral status", "Reversed")

    class Via(models.TextChoices):
        CODE = "code", gettext_lazy("discount code")
        LINK = "link", gettext_lazy("referral link")
        NOTE = "note", gettext_lazy("cart attribute")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="referrals")
    advocate = models.ForeignKey(Advocate, on_delete=models.CASCADE, related_name="referrals")
    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="referral")
    friend = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="referred_by")
    via = models.CharField(max_length=10, choices=Via.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    fraud_reasons = models.JSONField(default=list, blank=True)
    order_total = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)
    reward_amount = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)
    currency = models.CharField(max_length=3)
    hold_until = models.DateTimeField(null=True, blank=True, help_text="set when the order is fulfilled")
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=255, blank=True, help_text="who approved or rejected a flagged referral")
    decision_note = models.CharField(max_length=255, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    advocate_told_at = models.DateTimeField(null=True, blank=True, help_text="the advocate was told of the order "
                                                                                "(claimed, so told once)")
    reversal_due_at = models.DateTimeField(null=True, blank=True, help_text="a refund after approval left a reward "
                                                                          "to take back; cleared once the ledger is settled")

    objects = ReferralQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "hold_until"]), models.Index(fields=["shop", "created_at"]),
                   models.Index(fields=["advocate", "approved_at"])]


class LedgerImmutable(Exception):
    """An attempt to change what a ledger entry says was owed, or to delete it: write a new entry instead."""


# What an entry records about the business event. Only its settlement (status, Shopify's
# reference, notes, claim and email bookkeeping) moves afterwards.
LEDGER_FIXED = frozenset({"shop", "shop_id", "advocate", "advocate_id", "referral", "referral_id", "key", "method",
                          "amount", "currency", "created_at"})


class CreditEntryQuerySet(ShopScopedQuerySet):
    def update(self, **kwargs):
        fixed = LEDGER_FIXED.intersection(kwargs)
        if fixed:
            raise LedgerImmutable(f"Ledger entries are append-only: {', '.join(sorted(fixed))} cannot change.")
        return super().update(**kwargs)

    def delete(self):
        # The shop's erase (shop/redact) deletes the ledger through the shop's cascade, which
        # does not pass through here: that is the one sanctioned deletion.
        raise LedgerImmutable("Ledger entries are never deleted: record a correcting entry.")

    def confirmed(self):
        return self.filter(status=CreditEntry.Status.CONFIRMED)

    def balance(self) -> Decimal:
        return self.aggregate(total=Sum("amount"))["total"] or ZERO

    def owed(self) -> Decimal:
        """What an advocate still owes from refunded rewards (positive), netted against later ones."""
        settled = self.filter(method=CreditEntry.Method.OFFSET).confirmed().balance()
        return -settled if settled < 0 else ZERO


class CreditEntry(models.Model):
    """One credit given to an advocate. Append-only, enforced: what was owed (amount, currency,
    key, who, why) never changes and no entry is deleted (the model and its queryset refuse,
    and on PostgreSQL a trigger does too); only the settlement moves, from intent to
    confirmed (Shopify did it) or cancelled (it did not). Corrections are new entries."""

    class Status(models.TextChoices):
        INTENT = "intent", pgettext_lazy("payment state", "Intent")  # written before calling Shopify
        CONFIRMED = "confirmed", pgettext_lazy("payment state", "Confirmed")
        # Shopify's state could not be read back: a person checks.
        UNCERTAIN = "uncertain", pgettext_lazy("payment state", "Uncertain")
        CANCELLED = "cancelled", pgettext_lazy("payment state", "Cancelled")  # Shopify refused; nothing was paid

    class Method(models.TextChoices):
        STORE_CREDIT = "store_credit", gettext_lazy("store credit")
        DISCOUNT_CODE = "discount_code", gettext_lazy("discount code by email")
        # No money moves in Shopify: what a refund left owed (negative) and what a later reward
        # paid of it (positive). Their sum is what the advocate still owes.
        OFFSET = "offset", gettext_lazy("owed, netted against later rewards")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="credit_entries")
    advocate = models.ForeignKey(Advocate, on_delete=models.CASCADE, related_name="credit_entries")
    # RESTRICT, not PROTECT: a referral with payments cannot be deleted on its own, but the shop's
    # erase (shop/redact), which deletes its ledger in the same cascade, can take both.
    referral = models.ForeignKey(Referral, null=True, blank=True, on_delete=models.RESTRICT, related_name="credit_entries")
    key = models.CharField(max_length=120, help_text="one business event, e.g. reward:<referral id>")
    method = models.CharField(max_length=20, choices=Method.choices, default=Method.STORE_CREDIT)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.INTENT)
    shopify_ref = models.CharField(max_length=255, blank=True, help_text="transaction id or discount code")
    note = models.CharField(max_length=255, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    attempted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True, help_text="the reward code email went out")

    objects = CreditEntryQuerySet.as_manager()

    def save(self, *args, **kwargs):
        if not self._state.adding:
            fields = kwargs.get("update_fields")
            if fields is None or LEDGER_FIXED.intersection(fields):
                raise LedgerImmutable("Ledger entries are append-only: save an existing one with update_fields "
                                      "naming only its settlement.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise LedgerImmutable("Ledger entries are never deleted: record a correcting entry.")

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["shop", "key"], name="credit_entry_once_per_event")]
        indexes = [models.Index(fields=["status", "created_at"])]
