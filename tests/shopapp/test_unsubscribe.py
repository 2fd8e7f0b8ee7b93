"""Unsubscribing: RFC 8058 one-click for mail providers, a page with a button for people, nothing on a GET."""
from __future__ import annotations

import pytest
from django.test import Client

from shopapp.mail import Audience, email_send, unsubscribe_url
from shopapp.models import Customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def maya(shop):
    shop.postal_address = "12 Harbour Road\nPortland OR 97201"
    shop.save(update_fields=["postal_address"])
    return Customer.objects.create(shop=shop, shopify_id=1, email="maya@example.com", first_name="Maya")


@pytest.fixture
def browser():
    """A client that checks CSRF like a real browser session does."""
    return Client(enforce_csrf_checks=True)


def _path(customer):
    return "/" + unsubscribe_url(customer).split("://", 1)[1].split("/", 1)[1]


def _unsubscribed(customer) -> bool:
    return Customer.objects.get(pk=customer.pk).unsubscribed_at is not None


def test_opening_the_link_shows_a_button_and_unsubscribes_nobody(browser, maya):
    for _ in range(3):  # a mail scanner following the link, then again
        response = browser.get(_path(maya))
        assert response.status_code == 200
    page = response.content.decode()
    assert 'value="unsubscribe"' in page and "Unsubscribe from Owner Shop" in page and "12 Harbour Road" in page
    assert browser.head(_path(maya)).status_code == 200
    assert not _unsubscribed(maya)


def test_the_pages_button_unsubscribes_and_the_undo_button_resubscribes(browser, maya):
    browser.get(_path(maya))  # sets the CSRF cookie, as the page does for a person
    token = browser.cookies["csrftoken"].value
    page = browser.post(_path(maya), {"action": "unsubscribe", "csrfmiddlewaretoken": token}).content.decode()
    assert "You're unsubscribed" in page and 'value="resubscribe"' in page and _unsubscribed(maya)
    page = browser.post(_path(maya), {"action": "resubscribe", "csrfmiddlewaretoken": token}).content.decode()
    assert "You're subscribed again" in page and not _unsubscribed(maya)


def test_the_rfc_8058_one_click_post_unsubscribes_without_a_csrf_token(browser, maya):
    # What Gmail and Yahoo send: a POST to the List-Unsubscribe URL with this exact body, no cookies.
    response = browser.post(_path(maya), "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200 and _unsubscribed(maya)
    assert email_send(shop=maya.shop, audience=Audience.MARKETING, customer=Customer.objects.get(pk=maya.pk),
                      subject="Share", text="x") is False


def test_a_post_without_the_one_click_body_needs_the_csrf_token(browser, maya):
    for data in ({"action": "unsubscribe"}, {"action": "resubscribe"}, {"List-Unsubscribe": "yes"}):
        assert browser.post(_path(maya), data).status_code == 403
    assert not _unsubscribed(maya)


def test_a_tampered_link_or_an_unknown_action_changes_nothing(browser, client, maya):
    bad = _path(maya)[:-3] + "xyz"
    assert browser.post(bad, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded").status_code == 404
    response = client.post(_path(maya), {"action": "delete-everything"})
    assert response.status_code == 400 and "Choose one of the buttons." in response.content.decode()
    assert client.put(_path(maya)).status_code == 405
    assert not _unsubscribed(maya)


def test_one_customers_link_never_unsubscribes_the_same_address_at_another_shop(browser, maya, other_shop):
    elsewhere = Customer.objects.create(shop=other_shop, shopify_id=1, email="maya@example.com", first_name="Maya")
    browser.post(_path(maya), "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert _unsubscribed(maya) and not _unsubscribed(elsewhere)
    assert "Outsider Shop" not in browser.get(_path(maya)).content.decode()


def test_the_list_unsubscribe_header_is_the_url_that_works_for_one_click(browser, maya, mailoutbox):
    email_send(shop=maya.shop, audience=Audience.MARKETING, customer=maya, subject="Hi", text="x")
    url = mailoutbox[0].extra_headers["List-Unsubscribe"].strip("<>")
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    browser.post(path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert _unsubscribed(maya)
