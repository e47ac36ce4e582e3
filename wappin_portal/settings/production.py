"""Production: every secret comes from the environment, with no default.

`manage.py check --deploy` passes with no warning on these settings.
"""

from .base import *  # noqa: F403
from .base import cache_config, env

DEBUG = False
SECRET_KEY = env("SECRET_KEY")
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A server that does not answer is an error in seconds, not a request hung for minutes.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
CELERY_BROKER_URL = env("CELERY_BROKER_URL")
CACHES = {"default": cache_config(env("CACHE_URL", default=CELERY_BROKER_URL))}
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
WAPPIN_BASE_URL = env("WAPPIN_BASE_URL", default="https://api.wappin.id").rstrip("/")

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Load balancers probe each process directly, over plain HTTP.
# Prometheus scrapes each process's /metrics the same way (with its token, on the private network).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Logs: one JSON line per request and per task on standard output, with the request id
# (wappin_portal.logs). Celery logs through the same handler instead of its own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "wappin_portal.logs.ContextFilter"}},
    "formatters": {"json": {"()": "wappin_portal.logs.JsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["context"]}
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # The request's own line says it; Django's would be a second line per 4xx/5xx.
        "django.request": {"level": "ERROR"},
        # One line per task is ours; Celery's "received" and "succeeded: <return value>" are not.
        "celery.app.trace": {"level": "WARNING"},
        "celery.worker.strategy": {"level": "WARNING"},
    },
}
