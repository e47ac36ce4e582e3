"""Issue 10 (suppression list): a member opts a number out or back in by hand, audited; STOP is audited too."""

import pytest

from messaging.contacts.services import number_opted_out, opt_out_record
from messaging.models import OptOut
from projects.models import AuditEvent
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_marketer_opts_a_contact_out_and_back_in_and_both_are_audited(marketer_client, project):
    contact = factories.ContactFactory(project=project, phone_number="6281234567055")
    page = marketer_client.get(f"/contacts/{contact.pk}/edit/").content.decode()
    assert "Opt out of marketing" in page

    marketer_client.post(f"/contacts/{contact.pk}/opt-out/")
    contact.refresh_from_db()
    assert contact.is_opted_out
    assert number_opted_out(project=project, phone_number="6281234567055")
    assert OptOut.objects.get(project=project).source == "person"
    assert (
        "Subscribe again" in marketer_client.get(f"/contacts/{contact.pk}/edit/").content.decode()
    )

    marketer_client.post(f"/contacts/{contact.pk}/opt-out/", {"subscribe": "1"})
    contact.refresh_from_db()
    assert not contact.is_opted_out
    assert not number_opted_out(project=project, phone_number="6281234567055")
    audit = list(
        AuditEvent.objects.filter(project=project, action__startswith="contact.opt")
        .order_by("id")
        .values_list("action", "target", "data")
    )
    assert audit == [
        ("contact.opt_out", "6281234567055", {"source": "person"}),
        ("contact.opt_in", "6281234567055", {"source": "person"}),
    ]
    assert set(
        AuditEvent.objects.filter(action__startswith="contact.opt").values_list("actor", flat=True)
    ) != {None}


def test_a_customers_stop_is_audited_without_an_actor(project):
    opt_out_record(project=project, phone_number="6281234567056")
    opt_out_record(project=project, phone_number="6281234567056")  # STOP again: one row, one audit
    event = AuditEvent.objects.get(action="contact.opt_out")
    assert (event.actor, event.target, event.data) == (
        None,
        "6281234567056",
        {"source": "customer"},
    )


def test_another_projects_contact_is_a_404(marketer_client):
    other = factories.ContactFactory()
    assert marketer_client.post(f"/contacts/{other.pk}/opt-out/").status_code == 404
    assert not OptOut.objects.exists()
