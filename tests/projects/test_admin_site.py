"""Issue 10, findings 1 and 2: Django's admin is for superusers only (it is not scoped to projects)."""

from django.contrib.auth.models import Permission

import pytest

from projects.models import ApiKey, Membership
from projects.services import api_key_create
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    """A staff user of project A, as a broad admin account would be set up: every view and
    change permission of the portal's models, no superuser."""
    staff = factories.UserFactory(is_staff=True, is_superuser=False)
    staff.set_password("pw-123456789")
    staff.save()
    staff.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label__in=["projects", "messaging", "templates_app", "callbacks"]
        )
    )
    factories.MembershipFactory(user=staff, role=Membership.Role.ADMIN)
    client.force_login(staff)
    client.staff = staff
    return client


def test_staff_without_superuser_cannot_run_an_admin_action_on_another_projects_key(staff_client):
    # Given another project's API key
    other = api_key_create(project=factories.ProjectFactory(), name="their service").api_key

    # When the staff user posts the admin's "revoke" action on it
    response = staff_client.post(
        "/admin/projects/apikey/", {"action": "revoke", "_selected_action": [other.pk]}
    )

    # Then the admin sends them to its login, and the key still works
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    assert ApiKey.objects.get(pk=other.pk).revoked_at is None


def test_staff_without_superuser_cannot_make_itself_admin_of_another_project(staff_client):
    other_project = factories.ProjectFactory()
    response = staff_client.post(
        "/admin/projects/membership/add/",
        {"project": other_project.pk, "user": staff_client.staff.pk, "role": "admin"},
    )
    assert response.status_code == 302
    assert not Membership.objects.filter(project=other_project, user=staff_client.staff).exists()
    # ... nor read another project's rows
    assert staff_client.get("/admin/messaging/message/").status_code == 302
    assert staff_client.get("/admin/callbacks/callbackevent/").status_code == 302


def test_a_superuser_still_has_the_admin(admin_client):
    assert admin_client.get("/admin/").status_code == 200
    assert "Wappin Portal administration" in admin_client.get("/admin/").content.decode()
    assert admin_client.get("/admin/projects/apikey/").status_code == 200
