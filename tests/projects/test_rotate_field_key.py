"""`manage.py rotate_field_key`: after it, the old key can be dropped (issue 10)."""

from io import StringIO

from django.core.management import call_command
from django.db import connection

import pytest
from cryptography.fernet import Fernet

from projects.models import Integration
from tests import factories
from wappin_portal import fields

pytestmark = pytest.mark.django_db


def test_every_secret_is_readable_with_the_new_key_alone_after_rotation(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    integration = factories.IntegrationFactory(secret_key="s3cret", client_key="c1ient")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT secret_key FROM projects_integration WHERE id = %s", [integration.pk]
        )
        before = cursor.fetchone()[0]

    # When the new key goes first and the command runs
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    out = StringIO()
    call_command("rotate_field_key", stdout=out)
    assert "projects.Integration: 1 rows re-encrypted" in out.getvalue()

    # Then the stored ciphertext changed, and the new key alone reads every secret
    settings.FIELD_ENCRYPTION_KEYS = [new]
    fields._fernet.cache_clear()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT secret_key FROM projects_integration WHERE id = %s", [integration.pk]
        )
        after = cursor.fetchone()[0]
    assert after != before and "s3cret" not in after
    stored = Integration.objects.get(pk=integration.pk)
    assert (stored.secret_key, stored.client_key) == ("s3cret", "c1ient")
