import pytest

from projects.models import AuditEvent, Integration, Project, WappinCredential
from tests import factories

pytestmark = pytest.mark.django_db


def _post(admin_client, project, **changes):
    data = {
        "name": project.name,
        "client_id": project.client_id,
        "wappin_project_id": project.wappin_project_id,
        "business_number": project.business_number,
        "business_name": project.business_name,
        "default_region": project.default_region,
        "website_url": "",
        "default_chatbot_message": project.default_chatbot_message,
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        **changes,
    }
    return admin_client.post(f"/admin/projects/project/{project.pk}/change/", data)


def _token(integration) -> str:
    stored = Integration.objects.select_related("credential").get(pk=integration.pk)
    return stored.credential.access_token if stored.credential else ""


def test_a_new_client_id_points_the_integrations_at_the_new_clients_token(admin_client, project):
    # Given an integration holding a token fetched for the old client ID
    integration = factories.IntegrationFactory(
        project=project, access_token="token-of-the-old-client"
    )
    # When an admin changes the project's client ID
    response = _post(admin_client, project, client_id="0999")
    # Then it uses the new client's token (none yet: the next call fetches one), the old
    # client keeps its own, and the change is audited
    assert response.status_code == 302
    assert _token(integration) == ""
    assert Integration.objects.get(pk=integration.pk).credential.client_id == "0999"
    assert WappinCredential.objects.get(client_id=project.client_id).access_token == (
        "token-of-the-old-client"
    )
    assert AuditEvent.objects.filter(action="project.update", project=project).exists()


def test_other_project_edits_keep_the_token(admin_client, project):
    integration = factories.IntegrationFactory(project=project, access_token="still-good")
    _post(admin_client, project, business_name="Renamed Business")
    assert Project.objects.get(pk=project.pk).business_name == "Renamed Business"
    assert _token(integration) == "still-good"


def test_the_business_number_is_normalised_and_a_bad_one_refused(admin_client, project):
    _post(admin_client, project, business_number="0811-0000-2222")
    assert Project.objects.get(pk=project.pk).business_number == "6281100002222"
    response = _post(admin_client, project, business_number="0811")
    assert response.status_code == 200
    assert "too short" in response.content.decode()


def test_numbers_of_a_project_outside_indonesia_are_read_in_its_country(admin_client, project):
    # Given the admin page offers the countries phone numbers can be read in
    page = admin_client.get(f"/admin/projects/project/{project.pk}/change/").content.decode()
    assert '<option value="ID" selected>ID (+62)</option>' in page
    assert '<option value="SG">SG (+65)</option>' in page
    # When the project is set to Singapore with a business number written the local way
    response = _post(admin_client, project, default_region="SG", business_number="9123 4567")
    # Then the number is read as Singapore's
    assert response.status_code == 302
    saved = Project.objects.get(pk=project.pk)
    assert (saved.default_region, saved.business_number) == ("SG", "6591234567")


def test_an_unknown_country_is_refused(admin_client, project):
    response = _post(admin_client, project, default_region="XX")
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert Project.objects.get(pk=project.pk).default_region == "ID"


# --- members and roles: every change through membership_set / membership_remove, audited ---


def _audits(project, action):
    return list(
        AuditEvent.objects.filter(project=project, action=action).values_list("target", "data")
    )


def test_a_role_changed_in_the_membership_admin_is_audited(admin_client, project):
    member = factories.MembershipFactory(project=project, role="marketing")

    response = admin_client.post(
        f"/admin/projects/membership/{member.pk}/change/",
        {"project": project.pk, "user": member.user.pk, "role": "developer"},
    )

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.role == "developer"
    assert _audits(project, "membership.set") == [
        (str(member.user), {"role": "developer", "previous_role": "marketing"})
    ]


def test_the_membership_admin_does_not_move_a_membership_to_another_user(admin_client, project):
    member = factories.MembershipFactory(project=project, role="marketing")
    original_user = member.user
    other_user = factories.UserFactory()

    admin_client.post(
        f"/admin/projects/membership/{member.pk}/change/",
        {"project": project.pk, "user": other_user.pk, "role": "admin"},
    )

    member.refresh_from_db()
    assert (member.user, member.role) == (original_user, "admin")
    assert not project.memberships.filter(user=other_user).exists()


def test_a_member_added_and_deleted_in_the_membership_admin_is_audited(admin_client, project):
    user = factories.UserFactory()

    admin_client.post(
        "/admin/projects/membership/add/",
        {"project": project.pk, "user": user.pk, "role": "marketing"},
    )
    member = project.memberships.get(user=user)
    admin_client.post(f"/admin/projects/membership/{member.pk}/delete/", {"post": "yes"})

    assert not project.memberships.filter(user=user).exists()
    assert _audits(project, "membership.set") == [
        (str(user), {"role": "marketing", "previous_role": None})
    ]
    assert _audits(project, "membership.remove") == [(str(user), {"role": "marketing"})]


def test_members_changed_in_the_projects_inline_are_audited(admin_client, admin_user, project):
    # Given a project with two members (besides the admin who edits it)
    stays = factories.MembershipFactory(project=project, role="marketing")
    leaves = factories.MembershipFactory(project=project, role="developer")
    newcomer = factories.UserFactory()
    members = list(project.memberships.order_by("user__username"))

    # When an admin changes one role, removes the other and adds a person, on the project's page
    rows = {}
    for index, membership in enumerate(members):
        rows |= {
            f"memberships-{index}-id": membership.pk,
            f"memberships-{index}-project": project.pk,
            f"memberships-{index}-user": membership.user.pk,
            f"memberships-{index}-role": "admin" if membership == stays else membership.role,
            **({f"memberships-{index}-DELETE": "on"} if membership == leaves else {}),
        }
    new = len(members)
    response = _post(
        admin_client,
        project,
        **{
            "memberships-TOTAL_FORMS": str(new + 1),
            "memberships-INITIAL_FORMS": str(new),
            **rows,
            f"memberships-{new}-project": project.pk,
            f"memberships-{new}-user": newcomer.pk,
            f"memberships-{new}-role": "developer",
        },
    )

    # Then the memberships are as asked, and each change has its audit row
    assert response.status_code == 302, response.content.decode()[:2000]
    assert dict(project.memberships.values_list("user__username", "role")) == {
        admin_user.username: "admin",
        stays.user.username: "admin",
        newcomer.username: "developer",
    }
    assert sorted(_audits(project, "membership.set")) == sorted(
        [
            (str(stays.user), {"role": "admin", "previous_role": "marketing"}),
            (str(newcomer), {"role": "developer", "previous_role": None}),
        ]
    )
    assert _audits(project, "membership.remove") == [(str(leaves.user), {"role": "developer"})]
