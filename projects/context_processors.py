from projects.authentication import ApiKeyUser
from projects.selectors import project_current, project_list_for_user


def current_project(request):
    user = getattr(request, "user", None)
    # An API key is no person with projects to switch between (it 500ed DRF's browsable page).
    if not user or not user.is_authenticated or isinstance(user, ApiKeyUser):
        return {}
    return {
        "current_project": project_current(request=request),
        "user_projects": project_list_for_user(user=request.user),
    }
