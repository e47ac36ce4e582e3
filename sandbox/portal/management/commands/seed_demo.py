import json

from django.core.management.base import BaseCommand

from sandbox.portal.demo import demo_seed, demo_summary


class Command(BaseCommand):
    help = "Create the demo login, project, integrations, template, keywords and contacts (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", action="store_true", help="Print one JSON object (with a fresh demo API key)."
        )

    def handle(self, *args, **options):
        world = demo_seed(with_api_key=options["json"])
        if options["json"]:
            self.stdout.write(json.dumps(demo_summary(world), indent=2))
            return
        summary = demo_summary(world)
        if world.created:
            self.stdout.write(self.style.SUCCESS("Demo data created: " + ", ".join(world.created)))
        else:
            self.stdout.write("Demo data already there; nothing to create.")
        self.stdout.write(
            f"Project {summary['project']['name']} (client {summary['project']['client_id']}, "
            f"project {summary['project']['wappin_project_id']}); "
            f"log in as {summary['login']['username']} / {summary['login']['password']}"
        )
