from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from reviews.models import Review, ReviewRequest, ReviewSettings
from reviews.requests import review_request_send
from reviews.services import review_create
from shopapp.models import Customer
from tests.reviews.conftest import order_payload, sweep_at

pytestmark = pytest.mark.django_db
DAY = settings.ADVOCATE_DAY


def test_fulfilled_order_schedules_one_request_after_the_delay_for_its_real_products(fulfilled_order):
    order = fulfilled_order()
    request = ReviewRequest.objects.get(order=order)
    assert request.status == ReviewRequest.Status.SCHEDULED
    assert request.due_at == order.fulfilled_at + 14 * DAY
    # The custom engraving (no product) and the gift card are not asked about.
    assert [i.title for i in request.items.all()] == ["Trail Mug"]


def test_repeated_fulfilment_webhooks_keep_one_request(fulfilled_order, post_webhook, shop):
    order = fulfilled_order()
    post_webhook("fulfillments/update", {"id": 1, "order_id": order.shopify_id, "status": "success"}, shop)
    assert ReviewRequest.objects.filter(order=order).count() == 1


def test_nothing_is_sent_before_the_request_is_due(fulfilled_order):
    order = fulfilled_order()
    sweep_at(order.fulfilled_at + 13 * DAY)
    assert mail.outbox == []
    assert ReviewRequest.objects.get(order=order).status == ReviewRequest.Status.SCHEDULED


def test_due_request_is_emailed_once_with_star_links_and_unsubscribe(fulfilled_order, shop):
    order = fulfilled_order(products=((1, "Trail Mug"), (2, "Camp Kettle")))
    due = order.fulfilled_at + 14 * DAY
    sweep_at(due)
    sweep_at(due + DAY)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["maya.r@example.com"]
    assert message.subject == f"How was your order from {shop.name}?"
    assert message.from_email.startswith(f'"{shop.name}"')
    html = message.alternatives[0][0]
    assert "Trail Mug" in html and "Camp Kettle" in html
    assert html.count("rating=5") == 2 and html.count("&amp;rating=1") == 2
    assert "Unsubscribe" in html and "/u/" in message.body
    assert message.extra_headers["List-Unsubscribe"].startswith("<http")
    request = ReviewRequest.objects.get(order=order)
    assert request.status == ReviewRequest.Status.SENT and request.sent_at == due
    assert request.reminder_due_at == due + 7 * DAY


def test_two_workers_claiming_the_same_request_send_it_once(fulfilled_order):
    order = fulfilled_order()
    request = ReviewRequest.objects.get(order=order)
    now = request.due_at
    results = [review_request_send(request_id=request.pk, now=now) for _ in range(2)]
    assert [r is not None for r in results] == [True, False]
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_send_a_request_once(fulfilled_order):
    from django.db import connection

    order = fulfilled_order()
    due = ReviewRequest.objects.get(order=order).due_at

    def run():
        try:
            sweep_at(due)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(mail.outbox) == 1


def test_unsubscribed_customer_is_never_asked(fulfilled_order):
    order = fulfilled_order()
    Customer.objects.filter(pk=order.customer_id).update(unsubscribed_at=timezone.now())
    sweep_at(order.fulfilled_at + 15 * DAY)
    assert mail.outbox == []
    request = ReviewRequest.objects.get(order=order)
    assert request.status == ReviewRequest.Status.SKIPPED and "unsubscribed" in request.skip_reason


def test_shopify_marketing_opt_out_is_honoured_unless_the_shop_turns_it_off(fulfilled_order, shop):
    order = fulfilled_order(marketing="unsubscribed")
    sweep_at(order.fulfilled_at + 15 * DAY)
    assert mail.outbox == []
    config = ReviewSettings.for_shop(shop)
    config.honour_shopify_consent = False
    config.save()
    second = fulfilled_order(marketing="unsubscribed", products=((7, "Tent"),))
    sweep_at(second.fulfilled_at + 15 * DAY)
    assert len(mail.outbox) == 1


def test_open_case_blocks_the_request(fulfilled_order, shop):
    from shopapp import registry

    order = fulfilled_order()
    blocker = lambda s, c: "has an open case" if c.pk == order.customer_id else None  # noqa: E731
    registry.register_marketing_block(blocker)  # the conftest restores the registry afterwards
    sweep_at(order.fulfilled_at + 15 * DAY)
    assert mail.outbox == []
    assert ReviewRequest.objects.get(order=order).skip_reason == "has an open case"


def test_refund_or_cancel_cancels_the_pending_request(fulfilled_order, post_webhook, shop):
    order = fulfilled_order()
    post_webhook("orders/cancelled", {**order_payload(), "id": order.shopify_id, "cancelled_at": "2026-11-21T10:00:00Z",
                                      "fulfillment_status": "fulfilled"}, shop)
    assert ReviewRequest.objects.get(order=order).status == ReviewRequest.Status.CANCELLED
    sweep_at(order.fulfilled_at + 30 * DAY)
    assert mail.outbox == []


def test_full_refund_cancels_the_pending_request(fulfilled_order, post_webhook, shop):
    order = fulfilled_order()
    refund = {"id": 5551, "order_id": order.shopify_id, "created_at": "2026-11-21T10:00:00Z",
              "transactions": [{"kind": "refund", "status": "success", "amount": str(order.total)}]}
    post_webhook("refunds/create", refund, shop)
    assert ReviewRequest.objects.get(order=order).status == ReviewRequest.Status.CANCELLED


def test_delivery_trigger_waits_for_the_delivered_status(fulfilled_order, post_webhook, shop):
    config = ReviewSettings.for_shop(shop)
    config.trigger = ReviewSettings.Trigger.DELIVERED
    config.save()
    order = fulfilled_order()
    assert not ReviewRequest.objects.filter(order=order).exists()
    post_webhook("fulfillments/update", {"id": 77, "order_id": order.shopify_id, "status": "success",
                                         "shipment_status": "delivered", "updated_at": "2026-11-23T10:00:00Z"}, shop)
    order.refresh_from_db()
    assert ReviewRequest.objects.get(order=order).due_at == order.delivered_at + 14 * DAY


def test_international_orders_use_their_own_delay(fulfilled_order, shop):
    config = ReviewSettings.for_shop(shop)
    config.home_country = "US"
    config.international_delay_days = 30
    config.save()
    domestic = fulfilled_order()
    abroad = fulfilled_order(country="DE", products=((9, "Lamp"),))
    assert ReviewRequest.objects.get(order=domestic).due_at == domestic.fulfilled_at + 14 * DAY
    assert ReviewRequest.objects.get(order=abroad).due_at == abroad.fulfilled_at + 30 * DAY


def test_same_product_is_asked_of_a_customer_once_a_year(fulfilled_order):
    first = fulfilled_order(products=((1, "Trail Mug"),))
    sweep_at(first.fulfilled_at + 14 * DAY)
    second = fulfilled_order(products=((1, "Trail Mug"), (2, "Camp Kettle")))
    sweep_at(second.fulfilled_at + 14 * DAY)
    assert len(mail.outbox) == 2
    assert "Trail Mug" not in mail.outbox[1].alternatives[0][0]
    third = fulfilled_order(products=((1, "Trail Mug"),))
    sweep_at(third.fulfilled_at + 14 * DAY)
    assert len(mail.outbox) == 2
    assert ReviewRequest.objects.get(order=third).status == ReviewRequest.Status.SKIPPED


def test_no_more_than_five_emails_to_a_customer_in_thirty_days(fulfilled_order):
    orders = [fulfilled_order(products=((100 + i, f"Product {i}"),)) for i in range(6)]
    when = max(o.fulfilled_at for o in orders) + 14 * DAY
    sweep_at(when)
    assert len(mail.outbox) == 5
    skipped = ReviewRequest.objects.get(status=ReviewRequest.Status.SKIPPED)
    assert skipped.skip_reason == "the limit of review emails to one customer in 30 days is reached"


def test_one_reminder_seven_days_later_only_when_nothing_was_reviewed(fulfilled_order, shop):
    quiet = fulfilled_order(products=((1, "Trail Mug"),))
    reviewed = fulfilled_order(products=((2, "Camp Kettle"),), email="sam@example.com", customer_id=42)
    due = max(quiet.fulfilled_at, reviewed.fulfilled_at) + 14 * DAY
    sweep_at(due)
    assert len(mail.outbox) == 2
    request = ReviewRequest.objects.get(order=reviewed)
    item = request.items.get()
    review_create(shop=shop, product_id=item.product_id, product_title=item.title, rating=4,
                  order_line=item.order_line, request=request, customer=request.customer)
    sweep_at(due + 7 * DAY)
    sweep_at(due + 8 * DAY)
    assert len(mail.outbox) == 3
    # A friendly nudge about the product, not "Reminder: …".
    assert mail.outbox[2].to == ["maya.r@example.com"]
    assert mail.outbox[2].subject == "How are you getting on with your Trail Mug?"


def test_saved_review_hooks_run_after_commit(shop, django_capture_on_commit_callbacks):
    from reviews import services

    seen = []
    services.review_saved_subscribe("test", lambda review, created: seen.append((review.rating, created)))
    with django_capture_on_commit_callbacks(execute=True):
        review = review_create(shop=shop, product_id=1, product_title="Mug", rating=2, body="Chipped on arrival.")
        assert seen == []
    with django_capture_on_commit_callbacks(execute=True):
        services.review_update(review=review, rating=3, title="", body="Chipped, but replaced quickly.",
                               display_name="")
    assert seen == [(2, True), (3, False)]
    assert Review.objects.get().revisions.get().body == "Chipped on arrival."


def test_gift_card_fulfilled_at_checkout_neither_starts_nor_times_the_request(post_webhook, shop):
    from datetime import datetime, timezone as tz

    from tests.conftest import load_fixture

    order_body = load_fixture("webhooks/orders_updated_full.json")  # a mug to ship and a gift card
    post_webhook("orders/create", order_body, shop)
    post_webhook("fulfillments/create", load_fixture("webhooks/fulfillments_create_gift_card.json"), shop)
    assert not ReviewRequest.objects.exists()

    mug = {"id": 4400000000002, "order_id": order_body["id"], "status": "success", "created_at": "2026-11-23T16:00:00Z",
           "line_items": [{"id": 9007199254741201, "product_id": 9007199254741301, "quantity": 2, "gift_card": False,
                           "requires_shipping": True}]}
    post_webhook("fulfillments/create", mug, shop)
    request = ReviewRequest.objects.get()
    assert request.due_at == datetime(2026, 11, 23, 16, tzinfo=tz.utc) + 14 * DAY
    assert [i.title for i in request.items.all()] == ["Trail Mug"]


def test_digital_lines_are_not_asked_about_and_do_not_start_the_request(fulfilled_order):
    order = fulfilled_order(products=((1, "Trail Mug"), (2, "Recipe e-book")))
    order.lines.filter(title="Recipe e-book").update(requires_shipping=False)
    ReviewRequest.objects.filter(order=order).delete()
    from reviews.requests import review_request_schedule

    request = review_request_schedule(order=order)
    assert [i.title for i in request.items.all()] == ["Trail Mug"]

    order.lines.filter(title="Trail Mug").update(fulfilled_at=None)  # only the e-book went out
    ReviewRequest.objects.filter(order=order).delete()
    assert review_request_schedule(order=order) is None


def test_the_email_carries_the_shops_brand_and_each_products_picture(fulfilled_order, shop):
    from shopapp.branding import readable
    from shopapp.models import ProductCard, Shop

    Shop.objects.filter(pk=shop.pk).update(shopify_logo_url="https://cdn.example/logo.png", shopify_brand_color="#ffd700")
    ProductCard.objects.create(shop=shop, shopify_id=1, title="Trail Mug", image_url="https://cdn.example/mug.jpg")
    order = fulfilled_order(products=((1, "Trail Mug"), (2, "Camp Kettle")))
    sweep_at(order.fulfilled_at + 14 * DAY)
    html = mail.outbox[0].alternatives[0][0]
    assert 'src="https://cdn.example/logo.png"' in html
    assert html.count('src="https://cdn.example/mug.jpg"') == 1  # the kettle has no card: no picture, no gap
    assert "#ffd700" not in html and readable("#ffd700") in html  # too light for white text: darkened
    assert 'name="color-scheme" content="light dark"' in html


def test_a_logo_set_for_review_emails_before_the_brand_settings_is_still_shown(fulfilled_order, shop):
    ReviewSettings.objects.update_or_create(shop=shop, defaults={"logo_url": "https://cdn.example/old-logo.png"})
    order = fulfilled_order()
    sweep_at(order.fulfilled_at + 14 * DAY)
    assert 'src="https://cdn.example/old-logo.png"' in mail.outbox[0].alternatives[0][0]
