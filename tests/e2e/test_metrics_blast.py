"""`curl /metrics` during a blast sent by a real worker: the recipients-waiting gauge falls to 0."""

from __future__ import annotations

import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from messaging.blasts import services
from messaging.models import Blast, ContactGroup, Message
from projects.models import Integration
from tests import factories
from tests.e2e.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

METRICS_TOKEN = "blast-metrics-token-" + "x" * 24
RECIPIENTS = 40


def _recipients_waiting(live_server) -> float:
    request = urllib.request.Request(
        live_server.url + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read().decode()
    for family in text_string_to_metric_families(text):
        if family.name == "wappin_portal_blast_recipients_waiting":
            return family.samples[0].value
    raise AssertionError("no wappin_portal_blast_recipients_waiting in /metrics")


def test_recipients_waiting_falls_to_zero_while_a_worker_sends_a_blast(
    live_server, wappin_sandbox, celery_workers, settings
):
    # Given a blast of 40 contacts, Wappin answering in 100 ms, a cap of 10 a second, a worker
    settings.METRICS_TOKEN = METRICS_TOKEN
    project = factories.ProjectFactory()
    integration = factories.IntegrationFactory(
        project=project, kind=Integration.Kind.NOTIFICATION, max_messages_per_second=10
    )
    template = factories.TemplateFactory(project=project, name="weekend_promo")
    factories.TemplateLanguageFactory(template=template, body="Hi {{1}}!")
    wappin_sandbox.register(integration)
    wappin_sandbox.knobs(latency_ms=100)
    group = ContactGroup.objects.create(project=project, name="All")
    for index in range(RECIPIENTS):
        factories.ContactFactory(
            project=project, name=f"C{index}", phone_number=f"628120000{index:04d}"
        ).groups.add(group)
    blast = services.blast_create(
        project=project,
        name="Weekend",
        template_name="weekend_promo",
        group=group,
        params={"1": {"source": "name"}},
    )
    assert _recipients_waiting(live_server) == 0  # a draft is not waiting for anything yet
    celery_workers.start()

    # When it is started and /metrics is scraped (with its token) until the gauge reads 0
    services.blast_start(blast_id=blast.pk)
    seen: list[float] = []

    def drained() -> bool:
        seen.append(_recipients_waiting(live_server))
        return seen[-1] == 0 and any(seen)

    wait_for(drained, timeout=120, interval=0.3, what="the recipients-waiting gauge to reach 0")

    # Then the gauge showed the blast's recipients waiting, never more than the audience,
    # and read 0 once Wappin had every message
    assert max(seen) <= RECIPIENTS
    assert any(value > 0 for value in seen), seen
    assert Message.objects.filter(blast=blast, status=Message.Status.SENT).count() == RECIPIENTS
    assert len(wappin_sandbox.sent(project_id=project.wappin_project_id)) == RECIPIENTS
    blast.refresh_from_db()
    assert blast.status in (Blast.Status.RUNNING, Blast.Status.DONE)
