from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.validators import validate_email
from django.utils.translation import pgettext_lazy

from reviews.cases.models import CaseSettings, Remedy, ReplyTemplate
from reviews.cases.conversation import PLACEHOLDERS, unknown_placeholders


class CaseSettingsForm(forms.ModelForm):
    class Meta:
        model = CaseSettings
        fields = ["rating_threshold", "keywords", "alert_recipients", "alert_mode", "first_response_hours", "pause_tag"]
        labels = {"rating_threshold": "Open a case for reviews at or under (stars)",
                  "pause_tag": "Shopify customer tag during the pause",
                  "keywords": "Complaint keywords", "alert_recipients": "Send alerts to",
                  "alert_mode": "When to alert", "first_response_hours": "First-response target (hours)"}
        widgets = {"keywords": forms.Textarea(attrs={"rows": 4}), "alert_recipients": forms.Textarea(attrs={"rows": 2}),
                   "alert_mode": forms.RadioSelect}

    def clean_pause_tag(self):
        tag = " ".join(self.cleaned_data["pause_tag"].split())
        if not tag:
            raise forms.ValidationError("Give the tag a name, for example advocate-case-open.")
        if "," in tag:
            raise forms.ValidationError("A tag cannot contain a comma: Shopify separates tags with commas.")
        return tag

    def clean_alert_recipients(self):
        value = self.cleaned_data["alert_recipients"]
        addresses = [a.strip() for a in value.replace(",", "\n").splitlines() if a.strip()]
        for address in addresses:
            try:
                validate_email(address)
            except forms.ValidationError:
                raise forms.ValidationError(f"“{address}” is not an email address.") from None
        return "\n".join(addresses)


class TemplateForm(forms.ModelForm):
    class Meta:
        model = ReplyTemplate
        fields = ["name", "subject", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 8})}
        help_texts = {"body": "Placeholders: " + ", ".join("{" + p + "}" for p in PLACEHOLDERS)}

    def clean(self):
        data = super().clean()
        for field in ("subject", "body"):
            unknown = unknown_placeholders(data.get(field) or "")
            if unknown:
                self.add_error(field, f"Unknown placeholder {{{unknown[0]}}}.")
        return data


class ReplyForm(forms.Form):
    subject = forms.CharField(label="Subject", max_length=200)
    body = forms.CharField(label="Message", max_length=5000, widget=forms.Textarea(attrs={"rows": 8}))


class PublicReplyForm(forms.Form):
    reply = forms.CharField(label="Public reply", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 4}),
                            help_text="Shown under the review on your store. Leave empty and save to remove it.")


class RemedyForm(forms.Form):
    kind = forms.ChoiceField(label="Remedy", choices=Remedy.Kind.choices)
    amount = forms.DecimalField(label="Amount", min_value=Decimal("0.00"), max_digits=10, decimal_places=2)
    note = forms.CharField(label="Note (optional)", max_length=300, required=False)


class AnswerForm(forms.Form):
    """The customer's answer on their case page, in their language."""

    body = forms.CharField(label=pgettext_lazy("a customer's written answer to the shop's message", "Your answer"),
                           max_length=5000, widget=forms.Textarea(attrs={"rows": 6}))
