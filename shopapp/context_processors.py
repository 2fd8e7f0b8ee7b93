from django.conf import settings

from shopapp.registry import panel_nav


def app(request):
    """What every template may need: the API key App Bridge wants, the token for links."""
    shop = getattr(request, "shop", None)
    return {
        "panel_nav": panel_nav(shop) if shop is not None else [],
        "SHOPIFY_API_KEY": settings.SHOPIFY_API_KEY,
        "APP_BRIDGE_URL": settings.APP_BRIDGE_URL,
        "id_token": getattr(request, "id_token", ""),
        "shop_disconnected": getattr(request, "shop_disconnected", False),
    }
