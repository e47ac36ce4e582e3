"""The blast page's live progress: a fragment htmx polls until every recipient has a final status."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

import pytest

from messaging.blasts import selectors
from messaging.models import Blast
from tests import factories

pytestmark = pytest.mark.django_db


def blast_with(project, statuses, *, status="running", ended_ago=None):
    blast = Blast.objects.create(
        project=project,
        name="June",
        template_name="t",
        language_code="id",
        status=status,
        audience_count=len(statuses),
        finished_at=timezone.now() - ended_ago if ended_ago is not None else None,
    )
    for message_status in statuses:
        factories.MessageFactory(
            project=project,
            blast=blast,
            contact=factories.ContactFactory(project=project),
            kind="hsm",
            status=message_status,
        )
    return blast


def test_a_running_blasts_progress_polls_with_its_counts_and_badge(marketer_client, project):
    blast = blast_with(project, ["queued", "sent", "delivered", "read", "failed", "cancelled"])
    response = marketer_client.get(reverse("messaging:blast_progress", args=[blast.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert f'hx-get="/blasts/{blast.pk}/progress/" hx-trigger="every 2s"' in page
    # Each status counted apart: cancelled is not failed
    for label, count in (
        ("Read", 1),
        ("Delivered", 1),
        ("Sent", 1),
        ("Queued", 1),
        ("Failed", 1),
        ("Cancelled", 1),
    ):
        assert f"{label} <strong>{count}</strong>" in page
    assert 'class="seg-cancelled"' in page and 'class="seg-failed"' in page
    # And the heading's status badge comes along out of band
    assert 'id="blast-status" class="badge badge-blast-running" hx-swap-oob="true"' in page


def test_the_progress_stops_polling_once_every_recipient_is_final(marketer_client, project):
    # Done, but a message is only delivered: still followed (read may come)
    blast = blast_with(project, ["read", "delivered"], status="done", ended_ago=timedelta(0))
    page = marketer_client.get(reverse("messaging:blast_progress", args=[blast.pk])).content
    assert b'hx-trigger="every 5s"' in page
    # Once it is read too: final, the fragment carries no trigger (htmx stops)
    blast.messages.filter(status="delivered").update(status="read")
    page = marketer_client.get(reverse("messaging:blast_progress", args=[blast.pk])).content
    assert b"hx-trigger" not in page and b"Every recipient has a final status." in page
    assert b"badge-blast-done" in page


def test_an_ended_blast_is_followed_for_an_hour_at_most(project):
    blast = blast_with(project, ["delivered"], status="done", ended_ago=timedelta(minutes=61))
    progress = selectors.blast_progress(blast=blast)
    assert not progress.settled
    assert selectors.blast_poll_seconds(blast=blast, progress=progress) is None
    draft = blast_with(project, [], status="draft")
    assert selectors.blast_poll_seconds(blast=draft, progress=progress) is None
    cancelled = blast_with(project, ["cancelled", "failed"], status="cancelled")
    assert (
        selectors.blast_poll_seconds(
            blast=cancelled, progress=selectors.blast_progress(blast=cancelled)
        )
        is None
    )


def test_the_blast_page_has_no_meta_refresh_and_loads_htmx(marketer_client, project):
    blast = blast_with(project, ["queued"])
    page = marketer_client.get(reverse("messaging:blast_detail", args=[blast.pk])).content.decode()
    assert 'http-equiv="refresh"' not in page
    assert "js/htmx.min.js" in page and '"allowEval":false' in page


def test_one_progress_poll_costs_a_few_queries(
    marketer_client, project, django_assert_max_num_queries
):
    blast = blast_with(project, ["queued", "sent", "read", "failed"] * 25)
    url = reverse("messaging:blast_progress", args=[blast.pk])
    marketer_client.get(url)
    # The page's access rule (session, user, project, role), the blast, its counts on
    # messages and on refusals, the failure reasons (two), the header's current project
    # (a context processor), the session's save (an UPDATE in a savepoint): whatever the size
    with django_assert_max_num_queries(13):
        assert marketer_client.get(url).status_code == 200


def test_another_projects_blast_progress_is_not_found(marketer_client):
    blast = blast_with(factories.ProjectFactory(), ["queued"])
    assert (
        marketer_client.get(reverse("messaging:blast_progress", args=[blast.pk])).status_code == 404
    )


def test_the_blast_list_follows_a_sending_blast_without_a_meta_refresh(marketer_client, project):
    blast = blast_with(project, ["queued", "read"])
    page = marketer_client.get(reverse("messaging:blast_list")).content.decode()
    assert 'http-equiv="refresh"' not in page
    assert 'hx-get="/blasts/rows/" hx-trigger="every 5s"' in page
    # Once none sends, the rows come without their trigger: the list stops asking
    Blast.objects.filter(pk=blast.pk).update(status="done")
    rows = marketer_client.get(reverse("messaging:blast_list_rows")).content.decode()
    assert "hx-trigger" not in rows and "badge-blast-done" in rows
