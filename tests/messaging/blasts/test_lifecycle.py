"""A blast's life: scheduled, started, paused, resumed, cancelled; who it reaches; its figures and its API.

The sending engine runs in the test's own thread (`messages_dispatch`), so what it
sends is counted at the sandbox, over real HTTP.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

import pytest

from messaging.blasts import selectors, services
from messaging.models import Blast, BlastRefusal, Contact, ContactGroup, Message
from messaging.sending import engine
from projects.models import AuditEvent
from templates_app.models import Template
from tests import factories
from tests.wappin_sandbox import INVALID_NUMBER
from wappin_portal.errors import Conflict

pytestmark = pytest.mark.django_db


@pytest.fixture
def promo(project):
    template = factories.TemplateFactory(
        project=project, name="weekend_promo", message_type=Template.MessageType.MARKETING
    )
    factories.TemplateLanguageFactory(template=template, body="Hi {{1}}, {{2}} off this weekend!")
    return template


@pytest.fixture
def vip(project):
    return ContactGroup.objects.create(project=project, name="VIP")


@pytest.fixture
def integration(wappin_sandbox, project, promo):
    integration = factories.IntegrationFactory(project=project)
    wappin_sandbox.register(integration)
    return integration


def _member(project, group, **fields) -> Contact:
    contact = factories.ContactFactory(project=project, **fields)
    contact.groups.add(group)
    return contact


def _blast(project, group, **extra) -> Blast:
    return services.blast_create(
        project=project,
        name="Weekend promo",
        template_name="weekend_promo",
        group=group,
        params={"1": {"source": "name"}, "2": {"source": "fixed", "value": "20%"}},
        **extra,
    )


def _at_sandbox(wappin_sandbox, project) -> int:
    return len(wappin_sandbox.sent(project_id=project.wappin_project_id))


def test_cancel_counts_cancelled_never_failed(
    marketer_client, project, vip, integration, wappin_sandbox
):
    # Given a running blast of four whose messages are queued, none handed to Wappin yet
    for n in range(4):
        _member(project, vip, name=f"Member {n}")
    blast = _blast(project, vip)
    services.blast_start(
        blast_id=blast.pk
    )  # the on-commit expansion never runs: the test holds the transaction
    services.blast_expand_batch(blast_id=blast.pk)
    # When it is cancelled
    services.blast_cancel(blast_id=blast.pk)
    # Then its messages are cancelled, none failed: in its figures, the dashboard and the history
    counts = selectors.blast_progress(blast=blast).counts()
    assert counts == {
        "total": 4,
        "queued": 0,
        "sent": 0,
        "delivered": 0,
        "read": 0,
        "failed": 0,
        "refused": 0,
        "cancelled": 4,
    }
    engine.messages_dispatch(integration_id=integration.pk)
    assert _at_sandbox(wappin_sandbox, project) == 0
    dashboard = marketer_client.get("/dashboard/").content.decode()
    assert "Recent blasts" in dashboard
    assert (
        marketer_client.get("/history/", {"status": "failed"})
        .content.decode()
        .count("badge-failed")
        == 0
    )
    assert (
        marketer_client.get("/history/", {"status": "cancelled"})
        .content.decode()
        .count("badge-cancelled")
        == 4
    )
    page = marketer_client.get(f"/blasts/{blast.pk}/").content.decode()
    assert "Cancelled <strong>4</strong>" in page and "Failed <strong>0</strong>" in page
    assert "4 messages were cancelled with the blast before they were sent." in page


def test_pause_stops_sending_at_once_and_resume_finishes(project, vip, integration, wappin_sandbox):
    for n in range(5):
        _member(project, vip, name=f"Member {n}")
    blast = _blast(project, vip)
    services.blast_start(blast_id=blast.pk)
    # Given the first two contacts' messages sent by the engine
    services.blast_expand_batch(blast_id=blast.pk, batch_size=2)
    engine.messages_dispatch(integration_id=integration.pk)
    assert _at_sandbox(wappin_sandbox, project) == 2
    # When two more are queued and the blast is paused
    services.blast_expand_batch(blast_id=blast.pk, batch_size=2)
    services.blast_pause(blast_id=blast.pk)
    # Then the engine's next wave sends none of them (and the expansion stops too)
    engine.messages_dispatch(integration_id=integration.pk)
    assert _at_sandbox(wappin_sandbox, project) == 2
    assert services.blast_expand_batch(blast_id=blast.pk, batch_size=2) is False
    assert selectors.blast_progress(blast=blast).counts()["queued"] == 2
    # When it is resumed, everybody gets their message, once, and the blast is done
    services.blast_resume(blast_id=blast.pk)
    services.blast_expand_batch(blast_id=blast.pk, batch_size=2)
    engine.messages_dispatch(integration_id=integration.pk)
    assert _at_sandbox(wappin_sandbox, project) == 5
    blast.refresh_from_db()
    assert blast.status == "done" and blast.finished_at
    assert selectors.blast_progress(blast=blast).counts()["sent"] == 5
    assert list(
        AuditEvent.objects.filter(action__startswith="blast.")
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["blast.create", "blast.start", "blast.pause", "blast.resume"]


def test_a_running_blast_is_done_only_when_no_message_is_left_to_send(
    project, vip, integration, wappin_sandbox
):
    _member(project, vip, name="Budi")
    blast = _blast(project, vip)
    services.blast_start(blast_id=blast.pk)
    services.blast_expand_batch(blast_id=blast.pk)
    blast.refresh_from_db()
    assert (
        blast.expanded_at and blast.status == "running"
    )  # everybody had their turn, nothing sent yet
    assert services.blasts_tick()["finished"] == 0
    engine.messages_dispatch(integration_id=integration.pk)
    blast.refresh_from_db()
    assert blast.status == "done"


def test_a_scheduled_blast_starts_on_time(project, vip, integration):
    _member(project, vip, name="Budi")
    at = timezone.now() + timedelta(hours=2)
    blast = _blast(project, vip, scheduled_at=at)
    # Given a blast started for two hours from now
    services.blast_start(blast_id=blast.pk)
    blast.refresh_from_db()
    assert blast.status == "scheduled" and not Message.objects.exists()
    # When the tick runs a second before its time, nothing happens; at its time, it starts
    assert services.blasts_tick(now=at - timedelta(seconds=1))["started"] == 0
    assert Blast.objects.get(pk=blast.pk).status == "scheduled"
    assert services.blasts_tick(now=at)["started"] == 1
    blast.refresh_from_db()
    assert (blast.status, blast.started_at, blast.audience_count) == ("running", at, 1)


def test_a_scheduled_blast_that_no_longer_passes_its_checks_goes_back_to_draft_with_why(
    project, vip, integration
):
    _member(project, vip, name="Budi")
    at = timezone.now() + timedelta(hours=1)
    blast = _blast(project, vip, scheduled_at=at)
    services.blast_start(blast_id=blast.pk)
    Template.objects.update(status=Template.Status.INACTIVE)
    services.blasts_tick(now=at)
    blast.refresh_from_db()
    assert blast.status == "draft" and "not approved" in blast.status_reason


def test_known_601_contacts_are_skipped_and_counted(project, vip, integration, wappin_sandbox):
    # Given a first blast in which Wappin answered 601 for one number
    _member(project, vip, name="Budi")
    dead = _member(project, vip, name="Gone", phone_number=INVALID_NUMBER)
    first = _blast(project, vip)
    services.blast_start(blast_id=first.pk)
    services.blast_expand_batch(blast_id=first.pk)
    engine.messages_dispatch(integration_id=integration.pk)
    assert Message.objects.get(blast=first, contact=dead).failure_code == "601"
    dead.refresh_from_db()
    assert dead.not_on_whatsapp_at is not None
    calls = _at_sandbox(wappin_sandbox, project)
    # When a second blast goes to the same group
    second = _blast(project, vip)
    assert selectors.blast_reach(blast=second).reachable == 1
    services.blast_start(blast_id=second.pk)
    services.blast_expand_batch(blast_id=second.pk)
    engine.messages_dispatch(integration_id=integration.pk)
    # Then the dead number is not paid for twice: skipped, counted as refused with the reason
    [refusal] = BlastRefusal.objects.filter(blast=second)
    assert (refusal.contact, refusal.code) == (dead, "not_on_whatsapp")
    assert _at_sandbox(wappin_sandbox, project) == calls + 1
    counts = selectors.blast_progress(blast=second).counts()
    assert (counts["sent"], counts["refused"], counts["failed"]) == (1, 1, 0)


def test_a_blast_that_would_reach_nobody_cannot_start(marketer_client, project, vip, integration):
    _member(project, vip, name="Sari", opted_out_at=timezone.now())
    _member(project, vip, name="", attributes={})
    blast = _blast(project, vip)
    with pytest.raises(Conflict) as refused:
        services.blast_start(blast_id=blast.pk)
    assert refused.value.code == "blast_audience_unreachable"
    assert refused.value.message == (
        "None of the 2 contacts would get this blast (1 opted out of marketing, 1 lacking a value the template needs)."
    )
    page = marketer_client.get(f"/blasts/{blast.pk}/").content.decode()
    assert "Start blast" not in page and "0 of 2 contacts will get it" in page


def test_the_start_confirmation_counts_only_the_contacts_it_will_reach(
    marketer_client, project, vip, integration
):
    _member(project, vip, name="Budi")
    _member(project, vip, name="Joko")
    _member(project, vip, name="Sari", opted_out_at=timezone.now())
    blast = _blast(project, vip)
    page = marketer_client.get(f"/blasts/{blast.pk}/").content.decode()
    assert "Start blast (2 contacts)" in page and "Send weekend_promo to 2 contacts?" in page
    assert "2 of 3 contacts will get it (1 opted out of marketing)." in page


def test_a_draft_is_edited_in_the_form(marketer_client, project, vip, promo):
    _member(project, vip, name="Budi")
    blast = _blast(project, vip)
    page = marketer_client.get(f"/blasts/{blast.pk}/edit/").content.decode()
    assert 'value="Weekend promo"' in page and 'value="20%"' in page
    response = marketer_client.post(
        f"/blasts/{blast.pk}/edit/",
        {
            "name": "Weekend promo (2)",
            "group": vip.pk,
            "param_1_source": "name",
            "param_1": "",
            "param_2_source": "fixed",
            "param_2": "30%",
            "scheduled_at": "",
        },
    )
    assert response.status_code == 302
    blast.refresh_from_db()
    assert (blast.name, blast.params["2"]["value"]) == ("Weekend promo (2)", "30%")
    services.blast_cancel(blast_id=blast.pk)
    assert marketer_client.get(f"/blasts/{blast.pk}/edit/").status_code == 302


def test_the_recipients_csv_lists_each_contact_with_its_status(
    marketer_client, project, vip, integration
):
    _member(project, vip, name="Budi", phone_number="6281200000001")
    _member(project, vip, name="", phone_number="6281200000002")
    blast = _blast(project, vip)
    services.blast_start(blast_id=blast.pk)
    services.blast_expand_batch(blast_id=blast.pk)
    services.blast_cancel(blast_id=blast.pk)
    response = marketer_client.get(f"/blasts/{blast.pk}/recipients.csv")
    body = b"".join(response.streaming_content).decode()
    lines = body.strip().splitlines()
    assert lines[0].startswith("phone_number,name,status,reason")
    assert any(line.startswith("6281200000001,Budi,cancelled,") for line in lines)
    assert any(
        line.startswith('6281200000002,,refused,"contact_value_missing') for line in lines
    ), lines


# --- the REST API --------------------------------------------------------------------------


def test_the_api_journey_create_start_pause_resume_final_counts(
    api_client, project, vip, integration, wappin_sandbox, django_capture_on_commit_callbacks
):
    for n in range(3):
        _member(project, vip, name=f"Member {n}", attributes={"invoice": f"INV-{n}"})
    _member(project, vip, name="Nobill", attributes={})
    # Create a draft
    response = api_client.post(
        "/api/v1/blasts/",
        {
            "name": "Invoices",
            "template": "weekend_promo",
            "language_code": "id",
            "group": "VIP",
            "params": {"1": {"contact_field": "name"}, "2": {"contact_field": "invoice"}},
            "scheduled_at": None,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    blast_id = body["id"]
    assert (body["status"], body["template"], body["group"], body["params"]["2"]) == (
        "draft",
        "weekend_promo",
        vip.pk,
        {"contact_field": "invoice"},
    )
    assert body["reach"]["reachable"] == 3 and body["counts"]["total"] == 4
    # Edit it
    response = api_client.patch(
        f"/api/v1/blasts/{blast_id}/", {"name": "Invoices June"}, format="json"
    )
    assert response.status_code == 200 and response.json()["name"] == "Invoices June"
    # Start it (its expansion held back: this test runs it by hand)
    with django_capture_on_commit_callbacks(execute=False):
        response = api_client.post(f"/api/v1/blasts/{blast_id}/start/")
    assert response.status_code == 200 and response.json()["status"] == "running"
    services.blast_expand_batch(blast_id=blast_id)
    # Pause: nothing goes
    assert api_client.post(f"/api/v1/blasts/{blast_id}/pause/").json()["status"] == "paused"
    engine.messages_dispatch(integration_id=integration.pk)
    assert _at_sandbox(wappin_sandbox, project) == 0
    assert api_client.post(f"/api/v1/blasts/{blast_id}/pause/").status_code == 409
    # Resume: everything goes
    with django_capture_on_commit_callbacks(execute=True):
        assert api_client.post(f"/api/v1/blasts/{blast_id}/resume/").json()["status"] in (
            "running",
            "done",
        )
    assert _at_sandbox(wappin_sandbox, project) == 3
    body = api_client.get(f"/api/v1/blasts/{blast_id}/").json()
    assert body["status"] == "done"
    assert body["counts"] == {
        "total": 4,
        "queued": 0,
        "sent": 3,
        "delivered": 0,
        "read": 0,
        "failed": 0,
        "refused": 1,
        "cancelled": 0,
    }
    assert body["reasons"]["refused"][0]["code"] == "contact_value_missing"
    # The recipients, filtered and paged
    page = api_client.get(f"/api/v1/blasts/{blast_id}/recipients/", {"page_size": 2}).json()
    assert page["count"] == 4 and len(page["results"]) == 2 and page["next"]
    refused = api_client.get(f"/api/v1/blasts/{blast_id}/recipients/", {"status": "refused"}).json()
    assert [row["name"] for row in refused["results"]] == ["Nobill"]
    listing = api_client.get("/api/v1/blasts/").json()
    assert listing["results"][0]["id"] == blast_id and listing["results"][0]["counts"]["sent"] == 3
    assert api_client.delete(f"/api/v1/blasts/{blast_id}/").status_code == 409


def test_the_api_names_the_bad_field_and_deletes_a_draft(api_client, project, vip, promo):
    response = api_client.post(
        "/api/v1/blasts/",
        {
            "name": "Bad",
            "template": str(promo.pk),
            "group": vip.pk,
            "params": {"1": {"contact_field": "name"}},
        },
        format="json",
    )
    assert response.status_code == 400
    assert "params.2" in response.json()["error"]["fields"]
    response = api_client.post(
        "/api/v1/blasts/",
        {
            "name": "Good",
            "template": str(promo.pk),
            "group": vip.pk,
            "params": {"1": {"contact_field": "name"}, "2": {"text": "20%"}},
        },
        format="json",
    )
    assert response.status_code == 201
    blast_id = response.json()["id"]
    assert api_client.post(f"/api/v1/blasts/{blast_id}/start/").status_code == 409  # nobody in VIP
    assert api_client.delete(f"/api/v1/blasts/{blast_id}/").status_code == 204
    assert not Blast.objects.exists()
    assert AuditEvent.objects.filter(action="blast.delete").exists()
