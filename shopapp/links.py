"""Shopper links: an unguessable signed token that expires and carries no personal data."""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing


class LinkInvalid(Exception):
    """The link was tampered with, is for something else, or has expired."""


def link_token(purpose: str, object_id: int, *, extra: str = "") -> str:
    """A URL-safe token naming one row for one purpose (e.g. "review-request", 42)."""
    return signing.dumps([object_id, extra], salt=f"advocate:{purpose}", compress=True)


def link_read(purpose: str, token: str, *, max_age: timedelta) -> tuple[int, str]:
    """(object_id, extra) from a token made by link_token, or LinkInvalid."""
    try:
        object_id, extra = signing.loads(token, salt=f"advocate:{purpose}", max_age=max_age)
    except signing.SignatureExpired:
        raise LinkInvalid("expired") from None
    except (signing.BadSignature, ValueError, TypeError):
        raise LinkInvalid("invalid") from None
    return int(object_id), str(extra)


def absolute(path: str) -> str:
    return f"{settings.APP_URL}{path}"
