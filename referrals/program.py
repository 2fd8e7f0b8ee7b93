"""Saving the program settings, and keeping the advocates' Shopify codes on the current offer."""
from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from referrals import remote
from referrals.forms import ProgramSettingsForm
from referrals.models import Advocate, ProgramSettings
from shopapp.admin_api import AdminClient
from shopapp.jobs import enqueue
from shopapp.models import Shop

DISCOUNT_UPDATE = """
mutation referralDiscountUpdate($id: ID!, $input: DiscountCodeBasicInput!) {
  discountCodeBasicUpdate(id: $id, basicCodeDiscount: $input) {
    codeDiscountNode { id }
    userErrors { field message code }
  }
}
"""


def program_settings_save(*, shop: Shop, form: ProgramSettingsForm) -> tuple[ProgramSettings, int]:
    """Save a valid settings form; when the friend's offer changed, update every advocate's
    code in the background. Returns the settings and how many codes will be updated."""
    with transaction.atomic():
        program = form.save(commit=False)
        program.shop = shop
        program.saved_at = timezone.now()
        program.save()
        resynced = advocate_codes_resync(shop=shop) if form.offer_changed() else 0
    return program, resynced


def advocate_codes_resync(*, shop: Shop) -> int:
    """Queue an update of each advocate's Shopify discount to the shop's current offer.
    Codes not created yet need nothing: they are created from the current settings."""
    ids = list(Advocate.objects.for_shop(shop).filter(code_state=Advocate.CodeState.CREATED)
               .exclude(discount_gid="").values_list("pk", flat=True))
    for pk in ids:
        enqueue(advocate_code_update_job, pk)
    return len(ids)


def advocate_code_update_job(advocate_id: int) -> None:
    advocate = Advocate.objects.filter(pk=advocate_id).select_related("shop").first()
    if advocate and advocate.discount_gid and advocate.shop.uninstalled_at is None:
        advocate_code_update(advocate=advocate)


def advocate_code_update(*, advocate: Advocate) -> str:
    """Set the advocate's discount to the current offer. Safe to run twice: it writes the same values."""
    data = remote.friend_discount_input(advocate, ProgramSettings.for_shop(advocate.shop))
    data.pop("startsAt", None)  # keep the code's original start
    # On update an omitted field keeps its old value: a minimum the merchant removed is cleared explicitly.
    data.setdefault("minimumRequirement", {"subtotal": {"greaterThanOrEqualToSubtotal": None}})
    payload = AdminClient(advocate.shop).mutate(
        DISCOUNT_UPDATE, {"id": advocate.discount_gid, "input": data}, field="discountCodeBasicUpdate")
    return (payload.get("codeDiscountNode") or {}).get("id", "")

