from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _, gettext_lazy

DEFAULTS = {"newest_days": 30, "oldest_days": 180, "per_day": 50}


class LookbackForm(forms.Form):
    """The window (fulfilled between `newest_days` and `oldest_days` ago) and the daily rate."""

    newest_days = forms.IntegerField(label=gettext_lazy("Fulfilled at least this many days ago"), min_value=0,
                                     max_value=729, initial=DEFAULTS["newest_days"])
    oldest_days = forms.IntegerField(label=gettext_lazy("And at most this many days ago"), min_value=1, max_value=730,
                                     initial=DEFAULTS["oldest_days"],
                                     help_text=gettext_lazy("Up to 730 days: as far back as your imported order "
                                                            "history goes."))
    per_day = forms.IntegerField(label=gettext_lazy("Emails per day"), min_value=1, max_value=1000,
                                 initial=DEFAULTS["per_day"],
                                 help_text=gettext_lazy("Spread evenly through each day, from the moment you start."))

    def clean(self):
        data = super().clean()
        newest, oldest = data.get("newest_days"), data.get("oldest_days")
        if newest is not None and oldest is not None and newest >= oldest:
            self.add_error("oldest_days", _("Choose more days than in the field above: the window runs from the "
                                            "newer date back to the older one."))
        return data
