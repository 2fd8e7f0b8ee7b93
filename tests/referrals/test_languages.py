"""Referral emails and pages in the advocate's language; a friend's landing page in the friend's."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from referrals.invitations import invitation_email
from referrals.landing import landing_card
from referrals.models import Advocate, ProgramSettings, Referral
from referrals.notifications import referral_advocate_tell
from referrals.sharing import share_token
from tests.referrals.helpers import customer, order

pytestmark = pytest.mark.django_db


@pytest.fixture
def jimin(shop):
    """An advocate who ordered on the Korean storefront."""
    ProgramSettings.objects.create(shop=shop, friend_offer_value="15", reward_value="10")
    buyer = customer(shop, first_name="지민", shopify_id=222)
    order(shop, buyer, customer_locale="ko-KR")
    return Advocate.objects.create(shop=shop, customer=buyer, code="JIMIN-4R7T", code_state=Advocate.CodeState.CREATED)


def test_the_invitation_speaks_korean_with_money_as_korean_writes_it(jimin, shop):
    subject, text, html = invitation_email(jimin, ProgramSettings.for_shop(shop))
    assert subject == f"친구에게 {shop.name} 첫 주문 15% 할인 혜택을 선물하세요"
    assert text.startswith("지민님, 안녕하세요.")
    assert "주문한 친구 한 명당 적립금 US$10.00 혜택을 받아요" in text
    assert "- 문자 메시지: sms:" in text and '<html lang="ko"' in html


def test_news_of_a_friends_order_reaches_the_advocate_in_korean(jimin, shop, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    friend = customer(shop, first_name="Sam")
    referral = Referral.objects.create(shop=shop, advocate=jimin, order=order(shop, friend), friend=friend,
                                       via=Referral.Via.CODE, status=Referral.Status.PENDING,
                                       order_total=Decimal("80.00"), reward_amount=Decimal("10.00"), currency="USD",
                                       created_at=timezone.now())
    assert referral_advocate_tell(referral_id=referral.pk)
    message = mail.outbox[0]
    assert message.subject == f"친구가 {shop.name}에서 주문했어요"
    assert "보상으로 US$10.00 드려요" in message.body and "Sam" not in message.body


def test_a_friend_reads_the_landing_page_in_their_browsers_language_else_in_the_advocates(client, jimin):
    korean = client.get("/r/JIMIN-4R7T", HTTP_ACCEPT_LANGUAGE="ko-KR,ko;q=0.9")
    assert korean["Content-Language"] == "ko"
    assert "지민님이 첫 주문 15% 할인 혜택을 보냈어요" in korean.content.decode()
    german = client.get("/r/JIMIN-4R7T", HTTP_ACCEPT_LANGUAGE="de-DE").content.decode()
    assert "지민 schenkt Ihnen 15\u00a0% Rabatt auf Ihre erste Bestellung" in german
    # No language Advocate speaks in the browser: the advocate's.
    assert "지민님이" in client.get("/r/JIMIN-4R7T", HTTP_ACCEPT_LANGUAGE="pt-BR").content.decode()
    assert '<html lang="ja"' in client.get("/r/JIMIN-4R7T?lang=ja").content.decode()
    # One remembered card serves every language, each page made once.
    assert set(landing_card("JIMIN-4R7T").pages) == {"ko", "de", "ja"}


def test_the_advocates_own_page_speaks_their_language(client, jimin, shop):
    page = client.get(reverse("referral-share", args=[share_token(jimin)]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "친구에게는 첫 주문 15% 할인, 나에게는 적립금 US$10.00" in page
    assert 'data-copied="링크를 복사했어요."' in page and "<dd>US$0.00</dd>" in page


def test_an_unknown_code_is_explained_in_the_browsers_language(client, jimin):
    page = client.get("/r/NOPE-0000", HTTP_ACCEPT_LANGUAGE="fr-FR").content.decode()
    assert "Ce lien de parrainage n’est pas actif" in page


def test_the_landing_text_is_the_merchants_version_in_the_friends_language_else_their_own_words(client, jimin, shop):
    program = ProgramSettings.for_shop(shop)
    program.landing_text = "Organic tea, shipped fast."
    program.translations = {"ko": {"landing_text": "유기농 차를 빠르게 보내 드려요."}}
    program.save()
    assert "유기농 차를 빠르게 보내 드려요." in client.get("/r/JIMIN-4R7T", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "Organic tea, shipped fast." in client.get("/r/JIMIN-4R7T", HTTP_ACCEPT_LANGUAGE="de").content.decode()


def test_the_panel_keeps_the_landing_text_per_language(client, make_session_token, panel_get, shop, jimin):
    page = panel_get("/app/referrals/settings/", shop).content.decode()
    assert 'name="tr-ko-landing_text"' in page
    settings = {"enabled": "on", "friend_offer_kind": "percent", "friend_offer_value": "15",
                "friend_minimum_subtotal": "0", "friend_first_order_only": "on", "reward_kind": "fixed",
                "reward_value": "10", "reward_cap": "", "hold_days": "30", "monthly_cap": "", "weekly_referral_limit": "5",
                "landing_text": "Organic tea, shipped fast.", **{f"tr-{code}-landing_text": "" for code in ("ko", "ja", "de", "fr", "es")},
                "tr-ko-landing_text": "유기농 차를 빠르게 보내 드려요."}
    response = client.post(f"/app/referrals/settings/?id_token={make_session_token(shop.domain)}", settings)
    assert response.status_code == 200
    assert ProgramSettings.objects.get(shop=shop).translations == {"ko": {"landing_text": "유기농 차를 빠르게 보내 드려요."}}
