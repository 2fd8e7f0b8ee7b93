"""Start-up checks: in production a missing or malformed setting stops the app and names itself."""
from __future__ import annotations

import re

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Error, Tags, register

_VERSION = re.compile(r"^\d{4}-(01|04|07|10)$")


@register(Tags.security, deploy=False)
def shopify_settings_check(app_configs=None, **kwargs):
    errors = []
    if not _VERSION.match(settings.SHOPIFY_API_VERSION):
        errors.append(Error(
            f"SHOPIFY_API_VERSION={settings.SHOPIFY_API_VERSION!r} is not a Shopify release (YYYY-01/04/07/10).",
            hint="Set SHOPIFY_API_VERSION to a supported version such as 2026-10.",
            id="advocate.E001",
        ))
    for key in settings.TOKEN_ENCRYPTION_KEYS:
        try:
            Fernet(key)
        except (ValueError, TypeError):
            errors.append(Error(
                "TOKEN_ENCRYPTION_KEYS holds a value that is not a Fernet key.",
                hint='Generate one with: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"',
                id="advocate.E002",
            ))
    if not settings.PRODUCTION:
        return errors

    required = {
        "SHOPIFY_API_KEY": settings.SHOPIFY_API_KEY != "advocate-dev-client-id" and settings.SHOPIFY_API_KEY,
        "SHOPIFY_API_SECRET": settings.SHOPIFY_API_SECRET != "advocate-dev-client-secret-not-for-production" and settings.SHOPIFY_API_SECRET,
        "SECRET_KEY": settings.SECRET_KEY != settings.DEV_SECRET_KEY and len(settings.SECRET_KEY) >= 32,
        "TOKEN_ENCRYPTION_KEYS": settings.TOKEN_ENCRYPTION_KEYS != [settings.DEV_TOKEN_KEY],
        "APP_URL": settings.APP_URL.startswith("https://"),
        "DATABASE_URL": bool(settings.DATABASE_URL),
        "REDIS_URL": bool(settings.REDIS_URL),
    }
    hints = {
        "SECRET_KEY": "Set SECRET_KEY to a random string of at least 32 characters.",
        "APP_URL": "Set APP_URL to the public https:// address of Advocate.",
        "TOKEN_ENCRYPTION_KEYS": "Set TOKEN_ENCRYPTION_KEYS to your own Fernet key (see advocate.E002's hint).",
        "DATABASE_URL": "Set DATABASE_URL, e.g. postgres://user:pass@host:5432/advocate.",
        "REDIS_URL": "Set REDIS_URL, e.g. redis://host:6379/0, for the job queue.",
    }
    for name, ok in required.items():
        if not ok:
            errors.append(Error(
                f"{name} is missing or invalid for production.",
                hint=hints.get(name, f"Set {name} from your app's page in the Shopify Partner dashboard."),
                id="advocate.E100",
            ))
    return errors
