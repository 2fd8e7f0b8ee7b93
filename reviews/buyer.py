"""The review part of what the customer-account extensions show (shopapp.buyer_api).

On an order's status page, once the order was delivered (or its request email went out), the
customer can review its products there: five star links per product, into the same form as the
email's. On their account pages, the products still waiting for their review.

The form's link from here carries "account", which also opens a request whose email has not gone
out yet (or was held back by a cap or an opt-out): the customer came to review, nobody mailed them.
Reviewing from here completes the request, so its email is never sent afterwards.
"""
from __future__ import annotations

from django.utils import timezone

from reviews.models import Review, ReviewRequest, ReviewRequestItem
from reviews.requests import LINK_VALIDITY, review_account_link
from shopapp.models import Customer, Order, Shop

AWAITING_SHOWN = 10


def _open_requests(customer):
    return (ReviewRequest.objects.filter(customer=customer, status__in=ReviewRequest.OPEN_FROM_ACCOUNT)
            .select_related("order"))


def _reviewable(request: ReviewRequest) -> bool:
    order: Order = request.order
    return not order.is_refunded_or_cancelled and bool(order.delivered_at or request.sent_at)


def _unreviewed(request: ReviewRequest) -> list:
    items = list(request.items.filter(asked=True))
    reviewed = set(Review.objects.filter(order_line_id__in=[i.order_line_id for i in items])
                   .values_list("order_line_id", flat=True))
    return [item for item in items if item.order_line_id not in reviewed]


def buyer_review(buyer) -> dict | None:
    if buyer.customer is None:
        return None
    if buyer.surface == "order-status":
        return _order_part(buyer)
    if buyer.surface in ("account", "profile"):
        return _account_part(buyer)
    return None


def _order_part(buyer) -> dict | None:
    if buyer.order is None:
        return None
    request = _open_requests(buyer.customer).filter(order=buyer.order).first()
    if request is None or not _reviewable(request):
        return None
    items = _unreviewed(request)
    if not items:
        return {"review": {"state": "done"}} if request.status == ReviewRequest.Status.COMPLETED else None
    link = review_account_link(request)
    return {"review": {"state": "ready", "form_url": link, "items": [
        {"title": item.title, "image": None,
         "stars": [{"rating": n, "url": f"{link}?item={item.pk}&rating={n}"} for n in range(1, 6)]}
        for item in items]}}


def _account_part(buyer) -> dict | None:
    since = timezone.now() - LINK_VALIDITY
    awaiting = []
    for request in _open_requests(buyer.customer).filter(created_at__gte=since).order_by("-created_at")[:AWAITING_SHOWN]:
        if not _reviewable(request):
            continue
        link = review_account_link(request)
        awaiting += [{"title": item.title, "url": f"{link}?item={item.pk}"} for item in _unreviewed(request)]
    return {"account": {"awaiting_review": awaiting[:AWAITING_SHOWN]}}


def my_review_link(*, shop: Shop, customer_shopify_id: int, product_id: int) -> str | None:
    """Where "Write a review" takes a logged-in customer (from the app proxy's signed customer id):
    the form for the latest order of theirs that brought this product, once it arrived, with the
    product chosen; their review of it if they wrote one. None when they have no such order."""
    customer = Customer.objects.filter(shop=shop, shopify_id=customer_shopify_id, redacted_at__isnull=True).first()
    if customer is None:
        return None
    items = (ReviewRequestItem.objects.filter(request__in=_open_requests(customer), product_id=product_id)
             .select_related("request__order").order_by("-request__created_at", "-pk"))
    item = next((i for i in items if _reviewable(i.request)), None)
    return f"{review_account_link(item.request)}?item={item.pk}" if item else None
