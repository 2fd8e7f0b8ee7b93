from __future__ import annotations

from decimal import Decimal
import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from referrals.models import Advocate, CreditEntry, ProgramSettings, Referral
from referrals.sharing import SHARE_MAX_AGE, share_link, share_token
from referrals.views_shopper import OWN_COOKIE
from tests.referrals.helpers import customer, order
from tests.shopapp.test_proxy import signed_proxy_query

pytestmark = pytest.mark.django_db


@pytest.fixture
def advocate(shop):
    ProgramSettings.objects.create(shop=shop, friend_offer_value="15", reward_value="10", monthly_cap="50")
    return Advocate.objects.create(shop=shop, customer=customer(shop, first_name="Maya", shopify_id=111),
                                   code="MAYA-7K2Q", code_state=Advocate.CodeState.CREATED)


def _friend_order(advocate, first_name, last_name, status, reward="10.00"):
    shop = advocate.shop
    friend = customer(shop, first_name=first_name, email=f"{first_name.lower()}.{last_name.lower()}@example.com")
    friend.last_name = last_name
    friend.save()
    return Referral.objects.create(shop=shop, advocate=advocate, order=order(shop, friend), friend=friend,
                                   via=Referral.Via.CODE, status=status, order_total=Decimal("80.00"),
                                   reward_amount=Decimal(reward), currency=shop.currency)


def _path(advocate):
    return reverse("referral-share", args=[share_token(advocate)])


def test_share_page_shows_the_link_share_buttons_friends_by_first_name_and_credit(client, advocate, settings):
    _friend_order(advocate, "Sam", "Okafor", Referral.Status.ISSUED)
    _friend_order(advocate, "Ana", "Lindqvist", Referral.Status.PENDING, reward="7.50")
    _friend_order(advocate, "Eve", "Mallory", Referral.Status.REJECTED)
    CreditEntry.objects.create(shop=advocate.shop, advocate=advocate, key="reward:1", amount=Decimal("10.00"),
                               currency="USD", status=CreditEntry.Status.CONFIRMED)
    CreditEntry.objects.create(shop=advocate.shop, advocate=advocate, key="reward:2", amount=Decimal("99.00"),
                               currency="USD", status=CreditEntry.Status.CANCELLED)
    response = client.get(_path(advocate))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Give 15% off your first order, get $10.00 in store credit" in body
    assert f'value="{settings.APP_URL}/r/MAYA-7K2Q"' in body
    for label in ("WhatsApp", "Text message", "Email", "X", "Facebook"):
        assert f">{label}<" in body
    assert "Sam" in body and "Ana" in body
    assert "Okafor" not in body and "Lindqvist" not in body and "@example.com" not in body
    assert "Eve" not in body  # a rejected order is not a friend who counts
    assert "<dt>Earned</dt><dd>$10.00</dd>" in body
    assert "<dt>On the way</dt><dd>$7.50</dd>" in body
    assert "up to $50.00 a month" in body
    assert response["Cache-Control"] == "private, no-store" and response["Referrer-Policy"] == "no-referrer"
    assert response.cookies[OWN_COOKIE].value  # their own link now shows them a sample


def test_share_links_carry_the_message_and_link(client, advocate, settings):
    settings.APP_URL = "https://advocate.example"
    body = client.get(_path(advocate)).content.decode()
    hrefs = {m: html.unescape(h) for h, m in re.findall(r'<a class="button secondary" href="([^"]+)"[^>]*>([^<]+)<', body)}
    whatsapp = parse_qs(urlsplit(hrefs["WhatsApp"]).query)["text"][0]
    assert whatsapp == "Here's 15% off your first order at Owner Shop: https://advocate.example/r/MAYA-7K2Q"
    assert parse_qs(urlsplit(hrefs["Facebook"]).query)["u"] == ["https://advocate.example/r/MAYA-7K2Q"]
    assert parse_qs(urlsplit(hrefs["X"]).query)["url"] == ["https://advocate.example/r/MAYA-7K2Q"]
    assert hrefs["Email"].startswith("mailto:?subject=") and "advocate.example%2Fr%2FMAYA-7K2Q" in hrefs["Email"]
    assert hrefs["Text message"].startswith("sms:?&body=")


def test_share_link_is_absolute_and_names_no_personal_data(advocate, settings):
    settings.APP_URL = "https://advocate.example"
    link = share_link(advocate)
    assert link.startswith("https://advocate.example/referrals/me/")
    assert "maya" not in link.lower() and "@" not in link


@pytest.mark.parametrize("token", ["nonsense", "a" * 60])
def test_bad_token_gets_a_friendly_page(client, advocate, token):
    response = client.get(f"/referrals/me/{token}")
    assert response.status_code == 404
    assert "This link does not work" in response.content.decode()


def test_expired_token_gets_the_friendly_page(client, advocate, monkeypatch):
    import time

    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now - SHARE_MAX_AGE.total_seconds() - 86400)
    token = share_token(advocate)  # made a year and a day ago
    monkeypatch.undo()
    response = client.get(f"/referrals/me/{token}")
    assert response.status_code == 404 and "This link does not work" in response.content.decode()


def test_token_for_another_purpose_is_refused(client, advocate):
    from shopapp.links import link_token

    assert client.get(f"/referrals/me/{link_token('review-request', advocate.pk)}").status_code == 404


def test_uninstalled_shop_or_erased_customer_link_stops_working(client, advocate):
    from django.utils import timezone

    path = _path(advocate)
    type(advocate.customer).objects.filter(pk=advocate.customer.pk).update(redacted_at=timezone.now())
    assert client.get(path).status_code == 404


def test_paused_program_says_so_but_still_shows_credit(client, advocate):
    ProgramSettings.objects.filter(shop=advocate.shop).update(enabled=False)
    body = client.get(_path(advocate)).content.decode()
    assert "Referrals are paused" in body and "WhatsApp" not in body and "<dt>Earned</dt>" in body


def test_empty_state_explains_friends_appear_by_first_name(client, advocate):
    assert "No friends have ordered with your link yet" in client.get(_path(advocate)).content.decode()


def test_proxy_page_shows_the_logged_in_customers_own_page(client, advocate):
    _friend_order(advocate, "Sam", "Okafor", Referral.Status.PENDING)
    response = client.get(f"/proxy/referrals/me?{signed_proxy_query(advocate.shop.domain, logged_in_customer_id='111')}")
    body = response.content.decode()
    assert response.status_code == 200 and "Hi Maya" in body and "Sam" in body and "Okafor" not in body


def test_proxy_page_asks_a_logged_out_shopper_to_log_in(client, advocate):
    body = client.get(f"/proxy/referrals/me?{signed_proxy_query(advocate.shop.domain)}").content.decode()
    assert "Log in to see your referral link" in body
    assert "/account/login?return_url=%2Fapps%2Fadvocate%2Freferrals%2Fme" in body


def test_proxy_page_for_a_customer_without_a_link_or_of_another_shop(client, advocate, other_shop):
    body = client.get(f"/proxy/referrals/me?{signed_proxy_query(advocate.shop.domain, logged_in_customer_id='999')}").content.decode()
    assert "Your referral link is on its way" in body
    # The same Shopify customer id through another shop's proxy is not this advocate.
    body = client.get(f"/proxy/referrals/me?{signed_proxy_query(other_shop.domain, logged_in_customer_id='111')}").content.decode()
    assert "Hi Maya" not in body and "Your referral link is on its way" in body


def test_unsigned_proxy_request_is_refused(client, advocate):
    assert client.get("/proxy/referrals/me?shop=owner-shop.myshopify.com&logged_in_customer_id=111").status_code == 401


def test_advocates_own_link_preview_points_to_their_share_page(client, advocate):
    client.get(_path(advocate))  # sets the own cookie
    body = client.get("/r/MAYA-7K2Q").content.decode()
    assert "This is what your friends see" in body and "/referrals/me/" in body


def test_share_page_is_rate_limited_per_ip(client, advocate):
    path = _path(advocate)
    statuses = [client.get(path, REMOTE_ADDR="198.51.100.7").status_code for _ in range(61)]
    assert statuses[:60] == [200] * 60 and statuses[60] == 429
