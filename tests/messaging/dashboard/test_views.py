"""The dashboard: its daily chart of outgoing messages per status."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

import pytest

from tests import factories

pytestmark = pytest.mark.django_db


def test_dashboard_draws_the_last_14_days_per_status(marketer_client, project):
    now = timezone.now()
    factories.MessageFactory(project=project, status="read")
    factories.MessageFactory(project=project, status="failed")
    factories.MessageFactory(
        project=project, status="delivered", created_at=now - timedelta(days=3)
    )
    factories.MessageFactory(project=project, status="read", created_at=now - timedelta(days=20))
    page = marketer_client.get("/dashboard/").content.decode()
    assert "<svg" in page
    assert page.count('class="seg-read"') == 1  # the 20-day-old one is outside the chart
    assert page.count('class="seg-failed"') == 1
    assert page.count('class="seg-delivered"') == 1
    assert "3 outgoing" in page
