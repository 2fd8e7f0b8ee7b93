"""Platform views: the panel shell, the ID-token bounce page, the authorization-code install."""
from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET
from shopify_app import TokenExchangeAccessToken

from shopapp.admin_api import ShopifyError
from shopapp.auth import _request_input, _to_response, admin_frame_allow, preload_link
from shopapp.models import CustomerDataExport
from shopapp.params import ListParams
from shopapp.ratelimit import rate_limited
from shopapp.services import customer_erase, oauth_state_claim, oauth_state_create, shop_install
from shopapp.shopify import clean_shop_domain, http_client, shop_url, shopify_api_session_class, shopify_app

log = logging.getLogger(__name__)


@require_GET
def panel_home(request: HttpRequest) -> HttpResponse:
    """The dashboard: every app's section for the chosen range."""
    from shopapp.dashboard import DEFAULT_RANGE, RANGES, Period, dashboard_sections
    from shopapp.registry import onboarding_steps

    shop = request.shop
    params = ListParams(request)
    chosen = params.choice("range", RANGES, label="Range", default=DEFAULT_RANGE)
    period = Period.last(shop, RANGES[chosen])
    steps = onboarding_steps(shop)
    return render(request, "shopapp/home.html", {
        "shop": shop, "nav": "home", "sections": dashboard_sections(shop, period),
        "steps": steps, "steps_done": sum(s["done"] for s in steps),
        "ranges": RANGES, "chosen": chosen, "period": period, "param_notices": params.notices,
    })


def privacy_exports(request: HttpRequest) -> HttpResponse:
    """Data requests Shopify forwarded, the full shop export, and erasing one customer."""
    from shopapp.forms import CustomerEraseForm

    form = CustomerEraseForm(request.POST if request.method == "POST" else None)
    erased = None
    if request.method == "POST":
        if form.is_valid():
            erased = customer_erase(shop=request.shop, email=form.cleaned_data["email"])
            form = CustomerEraseForm()
    elif request.method != "GET":
        return HttpResponse(status=405)
    exports = CustomerDataExport.objects.filter(shop=request.shop)[:100]
    return render(request, "shopapp/privacy.html", {
        "shop": request.shop, "exports": exports, "nav": "settings", "form": form, "erased": erased,
    }, status=400 if request.method == "POST" and form.errors else 200)


@require_GET
def privacy_shop_export(request: HttpRequest) -> HttpResponse:
    from shopapp.registry import shop_data_export

    response = JsonResponse({"shop": request.shop.domain, "data": shop_data_export(request.shop)},
                            json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="advocate-{request.shop.handle}.json"'
    return response


@require_GET
def privacy_export_download(request: HttpRequest, export_id: int) -> HttpResponse:
    export = get_object_or_404(CustomerDataExport, pk=export_id, shop=request.shop)
    response = JsonResponse(export.data, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="customer-data-{export.pk}.json"'
    return response


@require_GET
def patch_id_token(request: HttpRequest) -> HttpResponse:
    """The bounce page: App Bridge fetches a fresh ID token and reloads the panel."""
    result = shopify_app().app_home_patch_id_token(_request_input(request))
    response = _to_response(result.response)
    if result.ok:
        domain = clean_shop_domain(result.shop)
        if domain is None:
            return HttpResponseBadRequest("The shop parameter is not a myshopify.com domain.")
        if settings.APP_BRIDGE_URL != _CDN_APP_BRIDGE:
            # Offline demo: the simulator serves its own App Bridge.
            response.content = response.content.replace(_CDN_APP_BRIDGE.encode(), settings.APP_BRIDGE_URL.encode())
        if "Link" in response:
            response["Link"] = preload_link()
        admin_frame_allow(response, domain)
    return response


_CDN_APP_BRIDGE = "https://cdn.shopify.com/shopifycloud/app-bridge.js"


@require_GET
@rate_limited("oauth-install", limit=10, window=60)
def oauth_install(request: HttpRequest) -> HttpResponse:
    """Start the authorization-code install for a merchant arriving from outside the admin."""
    domain = clean_shop_domain(request.GET.get("shop"))
    if domain is None:
        return HttpResponseBadRequest("Enter your shop's address, like example.myshopify.com.")
    state = oauth_state_create(domain=domain)
    session = shopify_api_session_class()(domain, settings.SHOPIFY_API_VERSION)
    url = session.create_permission_url(
        settings.SHOPIFY_SCOPES, f"{settings.APP_URL}/auth/callback", state=state.nonce
    )
    # ShopifyAPI builds https://{shop}/...; point it at the simulator when one is set.
    return HttpResponseRedirect(url.replace(f"https://{domain}", shop_url(domain, ""), 1))


@require_GET
def oauth_callback(request: HttpRequest) -> HttpResponse:
    params = request.GET.dict()
    session_class = shopify_api_session_class()
    domain = clean_shop_domain(params.get("shop"))
    if domain is None or not session_class.validate_params(params):
        return HttpResponse("This install link is invalid or more than a day old. Start the install again.", status=400)
    if not oauth_state_claim(nonce=params.get("state", ""), domain=domain):
        return HttpResponse("This install link was already used or has expired. Start the install again.", status=400)
    try:
        token = _code_exchange(domain, params.get("code", ""))
    except ShopifyError as exc:
        log.warning("authorization-code exchange for %s failed: %s", domain, exc)
        return HttpResponse("Shopify did not accept the install. Start it again from your Shopify admin.", status=502)
    shop_install(domain=domain, token=token)
    return HttpResponseRedirect(shop_url(domain, f"/admin/apps/{settings.SHOPIFY_API_KEY}"))


def _code_exchange(domain: str, code: str) -> TokenExchangeAccessToken:
    """POST the code to the token endpoint, asking for an expiring offline token.

    ShopifyAPI's Session.request_token does the same POST but without a timeout, a
    transport we can point at the simulator, or `expiring=1`; so we make it here.
    """
    try:
        response = http_client().post(
            f"https://{domain}/admin/oauth/access_token",
            data={
                "client_id": settings.SHOPIFY_API_KEY,
                "client_secret": settings.SHOPIFY_API_SECRET,
                "code": code,
                "expiring": "1",
            },
            headers={"Accept": "application/json"},
        )
    except Exception as exc:
        raise ShopifyError(f"could not reach Shopify: {exc}") from exc
    if response.status_code != 200:
        raise ShopifyError(f"token endpoint answered {response.status_code}")
    data = response.json()
    now = timezone.now()

    def at(seconds):
        return (now + timedelta(seconds=int(seconds))).isoformat() if seconds else None

    return TokenExchangeAccessToken(
        shop=domain.removesuffix(".myshopify.com"),
        token=data["access_token"],
        expires=at(data.get("expires_in")),
        scope=data.get("scope", ""),
        access_mode="offline",
        refresh_token=data.get("refresh_token"),
        refresh_token_expires=at(data.get("refresh_token_expires_in")),
        user=None,
    )


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


def landing(request: HttpRequest) -> HttpResponse:
    """Outside the admin: the install form (the panel itself needs Shopify's ID token)."""
    return render(request, "shopapp/landing.html", {})


@csrf_exempt  # checked below: only the RFC 8058 one-click POST goes without a CSRF token
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a page with a button and changes nothing (mail scanners open links); POST acts.

    The mail provider's RFC 8058 one-click POST carries `List-Unsubscribe=One-Click` and the
    signed token in the URL, and no CSRF token; the page's own buttons must pass the CSRF check.
    """
    from django.middleware.csrf import CsrfViewMiddleware

    from shopapp.links import LinkInvalid
    from shopapp.mail import customer_for_unsubscribe, customer_resubscribe, customer_unsubscribe
    from shopapp.models import Customer

    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponse(status=405)
    try:
        customer = customer_for_unsubscribe(token)
    except (LinkInvalid, Customer.DoesNotExist):
        return render(request, "shopapp/unsubscribe.html", {"invalid": True}, status=404)
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
        return render(request, "shopapp/unsubscribe.html", {**context, "error": "Choose one of the buttons."},
                      status=400)
    return render(request, "shopapp/unsubscribe.html", {**context, "done": action})


@require_GET
def activity(request: HttpRequest) -> HttpResponse:
    """Webhooks Shopify sent for this shop and what became of each: failures stay visible."""
    from shopapp.models import WebhookEvent

    events = WebhookEvent.objects.filter(shop_domain=request.shop.domain).order_by("-received_at", "-pk")
    params = ListParams(request)
    status = params.choice("status", WebhookEvent.Status.values, label="Status")
    if status:
        events = events.filter(status=status)
    page = params.page(events.only("topic", "status", "attempts", "last_error", "received_at", "finished_at"), 50)
    return render(request, "shopapp/activity.html", {
        "shop": request.shop, "nav": "settings", "page": page, "status": status,
        "status_query": urlencode({"status": status}) if status else "",
        "statuses": WebhookEvent.Status.choices, "param_notices": params.notices,
    })


def settings_page(request: HttpRequest) -> HttpResponse:
    """All settings in one place: the email sender here, each feature's own section linked."""
    from shopapp.forms import SenderForm, TestSendForm, test_send_post
    from shopapp.mail import sender_test_send
    from shopapp.models import MailSettings
    from shopapp.registry import settings_sections

    shop = request.shop
    mail = MailSettings.for_shop(shop)
    sender_form = SenderForm(initial={"sender_name": mail.sender_name, "reply_to": mail.reply_to})
    test_form = TestSendForm(initial={"to": shop.email})
    notice, status = "", 200
    if request.method == "POST":
        if request.POST.get("action") == "test":
            test_form, notice, status = test_send_post(request.POST, lambda to: sender_test_send(shop=shop, to=to))
        else:
            sender_form = SenderForm(request.POST)
            if sender_form.is_valid():
                mail.sender_name = sender_form.cleaned_data["sender_name"]
                mail.reply_to = sender_form.cleaned_data["reply_to"]
                mail.save(update_fields=["sender_name", "reply_to"])
                notice = "Sender saved."
            else:
                status = 400
    elif request.method != "GET":
        return HttpResponse(status=405)
    return render(request, "shopapp/settings.html", {
        "shop": shop, "nav": "settings", "mail": mail, "sender_form": sender_form, "test_form": test_form,
        "notice": notice, "sections": settings_sections(),
    }, status=status)


def storefront_page(request: HttpRequest) -> HttpResponse:
    """Add Advocate's blocks to the theme (deep links) and see which the live theme has."""
    from shopapp.admin_api import ShopifyError
    from shopapp.themes import BLOCKS, editor_link, theme_blocks_check

    shop = request.shop
    notice = error = ""
    if request.method == "POST":
        try:
            found = theme_blocks_check(shop)
            notice = (f"Your live theme has {len(found)} of Advocate's {len(BLOCKS)} blocks."
                      if found else "None of Advocate's blocks is in your live theme yet.")
        except ShopifyError as exc:
            error = f"Could not read your theme from Shopify: {exc}. Try again in a minute."
    elif request.method != "GET":
        return HttpResponse(status=405)
    blocks = [{"block": b, "link": editor_link(shop, b), "added": b.handle in shop.theme_blocks} for b in BLOCKS]
    return render(request, "shopapp/storefront.html", {
        "shop": shop, "nav": "settings", "blocks": blocks, "notice": notice, "error": error,
    }, status=502 if error else 200)
