"""Model fields that keep secrets encrypted at rest."""
from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    # The first key encrypts; every key decrypts, so keys can be rotated.
    return MultiFernet([Fernet(key) for key in settings.TOKEN_ENCRYPTION_KEYS])


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(value: str) -> str:
    try:
        return _fernet().decrypt(value.encode()).decode()
    except InvalidToken:
        raise ValueError(
            "A stored token cannot be decrypted: TOKEN_ENCRYPTION_KEYS no longer holds "
            "the key it was written with. Put the old key back at the end of the list."
        ) from None


class EncryptedTextField(models.TextField):
    """A text column stored as Fernet ciphertext; empty stays empty."""

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return encrypt(value) if value else ""

    def from_db_value(self, value, expression, connection):
        return decrypt(value) if value else ""
