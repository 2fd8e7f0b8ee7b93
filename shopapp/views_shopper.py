"""What a shopper opens from an email's footer: the unsubscribe page (and RFC 8058's one-click POST)."""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from shopapp.languages import language_use, shopper_language, shopper_page
from shopapp.links import LinkInvalid
from shopapp.mail import customer_for_unsubscribe, customer_resubscribe, customer_unsubscribe
from shopapp.models import Customer


@csrf_exempt  # checked below: only the RFC 8058 one-click POST goes without a CSRF token
@shopper_page
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a page with a button and changes nothing (mail scanners open links); POST acts.

    The mail provider's RFC 8058 one-click POST carries `List-Unsubscribe=One-Click` and the
    signed token in the URL, and no CSRF token; the page's own buttons must pass the CSRF check.
    """
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponse(status=405)
    try:
        customer = customer_for_unsubscribe(token)
    except (LinkInvalid, Customer.DoesNotExist):
        return render(request, "shopapp/unsubscribe.html", {"invalid": True}, status=404)
    language_use(request, shopper_language(customer.shop, customer=customer))
    context = {"customer": customer, "shop": customer.shop}
    if request.method != "POST":
        return render(request, "shopapp/unsubscribe.html", context)
    if request.POST.get("List-Unsubscribe") == "One-Click":
        customer_unsubscribe(customer=customer)
        return HttpResponse("Unsubscribed.", content_type="text/plain")
    refused = CsrfViewMiddleware(lambda r: HttpResponse()).process_view(request, None, (), {})
    if refused is not None:
        return refused
    action = request.POST.get("action", "")
    if action == "unsubscribe":
        customer_unsubscribe(customer=customer)
    elif action == "resubscribe":
        customer_resubscribe(customer=customer)
    else:
        return render(request, "shopapp/unsubscribe.html", {**context, "error": _("Choose one of the buttons.")},
                      status=400)
    return render(request, "shopapp/unsubscribe.html", {**context, "done": action})
