"""The program's figures for the panel and the dashboard: aggregate queries only, so the
number of queries stays the same however many clicks and referrals a shop has."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce

from referrals.models import ZERO, Advocate, Click, Referral
from shopapp.charts import Point, Series, Unit, bar_chart, line_chart
from shopapp.dashboard import Period, daily_rows, series_of
from shopapp.models import Shop

S = Referral.Status
# Orders that count as referred business: not refunded or cancelled during the hold, not refused.
COUNTED = [S.PENDING, S.FLAGGED, S.APPROVED, S.ISSUED]
AWAITING = [S.PENDING, S.FLAGGED, S.APPROVED]
TOP_ADVOCATES = 10


@dataclass(frozen=True)
class ProgramFigures:
    clicks: int
    codes_used: int
    referred_orders: int
    referred_revenue: Decimal
    rewards_pending: Decimal
    rewards_issued: Decimal
    rewards_issued_count: int
    flagged: int

    @property
    def conversion(self) -> float:
        """Referred orders per click (a friend may click more than once)."""
        return self.referred_orders / self.clicks if self.clicks else 0.0

    @property
    def conversion_percent(self) -> float:
        return self.conversion * 100

    @property
    def cost(self) -> Decimal:
        """Credit the program has paid."""
        return self.rewards_issued

    @property
    def return_on_cost(self) -> float | None:
        """Referred revenue for each unit of credit paid; None before any credit is paid."""
        return float(self.referred_revenue / self.cost) if self.cost else None


def referrals_in(shop: Shop, period: Period | None):
    """The referral list a figure summarises: the shop's referrals placed in the period."""
    referrals = Referral.objects.for_shop(shop)
    if period is not None:
        referrals = referrals.filter(created_at__gte=period.start, created_at__lt=period.end)
    return referrals


def program_figures(shop: Shop, period: Period | None = None) -> ProgramFigures:
    """Two queries: clicks, and everything about referrals in one aggregate."""
    clicks = Click.objects.for_shop(shop).filter(own=False)
    if period is not None:
        clicks = clicks.filter(at__gte=period.start, at__lt=period.end)
    money = DecimalField(max_digits=14, decimal_places=2)
    totals = referrals_in(shop, period).aggregate(
        codes_used=Count("pk", filter=Q(via=Referral.Via.CODE)),
        orders=Count("pk"),
        revenue=Coalesce(Sum("order_total", filter=Q(status__in=COUNTED)), Value(ZERO), output_field=money),
        pending=Coalesce(Sum("reward_amount", filter=Q(status__in=AWAITING)), Value(ZERO), output_field=money),
        issued=Coalesce(Sum("reward_amount", filter=Q(status=S.ISSUED)), Value(ZERO), output_field=money),
        issued_count=Count("pk", filter=Q(status=S.ISSUED)),
        flagged=Count("pk", filter=Q(status=S.FLAGGED)),
    )
    return ProgramFigures(
        clicks=clicks.count(), codes_used=totals["codes_used"], referred_orders=totals["orders"],
        referred_revenue=totals["revenue"], rewards_pending=totals["pending"], rewards_issued=totals["issued"],
        rewards_issued_count=totals["issued_count"], flagged=totals["flagged"],
    )


def flagged_count(shop: Shop) -> int:
    return Referral.objects.for_shop(shop).filter(status=S.FLAGGED).count()


def top_advocates(shop: Shop, period: Period | None = None, limit: int = TOP_ADVOCATES) -> list[Advocate]:
    """Advocates by referred orders that count, with their revenue and credit, in one query."""
    in_period = Q(referrals__status__in=COUNTED)
    if period is not None:
        in_period &= Q(referrals__created_at__gte=period.start, referrals__created_at__lt=period.end)
    money = DecimalField(max_digits=14, decimal_places=2)
    return list(
        Advocate.objects.for_shop(shop).select_related("customer")
        .annotate(
            referred=Count("referrals", filter=in_period),
            revenue=Coalesce(Sum("referrals__order_total", filter=in_period), Value(ZERO), output_field=money),
            earned=Coalesce(Sum("referrals__reward_amount", filter=in_period & Q(referrals__status=S.ISSUED)),
                            Value(ZERO), output_field=money),
        )
        .filter(referred__gt=0)
        .order_by("-referred", "-revenue", "pk")[:limit]
    )


def dashboard_section(shop: Shop, period: Period) -> dict:
    """The referral funnel and referred revenue against the credit it cost, for the dashboard."""
    figures = program_figures(shop, period)
    currency = shop.currency
    money = Unit.money(currency)
    by_day = daily_rows(referrals_in(shop, None).filter(status__in=COUNTED), "created_at", period,
                        revenue=Sum("order_total"), credit=Sum("reward_amount"))
    revenue, credit = series_of(by_day, "revenue", period), series_of(by_day, "credit", period)
    return {
        "figures": [
            ("Referred orders", f"{figures.referred_orders:,}"),
            ("Conversion", f"{figures.conversion:.1%}"),
            ("Referred revenue", f"{figures.referred_revenue:,.2f} {currency}"),
            ("Credit paid", f"{figures.cost:,.2f} {currency}"),
        ],
        "charts": [
            bar_chart("Referral funnel", Series("Referrals", [
                Point("Clicks", figures.clicks), Point("Friend codes used", figures.codes_used),
                Point("Referred orders", figures.referred_orders),
                Point("Rewards issued", figures.rewards_issued_count),
            ]), unit=Unit.count(), funnel=True, takeaway=_funnel_takeaway(figures, period)),
            bar_chart(
                "Referred revenue and credit cost",
                Series("Revenue", [Point("Referred revenue", float(figures.referred_revenue))]),
                Series("Credit", [Point("Credit pending", float(figures.rewards_pending)),
                                  Point("Credit paid", float(figures.cost))]),
                unit=money, takeaway=_return_takeaway(figures, money, period),
            ),
            line_chart(f"Referred revenue and credit per {period.per}", Series("Referred revenue", revenue),
                       Series("Credit earned", credit), unit=money, x_label=period.per.title(),
                       takeaway=_revenue_takeaway(revenue, money, period)),
        ],
        "note": "Referrals placed in the range; refunded, cancelled and rejected orders are left out of revenue.",
    }


def _funnel_takeaway(figures: ProgramFigures, period: Period) -> str:
    orders = Unit.count("referred order").of(figures.referred_orders)
    if not figures.clicks:
        return f"{orders} and no clicks on referral links in {period.label}"
    return f"{orders} from {Unit.count('click').of(figures.clicks)}: {figures.conversion:.1%} converted"


def _return_takeaway(figures: ProgramFigures, money: Unit, period: Period) -> str:
    if figures.return_on_cost is not None:
        return f"Each {money.of(1)} of credit paid brought {money.of(figures.return_on_cost)} of referred revenue"
    if figures.referred_revenue:
        return f"{money.of(figures.referred_revenue)} of referred revenue, no credit paid for it yet"
    return f"No referred revenue in {period.label}"


def _revenue_takeaway(revenue: list[Point], money: Unit, period: Period) -> str:
    total = sum(p.value for p in revenue)
    if not total:
        return f"No referred revenue in {period.label}"
    best = max(revenue, key=lambda p: p.value)
    return f"{money.of(total)} in {period.label}; best {period.per} {best.label}, {money.of(best.value)}"


def customer_summary(customer) -> str:
    """The customer's referrals in one line, for the panel's case page."""
    advocate = Advocate.objects.filter(customer=customer).first()
    if advocate is None:
        return "none"
    clicks = advocate.clicks.count()
    referred = Referral.objects.filter(advocate=advocate).count()
    return (f"code {advocate.code}, {clicks} click{'' if clicks == 1 else 's'}, "
            f"{referred} referred friend{'' if referred == 1 else 's'}")
