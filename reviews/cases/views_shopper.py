"""What the customer opens from a case email: the signed answer page with the thread."""
from __future__ import annotations

from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render

from reviews.cases.conversation import case_customer_answer, case_for_token, case_language, case_review_link
from reviews.cases.forms import AnswerForm
from reviews.cases.models import Case, CaseMessage, Remedy
from shopapp.languages import language_use, shopper_page
from shopapp.links import LinkInvalid
from shopapp.ratelimit import rate_limited


@rate_limited("case-answer", limit=30, window=60)
@shopper_page
def customer_answer(request: HttpRequest, token: str) -> HttpResponse:
    """The customer's page from the signed link in a private reply: the thread and an answer box."""
    try:
        case = case_for_token(token)
    except (LinkInvalid, Case.DoesNotExist):
        return render(request, "cases/link_invalid.html", {}, status=404)
    language_use(request, case_language(case))  # the language of the email the link came in
    form = AnswerForm()
    sent = request.GET.get("sent") == "1"
    status = 200
    if request.method == "POST":
        form = AnswerForm(request.POST)
        if form.is_valid():
            case_customer_answer(case=case, body=form.cleaned_data["body"])
            return HttpResponseRedirect(f"/cases/a/{token}?sent=1")
        status = 400
    elif request.method != "GET":
        return HttpResponse(status=405)
    messages = case.messages.filter(Q(direction=CaseMessage.Direction.IN) | Q(sent_at__isnull=False))
    return render(request, "cases/answer.html", {
        "shop": case.shop, "case": case, "messages": messages, "form": form, "sent": sent,
        "review_link": case_review_link(case) if case.status == Case.Status.RESOLVED else "",
        "given": case.remedies.filter(status=Remedy.Status.DONE, kind__in=Remedy.REMOTE),
    }, status=status)
