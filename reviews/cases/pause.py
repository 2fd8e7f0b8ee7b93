"""The marketing pause where the merchant's other tools can see it.

While a customer's case is open, and for MARKETING_PAUSE_DAYS after it ends, Advocate sends them
nothing that markets (reviews/cases/privacy.py). Shopify Email, Klaviyo and the rest cannot see
that, so the Shopify customer carries it too: a tag (`advocate-case-open`, renamable in the case
settings) and an app metafield (`$app:cases.pause`, JSON: whether a case is open and when the
pause ends), which a segment can leave out.

One CustomerPause row per customer records what Shopify holds. A case opened or moved, a
renamed tag or a redaction bumps the row's version; the sync (one per shop at a time, under a
lease) computes what Shopify should hold from the cases and sends the difference: tagsAdd /
tagsRemove and metafieldsSet / metafieldsDelete, set operations all, so sending one again after an
answer that said nothing is harmless. A row is synced for the version it read; the sweep re-drives
what is due and takes the tag off when a pause runs out. Redaction takes both off and then the
row goes. Nothing is sent for an uninstalled shop or without `write_customers`.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Max, Q
from django.utils import timezone

from reviews.cases.models import Case, CaseSettings, CustomerPause
from reviews.cases.services import MARKETING_PAUSE_DAYS
from shopapp.admin_api import AdminClient
from shopapp.errors import ShopifyError, ShopifyUserError, ShopNotConnected
from shopapp.jobs import backoff, enqueue, row_lease
from shopapp.models import Customer, Shop

log = logging.getLogger(__name__)

REQUIRED_SCOPE = "write_customers"
NAMESPACE, KEY = "$app:cases", "pause"
PER_RUN = 100
LEASE = timedelta(minutes=5)

TAGS_ADD = """
mutation advocatePauseTag($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) { node { id } userErrors { field message } } }
"""
TAGS_REMOVE = """
mutation advocatePauseUntag($id: ID!, $tags: [String!]!) { tagsRemove(id: $id, tags: $tags) { node { id } userErrors { field message } } }
"""
METAFIELD_SET = """
mutation advocatePauseSet($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) { metafields { key } userErrors { field message code } }
}
"""
METAFIELD_DELETE = """
mutation advocatePauseDelete($metafields: [MetafieldIdentifierInput!]!) {
  metafieldsDelete(metafields: $metafields) { deletedMetafields { key } userErrors { field message } }
}
"""


def pause_possible(shop: Shop) -> bool:
    return shop.is_installed and shop.has_scope(REQUIRED_SCOPE)


def pause_of(shop: Shop, customer: Customer | None, now: datetime) -> tuple[bool, datetime | None]:
    """(a case is open, when the pause ends) for the customer; (False, None) when not paused."""
    if customer is None:
        return False, None
    cases = Case.objects.filter(shop=shop, customer=customer)
    if cases.filter(status__in=Case.ACTIVE).exists():
        return True, None
    ended = cases.aggregate(last=Max("ended_at"))["last"]
    until = ended + MARKETING_PAUSE_DAYS * settings.ADVOCATE_DAY if ended else None
    return (False, until) if until and until > now else (False, None)


# --- marking rows due ---------------------------------------------------------------------

def pause_due(case: Case) -> None:
    """A case opened or moved: its customer's pause in Shopify is due for a check."""
    customer = case.customer
    if customer is None or not customer.shopify_id:
        return
    _row_due(case.shop, f"gid://shopify/Customer/{customer.shopify_id}", customer)


def on_case_saved(sender, instance: Case, created: bool = False, update_fields=None, **kwargs) -> None:
    """post_save of a Case: opened, or its status or customer changed."""
    if created or update_fields is None or {"status", "ended_at", "customer"} & set(update_fields):
        pause_due(instance)


def _row_due(shop: Shop, customer_gid: str, customer: Customer | None) -> None:
    row, created = CustomerPause.objects.get_or_create(shop=shop, customer_gid=customer_gid,
                                                       defaults={"customer": customer})
    if not created:
        CustomerPause.objects.filter(pk=row.pk).update(version=F("version") + 1, next_at=None, attempts=0)
    if pause_possible(shop):
        enqueue(pauses_sync, shop.pk)


def pause_tag_renamed(shop: Shop) -> int:
    """The merchant renamed the tag: every customer tagged with the old one is due."""
    rows = CustomerPause.objects.filter(shop=shop).exclude(tag_in_shopify="")
    count = rows.update(version=F("version") + 1, next_at=None, attempts=0)
    if count and pause_possible(shop):
        enqueue(pauses_sync, shop.pk)
    return count


def pause_redact(shop: Shop, customers) -> None:
    """Redaction: what Advocate put on these Shopify customers comes off (and then the rows go)."""
    for customer in customers:
        if customer.shopify_id:
            CustomerPause.objects.filter(shop=shop, customer_gid=f"gid://shopify/Customer/{customer.shopify_id}").update(
                customer=None, version=F("version") + 1, next_at=None, attempts=0)
    if pause_possible(shop):
        enqueue(pauses_sync, shop.pk)


# --- the sync -------------------------------------------------------------------------------

def _due(shop: Shop, now: datetime):
    expired = Q(until__isnull=False, until__lte=now)
    return (CustomerPause.objects.filter(shop=shop).filter(Q(version__gt=F("synced_version")) | expired)
            .filter(Q(next_at__isnull=True) | Q(next_at__lte=now)))


def pauses_sync(shop_id: int, *, now: datetime | None = None) -> int:
    """Job: bring Shopify's tags and metafields in line with the shop's cases; rows brought up to date."""
    now = now or timezone.now()
    shop = Shop.objects.filter(pk=shop_id).first()
    if shop is None or not pause_possible(shop):
        return 0
    tag = CaseSettings.for_shop(shop).pause_tag
    with row_lease(CaseSettings.objects.filter(shop=shop), "pause_lease_until", lasts=LEASE) as ours:
        if not ours:
            return 0  # another worker is at it; what it leaves due, the sweep brings back
        try:
            client = AdminClient(shop)
            return sum(_sync_one(shop, client, row, tag, now) for row in list(_due(shop, now)[:PER_RUN]))
        except ShopNotConnected:
            return 0


def _sync_one(shop: Shop, client: AdminClient, row: CustomerPause, tag: str, now: datetime) -> int:
    case_open, until = pause_of(shop, row.customer, now)
    paused = case_open or until is not None
    value = json.dumps({"case_open": case_open, "until": until.isoformat() if until else None}) if paused else ""
    owner = {"ownerId": row.customer_gid, "namespace": NAMESPACE, "key": KEY}
    try:
        if row.tag_in_shopify and (not paused or row.tag_in_shopify != tag):
            client.mutate(TAGS_REMOVE, {"id": row.customer_gid, "tags": [row.tag_in_shopify]}, field="tagsRemove")
        if paused and row.tag_in_shopify != tag:
            client.mutate(TAGS_ADD, {"id": row.customer_gid, "tags": [tag]}, field="tagsAdd")
        if paused and value != row.value_in_shopify:
            client.mutate(METAFIELD_SET, {"metafields": [{**owner, "type": "json", "value": value}]},
                          field="metafieldsSet")
        if not paused and row.value_in_shopify:
            client.mutate(METAFIELD_DELETE, {"metafields": [owner]}, field="metafieldsDelete")
    except ShopNotConnected:
        raise
    except ShopifyError as exc:
        kind = "refused" if isinstance(exc, ShopifyUserError) else "no answer"
        log.warning("pause of %s on %s: %s (%s)", row.customer_gid, shop.domain, kind, exc)
        CustomerPause.objects.filter(pk=row.pk).update(
            attempts=F("attempts") + 1, next_at=now + backoff(row.attempts + 1), error=f"{kind}: {exc}"[:255])
        return 0
    if not paused and row.customer_id is None:
        # A redacted customer, with nothing of Advocate's left in Shopify: keep nothing here either.
        return CustomerPause.objects.filter(pk=row.pk, version=row.version).delete()[0]
    # Synced as far as the version read: a case that moved meanwhile leaves the row due.
    CustomerPause.objects.filter(pk=row.pk, synced_version__lt=row.version).update(synced_version=row.version)
    return CustomerPause.objects.filter(pk=row.pk).update(
        tag_in_shopify=tag if paused else "", value_in_shopify=value, until=until, attempts=0, next_at=None, error="")


def pauses_sweep(*, now: datetime | None = None) -> int:
    """Sweeper: a sync for every shop with a pause due or run out."""
    now = now or timezone.now()
    count = 0
    for shop in Shop.objects.installed().exclude(access_token=""):
        if pause_possible(shop) and _due(shop, now).exists():
            enqueue(pauses_sync, shop.pk)
            count += 1
    return count


def pause_status(shop: Shop) -> dict:
    """For the case settings page."""
    rows = CustomerPause.objects.filter(shop=shop)
    return {"possible": pause_possible(shop), "scope": REQUIRED_SCOPE,
            "tagged": rows.exclude(tag_in_shopify="").count(), "failing": rows.exclude(error="").count()}
