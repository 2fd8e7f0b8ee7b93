"""The platform's panel pages: the dashboard, activity, settings, the storefront set-up and privacy."""
from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _, gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods

from shopapp import views_install
from shopapp.activity import event_summaries, received_format, with_summary_fields
from shopapp.dashboard import DEFAULT_RANGE, RANGES, Period, dashboard_sections
from shopapp.errors import ShopifyError
from shopapp.branding import brand_read, brand_read_said, shop_brand
from shopapp.forms import BrandForm, CustomerEraseForm, HistoryImportForm, SenderForm, TestSendForm, test_send_post
from shopapp.history import (
    ALL_ORDERS_SCOPE, DEFAULT_MONTHS, history_import_cancel, history_import_start, history_progress,
)
from shopapp.mail import sender_test_send
from shopapp.models import CustomerDataExport, HistoryImport, MailSettings, WebhookEvent
from shopapp.params import ListParams
from shopapp.registry import onboarding_steps, settings_sections, shop_data_export
from shopapp.services import customer_erase, shop_scopes_refresh
from shopapp.flow import flow_activity, flow_trigger_resend
from shopapp.themes import BLOCKS, CHECKOUT_BLOCKS, checkout_editor_link, editor_link, theme_blocks_check
from shopapp.translations import in_sentence

log = logging.getLogger(__name__)

# The activity list filtered to a status with no events: one sentence per status.
NO_EVENTS = {
    WebhookEvent.Status.RECEIVED: gettext_lazy("No received events."),
    WebhookEvent.Status.PROCESSING: gettext_lazy("No processing events."),
    WebhookEvent.Status.WAITING: gettext_lazy("No waiting events."),
    WebhookEvent.Status.DONE: gettext_lazy("No done events."),
    WebhookEvent.Status.FAILED: gettext_lazy("No failed events."),
    WebhookEvent.Status.IGNORED: gettext_lazy("No ignored events."),
}


@require_GET
def panel_home(request: HttpRequest) -> HttpResponse:
    """The dashboard: every app's section for the chosen range; the install form outside Shopify."""
    if request.shop is None:  # the app's address opened outside the admin (shopapp.auth)
        return views_install.landing(request)

    shop = request.shop
    params = ListParams(request)
    chosen = params.choice("range", RANGES, label=_("Range"), default=DEFAULT_RANGE)
    period = Period.last(shop, RANGES[chosen])
    steps = onboarding_steps(shop)
    return render(request, "shopapp/home.html", {
        "shop": shop, "nav": "home", "sections": dashboard_sections(shop, period),
        "steps": steps, "steps_done": sum(s["done"] for s in steps),
        "ranges": RANGES, "chosen": chosen, "period": period, "param_notices": params.notices,
    })


def privacy_exports(request: HttpRequest) -> HttpResponse:
    """Data requests Shopify forwarded, the full shop export, and erasing one customer."""
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


@require_http_methods(["GET", "POST"])
def activity(request: HttpRequest) -> HttpResponse:
    """Webhooks Shopify sent for this shop and what became of each: failures stay visible. Above
    them, Flow triggers Advocate could not deliver for certain, each with "Send again"."""
    notice = ""
    if request.method == "POST":
        trigger = request.POST.get("trigger", "")
        if not trigger.isdigit() or not flow_trigger_resend(shop=request.shop, trigger_id=int(trigger)):
            raise Http404
        notice = _("Sent to Shopify Flow again.")
    events = WebhookEvent.objects.filter(shop_domain=request.shop.domain).order_by("-received_at", "-pk")
    params = ListParams(request)
    status = params.choice("status", WebhookEvent.Status.values, label=_("Status"))
    if status:
        events = events.filter(status=status)
    page = params.page(with_summary_fields(
        events.only("topic", "status", "attempts", "last_error", "received_at", "finished_at")), 50)
    summaries = event_summaries(request.shop, list(page.object_list))
    for event in page.object_list:
        event.summary, event.received = summaries[event.pk], received_format(event.received_at)
    return render(request, "shopapp/activity.html", {
        "shop": request.shop, "nav": "settings", "page": page, "status": status, "notice": notice,
        "no_events": NO_EVENTS.get(status, ""),
        "flow_rows": flow_activity(request.shop),
        "status_query": urlencode({"status": status}) if status else "",
        "statuses": WebhookEvent.Status.choices, "param_notices": params.notices,
    })


def settings_page(request: HttpRequest) -> HttpResponse:
    """All settings in one place: the email sender here, each feature's own section linked."""
    shop = request.shop
    mail = MailSettings.for_shop(shop)
    sender_form = SenderForm(initial={"sender_name": mail.sender_name, "reply_to": mail.reply_to})
    test_form = TestSendForm(initial={"to": shop.email})
    brand_form = BrandForm(initial={"logo_url": shop.brand_logo_url, "color": shop.brand_color})
    notice, status = "", 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "test":
            test_form, notice, status = test_send_post(request.POST, lambda to: sender_test_send(shop=shop, to=to))
        elif action == "brand-read":
            notice = brand_read(shop.pk)
            notice = _("Your Shopify brand settings were read again.") if notice == "read" else brand_read_said(notice)
            shop.refresh_from_db()
        elif action == "brand":
            brand_form = BrandForm(request.POST)
            if brand_form.is_valid():
                shop.brand_logo_url, shop.brand_color = brand_form.cleaned_data["logo_url"], brand_form.cleaned_data["color"]
                shop.save(update_fields=["brand_logo_url", "brand_color", "updated_at"])
                notice = _("Brand saved.")
            else:
                status = 400
        else:
            sender_form = SenderForm(request.POST)
            if sender_form.is_valid():
                mail.sender_name = sender_form.cleaned_data["sender_name"]
                mail.reply_to = sender_form.cleaned_data["reply_to"]
                mail.save(update_fields=["sender_name", "reply_to"])
                notice = _("Sender saved.")
            else:
                status = 400
    elif request.method != "GET":
        return HttpResponse(status=405)
    return render(request, "shopapp/settings.html", {
        "shop": shop, "nav": "settings", "mail": mail, "sender_form": sender_form, "test_form": test_form,
        "brand_form": brand_form, "brand": shop_brand(shop), "notice": notice,
        "brand_error": brand_read_said(shop.brand_read_error) if shop.brand_read_error else "",
        "sections": [{"section": s, "open": _("Open %(title)s settings") % {"title": in_sentence(s.title)}}
                     for s in settings_sections()],
    }, status=status)


def storefront_page(request: HttpRequest) -> HttpResponse:
    """Add Advocate's blocks to the theme (deep links) and see which the live theme has."""
    shop = request.shop
    notice = error = ""
    if request.method == "POST":
        try:
            found = theme_blocks_check(shop)
            notice = (ngettext("Your live theme has %(found)s of Advocate's %(count)s block.",
                               "Your live theme has %(found)s of Advocate's %(count)s blocks.", len(BLOCKS))
                      % {"found": len(found), "count": len(BLOCKS)}
                      if found else _("None of Advocate's blocks is in your live theme yet."))
        except ShopifyError as exc:
            error = _("Could not read your theme from Shopify: %(reason)s. Try again in a minute.") % {"reason": exc}
    elif request.method != "GET":
        return HttpResponse(status=405)
    blocks = [{"block": b, "link": editor_link(shop, b), "added": b.handle in shop.theme_blocks} for b in BLOCKS]
    checkout = [{"block": b, "link": checkout_editor_link(shop, b)} for b in CHECKOUT_BLOCKS]
    return render(request, "shopapp/storefront.html", {
        "shop": shop, "nav": "settings", "blocks": blocks, "checkout": checkout, "notice": notice, "error": error,
        # The name Shopify's checkout editor shows for the block, in English whatever the panel's language.
        "checkout_block_name": mark_safe('<span lang="en">Advocate — referrals and reviews</span>'),
    }, status=502 if error else 200)


@require_http_methods(["GET", "POST"])
def history_page(request: HttpRequest) -> HttpResponse:
    """Import the customers, orders and products from before Advocate, and follow the import
    (`?part=progress`: the progress card alone, which the page asks for while an import runs)."""
    shop = request.shop
    form = HistoryImportForm(initial={"months": DEFAULT_MONTHS})
    notice = error = ""
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "start":
            form = HistoryImportForm(request.POST)
            if form.is_valid():
                history_import_start(shop=shop, months=form.cleaned_data["months"])
                notice = _("Import started. You can leave this page: it goes on without you.")
            else:
                status = 400
        elif action == "cancel":
            notice = (_("Import canceled. What was imported stays; import again to complete it.")
                      if history_import_cancel(shop=shop) else _("No import is running."))
        elif action == "scopes":
            try:
                shop_scopes_refresh(shop)
            except ShopifyError as exc:
                error = _("Could not ask Shopify which permissions Advocate has: %(reason)s. Try again in a "
                          "minute.") % {"reason": exc}
            else:
                notice = (_("Advocate can now read all your orders: import again to go further back.")
                          if shop.has_scope(ALL_ORDERS_SCOPE) else
                          _("Shopify has not given Advocate access to all orders yet, so imports cover 60 days."))
        else:
            raise Http404
    row = HistoryImport.objects.for_shop(shop).select_related("operation").order_by("-started_at", "-pk").first()
    context = {"shop": shop, "nav": "settings", "form": form, "notice": notice, "error": error, "row": row,
               "progress": history_progress(row) if row else None, "all_orders": shop.has_scope(ALL_ORDERS_SCOPE)}
    if request.GET.get("part") == "progress":
        return render(request, "shopapp/_history_progress.html", context)
    return render(request, "shopapp/history.html", context, status=status)
