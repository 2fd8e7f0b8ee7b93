"""Shops whose retention figures are known: one small enough to compute by hand, one a year busy."""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from shopapp.models import Customer, Order, Shop
from shopapp.orders import order_stats_refresh

UTC = timezone.utc
TODAY = date(2026, 6, 15)  # the hand-computed shop's last day; its range is the 30 days before, in Paris


def _at(day: str, clock: str = "12:00", shift: timedelta = timedelta(0)) -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=UTC) + shift


class OrderMaker:
    def __init__(self, shop: Shop, shift: timedelta = timedelta(0)):
        self.shop, self.shift, self.n = shop, shift, 0

    def customer(self, name: str) -> Customer:
        self.n += 1
        return Customer.objects.create(shop=self.shop, shopify_id=9_000 + self.n, first_name=name,
                                       email=f"{name.lower()}@example.com")

    def order(self, customer: Customer | None, day: str, total: str, *, clock: str = "12:00", refunded: str = "0",
              cancelled: bool = False) -> Order:
        self.n += 1
        placed = _at(day, clock, self.shift)
        order = Order.objects.create(
            shop=self.shop, shopify_id=70_000 + self.n, name=f"#{1000 + self.n}", customer=customer,
            currency=self.shop.currency, total=Decimal(total), subtotal=Decimal(total), refunded=Decimal(refunded),
            placed_at=placed, cancelled_at=placed + timedelta(hours=1) if cancelled else None)
        order_stats_refresh(order)  # as the order webhooks do
        return order


def hand_computed_shop(shop: Shop, *, shift: timedelta = timedelta(0)) -> dict[str, Customer]:
    """Nine customers, a guest and a cancelled order in Paris (tests/shopapp/test_retention.py works it out).

    Orders are at noon UTC unless said; `shift` moves every date (the browser test ends them today).
    """
    from referrals.models import Advocate, Referral
    from reviews.cases.models import Case
    from reviews.models import Review

    shop.timezone, shop.currency = "Europe/Paris", "EUR"
    shop.save(update_fields=["timezone", "currency"])
    o = OrderMaker(shop, shift)
    people = {name: o.customer(name) for name in ("Ann", "Ben", "Cara", "Dan", "Eve", "Fay", "Gus", "Hal", "Ivy")}
    ann, ben, cara, dan, eve, fay, gus, hal, ivy = people.values()
    o.order(ann, "2025-03-10", "60.00")  # before the cohort months: Ann is in no cohort
    o.order(ann, "2026-05-20", "100.00")  # ...and back after more than a year
    o.order(ben, "2025-09-05", "50.00")
    referred = o.order(ben, "2026-06-10", "80.00", refunded="20.00")
    o.order(cara, "2026-05-25", "40.00")
    o.order(cara, "2026-06-01", "40.00")
    o.order(cara, "2026-06-05", "500.00", cancelled=True)
    first_of_june = o.order(dan, "2026-05-31", "70.00", clock="23:30")  # 1 June, 01:30 in Paris
    o.order(eve, "2025-11-15", "90.00")
    o.order(eve, "2026-01-10", "30.00")
    o.order(eve, "2026-06-12", "45.00")
    o.order(fay, "2026-02-14", "25.00")
    o.order(gus, "2025-06-01", "35.00")
    o.order(hal, "2025-05-20", "55.00")
    o.order(hal, "2025-06-02", "65.00")
    o.order(ivy, "2025-07-10", "20.00")
    o.order(ivy, "2025-08-10", "20.00")
    o.order(ivy, "2025-10-10", "20.00")
    o.order(None, "2026-06-02", "999.00")  # a guest with neither email nor phone

    maya = Advocate.objects.create(shop=shop, customer=gus, code="GUS-0001")
    for friend, placed in ((ben, referred), (dan, first_of_june)):
        Referral.objects.create(shop=shop, advocate=maya, order=placed, friend=friend, via=Referral.Via.CODE,
                                status=Referral.Status.ISSUED, order_total=placed.total, currency=shop.currency)
    for who, status in ((eve, Case.Status.RESOLVED), (fay, Case.Status.OPEN)):
        review = Review.objects.create(shop=shop, product_id=1, product_title="Trail Mug", rating=1, customer=who)
        Case.objects.create(shop=shop, review=review, customer=who, reason="rating", rating_at_open=1, status=status)
    return people


def busy_year(shop: Shop, *, customers: int = 160, seed: int = 18) -> None:
    """A year of a small shop's business up to now: newcomers every month, some coming back, a few
    referred friends and unhappy customers, most of whose cases were resolved."""
    from referrals.models import Advocate, Referral
    from reviews.cases.models import Case
    from reviews.models import Review

    rng = random.Random(seed)
    o = OrderMaker(shop)
    end = datetime.now(UTC) - timedelta(minutes=5)
    advocate = None
    for i in range(customers):
        who = o.customer(f"Buyer{i}")
        first = end - timedelta(days=rng.uniform(0, 360))
        placed, orders = first, []
        while placed < end:
            orders.append(o.order(who, placed.date().isoformat(), f"{rng.randint(25, 140)}.00",
                                  clock=placed.strftime("%H:%M")))
            if rng.random() < 0.55:
                break
            placed += timedelta(days=rng.expovariate(1 / 45))
        if i == 0:
            advocate = Advocate.objects.create(shop=shop, customer=who, code="BUSY-0001")
        elif i % 6 == 0:
            Referral.objects.create(shop=shop, advocate=advocate, order=orders[0], friend=who, via=Referral.Via.CODE,
                                    status=Referral.Status.ISSUED, order_total=orders[0].total, currency=shop.currency)
        elif i % 9 == 0:
            review = Review.objects.create(shop=shop, product_id=1, product_title="Trail Mug", rating=2, customer=who)
            status = Case.Status.RESOLVED if i % 18 else Case.Status.OPEN
            Case.objects.create(shop=shop, review=review, customer=who, reason="rating", rating_at_open=2, status=status)
