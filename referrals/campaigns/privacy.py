"""The past-buyer rows in the compliance webhooks: they hold no personal data of their own (ids and
times); a redaction drops the customer's invitation if it has not gone out."""
from __future__ import annotations

from referrals.campaigns.models import CampaignInvite, PastBuyer
from shopapp.models import Shop
from shopapp.orders import customers_matching
from shopapp.registry import CustomerRef


def campaigns_customer_export(shop: Shop, ref: CustomerRef) -> dict:
    customers = customers_matching(shop, ref)
    invites = CampaignInvite.objects.filter(campaign__shop=shop, advocate__customer__in=customers)
    return {"enrolled_as_past_buyer": [r.enrolled_at.isoformat() for r in PastBuyer.objects.for_shop(shop)
                                       .filter(customer__in=customers)],
            "campaign_invitations": [{"status": i.status, "due_at": i.due_at.isoformat()} for i in invites]}


def campaigns_customer_redact(shop: Shop, ref: CustomerRef) -> None:
    CampaignInvite.objects.filter(campaign__shop=shop, advocate__customer__in=customers_matching(shop, ref),
                                  status=CampaignInvite.Status.SCHEDULED).delete()
