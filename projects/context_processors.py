from projects.selectors import project_current, project_list_for_user


def current_project(request):
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    return {
        "current_project": project_current(request=request),
        "user_projects": project_list_for_user(user=request.user),
    }
