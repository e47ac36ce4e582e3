"""Blasts: a template to a contact group, one message per contact, through the sandbox over real HTTP."""

from __future__ import annotations

import re

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

import pytest

from messaging.blasts import selectors, services
from messaging.models import Blast, BlastRefusal, ContactGroup, Message, MessageStatusEvent
from messaging.sending.services import message_status_record
from templates_app.models import Template
from tests import factories
from tests.wappin_sandbox import INVALID_NUMBER
from wappin_portal.errors import Conflict, ValidationFailed

pytestmark = pytest.mark.django_db


@pytest.fixture
def promo(project):
    """An approved marketing template: {{1}} the customer's name, {{2}} the discount."""
    template = factories.TemplateFactory(
        project=project, name="weekend_promo", message_type=Template.MessageType.MARKETING
    )
    factories.TemplateLanguageFactory(template=template, body="Hi {{1}}, {{2}} off this weekend!")
    return template


@pytest.fixture
def vip(project):
    return ContactGroup.objects.create(project=project, name="VIP")


def _member(project, group, **fields):
    contact = factories.ContactFactory(project=project, **fields)
    contact.groups.add(group)
    return contact


@pytest.fixture
def registered(wappin_sandbox, project, promo):
    """A notification integration the sandbox knows, with the project's approved templates."""
    integration = factories.IntegrationFactory(project=project)
    wappin_sandbox.register(integration)
    return integration


NAME_AND_DISCOUNT = {"1": {"source": "name"}, "2": {"source": "fixed", "value": "20%"}}


def _blast(project, group, *, params=None, template_name="weekend_promo", **extra) -> Blast:
    return services.blast_create(
        project=project,
        name="Weekend promo",
        template_name=template_name,
        group=group,
        params=NAME_AND_DISCOUNT if params is None else params,
        **extra,
    )


def _form(**overrides) -> dict:
    return {
        "template": "weekend_promo",
        "language": "id",
        "name": "Weekend promo",
        "param_1_source": "name",
        "param_1": "",
        "param_2_source": "fixed",
        "param_2": "20%",
        **overrides,
    }


# --- End to end ---------------------------------------------------------------------------


def test_a_blast_to_a_group_sends_each_member_their_own_message(
    marketer_client,
    marketer,
    project,
    vip,
    registered,
    wappin_sandbox,
    django_capture_on_commit_callbacks,
):
    # Given a group of three and a contact outside it
    members = [_member(project, vip, name=name) for name in ("Budi", "Sari", "Joko")]
    outsider = factories.ContactFactory(project=project, name="Outsider")
    # When a marketer creates the blast in the web UI and starts it
    response = marketer_client.post("/blasts/new/", _form(group=vip.pk))
    blast = Blast.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/blasts/{blast.pk}/"
    assert (blast.status, blast.created_by) == ("draft", marketer)
    with django_capture_on_commit_callbacks(execute=True):
        response = marketer_client.post(f"/blasts/{blast.pk}/start/", follow=True)
    # Then each member got the template with their own name, through Wappin
    assert "Blast started: 3 contacts are being queued." in response.content.decode()
    messages = Message.objects.filter(blast=blast)
    assert {m.contact for m in messages} == set(members)
    assert not Message.objects.filter(contact=outsider).exists()
    for message in messages:
        assert (message.source, message.status, message.sent_by) == ("blast", "sent", marketer)
        [received] = wappin_sandbox.sent(message_id=message.wappin_message_id)
        assert received["fields"]["params"] == {"1": message.contact.name, "2": "20%"}
    # And the blast is done, its page says so without refreshing itself any more
    blast.refresh_from_db()
    assert blast.status == "done" and blast.finished_at
    page = marketer_client.get(f"/blasts/{blast.pk}/").content.decode()
    assert "Done" in page and "Sent <strong>3</strong>" in page
    assert 'http-equiv="refresh"' not in page


def test_a_blast_with_a_document_header_sends_the_file_to_everyone(
    marketer_client, project, vip, registered, wappin_sandbox, django_capture_on_commit_callbacks
):
    template = factories.TemplateFactory(project=project, name="catalogue")
    language = factories.TemplateLanguageFactory(
        template=template, header_type="document", body="Hi {{1}}!"
    )
    wappin_sandbox.add_template(language)
    _member(project, vip, name="Budi")
    _member(project, vip, name="Sari")
    upload = SimpleUploadedFile(
        "catalogue.pdf", b"%PDF-1.4 catalogue", content_type="application/pdf"
    )
    marketer_client.post(
        "/blasts/new/",
        {
            "template": "catalogue",
            "name": "Catalogue",
            "group": vip.pk,
            "param_1_source": "name",
            "param_1": "",
            "media": upload,
        },
    )
    blast = Blast.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        services.blast_start(blast_id=blast.pk)
    messages = list(Message.objects.filter(blast=blast))
    assert len(messages) == 2
    assert all(m.kind == "hsm_media" and m.status == "sent" and m.media for m in messages)


def test_opted_out_contacts_are_skipped_and_counted(
    project, vip, registered, wappin_sandbox, django_capture_on_commit_callbacks
):
    _member(project, vip, name="Budi")
    stopped = _member(project, vip, name="Sari", opted_out_at=timezone.now())
    blast = _blast(project, vip)
    with django_capture_on_commit_callbacks(execute=True):
        services.blast_start(blast_id=blast.pk)
    assert not Message.objects.filter(contact=stopped).exists()
    [refusal] = BlastRefusal.objects.filter(blast=blast)
    assert (refusal.contact, refusal.code) == (stopped, "contact_opted_out")
    progress = selectors.blast_progress(blast=blast)
    assert (progress.sent, progress.opted_out, progress.refused, progress.processed) == (1, 1, 0, 2)


def test_a_utility_template_still_reaches_opted_out_contacts(
    project, vip, registered, wappin_sandbox, django_capture_on_commit_callbacks
):
    template = factories.TemplateFactory(project=project, name="order_news", message_type="utility")
    wappin_sandbox.add_template(
        factories.TemplateLanguageFactory(template=template, body="Hi {{1}}")
    )
    stopped = _member(project, vip, name="Sari", opted_out_at=timezone.now())
    blast = _blast(project, vip, template_name="order_news", params={"1": {"source": "name"}})
    with django_capture_on_commit_callbacks(execute=True):
        services.blast_start(blast_id=blast.pk)
    assert Message.objects.get(blast=blast).contact == stopped


def test_a_contact_lacking_a_value_is_refused_with_the_reason_and_the_rest_go(
    marketer_client, project, vip, registered, wappin_sandbox, django_capture_on_commit_callbacks
):
    # Given {{2}} from the contacts' "city" attribute, which one contact lacks, and a number Wappin refuses
    ok = [
        _member(project, vip, name=f"Member {n}", attributes={"city": "Jakarta"}) for n in range(3)
    ]
    no_city = _member(project, vip, name="Nocity", attributes={})
    invalid = _member(
        project, vip, name="Wrong", phone_number=INVALID_NUMBER, attributes={"city": "Bandung"}
    )
    blast = _blast(
        project,
        vip,
        params={"1": {"source": "name"}, "2": {"source": "attribute", "value": "city"}},
    )
    # When it runs, in batches of two
    with django_capture_on_commit_callbacks(execute=True):
        services.blast_start(blast_id=blast.pk)
    # Then the contact without a city got nothing, with the reason; the others all got theirs
    [refusal] = BlastRefusal.objects.filter(blast=blast)
    assert refusal.contact == no_city
    assert refusal.reason == "The contact has no 'city' attribute, needed for {{2}}."
    assert Message.objects.filter(blast=blast, status="sent").count() == 3
    assert {m.contact for m in Message.objects.filter(blast=blast, status="sent")} == set(ok)
    # ... and Wappin's refusal of the invalid number is a failed message, not a stop
    assert Message.objects.get(blast=blast, contact=invalid).status == "failed"
    page = marketer_client.get(f"/blasts/{blast.pk}/").content.decode()
    assert "no &#x27;city&#x27; attribute, needed for {{2}}" in page
    assert "Refused <strong>1</strong>" in page and "Failed <strong>1</strong>" in page


def test_the_expansion_runs_in_batches_and_running_it_again_sends_nothing_twice(
    project, vip, registered, wappin_sandbox, django_capture_on_commit_callbacks, monkeypatch
):
    contacts = [_member(project, vip, name=f"Member {n}") for n in range(5)]
    blast = _blast(project, vip)
    monkeypatch.setattr(services, "BATCH_SIZE", 2)
    batches = []
    expand = services.blast_expand_batch
    monkeypatch.setattr(
        services, "blast_expand_batch", lambda **kw: batches.append(kw) or expand(**kw)
    )
    # Given the blast expanded in batches of two (each batch enqueues the next)
    with django_capture_on_commit_callbacks(execute=True):
        services.blast_start(blast_id=blast.pk)
    assert len(batches) == 3
    blast.refresh_from_db()
    assert blast.status == "done" and blast.last_contact_id == contacts[-1].pk
    sent_before = len(wappin_sandbox.sent(project_id=project.wappin_project_id))
    assert Message.objects.filter(blast=blast).count() == 5 == sent_before
    # When the task runs again (a broker redelivery), even from the first contact
    Blast.objects.filter(pk=blast.pk).update(status="running", last_contact_id=0)
    with django_capture_on_commit_callbacks(execute=True):
        services.blast_expand_batch(blast_id=blast.pk, batch_size=2)
        services.blast_expand_batch(blast_id=blast.pk, batch_size=2)
    # Then nobody got a second message
    assert Message.objects.filter(blast=blast).count() == 5
    assert len(wappin_sandbox.sent(project_id=project.wappin_project_id)) == sent_before
    assert not BlastRefusal.objects.exists()


def test_cancel_stops_further_batches_and_the_messages_not_yet_sent(
    marketer_client, project, vip, registered, wappin_sandbox
):
    for n in range(5):
        _member(project, vip, name=f"Member {n}")
    blast = _blast(project, vip)
    # Given a running blast whose first batch is queued but not yet handed to Wappin
    services.blast_start(
        blast_id=blast.pk
    )  # its on-commit task never runs: the test holds the transaction
    services.blast_expand_batch(blast_id=blast.pk, batch_size=2)
    assert Message.objects.filter(blast=blast, status="queued").count() == 2
    # When the marketer cancels it
    response = marketer_client.post(f"/blasts/{blast.pk}/cancel/", follow=True)
    # Then no further batch runs, and the queued messages are cancelled with the reason, not failed
    assert "Blast cancelled" in response.content.decode()
    assert services.blast_expand_batch(blast_id=blast.pk, batch_size=2) is False
    assert Message.objects.filter(blast=blast).count() == 2
    for message in Message.objects.filter(blast=blast):
        assert (message.status, message.failure_reason) == ("cancelled", services.CANCELLED_REASON)
    counts = selectors.blast_progress(blast=blast).counts()
    assert (counts["cancelled"], counts["failed"]) == (2, 0)
    assert wappin_sandbox.sent(project_id=project.wappin_project_id) == []
    # And the sending engine, should it run now, sends nothing
    from messaging.sending import engine

    engine.messages_dispatch(
        integration_id=Message.objects.filter(blast=blast).first().integration_id
    )
    assert wappin_sandbox.sent(project_id=project.wappin_project_id) == []
    page = marketer_client.get(f"/blasts/{blast.pk}/").content.decode()
    assert "Cancelled" in page and "Cancel blast" not in page
    with pytest.raises(Conflict):
        services.blast_cancel(blast_id=blast.pk)


# --- Checks before anything is sent -------------------------------------------------------


def test_start_refuses_a_blast_whose_template_is_no_longer_approved(
    project, vip, promo, registered
):
    _member(project, vip, name="Budi")
    blast = _blast(project, vip)
    Template.objects.filter(pk=promo.pk).update(status=Template.Status.INACTIVE)
    with pytest.raises(ValidationFailed) as refused:
        services.blast_start(blast_id=blast.pk)
    assert "not approved" in refused.value.message
    blast.refresh_from_db()
    assert blast.status == "draft" and not Message.objects.exists()


def test_start_refuses_an_empty_audience_and_a_project_without_integration(project, vip, promo):
    blast = _blast(project, vip)
    with pytest.raises(Conflict) as refused:
        services.blast_start(blast_id=blast.pk)
    assert refused.value.code == "integration_missing"
    factories.IntegrationFactory(project=project)
    with pytest.raises(Conflict) as refused:
        services.blast_start(blast_id=blast.pk)
    assert refused.value.message == "VIP has no contacts: nobody would get this blast."


def test_the_form_refuses_unmapped_params_field_by_field(marketer_client, project, promo):
    response = marketer_client.post(
        "/blasts/new/",
        _form(param_1_source="attribute", param_1="", param_2_source="fixed", param_2=""),
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Type the name of the contact attribute for {{1}} (e.g. city)." in page
    assert "Type the text for {{2}}." in page
    assert not Blast.objects.exists()


def test_a_media_header_needs_its_file(project, vip):
    template = factories.TemplateFactory(project=project, name="catalogue")
    factories.TemplateLanguageFactory(template=template, header_type="image", body="Hi {{1}}")
    with pytest.raises(ValidationFailed) as refused:
        _blast(project, vip, template_name="catalogue", params={"1": {"source": "name"}})
    assert "media" in refused.value.fields


def test_the_form_previews_the_message_of_the_first_contact(marketer_client, project, vip, promo):
    _member(project, vip, name="Budi", attributes={})
    page = marketer_client.get("/blasts/new/", {"template": "weekend_promo"}).content.decode()
    assert (
        'name="param_1_source"' in page
        and 'name="param_2"' in page
        and 'name="param_3"' not in page
    )
    # The fragment the form reloads as the mapping changes
    preview = marketer_client.get(
        "/blasts/preview/",
        {
            "template": "weekend_promo",
            "group": vip.pk,
            "param_1_source": "name",
            "param_2_source": "attribute",
            "param_2": "discount",
        },
    ).content.decode()
    assert "Hi Budi, [sample 2] off this weekend!" in preview
    assert "The contact has no &#x27;discount&#x27; attribute, needed for {{2}}." in preview


# --- Progress -----------------------------------------------------------------------------


def test_progress_counts_each_contact_once_in_its_current_status(
    marketer_client, project, vip, django_assert_num_queries
):
    # Given a running blast of 10 contacts: 6 messages in various statuses, 1 refusal, 1 opted out
    blast = Blast.objects.create(
        project=project,
        name="June",
        template_name="weekend_promo",
        language_code="id",
        group=vip,
        status="running",
        audience_count=10,
    )
    statuses = ["queued", "sent", "delivered", "read", "read", "failed"]
    for status in statuses:
        message = factories.MessageFactory(
            project=project,
            blast=blast,
            contact=factories.ContactFactory(project=project),
            kind="hsm",
        )
        if status != "queued":
            message_status_record(
                message_id=message.pk, status=status, source=MessageStatusEvent.Source.CALLBACK
            )
    BlastRefusal.objects.create(
        blast=blast, phone_number="62811", code="contact_value_missing", reason="x"
    )
    BlastRefusal.objects.create(
        blast=blast, phone_number="62812", code="contact_opted_out", reason="y"
    )
    other = Blast.objects.create(
        project=project,
        name="Other",
        template_name="x",
        language_code="id",
        status="done",
        audience_count=3,
    )
    # When the progress of both is read: one query on messages, one on refusals
    with django_assert_num_queries(2):
        progress = selectors.blast_progress_many(blasts=[blast, other])
    # Then each status is counted once, and the rates are of the messages sent
    june = progress[blast.pk]
    assert (june.queued, june.sent, june.delivered, june.read, june.failed) == (1, 1, 1, 2, 1)
    assert (june.refused, june.opted_out, june.processed, june.remaining) == (1, 1, 8, 2)
    assert (june.delivery_rate, june.read_rate, june.percent_done) == (50, 33, 80)
    assert progress[other.pk].processed == 0
    # And the list shows the stacked bar; a running blast's page follows its progress live
    page = marketer_client.get("/blasts/").content.decode()
    assert 'class="seg-read" style="width: 20.00%"' in page
    assert 'class="seg-failed" style="width: 10.00%"' in page
    assert "8 / 10 contacts" in page
    detail = marketer_client.get(f"/blasts/{blast.pk}/").content.decode()
    assert f'hx-get="/blasts/{blast.pk}/progress/" hx-trigger="every 2s"' in detail
    assert 'http-equiv="refresh"' not in detail
    assert "Sending" in detail and "Cancel blast" in detail


def test_the_history_link_shows_only_this_blasts_messages(marketer_client, project):
    blast = Blast.objects.create(
        project=project, name="June", template_name="t", language_code="id"
    )
    mine = factories.MessageFactory(project=project, blast=blast, phone_number="6281200000001")
    factories.MessageFactory(project=project, phone_number="6281200000002")
    detail = marketer_client.get(f"/blasts/{blast.pk}/").content.decode()
    assert f'href="/history/?blast={blast.pk}"' in detail
    page = marketer_client.get("/history/", {"blast": blast.pk}).content.decode()
    assert mine.phone_number in page and "6281200000002" not in page
    assert f'name="blast" value="{blast.pk}"' in page  # kept when the filters change
    # And each message's page links back to its blast
    detail = marketer_client.get(f"/history/{mine.pk}/").content.decode()
    assert f'<a href="/blasts/{blast.pk}/">June</a>' in detail


# --- Pages and roles ----------------------------------------------------------------------


def test_pages_render_for_a_marketer(marketer_client, project, vip, promo):
    assert "No blasts yet" in marketer_client.get("/blasts/").content.decode()
    _member(project, vip, name="Budi")
    blast = _blast(project, vip)
    listing = marketer_client.get("/blasts/").content.decode()
    assert (
        "Weekend promo" in listing and "Draft" in listing and 'href="/blasts/"' in listing
    )  # the nav entry
    detail = marketer_client.get(f"/blasts/{blast.pk}/").content.decode()
    assert "Start blast (1 contacts)" in detail
    assert "Hi Budi, 20% off this weekend!" in detail
    assert 'http-equiv="refresh"' not in detail
    assert marketer_client.get("/blasts/new/").status_code == 200


def test_a_developer_may_not_open_blasts(client, project, vip, promo):
    blast = _blast(project, vip)
    developer = factories.UserFactory()
    factories.MembershipFactory(project=project, user=developer, role="developer")
    client.force_login(developer)
    for url in ("/blasts/", "/blasts/new/", f"/blasts/{blast.pk}/"):
        response = client.get(url)
        assert response.status_code == 403
        assert "(developer) may not do this" in response.content.decode()
    assert client.post(f"/blasts/{blast.pk}/start/").status_code == 403
    blast.refresh_from_db()
    assert blast.status == "draft"


def test_another_projects_blast_is_not_found(marketer_client):
    other = factories.ProjectFactory()
    blast = Blast.objects.create(
        project=other, name="Theirs", template_name="t", language_code="id"
    )
    assert marketer_client.get(f"/blasts/{blast.pk}/").status_code == 404
    assert marketer_client.post(f"/blasts/{blast.pk}/cancel/").status_code == 404
    blast.refresh_from_db()
    assert blast.status == "draft"


def test_a_blast_whose_task_was_lost_goes_on_from_where_it_stopped(
    project, vip, registered, wappin_sandbox, django_capture_on_commit_callbacks
):
    # Given a running blast whose first batch ran but whose next task never came
    for n in range(3):
        _member(project, vip, name=f"Member {n}")
    blast = _blast(project, vip)
    services.blast_start(
        blast_id=blast.pk
    )  # the on-commit enqueue is lost (the test never commits)
    services.blast_expand_batch(blast_id=blast.pk, batch_size=1)
    later = timezone.now() + services.STALLED_AFTER + timezone.timedelta(seconds=1)
    # When the sweep runs ten minutes later
    with django_capture_on_commit_callbacks(execute=True):
        assert services.blasts_resume_stalled(now=later) == 1
    # Then the rest got their message, and the first contact only one
    blast.refresh_from_db()
    assert blast.status == "done"
    assert Message.objects.filter(blast=blast).count() == 3
    assert services.blasts_resume_stalled(now=later) == 0


def test_the_dashboard_shows_recent_blasts_and_their_rates_to_marketers(
    marketer_client, client, project
):
    blast = Blast.objects.create(
        project=project,
        name="June promo",
        template_name="t",
        language_code="id",
        status="done",
        audience_count=2,
    )
    for status in ("read", "delivered"):
        message = factories.MessageFactory(
            project=project,
            blast=blast,
            contact=factories.ContactFactory(project=project),
            kind="hsm",
        )
        message_status_record(
            message_id=message.pk, status=status, source=MessageStatusEvent.Source.CALLBACK
        )
    page = marketer_client.get("/dashboard/").content.decode()
    assert "Recent blasts" in page and "June promo" in page
    assert "<td>100%</td><td>50%</td>" in page  # delivered, read
    developer = factories.UserFactory()
    factories.MembershipFactory(project=project, user=developer, role="developer")
    client.force_login(developer)
    assert "Recent blasts" not in client.get("/dashboard/").content.decode()


def test_header_and_url_button_variables_take_contact_fields_too(
    project, vip, registered, wappin_sandbox, django_capture_on_commit_callbacks
):
    template = factories.TemplateFactory(project=project, name="order_update")
    language = factories.TemplateLanguageFactory(
        template=template,
        header_type="text",
        header_text="Order {{1}}",
        body="Hi {{1}}",
        buttons=[{"type": "url", "text": "Track", "url": "https://shop.example/track/{{1}}"}],
    )
    wappin_sandbox.add_template(language)
    budi = _member(project, vip, name="Budi", attributes={"order": "INV-7"})
    blast = services.blast_create(
        project=project,
        name="Orders",
        template_name="order_update",
        group=vip,
        params={"1": {"source": "name"}},
        header_param={"source": "attribute", "value": "order"},
        button_url={"source": "phone"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.blast_start(blast_id=blast.pk)
    message = Message.objects.get(blast=blast)
    assert (message.status, message.header_param, message.button_url) == (
        "sent",
        "INV-7",
        budi.phone_number,
    )
    [received] = wappin_sandbox.sent(message_id=message.wappin_message_id)
    assert received["fields"]["header"] == {"param": "INV-7"}


def test_cancelling_asks_first_and_says_who_gets_nothing(marketer_client, project, vip, promo):
    for name in ("Budi", "Sari"):
        _member(project, vip, name=name)
    blast = _blast(project, vip)
    detail = marketer_client.get(f"/blasts/{blast.pk}/").content.decode()
    assert 'data-confirm="Cancel the draft Weekend promo? It can no longer be started."' in detail
    Blast.objects.filter(pk=blast.pk).update(status=Blast.Status.PAUSED)
    detail = marketer_client.get(f"/blasts/{blast.pk}/").content.decode()
    assert re.search(
        r'data-confirm="Cancel Weekend promo\? The \d+ contacts not reached yet get nothing', detail
    )
