"""The test suite: SQLite and eager tasks by default, real services when their URLs are set."""

import os
from pathlib import Path

_VAR_DIR = Path(__file__).resolve().parent.parent.parent / "var"
_VAR_DIR.mkdir(exist_ok=True)

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-" + "x" * 20)
# A fixed Fernet key (urlsafe base64 of 32 bytes) so the suite is repeatable.
# Files of this run only (by process id): a `make run` worker, or a second test run in
# the same checkout, never shares the suite's database or takes its tasks.
_RUN = os.environ.setdefault("WAPPIN_TEST_RUN_ID", str(os.getpid()))
os.environ.setdefault(
    "CELERY_BROKER_URL", f"sqla+sqlite:///{_VAR_DIR / f'test-broker-{_RUN}.sqlite3'}"
)
os.environ.setdefault("FIELD_ENCRYPTION_KEY", "dGVzdC1rZXktZm9yLXRoZS1zdWl0ZS0zMmJ5dGVzISE=")

from .base import *  # noqa: E402, F403
from .base import BASE_DIR, DATABASES, INSTALLED_APPS, cache_config, env  # noqa: E402

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": cache_config(env("CACHE_URL", default="locmemcache://"))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so that a real worker process can share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / f"test-db-{_RUN}.sqlite3")}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
WAPPIN_FORBID_REAL_API = True
# The development glue (sandbox/portal/), as in local settings; the `wappin_sandbox`
# fixture points WAPPIN_SANDBOX_URL at the suite's sandbox (empty: no sandbox).
INSTALLED_APPS = [*INSTALLED_APPS, "sandbox.portal"]
WAPPIN_SANDBOX_URL = env("WAPPIN_SANDBOX_URL", default="")
WAPPIN_TIMEOUT_SECONDS = env.float("WAPPIN_TIMEOUT_SECONDS", default=3.0)
MEDIA_ROOT = BASE_DIR / "var" / "test-media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
AXES_ENABLED = False
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api_key": "10000/min"}}  # noqa: F405
LOGGING = {**LOGGING, "root": {"handlers": ["console"], "level": "WARNING"}}  # noqa: F405
# The sending engine in tests: a dispatcher stops as soon as its queue is empty, and a
# retryable failure is tried again at once (the backoff itself is tested on its own).
SEND_DISPATCH_IDLE_SECONDS = env.float("SEND_DISPATCH_IDLE_SECONDS", default=0.0)
SEND_RETRY_BACKOFF_FACTOR = env.float("SEND_RETRY_BACKOFF_FACTOR", default=0.0)
SEND_CONCURRENCY = env.int("SEND_CONCURRENCY", default=16)
# Callbacks are applied as soon as they are stored (a test posts one at a time).
CALLBACKS_GATHER_SECONDS = env.float("CALLBACKS_GATHER_SECONDS", default=0.0)
# Tests run their webhook receiver on 127.0.0.1 over http, and retry within seconds.
WEBHOOK_ALLOW_INSECURE_URLS = env.bool("WEBHOOK_ALLOW_INSECURE_URLS", default=True)
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=0.2)
