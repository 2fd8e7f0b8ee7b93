"""The panel's NPS page: the settings, the last 90 days' score and the answers, detractors first to read."""
from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from reviews.models import ReviewSettings
from reviews.nps.figures import nps_figures
from reviews.nps.forms import FILTERS, NpsSettingsForm
from reviews.nps.models import DETRACTOR_UP_TO, PROMOTER_FROM, NpsSettings, NpsSurvey
from shopapp.dashboard import Period
from shopapp.params import ListParams

PAGE_SIZE = 25
SCORE_RANGES = {"detractor": (0, DETRACTOR_UP_TO), "passive": (DETRACTOR_UP_TO + 1, PROMOTER_FROM - 1),
                "promoter": (PROMOTER_FROM, 10)}


def nps_page(request: HttpRequest) -> HttpResponse:
    shop = request.shop
    config = NpsSettings.for_shop(shop)
    form, notice, status = NpsSettingsForm(instance=config), "", 200
    if request.method == "POST":
        form = NpsSettingsForm(request.POST, instance=config)
        if form.is_valid():
            config = form.save()
            notice = _("NPS settings saved.")
            form = NpsSettingsForm(instance=config)
        else:
            status = 400
            config = NpsSettings.for_shop(shop)
    elif request.method != "GET":
        return HttpResponse(status=405)
    params = ListParams(request)
    kind = params.choice("kind", SCORE_RANGES, label=_("Answers"))
    answers = NpsSurvey.objects.for_shop(shop).answered().select_related("customer", "order").order_by("-answered_at", "-pk")
    if kind:
        low, high = SCORE_RANGES[kind]
        answers = answers.filter(score__gte=low, score__lte=high)
    return render(request, "nps/panel/page.html", {
        "shop": shop, "nav": "reviews", "form": form, "notice": notice, "config": config,
        "requests_on": ReviewSettings.for_shop(shop).requests_enabled, "kind": kind, "filters": FILTERS,
        "page": params.page(answers, PAGE_SIZE), "query": urlencode({"kind": kind} if kind else {}),
        "tally": nps_figures(shop, Period.last(shop, 90))["tally"], "param_notices": params.notices,
    }, status=status)
