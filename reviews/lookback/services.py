"""Look-back runs: preview, start, schedule, cancel, progress.

The plan is one function, `lookback_plan`: the preview counts what it yields and the scheduling job
creates a ReviewRequest for each of its sends, so a run sends what its preview said unless
something changed in between. Each customer is asked once, about their latest order in the
window that passes the review requests' own rule (reviews.requests.request_check), judged at the
time the email would go out: the n-th send of a run goes out n / per_day days after it starts.
The sweep then sends these requests like any other, checking the same rule again at that time.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterator

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from reviews.lookback.models import LookbackRequest, LookbackRun
from reviews.models import ReviewRequest, ReviewRequestItem, ReviewSettings
from reviews.requests import request_check, reviewable_lines
from shopapp.jobs import enqueue, row_lease
from shopapp.models import Order, Shop

log = logging.getLogger(__name__)

CANCELLED = "the look-back run was cancelled"  # a request's skip_reason, stored: not translated
ASKED_BEFORE = gettext_lazy("asked by an earlier look-back run")  # why a customer is left out, shown in the preview
LEASE = timedelta(minutes=10)
S = ReviewRequest.Status


@dataclass(frozen=True)
class Window:
    fulfilled_from: datetime
    fulfilled_until: datetime

    @classmethod
    def days_ago(cls, now: datetime, newest_days: int, oldest_days: int) -> "Window":
        day = settings.ADVOCATE_DAY
        return cls(now - oldest_days * day, now - newest_days * day)


@dataclass(frozen=True)
class Send:
    slot: int
    order: Order
    items: list[ReviewRequestItem]
    due_at: datetime


@dataclass
class Preview:
    emails: int = 0
    customers: int = 0
    products: set = field(default_factory=set)
    first_at: datetime | None = None
    last_at: datetime | None = None
    excluded: Counter = field(default_factory=Counter)  # reason -> customers left out for it
    guest_orders: int = 0

    @property
    def excluded_rows(self) -> list[tuple[str, int]]:
        return self.excluded.most_common()


def due_at(start: datetime, slot: int, per_day: int) -> datetime:
    """The n-th send of a run: evenly spread, `per_day` in each day from the start."""
    return start + slot * settings.ADVOCATE_DAY / per_day


def lookback_plan(shop: Shop, window: Window, *, per_day: int, start: datetime, run: LookbackRun | None = None,
                  excluded: Counter | None = None) -> Iterator[Send]:
    """Every send of a run, in order. `run`: the run being scheduled, whose own requests count as its
    sends (a scheduling job resumed after a crash goes on where it stopped). `excluded` collects why
    each customer left out is left out (the reason for their latest order)."""
    config = ReviewSettings.for_shop(shop)
    no_request = Q(review_request__isnull=True)
    if run is not None:
        no_request |= Q(review_request__lookback__run=run)
    orders = (Order.objects.filter(shop=shop).filter(no_request, fulfilled_at__gte=window.fulfilled_from,
                                                 fulfilled_at__lte=window.fulfilled_until, customer__isnull=False)
              .select_related("customer", "review_request__lookback").order_by("customer_id", "-fulfilled_at", "-pk"))
    slot = 0
    # Read before anything is written: the scheduling job creates requests as it goes.
    for orders_of_one in _by_customer(list(orders)):
        reason = _asked_by_another_run(orders_of_one[0].customer_id, run)
        for order in orders_of_one if reason is None else ():
            mine = _lookback_of(order, run)
            if mine is not None:  # scheduled by this run before a restart: its slot stands
                slot = mine.slot + 1
                reason = None
                break
            when = due_at(start, slot, per_day)
            request = ReviewRequest(shop=shop, order=order, customer=order.customer, due_at=when)
            lines = reviewable_lines(order)
            items = [ReviewRequestItem(order_line=line, product_id=line.product_id, title=line.title) for line in lines]
            reason, items = request_check(request, config, when, items)
            if reason is None:
                yield Send(slot, order, items, when)
                slot += 1
                break
        if reason is not None and excluded is not None:
            excluded[reason] += 1


def _asked_by_another_run(customer_id: int, run: LookbackRun | None) -> str | None:
    """A look-back asks a customer once: not again in a later run, about another old order."""
    earlier = LookbackRequest.objects.filter(request__customer_id=customer_id)
    if run is not None:
        earlier = earlier.exclude(run=run)
    return ASKED_BEFORE if earlier.exists() else None


def _lookback_of(order: Order, run: LookbackRun | None) -> LookbackRequest | None:
    if run is None:
        return None
    request = getattr(order, "review_request", None)
    mine = getattr(request, "lookback", None) if request is not None else None
    return mine if mine is not None and mine.run_id == run.pk else None


def _by_customer(orders) -> Iterator[list[Order]]:
    group: list[Order] = []
    for order in orders:
        if group and group[0].customer_id != order.customer_id:
            yield group
            group = []
        group.append(order)
    if group:
        yield group


def lookback_preview(shop: Shop, *, newest_days: int, oldest_days: int, per_day: int,
                     now: datetime | None = None) -> Preview:
    """What a run started now would send: emails, customers, products, and who is left out, and why."""
    now = now or timezone.now()
    window = Window.days_ago(now, newest_days, oldest_days)
    preview = Preview()
    for send in lookback_plan(shop, window, per_day=per_day, start=now, excluded=preview.excluded):
        preview.emails += 1
        preview.customers += 1
        preview.products.update(item.product_id for item in send.items)
        preview.first_at = preview.first_at or send.due_at
        preview.last_at = send.due_at
    preview.guest_orders = Order.objects.filter(shop=shop).filter(
        fulfilled_at__gte=window.fulfilled_from, fulfilled_at__lte=window.fulfilled_until, customer__isnull=True,
        review_request__isnull=True).count()
    return preview


def lookback_start(*, shop: Shop, newest_days: int, oldest_days: int, per_day: int, actor: str,
                   now: datetime | None = None) -> tuple[LookbackRun, bool]:
    """Start a run (at most one at a time per shop): (run, created). The requests are made by a job."""
    now = now or timezone.now()
    existing = LookbackRun.objects.for_shop(shop).filter(status__in=LookbackRun.ACTIVE).first()
    if existing is not None:
        return existing, False
    window = Window.days_ago(now, newest_days, oldest_days)
    preview = lookback_preview(shop, newest_days=newest_days, oldest_days=oldest_days, per_day=per_day, now=now)
    try:
        with transaction.atomic():
            run = LookbackRun.objects.create(
                shop=shop, newest_days=newest_days, oldest_days=oldest_days, per_day=per_day, starts_at=now,
                fulfilled_from=window.fulfilled_from, fulfilled_until=window.fulfilled_until,
                preview_emails=preview.emails, preview_customers=preview.customers,
                preview_products=len(preview.products), started_by=actor[:100])
            enqueue(lookback_schedule, run.pk)
    except IntegrityError:  # another start won the race
        return LookbackRun.objects.for_shop(shop).get(status__in=LookbackRun.ACTIVE), False
    return run, True


def lookback_schedule(run_id: int) -> int:
    """Job: create the run's review requests, due at their slots; safe to run twice or to resume."""
    runs = LookbackRun.objects.filter(pk=run_id, status=LookbackRun.Status.SCHEDULING,
                                      shop__uninstalled_at__isnull=True)
    created = 0
    with row_lease(runs, "lease_until", lasts=LEASE) as mine:
        if not mine:
            return 0
        run = runs.select_related("shop").get()
        window = Window(run.fulfilled_from, run.fulfilled_until)
        for send in lookback_plan(run.shop, window, per_day=run.per_day, start=run.starts_at, run=run):
            if not _request_create(run, send):
                return created  # cancelled meanwhile
            created += 1
        LookbackRun.objects.filter(pk=run.pk, status=LookbackRun.Status.SCHEDULING).update(
            status=LookbackRun.Status.RUNNING, scheduled_at=timezone.now())
    return created


def _request_create(run: LookbackRun, send: Send) -> bool:
    """One send's request, created with the run row locked, so a cancel never misses one."""
    try:
        with transaction.atomic():
            if not LookbackRun.objects.select_for_update().filter(pk=run.pk, status=LookbackRun.Status.SCHEDULING).exists():
                return False
            request = ReviewRequest.objects.create(shop=run.shop, order=send.order, customer=send.order.customer,
                                                   due_at=send.due_at)
            # Every reviewable line, as review_request_schedule makes them: the sender decides again what to ask.
            ReviewRequestItem.objects.bulk_create([
                ReviewRequestItem(request=request, order_line=line, product_id=line.product_id, title=line.title)
                for line in reviewable_lines(send.order)
            ])
            LookbackRequest.objects.create(run=run, request=request, slot=send.slot)
    except IntegrityError:
        # The order got its own request meanwhile (a late fulfilment webhook): it is asked through that one.
        log.info("order %s has a review request already; look-back run %s leaves it", send.order.pk, run.pk)
    return True


def lookback_cancel(*, run: LookbackRun) -> int:
    """Stop a run: requests not sent yet are removed (their orders can be asked again later). Returns how many."""
    with transaction.atomic():
        LookbackRun.objects.select_for_update().filter(pk=run.pk, status__in=LookbackRun.ACTIVE).update(
            status=LookbackRun.Status.CANCELLED, ended_at=timezone.now())
        # Claimed like the sender claims (status SCHEDULED), so a request a worker took goes out and stays.
        mine = ReviewRequest.objects.filter(lookback__run=run)
        removed = mine.filter(status=S.SCHEDULED).update(status=S.CANCELLED, skip_reason=CANCELLED)
        mine.filter(status=S.CANCELLED, skip_reason=CANCELLED).delete()
    run.refresh_from_db()
    return removed


def lookback_sweep(now: datetime | None = None) -> None:
    """Re-drive scheduling whose job was lost; close runs with nothing left to send."""
    now = now or timezone.now()
    lost = LookbackRun.objects.filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now),
                                      status=LookbackRun.Status.SCHEDULING, created_at__lt=now - timedelta(minutes=2),
                                      shop__uninstalled_at__isnull=True)
    for pk in lost.values_list("pk", flat=True):
        enqueue(lookback_schedule, pk)
    finished = LookbackRun.objects.filter(status=LookbackRun.Status.RUNNING).exclude(
        lookback_requests__request__status=S.SCHEDULED)
    LookbackRun.objects.filter(pk__in=list(finished.values_list("pk", flat=True)),
                               status=LookbackRun.Status.RUNNING).update(status=LookbackRun.Status.DONE, ended_at=now)


@dataclass(frozen=True)
class Progress:
    scheduled: int
    waiting: int
    sent: int
    skipped: int
    cancelled: int
    next_at: datetime | None
    last_at: datetime | None
    skip_reasons: list[tuple[str, int]]

    @property
    def held(self) -> int:
        """Held back when due: a rule said no then (skipped), or the order was refunded or the shop left (cancelled)."""
        return self.skipped + self.cancelled

    @property
    def handled(self) -> int:
        return self.sent + self.held


def lookback_progress(run: LookbackRun) -> Progress:
    requests = ReviewRequest.objects.filter(lookback__run=run)
    counts = requests.aggregate(
        total=Count("pk"), waiting=Count("pk", filter=Q(status=S.SCHEDULED)),
        sent=Count("pk", filter=Q(status__in=[S.SENT, S.COMPLETED])), skipped=Count("pk", filter=Q(status=S.SKIPPED)),
        cancelled=Count("pk", filter=Q(status=S.CANCELLED)),
        next_at=Min("due_at", filter=Q(status=S.SCHEDULED)), last_at=Max("due_at", filter=Q(status=S.SCHEDULED)))
    reasons = (requests.filter(status__in=[S.SKIPPED, S.CANCELLED]).values("skip_reason")
               .annotate(n=Count("pk")).order_by("-n", "skip_reason"))
    return Progress(counts["total"], counts["waiting"], counts["sent"], counts["skipped"], counts["cancelled"],
                    counts["next_at"], counts["last_at"], [(r["skip_reason"], r["n"]) for r in reasons])
