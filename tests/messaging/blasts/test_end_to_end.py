"""A blast followed to the end: the sandbox calls a live portal back with each message's
delivered and read, and the blast's page counts them (nothing here moves a status by hand)."""

from __future__ import annotations

import time

import pytest

from messaging.blasts import selectors, services
from messaging.models import ContactGroup, Message
from templates_app.models import Template
from tests import factories
from tests.wappin_sandbox import UNDELIVERABLE_NUMBER

pytestmark = pytest.mark.django_db(transaction=True)


def eventually(check, *, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while not (value := check()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return value


def test_a_blasts_page_follows_delivery_and_read_from_wappins_callbacks(
    live_server, wappin_sandbox, client
):
    # Given a project whose Wappin (the sandbox) calls back the live portal, and a group of three
    project = factories.ProjectFactory()
    template = factories.TemplateFactory(
        project=project, name="weekend_promo", message_type=Template.MessageType.MARKETING
    )
    factories.TemplateLanguageFactory(template=template, body="Hi {{1}}, 20% off this weekend!")
    integration = factories.IntegrationFactory(project=project)
    integration.callback_url = live_server.url + integration.callback_path
    integration.save()
    wappin_sandbox.register(integration)
    wappin_sandbox.knobs(callbacks_enabled=True)
    group = ContactGroup.objects.create(project=project, name="VIP")
    for name, number in (
        ("Budi", "6281200000001"),
        ("Sari", "6281200000002"),
        ("Lost", UNDELIVERABLE_NUMBER),
    ):
        factories.ContactFactory(project=project, name=name, phone_number=number).groups.add(group)
    marketer = factories.UserFactory()
    factories.MembershipFactory(project=project, user=marketer, role="marketing")
    client.force_login(marketer)
    blast = services.blast_create(
        project=project,
        name="Weekend",
        template_name="weekend_promo",
        group=group,
        params={"1": {"source": "name"}},
        created_by=marketer,
    )
    # When it is started (tasks are eager: the messages go to the sandbox at once)
    services.blast_start(blast_id=blast.pk)
    # Then Wappin's callbacks move them: two read, the undeliverable one failed
    assert eventually(
        lambda: Message.objects.filter(blast=blast, status__in=["read", "failed"]).count() == 3
    ), list(Message.objects.filter(blast=blast).values_list("phone_number", "status"))
    progress = selectors.blast_progress(blast=blast)
    assert (progress.read, progress.failed, progress.delivery_rate, progress.read_rate) == (
        2,
        1,
        67,
        67,
    )
    page = client.get(f"/blasts/{blast.pk}/").content.decode()
    assert "Read <strong>2</strong>" in page and "Failed <strong>1</strong>" in page
    assert "Done" in page
