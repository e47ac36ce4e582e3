from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from callbacks.models import CALLBACK_BODY_MAX_BYTES
from callbacks.services import callback_receive
from wappin_portal.client_ip import client_ip


def _read_body(request: HttpRequest) -> tuple[bytes, int]:
    """At most one byte over the cap is read: a huge body is refused without being held."""
    declared = request.META.get("CONTENT_LENGTH") or ""
    body = request.read(CALLBACK_BODY_MAX_BYTES + 1)
    size = int(declared) if declared.isdigit() else len(body)
    return body, max(size, len(body))


@csrf_exempt
def wappin_callback(request: HttpRequest, key: str) -> JsonResponse:
    """Wappin's callback (document section 6). All the deciding is in `callback_receive`."""
    if request.method != "POST":
        return JsonResponse(
            {"status": "405", "message": "Wappin callbacks are POST requests."},
            status=405,
            headers={"Allow": "POST"},
        )
    body, size = _read_body(request)
    answer = callback_receive(
        key=key,
        client_address=client_ip(request),
        headers=request.headers,
        body=body,
        body_size=size,
    )
    return JsonResponse(answer.body, status=answer.http_status)
