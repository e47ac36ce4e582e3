"""The demo world `make run` starts with: one project wired to the sandbox.

`demo_seed()` is idempotent: a second run finds what the first one made. It
goes through the same services as the UI, so the demo has a real history.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from messaging.models import Contact, ContactGroup
from projects.models import Integration, Membership, Project
from projects.services import api_key_create, integration_save
from templates_app.models import ChatbotKeyword, Template, TemplateLanguage
from templates_app.services import (
    keyword_create,
    template_approve,
    template_create,
    template_request_approval,
)

DEMO_USERNAME = "admin"
DEMO_PASSWORD = "wappin-demo"
DEMO_CLIENT_ID = "0070"
DEMO_PROJECT_ID = "476"
DEMO_TEMPLATE = "order_update"
DEMO_GROUP = "Pelanggan setia"
DEMO_CONTACTS = [
    ("Budi Santoso", "6281234567001"),
    ("Siti Rahma", "6281234567002"),
    ("Andi Wijaya", "6281234567003"),
    ("Dewi Lestari", "6281234567004"),
]


def _demo_language(code: str, header: str, body: str, track: str, thanks: str) -> dict:
    return {
        "language_code": code,
        "header_type": TemplateLanguage.HeaderType.TEXT,
        "header_text": f"{header} {{{{1}}}}",
        "body": body,
        "footer": "Demo Shop",
        "buttons": [
            {"type": "url", "text": track, "url": "https://shop.example/track/{{1}}"},
            {"type": "quick_reply", "text": thanks, "payload": "thanks"},
        ],
    }


@dataclass
class DemoWorld:
    project: Project
    created: list[str] = field(default_factory=list)
    api_key: str = ""


@transaction.atomic
def demo_seed(*, with_api_key: bool = False) -> DemoWorld:
    created: list[str] = []
    User = get_user_model()
    admin = User.objects.filter(username=DEMO_USERNAME).first()
    if admin is None:
        admin = User.objects.create_superuser(DEMO_USERNAME, "admin@example.com", DEMO_PASSWORD)
        created.append(f"user {DEMO_USERNAME}")

    project, made = Project.objects.get_or_create(
        client_id=DEMO_CLIENT_ID,
        wappin_project_id=DEMO_PROJECT_ID,
        defaults={
            "name": "Demo Shop",
            "business_number": "6281100001111",
            "business_name": "Demo Shop Indonesia",
            "website_url": "https://www.wappin.id",
            "default_chatbot_message": (
                "Halo, selamat datang di Demo Shop! Ketik *PROMO* untuk promo hari ini "
                "atau *AGENT* untuk chatting dengan agent kami."
            ),
        },
    )
    if made:
        created.append(f"project {project.name}")
    Membership.objects.get_or_create(
        project=project, user=admin, defaults={"role": Membership.Role.ADMIN}
    )

    # Wappin gives a client one secret key for its client ID; both integrations use it.
    credentials = {"client_key": secrets.token_hex(20), "secret_key": secrets.token_hex(20)}
    for kind in (Integration.Kind.NOTIFICATION, Integration.Kind.CHATBOT):
        integration = Integration.objects.filter(project=project, kind=kind).first()
        if integration is None:
            existing = Integration.objects.filter(project=project).exclude(secret_key="").first()
            if existing is not None:
                credentials = {"client_key": existing.client_key, "secret_key": existing.secret_key}
            integration = Integration(project=project, kind=kind, ip_whitelist=["127.0.0.1", "::1"])
            integration_save(integration=integration, actor=admin, secrets_given=credentials)
            created.append(f"{kind} integration")
        # The callback URL follows PORT, so two checkouts can run side by side.
        if integration.callback_url != integration.default_callback_url:
            integration.callback_url = integration.default_callback_url
            integration.save(update_fields=["callback_url", "updated_at"])

    if not Template.objects.filter(project=project, name=DEMO_TEMPLATE).exists():
        # Through the same services as the UI, so the demo has a real status history.
        template = template_create(
            project=project,
            name=DEMO_TEMPLATE,
            message_type=Template.MessageType.UTILITY,
            languages=[
                _demo_language(
                    "id",
                    "Pesanan",
                    "Halo {{1}}, pesanan {{2}} sedang dikirim dan tiba {{3}}.",
                    "Lacak",
                    "Terima kasih",
                ),
                _demo_language(
                    "en",
                    "Order",
                    "Hello {{1}}, your order {{2}} is on its way and arrives {{3}}.",
                    "Track",
                    "Thanks",
                ),
            ],
            actor=admin,
        )
        template_request_approval(template=template, actor=admin)
        template_approve(
            template=template, actor=admin, reason="Demo template, approved at set-up."
        )
        created.append(f"template {DEMO_TEMPLATE}")

    for keyword, scenario, text in (
        ("PROMO", ChatbotKeyword.Scenario.NORMAL, "Promo hari ini: diskon 20% untuk semua sepatu!"),
        ("AGENT", ChatbotKeyword.Scenario.CHAT_PANEL, "Mohon tunggu, agent kami segera membalas."),
    ):
        if not ChatbotKeyword.objects.filter(
            project=project, normalized_keyword=keyword.lower()
        ).exists():
            keyword_create(
                project=project,
                keyword=keyword,
                template_name=f"{keyword.lower()}_reply",
                scenario=scenario,
                response_type=ChatbotKeyword.ResponseType.TEXT,
                response_text=text,
                actor=admin,
            )
            created.append(f"keyword {keyword}")

    group, made = ContactGroup.objects.get_or_create(project=project, name=DEMO_GROUP)
    if made:
        created.append(f"group {DEMO_GROUP}")
    for name, number in DEMO_CONTACTS:
        contact, made = Contact.objects.get_or_create(
            project=project, phone_number=number, defaults={"name": name}
        )
        if made:
            contact.groups.add(group)
            created.append(f"contact {name}")

    world = DemoWorld(project=project, created=created)
    if with_api_key:
        world.api_key = api_key_create(
            project=project, name=f"demo {timezone.localtime():%Y-%m-%d %H:%M}", created_by=admin
        ).raw_key
    return world


def demo_summary(world: DemoWorld) -> dict:
    """What scripts and people need to drive the demo (printed by `seed_demo --json`)."""
    project = world.project
    return {
        "url": settings.PORTAL_BASE_URL,
        "login": {"username": DEMO_USERNAME, "password": DEMO_PASSWORD},
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
                "callback_url": integration.default_callback_url,
                "client_id": project.client_id,
                "secret_key": integration.secret_key,
                "client_key": integration.client_key,
            }
            for integration in project.integrations.order_by("kind")
        ],
        "template": DEMO_TEMPLATE,
        "contacts": [number for _, number in DEMO_CONTACTS],
        "api_key": world.api_key or None,
        "wappin_base_url": settings.WAPPIN_BASE_URL,
    }
