from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.validators import validate_email
from django.utils.text import format_lazy
from django.utils.translation import gettext as _, gettext_lazy, pgettext_lazy

from reviews.cases.models import CaseSettings, Remedy, ReplyTemplate
from reviews.cases.conversation import PLACEHOLDERS, unknown_placeholders


class CaseSettingsForm(forms.ModelForm):
    class Meta:
        model = CaseSettings
        fields = ["rating_threshold", "keywords", "alert_recipients", "alert_mode", "first_response_hours", "pause_tag"]
        labels = {"rating_threshold": gettext_lazy("Open a case for reviews at or under (stars)"),
                  "pause_tag": gettext_lazy("Shopify customer tag during the pause"),
                  "keywords": gettext_lazy("Complaint keywords"), "alert_recipients": gettext_lazy("Send alerts to"),
                  "alert_mode": gettext_lazy("When to alert"),
                  "first_response_hours": gettext_lazy("First-response target (hours)")}
        help_texts = {
            "rating_threshold": gettext_lazy("reviews at or under this many stars open a case"),
            "keywords": gettext_lazy("one per line; a higher rating whose text contains one opens a case too"),
            "alert_recipients": gettext_lazy("email addresses, one per line; empty: the shop's email"),
            "pause_tag": gettext_lazy("the tag on a Shopify customer while their case is open and for the pause after it"),
        }
        widgets = {"keywords": forms.Textarea(attrs={"rows": 4}), "alert_recipients": forms.Textarea(attrs={"rows": 2}),
                   "alert_mode": forms.RadioSelect}

    def clean_pause_tag(self):
        tag = " ".join(self.cleaned_data["pause_tag"].split())
        if not tag:
            raise forms.ValidationError(_("Give the tag a name, for example advocate-case-open."))
        if "," in tag:
            raise forms.ValidationError(_("A tag cannot contain a comma: Shopify separates tags with commas."))
        return tag

    def clean_alert_recipients(self):
        value = self.cleaned_data["alert_recipients"]
        addresses = [a.strip() for a in value.replace(",", "\n").splitlines() if a.strip()]
        for address in addresses:
            try:
                validate_email(address)
            except forms.ValidationError:
                raise forms.ValidationError(_("“%(address)s” is not an email address.") % {"address": address}) from None
        return "\n".join(addresses)


def placeholder_error(text: str) -> str | None:
    """What to say about the first placeholder in `text` that Advocate does not fill; None when all are known."""
    unknown = unknown_placeholders(text)
    return _("Unknown placeholder %(placeholder)s.") % {"placeholder": "{" + unknown[0] + "}"} if unknown else None


class TemplateForm(forms.ModelForm):
    class Meta:
        model = ReplyTemplate
        fields = ["name", "subject", "body"]
        labels = {"name": gettext_lazy("Name"), "subject": gettext_lazy("Subject"), "body": gettext_lazy("Body")}
        widgets = {"body": forms.Textarea(attrs={"rows": 8})}
        help_texts = {"body": format_lazy(gettext_lazy("Placeholders: {placeholders}"),
                                          placeholders=", ".join("{" + p + "}" for p in PLACEHOLDERS))}

    def clean(self):
        data = super().clean()
        for field in ("subject", "body"):
            error = placeholder_error(data.get(field) or "")
            if error:
                self.add_error(field, error)
        return data


class ReplyForm(forms.Form):
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=200)
    body = forms.CharField(label=gettext_lazy("Message"), max_length=5000, widget=forms.Textarea(attrs={"rows": 8}))


class PublicReplyForm(forms.Form):
    reply = forms.CharField(label=gettext_lazy("Public reply"), max_length=2000, required=False,
                            widget=forms.Textarea(attrs={"rows": 4}),
                            help_text=gettext_lazy("Shown under the review on your store. Leave empty and save to remove it."))


class RemedyForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Remedy"), choices=Remedy.Kind.choices)
    amount = forms.DecimalField(label=gettext_lazy("Amount"), min_value=Decimal("0.00"), max_digits=10, decimal_places=2)
    note = forms.CharField(label=gettext_lazy("Note (optional)"), max_length=300, required=False)


class AnswerForm(forms.Form):
    """The customer's answer on their case page, in their language."""

    body = forms.CharField(label=pgettext_lazy("a customer's written answer to the shop's message", "Your answer"),
                           max_length=5000, widget=forms.Textarea(attrs={"rows": 6}))
