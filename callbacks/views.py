from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def wappin_callback(request, key: str) -> JsonResponse:
    # Placeholder route so integrations can show their callback URL; the callbacks issue builds the view.
    return JsonResponse({"status": "503", "message": "Callbacks are not processed yet."}, status=503)
