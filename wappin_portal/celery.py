import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wappin_portal.settings.local")

app = Celery("wappin_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The request id travels in task headers; one log line per task (signal receivers).
from wappin_portal import logs  # noqa: E402, F401
