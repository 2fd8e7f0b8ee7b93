"""The review part of the customer-account extensions: after delivery the order status page
offers stars into the same form as the email, for this customer's own order only."""
from __future__ import annotations

import pytest
from django.conf import settings
from django.core import mail

from reviews.models import ReviewRequest
from reviews.requests import review_link
from shopapp.models import Customer
from tests.buyer import MAYA, ask, buyer_token
from tests.reviews.conftest import sweep_at
from tests.reviews.test_form import sent_request  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def _deliver(order):
    order.delivered_at = order.fulfilled_at
    order.save(update_fields=["delivered_at"])


def test_after_delivery_the_order_status_page_offers_stars_that_open_the_form(client, shop, fulfilled_order):
    order = fulfilled_order(products=((1, "Trail Mug"), (2, "Camp Kettle")))
    request = ReviewRequest.objects.get(order=order)
    assert request.status == ReviewRequest.Status.SCHEDULED  # its email is days away
    token = buyer_token(shop.domain)
    assert ask(client, token, "order-status", f"gid://shopify/Order/{order.shopify_id}").json()["review"] is None
    _deliver(order)

    review = ask(client, token, "order-status", f"gid://shopify/Order/{order.shopify_id}").json()["review"]
    assert review["state"] == "ready" and [i["title"] for i in review["items"]] == ["Trail Mug", "Camp Kettle"]
    stars = review["items"][1]["stars"]
    assert [s["rating"] for s in stars] == [1, 2, 3, 4, 5]
    page = client.get(stars[3]["url"].removeprefix(settings.APP_URL))
    assert page.status_code == 200 and b"Camp Kettle" in page.content

    kettle = request.items.get(title="Camp Kettle")
    form = client.post(review["form_url"].removeprefix(settings.APP_URL), {
        f"i{kettle.pk}-rating": "4", f"i{kettle.pk}-body": "Boils fast on a camp stove.",
        f"i{kettle.pk}-display_name": "Maya R."})
    assert form.status_code == 302
    request.refresh_from_db()
    assert request.status == ReviewRequest.Status.COMPLETED
    review = ask(client, token, "order-status", str(order.shopify_id)).json()["review"]
    assert [i["title"] for i in review["items"]] == ["Trail Mug"]  # the one left

    # The email the request was scheduled to send never goes out now: she has reviewed.
    sweep_at(order.fulfilled_at + 30 * settings.ADVOCATE_DAY)
    assert not [m for m in mail.outbox if "Trail Mug" in m.body]


def test_when_everything_is_reviewed_the_row_thanks_them(client, shop, sent_request):  # noqa: F811
    request = sent_request(products=((1, "Trail Mug"),))
    mug = request.items.get()
    client.post(f"/reviews/r/{_token_of(request)}", {f"i{mug.pk}-rating": "5", f"i{mug.pk}-body": "Keeps tea hot.",
                                                     f"i{mug.pk}-display_name": "Maya R."})
    review = ask(client, buyer_token(shop.domain), "order-status", str(request.order.shopify_id)).json()["review"]
    assert review == {"state": "done"}


def _token_of(request):
    return review_link(request).rsplit("/", 1)[1]


def test_another_customers_order_shows_nothing(client, shop, fulfilled_order):
    order = fulfilled_order(products=((1, "Trail Mug"),))
    _deliver(order)
    stranger = buyer_token(shop.domain, sub="gid://shopify/Customer/1234")
    Customer.objects.create(shop=shop, shopify_id=1234, first_name="Lee", email="lee@example.com")
    data = ask(client, stranger, "order-status", str(order.shopify_id)).json()
    assert data["review"] is None and "Trail Mug" not in str(data)
    guest = ask(client, buyer_token(shop.domain, sub=None), "order-status", str(order.shopify_id)).json()
    assert guest["review"] is None


def test_a_refunded_order_offers_no_review_and_its_account_link_stops_working(client, shop, fulfilled_order):
    order = fulfilled_order(products=((1, "Trail Mug"),))
    _deliver(order)
    review = ask(client, buyer_token(shop.domain), "order-status", str(order.shopify_id)).json()["review"]
    order.cancelled_at = order.fulfilled_at
    order.save(update_fields=["cancelled_at"])
    assert ask(client, buyer_token(shop.domain), "order-status", str(order.shopify_id)).json()["review"] is None
    assert client.get(review["form_url"].removeprefix(settings.APP_URL)).status_code == 404


def test_an_email_link_still_needs_the_email_to_have_gone_out(client, shop, fulfilled_order):
    order = fulfilled_order(products=((1, "Trail Mug"),))
    request = ReviewRequest.objects.get(order=order)
    assert client.get(review_link(request).removeprefix(settings.APP_URL)).status_code == 404


def test_the_account_page_lists_products_waiting_for_a_review(client, shop, fulfilled_order):
    order = fulfilled_order(products=((1, "Trail Mug"), (2, "Camp Kettle")))
    _deliver(order)
    fulfilled_order(products=((3, "Not Yet Delivered"),))
    account = ask(client, buyer_token(shop.domain), "account").json()["account"]
    assert [a["title"] for a in account["awaiting_review"]] == ["Trail Mug", "Camp Kettle"]
    assert client.get(account["awaiting_review"][0]["url"].removeprefix(settings.APP_URL)).status_code == 200


# --- "Write a review" on the storefront, for a logged-in customer ------------------------------

def _mine(client, shop, product_id, customer_id=""):
    from tests.shopapp.test_proxy import signed_proxy_query

    return client.get(f"/proxy/reviews/{product_id}/mine?{signed_proxy_query(shop.domain, logged_in_customer_id=str(customer_id))}")


def test_write_a_review_takes_a_buyer_to_their_own_orders_form(client, shop, fulfilled_order):
    order = fulfilled_order(products=((1, "Trail Mug"), (2, "Camp Kettle")))
    assert "could not find an order" in _mine(client, shop, 2, MAYA).content.decode()  # not arrived yet
    _deliver(order)
    response = _mine(client, shop, 2, MAYA)
    assert response.status_code == 302
    kettle = ReviewRequest.objects.get(order=order).items.get(title="Camp Kettle")
    assert response["Location"].startswith(settings.APP_URL + "/reviews/r/") and f"?item={kettle.pk}" in response["Location"]
    form = client.get(response["Location"].removeprefix(settings.APP_URL))
    assert form.status_code == 200 and b"Camp Kettle" in form.content


def test_write_a_review_asks_a_guest_to_log_in_and_never_finds_another_shops_order(client, shop, other_shop, fulfilled_order):
    _deliver(fulfilled_order(products=((1, "Trail Mug"),)))
    guest = _mine(client, shop, 1).content.decode()
    assert "Log in to review" in guest and 'href="../../../../account/login?return_url=/apps/advocate/reviews/1/mine"' in guest
    assert "write a review without an order" not in guest  # this shop takes no non-buyers' reviews
    elsewhere = _mine(client, other_shop, 1, MAYA)
    assert elsewhere.status_code in (200, 404) and "/reviews/r/" not in elsewhere.get("Location", "")
