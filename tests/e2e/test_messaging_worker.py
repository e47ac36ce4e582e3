"""Sending through a real Celery worker and the sandbox: the path production takes."""

from __future__ import annotations

from django.utils import timezone

import pytest
from rest_framework.test import APIClient

from messaging.models import Message, WappinCallLog
from projects.models import Integration
from projects.services import api_key_create
from tests import factories
from tests.e2e.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sending_project(wappin_sandbox):
    project = factories.ProjectFactory()
    notification = factories.IntegrationFactory(project=project, kind=Integration.Kind.NOTIFICATION)
    template = factories.TemplateFactory(project=project, name="order_shipped")
    factories.TemplateLanguageFactory(template=template, language_code="id")
    factories.ContactFactory(
        project=project, phone_number="6281234567890", last_inbound_at=timezone.now()
    )
    wappin_sandbox.register(notification)
    return project


def _client(project) -> APIClient:
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Api-Key {api_key_create(project=project, name='e2e').raw_key}"
    )
    return client


HSM = {
    "recipient_number": "081234567890",
    "type": "order_shipped",
    "params": {"1": "Budi", "2": "INV-1"},
}


def test_an_api_send_is_delivered_by_the_worker(
    wappin_sandbox, sending_project, celery_worker_process
):
    response = _client(sending_project).post("/api/v1/messages/hsm/", HSM, format="json")
    assert response.status_code == 202
    message = wait_for(
        lambda: Message.objects.filter(
            pk=response.json()["id"], status=Message.Status.SENT
        ).first(),
        what="the worker to send the message",
    )
    assert wappin_sandbox.sent(message_id=message.wappin_message_id)


def test_the_worker_retries_a_wappin_outage_with_backoff(
    wappin_sandbox, sending_project, celery_worker_process
):
    # Given Wappin answering 502
    wappin_sandbox.knobs(error_5xx_rate=1.0)
    response = _client(sending_project).post("/api/v1/messages/hsm/", HSM, format="json")
    message_id = response.json()["id"]
    # The engine counts an attempt when it claims the message, before its call: wait for the
    # failure itself (the 502 logged, or the message put back with a time for its retry).
    wait_for(
        lambda: (
            WappinCallLog.objects.filter(message_id=message_id, http_status=502).exists()
            or Message.objects.filter(pk=message_id, next_attempt_at__isnull=False).exists()
        ),
        what="the first attempt to fail",
    )
    # When Wappin comes back before the retry (2-3 s later)
    wappin_sandbox.knobs(error_5xx_rate=0.0)
    # Then the retry sends it, once
    message = wait_for(
        lambda: Message.objects.filter(pk=message_id, status=Message.Status.SENT).first(),
        timeout=30,
        what="the retry to send the message",
    )
    assert message.send_attempts >= 2
    assert len(wappin_sandbox.sent(message_id=message.wappin_message_id)) == 1
