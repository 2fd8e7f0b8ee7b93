"""The shopper's NPS page, opened from a score in the email (or through the app proxy).

A mail scanner that opens every link must not answer for the customer, so opening a link saves
nothing by itself: the page shows the score chosen and its script saves it at once (one click for a
person), and without scripts the Send button does. The link's token is the credential, so the form
carries no CSRF cookie (through the app proxy the page lives on the store's domain).
"""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from reviews.nps.forms import NpsAnswerForm
from reviews.nps.models import PROMOTER_FROM, NpsSurvey
from reviews.nps.services import nps_answer, nps_survey_for_token, question
from shopapp.languages import language_use, shopper_language, shopper_page
from shopapp.links import LinkInvalid
from shopapp.proxy import app_proxy_view
from shopapp.ratelimit import rate_limited
from shopapp.registry import promoter_thanks_blocks
from shopapp.shopify import shop_url


@csrf_exempt
@rate_limited("nps", limit=60, window=60)
@shopper_page
def nps_page(request: HttpRequest, token: str) -> HttpResponse:
    return _page(request, token, base="/nps")


@csrf_exempt
@app_proxy_view
@rate_limited("nps", limit=60, window=60)
@shopper_page
def proxy_nps_page(request: HttpRequest, token: str) -> HttpResponse:
    prefix = request.GET.get("path_prefix") or "/apps/advocate"
    return _page(request, token, base=f"{prefix}/nps", proxy_shop=request.shop)


def _page(request: HttpRequest, token: str, *, base: str, proxy_shop=None) -> HttpResponse:
    try:
        survey = nps_survey_for_token(token)
    except LinkInvalid:
        return _invalid(request)
    if proxy_shop is not None and survey.shop_id != proxy_shop.pk:
        return _invalid(request)
    if request.method not in ("GET", "POST"):
        return HttpResponse(status=405)
    # The language of the email the link came in (the order's).
    language_use(request, shopper_language(survey.shop, order=survey.order, customer=survey.customer))
    action = f"{base}/{token}"
    if request.method == "GET":
        if request.GET.get("done"):
            return _thanks(request, survey, action)
        chosen = request.GET.get("score", "")
        chosen = int(chosen) if chosen.isascii() and chosen.isdigit() and int(chosen) <= 10 else survey.score
        form = NpsAnswerForm(initial={"score": "" if chosen is None else str(chosen), "comment": survey.comment})
        # A promoter's one click may be all they do: the offer shows with the score the link chose.
        blocks = promoter_thanks_blocks(survey.shop, survey.customer) if chosen is not None and chosen >= PROMOTER_FROM else []
        return _render(request, survey, form, action, chosen=chosen, blocks=blocks,
                       autosave=chosen is not None and "score" in request.GET)
    form = NpsAnswerForm(request.POST)
    if not form.is_valid():
        if _wants_json(request):
            return JsonResponse({"saved": False, "error": _("Choose a number from 0 to 10.")}, status=400)
        return _render(request, survey, form, action, chosen=None, status=400,
                       error=_("Your answer was not saved: the message is next to the question."))
    # The script's one-click save sends only the score: a comment written before is kept.
    comment = form.cleaned_data["comment"] if "comment" in request.POST else None
    survey = nps_answer(survey=survey, score=form.cleaned_data["score"], comment=comment)
    if _wants_json(request):
        return JsonResponse({"saved": True, "score": survey.score})
    return HttpResponseRedirect(f"{action}?done=1")


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _render(request, survey: NpsSurvey, form, action: str, *, chosen, blocks=(), autosave=False, status=200, error=""):
    return render(request, "nps/answer.html", {
        "shop": survey.shop, "question": question(survey.shop), "form": form, "action": action, "error": error,
        "chosen": chosen, "autosave": autosave, "answered": survey.score is not None, "blocks": blocks,
    }, status=status)


def _thanks(request, survey: NpsSurvey, action: str) -> HttpResponse:
    if survey.score is None:
        return HttpResponseRedirect(action)
    blocks = promoter_thanks_blocks(survey.shop, survey.customer) if survey.category == "promoter" else []
    return render(request, "nps/thanks.html", {
        "shop": survey.shop, "survey": survey, "edit_url": action, "blocks": blocks,
        "shop_home": shop_url(survey.shop.domain, "/"),
    })


def _invalid(request: HttpRequest) -> HttpResponse:
    # Says nothing about which part failed or what the link was for.
    return render(request, "nps/link_invalid.html", {}, status=404)
