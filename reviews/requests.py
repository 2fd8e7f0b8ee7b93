"""Review requests: scheduled when an order ships what can be reviewed, sent once by the sweep
with one-click star links, one reminder, and the caps and opt-outs that hold them back."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Iterable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _, gettext_noop, pgettext

from reviews.models import Review, ReviewRequest, ReviewRequestItem, ReviewSettings
from reviews.services import reviews_auto_publish
from shopapp.catalog import product_cards
from shopapp.languages import shopper_language
from shopapp.links import LinkInvalid, absolute, link_read, link_token
from shopapp.mail import Audience, email_send, marketing_blocked, unsubscribe_url
from shopapp.models import Customer, Order, OrderLine, Shop
from shopapp.registry import capped_emails_count, request_email_parts

log = logging.getLogger(__name__)

LINK_PURPOSE = "review-request"
LINK_VALIDITY = timedelta(days=180)
ACCOUNT_LINK = "account"  # a link's extra: made for the customer's account pages
EMAIL_CAP = 5
EMAIL_CAP_WINDOW = timedelta(days=30)
PRODUCT_ASK_WINDOW = timedelta(days=365)
NOTHING_TO_ASK = gettext_noop("every product was already reviewed or asked about in the last 12 months")


def reviewable_lines(order: Order) -> list[OrderLine]:
    """Lines a shopper can review: shipped products, not gift cards, digital goods or custom items, not fully refunded."""
    return [
        line for line in order.lines.order_by("pk")
        if line.product_id is not None and not line.gift_card and line.requires_shipping
        and line.refunded_quantity < line.quantity
    ]


def review_request_schedule(*, order: Order) -> ReviewRequest | None:
    """The order's request, due after the shop's delay from its trigger; at most one per order."""
    shop = order.shop
    config = ReviewSettings.for_shop(shop)
    if not config.requests_enabled or order.is_refunded_or_cancelled:
        return None
    existing = ReviewRequest.objects.filter(order=order).first()
    if existing:
        return existing
    lines = reviewable_lines(order)
    # Only a fulfilment that ships something reviewable starts the clock: Shopify fulfils a gift
    # card (or a download) at checkout, days before the products leave.
    shipped = [line.fulfilled_at for line in lines if line.fulfilled_at]
    if not shipped:
        return None
    basis = order.delivered_at if config.trigger == ReviewSettings.Trigger.DELIVERED else min(shipped)
    if basis is None:
        return None
    international = bool(config.home_country and order.shipping_country
                         and order.shipping_country.upper() != config.home_country.upper())
    days = config.international_delay_days if international else config.delay_days
    try:
        with transaction.atomic():
            request = ReviewRequest.objects.create(
                shop=shop, order=order, customer=order.customer, due_at=basis + days * settings.ADVOCATE_DAY,
            )
            ReviewRequestItem.objects.bulk_create([
                ReviewRequestItem(request=request, order_line=line, product_id=line.product_id, title=line.title)
                for line in lines
            ])
    except IntegrityError:  # the same order's webhook processed twice at once
        return ReviewRequest.objects.get(order=order)
    return request


def review_requests_cancel(*, order: Order, reason: str) -> int:
    """Cancel the order's request if it has not gone out yet, or stop its reminder."""
    pending = ReviewRequest.objects.filter(order=order, status=ReviewRequest.Status.SCHEDULED).update(
        status=ReviewRequest.Status.CANCELLED, skip_reason=reason)
    ReviewRequest.objects.filter(order=order, reminder_sent_at__isnull=True).exclude(
        reminder_due_at=None).update(reminder_due_at=None)
    return pending


def review_requests_sweep(now: datetime | None = None) -> None:
    """The periodic sweep: due requests, due reminders, held reviews whose time is up."""
    now = now or timezone.now()
    due = ReviewRequest.objects.filter(status=ReviewRequest.Status.SCHEDULED, due_at__lte=now,
                                       shop__uninstalled_at__isnull=True)
    for pk in list(due.order_by("due_at").values_list("pk", flat=True)[:500]):
        review_request_send(request_id=pk, now=now)
    reminders = ReviewRequest.objects.filter(status=ReviewRequest.Status.SENT, reminder_due_at__lte=now,
                                             reminder_sent_at__isnull=True, shop__uninstalled_at__isnull=True)
    for pk in list(reminders.order_by("reminder_due_at").values_list("pk", flat=True)[:500]):
        review_reminder_send(request_id=pk, now=now)
    reviews_auto_publish(now=now)


def review_request_send(*, request_id: int, now: datetime | None = None) -> ReviewRequest | None:
    """Send a due request once: the conditional UPDATE lets only one worker claim it."""
    now = now or timezone.now()
    claimed = ReviewRequest.objects.filter(pk=request_id, status=ReviewRequest.Status.SCHEDULED).update(
        status=ReviewRequest.Status.SENT, sent_at=now)
    if not claimed:
        return None
    request = ReviewRequest.objects.select_related("shop", "order", "customer").get(pk=request_id)
    config = ReviewSettings.for_shop(request.shop)
    reason, items = request_check(request, config, now, list(request.items.select_related("order_line")))
    if reason is None or reason == NOTHING_TO_ASK:
        request.items.exclude(pk__in=[item.pk for item in items]).update(asked=False)
    if reason:
        status = ReviewRequest.Status.CANCELLED if request.order.is_refunded_or_cancelled else ReviewRequest.Status.SKIPPED
        ReviewRequest.objects.filter(pk=request.pk).update(status=status, sent_at=None, skip_reason=reason)
        return ReviewRequest.objects.get(pk=request.pk)
    try:
        sent = _send(request, config, items, reminder=False)
    except Exception:
        log.exception("review request %s could not be sent", request.pk)
        sent = False
    if not sent:
        # Nothing went out (the backend failed, or the shop uninstalled after the claim):
        # put it back for a later sweep, or for the reinstall, rather than lose it.
        ReviewRequest.objects.filter(pk=request.pk).update(
            status=ReviewRequest.Status.SCHEDULED, sent_at=None, due_at=now + timedelta(hours=1))
        return None
    reminder_due = now + config.reminder_days * settings.ADVOCATE_DAY if config.reminder_enabled else None
    ReviewRequest.objects.filter(pk=request.pk).update(reminder_due_at=reminder_due)
    return ReviewRequest.objects.get(pk=request.pk)


def review_reminder_send(*, request_id: int, now: datetime | None = None) -> bool:
    """The one reminder, only while nothing from the order has been reviewed."""
    now = now or timezone.now()
    claimed = ReviewRequest.objects.filter(
        pk=request_id, status=ReviewRequest.Status.SENT, reminder_sent_at__isnull=True, reminder_due_at__lte=now,
    ).update(reminder_sent_at=now)
    if not claimed:
        return False
    request = ReviewRequest.objects.select_related("shop", "order", "customer").get(pk=request_id)
    config = ReviewSettings.for_shop(request.shop)
    items = list(request.items.filter(asked=True))
    if request.reviews.exists() or not items or _block_reason(request, config, now):
        ReviewRequest.objects.filter(pk=request.pk).update(reminder_due_at=None, reminder_sent_at=None)
        return False
    if not _send(request, config, items, reminder=True):
        ReviewRequest.objects.filter(pk=request.pk).update(reminder_sent_at=None)
        return False
    return True


def request_check(request: ReviewRequest, config: ReviewSettings, now: datetime,
                  items: list[ReviewRequestItem]) -> tuple[str | None, list[ReviewRequestItem]]:
    """Whether `request` may go out at `now`: (the reason it may not, []) or (None, the items to ask
    about). The one rule: the sender applies it when a request is due, and the look-back preview
    (reviews.lookback) to requests not saved yet, at the time each would be sent. Reads only."""
    reason = _block_reason(request, config, now)
    if reason:
        return reason, []
    keep = _items_to_ask(request, items, now)
    return (None, keep) if keep else (NOTHING_TO_ASK, [])


def _block_reason(request: ReviewRequest, config: ReviewSettings, now: datetime) -> str | None:
    if request.order.is_refunded_or_cancelled:
        return gettext_noop("order refunded or cancelled")
    reason = marketing_blocked(request.shop, request.customer, honour_shopify_consent=config.honour_shopify_consent)
    if reason:
        return reason
    return email_cap_reason(request.customer, now, besides=request)


def email_cap_reason(customer: Customer, now: datetime, *, besides: ReviewRequest | None = None) -> str | None:
    """Why one more review email to this customer at `now` would pass the cap (requests, reminders and
    the emails other parts of reviews register, 5 in 30 days), or None. `besides`: the request being
    sent, whose own first email counts only when its reminder is going out."""
    since = now - EMAIL_CAP_WINDOW
    others = ReviewRequest.objects.filter(customer=customer)
    if besides is not None and besides.pk:
        others = others.exclude(pk=besides.pk)
    sent = (others.filter(sent_at__gte=since).count() + others.filter(reminder_sent_at__gte=since).count()
            + capped_emails_count(customer, since))
    if besides is not None and besides.reminder_sent_at and besides.sent_at and besides.sent_at >= since:
        sent += 1  # sending a reminder: the first email counts too
    if sent >= EMAIL_CAP:
        return gettext_noop("the limit of review emails to one customer in 30 days is reached")
    return None


def _items_to_ask(request: ReviewRequest, items: list[ReviewRequestItem], now: datetime) -> list[ReviewRequestItem]:
    """The items still worth asking about: not a product this customer reviewed already or was asked
    about in the last 12 months (any order), not refunded since."""
    asked_recently = set()
    if request.customer_id:
        asked = ReviewRequestItem.objects.filter(
            request__customer=request.customer, request__sent_at__gte=now - PRODUCT_ASK_WINDOW, asked=True)
        if request.pk:
            asked = asked.exclude(request_id=request.pk)
        asked_recently = set(asked.values_list("product_id", flat=True)) | _reviewed_products(request.customer)
    keep = []
    for item in items:
        line = item.order_line
        if item.product_id not in asked_recently and line.refunded_quantity < line.quantity:
            keep.append(item)
            asked_recently.add(item.product_id)  # the same product twice in one order: ask once
    return keep


def _reviewed_products(customer: Customer) -> set[int]:
    """Products the customer has reviewed, from any order or the storefront (by their email there)."""
    theirs = Q(customer=customer)
    if customer.email:
        theirs |= Q(email__iexact=customer.email, customer__isnull=True)
    return set(Review.objects.filter(theirs, shop_id=customer.shop_id).values_list("product_id", flat=True))


def review_link(request: ReviewRequest) -> str:
    return absolute(f"/reviews/r/{link_token(LINK_PURPOSE, request.pk)}")


def review_account_link(request: ReviewRequest) -> str:
    """The form's link for the customer's own account pages (shown only to them, logged in)."""
    return absolute(f"/reviews/r/{link_token(LINK_PURPOSE, request.pk, extra=ACCOUNT_LINK)}")


def review_request_for_token(token: str) -> ReviewRequest:
    """The request a link names, or LinkInvalid (tampered, expired, cancelled, or never sent and
    not opened from the customer's account)."""
    request_id, extra = link_read(LINK_PURPOSE, token, max_age=LINK_VALIDITY)
    request = ReviewRequest.objects.select_related("shop", "order", "customer").filter(pk=request_id).first()
    allowed = ReviewRequest.OPEN_FROM_ACCOUNT if extra == ACCOUNT_LINK else (ReviewRequest.Status.SENT,
                                                                             ReviewRequest.Status.COMPLETED)
    if request is None or request.status not in allowed:
        raise LinkInvalid("not available")
    if extra == ACCOUNT_LINK and request.order.is_refunded_or_cancelled:
        raise LinkInvalid("not available")
    return request


def _fill(template: str, values: dict[str, str]) -> str:
    # Only the named placeholders: str.format would let a template reach attributes.
    for key, value in values.items():
        template = template.replace("{" + key + "}", value)
    return template


def request_email(request: ReviewRequest, config: ReviewSettings, items: Iterable[ReviewRequestItem], *,
                  reminder: bool = False, link: str | None = None, language: str | None = None) -> tuple[str, str, str]:
    """(subject, text, html) of a request email, as the merchant's templates make it, in the language
    the customer ordered in (or `language`, for the merchant's previews)."""
    language = language or shopper_language(request.shop, order=request.order)
    with translation.override(language):
        return _request_email(request, config, list(items), reminder=reminder, link=link, language=language)


def _request_email(request: ReviewRequest, config: ReviewSettings, items: list[ReviewRequestItem], *,
                   reminder: bool, link: str | None, language: str) -> tuple[str, str, str]:
    shop = request.shop
    customer = request.customer
    # Who the greeting names when the order has no first name: "Hi there", "고객님", "お客様".
    nobody = pgettext("the customer's first name in a greeting when it is unknown, as in 'Hi there'", "there")
    values = {"shop": shop.name or shop.domain, "first_name": (customer.first_name if customer else "") or nobody,
              "order": request.order.name or ""}
    subject_template, body_template = config.request_texts(language)
    subject = _fill(subject_template, values)
    if reminder:
        # A nudge that reads like a person asking again, not a dunning letter.
        titles = [item.title for item in items]
        subject = (_("How are you getting on with your %(product)s?") % {"product": titles[0]} if len(titles) == 1
                   else _("How is your order from %(shop)s working out?") % {"shop": values["shop"]})
    link = link or review_link(request)
    # A star opens the form with it chosen and the cursor in that product's review (autofocus, which
    # a URL fragment would switch off), so a star for the second product lands there.
    cards = product_cards(shop, [item.product_id for item in items])
    products = [{"title": item.title, "url": f"{link}?item={item.pk}",
                 "image": cards[item.product_id].image_url if item.product_id in cards else "",
                 "stars": [(n, f"{link}?item={item.pk}&rating={n}") for n in range(1, 6)]} for item in items]
    context = {"shop": shop, "config": config, "body": _fill(body_template, values), "products": products,
               "link": link, "reminder": reminder, "unsubscribe": _unsubscribe_link(customer),
               "parts": request_email_parts(request, reminder=reminder),
               "link_days": LINK_VALIDITY.days, "incentive": config.incentive_label() if config.incentive_enabled else ""}
    return (subject, render_to_string("reviews/email/request.txt", context),
            render_to_string("reviews/email/request.html", context))


def _unsubscribe_link(customer: Customer | None) -> str:
    return unsubscribe_url(customer) if customer else ""


def _send(request: ReviewRequest, config: ReviewSettings, items: list[ReviewRequestItem], *, reminder: bool) -> bool:
    subject, text, html = request_email(request, config, items, reminder=reminder)
    return email_send(shop=request.shop, audience=Audience.MARKETING, customer=request.customer, subject=subject, text=text,
               html=html, honour_shopify_consent=config.honour_shopify_consent)


def review_request_test_send(*, shop: Shop, to: str, language: str | None = None) -> None:
    """The request email as a shopper would get it, with sample products, to the merchant (in one
    of the launch languages: a shopper of that language's version; by default the shop's)."""
    config = ReviewSettings.for_shop(shop)
    sample = sample_request(shop)
    subject, text, html = request_email(sample, config, sample.sample_items, link=absolute("/reviews/sample"),
                                        language=language)
    # The shopper's layout (postal address included), but no unsubscribe headers: there is no customer.
    email_send(shop=shop, audience=Audience.CUSTOMER, to=[to], subject=f"[Test] {subject}", text=text, html=html)
    ReviewSettings.objects.filter(pk=config.pk).update(test_sent_at=timezone.now())


def sample_request(shop: Shop) -> ReviewRequest:
    """An unsaved request for previews: the shop's latest order lines, or a made-up product."""
    order = Order(shop=shop, name="#1001", currency=shop.currency, placed_at=timezone.now())
    request = ReviewRequest(shop=shop, order=order, customer=Customer(shop=shop, first_name="Alex"))
    titles = list(OrderLine.objects.filter(order__shop=shop, product_id__isnull=False, gift_card=False)
                  .order_by("-pk").values_list("title", flat=True).distinct()[:2]) or ["Your product"]
    request.sample_items = [ReviewRequestItem(pk=i + 1, title=t, product_id=0) for i, t in enumerate(titles)]
    return request


def request_funnel(shop: Shop, since: datetime, until: datetime) -> dict[str, int]:
    """Requests sent, clicked and reviewed in a period (by the time they were sent)."""
    sent = ReviewRequest.objects.for_shop(shop).filter(sent_at__gte=since, sent_at__lt=until)
    return sent.aggregate(
        sent=Count("pk"), clicked=Count("pk", filter=Q(clicked_at__isnull=False)),
        reviewed=Count("pk", filter=Q(completed_at__isnull=False)),
    )
