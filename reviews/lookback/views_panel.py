"""The panel's look-back page: choose a window and a rate, preview exactly what would be sent, start,
watch the progress, cancel."""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _, gettext_lazy

from reviews.lookback.forms import DEFAULTS, LookbackForm
from reviews.lookback.models import LookbackRun
from reviews.lookback.services import lookback_cancel, lookback_preview, lookback_progress, lookback_start
from reviews.models import ReviewSettings
from shopapp.auth import panel_actor

PATH = "/app/reviews/lookback/"


def lookback_page(request: HttpRequest) -> HttpResponse:
    shop = request.shop
    if request.method == "POST":
        return _post(request)
    if request.method != "GET":
        return HttpResponse(status=405)
    form, preview, status = LookbackForm(initial=DEFAULTS), None, 200
    if "preview" in request.GET:
        form = LookbackForm(request.GET)
        if form.is_valid():
            preview = lookback_preview(shop, **form.cleaned_data)
        else:
            status = 400
    return _render(request, form, preview=preview, status=status, notice=_notice(request))


def _post(request: HttpRequest) -> HttpResponse:
    shop = request.shop
    if request.POST.get("action") == "cancel":
        raw = request.POST.get("run", "")
        run = LookbackRun.objects.for_shop(shop).filter(pk=raw).first() if raw.isascii() and raw.isdigit() else None
        if run is None:
            return _render(request, LookbackForm(initial=DEFAULTS), status=404,
                           error=_("That run is not in this shop."))
        removed = lookback_cancel(run=run)
        return _redirect(request, "cancelled" if removed or run.status == LookbackRun.Status.CANCELLED else "")
    form = LookbackForm(request.POST)
    if not form.is_valid():
        return _render(request, form, status=400, error=_("Nothing was started: check the messages below."))
    if not ReviewSettings.for_shop(shop).requests_enabled:
        return _render(request, form, status=409, error=_("Nothing was started: review requests are off. Switch them "
                                                           "on in Review settings first."))
    _run, created = lookback_start(shop=shop, actor=panel_actor(request), **form.cleaned_data)
    return _redirect(request, "started" if created else "running")


NOTICES = {"started": gettext_lazy("Look-back run started: the first emails go out now, the rest at your rate."),
           "running": gettext_lazy("A look-back run is already going: here it is. Cancel it to start another."),
           "cancelled": gettext_lazy("Look-back run cancelled: nothing more is sent, and its unsent orders can be "
                                     "asked again.")}


def _notice(request: HttpRequest) -> str:
    return NOTICES.get(request.GET.get("done", ""), "")


def _redirect(request: HttpRequest, done: str) -> HttpResponse:
    # After a POST, a GET: reloading the page never starts or cancels twice.
    token = request.GET.get("id_token") or request.POST.get("id_token", "")
    return HttpResponseRedirect(f"{PATH}?done={done}&id_token={token}")


def _render(request, form, *, preview=None, status=200, notice="", error="") -> HttpResponse:
    shop = request.shop
    runs = list(LookbackRun.objects.for_shop(shop)[:10])
    active = next((run for run in runs if run.is_active), None)
    return render(request, "lookback/panel/page.html", {
        "shop": shop, "nav": "reviews", "form": form, "preview": preview, "notice": notice, "error": error,
        "active": active, "progress": lookback_progress(active) if active else None,
        "past": [(run, lookback_progress(run)) for run in runs if not run.is_active],
        "requests_on": ReviewSettings.for_shop(shop).requests_enabled,
    }, status=status)
