"""The shopper's language: which of Advocate's languages a Shopify locale is, which one an email or a
page speaks, and dates, numbers and money written the way that language writes them (Babel's CLDR).

Whose language? An email, and every page its link opens, speaks the language the customer ordered in
(the order's `customer_locale`), else the shop's primary locale, else English: the page a link opens
never disagrees with the email it came in. A page without a person behind it (a friend's landing
page, a storefront page, a broken link) speaks the storefront's locale or the browser's. `?lang=`
overrides either, for testing and for a shopper who wants another of the launch languages.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache, wraps

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time
from babel.lists import format_list
from babel.numbers import format_currency, format_decimal, format_percent
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers

DEFAULT_LANGUAGE = "en"
# Dates as each language writes them; English keeps Advocate's '5 Dec 2026' (British order, no comma).
_DATE_LOCALE = {"en": "en_GB"}
_ACCEPT_LANGUAGE_MAX = 255  # a longer header is junk: read no further than this


def languages() -> list[str]:
    """The launch languages, settings.LANGUAGES' codes."""
    return [code for code, _ in settings.LANGUAGES]


def language_of(locale: str | None) -> str | None:
    """A Shopify or browser locale ('ko-KR', 'ja', 'fr-Fr', 'pt_BR') as a launch language, or None."""
    code = (locale or "").strip().replace("_", "-").lower()
    if not code:
        return None
    known = languages()
    if code in known:
        return code
    base = code.split("-", 1)[0]
    return base if base in known else None


def shopper_language(shop, *, order=None, customer=None) -> str:
    """The language of a shopper's email and of the pages its links open.

    The order's `customer_locale` (the storefront language they bought in); without an order, or an
    order that names none, their latest order's; then the shop's primary locale; then English. An
    order in a language Advocate does not speak yet ('pt-BR') falls back to the shop's language,
    not to an older order's.
    """
    candidates = []
    if order is not None and getattr(order, "customer_locale", ""):
        candidates.append(order.customer_locale)
    else:
        customer = customer or getattr(order, "customer", None)
        candidates.append(customer_locale(customer))
    candidates.append(getattr(shop, "primary_locale", "") if shop is not None else "")
    for locale in candidates:
        language = language_of(locale)
        if language:
            return language
    return DEFAULT_LANGUAGE


def customer_locale(customer) -> str:
    """The locale of the customer's latest order that names one ('' for none, a guest or a sample)."""
    if customer is None or customer.pk is None:
        return ""
    from_order = customer.orders.exclude(customer_locale="").order_by("-placed_at").values_list(
        "customer_locale", flat=True).first()
    return from_order or ""


def request_language(request: HttpRequest, *, fallback: str | None = None) -> str:
    """The language of a page nobody's order speaks for: `?lang=`, the storefront's locale (`?locale=`,
    which Advocate's theme blocks pass from Liquid's request.locale), the browser's Accept-Language,
    then `fallback`, the shop's primary locale, English."""
    for locale in (request.GET.get("lang"), request.GET.get("locale")):
        language = language_of(locale)
        if language:
            return language
    language = accept_language(request.headers.get("Accept-Language", ""))
    if language:
        return language
    shop = getattr(request, "shop", None)
    return language_of(fallback) or language_of(getattr(shop, "primary_locale", "")) or DEFAULT_LANGUAGE


@lru_cache(maxsize=512)
def accept_language(header: str) -> str | None:
    """The launch language the browser prefers most, from an Accept-Language header, or None."""
    ranked = []
    for position, part in enumerate(header[:_ACCEPT_LANGUAGE_MAX].split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, position, tag))
    for _, _, tag in sorted(ranked):
        language = language_of(tag)
        if language:
            return language
    return None


def language_use(request: HttpRequest, language: str) -> str:
    """Switch the page being made to `language` (whose page it is is known now), unless `?lang=` asks
    for another launch language, or the storefront the page is shown in speaks one (`?locale=`, on the
    app proxy). Only inside a `shopper_page` view, which restores what was active."""
    chosen = (language_of(request.GET.get("lang")) or language_of(request.GET.get("locale")) or language_of(language)
              or DEFAULT_LANGUAGE)
    translation.activate(chosen)
    return chosen


def shopper_page(view):
    """A page shoppers open: in request_language() until the view knows whose page it is and calls
    language_use(); the answer says which language it is in. Put it below `app_proxy_view`, so the
    shop's own language is known."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        with translation.override(request_language(request)):
            response = view(request, *args, **kwargs)
            response.headers.setdefault("Content-Language", translation.get_language())
        patch_vary_headers(response, ["Accept-Language"])
        return response

    return wrapped


# --- Dates, numbers and money as the active language writes them ---------------------------------


def _active(language: str | None) -> str:
    return language_of(language or translation.get_language()) or DEFAULT_LANGUAGE


@lru_cache(maxsize=64)
def babel_locale(language: str, *, dates: bool = False) -> Locale:
    name = _DATE_LOCALE.get(language, language) if dates else language
    try:
        return Locale.parse(name.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT_LANGUAGE)


def money_format(amount, currency: str, language: str | None = None) -> str:
    """'$10.00', '10,00 €', '₩10,000', 'US$10.00' in Korean: the currency's own decimals and symbol."""
    value = amount if isinstance(amount, Decimal) else Decimal(str(amount or 0))
    return format_currency(value, (currency or "USD").upper(), locale=babel_locale(_active(language)))


def number_format(value, language: str | None = None) -> str:
    """1,234.5 or 1.234,5: grouping and decimal mark of the language."""
    return format_decimal(value, locale=babel_locale(_active(language)))


def percent_format(value, language: str | None = None) -> str:
    """'15%', '15 %' in German and French: `value` is the number before the sign (15, not 0.15)."""
    value = value if isinstance(value, Decimal) else Decimal(str(value))
    return format_percent(value / 100, locale=babel_locale(_active(language)), decimal_quantization=False)


def date_format(value: date | datetime | None, language: str | None = None) -> str:
    """'5 Dec 2026', '2026. 12. 5.', '2026/12/05', '05.12.2026': a date in the shop's words."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        value = value.date()
    return format_date(value, format="medium", locale=babel_locale(_active(language), dates=True))


def datetime_format(value: datetime | None, language: str | None = None) -> str:
    """'5 Dec 2026, 14:05', '2026. 12. 5. 오후 2:05': a moment where the time matters."""
    if value is None:
        return ""
    locale = babel_locale(_active(language), dates=True)
    moment = timezone.localtime(value) if timezone.is_aware(value) else value
    pattern = str(locale.datetime_formats.get("medium", "{1} {0}"))
    return pattern.replace("{1}", format_date(moment.date(), format="medium", locale=locale)).replace(
        "{0}", format_time(moment.time(), format="short", locale=locale))


def list_format(items: list[str], language: str | None = None) -> str:
    """'A, B and C', 'A, B 및 C', 'A、B、C': a list as a sentence of the language writes it."""
    return format_list([str(item) for item in items], locale=babel_locale(_active(language))) if items else ""
