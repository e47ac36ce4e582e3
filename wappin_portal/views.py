from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponseRedirect, JsonResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from projects.selectors import SESSION_PROJECT_KEY, project_list_for_user


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@login_required
@require_POST
def project_switch(request: HttpRequest) -> HttpResponseRedirect:
    project = project_list_for_user(user=request.user).filter(pk=request.POST.get("project")).first()
    if project is not None:
        request.session[SESSION_PROJECT_KEY] = project.pk
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return HttpResponseRedirect(target)
