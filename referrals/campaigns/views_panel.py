"""The panel's past-buyers page: the enrolment switch, and the invitation campaign (preview, start, progress, cancel)."""
from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _, gettext_lazy

from referrals.campaigns.models import InviteCampaign, PastBuyer, PastBuyerSettings
from referrals.campaigns.services import (
    campaign_progress, invite_campaign_cancel, invite_campaign_start, invite_preview, past_buyers, past_buyers_switch,
)
from referrals.models import Advocate
from shopapp.auth import panel_actor

PATH = "/app/referrals/past-buyers/"


class EnrolForm(forms.Form):
    enrol = forms.BooleanField(required=False, label=gettext_lazy("Give past buyers a referral code"),
                               help_text=gettext_lazy(
                                   "Customers with an order placed before you installed Advocate (cancelled orders "
                                   "left out). Each code is a Shopify discount, made in the background."))


class RateForm(forms.Form):
    per_day = forms.IntegerField(label=gettext_lazy("Invitations per day"), min_value=1, max_value=1000, initial=50,
                                 help_text=gettext_lazy("Spread evenly through each day, from the moment you start."))


NOTICES = {"saved": gettext_lazy("Past-buyer settings saved."),
           "started": gettext_lazy("Invitations started: the first go out now."),
           "running": gettext_lazy("A campaign is already going: here it is."),
           "cancelled": gettext_lazy("Campaign cancelled: invitations not sent yet are dropped.")}


def past_buyers_page(request: HttpRequest) -> HttpResponse:
    shop = request.shop
    if request.method == "POST":
        return _post(request)
    if request.method != "GET":
        return HttpResponse(status=405)
    rate, preview, status = RateForm(), None, 200
    if "preview" in request.GET:
        rate = RateForm(request.GET)
        if rate.is_valid():
            preview = invite_preview(shop)
        else:
            status = 400
    return _render(request, rate=rate, preview=preview, status=status, notice=NOTICES.get(request.GET.get("done", ""), ""))


def _post(request: HttpRequest) -> HttpResponse:
    shop = request.shop
    action = request.POST.get("action", "")
    if action == "save":
        form = EnrolForm(request.POST)
        form.is_valid()  # a checkbox: always valid
        past_buyers_switch(shop=shop, enrol=form.cleaned_data["enrol"])
        return _redirect(request, "saved")
    if action == "cancel":
        raw = request.POST.get("campaign", "")
        campaign = (InviteCampaign.objects.for_shop(shop).filter(pk=raw).first()
                    if raw.isascii() and raw.isdigit() else None)
        if campaign is None:
            return _render(request, status=404, error=_("That campaign is not in this shop."))
        invite_campaign_cancel(campaign=campaign)
        return _redirect(request, "cancelled")
    if action == "start":
        rate = RateForm(request.POST)
        if not rate.is_valid():
            return _render(request, rate=rate, status=400, error=_("Nothing was started: check the message below."))
        _campaign, created = invite_campaign_start(shop=shop, per_day=rate.cleaned_data["per_day"],
                                                   actor=panel_actor(request))
        return _redirect(request, "started" if created else "running")
    return _render(request, status=400, error=_("Nothing was changed: choose one of the buttons."))


def _redirect(request: HttpRequest, done: str) -> HttpResponse:
    token = request.GET.get("id_token") or request.POST.get("id_token", "")
    return HttpResponseRedirect(f"{PATH}?done={done}&id_token={token}")


def _reasons(rows: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Why invitations were held back, in the merchant's language: a reason is kept as its English words
    (gettext_noop where it is written), so the same reason counts once whoever's language it was found in."""
    return [(_(reason) if reason else reason, n) for reason, n in rows]


def _render(request, *, rate=None, preview=None, status=200, notice="", error="") -> HttpResponse:
    shop = request.shop
    config = PastBuyerSettings.for_shop(shop)
    enrolled = PastBuyer.objects.for_shop(shop)
    campaigns = list(InviteCampaign.objects.for_shop(shop)[:10])
    running = next((c for c in campaigns if c.status == InviteCampaign.Status.RUNNING), None)
    progress = campaign_progress(running) if running else None
    return render(request, "campaigns/panel/page.html", {
        "shop": shop, "nav": "referrals", "form": EnrolForm(initial={"enrol": config.enrol}), "config": config,
        "rate": rate or RateForm(), "preview": preview, "notice": notice, "error": error,
        "found": past_buyers(shop).count(), "enrolled": enrolled.count(),
        "codes": enrolled.filter(advocate__code_state=Advocate.CodeState.CREATED).count(),
        "running": running, "progress": progress, "held_back": _reasons(progress.reasons) if progress else [],
        "left_out": _reasons(preview.excluded_rows) if preview else [],
        "past": [(c, campaign_progress(c)) for c in campaigns if c is not running],
    }, status=status)
