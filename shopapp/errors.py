"""What a call to Shopify can end in, below every module that calls Shopify.

The Admin API client raises them, the shop's connection (tokens) raises them, and jobs read
them: ShopNotConnected and ShopUninstalled mean "wait without counting an attempt",
ShopifyAmbiguous means "settle from Shopify's state before sending again", ShopifyUnreachable
"nothing was sent: try again later". What a job stores about them (a history import's or a Flow
trigger's error) is stored in English and shown in the reader's language (stored_message_translate).
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from django.utils.translation import gettext


class ShopifyError(Exception):
    """Shopify could not be reached or refused the request; the message says why."""


class ShopifyUserError(ShopifyError):
    """A mutation answered with userErrors; `errors` holds them as Shopify sent them."""

    def __init__(self, errors: list[dict]):
        self.errors = errors
        super().__init__("; ".join(e.get("message", "") for e in errors) or "Shopify refused the input")


class ShopNotConnected(ShopifyError):
    """The shop has no usable token (uninstalled, or its refresh token is dead).

    Jobs treat it as "wait, without counting an attempt": the work resumes when the
    merchant's next panel load exchanges a new token (or the shop is installed again).
    """


class ShopUninstalled(ShopNotConnected):
    """The shop uninstalled Advocate: no email, job or Admin API call until it installs again."""


class ShopifyAmbiguous(ShopifyError):
    """A mutation got no definite answer (timeout, reset connection, 5xx): Shopify may have applied it.

    Never send it again blindly: settle from Shopify's own state first (shopapp/discounts.py)."""


class ShopifyUnreachable(ShopifyError):
    """The connection to Shopify never opened (refused, DNS, connect timeout): nothing was sent, so
    sending again later is safe, mutations too."""


def stored_message_translate(text: str, messages: Iterable[str]) -> str:
    """A message a job stored in English (it knows no reader) in the active language, for the panel.

    `messages` are the English templates it was made from, marked with gettext_noop; their %(name)s
    parts (Shopify's own reason, a count) are read back from `text` and kept, themselves translated
    when they are one of `messages`. Text that is none of them (cut short, or older) shows as stored.
    """
    for template in messages:
        found = _template_pattern(template).fullmatch(text)
        if found:
            return gettext(template) % {name: stored_message_translate(value, messages)
                                        for name, value in found.groupdict().items()}
    return text


@lru_cache(maxsize=128)
def _template_pattern(template: str) -> re.Pattern:
    parts = re.split(r"%\((\w+)\)s", template)  # literal text, then a name, then literal text...
    return re.compile("".join(f"(?P<{part}>.*)" if i % 2 else re.escape(part) for i, part in enumerate(parts)),
                      re.DOTALL)
