"""The messages admin: read-only pages with the timeline, and the inquiry action."""

from __future__ import annotations

from django.utils import timezone

import pytest

from messaging.models import MessageStatusEvent
from tests import factories

pytestmark = pytest.mark.django_db


def test_message_admin_shows_the_timeline_and_cannot_edit(admin_client, project):
    message = factories.MessageFactory(project=project, wappin_message_id="5bc83037c79f5")
    MessageStatusEvent.objects.create(
        message=message,
        status="sent",
        source="send_answer",
        occurred_at=timezone.now(),
        detail="Accepted by Wappin",
    )
    listing = admin_client.get("/admin/messaging/message/").content.decode()
    assert "5bc83037c79f5" in listing
    page = admin_client.get(f"/admin/messaging/message/{message.pk}/change/").content.decode()
    assert "Accepted by Wappin" in page
    assert 'name="_save"' not in page
    assert admin_client.get("/admin/messaging/message/add/").status_code == 403


def test_refresh_action_reports_a_message_wappin_cannot_be_asked_about(admin_client, project):
    message = factories.MessageFactory(project=project, wappin_message_id="abc")
    response = admin_client.post(
        "/admin/messaging/message/",
        {"action": "refresh_status", "_selected_action": [message.pk]},
        follow=True,
    )
    # No integration: the service's own error is shown, nothing crashes.
    assert "integration" in response.content.decode()


def test_wappin_call_log_admin_lists_calls(admin_client, project):
    integration = factories.IntegrationFactory(project=project)
    from messaging.models import WappinCallLog

    WappinCallLog.objects.create(
        integration=integration, endpoint="/v1/message/do-send-hsm", wappin_status="601"
    )
    page = admin_client.get("/admin/messaging/wappincalllog/").content.decode()
    assert "/v1/message/do-send-hsm" in page
