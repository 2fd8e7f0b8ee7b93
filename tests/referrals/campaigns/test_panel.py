"""The past-buyers page: the switch, the campaign's preview, start once, cancel; this shop's campaign only."""
from __future__ import annotations

import pytest
from django.utils import timezone

from referrals.campaigns.models import InviteCampaign, PastBuyerSettings
from referrals.campaigns.services import invite_campaign_start, past_buyers_switch
from tests.referrals.campaigns.test_campaigns import past_buyer

pytestmark = pytest.mark.django_db
PATH = "/app/referrals/past-buyers/"


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def two_enrolled(shop, fake_shopify, django_capture_on_commit_callbacks):
    from tests.referrals.helpers import discount_created

    fake_shopify.grant(shop.domain, shop.access_token, shop.refresh_token)
    fake_shopify.responders["discountCodeBasicCreate"] = discount_created
    past_buyer(shop, "Ann")
    past_buyer(shop, "Ben")
    past_buyer(shop, "Cy", consent=False)
    with django_capture_on_commit_callbacks(execute=True):
        past_buyers_switch(shop=shop, enrol=True)


def _post(client, make_session_token, shop, data, capture):
    with capture(execute=True):
        return client.post(f"{PATH}?id_token={make_session_token(shop.domain)}", data)


def test_the_switch_is_off_and_saved_by_the_owner(client, panel_get, make_session_token, shop, fake_shopify,
                                                  django_capture_on_commit_callbacks):
    page = panel_get(PATH, shop).content.decode()
    assert "Give past buyers a referral code" in page and "checked" not in page.split("Give past buyers")[0][-200:]
    past_buyer(shop, "Ann")
    saved = _post(client, make_session_token, shop, {"action": "save", "enrol": "on"}, django_capture_on_commit_callbacks)
    assert saved.status_code == 302 and "done=saved" in saved["Location"]
    assert PastBuyerSettings.for_shop(shop).enrol is True
    assert "Past-buyer settings saved." in client.get(saved["Location"]).content.decode()
    _post(client, make_session_token, shop, {"action": "save"}, django_capture_on_commit_callbacks)
    assert PastBuyerSettings.for_shop(shop).enrol is False


def test_the_preview_says_whom_it_reaches_before_anything_is_sent(panel_get, shop, two_enrolled):
    from django.core import mail

    page = panel_get(f"{PATH}?preview=1&per_day=5", shop).content.decode()
    assert "<strong>2 past buyers</strong> would be invited" in page
    assert "Has not accepted email marketing in Shopify" in page and "Start inviting 2 past buyers" in page
    assert not InviteCampaign.objects.exists() and mail.outbox == []


@pytest.mark.parametrize("per_day", ["0", "1001", "x", ""])
def test_a_bad_rate_is_refused(panel_get, client, make_session_token, shop, two_enrolled, per_day,
                               django_capture_on_commit_callbacks):
    assert panel_get(f"{PATH}?preview=1&per_day={per_day}", shop).status_code == 400
    response = _post(client, make_session_token, shop, {"action": "start", "per_day": per_day},
                     django_capture_on_commit_callbacks)
    assert response.status_code == 400 and not InviteCampaign.objects.exists()


def test_start_twice_makes_one_campaign(client, make_session_token, shop, two_enrolled,
                                        django_capture_on_commit_callbacks):
    data = {"action": "start", "per_day": "5"}
    first = _post(client, make_session_token, shop, data, django_capture_on_commit_callbacks)
    second = _post(client, make_session_token, shop, data, django_capture_on_commit_callbacks)
    assert "done=started" in first["Location"] and "done=running" in second["Location"]
    campaign = InviteCampaign.objects.get()
    assert (campaign.preview_count, campaign.invites.count()) == (2, 2)


def test_another_shops_campaign_cannot_be_cancelled_from_here(client, make_session_token, shop, other_shop,
                                                             two_enrolled, django_capture_on_commit_callbacks):
    campaign, _ = invite_campaign_start(shop=shop, per_day=1, actor="a", now=timezone.now())
    refused = _post(client, make_session_token, other_shop, {"action": "cancel", "campaign": str(campaign.pk)},
                    django_capture_on_commit_callbacks)
    assert refused.status_code == 404 and InviteCampaign.objects.get().status == "running"
    done = _post(client, make_session_token, shop, {"action": "cancel", "campaign": str(campaign.pk)},
                 django_capture_on_commit_callbacks)
    assert done.status_code == 302 and InviteCampaign.objects.get().status == "cancelled"
