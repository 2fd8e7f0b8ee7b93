from __future__ import annotations

import pytest
from django.core import mail

from shopapp.models import MailSettings

pytestmark = pytest.mark.django_db


def _post(client, make_session_token, shop, data):
    return client.post(f"/app/settings/?id_token={make_session_token(shop.domain)}", data)


def test_sender_is_saved_and_used_on_the_test_email(client, make_session_token, shop, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert _post(client, make_session_token, shop, {"action": "sender", "sender_name": "Maya's Mugs", "reply_to": "help@mugs.example"}).status_code == 200
    response = _post(client, make_session_token, shop, {"action": "test", "to": "owner@mugs.example"})
    assert b"Test email sent to owner@mugs.example" in response.content
    sent = mail.outbox[-1]
    assert sent.from_email.startswith('"Maya\'s Mugs" <') and sent.reply_to == ["help@mugs.example"]
    assert MailSettings.objects.get(shop=shop).test_sent_at is not None


def test_bad_sender_is_refused_with_a_message_and_nothing_changes(client, make_session_token, shop):
    response = _post(client, make_session_token, shop, {"action": "sender", "sender_name": 'Evil\r\nBcc: x@y.z', "reply_to": "not-an-email"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "no quotes, angle brackets or line breaks" in page and "Enter a valid email address" in page
    assert MailSettings.objects.get(shop=shop).sender_name == ""


def test_settings_of_one_shop_never_touch_another(client, make_session_token, shop, other_shop):
    _post(client, make_session_token, shop, {"action": "sender", "sender_name": "Mine", "reply_to": ""})
    assert not MailSettings.objects.filter(shop=other_shop, sender_name="Mine").exists()


def test_onboarding_step_is_done_after_a_test_email(panel_get, client, make_session_token, shop, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert "Check how your emails look" in panel_get("/", shop).content.decode()
    _post(client, make_session_token, shop, {"action": "test", "to": "owner@mugs.example"})
    from shopapp.registry import onboarding_steps

    assert {s["key"]: s["done"] for s in onboarding_steps(shop)}["sender"] is True
