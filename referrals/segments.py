"""The Shopify customer segment behind "first order only": customers with no orders yet.

A friend's code carries it in its `context`, so Shopify itself refuses the code to anyone
who has ordered before. One segment per shop, made once and its id kept in the settings.
"""
from __future__ import annotations

from referrals.models import ProgramSettings
from shopapp.admin_api import AdminClient, ShopifyError, ShopifyUserError
from shopapp.models import Shop

SEGMENT_NAME = "Advocate referral friends with no orders yet"
SEGMENT_QUERY = "number_of_orders = 0"

SEGMENT_CREATE = """
mutation referralSegmentCreate($name: String!, $query: String!) {
  segmentCreate(name: $name, query: $query) {
    segment { id name }
    userErrors { field message }
  }
}
"""

SEGMENTS_BY_NAME = """
query referralSegmentsByName($query: String!) {
  segments(first: 10, query: $query) { nodes { id name } }
}
"""


def first_order_segment_ensure(*, shop: Shop, program: ProgramSettings, recheck: bool = False) -> str:
    """The segment's id, made in Shopify the first time. ShopifyError if Shopify cannot answer.

    Never created blindly twice: Shopify's own state is read first, so a create whose answer
    was lost (timeout, 5xx after it applied) is found by name instead of made again.
    `recheck` (a retry after a failure) reads Shopify again rather than trust the stored id:
    the merchant may have deleted the segment in their admin."""
    if program.friend_segment_gid and not recheck:
        return program.friend_segment_gid
    gid = _segment_lookup(shop) or _segment_create(shop)
    if gid != program.friend_segment_gid:
        ProgramSettings.objects.filter(pk=program.pk).update(friend_segment_gid=gid)
        program.friend_segment_gid = gid
    return gid


def _segment_lookup(shop: Shop) -> str | None:
    data = AdminClient(shop).query(SEGMENTS_BY_NAME, {"query": f'"{SEGMENT_NAME}"'}, cost=5)
    nodes = ((data.get("segments") or {}).get("nodes")) or []
    # The search matches words; only the exact name is ours.
    return next((n["id"] for n in nodes if n.get("name") == SEGMENT_NAME), None)


def _segment_create(shop: Shop) -> str:
    try:
        payload = AdminClient(shop).mutate(SEGMENT_CREATE, {"name": SEGMENT_NAME, "query": SEGMENT_QUERY},
                                           field="segmentCreate")
    except ShopifyUserError as exc:
        # Names are unique per shop: "taken" means a concurrent worker (or the client
        # library's own retry of a create that had applied) made it already.
        found = _segment_lookup(shop) if any("name" in (e.get("field") or []) for e in exc.errors) else None
        if found:
            return found
        raise
    gid = (payload.get("segment") or {}).get("id")
    if not gid:
        raise ShopifyError("Shopify answered segmentCreate without a segment.")
    return gid
