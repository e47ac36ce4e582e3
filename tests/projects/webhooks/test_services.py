"""Webhooks: the outbox written with the event, signed delivery, retries, disabling, rotation."""

from __future__ import annotations

from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

import pytest
from prometheus_client import REGISTRY
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from messaging.models import Message, MessageStatusEvent
from messaging.sending.services import StatusStep, message_statuses_record
from projects.models import AuditEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from projects.webhooks import services
from tests import factories

pytestmark = pytest.mark.django_db


def _endpoint(project, receiver, **kwargs):
    return factories.WebhookEndpointFactory(project=project, url=receiver.url, **kwargs)


def _verify(endpoint_secret: str, request) -> dict:
    return Webhook(endpoint_secret).verify(request.body, request.headers)


def test_an_event_nobody_listens_to_writes_nothing_and_is_cached(
    project, django_assert_num_queries
):
    # Given a project without endpoints, whose subscriptions were looked up once
    services.webhook_event_emit(project_id=project.pk, event_type="message.sent", data={})
    # When more events come, no query is made
    with django_assert_num_queries(0):
        services.webhook_event_emit(project_id=project.pk, event_type="message.read", data={})
    assert not WebhookDelivery.objects.exists()


def test_creating_an_endpoint_drops_the_cached_subscriptions(
    project, django_capture_on_commit_callbacks
):
    services.webhook_event_emit(project_id=project.pk, event_type="message.sent", data={})
    services.webhook_endpoint_create(
        project=project, url="https://hooks.example.com/a", event_types=["message.sent"]
    )
    with django_capture_on_commit_callbacks(execute=False):
        ids = services.webhook_event_emit(
            project_id=project.pk, event_type="message.sent", data={"x": 1}
        )
    assert len(ids) == 1


def test_the_outbox_rolls_back_with_the_event(project):
    factories.WebhookEndpointFactory(project=project)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.webhook_event_emit(project_id=project.pk, event_type="message.sent", data={})
        raise RuntimeError("the event's transaction fails")
    assert not WebhookDelivery.objects.exists()


def test_a_batch_of_statuses_writes_its_deliveries_in_one_insert(
    project, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    # Given an endpoint for delivered and read only, and three sent messages
    endpoint = factories.WebhookEndpointFactory(
        project=project, event_types=["message.delivered", "message.read"]
    )
    messages = [
        factories.MessageFactory(
            project=project, status=Message.Status.SENT, wappin_message_id=f"w{n}"
        )
        for n in range(3)
    ]
    wappin_time = timezone.now() - timedelta(seconds=5)
    steps = [
        StatusStep(m.pk, status, MessageStatusEvent.Source.CALLBACK, wappin_time)
        for m in messages
        for status in (Message.Status.DELIVERED, Message.Status.READ)
    ]
    services.webhook_subscriptions_get(project_ids=[project.pk])  # as after the first event
    # When the batch is recorded (tasks not run): a savepoint and its release, the lock, the
    # steps seen, the steps' insert, the messages' update and ONE insert of the deliveries
    with django_capture_on_commit_callbacks(execute=False), django_assert_max_num_queries(7):
        message_statuses_record(steps)
    # Then one delivery per status, carrying the ids, the times and the sequence
    deliveries = list(WebhookDelivery.objects.filter(endpoint=endpoint).order_by("id"))
    assert [d.event_type for d in deliveries] == ["message.delivered", "message.read"] * 3
    data = deliveries[1].payload["data"]
    assert data["message"]["id"] == messages[0].pk
    assert data["message"]["wappin_message_id"] == "w0"
    assert data["wappin_timestamp"] == wappin_time.isoformat()
    assert data["sequence"] > deliveries[0].payload["data"]["sequence"]
    assert deliveries[1].payload["type"] == "message.read"


def test_a_delivery_is_signed_and_logged(
    project, webhook_receiver, django_capture_on_commit_callbacks
):
    endpoint = _endpoint(project, webhook_receiver)
    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_event_emit(
            project_id=project.pk, event_type="template.status_changed", data={"to_status": "x"}
        )
    (request,) = webhook_receiver.requests
    assert _verify(endpoint.secret, request)["data"] == {"to_status": "x"}
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_response_code) == (
        "delivered",
        1,
        200,
    )
    attempt = delivery.tries.get()
    assert attempt.response_code == 200 and attempt.response_excerpt == '{"ok": true}'
    assert attempt.request_headers["webhook-id"] == delivery.webhook_id
    assert "webhook-signature" not in attempt.request_headers


def test_a_failed_attempt_is_retried_with_backoff_by_the_sweep(
    project, webhook_receiver, django_capture_on_commit_callbacks, settings
):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 60
    attempts_before = {
        outcome: REGISTRY.get_sample_value(
            "wappin_portal_webhook_attempts_total", {"outcome": outcome}
        )
        or 0
        for outcome in ("retrying", "delivered")
    }
    endpoint = _endpoint(project, webhook_receiver)
    webhook_receiver.answer(500)
    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_event_emit(project_id=project.pk, event_type="message.sent", data={})
    delivery = WebhookDelivery.objects.get()
    # The first attempt failed: due again in 30 to 60 s
    assert delivery.status == "pending" and delivery.last_response_code == 500
    wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
    assert 25 < wait <= 60
    endpoint.refresh_from_db()
    assert endpoint.failing_since is not None
    # Not yet due: the sweep leaves it
    assert services.webhook_deliveries_sweep() == 0
    # Once due, the sweep sends it; the receiver takes it now
    with django_capture_on_commit_callbacks(execute=True):
        assert services.webhook_deliveries_sweep(now=delivery.next_attempt_at) == 1
    delivery.refresh_from_db()
    endpoint.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    assert endpoint.failing_since is None
    assert list(delivery.tries.values_list("response_code", flat=True)) == [500, 200]
    # The metrics count one attempt of each outcome
    for outcome in ("retrying", "delivered"):
        now = REGISTRY.get_sample_value(
            "wappin_portal_webhook_attempts_total", {"outcome": outcome}
        )
        assert now == attempts_before[outcome] + 1


def test_the_backoff_doubles_with_jitter_up_to_its_cap(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 10
    settings.WEBHOOK_RETRY_MAX_SECONDS = 100
    for attempts, full in ((1, 10), (2, 20), (3, 40), (4, 80), (5, 100), (30, 100)):
        delays = {services.webhook_retry_delay(attempts) for _ in range(50)}
        assert all(full / 2 <= delay <= full for delay in delays)
        assert len(delays) > 1  # jittered


def test_a_claimed_delivery_is_not_taken_twice(project):
    endpoint = factories.WebhookEndpointFactory(project=project)
    WebhookDelivery.objects.create(
        endpoint=endpoint,
        webhook_id="msg_x",
        event_type="message.sent",
        payload={},
        next_attempt_at=timezone.now(),
        retry_until=timezone.now() + timedelta(days=3),
    )
    first = services._claim(WebhookDelivery.objects.all(), now=timezone.now())
    second = services._claim(WebhookDelivery.objects.all(), now=timezone.now())
    assert len(first) == 1 and second == []
    assert first[0].attempts == 1


def test_a_delivery_past_its_retry_window_fails(
    project, webhook_receiver, django_capture_on_commit_callbacks
):
    endpoint = _endpoint(project, webhook_receiver)
    webhook_receiver.answer(503)
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        webhook_id="msg_old",
        event_type="message.sent",
        payload={"type": "message.sent"},
        next_attempt_at=timezone.now(),
        retry_until=timezone.now() - timedelta(seconds=1),
    )
    services.webhook_deliveries_send(delivery_ids=[delivery.pk])
    delivery.refresh_from_db()
    assert (delivery.status, delivery.next_attempt_at) == ("failed", None)
    assert "503" in delivery.last_error


def test_an_endpoint_failing_for_three_days_is_disabled_and_admins_are_told(
    project, webhook_receiver, admin_client, client
):
    # Given an endpoint whose deliveries have failed for 3 days, with two pending
    endpoint = _endpoint(project, webhook_receiver)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - timedelta(days=3)
    )
    pending = [
        WebhookDelivery.objects.create(
            endpoint=endpoint,
            webhook_id=f"msg_{n}",
            event_type="message.sent",
            payload={},
            next_attempt_at=timezone.now(),
            retry_until=timezone.now() + timedelta(days=1),
        )
        for n in range(2)
    ]
    webhook_receiver.answer(500)
    # When one more attempt fails
    services.webhook_deliveries_send(delivery_ids=[pending[0].pk])
    # Then the endpoint is disabled, the other delivery given up, the admins told on the page
    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_at is not None
    assert "500" in endpoint.disabled_reason
    assert not WebhookDelivery.objects.filter(status="pending").exists()
    assert AuditEvent.objects.filter(action="webhook_endpoint.disable").exists()
    page = admin_client.get("/templates/")
    assert "disabled after 3 days of failed deliveries" in page.content.decode()
    # And a marketer of the project is not shown the banner
    marketer = factories.UserFactory()
    factories.MembershipFactory(project=project, user=marketer, role="marketing")
    client.force_login(marketer)
    assert "disabled after 3 days" not in client.get("/templates/").content.decode()
    # And nothing more is sent to it
    assert (
        services.webhook_event_emit(project_id=project.pk, event_type="message.sent", data={}) == []
    )


def test_during_a_rotation_both_secrets_sign(
    project, webhook_receiver, django_capture_on_commit_callbacks, settings
):
    created = services.webhook_endpoint_create(
        project=project, url=webhook_receiver.url, event_types=["message.sent"]
    )
    old_secret = created.secret
    rotated = services.webhook_endpoint_secret_rotate(endpoint=created.endpoint)
    assert rotated.secret != old_secret and rotated.secret.startswith("whsec_")
    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_event_emit(project_id=project.pk, event_type="message.sent", data={})
    request = webhook_receiver.requests[-1]
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    # A receiver with either secret accepts it
    assert _verify(old_secret, request) and _verify(rotated.secret, request)
    # After the overlap only the new secret signs
    WebhookEndpoint.objects.filter(pk=created.endpoint.pk).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_event_emit(project_id=project.pk, event_type="message.sent", data={})
    request = webhook_receiver.requests[-1]
    assert _verify(rotated.secret, request)
    with pytest.raises(WebhookVerificationError):
        _verify(old_secret, request)


def test_the_secret_is_stored_encrypted(project):
    created = services.webhook_endpoint_create(
        project=project, url="https://hooks.example.com/a", event_types=["message.sent"]
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT secret FROM {WebhookEndpoint._meta.db_table} WHERE id = %s",
            [created.endpoint.pk],
        )
        stored = cursor.fetchone()[0]
    assert created.secret not in stored and stored.startswith("gAAAAA")
    assert WebhookEndpoint.objects.get().secret == created.secret


def test_a_test_event_reaches_the_endpoint(
    project, webhook_receiver, django_capture_on_commit_callbacks
):
    endpoint = _endpoint(project, webhook_receiver, event_types=["message.read"])
    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_endpoint_test_send(endpoint=endpoint)
    (request,) = webhook_receiver.requests
    assert _verify(endpoint.secret, request)["type"] == "webhook.test"


def test_resend_sends_the_same_webhook_id_again(
    project, webhook_receiver, django_capture_on_commit_callbacks
):
    _endpoint(project, webhook_receiver)
    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_event_emit(project_id=project.pk, event_type="message.sent", data={})
    delivery = WebhookDelivery.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_delivery_resend(delivery=delivery)
    first, second = webhook_receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.webhook_id
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 2


def test_prune_keeps_pending_and_recent_deliveries(project, settings):
    settings.WEBHOOK_DELIVERY_RETENTION_DAYS = 30
    endpoint = factories.WebhookEndpointFactory(project=project)
    old = timezone.now() - timedelta(days=31)

    def delivery(status, created_at):
        return WebhookDelivery.objects.create(
            endpoint=endpoint,
            webhook_id="msg",
            event_type="message.sent",
            payload={},
            status=status,
            retry_until=created_at,
            created_at=created_at,
        )

    delivery("delivered", old)
    delivery("failed", old)
    kept = [delivery("pending", old), delivery("delivered", timezone.now())]
    assert services.webhook_deliveries_prune() >= 2
    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) == {d.pk for d in kept}


@pytest.mark.parametrize(
    "url, code",
    [
        ("http://hooks.example.com/a", "webhook_url_not_https"),
        ("https://127.0.0.1/a", "webhook_url_private"),
        ("https://10.1.2.3/a", "webhook_url_private"),
        ("https://localhost/a", "webhook_url_private"),
        ("not a url", "webhook_url_invalid"),
    ],
)
def test_outside_development_only_public_https_urls_are_taken(settings, url, code):
    from wappin_portal.errors import ValidationFailed

    settings.WEBHOOK_ALLOW_INSECURE_URLS = False
    with pytest.raises(ValidationFailed) as refused:
        services.webhook_url_check(url)
    assert refused.value.code == code


def test_in_development_a_loopback_receiver_is_taken(settings):
    settings.WEBHOOK_ALLOW_INSECURE_URLS = True
    assert services.webhook_url_check("http://127.0.0.1:9000/h") == "http://127.0.0.1:9000/h"


def test_the_sender_refuses_a_private_address_outside_development(
    project, webhook_receiver, settings
):
    settings.WEBHOOK_ALLOW_INSECURE_URLS = False
    endpoint = _endpoint(project, webhook_receiver)
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        webhook_id="msg_p",
        event_type="message.sent",
        payload={},
        next_attempt_at=timezone.now(),
        retry_until=timezone.now() + timedelta(days=1),
    )
    services.webhook_deliveries_send(delivery_ids=[delivery.pk])
    assert webhook_receiver.requests == []
    assert "private or loopback" in delivery.tries.get().error


def test_unknown_events_are_refused():
    from wappin_portal.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as refused:
        services.webhook_event_types_check(["message.sent", "message.exploded"])
    assert refused.value.code == "webhook_event_unknown"
    assert "message.exploded" in refused.value.message


@pytest.fixture(autouse=True)
def _cache():
    cache.clear()


def test_a_task_out_of_time_leaves_the_rest_due_for_the_sweep(
    project, webhook_receiver, monkeypatch
):
    endpoint = _endpoint(project, webhook_receiver)
    ids = [
        WebhookDelivery.objects.create(
            endpoint=endpoint,
            webhook_id=f"msg_{n}",
            event_type="message.sent",
            payload={},
            next_attempt_at=timezone.now(),
            retry_until=timezone.now() + timedelta(days=1),
        ).pk
        for n in range(3)
    ]
    monkeypatch.setattr(services, "DELIVER_BUDGET_SECONDS", -1.0)  # spent before the first
    assert services.webhook_deliveries_send(delivery_ids=ids) == 0
    assert webhook_receiver.requests == []
    rows = WebhookDelivery.objects.filter(pk__in=ids)
    assert all(row.attempts == 0 and row.next_attempt_at <= timezone.now() for row in rows)
