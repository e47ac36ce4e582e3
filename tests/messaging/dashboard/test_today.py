"""The dashboard's live "today" card."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

import pytest

from tests import factories

pytestmark = pytest.mark.django_db


def test_the_today_card_counts_only_today_and_polls(marketer_client, project):
    factories.MessageFactory(project=project, status="read")
    factories.MessageFactory(project=project, status="cancelled")
    factories.MessageFactory(project=project, direction="in", status="received")
    factories.MessageFactory(
        project=project, status="failed", created_at=timezone.now() - timedelta(days=3)
    )
    dashboard = marketer_client.get(reverse("messaging:dashboard")).content.decode()
    assert 'id="dashboard-today"' in dashboard and "js/htmx.min.js" in dashboard

    response = marketer_client.get(reverse("messaging:dashboard_today"))

    page = response.content.decode()
    assert response.status_code == 200
    assert 'hx-get="/dashboard/today/" hx-trigger="every 15s"' in page
    today = response.context["today"]
    assert (today.outgoing, today.read, today.failed, today.cancelled, today.incoming) == (
        1,
        1,
        0,
        1,
        1,
    )


def test_the_today_card_needs_a_login(client):
    response = client.get(reverse("messaging:dashboard_today"))
    assert response.status_code == 302
