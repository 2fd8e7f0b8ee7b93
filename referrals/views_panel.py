"""Panel pages: the program's figures with the referral list and top advocates, one referral
with its fraud reasons and the merchant's decision, and the program settings."""
from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.formats import number_format
from django.utils.translation import gettext as _, ngettext
from django.views.decorators.http import require_GET

from referrals.figures import percent_text, program_figures, referrals_in, top_advocates
from referrals.forms import STATUS_FILTERS, DecisionForm, ProgramSettingsForm
from referrals.models import CreditEntry, ProgramSettings, Referral
from referrals.program import program_settings_save
from referrals.services import referral_decide
from shopapp.auth import panel_actor
from shopapp.dashboard import DEFAULT_RANGE, RANGES, Period
from shopapp.languages import date_format
from shopapp.params import ListParams
from shopapp.translations import TranslationsForm, other_languages

PAGE_SIZE = 25


def _range_choices() -> list[tuple[str, str]]:
    return [(key, ngettext("Last %(count)s day", "Last %(count)s days", days) % {"count": days})
            for key, days in RANGES.items()] + [("all", _("All time"))]


def _period(request: HttpRequest, params: ListParams) -> tuple[str, Period | None]:
    chosen = params.choice("range", [*RANGES, "all"], label=_("Range"), default=DEFAULT_RANGE)
    if chosen == "all":
        return chosen, None
    return chosen, Period.last(request.shop, RANGES[chosen])


@require_GET
def referral_list(request: HttpRequest) -> HttpResponse:
    shop = request.shop
    params = ListParams(request)
    chosen, period = _period(request, params)
    status = params.choice("status", Referral.Status.values, label=_("Status"))
    referrals = referrals_in(shop, period).select_related("advocate__customer", "friend", "order")
    if status:
        referrals = referrals.filter(status=status)
    page = params.page(referrals, PAGE_SIZE)
    figures = program_figures(shop, period)
    return render(request, "referrals/panel/list.html", {
        "shop": shop, "nav": "referrals", "page": page, "figures": figures, "status": status,
        "conversion": percent_text(figures.conversion),
        "chosen": chosen, "ranges": _range_choices(), "statuses": STATUS_FILTERS,
        "query": urlencode({k: v for k, v in {"status": status, "range": chosen}.items() if v}),
        "advocates": top_advocates(shop, period), "program": ProgramSettings.for_shop(shop),
        "any_referrals": status != "" or figures.referred_orders > 0 or referrals_in(shop, None).exists(),
        "param_notices": params.notices,
    })


def referral_detail(request: HttpRequest, referral_id: int) -> HttpResponse:
    referral = get_object_or_404(
        Referral.objects.for_shop(request.shop).select_related("advocate__customer", "friend", "order"),
        pk=referral_id)
    form, notice, error, status = DecisionForm(), "", "", 200
    if request.method == "POST":
        form = DecisionForm(request.POST)
        if form.is_valid():
            try:
                referral, notice = _decide(request, referral, form.cleaned_data)
            except ValueError:  # decided already (a double submit, or the order was refunded)
                referral.refresh_from_db()
                error = _("This referral is already %(status)s.") % {"status": referral.get_status_display().lower()}
                status = 409
            form = DecisionForm()
        else:
            error, status = _("Nothing was changed: choose Approve or Reject."), 400
    elif request.method != "GET":
        return HttpResponse(status=405)
    return render(request, "referrals/panel/detail.html", {
        "shop": request.shop, "nav": "referrals", "referral": referral, "form": form, "notice": notice,
        "error": error, "can_approve": referral.status == Referral.Status.FLAGGED,
        "can_reject": referral.status in (Referral.Status.FLAGGED, Referral.Status.PENDING),
        "ledger": CreditEntry.objects.for_shop(request.shop).filter(referral=referral).order_by("created_at", "pk"),
        "owed": CreditEntry.objects.for_shop(request.shop).filter(advocate_id=referral.advocate_id).owed(),
    }, status=status)


def _decide(request: HttpRequest, referral: Referral, data: dict) -> tuple[Referral, str]:
    referral = referral_decide(shop=request.shop, referral=referral, approve=data["decision"] == "approve",
                               actor=panel_actor(request), note=data["note"])
    if referral.status == Referral.Status.REJECTED:
        return referral, _("Referral rejected. The advocate earns nothing for this order.")
    reward = {"amount": number_format(referral.reward_amount, 2), "currency": referral.currency}
    if referral.hold_until:
        return referral, _("Referral approved. The reward of %(amount)s %(currency)s is paid after the hold ends on "
                           "%(date)s.") % {**reward, "date": date_format(referral.hold_until)}
    return referral, _("Referral approved. The reward of %(amount)s %(currency)s is paid once the order is fulfilled "
                       "and the hold ends.") % reward


def _landing_translations(shop, program: ProgramSettings, data=None) -> TranslationsForm:
    """The landing page's text in the shop's other languages."""
    return TranslationsForm(
        data, prefix="tr", languages=other_languages(shop),
        texts={"landing_text": forms.CharField(label=_("Text on the friend's landing page"), max_length=1000,
                                               widget=forms.Textarea(attrs={"rows": 3, "maxlength": 1000}))},
        current=lambda language, name: program.landing_text_in(language),
        default=lambda language, name: program.landing_text)


def program_settings(request: HttpRequest) -> HttpResponse:
    shop = request.shop
    program = ProgramSettings.for_shop(shop)
    form, notice, status = ProgramSettingsForm(instance=program), "", 200
    translations = _landing_translations(shop, program)
    if request.method == "POST":
        translations = _landing_translations(shop, program, request.POST)  # shown as each friend reads it now
        form = ProgramSettingsForm(request.POST, instance=program)
        if form.is_valid() and translations.is_valid():
            program, resynced = program_settings_save(shop=shop, form=form,
                                                      translations=translations.translations(program.translations))
            notice = _("Referral settings saved.")
            if resynced:
                notice = ngettext(
                    "Referral settings saved. Updating the friend discount on %(count)s advocate code in Shopify.",
                    "Referral settings saved. Updating the friend discount on %(count)s advocate codes in Shopify.",
                    resynced) % {"count": resynced}
            form = ProgramSettingsForm(instance=program)
            translations = _landing_translations(shop, program)
        else:
            status = 400
            program = ProgramSettings.for_shop(shop)  # preview what is saved, not the rejected input
    elif request.method != "GET":
        return HttpResponse(status=405)
    return render(request, "referrals/panel/settings.html", {
        "shop": shop, "nav": "referrals", "form": form, "translations": translations, "notice": notice, "program": program,
        "offer": program.offer_label(shop.currency),
    }, status=status)
