"""Panel template helpers."""
from __future__ import annotations

from django import template

from shopapp.staff import actor_label

register = template.Library()


@register.filter
def actor_name(actor: str, shop) -> str:
    """{{ event.actor|actor_name:shop }}: a staff member by name."""
    return actor_label(shop, actor or "")
