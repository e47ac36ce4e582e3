from django.utils.functional import SimpleLazyObject

from projects.authentication import ApiKeyUser
from projects.roles import membership_role, role_capabilities
from projects.selectors import project_current, project_list_for_user
from projects.webhooks.selectors import webhook_endpoints_disabled_for_admin


def current_project(request):
    """The header's project switcher and menus: the user's projects, and what their role on the
    current one may open (`can`: a set of capability names from `projects.roles`)."""
    user = getattr(request, "user", None)
    # An API key is no person with projects to switch between (it 500ed DRF's browsable page).
    if not user or not user.is_authenticated or isinstance(user, ApiKeyUser):
        return {}
    project = getattr(request, "project", None) or project_current(request=request)
    role = getattr(request, "project_role", None)
    if role is None and project is not None:
        role = membership_role(user=request.user, project=project)
    return {
        "current_project": project,
        "current_role": role,
        "can": role_capabilities(role),
        "user_projects": project_list_for_user(user=request.user),
        # The banner telling a project's admins that an endpoint was disabled (one query, when shown).
        "webhook_endpoints_disabled": SimpleLazyObject(
            lambda: webhook_endpoints_disabled_for_admin(project=project, user=request.user)
        ),
    }
