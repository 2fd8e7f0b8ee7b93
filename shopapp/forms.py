from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext as _, gettext_lazy, ngettext


class CustomerEraseForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("Customer's email address"), max_length=254)
    confirm = forms.BooleanField(
        label=gettext_lazy("I understand this erases this customer's name, email, phone, reviews' authorship and "
                           "referral identity for good."),
        error_messages={"required": gettext_lazy("Tick the box to confirm: erasing cannot be undone.")},
    )


class SenderForm(forms.Form):
    sender_name = forms.CharField(label=gettext_lazy("Sender name"), max_length=100, required=False,
                                  help_text=gettext_lazy("Shown as the email's sender. Leave empty to use your "
                                                         "store's name."))
    reply_to = forms.EmailField(label=gettext_lazy("Reply-to address"), required=False,
                                help_text=gettext_lazy("Where customers' replies go. Leave empty to use your "
                                                       "store's email."))

    def clean_sender_name(self):
        value = self.cleaned_data["sender_name"].strip()
        if any(ch in value for ch in '\r\n<>"'):
            raise forms.ValidationError(_("Use letters, numbers and spaces only (no quotes, angle brackets or line "
                                          "breaks)."))
        return value


class BrandForm(forms.Form):
    logo_url = forms.URLField(label=gettext_lazy("Logo address (https://…)"), required=False, max_length=1000,
                              assume_scheme="https",
                              help_text=gettext_lazy("A PNG, JPG or SVG, ideally on your store's files (Content › "
                                                     "Files). Leave empty to use the logo in your Shopify brand "
                                                     "settings."))
    color = forms.CharField(label=gettext_lazy("Brand colour (#rrggbb)"), required=False, max_length=7,
                            widget=forms.TextInput(attrs={"placeholder": "#2f6f4e", "inputmode": "text",
                                                          "autocomplete": "off", "spellcheck": "false"}),
                            help_text=gettext_lazy("Buttons and links in emails and on your customers' pages. "
                                                   "Leave empty to use your Shopify brand colour. A light colour "
                                                   "is darkened until text reads on it."))

    def clean_logo_url(self):
        value = self.cleaned_data["logo_url"].strip()
        if value and not value.startswith("https://"):
            raise forms.ValidationError(_("Use an address that starts with https:// (email apps block other "
                                          "images)."))
        return value

    def clean_color(self):
        value = self.cleaned_data["color"].strip().lower()
        if value and not re.fullmatch(r"#[0-9a-f]{6}", value):
            raise forms.ValidationError(_("Write the colour as # and six hex digits, for example #2f6f4e."))
        return value


def _months_back() -> list[tuple[int, str]]:
    """The choices in the language of the page showing them (a callable: read each time it is shown)."""
    return [(n, ngettext("The last month", "The last %(count)s months", n) % {"count": n}) for n in range(1, 25)]


class HistoryImportForm(forms.Form):
    months = forms.TypedChoiceField(
        label=gettext_lazy("How far back"), coerce=int, initial=12, choices=_months_back,
        help_text=gettext_lazy("Orders placed in this time, with their customers and your products."))


class TestSendForm(forms.Form):
    to = forms.EmailField(label=gettext_lazy("Send a test email to"))


def test_send_post(data, send, *, form_class=TestSendForm, sent: str | None = None) -> tuple[forms.Form, str, int]:
    """Validate a panel's "send a test" form and send: (form, notice, HTTP status) for the page to show.

    `sent`: the notice, translated, with %(to)s for the address ("Test email sent to %(to)s." by default)."""
    form = form_class(data)
    if not form.is_valid():
        return form, "", 400
    send(form.cleaned_data["to"])
    return form, (sent or _("Test email sent to %(to)s.")) % {"to": form.cleaned_data["to"]}, 200
