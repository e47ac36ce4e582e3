"""A text field encrypted at rest with Fernet (cryptography).

The keys come from FIELD_ENCRYPTION_KEY (comma-separated: the first encrypts,
all decrypt, so keys can be rotated). The database only ever holds the token.
"""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must be Fernet keys (urlsafe base64 of 32 bytes)."
        ) from exc


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


FERNET_TOKEN_PREFIX = "gAAAAA"


class EncryptedTextField(models.TextField):
    """Stores `fernet(value)`; reads back the clear value. Empty stays empty."""

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return fernet().encrypt(value.encode()).decode()

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        try:
            return fernet().decrypt(value.encode()).decode()
        except InvalidToken as exc:
            raise ImproperlyConfigured(
                "A stored secret cannot be decrypted: FIELD_ENCRYPTION_KEY changed without "
                "keeping the old key in the list."
            ) from exc

    def to_python(self, value):
        # A fixture made by dumpdata holds ciphertext (see value_to_string): read it back.
        value = super().to_python(value)
        if isinstance(value, str) and value.startswith(FERNET_TOKEN_PREFIX):
            try:
                return fernet().decrypt(value.encode()).decode()
            except InvalidToken:
                return value
        return value

    def value_to_string(self, obj):
        # Serialisers (dumpdata) get the ciphertext, never the clear value.
        return self.get_prep_value(self.value_from_object(obj))

    def get_lookup(self, lookup_name):
        # Ciphertexts are randomised: only null checks make sense.
        if lookup_name not in ("isnull", "exact"):
            return None
        return super().get_lookup(lookup_name)
