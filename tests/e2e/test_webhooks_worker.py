"""Webhook deliveries through a real Celery worker: the task names and modules production runs."""

from __future__ import annotations

from django.db import transaction

import pytest

from projects.models import WebhookDelivery
from projects.webhooks.services import webhook_event_emit
from tests import factories
from tests.e2e.conftest import wait_for
from tests.webhook_receiver import WebhookReceiver

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def webhook_receiver():
    receiver = WebhookReceiver()
    yield receiver
    receiver.stop()


def test_the_worker_delivers_an_event_and_its_retry(webhook_receiver, celery_workers):
    # Given an endpoint whose receiver fails the first attempt, and a worker
    endpoint = factories.WebhookEndpointFactory(
        url=webhook_receiver.url, event_types=["template.status_changed"]
    )
    webhook_receiver.answer(500)
    celery_workers.start(env={"WEBHOOK_RETRY_BASE_SECONDS": "0.2"})
    # When an event is emitted in a transaction
    with transaction.atomic():
        webhook_event_emit(
            project_id=endpoint.project_id,
            event_type="template.status_changed",
            data={"to_status": "approved"},
        )
    # Then the worker's first attempt fails, and the retry (the sweep task, as the beat runs it) delivers
    delivery = wait_for(
        lambda: WebhookDelivery.objects.filter(last_response_code=500).first(),
        timeout=60,
        what="the first attempt",
    )
    from projects.webhooks.tasks import webhooks_sweep

    def delivered():
        webhooks_sweep.delay()
        return WebhookDelivery.objects.filter(pk=delivery.pk, status="delivered").first()

    assert wait_for(delivered, timeout=60, interval=1.0, what="the retry to be delivered")
    assert [r.status for r in webhook_receiver.requests] == [500, 200]
