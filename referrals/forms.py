from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext as _, gettext_lazy

from referrals.models import ProgramSettings, Referral

HUNDRED = Decimal("100")


class ProgramSettingsForm(forms.ModelForm):
    class Meta:
        model = ProgramSettings
        fields = ["enabled", "friend_offer_kind", "friend_offer_value", "friend_minimum_subtotal",
                  "friend_first_order_only", "reward_kind", "reward_value", "reward_cap", "hold_days",
                  "monthly_cap", "weekly_referral_limit", "landing_text"]
        labels = {
            "enabled": gettext_lazy("Referral program on"),
            "friend_offer_kind": gettext_lazy("Friend's discount"),
            "friend_offer_value": gettext_lazy("Discount amount"),
            "friend_minimum_subtotal": gettext_lazy("Minimum order subtotal"),
            "friend_first_order_only": gettext_lazy(
                "First order only: the friend's code works only for customers with no orders yet"),
            "reward_kind": gettext_lazy("Advocate's reward"),
            "reward_value": gettext_lazy("Reward amount"),
            "reward_cap": gettext_lazy("Largest reward per order"),
            "hold_days": gettext_lazy("Days to hold a reward after fulfilment"),
            "monthly_cap": gettext_lazy("Most credit per advocate per month"),
            "weekly_referral_limit": gettext_lazy("Referrals per advocate per week before they are flagged"),
            "landing_text": gettext_lazy("Text on the friend's landing page"),
        }
        help_texts = {
            "friend_offer_value": gettext_lazy(
                "A percent (1–100) or an amount in your currency, depending on the choice above."),
            "friend_minimum_subtotal": gettext_lazy("0 for no minimum."),
            "friend_first_order_only": gettext_lazy(
                "Shopify refuses the code at checkout to anyone who has ordered before, and an order from an "
                "existing customer is held for you to review. Off: any customer may use it once."),
            "reward_value": gettext_lazy("Store credit in your currency, or a percent of what the friend paid."),
            "reward_cap": gettext_lazy("Needed for a percent reward; leave empty for a fixed reward."),
            "hold_days": gettext_lazy("Your return window; 30 days is usual. A refund within it cancels the reward."),
            "monthly_cap": gettext_lazy("Leave empty for no limit."),
            "landing_text": gettext_lazy("Up to 1,000 characters, shown under the offer. Plain text."),
        }
        widgets = {"landing_text": forms.Textarea(attrs={"rows": 4, "maxlength": 1000})}

    def clean(self):
        data = super().clean()
        offer_kind, offer = data.get("friend_offer_kind"), data.get("friend_offer_value")
        minimum = data.get("friend_minimum_subtotal")
        if offer is not None and offer_kind == ProgramSettings.OfferKind.PERCENT and offer > HUNDRED:
            self.add_error("friend_offer_value", _("A percent discount can be at most 100."))
        if (offer is not None and minimum and offer_kind == ProgramSettings.OfferKind.FIXED and offer >= minimum):
            self.add_error("friend_offer_value", _("A fixed discount must be less than the minimum subtotal."))
        reward_kind, reward, cap = data.get("reward_kind"), data.get("reward_value"), data.get("reward_cap")
        if reward_kind == ProgramSettings.RewardKind.PERCENT:
            if reward is not None and reward > HUNDRED:
                self.add_error("reward_value", _("A percent reward can be at most 100."))
            if cap is None and "reward_cap" not in self.errors:
                self.add_error("reward_cap", _("Set the largest reward for a percent reward."))
        elif cap is not None:
            data["reward_cap"] = None  # a fixed reward needs no cap: don't keep a stale one
        return data

    def offer_changed(self) -> bool:
        """Whether the friend's discount itself changed, so the advocates' Shopify codes need updating."""
        return bool({"friend_offer_kind", "friend_offer_value", "friend_minimum_subtotal", "friend_first_order_only"}
                    & set(self.changed_data))


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", gettext_lazy("Approve")), ("reject", gettext_lazy("Reject"))])
    # A text area, so Enter in the note never submits the form's first button (Reject, kept apart at the start).
    note = forms.CharField(label=gettext_lazy("Note (optional, only you see it)"), max_length=255, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))


STATUS_FILTERS = [("", gettext_lazy("All"))] + [(value, capfirst(label)) for value, label in Referral.Status.choices]
