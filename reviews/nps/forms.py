from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from reviews.nps.models import NpsSettings

SCORE_CHOICES = [(str(n), str(n)) for n in range(11)]


class NpsSettingsForm(forms.ModelForm):
    class Meta:
        model = NpsSettings
        fields = ["enabled", "mode", "delay_days"]
        labels = {"enabled": _("Ask the NPS question"), "mode": _("Where to ask"),
                  "delay_days": _("Days after delivery, for an email of its own")}
        help_texts = {
            "mode": _("In the review request: no extra email, and only customers who get a request are asked. "
                      "On its own: one more email, counted in the limit of 5 review emails per customer in 30 days."),
            "delay_days": _("1 to 60. Counted from fulfilment when Shopify never reports the delivery."),
        }


class NpsAnswerForm(forms.Form):
    """The shopper's answer: a score (required) and an optional comment."""

    score = forms.TypedChoiceField(choices=SCORE_CHOICES, coerce=int, widget=forms.RadioSelect,
                                   error_messages={"required": _("Choose a number from 0 to 10."),
                                                   "invalid_choice": _("Choose a number from 0 to 10.")})
    comment = forms.CharField(required=False, max_length=1000, label=_("What is the main reason for your score? (optional)"),
                              widget=forms.Textarea(attrs={"rows": 4, "maxlength": 1000}))


FILTERS = [("", _("All answers")), ("detractor", _("Detractors (0–6)")), ("passive", _("Passives (7–8)")),
           ("promoter", _("Promoters (9–10)"))]
