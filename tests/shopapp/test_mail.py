"""shopapp.mail.email_send: the one path every email takes, and the rules it applies."""
from __future__ import annotations

import pytest
from django.utils import timezone

from shopapp.mail import Audience, email_send
from shopapp.models import Customer, MailSettings, Shop

pytestmark = pytest.mark.django_db

ADDRESS = "Maya's Mugs Ltd\n12 Harbour Road\nPortland OR 97201\nUnited States"


@pytest.fixture
def maya(shop):
    shop.postal_address = ADDRESS
    shop.save(update_fields=["postal_address"])
    return Customer.objects.create(shop=shop, shopify_id=9007199254740993, email="maya@example.com", first_name="Maya")


def _send(shop, maya, audience, **kw):
    return email_send(shop=shop, audience=audience, customer=maya, subject="Hello\r\nBcc: x@y.z", text="Body",
                      html="<html><body><p>Body</p></body></html>", **kw)


def test_a_shopper_email_has_the_shops_sender_one_click_unsubscribe_and_postal_address(shop, maya, mailoutbox):
    MailSettings.objects.create(shop=shop, sender_name="Maya's Mugs", reply_to="help@mugs.example")
    assert _send(shop, maya, Audience.MARKETING) is True
    [sent] = mailoutbox
    assert sent.from_email.startswith('"Maya\'s Mugs" <') and sent.reply_to == ["help@mugs.example"]
    assert sent.to == ["maya@example.com"] and "\n" not in sent.subject and "Bcc" not in sent.extra_headers
    assert sent.extra_headers["List-Unsubscribe"].startswith("<http") and "/u/" in sent.extra_headers["List-Unsubscribe"]
    assert sent.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "12 Harbour Road, Portland OR 97201, United States" in sent.body
    html = sent.alternatives[0][0]
    assert "12 Harbour Road" in html and html.index("12 Harbour Road") < html.index("</body>")


@pytest.mark.parametrize("change", [{"unsubscribed_at": timezone.now()}, {"marketing": Customer.Marketing.UNSUBSCRIBED},
                                    {"redacted_at": timezone.now()}, {"email": ""}])
def test_marketing_is_not_sent_to_a_customer_who_opted_out_or_was_erased(shop, maya, mailoutbox, change):
    Customer.objects.filter(pk=maya.pk).update(**change)
    maya.refresh_from_db()
    assert _send(shop, maya, Audience.MARKETING) is False
    assert mailoutbox == []


def test_shopify_consent_can_be_left_to_the_caller_for_review_requests(shop, maya, mailoutbox):
    Customer.objects.filter(pk=maya.pk).update(marketing=Customer.Marketing.UNSUBSCRIBED)
    maya.refresh_from_db()
    assert _send(shop, maya, Audience.MARKETING, honour_shopify_consent=False) is True


def test_what_the_customer_is_owed_still_reaches_them_after_unsubscribing_but_never_after_erasure(
        shop, maya, mailoutbox):
    Customer.objects.filter(pk=maya.pk).update(unsubscribed_at=timezone.now())
    maya.refresh_from_db()
    assert _send(shop, maya, Audience.CUSTOMER) is True
    Customer.objects.filter(pk=maya.pk).update(redacted_at=timezone.now())
    maya.refresh_from_db()
    assert _send(shop, maya, Audience.CUSTOMER) is False
    assert len(mailoutbox) == 1


def test_an_uninstalled_shop_sends_nothing(shop, maya, mailoutbox):
    shop.uninstalled_at = timezone.now()
    shop.save(update_fields=["uninstalled_at"])
    for audience in Audience:
        assert _send(shop, maya, audience, to=["owner@mugs.example"]) is False
    assert mailoutbox == []


def test_a_shop_loaded_before_its_uninstall_sends_nothing_either(shop, maya, mailoutbox):
    """One check on the email path, read from the database: a job holding a `Shop` it loaded
    before the app/uninstalled webhook was processed gets False, like any other refusal."""
    Shop.objects.filter(pk=shop.pk).update(uninstalled_at=timezone.now())
    assert shop.is_installed  # the object in hand still says installed
    for audience in Audience:
        assert _send(shop, maya, audience, to=["owner@mugs.example"]) is False
    assert mailoutbox == []


def test_a_merchant_email_has_no_unsubscribe_headers_or_shopper_footer(shop, maya, mailoutbox):
    assert email_send(shop=shop, audience=Audience.MERCHANT, to=["owner@mugs.example"], subject="New case",
                      text="A case") is True
    [sent] = mailoutbox
    assert "List-Unsubscribe" not in sent.extra_headers and "Harbour" not in sent.body


def test_a_backend_failure_is_raised_so_the_caller_can_release_its_claim(shop, maya, settings):
    settings.EMAIL_BACKEND = "tests.shopapp.test_mail.BrokenBackend"
    with pytest.raises(OSError):
        _send(shop, maya, Audience.CUSTOMER)


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise OSError("smtp down")


def test_the_review_request_test_email_carries_the_sender_and_postal_address(shop, maya, mailoutbox):
    from reviews.requests import review_request_test_send

    MailSettings.objects.create(shop=shop, sender_name="Maya's Mugs", reply_to="help@mugs.example")
    review_request_test_send(shop=shop, to="owner@mugs.example")
    [sent] = mailoutbox
    assert sent.subject.startswith("[Test] ") and sent.reply_to == ["help@mugs.example"]
    assert "12 Harbour Road" in sent.body and "12 Harbour Road" in sent.alternatives[0][0]


def test_the_postal_address_is_read_from_shopify_at_install_and_carried_by_shopper_emails(
        panel_get, fake_shopify, mailoutbox):
    from shopapp.models import Shop

    panel_get("/", "brand-new.myshopify.com")
    shop = Shop.objects.get(domain="brand-new.myshopify.com")
    assert shop.postal_address == "Owner Shop LLC\n12 Harbour Road\nPortland OR 97201\nUnited States"
    customer = Customer.objects.create(shop=shop, email="sam@example.com")
    email_send(shop=shop, audience=Audience.MARKETING, customer=customer, subject="Hi", text="Hello")
    assert "Owner Shop LLC, 12 Harbour Road, Portland OR 97201, United States" in mailoutbox[0].body


def test_an_address_without_a_street_keeps_the_one_already_known(shop, fake_shopify):
    from shopapp.services import shop_sync_details

    fake_shopify.grant(shop.domain, shop.access_token, shop.refresh_token)
    shop.postal_address = "1 Known Street\nPortland"
    shop.save(update_fields=["postal_address"])
    fake_shopify.shop_info["billingAddress"] = {"address1": None, "city": "Portland", "country": "United States"}
    shop_sync_details(shop)
    shop.refresh_from_db()
    assert shop.postal_address == "1 Known Street\nPortland"
