"""Shopify Flow calls Advocate's action here: "Pause Advocate emails for a customer".

Flow signs the request body with the app secret (X-Shopify-Hmac-SHA256) like a webhook;
shopifyapp verifies it, and the shop is the one its header names, installed here. CSRF does not
apply: the signature is the credential, and no cookie is read.
"""
from __future__ import annotations

import json
import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from shopapp.flow import PauseRefused, email_pause_from_flow
from shopapp.models import Shop
from shopapp.shopify import clean_shop_domain, shopify_app

log = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def pause_emails_action(request: HttpRequest) -> JsonResponse:
    body = request.body.decode("utf-8", "replace")
    result = shopify_app().verify_flow_action_req({"method": request.method, "headers": dict(request.headers),
                                                   "url": request.build_absolute_uri(), "body": body})
    if not result.ok:  # the library's status: 400 without a signature, 401 for a wrong one, 405 not a POST
        return JsonResponse({"error": "The request is not signed by Shopify for this app."},
                            status=result.response.status or 401)
    try:
        data = json.loads(body)
        if not isinstance(data, dict):
            raise ValueError
    except ValueError:
        return JsonResponse({"error": "The body must be Flow's JSON action payload."}, status=400)
    # The shop: Shopify's header, and the signed body's shopify_domain; where both are there they agree.
    named = {d for d in (clean_shop_domain(result.shop), clean_shop_domain(str(data.get("shopify_domain") or ""))) if d}
    if len(named) != 1:
        return JsonResponse({"error": "The request names no shop, or two."}, status=400)
    shop = Shop.objects.installed().filter(domain=named.pop()).first()
    if shop is None:
        return JsonResponse({"error": "Advocate is not installed on this shop."}, status=404)
    try:
        pause = email_pause_from_flow(shop=shop, body=data)
    except PauseRefused as exc:
        return JsonResponse({"error": str(exc)}, status=422)
    log.info("Flow paused Advocate emails to customer %s on %s until %s", pause.customer_shopify_id, shop.domain,
             pause.until)
    return JsonResponse({"paused_until": pause.until.isoformat()})
