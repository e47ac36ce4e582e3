from django.utils.functional import SimpleLazyObject

from projects.selectors import project_current, project_list_for_user
from projects.webhooks.selectors import webhook_endpoints_disabled_for_admin


def current_project(request):
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    project = project_current(request=request)
    return {
        "current_project": project,
        "user_projects": project_list_for_user(user=request.user),
        # The banner telling a project's admins that an endpoint was disabled (one query, when shown).
        "webhook_endpoints_disabled": SimpleLazyObject(
            lambda: webhook_endpoints_disabled_for_admin(project=project, user=request.user)
        ),
    }
