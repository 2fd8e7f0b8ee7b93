"""Reviews from non-buyers on the storefront: off by default, confirmed by email, never verified."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail, signing
from django.core.cache import cache

from reviews.models import ModerationDecision, ProductRating, Review, ReviewSettings
from reviews.nonbuyer import FORM_SALT, form_token
from tests.shopapp.test_proxy import signed_proxy_query

pytestmark = pytest.mark.django_db
MUG = 9007199254741301


@pytest.fixture(autouse=True)
def _setup(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    cache.clear()
    yield
    cache.clear()


def _enable(shop, on=True):
    config = ReviewSettings.for_shop(shop)
    config.non_buyer_reviews = on
    config.save()


def _known(shop, product_id=MUG, title="Trail Mug"):
    ProductRating.objects.create(shop=shop, product_id=product_id, product_title=title)


def _url(shop, product_id=MUG, domain=None):
    return f"/proxy/reviews/{product_id}/write?{signed_proxy_query(domain or shop.domain)}"


def _post(client, shop, django_capture_on_commit_callbacks, product_id=MUG, token=None, **fields):
    data = {"rating": "2", "title": "Chipped", "body": "The glaze chipped after a week of use.",
            "display_name": "Sam", "email": "sam@example.com",
            "form_token": token if token is not None else form_token(shop=shop, product_id=product_id), **fields}
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(_url(shop, product_id), data)


def _confirm_path() -> str:
    [message] = mail.outbox
    return re.search(r"https?://[^/\s]+(/reviews/confirm/\S+)", message.body).group(1)


def test_form_is_not_found_while_the_setting_is_off(client, shop):
    _known(shop)
    response = client.get(_url(shop))
    assert response.status_code == 404
    assert client.post(_url(shop), {"rating": "5"}).status_code == 404
    assert not Review.objects.exists()


def test_storefront_page_links_to_the_form_only_when_the_setting_is_on(client, shop):
    _known(shop)
    page = client.get(f"/proxy/reviews/{MUG}?{signed_proxy_query(shop.domain)}").content.decode()
    assert "Write a review" not in page
    _enable(shop)  # the cached page is replaced at once
    page = client.get(f"/proxy/reviews/{MUG}?{signed_proxy_query(shop.domain)}").content.decode()
    assert f'href="/apps/advocate/reviews/{MUG}/write"' in page


def test_form_needs_the_proxy_signature(client, shop):
    _enable(shop)
    _known(shop)
    assert client.get(f"/proxy/reviews/{MUG}/write?shop={shop.domain}").status_code == 401


def test_review_is_stored_unconfirmed_and_the_link_publishes_it_never_verified(
        client, shop, django_capture_on_commit_callbacks):
    _enable(shop)
    _known(shop)
    response = _post(client, shop, django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert "Check your email" in response.content.decode()
    review = Review.objects.get()
    assert (review.status, review.source, review.email, review.verified) == (
        Review.Status.UNCONFIRMED, Review.Source.STOREFRONT, "sam@example.com", False)
    assert ProductRating.objects.get(shop=shop, product_id=MUG).count == 0
    path = _confirm_path()
    assert "sam" not in path  # the link reveals no personal data
    # Opening the link (as a mail scanner would) does not publish: the button does.
    page = client.get(path)
    assert page.status_code == 200 and "Confirm my review" in page.content.decode()
    assert Review.objects.get().status == Review.Status.UNCONFIRMED
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(path)
    assert "is published now" in done.content.decode()
    review.refresh_from_db()
    assert review.status == Review.Status.PUBLISHED and not review.verified
    assert ProductRating.objects.get(shop=shop, product_id=MUG).count == 1
    storefront = client.get(f"/proxy/reviews/{MUG}?{signed_proxy_query(shop.domain, format='json')}").json()
    assert storefront["reviews"][0]["verified"] is False
    assert client.post(path).status_code == 200  # a second click changes nothing
    assert Review.objects.get().published_at == review.published_at


def test_confirmed_review_goes_through_the_content_rules(client, shop, django_capture_on_commit_callbacks):
    _enable(shop)
    _known(shop)
    _post(client, shop, django_capture_on_commit_callbacks, body="Call me on +1 415 555 0199 for details.")
    client.post(_confirm_path())
    review = Review.objects.get()
    assert review.status == Review.Status.HELD and review.held_reasons == ["personal_data"]
    assert ModerationDecision.objects.filter(review=review, action="held").exists()


def test_bad_or_expired_confirmation_link_shows_a_friendly_page(client, shop, django_capture_on_commit_callbacks,
                                                                monkeypatch):
    _enable(shop)
    _known(shop)
    _post(client, shop, django_capture_on_commit_callbacks)
    path = _confirm_path()
    bad = client.post(path[:-3] + "xyz")
    assert bad.status_code == 404 and "This confirmation link does not work" in bad.content.decode()
    from reviews import nonbuyer
    monkeypatch.setattr(nonbuyer, "CONFIRM_VALIDITY", timedelta(seconds=-1))
    expired = client.post(path)
    assert expired.status_code == 404 and "expired" in expired.content.decode()
    assert Review.objects.get().status == Review.Status.UNCONFIRMED


def test_errors_show_next_to_fields_and_keep_what_was_typed(client, shop, django_capture_on_commit_callbacks):
    _enable(shop)
    _known(shop)
    response = _post(client, shop, django_capture_on_commit_callbacks, rating="", email="not-an-email",
                     title="Keep <this> title")
    page = response.content.decode()
    assert response.status_code == 400
    assert "Choose a star rating." in page
    assert "Enter an email address like name@example.com." in page
    assert 'value="Keep &lt;this&gt; title"' in page
    assert "The glaze chipped after a week of use." in page
    assert not Review.objects.exists() and not mail.outbox


def test_a_forged_or_expired_form_token_is_refused_and_input_kept(client, shop, django_capture_on_commit_callbacks,
                                                                  monkeypatch):
    _enable(shop)
    _known(shop)
    forged = _post(client, shop, django_capture_on_commit_callbacks, token="made-up")
    assert forged.status_code == 400 and "send it again" in forged.content.decode()
    other_product = signing.TimestampSigner(salt=FORM_SALT).sign(f"{shop.pk}:1")
    assert _post(client, shop, django_capture_on_commit_callbacks, token=other_product).status_code == 400
    from reviews import nonbuyer
    token = form_token(shop=shop, product_id=MUG)
    monkeypatch.setattr(nonbuyer, "FORM_MAX_AGE", timedelta(seconds=-1))
    expired = _post(client, shop, django_capture_on_commit_callbacks, token=token)
    assert expired.status_code == 400 and "The glaze chipped" in expired.content.decode()
    assert not Review.objects.exists()


def test_honeypot_stores_nothing(client, shop, django_capture_on_commit_callbacks):
    _enable(shop)
    _known(shop)
    response = _post(client, shop, django_capture_on_commit_callbacks, website="http://spam.example")
    assert response.status_code == 200 and not Review.objects.exists() and not mail.outbox


def test_posts_are_rate_limited_per_email(client, shop, django_capture_on_commit_callbacks):
    _enable(shop)
    _known(shop)
    codes = [_post(client, shop, django_capture_on_commit_callbacks, body=f"Review number {n} of the mug, fine.")
             .status_code for n in range(6)]
    assert codes == [200] * 5 + [429]
    assert Review.objects.count() == 5


def test_another_shops_product_id_never_mixes_shops(client, shop, other_shop, fake_shopify,
                                                    django_capture_on_commit_callbacks):
    _enable(shop)
    _enable(other_shop)
    _known(other_shop, product_id=555, title="Outsider Lamp")
    fake_shopify.grant(shop.domain, shop.access_token, shop.refresh_token)
    fake_shopify.responders["product"] = lambda variables: None  # Shopify: not a product of this shop
    assert client.get(_url(shop, product_id=555)).status_code == 404
    response = _post(client, shop, django_capture_on_commit_callbacks, product_id=555)
    assert response.status_code == 404
    assert not Review.objects.exists()
    # A form token made for the other shop's form does not work on this shop's.
    _known(shop)
    token = form_token(shop=other_shop, product_id=MUG)
    assert _post(client, shop, django_capture_on_commit_callbacks, token=token).status_code == 400


def test_product_new_to_advocate_is_looked_up_in_the_shops_admin(client, shop, fake_shopify):
    _enable(shop)
    fake_shopify.grant(shop.domain, shop.access_token, shop.refresh_token)
    fake_shopify.responders["product"] = lambda variables: {"id": variables["id"], "title": "Camp Kettle"}
    page = client.get(_url(shop, product_id=777))
    assert page.status_code == 200 and "Write a review of Camp Kettle" in page.content.decode()
    [call] = fake_shopify.calls_to("product")
    assert call["variables"]["id"] == "gid://shopify/Product/777"
    client.get(_url(shop, product_id=777))
    assert len(fake_shopify.calls_to("product")) == 1  # cached


def test_a_review_never_confirmed_is_deleted_when_its_link_expires(client, shop, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    from reviews.nonbuyer import CONFIRM_VALIDITY, unconfirmed_reviews_delete

    _enable(shop)
    _known(shop)
    _post(client, shop, django_capture_on_commit_callbacks)
    _post(client, shop, django_capture_on_commit_callbacks, email="kit@example.com", title="Still time")
    stale = Review.objects.get(email="sam@example.com")
    Review.objects.filter(pk=stale.pk).update(created_at=timezone.now() - CONFIRM_VALIDITY - timedelta(minutes=1))
    confirmed = Review.objects.create(shop=shop, product_id=MUG, rating=4, source=Review.Source.STOREFRONT,
                                      email="old@example.com", created_at=timezone.now() - timedelta(days=30))
    assert unconfirmed_reviews_delete() == 1
    assert set(Review.objects.values_list("email", flat=True)) == {"kit@example.com", confirmed.email}
