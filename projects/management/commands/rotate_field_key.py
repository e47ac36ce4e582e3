"""`manage.py rotate_field_key`: re-encrypt every stored secret with the first FIELD_ENCRYPTION_KEY.

Rotation: put the new key first in FIELD_ENCRYPTION_KEY (comma-separated, the old
ones after it), deploy, run this, then drop the old keys.
"""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from wappin_portal.fields import EncryptedTextField


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field with the first key of FIELD_ENCRYPTION_KEY."

    def handle(self, *args, **options) -> None:
        for model in apps.get_models():
            names = [f.name for f in model._meta.get_fields() if isinstance(f, EncryptedTextField)]
            if not names:
                continue
            count = 0
            rows = model._base_manager.values_list("pk", *names).iterator(chunk_size=500)
            for pk, *values in rows:
                # Read with any key (decrypted on the way out), written with the first one.
                with transaction.atomic():
                    model._base_manager.filter(pk=pk).update(
                        **dict(zip(names, values, strict=True))
                    )
                count += 1
            label = model._meta.label
            self.stdout.write(f"{label}: {count} rows re-encrypted ({', '.join(names)}).")
