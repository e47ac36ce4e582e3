"""The dashboard: its daily chart of outgoing messages per status."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

import pytest

from messaging.contacts.services import opt_out_record
from messaging.dashboard.selectors import Period, template_stats
from tests import factories

pytestmark = pytest.mark.django_db


def test_dashboard_draws_the_periods_days_per_status(marketer_client, project):
    now = timezone.now()
    factories.MessageFactory(project=project, status="read")
    factories.MessageFactory(project=project, status="failed")
    factories.MessageFactory(
        project=project, status="delivered", created_at=now - timedelta(days=3)
    )
    factories.MessageFactory(project=project, status="read", created_at=now - timedelta(days=40))
    page = marketer_client.get("/dashboard/").content.decode()
    assert "<svg" in page
    assert page.count('class="seg-read"') == 1  # the 40-day-old one is outside the 30 days
    assert page.count('class="seg-failed"') == 1
    assert page.count('class="seg-delivered"') == 1
    assert "3 outgoing" in page


def test_a_custom_range_shows_that_periods_figures_per_template(marketer_client, project):
    # Given a template sent 40 days ago (delivered) and today (read), and a cancelled message
    template = factories.TemplateFactory(project=project, name="promo_december")
    old = timezone.now() - timedelta(days=40)
    factories.MessageFactory(
        project=project, template=template, kind="hsm", status="delivered", created_at=old
    )
    factories.MessageFactory(project=project, template=template, kind="hsm", status="read")
    factories.MessageFactory(project=project, status="cancelled")
    first = timezone.localdate(old).isoformat()

    # When the marketer picks the day 40 days ago only
    page = marketer_client.get(
        "/dashboard/", {"range": "custom", "first": first, "last": first}
    ).content.decode()

    # Then the figures are that day's: one sent, delivered, under its template's name
    assert "promo_december" in page
    assert '<span class="label">Sent</span><span class="value">1</span>' in page
    assert '<span class="label">Cancelled</span><span class="value">0</span>' in page

    # And the last 30 days count the cancelled message apart, out of the rates
    page = marketer_client.get("/dashboard/", {"range": "30"}).content.decode()
    assert '<span class="label">Sent</span><span class="value">1</span>' in page
    assert '<span class="label">Cancelled</span><span class="value">1</span>' in page
    assert '<span class="label">Failed</span><span class="value">0</span>' in page


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"range": "custom", "first": "2026-05-02"},
            "A custom range needs a first and a last day.",
        ),
        (
            {"range": "custom", "first": "2026-05-02", "last": "2026-05-01"},
            "The first day comes after the last one.",
        ),
        (
            {"range": "custom", "first": "2024-01-01", "last": "2026-01-01"},
            "A range covers at most 366 days.",
        ),
    ],
)
def test_a_bad_range_is_explained_and_the_last_30_days_shown(marketer_client, params, message):
    page = marketer_client.get("/dashboard/", params).content.decode()
    assert message in page
    thirty_days = timezone.localdate() - timedelta(days=29)
    assert f'<small class="muted">{thirty_days:%-d %b %Y} –' in page


def test_a_new_project_is_told_what_to_do_first(marketer_client, project):
    page = marketer_client.get("/dashboard/").content.decode()
    assert "Nothing sent yet" in page
    assert "Create a message template" in page


def test_a_stop_after_a_template_counts_as_an_opt_out_after_it(marketer_client, project):
    # Given two templates sent to a customer, the newer one yesterday, and a template 9 days ago
    # to another customer
    older = factories.TemplateFactory(project=project, name="welcome_series")
    newer = factories.TemplateFactory(project=project, name="flash_sale")
    now = timezone.now()
    for template, when, number in (
        (older, now - timedelta(days=3), "6281234567001"),
        (newer, now - timedelta(days=1), "6281234567001"),
        (older, now - timedelta(days=9), "6281234567002"),
    ):
        factories.MessageFactory(
            project=project, template=template, kind="hsm", phone_number=number, created_at=when
        )

    # When both customers send STOP
    opt_out_record(project=project, phone_number="6281234567001")
    opt_out_record(project=project, phone_number="6281234567002")

    # Then only the newest template within 7 days gets the opt-out
    rows = {
        row.name: row.opt_outs
        for row in template_stats(project=project, period=Period.last_days(30))
    }
    assert rows == {"flash_sale": 1, "welcome_series": 0}
    page = marketer_client.get("/dashboard/").content.decode()
    assert "Opt-outs after it" in page
