"""Digests of the integrations' tokens, so a callback is checked without decrypting them."""

import hashlib

from django.db import migrations, models


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest() if token else ""


def digests_fill(apps, schema_editor):
    Integration = apps.get_model("projects", "Integration")
    for integration in Integration.objects.only("pk", "access_token", "previous_access_token"):
        Integration.objects.filter(pk=integration.pk).update(
            access_token_digest=_digest(integration.access_token),
            previous_access_token_digest=_digest(integration.previous_access_token),
        )


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0004_cache_table"),
    ]

    operations = [
        migrations.AddField(
            model_name="integration",
            name="access_token_digest",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="integration",
            name="previous_access_token_digest",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.RunPython(digests_fill, migrations.RunPython.noop),
    ]
