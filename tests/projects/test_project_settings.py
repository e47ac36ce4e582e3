"""The project settings page: the STOP/START confirmation texts, for project admins only, audited."""

from __future__ import annotations

import pytest

from projects.models import OPT_OUT_CONFIRMATION_ID, AuditEvent, Membership, Project
from projects.services import project_opt_out_texts_update
from tests import factories
from wappin_portal.errors import NotFound, PermissionDenied, ValidationFailed

pytestmark = pytest.mark.django_db

URL = "/projects/settings/"


def _texts(**changes) -> dict:
    texts = {
        name: Project._meta.get_field(name).get_default() for name in Project.OPT_OUT_TEXT_FIELDS
    }
    return {**texts, **changes}


@pytest.fixture
def project_admin(project):
    user = factories.UserFactory()
    factories.MembershipFactory(project=project, user=user, role=Membership.Role.ADMIN)
    return user


def test_a_new_project_answers_stop_with_the_indonesian_and_english_defaults(project):
    project.business_name = "Toko Budi"
    assert project.opt_out_confirmation(opting_out=True, language="id") == (
        OPT_OUT_CONFIRMATION_ID.replace("{business}", "Toko Budi")
    )
    assert project.opt_out_confirmation(opting_out=False, language="en").startswith(
        "Welcome back! You will receive messages from Toko Budi again."
    )


def test_a_project_admin_changes_the_texts_and_the_change_is_audited(
    client, project, project_admin
):
    client.force_login(project_admin)
    page = client.get(URL)
    assert page.status_code == 200
    assert "BERHENTI confirmation (Indonesian)" in page.content.decode()
    new_text = "Oke, {business} berhenti mengirim promo. Balas MULAI untuk kembali."
    response = client.post(URL, _texts(opt_out_confirmation_id=new_text))
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.opt_out_confirmation_id == new_text
    event = AuditEvent.objects.get(action="project.opt_out_texts")
    assert (event.project, event.actor) == (project, project_admin)
    assert event.data == {
        "before": {"opt_out_confirmation_id": OPT_OUT_CONFIRMATION_ID},
        "after": {"opt_out_confirmation_id": new_text},
    }
    # Restoring the standard texts is one click, audited too
    client.post(URL, {"restore_defaults": "1"})
    project.refresh_from_db()
    assert project.opt_out_confirmation_id == OPT_OUT_CONFIRMATION_ID
    assert AuditEvent.objects.filter(action="project.opt_out_texts").count() == 2


def test_an_empty_text_is_refused_on_its_field(client, project, project_admin):
    client.force_login(project_admin)
    response = client.post(URL, _texts(opt_in_confirmation_en="   "))
    assert response.status_code == 200
    assert 'class="field has-error"' in response.content.decode()
    project.refresh_from_db()
    assert project.opt_in_confirmation_en.startswith("Welcome back!")
    assert not AuditEvent.objects.filter(action="project.opt_out_texts").exists()


@pytest.mark.parametrize("role", [Membership.Role.MARKETING, Membership.Role.DEVELOPER])
def test_other_roles_may_not_open_or_post_the_settings(client, project, role):
    user = factories.UserFactory()
    factories.MembershipFactory(project=project, user=user, role=role)
    client.force_login(user)
    assert client.get(URL).status_code == 403
    assert (
        client.post(URL, _texts(opt_out_confirmation_en="Bye from {business}")).status_code == 403
    )
    project.refresh_from_db()
    assert project.opt_out_confirmation_en.startswith("You will no longer receive")
    # The service itself checks the role too (one rule for every way in)
    with pytest.raises(PermissionDenied):
        project_opt_out_texts_update(
            project=project, actor=user, texts={"opt_out_confirmation_en": "Bye"}
        )


def test_another_projects_admin_cannot_change_this_projects_texts(project):
    outsider = factories.UserFactory()
    factories.MembershipFactory(user=outsider, role=Membership.Role.ADMIN)
    with pytest.raises(NotFound) as caught:
        project_opt_out_texts_update(
            project=project, actor=outsider, texts={"opt_out_confirmation_en": "Bye"}
        )
    assert caught.value.code == "project_not_found"


def test_a_text_over_the_limit_is_refused(project, project_admin):
    with pytest.raises(ValidationFailed) as caught:
        project_opt_out_texts_update(
            project=project, actor=project_admin, texts={"opt_out_confirmation_en": "x" * 1025}
        )
    assert "opt_out_confirmation_en" in caught.value.fields
