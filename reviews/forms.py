from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext as _, gettext_lazy, ngettext

from reviews.models import ModerationDecision, Review, ReviewSettings
from reviews.photos import MAX_BYTES, MAX_PHOTOS, PhotoInvalid, photo_clean
from shopapp.languages import number_format

# What shoppers read is translated when the page is made (gettext_lazy for labels), in its language.
RATING_CHOICES = [(str(n), str(n)) for n in range(5, 0, -1)]


def rating_choices() -> list[tuple[str, str]]:
    """5 down to 1, each named in the active language ('3 stars', '별 3개')."""
    return [(str(n), ngettext("%(count)s star", "%(count)s stars", n) % {"count": n}) for n in range(5, 0, -1)]


def photo_messages() -> dict:
    """The photo picker's words (reviews/static/reviews/photos.js) in the active language."""
    return {
        "list": _("Photos you chose"),
        "remove": _("Remove"),
        "remove_named": _("Remove %(name)s"),
        # How many photos were chosen, out of the room left; one sentence per room, for plurals.
        "chosen": {str(room): ngettext("%(chosen)s of %(room)s photo chosen.", "%(chosen)s of %(room)s photos chosen.",
                                       room) for room in range(MAX_PHOTOS + 1)},
        "not_photo": _("%(name)s is not a JPEG, PNG or WebP photo."),
        "too_large": _("%(name)s is larger than %(size)s."),
        "too_many": ngettext("%(name)s is one too many (up to %(max)s photo).",
                             "%(name)s is one too many (up to %(max)s photos).", MAX_PHOTOS).replace(
            "%(max)s", str(MAX_PHOTOS)),
        "uploading": _("Uploading your photos"),
        "uploading_now": _("Uploading your photos…"),
        "uploading_percent": _("Uploading your photos… %(percent)s"),
        "upload_failed": _("The upload did not get through. Check your connection and press the button again: "
                           "everything you wrote is still here."),
    }


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    widget = MultipleFileInput

    def __init__(self, **kwargs):
        # image/* types the picker checks; no `capture`, so a phone offers its camera and its library.
        kwargs.setdefault("widget", MultipleFileInput(attrs={
            "accept": "image/jpeg,image/png,image/webp", "data-max-photos": MAX_PHOTOS, "data-max-bytes": MAX_BYTES}))
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, (list, tuple)) else [data]) if f]
        if len(files) > MAX_PHOTOS:
            raise forms.ValidationError(ngettext("Choose up to %(max)s photo.", "Choose up to %(max)s photos.",
                                                 MAX_PHOTOS) % {"max": MAX_PHOTOS})
        cleaned = []
        for upload in files:
            try:
                cleaned.append(photo_clean(upload))
            except PhotoInvalid as exc:
                raise forms.ValidationError(str(exc)) from None
        return cleaned


class ReviewItemForm(forms.Form):
    """One product's part of the review page; a product left without stars is not reviewed."""

    rating = forms.ChoiceField(label=gettext_lazy("Your rating"), choices=RATING_CHOICES, widget=forms.RadioSelect,
                               required=False)
    title = forms.CharField(label=gettext_lazy("Title"), max_length=120, required=False)
    body = forms.CharField(label=gettext_lazy("Your review"), max_length=5000, required=False,
                           widget=forms.Textarea(attrs={"rows": 5}))
    display_name = forms.CharField(label=gettext_lazy("Name shown with your review"), max_length=60, required=False)
    photos = PhotosField(label=gettext_lazy("Photos"), required=False)
    remove_photos = forms.MultipleChoiceField(label=gettext_lazy("Remove photos"), required=False,
                                              widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, review: Review | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.review = review
        self.fields["rating"].choices = rating_choices()
        self.fields["body"].help_text = _("What should other shoppers know? Up to %(count)s characters.") % {
            "count": number_format(5000)}
        self.fields["photos"].help_text = photos_help()
        photo_ids = [str(p.pk) for p in review.photos.all()] if review else []
        self.fields["remove_photos"].choices = [(pk, _("Remove photo %(number)s") % {"number": i + 1})
                                                for i, pk in enumerate(photo_ids)]

    @property
    def is_rated(self) -> bool:
        return bool(self.cleaned_data.get("rating"))

    def clean(self):
        data = super().clean()
        typed = any(data.get(k) for k in ("title", "body", "photos"))
        if typed and not data.get("rating"):
            self.add_error("rating", _("Choose a star rating to post this review."))
        kept = len(self.fields["remove_photos"].choices) - len(data.get("remove_photos") or [])
        if len(data.get("photos") or []) + kept > MAX_PHOTOS:
            self.add_error("photos", ngettext("A review can have up to %(max)s photo; remove some first.",
                                              "A review can have up to %(max)s photos; remove some first.",
                                              MAX_PHOTOS) % {"max": MAX_PHOTOS})
        return data


class StorefrontReviewForm(forms.Form):
    """A review written on the storefront by someone who may not be a buyer: confirmed by email."""

    rating = forms.ChoiceField(label=gettext_lazy("Your rating"), choices=RATING_CHOICES, widget=forms.RadioSelect,
                               error_messages={"required": gettext_lazy("Choose a star rating.")})
    title = forms.CharField(label=gettext_lazy("Title"), max_length=120, required=False)
    body = forms.CharField(label=gettext_lazy("Your review"), max_length=5000, widget=forms.Textarea(attrs={"rows": 5}),
                           error_messages={"required": gettext_lazy("Write a few words about the product.")})
    display_name = forms.CharField(label=gettext_lazy("Name shown with your review"), max_length=60, required=False)
    email = forms.EmailField(label=gettext_lazy("Your email"), max_length=254,
                             help_text=gettext_lazy("We send you a link to confirm your review; your email is never shown."),
                             error_messages={
                                 "required": gettext_lazy("Enter your email so we can send the confirmation link."),
                                 "invalid": gettext_lazy("Enter an email address like name@example.com.")})
    # Left empty by people; filled by bots that complete every field. Hidden from view and from
    # assistive technology, so nobody using a screen reader is asked for it.
    website = forms.CharField(required=False, label="Leave this empty",
                              widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}))
    form_token = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rating"].choices = rating_choices()
        self.fields["body"].help_text = _("What should other shoppers know? Up to %(count)s characters.") % {
            "count": number_format(5000)}


def photos_help() -> str:
    return ngettext("Up to %(max)s photo, JPEG, PNG or WebP, %(size)s MB each. Location and camera details are removed.",
                    "Up to %(max)s photos, JPEG, PNG or WebP, %(size)s MB each. Location and camera details are removed.",
                    MAX_PHOTOS) % {"max": MAX_PHOTOS, "size": MAX_BYTES // (1024 * 1024)}


class RejectForm(forms.Form):
    reason = forms.ChoiceField(label=gettext_lazy("Reason"), choices=ModerationDecision.Reason.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The reasons' labels stay English in the model (a decision stores one): each is shown translated.
        self.fields["reason"].choices = [(value, _(label)) for value, label in ModerationDecision.Reason.choices]


class ReplyForm(forms.Form):
    reply = forms.CharField(label=gettext_lazy("Public reply"), max_length=2000, required=False,
                            widget=forms.Textarea(attrs={"rows": 4}),
                            help_text=gettext_lazy("Shown under the review on your store. Leave empty to remove it."))


class RequestSettingsForm(forms.ModelForm):
    class Meta:
        model = ReviewSettings
        fields = ["requests_enabled", "trigger", "delay_days", "home_country", "international_delay_days",
                  "reminder_enabled", "reminder_days", "honour_shopify_consent", "email_subject",
                  "email_body", "non_buyer_reviews", "incentive_enabled", "incentive_percent", "incentive_text"]
        labels = {
            "requests_enabled": gettext_lazy("Send review requests"),
            "trigger": gettext_lazy("Ask for a review"),
            "delay_days": gettext_lazy("Days to wait"),
            "home_country": gettext_lazy("Your country (2-letter code)"),
            "international_delay_days": gettext_lazy("Days to wait for orders shipped abroad"),
            "reminder_enabled": gettext_lazy("Send one reminder if nothing was reviewed"),
            "reminder_days": gettext_lazy("Days after the request"),
            "honour_shopify_consent": gettext_lazy("Respect customers who opted out of marketing in Shopify"),
            "email_subject": gettext_lazy("Email subject"),
            "email_body": gettext_lazy("Email text"),
            "non_buyer_reviews": gettext_lazy("Accept reviews from shoppers who did not buy (confirmed by email, never "
                                              "marked verified)"),
            "incentive_enabled": gettext_lazy("Offer an incentive for any review"),
            "incentive_percent": gettext_lazy("Discount for any review (percent off the next order)"),
            "incentive_text": gettext_lazy("Incentive shown in the email"),
        }
        help_texts = {
            "delay_days": gettext_lazy("0 to 60 days after the trigger."),
            "email_subject": gettext_lazy("You can use {shop}, {first_name} and {order}."),
            "email_body": gettext_lazy("You can use {shop}, {first_name} and {order}. Star links for each product "
                                       "follow."),
            "incentive_percent": gettext_lazy("1 to 100. Each reviewer gets a single-use code by email, the same for "
                                              "every rating."),
            # xgettext:no-python-format
            "incentive_text": gettext_lazy("Leave empty for “N% off your next order”. Such reviews are labelled "
                                           "incentivized."),
            "home_country": gettext_lazy("Leave empty to use one delay for every order."),
        }
        widgets = {"email_body": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["incentive_percent"].required = False  # needed only with incentives on (see clean)

    def clean_home_country(self):
        value = self.cleaned_data["home_country"].strip().upper()
        if value and (len(value) != 2 or not value.isalpha()):
            raise forms.ValidationError(_("Use a two-letter country code, like US or DE."))
        return value

    def clean(self):
        data = super().clean()
        if data.get("incentive_enabled") and not data.get("incentive_percent") and "incentive_percent" not in self.errors:
            self.add_error("incentive_percent", _("Enter the discount every reviewer gets, from 1 to 100 percent."))
        elif data.get("incentive_enabled") and not (data.get("incentive_text") or "").strip():
            # The shop's own text, stored in English: ReviewSettings.incentive_label knows it for the default.
            data["incentive_text"] = f"{data['incentive_percent']}% off your next order"
        for field in ("email_subject", "email_body"):
            problem = placeholder_problem(data.get(field) or "")
            if problem:
                self.add_error(field, problem)
        return data


def placeholder_problem(text: str) -> str | None:
    """What is wrong with a subject or body's placeholders (the send path fills only these three), or None."""
    unknown = [m for m in re.findall(r"\{[^{}]*\}", text) if m not in ("{shop}", "{first_name}", "{order}")]
    if not unknown:
        return None
    return _("Unknown placeholder %(placeholder)s: use {shop}, {first_name} or {order}.") % {"placeholder": unknown[0]}


class TestSendForm(forms.Form):
    to = forms.EmailField(label=gettext_lazy("Send a test request to"))
