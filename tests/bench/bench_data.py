"""The benchmarks' world: projects with a member, an API key and an integration, and bulk rows.

Rows are bulk-created with a realistic spread over directions, kinds, statuses,
sources and dates, so the planner sees what a busy portal's tables look like.
A fixed seed makes every run the same data.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from callbacks.models import CallbackEvent
from messaging.models import Contact, Message
from projects.models import ApiKey, Integration, Membership, Project
from projects.services import api_key_create
from templates_app.models import Template, TemplateLanguage

BATCH = 5000
# Messages per customer number: the same in a small and a big project, as in real life
# (a big project has more customers, not chattier ones).
MESSAGES_PER_CONTACT = 40

_DIRECTION_IN_SHARE = 0.15
_OUT_KINDS = [
    (Message.Kind.HSM, 55),
    (Message.Kind.HSM_MEDIA, 10),
    (Message.Kind.TEXT, 25),
    (Message.Kind.MEDIA, 10),
]
_OUT_STATUSES = [
    (Message.Status.READ, 45),
    (Message.Status.DELIVERED, 25),
    (Message.Status.SENT, 15),
    (Message.Status.FAILED, 8),
    (Message.Status.QUEUED, 5),
    (Message.Status.UNKNOWN, 2),
]
_OUT_SOURCES = [
    (Message.Source.API_KEY, 50),
    (Message.Source.BLAST, 20),
    (Message.Source.USER, 15),
    (Message.Source.CHATBOT, 15),
]


def _weighted(rng: random.Random, choices: list[tuple[str, int]]) -> str:
    values, weights = zip(*choices, strict=True)
    return rng.choices(values, weights)[0]


@dataclass
class Tenant:
    """A project and what a request on its behalf needs."""

    project: Project
    user: object
    api_key: ApiKey
    api_key_raw: str
    integration: Integration
    template: Template
    numbers: list[str] = field(default_factory=list)

    @property
    def api_headers(self) -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Api-Key {self.api_key_raw}"}


def tenant_create(*, slug: str, client_id: str, wappin_project_id: str) -> Tenant:
    user = get_user_model().objects.create_user(username=f"bench-{slug}", password="bench-password")
    project = Project.objects.create(
        name=f"Bench {slug}",
        client_id=client_id,
        wappin_project_id=wappin_project_id,
        business_number="6281100001111",
        business_name=f"Bench {slug}",
    )
    Membership.objects.create(project=project, user=user, role=Membership.Role.ADMIN)
    integration = Integration.objects.create(
        project=project,
        kind=Integration.Kind.NOTIFICATION,
        client_key=f"bench-client-key-{slug}",
        secret_key=f"bench-secret-{slug}",
        ip_whitelist=[],
    )
    template = Template.objects.create(
        project=project, name="order_update", status=Template.Status.APPROVED, created_by=user
    )
    TemplateLanguage.objects.create(
        template=template, language_code="id", body="Halo {{1}}, pesanan {{2}} diperbarui."
    )
    created = api_key_create(project=project, name=f"bench {slug}")
    return Tenant(
        project=project,
        user=user,
        api_key=created.api_key,
        api_key_raw=created.raw_key,
        integration=integration,
        template=template,
    )


def contacts_create(
    *, tenant: Tenant, count: int, first: int = 0, in_window: bool = False
) -> list[str]:
    """`count` contacts (numbers 62812xxxxxxxx); in the 24-hour window when asked."""
    now = timezone.now()
    contacts = [
        Contact(
            project=tenant.project,
            phone_number=f"62812{first + n:08d}",
            name=f"Customer {first + n}",
            last_inbound_at=now - timedelta(minutes=5) if in_window else None,
        )
        for n in range(count)
    ]
    Contact.objects.bulk_create(contacts, batch_size=BATCH)
    numbers = [contact.phone_number for contact in contacts]
    tenant.numbers += numbers
    return numbers


def messages_fill(*, tenant: Tenant, count: int, days: float, newest: datetime, seed: int) -> None:
    """`count` messages spread evenly (with jitter) over the `days` before `newest`, newest first."""
    rng = random.Random(seed)
    contact_count = max(count // MESSAGES_PER_CONTACT, 10)
    contacts_create(tenant=tenant, count=contact_count)
    contact_ids = dict(
        Contact.objects.filter(project=tenant.project).values_list("phone_number", "pk")
    )
    numbers = list(contact_ids)
    step = timedelta(days=days) / count
    project, integration, template = tenant.project, tenant.integration, tenant.template
    batch: list[Message] = []
    for n in range(count):
        created_at = newest - step * n - step * rng.random()
        number = numbers[rng.randrange(len(numbers))]
        row = Message(
            project=project,
            integration=integration,
            contact_id=contact_ids[number],
            phone_number=number,
            created_at=created_at,
        )
        if rng.random() < _DIRECTION_IN_SHARE:
            row.direction = Message.Direction.INCOMING
            row.kind = Message.Kind.TEXT
            row.status = Message.Status.RECEIVED
            row.source = Message.Source.CUSTOMER
            row.text = rng.choice(
                ["PROMO", "Halo, pesanan saya sudah sampai?", "STOP", "Terima kasih"]
            )
            row.wappin_message_id = f"in{seed:02d}{n:010x}"
        else:
            _outgoing(row, rng=rng, n=n, seed=seed, tenant=tenant, template=template)
        batch.append(row)
        if len(batch) >= BATCH:
            _flush(batch)
    _flush(batch)


def _outgoing(
    row: Message, *, rng: random.Random, n: int, seed: int, tenant: Tenant, template: Template
) -> None:
    row.direction = Message.Direction.OUTGOING
    row.kind = _weighted(rng, _OUT_KINDS)
    row.status = _weighted(rng, _OUT_STATUSES)
    row.source = _weighted(rng, _OUT_SOURCES)
    if row.source == Message.Source.USER:
        row.sent_by = tenant.user
    elif row.source == Message.Source.API_KEY:
        row.api_key = tenant.api_key
    if row.kind in (Message.Kind.HSM, Message.Kind.HSM_MEDIA):
        row.template = template
        row.template_name = template.name
        row.language_code = "id"
        row.params = {"1": f"Customer {n % 977}", "2": f"INV-{n:07d}"}
    if row.kind in (Message.Kind.MEDIA, Message.Kind.HSM_MEDIA):
        row.media = "messages/2026/01/promo.jpg"
        row.media_type = Message.MediaType.IMAGE
        row.caption = "Promo hari ini" if row.kind == Message.Kind.MEDIA else ""
    if row.kind == Message.Kind.TEXT:
        row.text = f"Pesanan INV-{n:07d} sedang kami proses, terima kasih."
    row.send_attempts = 1
    if row.status in (Message.Status.QUEUED,):
        row.send_attempts = 0
        return
    if row.status != Message.Status.UNKNOWN:
        row.wappin_message_id = f"ob{seed:02d}{n:010x}"
    at = row.created_at
    if row.status in (Message.Status.SENT, Message.Status.DELIVERED, Message.Status.READ):
        row.sent_at = at + timedelta(seconds=1)
    if row.status in (Message.Status.DELIVERED, Message.Status.READ):
        row.delivered_at = at + timedelta(seconds=4)
    if row.status == Message.Status.READ:
        row.read_at = at + timedelta(minutes=rng.randrange(1, 600))
    if row.status == Message.Status.FAILED:
        row.failed_at = at + timedelta(seconds=3)
        row.failure_code = rng.choice(["601", "470", "no_answer"])
        row.failure_reason = "WhatsApp could not deliver it."


def _flush(batch: list[Message]) -> None:
    if batch:
        with transaction.atomic():
            Message.objects.bulk_create(batch)
        batch.clear()


def status_callback_body(
    *, project: Project, message_id: str, status: str, when: datetime
) -> bytes:
    """A status callback in the shape of Wappin's document sample (section 6), its spellings included."""
    return json.dumps(
        {
            "message_id": message_id,
            "client_id": project.client_id,
            "client_name": "bench",
            "project id": project.wappin_project_id,
            "project_name": project.name,
            "sender_number": "628989229471",
            "status_messages": status,
            "message_content": "-",
            "environment": "PRODUCTION",
            "timestamp": str(int(when.timestamp())),
            "callback_type": "status",
        }
    ).encode()


def callback_log_fill(*, integration: Integration, count: int) -> None:
    """`count` callbacks already received and processed, as weeks of traffic leave them."""
    now = timezone.now()
    project = integration.project
    statuses = ["sent", "delivered", "read"]
    batch: list[CallbackEvent] = []
    for n in range(count):
        message_id = f"old{n // 3:010x}"
        status = statuses[n % 3]
        received_at = now - timedelta(days=30) + timedelta(seconds=n * 20)
        body = status_callback_body(
            project=project, message_id=message_id, status=status, when=received_at
        )
        batch.append(
            CallbackEvent(
                integration=integration,
                received_at=received_at,
                remote_addr="127.0.0.1",
                body=body.decode(),
                body_size=len(body),
                headers={
                    "Content-Type": "application/json",
                    "Authorization": "Bearer (value not stored)",
                },
                callback_type="status",
                wappin_message_id=message_id,
                status_value=status,
                occurred_at=received_at,
                dedupe_key=f"{integration.pk}:status:{message_id}:{status}",
                verdict=CallbackEvent.Verdict.ACCEPTED,
                state=CallbackEvent.State.PROCESSED,
                result="Message is now delivered.",
                processed_at=received_at,
                attempts=1,
            )
        )
        if len(batch) >= BATCH:
            with transaction.atomic():
                CallbackEvent.objects.bulk_create(batch)
            batch.clear()
    if batch:
        with transaction.atomic():
            CallbackEvent.objects.bulk_create(batch)
