"""Issue 10, finding 5: API keys do not outlive their creator; a developer revokes only their own."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from projects.models import ApiKey, Membership
from projects.services import api_key_create, api_key_revoke, membership_remove
from tests import factories
from wappin_portal.errors import PermissionDenied

pytestmark = pytest.mark.django_db


@pytest.fixture
def developer(project):
    user = factories.UserFactory()
    factories.MembershipFactory(project=project, user=user, role=Membership.Role.DEVELOPER)
    return user


def _calls(raw_key: str) -> int:
    return APIClient().get("/api/v1/messages/", HTTP_AUTHORIZATION=f"Api-Key {raw_key}").status_code


def test_a_developer_cannot_revoke_an_admins_key_but_an_admin_revokes_any(
    project, developer, admin_user
):
    admins = api_key_create(project=project, name="ops", created_by=admin_user).api_key
    mine = api_key_create(project=project, name="mine", created_by=developer).api_key

    with pytest.raises(PermissionDenied):
        api_key_revoke(api_key=admins, actor=developer)
    assert ApiKey.objects.get(pk=admins.pk).revoked_at is None

    api_key_revoke(api_key=mine, actor=developer)
    api_key_revoke(api_key=admins, actor=admin_user)
    assert ApiKey.objects.filter(revoked_at__isnull=True).count() == 0


def test_the_page_offers_a_developer_only_their_own_keys_to_revoke(
    client, project, developer, admin_user
):
    admins = api_key_create(project=project, name="ops", created_by=admin_user).api_key
    client.force_login(developer)
    page = client.get("/api-keys/").content.decode()
    assert f"/api-keys/{admins.pk}/revoke/" not in page
    assert "Its creator or a project admin can revoke it." in page
    client.post(f"/api-keys/{admins.pk}/revoke/")
    assert ApiKey.objects.get(pk=admins.pk).revoked_at is None


def test_a_member_taken_off_the_project_leaves_no_working_key(project, developer, admin_user):
    created = api_key_create(project=project, name="theirs", created_by=developer)
    assert _calls(created.raw_key) == 200

    membership_remove(
        membership=Membership.objects.get(project=project, user=developer), actor=admin_user
    )

    assert _calls(created.raw_key) == 401
    assert ApiKey.objects.get(pk=created.api_key.pk).revoked_at is not None


def test_a_deactivated_account_leaves_no_working_key(project, developer):
    created = api_key_create(project=project, name="theirs", created_by=developer)
    developer.is_active = False
    developer.save()
    assert _calls(created.raw_key) == 401
