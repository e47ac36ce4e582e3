"""Processing stored callbacks: statuses before their message, the sweep, the admin's "process again"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.urls import reverse
from django.utils import timezone

import pytest

from callbacks.models import CallbackEvent
from callbacks.parsing import timestamp_parse
from callbacks.services import callbacks_sweep
from messaging.models import Message
from tests import factories
from tests.callbacks.conftest import DOCUMENT_STATUS_SAMPLE, status_body

pytestmark = pytest.mark.django_db


def _waited(minutes: int = 5) -> None:
    """Every stored callback as if it came some minutes ago (the sweep leaves fresh rows to their task)."""
    CallbackEvent.objects.update(received_at=timezone.now() - timedelta(minutes=minutes))


def test_a_status_before_its_message_is_kept_then_applied_in_order_by_the_sweep(
    integration, post_callback
):
    # Given Wappin's callbacks arrive before our send task stored the message id, "read" first
    post_callback(integration, status_body("fff666", "read", timestamp="1557915520"))
    post_callback(integration, status_body("fff666", "delivered", timestamp="1557915510"))
    assert set(CallbackEvent.objects.values_list("state", flat=True)) == {"pending"}
    assert "Waiting for message fff666" in CallbackEvent.objects.first().result

    # When the send answer is stored, and the sweep runs
    message = factories.MessageFactory(
        project=integration.project,
        kind=Message.Kind.HSM,
        status=Message.Status.SENT,
        wappin_message_id="fff666",
    )
    _waited()
    outcome = callbacks_sweep()

    # Then both are applied, in the order they happened
    assert outcome == {"retried": 2, "given_up": 0}
    message.refresh_from_db()
    assert message.status == "read"
    assert message.delivered_at.timestamp() == 1557915510
    assert list(
        message.status_events.filter(source="callback").values_list("status", "applied")
    ) == [
        ("delivered", True),
        ("read", True),
    ]
    assert set(CallbackEvent.objects.values_list("state", flat=True)) == {"processed"}


def test_a_waiting_status_is_not_applied_to_another_projects_message(integration, post_callback):
    post_callback(integration, status_body("ggg777", "delivered"))
    other = factories.MessageFactory(
        project=factories.ProjectFactory(),
        kind=Message.Kind.HSM,
        status=Message.Status.SENT,
        wappin_message_id="ggg777",
    )
    _waited()

    callbacks_sweep()

    assert CallbackEvent.objects.get().state == "pending"
    other.refresh_from_db()
    assert other.status == "sent"


def test_the_sweep_applies_what_is_waiting_and_gives_up_on_the_old(integration, post_callback):
    # Given one status waiting a few minutes, and one waiting for days
    post_callback(integration, status_body("hhh888", "delivered"))
    post_callback(integration, status_body("never1", "delivered"))
    CallbackEvent.objects.filter(wappin_message_id="hhh888").update(
        received_at=timezone.now() - timedelta(minutes=5)
    )
    CallbackEvent.objects.filter(wappin_message_id="never1").update(
        received_at=timezone.now() - timedelta(days=3)
    )
    message = factories.MessageFactory(
        project=integration.project,
        kind=Message.Kind.HSM,
        status=Message.Status.SENT,
        wappin_message_id="hhh888",
    )

    # When the periodic sweep runs
    outcome = callbacks_sweep()

    # Then the first is applied and the second given up on, with a reason
    assert outcome == {"retried": 1, "given_up": 1}
    message.refresh_from_db()
    assert message.status == "delivered"
    stale = CallbackEvent.objects.get(wappin_message_id="never1")
    assert stale.state == "skipped"
    assert "Gave up" in stale.result


def test_admin_lists_callbacks_and_shows_the_raw_body(admin_client, integration, post_callback):
    post_callback(integration, DOCUMENT_STATUS_SAMPLE)
    event = CallbackEvent.objects.get()

    listing = admin_client.get(
        reverse("admin:callbacks_callbackevent_changelist")
        + "?verdict__exact=accepted&q=5cdbe7774a059"
    )
    detail = admin_client.get(reverse("admin:callbacks_callbackevent_change", args=[event.pk]))

    assert listing.status_code == 200
    assert "5cdbe7774a059" in listing.content.decode()
    page = detail.content.decode()
    assert "&quot;project id&quot;: &quot;16&quot;" in page
    assert "value not stored" in page or "Bearer" in page


def test_admin_process_again_applies_a_waiting_status(admin_client, integration, post_callback):
    # Given a status that waited for its message, which now exists
    post_callback(integration, status_body("iii999", "delivered"))
    event = CallbackEvent.objects.get()
    message = factories.MessageFactory(
        project=integration.project,
        kind=Message.Kind.HSM,
        status=Message.Status.SENT,
        wappin_message_id="iii999",
    )

    # When an admin runs "process again" on it
    response = admin_client.post(
        reverse("admin:callbacks_callbackevent_changelist"),
        {"action": "process_again", "_selected_action": [event.pk]},
        follow=True,
    )

    # Then it is applied, and the admin says so
    assert response.status_code == 200
    message.refresh_from_db()
    assert message.status == "delivered"
    event.refresh_from_db()
    assert (event.state, event.attempts) == ("processed", 2)
    assert "Processed 1 callback(s) again." in response.content.decode()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1557915512", datetime(2019, 5, 15, 10, 18, 32, tzinfo=UTC)),
        (1557915512, datetime(2019, 5, 15, 10, 18, 32, tzinfo=UTC)),
        (1557915512.0, datetime(2019, 5, 15, 10, 18, 32, tzinfo=UTC)),
        ("1557915512000", datetime(2019, 5, 15, 10, 18, 32, tzinfo=UTC)),
        ("2019-05-15 17:18:32", datetime(2019, 5, 15, 10, 18, 32, tzinfo=UTC)),
        ("", None),
        ("-", None),
        ("yesterday", None),
        (None, None),
        # Junk falls back to the time of receipt instead of breaking the callback.
        ("0001-01-01 00:00:00", None),
        ("9999-12-31 23:59:59", None),
        (253402300799, None),
        (-1, None),
        (-1e20, None),
        (1e300, None),
        ("nan", None),
        ("inf", None),
        ("12ab", None),
        ([1557915512], None),
    ],
)
def test_timestamps_are_read_in_every_form(raw, expected):
    assert timestamp_parse(raw) == expected


def test_the_sweep_is_scheduled_and_the_tasks_are_registered(settings):
    from wappin_portal.celery import app

    app.loader.import_default_modules()
    assert (
        settings.CELERY_BEAT_SCHEDULE["callbacks-sweep"]["task"]
        == "callbacks.tasks.callbacks_sweep"
    )
    assert {"callbacks.tasks.callbacks_sweep", "callbacks.tasks.callback_process"} <= set(app.tasks)


def test_a_flood_of_refused_callbacks_stores_only_the_first_ones(
    integration, post_callback, settings
):
    # Issue 10, finding 9: 100 POSTs without a token stored 100 rows
    from django.core.cache import cache

    cache.clear()
    settings.CALLBACK_REFUSED_STORED_PER_MINUTE = 5
    answers = {
        post_callback(integration, DOCUMENT_STATUS_SAMPLE, token=None).status_code
        for _ in range(30)
    }
    assert answers == {401}
    assert CallbackEvent.objects.filter(verdict="rejected_auth").count() == 5


def test_the_nightly_prune_forgets_old_callbacks_and_calls_but_not_what_waits(
    integration, post_callback
):
    from callbacks.services import callbacks_prune
    from messaging.models import WappinCallLog
    from messaging.sending.services import wappin_call_logs_prune

    # Given callbacks refused and applied, old and recent, and one still waiting for its message
    post_callback(integration, DOCUMENT_STATUS_SAMPLE, token=None)  # refused
    factories.MessageFactory(
        project=integration.project, kind="hsm", status="sent", wappin_message_id="old1"
    )
    post_callback(integration, status_body("old1", "delivered"))  # applied
    post_callback(integration, status_body("waits1", "delivered"))  # pending
    now = timezone.now()
    CallbackEvent.objects.update(received_at=now - timedelta(days=100))
    post_callback(integration, DOCUMENT_STATUS_SAMPLE, token=None)  # a recent refusal
    WappinCallLog.objects.create(
        integration=integration,
        endpoint="/v1/message/do-send-hsm",
        created_at=now - timedelta(days=100),
    )
    WappinCallLog.objects.create(integration=integration, endpoint="/v1/message/do-send-hsm")

    # When the nightly prunes run
    assert callbacks_prune() == {"refused": 1, "settled": 1}
    assert wappin_call_logs_prune() == 1

    # Then what is left: the recent refusal, the waiting status, the recent call
    assert sorted(CallbackEvent.objects.values_list("verdict", "state")) == [
        ("accepted", "pending"),
        ("rejected_auth", "skipped"),
    ]
    assert WappinCallLog.objects.count() == 1
