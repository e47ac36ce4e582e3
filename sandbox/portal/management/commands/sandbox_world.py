import json
from pathlib import Path

from django.core.management.base import BaseCommand

from sandbox.portal.sandbox_world import sandbox_world_build


class Command(BaseCommand):
    help = (
        "Write the Wappin sandbox's world JSON from the database: every integration with "
        "credentials (client id, secret key, IP whitelist, callback URL) and its approved templates."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output", default="-", help="Where to write it (default: standard output)."
        )

    def handle(self, *args, **options):
        world = sandbox_world_build()
        text = json.dumps(world, indent=2, sort_keys=True) + "\n"
        if options["output"] == "-":
            self.stdout.write(text, ending="")
            return
        path = Path(options["output"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        path.chmod(0o600)  # it holds the secret keys
        templates = sum(len(project["templates"]) for project in world["projects"].values())
        self.stdout.write(
            f"Wrote the sandbox world to {path}: {len(world['clients'])} client(s), "
            f"{len(world['projects'])} project(s), {templates} approved template(s)."
        )
