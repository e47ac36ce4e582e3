"""Production settings refuse to start without their secrets and pass `check --deploy` cleanly."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "wappin_portal.settings.production",
    "SECRET_KEY": "k" * 20 + "production-secret-key-that-is-long-and-random-0123456789",
    "FIELD_ENCRYPTION_KEY": "dGVzdC1rZXktZm9yLXRoZS1zdWl0ZS0zMmJ5dGVzISE=",
    "DATABASE_URL": "sqlite:////tmp/wappin-deploy-check.sqlite3",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "ALLOWED_HOSTS": "portal.example.com",
}


def _manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in PRODUCTION_ENV and k not in ("DEBUG", "CACHE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env, "HOME": str(ROOT / "var")},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_settings_pass_check_deploy_with_no_warning(tmp_path):
    # The developer's .env must not leak in: run from a copy-free environment where it is ignored.
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret():
    for missing in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY", "DATABASE_URL", "CELERY_BROKER_URL"):
        env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
        result = _manage("check", env=env)
        assert result.returncode != 0, f"started without {missing}"
        assert missing in result.stderr


def test_a_media_bucket_makes_the_private_s3_storage_the_default():
    script = (
        "from django.core.files.storage import storages; s = storages['default']; "
        "print(type(s).__name__, s.bucket_name, s.default_acl, s.url('a/b.pdf'))"
    )
    env = {
        **PRODUCTION_ENV,
        "MEDIA_S3_BUCKET": "media-bucket",
        "MEDIA_S3_ENDPOINT_URL": "http://127.0.0.1:9",
    }
    result = _manage("shell", "--no-imports", "-c", script, env=env)
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.strip().splitlines()[-1]
        == "PrivateMediaStorage media-bucket private /media/a/b.pdf"
    )
    # Without a bucket: the local folder, as before.
    result = _manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.core.files.storage import storages; print(type(storages['default']).__name__)",
        env=PRODUCTION_ENV,
    )
    assert result.stdout.strip().splitlines()[-1] == "FileSystemStorage"


def test_every_variable_the_settings_read_is_in_env_example_and_the_readme():
    from tests.smoke.variables import settings_variables, undocumented_variables

    assert {"SECRET_KEY", "METRICS_TOKEN", "SEND_RATE_REDIS_URL"} <= settings_variables()
    assert undocumented_variables() == {".env.example": [], "README.md": []}
