"""What a call to Shopify can end in, below every module that calls Shopify.

The Admin API client raises them, the shop's connection (tokens) raises them, and jobs read
them: ShopNotConnected and ShopUninstalled mean "wait without counting an attempt",
ShopifyAmbiguous means "settle from Shopify's state before sending again", ShopifyUnreachable
"nothing was sent: try again later".
"""
from __future__ import annotations


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
