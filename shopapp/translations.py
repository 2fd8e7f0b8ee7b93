"""The merchant's own texts in the other languages (the request email, reply templates, the referral
landing text): one field per language and text beside the shop's default-language field.

Each field opens with what a shopper of that language gets now (the built-in default's translation
while the merchant kept the default, else their own words), so the default is offered in every
language; only what the merchant writes differently is stored (`translations()`), so a shop that
changes nothing keeps following the catalogue.

And the panel's own language as the code that writes it needs it: Babel's locale of the active
language (active_locale), and a name as it reads inside one of its sentences (in_sentence).
"""
from __future__ import annotations

import copy
from typing import Callable

from babel import Locale
from django import forms
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from shopapp.languages import DEFAULT_LANGUAGE, babel_locale, language_of

# Languages whose nouns keep their capital inside a sentence: a name there stays as it is written.
_CAPITAL_NOUNS = {"de"}


def shop_default_language(shop) -> str:
    """The language the merchant's own fields are in: the storefront's primary, else English."""
    return language_of(getattr(shop, "primary_locale", "")) or DEFAULT_LANGUAGE


def other_languages(shop) -> list[str]:
    default = shop_default_language(shop)
    return [code for code, _ in settings.LANGUAGES if code != default]


def active_language() -> str:
    """The active language as one of the launch languages."""
    return language_of(translation.get_language()) or DEFAULT_LANGUAGE


def active_locale(*, dates: bool = False) -> Locale:
    """Babel's locale of the active language (`dates`: the one its dates are written in, British for English)."""
    return babel_locale(active_language(), dates=dates)


def in_sentence(name: str) -> str:
    """A name that starts with a capital ('Everyone else', a section's title) as it reads inside a
    sentence of the active language: 'everyone else', but German 'Bewertungen' keeps its capital."""
    text = str(name)
    return text if active_language() in _CAPITAL_NOUNS else text[:1].lower() + text[1:]


class TranslationsForm(forms.Form):
    """`texts`: name -> the field to copy per language; `current(language, name)`: what that shopper
    reads now; `default(language, name)`: what they would read without the merchant's version;
    `check(value)`: an error message for a value the send path cannot use, or None."""

    def __init__(self, *args, texts: dict[str, forms.Field], languages: list[str], current: Callable[[str, str], str],
                 default: Callable[[str, str], str], check: Callable[[str], str | None] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._texts, self._default, self._check = list(texts), default, check
        names = dict(settings.LANGUAGES)
        self.languages = []
        for language in languages:
            for name, field in texts.items():
                key = f"{language}-{name}"
                self.fields[key] = copy.deepcopy(field)
                self.fields[key].required = False
                # One name per field, for every reader: the field's label and the language's own name.
                self.fields[key].label = gettext("%(label)s (%(language)s)") % {"label": field.label,
                                                                               "language": names[language]}
                self.initial.setdefault(key, current(language, name))
            self.languages.append({"code": language, "name": names[language],
                                   "fields": [self[f"{language}-{name}"] for name in texts]})

    def clean(self):
        data = super().clean()
        for key, value in list(data.items()):
            problem = self._check(value or "") if self._check else None
            if problem:
                self.add_error(key, problem)
        return data

    def translations(self, existing: dict | None) -> dict[str, dict[str, str]]:
        """The `translations` to store (after is_valid): `existing` with what the merchant changed here. A
        field left as it was shown (or not sent) keeps what was stored; one emptied, or set back to the default, drops the
        merchant's version; anything else is their version. Texts this form does not show stay as they were."""
        kept = {language: dict(values) for language, values in (existing or {}).items() if isinstance(values, dict)}
        for language in (entry["code"] for entry in self.languages):
            for name in self._texts:
                key = f"{language}-{name}"
                value = _plain(self.cleaned_data.get(key))
                if self.add_prefix(key) not in self.data or value == _plain(self.initial.get(key)):
                    continue  # not sent (an older page), or left as it was shown
                if not value or value == _plain(self._default(language, name)):
                    kept.get(language, {}).pop(name, None)
                else:
                    kept.setdefault(language, {})[name] = value
        return {language: values for language, values in kept.items() if values}


def _plain(text) -> str:
    # A browser sends a text area's line breaks as CRLF; the same words are the same text.
    return (text or "").replace("\r\n", "\n").strip()
