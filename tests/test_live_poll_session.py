"""A live part's poll is not activity: it neither extends the idle session nor swaps in the
login page once the session has ended."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

import pytest

pytestmark = pytest.mark.django_db

POLL = {"HTTP_HX_REQUEST": "true", "HTTP_X_LIVE_POLL": "1"}


def test_a_poll_does_not_push_the_idle_timeout_back(marketer_client):
    url = reverse("messaging:dashboard_today")
    marketer_client.get(url)
    key = marketer_client.session.session_key
    earlier = timezone.now() + timedelta(minutes=5)
    Session.objects.filter(session_key=key).update(expire_date=earlier)

    response = marketer_client.get(url, **POLL)

    assert response.status_code == 200
    assert Session.objects.get(session_key=key).expire_date == earlier
    # While a click (a request without the poll header) is activity, as before
    marketer_client.get(url)
    assert Session.objects.get(session_key=key).expire_date > earlier


def test_a_poll_after_the_session_ended_sends_the_browser_to_the_login_page(client):
    url = reverse("messaging:dashboard_today")

    response = client.get(url, **POLL)

    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/accounts/login/?next=")
    # A plain request still gets Django's redirect
    assert client.get(url).status_code == 302
