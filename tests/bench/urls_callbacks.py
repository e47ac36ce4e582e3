"""The portal's URLs plus the baseline of the callback benchmark: a bare view doing one INSERT."""

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from wappin_portal.urls import urlpatterns as portal_urlpatterns

BARE_TABLE = "bench_bare_insert"


@csrf_exempt
def bare_insert(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {BARE_TABLE} (body) VALUES (%s)", [request.body.decode()])  # noqa: S608
    return JsonResponse({"status": "000"})


urlpatterns = [path("bench/bare-insert/", bare_insert), *portal_urlpatterns]
