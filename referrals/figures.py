"""The program's figures for the panel and the dashboard: aggregate queries only, so the
number of queries stays the same however many clicks and referrals a shop has."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import format_percent
from django.db.models import Count, DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.formats import number_format as decimal_format
from django.utils.translation import get_language, gettext as _, ngettext, pgettext

from referrals.models import ZERO, Advocate, Click, Referral
from shopapp.charts import Point, Series, Unit, bar_chart, line_chart
from shopapp.dashboard import Period, daily_rows, series_of
from shopapp.languages import DEFAULT_LANGUAGE, babel_locale, language_of, number_format
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
    weekly = period.per == "week"
    by_day = daily_rows(referrals_in(shop, None).filter(status__in=COUNTED), "created_at", period,
                        revenue=Sum("order_total"), credit=Sum("reward_amount"))
    revenue, credit = series_of(by_day, "revenue", period), series_of(by_day, "credit", period)
    return {
        "figures": [
            (_("Referred orders"), number_format(figures.referred_orders)),
            (_("Conversion"), percent_text(figures.conversion)),
            (_("Referred revenue"), money_text(figures.referred_revenue, currency)),
            (_("Credit paid"), money_text(figures.cost, currency)),
        ],
        "charts": [
            bar_chart(_("Referral funnel"), Series(_("Referrals"), [
                Point(_("Clicks"), figures.clicks), Point(_("Friend codes used"), figures.codes_used),
                Point(_("Referred orders"), figures.referred_orders),
                Point(_("Rewards issued"), figures.rewards_issued_count),
            ]), unit=Unit.count(), funnel=True, takeaway=_funnel_takeaway(figures, period)),
            bar_chart(
                _("Referred revenue and credit cost"),
                Series(_("Revenue"), [Point(_("Referred revenue"), float(figures.referred_revenue))]),
                Series(_("Credit"), [Point(_("Credit pending"), float(figures.rewards_pending)),
                                     Point(_("Credit paid"), float(figures.cost))]),
                unit=money, takeaway=_return_takeaway(figures, currency, period),
            ),
            line_chart(_("Referred revenue and credit per week") if weekly else _("Referred revenue and credit per day"),
                       Series(_("Referred revenue"), revenue),
                       Series(pgettext("credit advocates earned, a chart series", "Credit earned"), credit),
                       unit=money, x_label=_("Week") if weekly else _("Day"),
                       takeaway=_revenue_takeaway(revenue, currency, period)),
        ],
        "note": _("Referrals placed in the range; refunded, cancelled and rejected orders are left out of revenue."),
    }


def money_text(amount, currency: str) -> str:
    """'1,250.00 USD', '1.250,00 USD': the amount as the active language writes numbers, then the currency,
    as the panel's pages and charts show money."""
    return f"{decimal_format(amount, 2, force_grouping=True)} {currency}"


def percent_text(fraction: float) -> str:
    """0.5714 as '57.1%' or '57,1 %': one decimal, as the active language writes a percentage."""
    locale = babel_locale(language_of(get_language()) or DEFAULT_LANGUAGE)
    pattern = locale.percent_formats[None]
    return format_percent(fraction, format=f"{pattern.prefix[0]}#,##0.0{pattern.suffix[0]}", locale=locale)


# The takeaways name the range in their own words ("the last 30 days", as Period.label says it), so each
# is one sentence to translate.

def _funnel_takeaway(figures: ProgramFigures, period: Period) -> str:
    orders = ngettext("%(count)s referred order", "%(count)s referred orders", figures.referred_orders) % {
        "count": number_format(figures.referred_orders)}
    if not figures.clicks:
        days = len(period.days)
        return ngettext("%(orders)s and no clicks on referral links in the last %(days)s day",
                        "%(orders)s and no clicks on referral links in the last %(days)s days", days) % {
            "orders": orders, "days": number_format(days)}
    clicks = ngettext("%(count)s click", "%(count)s clicks", figures.clicks) % {"count": number_format(figures.clicks)}
    return _("%(orders)s from %(clicks)s: %(percent)s converted") % {
        "orders": orders, "clicks": clicks, "percent": percent_text(figures.conversion)}


def _no_revenue(period: Period) -> str:
    days = len(period.days)
    return ngettext("No referred revenue in the last %(days)s day", "No referred revenue in the last %(days)s days",
                    days) % {"days": number_format(days)}


def _return_takeaway(figures: ProgramFigures, currency: str, period: Period) -> str:
    if figures.return_on_cost is not None:
        return _("Each %(one)s of credit paid brought %(revenue)s of referred revenue") % {
            "one": money_text(1, currency), "revenue": money_text(figures.return_on_cost, currency)}
    if figures.referred_revenue:
        return _("%(revenue)s of referred revenue, no credit paid for it yet") % {
            "revenue": money_text(figures.referred_revenue, currency)}
    return _no_revenue(period)


def _revenue_takeaway(revenue: list[Point], currency: str, period: Period) -> str:
    total = sum(p.value for p in revenue)
    if not total:
        return _no_revenue(period)
    best = max(revenue, key=lambda p: p.value)
    days = len(period.days)
    if period.per == "week":
        said = ngettext("%(total)s in the last %(days)s day; best week %(label)s, %(best)s",
                        "%(total)s in the last %(days)s days; best week %(label)s, %(best)s", days)
    else:
        said = ngettext("%(total)s in the last %(days)s day; best day %(label)s, %(best)s",
                        "%(total)s in the last %(days)s days; best day %(label)s, %(best)s", days)
    return said % {"total": money_text(total, currency), "days": number_format(days), "label": best.label,
                   "best": money_text(best.value, currency)}


def customer_summary(customer) -> str:
    """The customer's referrals in one line, for the panel's case page."""
    advocate = Advocate.objects.filter(customer=customer).first()
    if advocate is None:
        return pgettext("a customer's referrals", "none")
    clicks = advocate.clicks.count()
    referred = Referral.objects.filter(advocate=advocate).count()
    return _("code %(code)s, %(clicks)s, %(friends)s") % {
        "code": advocate.code,
        "clicks": ngettext("%(count)s click", "%(count)s clicks", clicks) % {"count": number_format(clicks)},
        "friends": ngettext("%(count)s referred friend", "%(count)s referred friends", referred) % {
            "count": number_format(referred)},
    }
