from __future__ import annotations

from django import forms


class CustomerEraseForm(forms.Form):
    email = forms.EmailField(label="Customer's email address", max_length=254)
    confirm = forms.BooleanField(
        label="I understand this erases this customer's name, email, phone, reviews' authorship and referral identity for good.",
        error_messages={"required": "Tick the box to confirm: erasing cannot be undone."},
    )
