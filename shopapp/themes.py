"""Advocate's theme app extension in the merchant's live theme: deep links to add it, and whether it is there.

Shopify gives no webhook when a merchant adds an app block, so Advocate reads the live
theme's product and home templates and settings (GraphQL `themes`) after the merchant comes back
from the theme editor, on install, and once a day.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shopapp.admin_api import AdminClient, ShopifyError
from shopapp.jobs import enqueue
from shopapp.models import Shop
from shopapp.shopify import shop_url


@dataclass(frozen=True)
class ThemeBlock:
    handle: str
    title: str
    description: str
    template: str
    embed: bool = False  # app embeds switch on for the whole theme; app blocks go into a section
    # The theme editor's deep-link target: the template's main section, or a new "Apps" section
    # (a page of sections like the home page has no main section to hold a block).
    target: str = "mainSection"


BLOCKS = [
    ThemeBlock("reviews", _("Product reviews"), _("Reviews, rating summary and photos under the product."), "product"),
    ThemeBlock("star-badge", _("Star rating badge"), _("The average rating beside the product title."), "product"),
    ThemeBlock("reviews-carousel", _("Reviews carousel"), _("Your newest 4- and 5-star reviews on the home page, "
                                                             "each linking to its product."), "index",
               target="newAppsSection"),
    ThemeBlock("referral-embed", _("Refer-a-friend button"),
               _("A small button on every page that opens the customer's referral link."), "index", embed=True),
]

@dataclass(frozen=True)
class CheckoutBlock:
    page: str  # the checkout and accounts editor's ?page=
    title: str
    description: str


# Advocate's checkout and customer-account UI extensions (extensions/advocate-checkout, -account).
# Shopify does not tell an app where a merchant placed them, so the page links without a status.
CHECKOUT_BLOCKS = [
    CheckoutBlock("thank-you", _("Thank you page"),
                  _("The buyer's referral link, with copy and share buttons, right after they pay.")),
    CheckoutBlock("order-status", _("Order status page"),
                  _("Their link, and after delivery a row of stars to review what they bought.")),
    CheckoutBlock("profile", _("Customer account profile"),
                  _('Their link and credit; the full "Refer friends" page is in their account menu.')),
]


def checkout_editor_link(shop: Shop, block: CheckoutBlock) -> str:
    """The checkout and accounts editor, open at the page where the block goes."""
    return shop_url(shop.domain, f"/admin/settings/checkout/editor?{urlencode({'page': block.page})}")


THEME_QUERY = """
query AdvocateThemeBlocks {
  themes(first: 1, roles: [MAIN]) {
    nodes {
      id
      name
      files(filenames: ["templates/product.json", "templates/index.json", "config/settings_data.json"], first: 3) {
        nodes { filename body { ... on OnlineStoreThemeFileBodyText { content } } }
      }
    }
  }
}
"""


def editor_link(shop: Shop, block: ThemeBlock) -> str:
    """Shopify's theme-editor deep link that adds the block (or switches the embed on)."""
    app_block = f"{settings.SHOPIFY_API_KEY}/{block.handle}"
    params = {"template": block.template}
    if block.embed:
        params["activateAppId"] = app_block
    else:
        params.update(addAppBlockId=app_block, target=block.target)
    return shop_url(shop.domain, f"/admin/themes/current/editor?{urlencode(params)}")


def theme_blocks_check(shop: Shop) -> list[str]:
    """Read the live theme and record which of Advocate's blocks it uses."""
    data = AdminClient(shop).query(THEME_QUERY, cost=5)
    themes = (data.get("themes") or {}).get("nodes") or []
    found: set[str] = set()
    for theme in themes[:1]:
        for file in (theme.get("files") or {}).get("nodes") or []:
            found |= blocks_in((file.get("body") or {}).get("content") or "")
    shop.theme_blocks = sorted(found)
    shop.theme_checked_at = timezone.now()
    shop.save(update_fields=["theme_blocks", "theme_checked_at", "updated_at"])
    return shop.theme_blocks


def blocks_in(content: str) -> set[str]:
    """Handles of Advocate's enabled blocks in a JSON template or settings_data.json."""
    prefix = f"shopify://apps/{settings.SHOPIFY_APP_HANDLE}/blocks/"
    # Shopify writes a /* ... */ comment above generated JSON templates.
    text = re.sub(r"/\*.*?\*/", "", content, flags=re.S)
    try:
        tree = json.loads(text)
    except ValueError:
        return set()
    found: set[str] = set()

    def walk(node) -> None:
        if isinstance(node, dict):
            kind = node.get("type")
            if isinstance(kind, str) and kind.startswith(prefix) and not node.get("disabled"):
                found.add(kind.removeprefix(prefix).split("/")[0])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(tree)
    return found


def theme_checks_due() -> None:
    """Daily: re-read each installed shop's theme (blocks removed or a new theme published)."""
    stale = Q(theme_checked_at__isnull=True) | Q(theme_checked_at__lt=timezone.now() - settings.ADVOCATE_DAY)
    for shop_id in Shop.objects.installed().exclude(access_token="").filter(stale).values_list("id", flat=True)[:500]:
        enqueue(theme_blocks_check_job, shop_id)


def theme_blocks_check_job(shop_id: int) -> None:
    shop = Shop.objects.installed().filter(pk=shop_id).first()
    if shop is None:
        return
    try:
        theme_blocks_check(shop)
    except ShopifyError:
        # Read again at the next daily sweep; the checklist keeps its last known state.
        shop.theme_checked_at = timezone.now()
        shop.save(update_fields=["theme_checked_at"])
