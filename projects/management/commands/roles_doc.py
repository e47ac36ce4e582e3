"""Write the role matrix of `projects.roles.ROLE_MATRIX` into docs/roles.md (or `--check` it)."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from projects.roles import roles_markdown

SECTION = re.compile(r"(<!-- roles-matrix[^>]*-->\n)(.*?)(<!-- /roles-matrix -->)", re.S)


class Command(BaseCommand):
    help = "Write the role matrix table of docs/roles.md from projects/roles.py."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Fail if the doc differs.")

    def handle(self, *args, **options):
        doc = Path(settings.BASE_DIR) / "docs" / "roles.md"
        text = doc.read_text()
        if not SECTION.search(text):
            raise CommandError(f"{doc} has no <!-- roles-matrix --> section.")
        updated = SECTION.sub(lambda m: m.group(1) + roles_markdown() + m.group(3), text)
        if options["check"]:
            if updated != text:
                raise CommandError("docs/roles.md differs from projects/roles.py: run roles_doc.")
            self.stdout.write("docs/roles.md matches projects/roles.py.")
            return
        doc.write_text(updated)
        self.stdout.write(f"Wrote the role matrix into {doc}.")
