"""Saving the program settings, and keeping the advocates' Shopify codes on the current offer."""
from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from referrals import discount_api
from referrals.forms import ProgramSettingsForm
from referrals.landing import landing_cards_forget
from referrals.models import Advocate, ProgramSettings
from referrals.services import advocate_code_job
from shopapp.admin_api import AdminClient, ShopifyError, ShopifyUserError
from shopapp.jobs import enqueue
from shopapp.models import Shop

UPDATE_LEASE = timedelta(minutes=10)
UPDATE_RETRY = timedelta(minutes=15)

DISCOUNT_UPDATE = """
mutation referralDiscountUpdate($id: ID!, $input: DiscountCodeBasicInput!) {
  discountCodeBasicUpdate(id: $id, basicCodeDiscount: $input) {
    codeDiscountNode { id }
    userErrors { field message code }
  }
}
"""


def program_settings_save(*, shop: Shop, form: ProgramSettingsForm,
                          translations: dict | None = None) -> tuple[ProgramSettings, int]:
    """Save a valid settings form (and the landing text's versions per language, when given); when the
    friend's offer changed, update every advocate's code in the background. Returns the settings and
    how many codes will be updated."""
    with transaction.atomic():
        program = form.save(commit=False)
        program.shop = shop
        if translations is not None:
            program.translations = translations
        program.saved_at = timezone.now()
        program.save()
        resynced = advocate_codes_resync(shop=shop) if form.offer_changed() else 0
    return program, resynced


def advocate_codes_resync(*, shop: Shop) -> int:
    """Mark each created code as due for an update to the shop's current offer, and queue it.
    The mark is a row, so the sweep re-drives an update whose job was lost. Codes not created
    yet need nothing: they are created from the current settings."""
    due = Advocate.objects.for_shop(shop).filter(code_state=Advocate.CodeState.CREATED).exclude(discount_gid="")
    ids = list(due.values_list("pk", flat=True))
    due.update(code_next_attempt_at=timezone.now())
    for pk in ids:
        enqueue(advocate_code_update_job, pk)
    return len(ids)


def advocate_code_updates_due() -> int:
    """Re-drive offer updates that failed or whose job was lost."""
    ids = list(Advocate.objects.filter(
        code_state=Advocate.CodeState.CREATED, code_next_attempt_at__lte=timezone.now(),
        shop__uninstalled_at__isnull=True,
    ).values_list("pk", flat=True)[:200])
    for pk in ids:
        enqueue(advocate_code_update_job, pk)
    return len(ids)


def advocate_code_update_job(advocate_id: int) -> None:
    advocate = Advocate.objects.filter(pk=advocate_id).select_related("shop").first()
    if advocate and advocate.shop.uninstalled_at is None:
        advocate_code_update(advocate=advocate)


def advocate_code_update(*, advocate: Advocate) -> Advocate:
    """Bring a created code to the current offer. Claimed with a lease (two workers never both
    call Shopify), and the same values written twice change nothing."""
    now = timezone.now()
    lease = now + UPDATE_LEASE
    claimed = Advocate.objects.filter(pk=advocate.pk, code_state=Advocate.CodeState.CREATED,
                                      code_next_attempt_at__lte=now).exclude(discount_gid="") \
        .update(code_next_attempt_at=lease)
    advocate.refresh_from_db()
    if not claimed:
        return advocate
    mine = Advocate.objects.filter(pk=advocate.pk, code_next_attempt_at=lease)
    try:
        # Inside the try: building the input may make the "no orders yet" segment in Shopify.
        data = discount_api.friend_discount_input(advocate, ProgramSettings.for_shop(advocate.shop))
        data.pop("startsAt", None)  # keep the code's original start
        # On update an omitted field keeps its old value: a minimum the merchant removed is cleared explicitly.
        data.setdefault("minimumRequirement", {"subtotal": {"greaterThanOrEqualToSubtotal": None}})
        AdminClient(advocate.shop).mutate(
            DISCOUNT_UPDATE, {"id": advocate.discount_gid, "input": data}, field="discountCodeBasicUpdate")
    except ShopifyUserError as exc:
        if any("id" in (e.get("field") or []) for e in exc.errors):
            # The discount was deleted in Shopify: make the code again, from the current offer.
            mine.update(code_state=Advocate.CodeState.PENDING, discount_gid="", code_attempts=0,
                        code_next_attempt_at=None, code_error=str(exc)[:1000])
            landing_cards_forget(code=advocate.code)
            enqueue(advocate_code_job, advocate.pk)
        else:
            mine.update(code_next_attempt_at=now + UPDATE_RETRY, code_error=str(exc)[:1000])
    except ShopifyError as exc:
        mine.update(code_next_attempt_at=now + UPDATE_RETRY, code_error=str(exc)[:1000])
    else:
        # Only if no newer change marked it again while Shopify was answering.
        mine.update(code_next_attempt_at=None, code_error="")
    advocate.refresh_from_db()
    return advocate
