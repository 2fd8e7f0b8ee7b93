"""NPS answers in the compliance webhooks and the merchant's export.

A redaction erases what is personal in an answer (the comment, the link to the customer) and its
link stops working; the bare score stays in the shop's figures, as a score nobody can be named by.
"""
from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from reviews.nps.models import NpsSettings, NpsSurvey
from shopapp.models import Shop
from shopapp.orders import customers_matching
from shopapp.registry import CustomerRef


def _theirs(shop: Shop, ref: CustomerRef):
    mine = Q(customer__in=customers_matching(shop, ref))
    order_ids = [int(i) for i in ref.order_ids if str(i).isdigit()]
    if order_ids:
        mine |= Q(order__shopify_id__in=order_ids)
    return NpsSurvey.objects.for_shop(shop).filter(mine)


def _export(survey: NpsSurvey) -> dict:
    return {"order": survey.order.name, "asked_in": survey.channel, "status": survey.status,
            "sent_at": _iso(survey.sent_at), "score": survey.score, "comment": survey.comment,
            "answered_at": _iso(survey.answered_at), "changed_at": _iso(survey.updated_at)}


def nps_customer_export(shop: Shop, ref: CustomerRef) -> list[dict]:
    return [_export(s) for s in _theirs(shop, ref).select_related("order").order_by("pk")]


def nps_customer_redact(shop: Shop, ref: CustomerRef) -> None:
    surveys = _theirs(shop, ref)
    surveys.filter(status=NpsSurvey.Status.SCHEDULED).update(
        status=NpsSurvey.Status.CANCELLED, skip_reason="the customer's data was erased")
    surveys.update(customer=None, comment="", redacted_at=timezone.now())


def nps_shop_export(shop: Shop) -> dict:
    config = NpsSettings.for_shop(shop)
    return {"settings": {"enabled": config.enabled, "mode": config.mode, "delay_days": config.delay_days},
            "answers": [_export(s) for s in NpsSurvey.objects.for_shop(shop).answered().select_related("order")
                        .order_by("pk")]}


def _iso(value) -> str | None:
    return value.isoformat() if value else None
