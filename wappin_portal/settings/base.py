"""Settings shared by every environment, all read through django-environ.

Each variable is listed with a comment in `.env.example`. Optional parts switch
on when their variable is set (PostgreSQL, Redis, trusted proxies).
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# A developer's `.env` (written by `make run` on first start) fills what the real
# environment leaves unset. Production reads the environment only, so a stray
# `.env` on a server can never supply a secret.
if not os.environ.get("DJANGO_SETTINGS_MODULE", "").endswith(".production"):
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

PORT = env.int("PORT", default=8000)
SANDBOX_PORT = env.int("SANDBOX_PORT", default=9100)

SECRET_KEY = env("SECRET_KEY")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The address Wappin reaches this portal at; callback URLs are built from it.
PORTAL_BASE_URL = env("PORTAL_BASE_URL", default=f"http://127.0.0.1:{PORT}").rstrip("/")

INSTALLED_APPS = [
    "wappin_portal.apps.PortalAdminConfig",  # django.contrib.admin, superusers only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "csp",
    "axes",
    # Two-factor log-in; the devices are the projects app's own (secrets never in clear).
    "django_otp",
    "projects",
    "templates_app",
    "messaging",
    "callbacks",
]

MIDDLEWARE = [
    # Request counts and latencies by view for /metrics (django-prometheus; first and last).
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # A request id for every answer, and the request's log line (JSON in production).
    "wappin_portal.logs.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Wappin's callbacks go straight to their view from here (none of the ones below).
    "callbacks.middleware.CallbackFastPathMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Django's, but a live part's poll neither extends the idle session nor swaps in the login page.
    "wappin_portal.middleware.LivePollSessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): this session gave a two-factor code.
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A session that owes a two-factor code (or, for admins, an authenticator) goes no further.
    "projects.two_factor.middleware.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Content-Security-Policy (no inline script anywhere: static/js/portal.js) and
    # Permissions-Policy on every answer.
    "csp.middleware.CSPMiddleware",
    "wappin_portal.middleware.PermissionsPolicyMiddleware",
    "wappin_portal.middleware.RateLimitHeadersMiddleware",
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "wappin_portal.urls"
WSGI_APPLICATION = "wappin_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "wappin_portal" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "projects.context_processors.current_project",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web server, the Celery worker and the
    # sandbox's callbacks write to one SQLite file without "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # A server that does not answer is an error in seconds, not a request hung for minutes.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def cache_config(url: str) -> dict:
    """A cache URL's settings, with Django's Redis backend swapped for ours (`wappin_portal.cache`)."""
    config = env.cache_url_config(url)
    if config["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
        config["BACKEND"] = "wappin_portal.cache.RedisCache"
    return config


# A cache every process shares: the database by default, Redis when set.
CACHES = {"default": cache_config(env("CACHE_URL", default="dbcache://django_cache"))}

# Scripts only from the portal itself, never inline (styles may be: the charts' bar
# heights); nothing framed, posted or loaded from elsewhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
# Two-factor log-in (django-otp): optional for everyone; when true, project admins and
# superusers must set up an authenticator app before anything else.
REQUIRE_2FA_FOR_ADMINS = env.bool("REQUIRE_2FA_FOR_ADMINS", default=False)
# The name authenticator apps show next to the code.
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="Wappin Portal")
# E-mail (password reset links): printed on the console unless EMAIL_URL names an SMTP
# server, e.g. smtp+tls://user:password@smtp.example.com:587.
vars().update(env.email_url_config(env("EMAIL_URL", default="") or "consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Wappin Portal <noreply@localhost>")
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT_SECONDS", default=3600)
# A session ends after this long without a request (each request moves the end).
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_TIMEOUT_SECONDS", default=8 * 3600)
SESSION_SAVE_EVERY_REQUEST = True
LOGIN_REDIRECT_URL = "messaging:dashboard"
LOGOUT_REDIRECT_URL = "login"

# English and Bahasa Indonesia: a person's choice (the header's switch, kept in a cookie),
# else their browser's Accept-Language, else English. Each app keeps its own catalogue
# (`<app>/locale/id/`); the project-wide templates' is `wappin_portal/locale/id/`.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("id", "Bahasa Indonesia")]
LOCALE_PATHS = [BASE_DIR / "wappin_portal" / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SECURE = False  # production: True
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = env("TIME_ZONE", default="Asia/Jakarta")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
# Uploaded media on an S3-compatible bucket when MEDIA_S3_BUCKET is set (else MEDIA_ROOT),
# private: members get a file only through the portal's /media/ view.
MEDIA_S3_BUCKET = env("MEDIA_S3_BUCKET", default="")
MEDIA_S3_REDIRECT = env.bool("MEDIA_S3_REDIRECT", default=True)
MEDIA_SIGNED_URL_SECONDS = env.int("MEDIA_SIGNED_URL_SECONDS", default=60)
if MEDIA_S3_BUCKET:
    _media_s3_endpoint = env("MEDIA_S3_ENDPOINT_URL", default="") or None
    STORAGES["default"] = {
        "BACKEND": "wappin_portal.storage.PrivateMediaStorage",
        "OPTIONS": {
            "bucket_name": MEDIA_S3_BUCKET,
            "location": env("MEDIA_S3_PREFIX", default=""),
            "endpoint_url": _media_s3_endpoint,
            "region_name": env("MEDIA_S3_REGION", default="") or None,
            # Empty: boto3's own chain (AWS_* variables, an instance role).
            "access_key": env("MEDIA_S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env("MEDIA_S3_SECRET_ACCESS_KEY", default="") or None,
            # S3-compatible servers (MinIO, Ceph...) want path-style addresses.
            "addressing_style": "path" if _media_s3_endpoint else None,
            "signature_version": "s3v4",
        },
    }
# Large enough for WhatsApp's largest media (documents, 100 MB); Django keeps
# bigger uploads on disk, not in memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Stored secrets (client key, secret key, tokens) are encrypted with Fernet.
# Several comma-separated keys allow rotation: the first encrypts, all decrypt.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEY")

# Client addresses behind trusted reverse proxies (django-ipware). Empty: the
# peer address is the client, and X-Forwarded-For is ignored.
IPWARE_TRUSTED_PROXY_LIST = env.list("TRUSTED_PROXIES", default=[])
IPWARE_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if IPWARE_PROXY_COUNT and not IPWARE_TRUSTED_PROXY_LIST:
    # A count alone would believe X-Forwarded-For from anyone who connects directly.
    raise ImproperlyConfigured(
        "TRUSTED_PROXY_COUNT is set but TRUSTED_PROXIES is empty: name the proxies' addresses "
        "in TRUSTED_PROXIES too, or X-Forwarded-For would be believed from any caller "
        "(the callback allow-list and the login lock-out rely on the client's address)."
    )
# Failures count per account at one address (one person mistyping locks out nobody else
# behind that address: AXES_FAILURE_LIMIT), and per account from everywhere, with a higher
# limit of its own (guessing one password from many addresses stops too:
# AXES_USERNAME_FAILURE_LIMIT). wappin_portal/login_limits.py keeps the two limits apart.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_USERNAME_FAILURE_LIMIT = env.int("AXES_USERNAME_FAILURE_LIMIT", default=50)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username"]
AXES_HANDLER = "wappin_portal.login_limits.PortalAxesHandler"
AXES_COOLOFF_TIME = 1  # hours
AXES_RESET_ON_SUCCESS = True
# The lock-out counts failures per real client address, found the same way as everywhere.
AXES_CLIENT_IP_CALLABLE = "wappin_portal.client_ip.client_ip"

# Wappin
WAPPIN_BASE_URL = env("WAPPIN_BASE_URL", default=f"http://127.0.0.1:{SANDBOX_PORT}").rstrip("/")
WAPPIN_TIMEOUT_SECONDS = env.float("WAPPIN_TIMEOUT_SECONDS", default=15.0)
# Wappin's `expired_datetime` carries no timezone; we read it in this one.
WAPPIN_TOKEN_TIMEZONE = env("WAPPIN_TOKEN_TIMEZONE", default="Asia/Jakarta")
# Refresh the token this long before Wappin says it expires.
WAPPIN_TOKEN_REFRESH_MARGIN_SECONDS = env.int("WAPPIN_TOKEN_REFRESH_MARGIN_SECONDS", default=3600)
# Set to true only in tests: refuse any call to the real api.wappin.id.
WAPPIN_FORBID_REAL_API = env.bool("WAPPIN_FORBID_REAL_API", default=False)

# Celery: an embedded broker on a SQLite file by default (no server needed);
# Redis or RabbitMQ when CELERY_BROKER_URL is set.
CELERY_BROKER_URL = env(
    "CELERY_BROKER_URL", default=f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}"
)
# The embedded broker polls its table; kombu's default (once a second) let a worker take
# about 2 tasks a second. Every 100 ms costs one indexed SELECT per queue (wappin_portal/celery.py).
EMBEDDED_BROKER_POLLING_SECONDS = 0.1
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=90)
# A task is acknowledged when it ends, not when a worker takes it: a worker that dies (SIGKILL,
# a lost machine) leaves it on the broker, and another worker runs it again. Every task is
# written to be run twice (they load rows by id and act on their state; the sending engine
# claims rows, so a message is never sent twice). A task that kills its own worker
# process (memory) is given back too (`reject_on_worker_lost`): each is idempotent.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# One task at a time per process: the dispatchers and a blast's expansion are long.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis hands a task a worker took but never acknowledged (the worker died) to another
# worker after this long. It must be longer than the longest task (a contact import: up to
# 61 minutes, `IMPORT_TIME_LIMIT`) plus the longest countdown a task is published with (a
# minute), or a task still running would be run a second time at once. Sends and blasts
# do not wait that long after a lost worker: the beat's sweeps wake the sending engine
# within seconds (`messages_sending_sweep`) and resume stalled blasts within 5 minutes.
CELERY_VISIBILITY_TIMEOUT_SECONDS = env.int("CELERY_VISIBILITY_TIMEOUT_SECONDS", default=7200)
if CELERY_BROKER_URL.startswith(("redis://", "rediss://", "sentinel://")):
    # (The embedded broker's transport would hand this to SQLAlchemy's create_engine().)
    # Each worker looks for such tasks every 10 s (kombu's default: every 100 s), one cheap
    # ZRANGEBYSCORE: a lost task is back within the visibility timeout and 10 seconds.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": CELERY_VISIBILITY_TIMEOUT_SECONDS,
        "unacked_restore_interval": 10,
        "unacked_restore_throttle": 1,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
# Queues by kind of work, so none waits behind another's backlog: a blast's expansion
# (`blasts`), the sending engine's dispatchers (`sending`: transactional sends and blasts'),
# status callbacks (`callbacks`), deliveries to the customer's webhooks (`webhooks`),
# periodic sweeps (`housekeeping`); the rest (template review, contact imports) on `celery`.
# The README's deployment runs workers for all of them
# (`-Q celery,sending,blasts,callbacks,webhooks,housekeeping`); each can have its own workers.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {
    "messaging.messages_dispatch": {"queue": "sending"},
    "messaging.tasks.blast_expand": {"queue": "blasts"},
    "messaging.tasks.blasts_tick": {"queue": "housekeeping"},
    "messaging.tasks.blasts_resume_stalled": {"queue": "housekeeping"},
    "messaging.messages_sending_sweep": {"queue": "housekeeping"},
    "messaging.tasks.messages_settle_unknown": {"queue": "housekeeping"},
    "messaging.tasks.idempotency_records_prune": {"queue": "housekeeping"},
    "callbacks.tasks.callbacks_sweep": {"queue": "housekeeping"},
    "callbacks.tasks.callbacks_prune": {"queue": "housekeeping"},
    "messaging.tasks.message_counts_squash": {"queue": "housekeeping"},
    "messaging.tasks.wappin_call_logs_prune": {"queue": "housekeeping"},
    "callbacks.tasks.callback_process": {"queue": "callbacks"},
    "callbacks.tasks.callbacks_process": {"queue": "callbacks"},
    # Every task named webhooks.* (their module names them so).
    "webhooks.*": {"queue": "webhooks"},
}
# Task modules outside an app's tasks.py (which autodiscover_tasks finds by itself).
CELERY_IMPORTS = ["messaging.contacts.import_tasks", "projects.webhooks.tasks"]
CELERY_BEAT_SCHEDULE = {
    # Scheduled blasts start on time; blasts whose sends are settled are marked done.
    "blasts-tick": {
        "task": "messaging.tasks.blasts_tick",
        "schedule": 15.0,
    },
    # Due retries, a lost wake, and sends a worker that died left half-done.
    "sending-sweep": {
        "task": "messaging.messages_sending_sweep",
        "schedule": 10.0,
    },
    "settle-unknown-messages": {
        "task": "messaging.tasks.messages_settle_unknown",
        "schedule": crontab(minute="*/5"),
    },
    "prune-idempotency-records": {
        "task": "messaging.tasks.idempotency_records_prune",
        "schedule": crontab(minute=17, hour=3),
    },
    "resume-stalled-blasts": {
        "task": "messaging.tasks.blasts_resume_stalled",
        "schedule": crontab(minute="*/5"),
    },
    # The dashboard's counts: each minute's delta rows folded into one row per key.
    "squash-message-counts": {
        "task": "messaging.tasks.message_counts_squash",
        "schedule": crontab(minute="*"),
    },
    # Retention of the callback log and the Wappin call log.
    "prune-callback-log": {
        "task": "callbacks.tasks.callbacks_prune",
        "schedule": crontab(minute=27, hour=3),
    },
    "prune-wappin-call-log": {
        "task": "messaging.tasks.wappin_call_logs_prune",
        "schedule": crontab(minute=37, hour=3),
    },
    # Callbacks whose task was lost, and statuses that came before their message.
    "callbacks-sweep": {
        "task": "callbacks.tasks.callbacks_sweep",
        "schedule": crontab(minute="*"),
    },
    # Webhook deliveries whose retry is due; settled deliveries past their retention.
    "webhooks-sweep": {
        "task": "webhooks.sweep",
        "schedule": 15.0,
    },
    "webhooks-prune": {
        "task": "webhooks.prune",
        "schedule": crontab(minute=47, hour=3),
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "projects.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PARSER_CLASSES": [
        "wappin_portal.api.JSONParser",
        "rest_framework.parsers.FormParser",
        "wappin_portal.api.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "wappin_portal.api.exception_handler",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "wappin_portal.api.ApiKeyJsonNegotiation",
    "DEFAULT_THROTTLE_CLASSES": ["projects.authentication.ApiKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_key": env("API_KEY_THROTTLE_RATE", default="600/min")},
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Wappin Portal API",
    "DESCRIPTION": (
        "Send WhatsApp messages through Wappin, follow their statuses, and manage templates, "
        "chatbot keywords and contacts. Authenticate with `Authorization: Api-Key <key>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a `status` or `source` with different choices: name each enum.
    "ENUM_NAME_OVERRIDES": {
        "MessageStatusEnum": "messaging.models.Message.Status",
        "MessageSourceEnum": "messaging.models.Message.Source",
        "StatusEventSourceEnum": "messaging.models.MessageStatusEvent.Source",
        "BlastStatusEnum": "messaging.models.Blast.Status",
        "ContactImportStatusEnum": "messaging.models.ContactImport.Status",
    },
    # Every answer's headers (X-Request-Id, RateLimit-*, Retry-After on 429) in the schema.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "wappin_portal.api.schema_headers_add",
        "wappin_portal.schema_descriptions.schema_descriptions_fill",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # A line per request and per task: production's JSON logs; runserver and Celery
        # already say as much in development.
        "wappin_portal.request": {"level": "WARNING"},
        "wappin_portal.task": {"level": "WARNING"},
    },
}

# The sending engine (messaging/sending/engine.py).
# Calls to Wappin in flight at once per dispatcher (threads of one worker process).
# Retention (days) of the callback log (refused ones shorter) and of the Wappin call log;
# at most this many refused callbacks of one integration are stored a minute.
CALLBACK_LOG_RETENTION_DAYS = env.int("CALLBACK_LOG_RETENTION_DAYS", default=90)
CALLBACK_REFUSED_RETENTION_DAYS = env.int("CALLBACK_REFUSED_RETENTION_DAYS", default=7)
CALLBACK_REFUSED_STORED_PER_MINUTE = env.int("CALLBACK_REFUSED_STORED_PER_MINUTE", default=20)
WAPPIN_CALL_LOG_RETENTION_DAYS = env.int("WAPPIN_CALL_LOG_RETENTION_DAYS", default=90)
# The callback processor waits this long after a batch that was not full, for the stream
# of callbacks to gather into fuller batches.
CALLBACKS_GATHER_SECONDS = env.float("CALLBACKS_GATHER_SECONDS", default=0.1)
SEND_CONCURRENCY = env.int("SEND_CONCURRENCY", default=128)
# Dispatchers that serve one integration at once during a blast (one per worker process
# that consumes the `sending` queue is a good value); transactional sends need one.
SEND_DISPATCHERS_PER_INTEGRATION = env.int("SEND_DISPATCHERS_PER_INTEGRATION", default=2)
# A dispatcher hands its integration over to a fresh task after this long.
SEND_DISPATCH_BUDGET_SECONDS = env.float("SEND_DISPATCH_BUDGET_SECONDS", default=45.0)
# How long an idle dispatcher waits for new messages before it stops.
SEND_DISPATCH_IDLE_SECONDS = env.float("SEND_DISPATCH_IDLE_SECONDS", default=2.0)
# Retryable failures (Wappin down, a 5xx) wait 2, 4, 8, 16, 32 s (times this factor) between tries.
SEND_RETRY_BACKOFF_FACTOR = env.float("SEND_RETRY_BACKOFF_FACTOR", default=1.0)
# The shared rate cap lives in Redis when set (production: every machine shares it);
# empty: in the database (the embedded default). Defaults to CACHE_URL when that is Redis.
_cache_url = env("CACHE_URL", default="")
SEND_RATE_REDIS_URL = env(
    "SEND_RATE_REDIS_URL",
    default=_cache_url if _cache_url.startswith(("redis://", "rediss://")) else "",
)

# Outgoing webhooks (projects/webhooks/). Endpoints must be https:// on public addresses
# unless this is on (local and test settings: http and loopback for a receiver on the machine).
WEBHOOK_ALLOW_INSECURE_URLS = env.bool("WEBHOOK_ALLOW_INSECURE_URLS", default=False)
# One attempt waits this long for the receiver's answer.
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=5.0)
# Failed attempts are retried after base, 2x base, 4x base... seconds (capped, with jitter),
# for the retry window; an endpoint whose attempts all failed for so long is disabled.
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=30.0)
WEBHOOK_RETRY_MAX_SECONDS = env.float("WEBHOOK_RETRY_MAX_SECONDS", default=6 * 3600.0)
WEBHOOK_RETRY_WINDOW_SECONDS = env.int("WEBHOOK_RETRY_WINDOW_SECONDS", default=3 * 24 * 3600)
WEBHOOK_DISABLE_AFTER_SECONDS = env.int("WEBHOOK_DISABLE_AFTER_SECONDS", default=3 * 24 * 3600)
# After a secret's rotation the old one keeps signing (two signatures) this long.
WEBHOOK_SECRET_OVERLAP_SECONDS = env.int("WEBHOOK_SECRET_OVERLAP_SECONDS", default=24 * 3600)
# Settled deliveries (and their attempts) are kept this many days in the log.
WEBHOOK_DELIVERY_RETENTION_DAYS = env.int("WEBHOOK_DELIVERY_RETENTION_DAYS", default=30)

# Metrics for Prometheus at /metrics (wappin_portal/metrics.py): only with
# `Authorization: Bearer <METRICS_TOKEN>`; empty, /metrics is a 404. Several processes
# per machine (gunicorn's workers, Celery's prefork pool) need PROMETHEUS_MULTIPROC_DIR
# (read by prometheus_client itself), one empty directory per program.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
# `wappin_portal_messages_recent` counts the messages created this long ago at most.
METRICS_RECENT_SECONDS = env.int("METRICS_RECENT_SECONDS", default=3600)
# A Celery worker answers its own counters (Wappin calls, token refreshes) on this port
# (empty: none), on this address (a private interface: the port has no token).
CELERY_WORKER_METRICS_PORT = env.int("CELERY_WORKER_METRICS_PORT", default=0)
CELERY_WORKER_METRICS_ADDRESS = env("CELERY_WORKER_METRICS_ADDRESS", default="127.0.0.1")
