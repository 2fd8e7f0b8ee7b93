"""The past-buyers page in Chromium at phone and desktop widths: switch on, preview, start, cancel; axe clean."""
from __future__ import annotations

import pytest

from tests.browser import accessibility_violations, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_enrol_preview_and_start_inviting_past_buyers(live_server, open_page, width, settings):
    from referrals.campaigns.models import InviteCampaign
    from referrals.models import Advocate
    from tests.conftest import _make_shop, session_token
    from tests.referrals.campaigns.test_campaigns import past_buyer

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    shop = _make_shop("owner-shop.myshopify.com")
    for name in ("Ann", "Ben", "Cy"):
        past_buyer(shop, name, consent=name != "Cy")
    page = open_page(f"{live_server.url}/app/referrals/past-buyers/?id_token={session_token(shop.domain)}", width)
    assert page.get_by_role("heading", name="Past buyers as advocates").is_visible()
    assert not page.get_by_label("Give past buyers a referral code").is_checked()
    page.get_by_label("Give past buyers a referral code").check()
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**done=saved**")
    assert Advocate.objects.count() == 3  # enrolled; no Shopify here, so their codes wait
    Advocate.objects.update(code_state=Advocate.CodeState.CREATED)  # as Shopify would make them
    page.get_by_label("Invitations per day").fill("2")
    page.get_by_role("button", name="Preview").click()
    page.wait_for_url("**preview=1**")
    assert page.get_by_text("2 past buyers", exact=True).is_visible()
    assert page.get_by_role("table", name="Left out, and why").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert accessibility_violations(page) == []
    screenshot(page, f"panel-past-buyers-preview-{width}")
    page.get_by_role("button", name="Start inviting 2 past buyers").click()
    page.wait_for_url("**done=started**")
    assert InviteCampaign.objects.get().invites.count() == 2
    assert page.get_by_label("0 of 2 invitations handled").is_visible()
    assert accessibility_violations(page) == []
    screenshot(page, f"panel-past-buyers-running-{width}")
    page.get_by_role("button", name="Cancel the campaign").click()
    page.wait_for_url("**done=cancelled**")
    assert InviteCampaign.objects.get().status == "cancelled"
