"""The referral invitation: due after fulfilment, claimed by the sweep, sent once, never to a blocked customer."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from referrals.invitations import advocate_invites_sweep, invite_delay
from referrals.models import Advocate, ProgramSettings
from referrals.sharing import advocate_for_share_token
from shopapp import registry
from shopapp.models import Customer
from tests.referrals.helpers import customer, order, order_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def fulfilled(shop, post_webhook):
    """Maya's paid order arrives, then its fulfilment; her code already exists in Shopify."""

    def make(**customer_fields):
        ProgramSettings.objects.get_or_create(shop=shop)
        maya = customer(shop, first_name="Maya", **customer_fields)
        Advocate.objects.create(shop=shop, customer=maya, code=f"MAYA-{maya.pk:04d}"[:40],
                                code_state=Advocate.CodeState.CREATED)
        payload = order_payload(customer_id=maya.shopify_id, email=maya.email, first_name="Maya")
        post_webhook("orders/paid", payload, shop)
        post_webhook("orders/fulfilled", {**payload, "fulfillment_status": "fulfilled",
                                          "fulfillments": [{"created_at": timezone.now().isoformat()}]}, shop)
        return Advocate.objects.select_related("customer").get(customer=maya)

    return make


def test_invitation_goes_out_once_after_fulfilment_with_link_share_links_and_own_page(fulfilled, mailoutbox, client):
    advocate = fulfilled()
    assert advocate.invite_due_at is not None and advocate.invited_at is None
    assert advocate_invites_sweep(now=advocate.invite_due_at - timedelta(seconds=1)) == 0
    assert mailoutbox == []

    assert advocate_invites_sweep(now=advocate.invite_due_at + timedelta(seconds=1)) == 1
    assert advocate_invites_sweep(now=advocate.invite_due_at + timedelta(days=3)) == 0
    [mail] = mailoutbox
    assert mail.to == [advocate.customer.email]
    assert "10% off" in mail.subject
    link = f"{settings.APP_URL}/r/{advocate.code}"
    assert link in mail.body and advocate.code in mail.body
    html = mail.alternatives[0][0]
    assert "wa.me" in html and "facebook.com/sharer" in html
    assert mail.extra_headers["List-Unsubscribe"].startswith("<")
    page = next(line for line in mail.body.splitlines() if "/referrals/me/" in line).split(": ", 1)[1]
    assert advocate_for_share_token(page.rsplit("/", 1)[1]) == advocate
    assert client.get(page.replace(settings.APP_URL, "")).status_code == 200
    advocate.refresh_from_db()
    assert advocate.invited_at is not None and advocate.invite_skip_reason == ""


def test_invitation_waits_an_hour_of_app_time_after_fulfilment(fulfilled):
    advocate = fulfilled()
    assert abs(advocate.invite_due_at - (timezone.now() + invite_delay())) < timedelta(seconds=5)


def test_no_invitation_for_a_customer_who_unsubscribed(fulfilled, mailoutbox):
    advocate = fulfilled()
    Customer.objects.filter(pk=advocate.customer_id).update(unsubscribed_at=timezone.now())
    advocate_invites_sweep(now=advocate.invite_due_at + timedelta(seconds=1))
    assert mailoutbox == []
    advocate.refresh_from_db()
    assert advocate.invite_skip_reason == "unsubscribed from Advocate's emails"


def test_no_invitation_for_a_customer_who_opted_out_in_shopify(fulfilled, mailoutbox):
    advocate = fulfilled()
    Customer.objects.filter(pk=advocate.customer_id).update(marketing=Customer.Marketing.UNSUBSCRIBED)
    advocate_invites_sweep(now=advocate.invite_due_at + timedelta(seconds=1))
    assert mailoutbox == []


def test_no_invitation_while_the_customer_has_an_open_case(fulfilled, mailoutbox):
    advocate = fulfilled()
    blocker = lambda s, c: "has an open case" if c.pk == advocate.customer_id else None  # noqa: E731
    registry.register_marketing_block(blocker)  # the conftest restores the registry afterwards
    advocate_invites_sweep(now=advocate.invite_due_at + timedelta(seconds=1))
    assert mailoutbox == []
    advocate.refresh_from_db()
    assert advocate.invite_skip_reason == "has an open case"


def test_no_invitation_before_the_code_exists_in_shopify(fulfilled, mailoutbox):
    advocate = fulfilled()
    Advocate.objects.filter(pk=advocate.pk).update(code_state=Advocate.CodeState.FAILED)
    assert advocate_invites_sweep(now=advocate.invite_due_at + timedelta(seconds=1)) == 0
    Advocate.objects.filter(pk=advocate.pk).update(code_state=Advocate.CodeState.CREATED)
    assert advocate_invites_sweep(now=advocate.invite_due_at + timedelta(seconds=1)) == 1


def test_unfulfilled_or_refunded_orders_schedule_no_invitation(shop, post_webhook):
    from referrals.invitations import advocate_invite_schedule

    maya = customer(shop)
    Advocate.objects.create(shop=shop, customer=maya, code="MAYA-2222", code_state=Advocate.CodeState.CREATED)
    assert not advocate_invite_schedule(order=order(shop, maya))
    assert not advocate_invite_schedule(order=order(shop, maya, fulfilled_at=timezone.now(), cancelled_at=timezone.now()))
    assert Advocate.objects.get(customer=maya).invite_due_at is None


def test_a_failed_send_is_due_again_later(fulfilled, mailoutbox, monkeypatch):
    import referrals.invitations as invitations

    advocate = fulfilled()
    monkeypatch.setattr(invitations, "email_send", lambda **kw: (_ for _ in ()).throw(OSError("smtp down")))
    now = advocate.invite_due_at + timedelta(seconds=1)
    assert advocate_invites_sweep(now=now) == 0
    advocate.refresh_from_db()
    assert advocate.invited_at is None and advocate.invite_due_at > now
