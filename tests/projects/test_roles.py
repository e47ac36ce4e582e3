"""The services check the role themselves: whatever calls them (page, API, admin, shell), a
role without the capability is refused before anything is written."""

from __future__ import annotations

import pytest

from messaging.blasts.services import blast_create
from messaging.contacts.groups import group_create
from messaging.contacts.services import contact_create, opt_out_record
from messaging.models import Contact, ContactGroup
from messaging.sending.services import message_send_text
from projects.models import ApiKey, AuditEvent, Membership
from projects.roles import ROLE_MATRIX, capability_require, role_capabilities
from projects.services import api_key_create, integration_save, membership_set
from templates_app.services import keyword_create, template_create
from tests import factories
from wappin_portal.errors import NotFound, PermissionDenied

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer(project):
    user = factories.UserFactory(username="vera")
    factories.MembershipFactory(project=project, user=user, role=Membership.Role.VIEWER)
    return user


def test_every_write_service_refuses_a_viewer(project, viewer):
    integration = factories.IntegrationFactory(project=project)
    writes = [
        lambda: contact_create(project=project, phone_number="081234567001", actor=viewer),
        lambda: group_create(project=project, name="VIP", actor=viewer),
        lambda: opt_out_record(project=project, phone_number="6281234567001", actor=viewer),
        lambda: template_create(
            project=project, name="promo", languages=[{"language_code": "id"}], actor=viewer
        ),
        lambda: keyword_create(project=project, keyword="promo", template_name="t", actor=viewer),
        lambda: blast_create(
            project=project, name="x", template_name="t", group=None, params={}, created_by=viewer
        ),
        lambda: message_send_text(
            project=project, phone_number="081234567001", text="hi", source="user", sent_by=viewer
        ),
        lambda: api_key_create(project=project, name="k", created_by=viewer),
        lambda: integration_save(integration=integration, actor=viewer),
        lambda: membership_set(project=project, user=viewer, role="admin", actor=viewer),
    ]
    for write in writes:
        with pytest.raises(PermissionDenied) as refused:
            write()
        assert refused.value.status_code == 403
        assert "(viewer) may not do this" in refused.value.message
    assert not Contact.objects.exists() and not ContactGroup.objects.exists()
    assert not ApiKey.objects.exists() and not AuditEvent.objects.exists()
    assert Membership.objects.get(user=viewer).role == "viewer"


def test_someone_of_another_project_is_not_found(project):
    stranger = factories.MembershipFactory(role=Membership.Role.ADMIN).user
    with pytest.raises(NotFound):
        contact_create(project=project, phone_number="081234567001", actor=stranger)


def test_an_api_key_acts_as_a_developer_of_its_own_project_only(project, api_key):
    key = api_key[1]
    assert capability_require(project=project, capability="contact.edit", api_key=key)
    with pytest.raises(PermissionDenied):
        capability_require(project=project, capability="member.manage", api_key=key)
    with pytest.raises(NotFound):
        capability_require(
            project=factories.ProjectFactory(), capability="project.read", api_key=key
        )


def test_a_superuser_acts_as_an_admin_of_every_project(admin_user):
    other = factories.ProjectFactory()
    assert capability_require(project=other, capability="member.manage", actor=admin_user)


def test_the_message_names_who_may(project):
    marketer = factories.MembershipFactory(project=project, role="marketing").user
    with pytest.raises(PermissionDenied) as refused:
        capability_require(project=project, capability="audit.read", actor=marketer)
    assert refused.value.message == (
        f"Your role on {project.name} (marketing) may not do this: only admin members may."
    )


def test_an_unknown_capability_is_a_programming_error(project):
    with pytest.raises(KeyError):
        capability_require(project=project, capability="contact.fly")


def test_admins_hold_every_capability_and_viewers_only_reading():
    assert role_capabilities("admin") == set(ROLE_MATRIX)
    assert role_capabilities("viewer") == {"project.read", "marketing_pages.use"}
