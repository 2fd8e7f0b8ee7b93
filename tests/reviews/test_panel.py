from __future__ import annotations

import pytest
from django.core import mail

from reviews.models import Review, ReviewPhoto, ReviewSettings
from reviews.services import review_create

pytestmark = pytest.mark.django_db


def _post(client, make_session_token, shop, path, data):
    return client.post(f"{path}?id_token={make_session_token(shop.domain)}", data)


@pytest.fixture
def reviews(shop):
    return [
        review_create(shop=shop, product_id=1, product_title="Trail Mug", rating=5, title="Love it", body="Great mug.",
                      display_name="Maya R."),
        review_create(shop=shop, product_id=2, product_title="Camp Kettle", rating=1, title="Contact",
                      body="Call 555 010 0199 now"),
    ]


def test_list_shows_reviews_with_held_reasons_and_filters(panel_get, shop, reviews):
    page = panel_get("/app/reviews/", shop).content.decode()
    assert "Love it" in page and "Contact" in page
    assert "Contains an email address or phone number" in page
    held = panel_get("/app/reviews/?status=held", shop).content.decode()
    assert "Contact" in held and "Love it" not in held
    five = panel_get("/app/reviews/?rating=5", shop).content.decode()
    assert "Love it" in five and "Contact" not in five
    kettle = panel_get("/app/reviews/?product=2", shop).content.decode()
    assert "Contact" in kettle and "Love it" not in kettle
    ReviewPhoto.objects.create(review=reviews[0], content_type="image/jpeg", image=b"x")
    with_photos = panel_get("/app/reviews/?photos=yes", shop).content.decode()
    assert "Love it" in with_photos and "Contact" not in with_photos


def test_list_paginates(panel_get, shop):
    for i in range(30):
        review_create(shop=shop, product_id=1, product_title="Mug", rating=4, title=f"Review number {i:02d}")
    first = panel_get("/app/reviews/", shop).content.decode()
    assert "Review number 29" in first and "Review number 00" not in first and "Page 1 of 2" in first
    assert "Review number 00" in panel_get("/app/reviews/?page=2", shop).content.decode()


def test_empty_list_explains_what_happens_next(panel_get, shop):
    assert "No reviews yet" in panel_get("/app/reviews/", shop).content.decode()


def test_another_shops_reviews_are_not_listed_or_opened(panel_get, other_shop, reviews):
    assert "Love it" not in panel_get("/app/reviews/", other_shop).content.decode()
    assert panel_get(f"/app/reviews/{reviews[0].pk}/", other_shop).status_code == 404
    photo = ReviewPhoto.objects.create(review=reviews[0], content_type="image/jpeg", image=b"x")
    assert panel_get(f"/app/reviews/photos/{photo.pk}.jpg", other_shop).status_code == 404


def test_another_shop_cannot_moderate(client, make_session_token, other_shop, reviews):
    response = _post(client, make_session_token, other_shop, f"/app/reviews/{reviews[1].pk}/", {"action": "publish"})
    assert response.status_code == 404
    assert Review.objects.get(pk=reviews[1].pk).status == Review.Status.HELD


def test_merchant_publishes_a_held_review_and_the_decision_is_logged(client, make_session_token, shop, reviews):
    response = _post(client, make_session_token, shop, f"/app/reviews/{reviews[1].pk}/", {"action": "publish"})
    assert response.status_code == 200 and "Review published." in response.content.decode()
    review = Review.objects.get(pk=reviews[1].pk)
    assert review.status == Review.Status.PUBLISHED
    assert "Published" in response.content.decode() and "by Staff member 42" in response.content.decode()


def test_reject_without_a_valid_reason_changes_nothing(client, make_session_token, shop, reviews):
    response = _post(client, make_session_token, shop, f"/app/reviews/{reviews[0].pk}/", {"action": "reject", "reason": "negative"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert Review.objects.get(pk=reviews[0].pk).status == Review.Status.PUBLISHED


def test_public_reply_is_saved_and_shown(client, make_session_token, shop, reviews):
    response = _post(client, make_session_token, shop, f"/app/reviews/{reviews[0].pk}/", {"action": "reply", "reply": "Thank you, Maya!"})
    assert "Reply saved." in response.content.decode()
    assert Review.objects.get(pk=reviews[0].pk).reply == "Thank you, Maya!"


def test_settings_are_saved_and_bad_values_refused_with_input_kept(client, make_session_token, panel_get, shop):
    page = panel_get("/app/reviews/settings/", shop).content.decode()
    assert "How was your order from Owner Shop?" in page  # the preview
    data = {"action": "save", "requests_enabled": "on", "trigger": "delivered", "delay_days": "61", "home_country": "u1",
            "international_delay_days": "20", "reminder_days": "7", "email_subject": "Hi {first_name}, {bogus}",
            "email_body": "Thanks for {order}"}
    response = _post(client, make_session_token, shop, "/app/reviews/settings/", data)
    page = response.content.decode()
    assert response.status_code == 400
    assert "less than or equal to 60" in page and "two-letter country code" in page and "Unknown placeholder {bogus}" in page
    assert 'value="Hi {first_name}, {bogus}"' in page
    assert ReviewSettings.for_shop(shop).delay_days == 14
    data.update(delay_days="10", home_country="us", email_subject="Hi {first_name}, rate {order}")
    response = _post(client, make_session_token, shop, "/app/reviews/settings/", data)
    assert response.status_code == 200 and "Review settings saved." in response.content.decode()
    config = ReviewSettings.for_shop(shop)
    assert (config.trigger, config.delay_days, config.home_country) == ("delivered", 10, "US")
    assert "Hi Alex, rate #1001" in response.content.decode()


def test_test_send_delivers_the_request_email_to_the_merchant(client, make_session_token, shop, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    response = _post(client, make_session_token, shop, "/app/reviews/settings/", {"action": "test", "to": "owner@example.com"})
    assert "Test request sent to owner@example.com." in response.content.decode()
    assert mail.outbox[0].to == ["owner@example.com"] and mail.outbox[0].subject.startswith("[Test] ")
    assert "rating=5" in mail.outbox[0].alternatives[0][0]


def test_settings_of_one_shop_never_touch_another(client, make_session_token, shop, other_shop):
    _post(client, make_session_token, shop, "/app/reviews/settings/", {"action": "save", "trigger": "delivered", "delay_days": "3",
          "international_delay_days": "3", "reminder_days": "7", "email_subject": "S", "email_body": "B"})
    assert ReviewSettings.for_shop(other_shop).delay_days == 14
    assert ReviewSettings.for_shop(shop).delay_days == 3


def test_reviews_nav_item_shows_the_held_count(panel_get, shop, reviews):
    page = panel_get("/", shop).content.decode()
    assert ">Reviews <span class=\"badge\" aria-label=\"1 open\">1</span>" in page


def test_a_rejected_review_names_its_reason_in_the_panels_language(client, make_session_token, panel_get, shop, reviews):
    response = _post(client, make_session_token, shop, f"/app/reviews/{reviews[0].pk}/", {"action": "reject", "reason": "spam"})
    assert response.status_code in (200, 302)
    page = panel_get(f"/app/reviews/{reviews[0].pk}/", shop).content.decode()
    assert "(Spam or fake)" in page and "()" not in page
