"""`{% asset 'path' %}` for the pages shoppers see, `shop|brand` for their logo and colour, and
`amount|money:currency`, `moment|local_date`, `moment|local_datetime` in the page's language.

Those pages are also served through Shopify's app proxy, on the shop's own domain, where a
relative /static/ address names the shop's files, not Advocate's: there a page's stylesheets and
scripts are addressed at Advocate itself (APP_URL). Anywhere else it is `{% static %}`.
"""
from __future__ import annotations

from django import template
from django.conf import settings
from django.templatetags.static import static

from shopapp.branding import Brand, shop_brand
from shopapp.languages import datetime_format, date_format, money_format

register = template.Library()


@register.simple_tag(takes_context=True)
def asset(context, path: str) -> str:
    request = context.get("request")
    url = static(path)
    return f"{settings.APP_URL}{url}" if getattr(request, "via_app_proxy", False) else url


@register.filter
def brand(shop) -> Brand:
    """`{% with brand=shop|brand %}`: the shop's logo and readable colour (shopapp.branding)."""
    return shop_brand(shop)


@register.filter
def money(amount, currency: str) -> str:
    """'$10.00', '10,00 €', '₩10,000': in the active language, in the shop's currency."""
    return money_format(amount, currency) if amount is not None and amount != "" else ""


@register.filter
def local_date(value) -> str:
    return date_format(value)


@register.filter
def local_datetime(value) -> str:
    return datetime_format(value)
