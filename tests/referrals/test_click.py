from __future__ import annotations

import os

import pytest
from django.core.signing import get_cookie_signer

from referrals.models import Advocate, Click, ProgramSettings
from referrals.views_shopper import OWN_COOKIE, OWN_COOKIE_SALT
from tests.referrals.helpers import customer
from tests.shopapp.test_proxy import signed_proxy_query

pytestmark = pytest.mark.django_db


@pytest.fixture
def advocate(shop):
    ProgramSettings.objects.create(shop=shop, friend_offer_value="15", landing_text="Organic tea, shipped fast.")
    return Advocate.objects.create(shop=shop, customer=customer(shop, first_name="Maya", shopify_id=111),
                                   code="MAYA-7K2Q", code_state=Advocate.CodeState.CREATED)


def test_friend_sees_the_offer_and_a_button_to_the_stores_discount_link(client, advocate, fake_shopify):
    response = client.get("/r/maya-7k2q?utm_source=wa", HTTP_USER_AGENT="Mozilla/5.0 (iPhone)",
                          HTTP_REFERER="https://web.whatsapp.com/", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Maya sent you 15% off your first order" in body
    assert "Organic tea, shipped fast." in body
    assert 'href="https://owner-shop.myshopify.com/discount/MAYA-7K2Q?redirect=/"' in body
    click = Click.objects.get()
    assert (click.advocate, click.user_agent, click.referrer_host, click.own) == (advocate, "Mozilla/5.0 (iPhone)", "web.whatsapp.com", False)
    assert click.landing_path == "/r/maya-7k2q?utm_source=wa"
    assert "203.0.113.9" not in click.ip_hash and len(click.ip_hash) == 32
    assert fake_shopify.graphql_calls == []  # the click path never waits on Shopify


def test_discount_link_goes_to_the_simulator_when_shopify_is_local(client, advocate, settings):
    settings.SHOPIFY_UPSTREAM_URL = "http://127.0.0.1:9000"
    body = client.get("/r/MAYA-7K2Q").content.decode()
    assert 'href="http://127.0.0.1:9000/shops/owner-shop.myshopify.com/discount/MAYA-7K2Q?redirect=/"' in body


def test_advocate_opening_their_own_link_sees_a_sample(client, advocate):
    client.cookies[OWN_COOKIE] = get_cookie_signer(salt=OWN_COOKIE + OWN_COOKIE_SALT).sign(str(advocate.pk))
    response = client.get("/r/MAYA-7K2Q")
    body = response.content.decode()
    assert "This is what your friends see" in body
    assert "SAMPLE-CODE" in body
    assert "/discount/MAYA-7K2Q" not in body
    assert Click.objects.filter(own=True).count() == 1


def test_unknown_code_gets_a_friendly_page(client, advocate):
    response = client.get("/r/NOPE-2222")
    assert response.status_code == 404
    assert "This referral link isn't active" in response.content.decode()
    assert not Click.objects.exists()


def test_paused_advocate_or_program_off_gets_the_friendly_page(client, advocate):
    Advocate.objects.filter(pk=advocate.pk).update(status=Advocate.Status.PAUSED)
    assert client.get("/r/MAYA-7K2Q").status_code == 404
    Advocate.objects.filter(pk=advocate.pk).update(status=Advocate.Status.ACTIVE)
    ProgramSettings.objects.filter(shop=advocate.shop).update(enabled=False)
    response = client.get("/r/MAYA-7K2Q")
    assert response.status_code == 404
    assert "Visit Owner Shop" in response.content.decode()


def test_code_not_yet_in_shopify_is_not_offered_as_a_link(client, advocate):
    Advocate.objects.filter(pk=advocate.pk).update(code_state=Advocate.CodeState.PENDING)
    body = client.get("/r/MAYA-7K2Q").content.decode()
    assert "/discount/" not in body and "being prepared" in body


def test_clicks_are_rate_limited_per_ip(client, advocate):
    statuses = [client.get("/r/MAYA-7K2Q", REMOTE_ADDR="198.51.100.1").status_code for _ in range(61)]
    assert statuses[:60] == [200] * 60 and statuses[60] == 429
    assert client.get("/r/MAYA-7K2Q", REMOTE_ADDR="198.51.100.2").status_code == 200
    assert Click.objects.count() == 61


def test_app_proxy_link_works_on_the_store_domain_and_knows_the_logged_in_advocate(client, advocate):
    response = client.get(f"/proxy/referrals/r/MAYA-7K2Q?{signed_proxy_query(advocate.shop.domain)}")
    assert response.status_code == 200 and "Maya sent you" in response.content.decode()
    response = client.get(f"/proxy/referrals/r/MAYA-7K2Q?{signed_proxy_query(advocate.shop.domain, logged_in_customer_id='111')}")
    assert "This is what your friends see" in response.content.decode()


def test_another_shops_proxy_cannot_serve_this_code(client, advocate, other_shop):
    response = client.get(f"/proxy/referrals/r/MAYA-7K2Q?{signed_proxy_query(other_shop.domain)}")
    assert response.status_code == 404
    assert not Click.objects.exists()


def test_uninstalled_shop_code_is_unavailable(client, advocate):
    from django.utils import timezone

    type(advocate.shop).objects.filter(pk=advocate.shop.pk).update(uninstalled_at=timezone.now())
    assert client.get("/r/MAYA-7K2Q").status_code == 404


def test_a_burst_of_clicks_costs_one_insert_each_and_changes_show_at_once(client, advocate, django_assert_num_queries):
    first = client.get("/r/MAYA-7K2Q").content.decode()
    with django_assert_num_queries(1):  # the click row: the page and the advocate come from the card
        again = client.get("/r/MAYA-7K2Q", HTTP_USER_AGENT="Mozilla/5.0 (Android)").content.decode()
    assert again == first and Click.objects.count() == 2
    program = ProgramSettings.objects.get(shop=advocate.shop)
    program.landing_text = "Now with free returns."
    program.save()
    assert "Now with free returns." in client.get("/r/MAYA-7K2Q").content.decode()
    advocate.status = Advocate.Status.PAUSED
    advocate.save()
    assert client.get("/r/MAYA-7K2Q").status_code == 404


def test_the_cached_page_is_the_full_views_page(client, advocate, shop):
    from referrals.views_shopper import _landing

    fast = client.get("/r/MAYA-7K2Q")
    slow = _landing(fast.wsgi_request, Advocate.objects.get(pk=advocate.pk), logged_in_customer_id=None)
    assert fast.content == slow.content
    assert fast["Cache-Control"] == slow["Cache-Control"] == "private, no-store"


def test_cards_expire_and_stay_bounded(advocate, monkeypatch):
    from referrals import landing

    monkeypatch.setattr(landing._cards, "max_items", 3)
    for junk in ("AAAA-1111", "BBBB-2222", "CCCC-3333", "DDDD-4444"):
        assert landing.landing_card(junk) is None
    assert len(landing._cards._items) == 3
    assert landing.landing_card("maya-7k2q").advocate_id == advocate.pk
    Advocate.objects.filter(pk=advocate.pk).update(status=Advocate.Status.PAUSED)  # no signal: another process
    assert landing.landing_card("MAYA-7K2Q") is not None  # still cached here
    landing._cards._items["MAYA-7K2Q"] = (0, landing._cards.get("MAYA-7K2Q"))  # its time is up
    assert landing.landing_card("MAYA-7K2Q") is None


def test_friends_clicks_are_written_behind_in_batches_and_kept_when_the_write_fails(client, advocate, settings,
                                                                                      monkeypatch):
    from referrals import clicklog

    settings.CLICK_BATCH_MAX_WAIT_MS = 60_000  # the flusher thread will not wake during the test
    log = clicklog.ClickLog()
    log._owner_pid = os.getpid()  # as if its writer thread ran already: the test flushes by hand
    monkeypatch.setattr("referrals.services.click_log", log)
    for _ in range(3):
        assert client.get("/r/MAYA-7K2Q").status_code == 200
    assert not Click.objects.exists()  # answered before writing
    def database_down(rows):
        raise RuntimeError("database down")

    monkeypatch.setattr(clicklog, "clicks_insert", database_down)
    log.flush()
    assert not Click.objects.exists() and len(log._items) == 3  # kept for the next try
    monkeypatch.undo()
    log.flush()
    assert Click.objects.filter(advocate=advocate, own=False).count() == 3


def test_a_full_batch_wakes_the_writer(client, advocate, settings, monkeypatch):
    from referrals import clicklog

    settings.CLICK_BATCH_MAX_WAIT_MS = 60_000
    monkeypatch.setattr(clicklog, "BATCH", 2)
    log = clicklog.ClickLog()
    log._owner_pid = os.getpid()  # as if its writer thread ran already: the test flushes by hand
    monkeypatch.setattr("referrals.services.click_log", log)
    client.get("/r/MAYA-7K2Q")
    assert not log._full.is_set()
    client.get("/r/MAYA-7K2Q")
    assert log._full.is_set()  # the writer thread wakes now instead of at the end of the window


def test_guessing_codes_is_refused_after_ten_misses_an_hour_whether_the_next_guess_is_right_or_wrong(client, advocate):
    guesses = [client.get(f"/r/MAYA-{n:04d}", REMOTE_ADDR="198.51.100.7").status_code for n in range(10)]
    assert guesses == [404] * 10
    assert client.get("/r/MAYA-ZZZZ", REMOTE_ADDR="198.51.100.7").status_code == 429
    refused = client.get("/r/MAYA-7K2Q", REMOTE_ADDR="198.51.100.7")  # the right code teaches nothing now
    assert refused.status_code == 429 and refused["Retry-After"] == "3600"
    assert "Wait 60 minutes" in refused.content.decode()
    assert client.get("/r/MAYA-7K2Q", REMOTE_ADDR="198.51.100.8").status_code == 200  # someone else


def test_found_codes_do_not_count_as_misses(client, advocate):
    for _ in range(30):
        assert client.get("/r/MAYA-7K2Q", REMOTE_ADDR="198.51.100.9").status_code == 200
    assert [client.get("/r/NOPE-0000", REMOTE_ADDR="198.51.100.9").status_code for _ in range(10)] == [404] * 10


def test_ipv6_guessers_are_counted_per_64_not_per_address(client, advocate):
    for n in range(10):  # a different address of the same /64 each time
        assert client.get(f"/r/MAYA-{n:04d}", REMOTE_ADDR=f"2001:db8:1:2::{n + 1:x}").status_code == 404
    assert client.get("/r/MAYA-7K2Q", REMOTE_ADDR="2001:db8:1:2:ffff:1:2:3").status_code == 429
    assert client.get("/r/MAYA-7K2Q", REMOTE_ADDR="2001:db8:1:3::1").status_code == 200  # the next /64


def test_misses_through_the_app_proxy_are_counted_per_shopper(client, advocate):
    def guess(code, ip):
        return client.get(f"/proxy/referrals/r/{code}?{signed_proxy_query(advocate.shop.domain)}",
                          HTTP_X_FORWARDED_FOR=ip).status_code

    assert [guess(f"MAYA-{n:04d}", "203.0.113.50") for n in range(10)] == [404] * 10
    assert guess("MAYA-7K2Q", "203.0.113.50") == 429
    assert guess("MAYA-7K2Q", "203.0.113.51") == 200


def test_guessing_spread_over_many_addresses_of_one_shop_leaves_each_address_two_misses(client, advocate):
    from referrals.views_shopper import SHOP_MISSES_PER_HOUR

    def guess(code, ip):
        return client.get(f"/proxy/referrals/r/{code}?{signed_proxy_query(advocate.shop.domain)}",
                          HTTP_X_FORWARDED_FOR=ip).status_code

    for n in range(SHOP_MISSES_PER_HOUR):  # a botnet: one guess per address
        assert guess("MAYA-0000", f"10.{n // 250}.{n % 250}.1") == 404
    assert [guess(f"MAYA-{n:04d}", "203.0.113.77") for n in range(3)] == [404, 404, 429]
    assert guess("MAYA-7K2Q", "203.0.113.78") == 200  # a shopper with a real link is never refused
    assert guess("MAYA-7K2Q", "10.0.0.1") == 200  # one miss is within the tighter limit
