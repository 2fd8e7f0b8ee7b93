"""Past buyers as advocates: enrolled with codes through referrals' own path when the switch is on (off by
default), and invited by a throttled campaign that says beforehand whom it reaches, respects consent and
the case and Flow pauses when each invitation is due, invites each once, and stops when cancelled."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from referrals.campaigns.models import CampaignInvite, InviteCampaign, PastBuyer, PastBuyerSettings
from referrals.campaigns.services import (
    NO_CONSENT, campaign_progress, campaigns_sweep, invite_campaign_cancel, invite_campaign_start, invite_preview,
    past_buyers_switch,
)
from referrals.models import Advocate, ProgramSettings
from referrals.services import advocate_codes_due
from shopapp.models import Customer, EmailPause
from shopapp.registry import CustomerRef, customer_data_redact
from tests.conftest import load_fixture
from tests.referrals.helpers import customer, discount_created, order

pytestmark = pytest.mark.django_db
DAY = settings.ADVOCATE_DAY


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def shopify(fake_shopify, shop):
    fake_shopify.grant(shop.domain, shop.access_token, shop.refresh_token)
    fake_shopify.responders["discountCodeBasicCreate"] = discount_created
    return fake_shopify


def past_buyer(shop, name="Maya", *, consent=True, days_before=40, **order_fields):
    buyer = customer(shop, first_name=name)
    Customer.objects.filter(pk=buyer.pk).update(marketing="subscribed" if consent else "not_subscribed")
    order(shop, buyer, placed_at=shop.installed_at - timedelta(days=days_before), **order_fields)
    buyer.refresh_from_db()
    return buyer


def switch_on(shop, capture):
    with capture(execute=True):
        past_buyers_switch(shop=shop, enrol=True)


def test_nobody_is_enrolled_until_the_switch_is_on(shop, shopify, django_capture_on_commit_callbacks):
    past_buyer(shop)
    assert PastBuyerSettings.for_shop(shop).enrol is False
    with django_capture_on_commit_callbacks(execute=True):
        campaigns_sweep()
    assert not Advocate.objects.exists() and not shopify.calls_to("discountCodeBasicCreate")


def test_switching_on_gives_past_buyers_a_shopify_code_once(shop, other_shop, shopify,
                                                            django_capture_on_commit_callbacks):
    maya = past_buyer(shop, "Maya")
    past_buyer(shop, "Cal", cancelled_at=timezone.now())  # only a cancelled order
    new = customer(shop, first_name="Newt")
    order(shop, new)  # ordered after the install: the ordinary path enrols them
    erased = past_buyer(shop, "Gone")
    Customer.objects.filter(pk=erased.pk).update(redacted_at=timezone.now(), email="")
    past_buyer(other_shop, "Otto")
    switch_on(shop, django_capture_on_commit_callbacks)
    advocate = Advocate.objects.get()
    assert advocate.customer_id == maya.pk and advocate.code_state == Advocate.CodeState.CREATED
    assert PastBuyer.objects.get().advocate_id == advocate.pk
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            campaigns_sweep()
    assert len(shopify.calls_to("discountCodeBasicCreate")) == 1
    assert mail.outbox == []  # the switch emails nobody


def test_an_ambiguous_answer_never_makes_a_second_code(shop, shopify, django_capture_on_commit_callbacks):
    past_buyer(shop)
    ProgramSettings.objects.create(shop=shop, friend_first_order_only=False)  # the first call is the create
    shopify.script = ["503"]  # Shopify may or may not have made it
    switch_on(shop, django_capture_on_commit_callbacks)
    advocate = Advocate.objects.get()
    assert advocate.code_state == Advocate.CodeState.FAILED
    shopify.responders["codeDiscountNodeByCode"] = lambda v: {
        "id": "gid://shopify/DiscountCodeNode/5", "codeDiscount": {"title": f"Referral from {v['code']}"}}
    Advocate.objects.filter(pk=advocate.pk).update(code_next_attempt_at=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        advocate_codes_due()
    advocate.refresh_from_db()
    assert (advocate.code_state, advocate.discount_gid) == ("created", "gid://shopify/DiscountCodeNode/5")
    assert len(shopify.calls_to("discountCodeBasicCreate")) == 1  # looked up, not made again


@pytest.fixture
def enrolled(shop, shopify, django_capture_on_commit_callbacks):
    """Past buyers enrolled with codes: two who may be invited and one for each reason not to."""
    from shopapp import registry

    people = {name: past_buyer(shop, name) for name in ("Ann", "Ben")}
    people["Cy"] = past_buyer(shop, "Cy", consent=False)
    people["Dee"] = past_buyer(shop, "Dee")
    people["Eve"] = past_buyer(shop, "Eve")
    people["Fay"] = past_buyer(shop, "Fay")
    Customer.objects.filter(pk=people["Dee"].pk).update(unsubscribed_at=timezone.now())
    registry.register_marketing_block(lambda s, c: "has an open case" if c.pk == people["Eve"].pk else None)
    EmailPause.objects.create(shop=shop, customer_shopify_id=people["Fay"].shopify_id,
                              until=timezone.now() + 400 * DAY, action_run_id="run-1")
    switch_on(shop, django_capture_on_commit_callbacks)
    assert Advocate.objects.filter(code_state="created").count() == 6
    return people


def _invited():
    return sorted(m.to[0].split("@")[0].rstrip("0123456789") for m in mail.outbox)


def test_the_preview_says_whom_a_campaign_reaches_and_who_is_left_out(shop, enrolled):
    preview = invite_preview(shop)
    assert sorted(a.customer.first_name for a in preview.advocates) == ["Ann", "Ben"]
    reasons = dict(preview.excluded)
    assert reasons == {NO_CONSENT: 1, "unsubscribed from Advocate's emails": 1, "has an open case": 1,
                       "paused by a Shopify Flow workflow": 1}
    assert not CampaignInvite.objects.exists() and mail.outbox == []


def test_the_campaign_invites_what_the_preview_said_at_its_rate_each_once(shop, enrolled):
    now = timezone.now()
    preview = invite_preview(shop)
    campaign, created = invite_campaign_start(shop=shop, per_day=1, actor="staff 42", now=now)
    again, created_again = invite_campaign_start(shop=shop, per_day=9, actor="staff 42", now=now)
    assert (created, created_again, again.pk, campaign.preview_count) == (True, False, campaign.pk, preview.count)
    assert [i.due_at for i in campaign.invites.all()] == [now, now + DAY]
    campaigns_sweep(now=now)
    campaigns_sweep(now=now)
    assert len(mail.outbox) == 1
    campaigns_sweep(now=now + DAY)
    campaigns_sweep(now=now + 2 * DAY)
    assert _invited() == ["ann", "ben"]
    assert all("Give your friends" in m.subject for m in mail.outbox)
    assert InviteCampaign.objects.get().status == InviteCampaign.Status.DONE
    assert campaign_progress(campaign).sent == 2
    # Each past buyer is invited once: a new campaign has nobody left to invite.
    assert invite_preview(shop).count == 0


@pytest.mark.parametrize("change", ["shopify_opt_out", "unsubscribed", "case", "program_off", "erased"])
def test_each_rule_is_checked_again_when_an_invitation_is_due(shop, enrolled, change):
    from shopapp import registry

    now = timezone.now()
    invite_campaign_start(shop=shop, per_day=1, actor="a", now=now)
    ben = enrolled["Ben"]
    if change == "shopify_opt_out":
        Customer.objects.filter(pk=ben.pk).update(marketing="unsubscribed")
    elif change == "unsubscribed":
        Customer.objects.filter(pk=ben.pk).update(unsubscribed_at=now)
    elif change == "case":
        registry.register_marketing_block(lambda s, c: "has an open case" if c.pk == ben.pk else None)
    elif change == "program_off":
        ProgramSettings.objects.filter(shop=shop).update(enabled=False)
    else:
        customer_data_redact(shop, CustomerRef(shopify_id=str(ben.shopify_id), email=ben.email, phone=""))
    for day in range(3):
        campaigns_sweep(now=now + day * DAY)
    assert "ben" not in _invited()


def test_an_invitation_waits_for_its_code(shop, enrolled):
    now = timezone.now()
    campaign, _ = invite_campaign_start(shop=shop, per_day=100, actor="a", now=now)
    ann = Advocate.objects.get(customer=enrolled["Ann"])
    Advocate.objects.filter(pk=ann.pk).update(code_state=Advocate.CodeState.PENDING)
    campaigns_sweep(now=now + DAY)
    assert _invited() == ["ben"]
    invite = CampaignInvite.objects.get(advocate=ann)
    assert invite.status == CampaignInvite.Status.SCHEDULED and invite.due_at == now + DAY + timedelta(hours=1)


def test_cancelling_drops_what_was_not_sent(shop, enrolled):
    now = timezone.now()
    campaign, _ = invite_campaign_start(shop=shop, per_day=1, actor="a", now=now)
    campaigns_sweep(now=now)
    assert invite_campaign_cancel(campaign=campaign) == 1
    campaigns_sweep(now=now + 3 * DAY)
    assert len(mail.outbox) == 1 and campaign.status == InviteCampaign.Status.CANCELLED
    assert invite_preview(shop).count == 1  # the one not sent may be invited by a later campaign


def test_an_uninstalled_shop_invites_nobody(shop, enrolled, post_webhook):
    now = timezone.now()
    invite_campaign_start(shop=shop, per_day=10, actor="a", now=now)
    assert post_webhook("app/uninstalled", load_fixture("webhooks/app_uninstalled.json"), shop).status_code == 200
    campaigns_sweep(now=now + 2 * DAY)
    assert mail.outbox == []
    assert set(CampaignInvite.objects.values_list("status", flat=True)) == {"scheduled"}


def test_another_shops_past_buyers_are_never_in_this_shops_campaign(shop, other_shop, enrolled):
    past_buyer(other_shop, "Otto")
    assert invite_preview(other_shop).count == 0  # not enrolled there: its switch is off
    assert sorted(a.customer.first_name for a in invite_preview(shop).advocates) == ["Ann", "Ben"]
