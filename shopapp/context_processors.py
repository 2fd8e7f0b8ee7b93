from django.conf import settings


def app(request):
    """What every template may need: the API key App Bridge wants, the token for links."""
    return {
        "SHOPIFY_API_KEY": settings.SHOPIFY_API_KEY,
        "APP_BRIDGE_URL": settings.APP_BRIDGE_URL,
        "id_token": getattr(request, "id_token", ""),
    }
