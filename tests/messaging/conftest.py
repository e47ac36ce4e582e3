"""Fixtures the messaging packages' tests share."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

import pytest

from projects.models import Integration
from tests import factories


@pytest.fixture
def chatbot_integration(project):
    return factories.IntegrationFactory(project=project, kind=Integration.Kind.CHATBOT)


@pytest.fixture
def customer(project):
    """A customer who wrote to us an hour ago: the 24-hour window is open."""
    return factories.ContactFactory(
        project=project,
        phone_number="6281234567890",
        last_inbound_at=timezone.now() - timedelta(hours=1),
    )
