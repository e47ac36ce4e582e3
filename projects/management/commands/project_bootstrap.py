"""Set up a Wappin project from the command line: for a first deployment, and for scripts.

The secrets never go on the command line (where `ps` shows them): the client key
and the secret key are read from WAPPIN_CLIENT_KEY and WAPPIN_SECRET_KEY.
"""

import json
import os

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from projects.models import Integration, Membership, Project
from projects.services import api_key_create, integration_save, membership_set, project_save


class Command(BaseCommand):
    help = (
        "Create a project with its notification and chatbot integrations (idempotent: an existing "
        "project with these Wappin ids is reused), make a user its admin, optionally create an API "
        "key. The client key and secret key are read from WAPPIN_CLIENT_KEY and WAPPIN_SECRET_KEY. "
        "Prints the callback URLs to paste into Wappin's dashboard."
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="The project's name in the portal.")
        parser.add_argument("--client-id", required=True, help="Wappin's client ID, e.g. 0070.")
        parser.add_argument(
            "--wappin-project-id", required=True, help="Wappin's project ID, e.g. 476."
        )
        parser.add_argument("--business-number", default="", help="The WhatsApp business number.")
        parser.add_argument("--business-name", default="")
        parser.add_argument(
            "--admin", help="Username of an existing user to make the project's admin."
        )
        parser.add_argument(
            "--ip-whitelist",
            default="",
            help="Comma-separated addresses of this portal's servers, as whitelisted at Wappin.",
        )
        parser.add_argument(
            "--api-key", metavar="NAME", help="Also create an API key with this name."
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args, **options):
        secrets_given = {
            "client_key": os.environ.get("WAPPIN_CLIENT_KEY", ""),
            "secret_key": os.environ.get("WAPPIN_SECRET_KEY", ""),
        }
        admin = None
        if options["admin"]:
            admin = get_user_model().objects.filter(username=options["admin"]).first()
            if admin is None:
                raise CommandError(
                    f"No user {options['admin']!r}: create it first (createsuperuser)."
                )
        try:
            summary = self._bootstrap(options, admin=admin, secrets_given=secrets_given)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        if options["json"]:
            self.stdout.write(json.dumps(summary, indent=2))
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Project {summary['project']['name']} (#{summary['project']['id']})."
            )
        )
        for integration in summary["integrations"]:
            self.stdout.write(
                f"  {integration['kind']} callback URL: {integration['callback_url']}"
            )
        if summary["api_key"]:
            self.stdout.write(f"  API key (shown once): {summary['api_key']}")

    @transaction.atomic
    def _bootstrap(self, options, *, admin, secrets_given: dict[str, str]) -> dict:
        project = Project.objects.filter(
            client_id=options["client_id"], wappin_project_id=options["wappin_project_id"]
        ).first()
        if project is None:
            project = project_save(
                project=Project(
                    name=options["name"],
                    client_id=options["client_id"],
                    wappin_project_id=options["wappin_project_id"],
                    business_number=options["business_number"],
                    business_name=options["business_name"],
                ),
                actor=admin,
            )
        if admin is not None:
            # The operator's command grants the role (the portal itself, when the named user is
            # not a superuser: they are no project's admin yet, so could not grant it).
            membership_set(
                project=project,
                user=admin,
                role=Membership.Role.ADMIN,
                actor=admin if admin.is_superuser else None,
            )
        whitelist = [entry.strip() for entry in options["ip_whitelist"].split(",") if entry.strip()]
        for kind in (Integration.Kind.NOTIFICATION, Integration.Kind.CHATBOT):
            integration = Integration.objects.filter(project=project, kind=kind).first()
            if integration is None:
                integration = Integration(project=project, kind=kind, ip_whitelist=whitelist)
            elif whitelist:
                integration.ip_whitelist = whitelist
            integration_save(integration=integration, actor=admin, secrets_given=secrets_given)
        api_key = ""
        if options["api_key"]:
            api_key = api_key_create(
                project=project, name=options["api_key"], created_by=admin
            ).raw_key
        return {
            "project": {
                "id": project.pk,
                "name": project.name,
                "client_id": project.client_id,
                "wappin_project_id": project.wappin_project_id,
            },
            "integrations": [
                {
                    "id": integration.pk,
                    "kind": integration.kind,
                    "callback_url": integration.callback_url,
                }
                for integration in project.integrations.order_by("kind")
            ],
            "api_key": api_key or None,
        }
