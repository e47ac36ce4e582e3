"""A worker killed with SIGKILL while it holds a transactional send: the send is not lost, nor doubled.

The dispatcher task is acknowledged late (`CELERY_TASK_ACKS_LATE`): the dead worker
never acknowledged it, so Redis hands it to another worker once the visibility timeout
has passed (`CELERY_VISIBILITY_TIMEOUT_SECONDS`, a few seconds here). No beat runs in
this test: the redelivery alone brings the message to Wappin.

The worker is held deterministically before it takes the message: the sandbox answers
its token request only after `token_latency_ms` (the dispatcher asks for a token before
it claims anything). A kill during the send call itself leaves a `sending` row, which is
never sent again blindly (see `test_a_worker_killed_mid_blast_never_sends_a_message_twice`).
"""

from __future__ import annotations

import os
import re
import signal

from django.conf import settings

import pytest
import redis
from rest_framework.test import APIClient

from messaging.models import Message
from projects.models import Integration
from projects.services import api_key_create
from tests import factories
from tests.e2e.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

VISIBILITY_TIMEOUT_SECONDS = 5
NUMBER = "6281234500077"


def _dispatch_task_ids(log: str) -> list[str]:
    """The ids of the dispatcher tasks a worker took, from its log ("Task <name>[<id>] received")."""
    return re.findall(r"messaging\.messages_dispatch\[([0-9a-f-]+)\] received", log)


def test_a_transactional_send_held_by_a_killed_worker_is_sent_once_by_the_next(
    wappin_sandbox, celery_workers
):
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("redelivery after a visibility timeout is Redis's (set CELERY_BROKER_URL)")
    # (Tasks an interrupted earlier run left unacknowledged would be handed out too.)
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("unacked", "unacked_index")
    # Given an integration without a token yet, and Wappin slow to answer a token request
    project = factories.ProjectFactory()
    integration = factories.IntegrationFactory(
        project=project, kind=Integration.Kind.NOTIFICATION, access_token=""
    )
    template = factories.TemplateFactory(project=project, name="order_shipped")
    factories.TemplateLanguageFactory(template=template, language_code="id")
    wappin_sandbox.register(integration)
    wappin_sandbox.knobs(token_latency_ms=60_000)
    worker_env = {
        "CELERY_VISIBILITY_TIMEOUT_SECONDS": str(VISIBILITY_TIMEOUT_SECONDS),
        # The worker waits for the slow token instead of giving up after the suite's 3 s.
        "WAPPIN_TIMEOUT_SECONDS": "120",
    }
    (first,) = celery_workers.start(env=worker_env)

    # When a transactional send comes through the API and the worker takes its dispatcher
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Api-Key {api_key_create(project=project, name='e2e').raw_key}"
    )
    response = client.post(
        "/api/v1/messages/hsm/",
        {"recipient_number": NUMBER, "type": "order_shipped", "params": {"1": "Budi", "2": "X"}},
        format="json",
    )
    assert response.status_code == 202, response.content
    message_id = response.json()["id"]
    ids = wait_for(
        lambda: _dispatch_task_ids(celery_workers.log(first)),
        timeout=60,
        what="the worker to take the dispatcher task",
    )
    (task_id,) = ids
    # ... and is killed with SIGKILL while it waits for Wappin's token (the solo pool: one process)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL
    assert Message.objects.get(pk=message_id).status == Message.Status.QUEUED
    assert not wappin_sandbox.sent(project_id=project.wappin_project_id)

    # ... then Wappin answers at once again, and a new worker starts
    wappin_sandbox.knobs(token_latency_ms=0)
    (second,) = celery_workers.start(env=worker_env)

    # Then the broker hands the unacknowledged task to the new worker, which sends the message
    message = wait_for(
        lambda: Message.objects.filter(pk=message_id, status=Message.Status.SENT).first(),
        timeout=120,
        what="the new worker to send the message",
    )
    assert task_id in _dispatch_task_ids(celery_workers.log(second))
    # ... exactly once: Wappin has one message for the number, the one the portal recorded
    received = wappin_sandbox.sent(project_id=project.wappin_project_id)
    assert [record["message_id"] for record in received] == [message.wappin_message_id]
    assert message.send_attempts <= 1
