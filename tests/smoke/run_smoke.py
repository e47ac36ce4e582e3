"""The production smoke test: the README's deployment, run as written, then used over HTTP.

`make smoke` runs it (and `.ci/run`). It reads the fenced block of the README's
"Production deployment" section and runs it with the loopback changes that
section lists: the production settings, a fresh PostgreSQL database, Redis,
gunicorn, a Celery worker and beat, the Wappin sandbox as Wappin. Then it
drives the portal through HTTP only, stops and restarts the workers while
messages are in flight, and stops everything with SIGTERM. Each step prints a
line; any failure prints the processes' logs, kills what it started and exits 1.

Environment: SMOKE_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/wappin_smoke,
created and dropped), SMOKE_REDIS_URL (default redis://127.0.0.1:6379),
SMOKE_BROKER_DB / SMOKE_CACHE_DB (13 / 14; flushed).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tests.smoke.http import Response, http_request
from tests.smoke.variables import undocumented_variables

ROOT = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent
README = ROOT / "README.md"

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "smoke-" + secrets.token_urlsafe(12)
CUSTOMER = "6281234567001"
KEYWORD, KEYWORD_REPLY = "PROMO", "Promo hari ini: diskon 20% untuk semua sepatu!"
TEMPLATE = "smoke_order"
STOP_DEADLINE = 60  # seconds a process has to exit after SIGTERM (a worker finishes its tasks)


class SmokeFailure(Exception):
    pass


def say(text: str) -> None:
    print(f"[smoke] {text}", flush=True)  # noqa: T201 - a script's output


def wait_for(
    what: str, check: Callable[[], Any], *, timeout: float = 60, interval: float = 0.3
) -> Any:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
        except (OSError, SmokeFailure, KeyError, ValueError) as exc:
            last_error, result = exc, None
        if result:
            return result
        time.sleep(interval)
    raise SmokeFailure(
        f"timed out after {timeout:.0f} s waiting for {what}"
        + (f" (last error: {last_error})" if last_error else "")
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- the README's deployment block ----------------------------------------------------------


def deployment_block(readme: str) -> list[str]:
    """The lines of the first ```sh block after '## Production deployment', comments removed."""
    section = readme.split("## Production deployment", 1)
    if len(section) != 2:
        raise SmokeFailure("README.md has no '## Production deployment' section")
    match = re.search(r"```sh\n(.*?)```", section[1], re.S)
    if match is None:
        raise SmokeFailure("the README's deployment section has no ```sh block")
    lines = []
    for raw in match.group(1).splitlines():
        line = re.sub(r"\s+#.*$", "", raw).strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


def documented_variables(lines: list[str]) -> list[str]:
    names = []
    for line in lines:
        if line.startswith("export "):
            names += [word.split("=", 1)[0] for word in shlex.split(line)[1:]]
    return names


class Processes:
    """What the smoke started: each with its log file; all stopped at the end, whatever happens."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.running: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen:
        log_path = self.log_dir / f"{name}.log"
        self.logs[name] = log_path
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.running[name] = process
        return process

    def log(self, name: str) -> str:
        path = self.logs.get(name)
        return path.read_text(errors="replace") if path and path.exists() else ""

    def check_alive(self) -> None:
        for name, process in self.running.items():
            if process.poll() is not None:
                raise SmokeFailure(f"{name} exited early with code {process.returncode}")

    def stop(self, name: str, *, timeout: float = STOP_DEADLINE) -> int:
        """SIGTERM, then wait; a process still there after `timeout` is killed and fails the run."""
        process = self.running.pop(name)
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
            raise SmokeFailure(f"{name} did not stop within {timeout:.0f} s of SIGTERM") from None

    def kill_all(self) -> None:
        for process in self.running.values():
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        self.running.clear()


# --- HTTP, as a browser behind the HTTPS proxy --------------------------------------------


class Portal:
    """The portal over HTTP. Its cookies are Secure (production), so they are kept here and sent
    by hand, as the TLS-terminating proxy in front of a real deployment lets them through."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.host = urlsplit(base_url).netloc
        self.cookies: dict[str, str] = {}
        self.api_key = ""

    def request(self, method: str, path: str, *, api: bool = False, **kwargs) -> Response:
        headers = {"X-Forwarded-Proto": "https", **kwargs.pop("headers", {})}
        if api:
            headers["Authorization"] = f"Api-Key {self.api_key}"
        else:
            if self.cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            if method != "GET":
                headers.update(
                    {
                        "Origin": f"https://{self.host}",
                        "Referer": f"https://{self.host}{path}",
                        "X-CSRFToken": self.cookies.get("csrftoken", ""),
                    }
                )
        response = http_request(method, self.base_url + path, headers=headers, **kwargs)
        self.cookies.update(response.cookies)
        return response

    def expect(self, response: Response, status: int, what: str) -> Response:
        if response.status_code != status:
            raise SmokeFailure(
                f"{what}: HTTP {response.status_code} (expected {status}): {response.text[:500]}"
            )
        return response

    def csrf_token(self, path: str) -> str:
        page = self.expect(self.request("GET", path), 200, f"GET {path}").text
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if match is None:
            raise SmokeFailure(f"no CSRF token on {path}")
        return match.group(1)

    def post_form(self, path: str, data: dict, *, form_page: str | None = None) -> Response:
        token = self.csrf_token(form_page or path)
        return self.request("POST", path, form={"csrfmiddlewaretoken": token, **data})


class Sandbox:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def admin(self, method: str, action: str, data: Any = None, **query: Any) -> Any:
        response = http_request(
            method,
            f"{self.base_url}/_sandbox/{action}",
            json_body=data,
            params=query or None,
            timeout=10,
        )
        if response.status_code != 200:
            raise SmokeFailure(
                f"sandbox {method} {action}: HTTP {response.status_code} {response.text[:300]}"
            )
        return response.json()


# --- the run ----------------------------------------------------------------------------


class Smoke:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.processes = Processes(work)
        database_url = os.environ.get(
            "SMOKE_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wappin_smoke"
        )
        redis_url = os.environ.get("SMOKE_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
        self.database_url = database_url
        self.broker_url = f"{redis_url}/{os.environ.get('SMOKE_BROKER_DB', '13')}"
        self.cache_url = f"{redis_url}/{os.environ.get('SMOKE_CACHE_DB', '14')}"
        self.web_port = free_port()
        self.portal = Portal(f"http://127.0.0.1:{self.web_port}")
        self.sandbox: Sandbox | None = None
        self.worker_commands: list[tuple[str, list[str], dict[str, str]]] = []
        self.metrics_token = secrets.token_urlsafe(32)
        self.worker_metrics_port = free_port()
        self.metrics_pages: list[str] = []

    # Values for the README's exported variables: loopback stand-ins for each.
    def deployment_env(self, documented: list[str]) -> dict[str, str]:
        from cryptography.fernet import Fernet

        values = {
            "DJANGO_SETTINGS_MODULE": "wappin_portal.settings.production",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": self.database_url,
            "CELERY_BROKER_URL": self.broker_url,
            "CACHE_URL": self.cache_url,
            "PORTAL_BASE_URL": self.portal.base_url,
            "USE_X_FORWARDED_PROTO": "true",
            "MEDIA_ROOT": str(self.work / "media"),
            "METRICS_TOKEN": self.metrics_token,
        }
        unknown = [name for name in documented if name not in values]
        if unknown:
            raise SmokeFailure(
                f"the README exports {unknown}: the smoke test has no value for them"
            )
        env = {name: values[name] for name in documented}
        missing = sorted(set(values) - set(documented))
        if missing:
            raise SmokeFailure(f"the README's deployment block does not export {missing}")
        # The loopback exceptions the README lists.
        env["SECURE_SSL_REDIRECT"] = "false"
        # Its own static files: a collectstatic left by an earlier run must not hide a missing one.
        env["STATIC_ROOT"] = str(self.work / "static")
        base = {
            key: os.environ[key] for key in ("PATH", "HOME", "LANG", "TMPDIR") if key in os.environ
        }
        base["PATH"] = f"{BIN}{os.pathsep}{base.get('PATH', '')}"
        return {**base, **env, "PYTHONUNBUFFERED": "1"}

    # -- services ------------------------------------------------------------------------
    def database_create(self) -> None:
        import psycopg

        parts = urlsplit(self.database_url)
        self.database_name = parts.path.lstrip("/")
        self.maintenance_url = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(self.maintenance_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database_name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.database_name}"')

    def database_drop(self) -> None:
        import psycopg

        with psycopg.connect(self.maintenance_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database_name}" WITH (FORCE)')

    def redis_flush(self) -> None:
        import redis

        for url in (self.broker_url, self.cache_url):
            redis.Redis.from_url(url, socket_timeout=5).flushdb()

    def run_once(
        self, argv: list[str], env: dict[str, str], *, what: str, timeout: float = 180
    ) -> str:
        result = subprocess.run(
            argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
        )
        if result.returncode != 0:
            raise SmokeFailure(
                f"{what} failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}"
            )
        return result.stdout

    # -- the deployment --------------------------------------------------------------------
    def deploy(self) -> None:
        missing = {where: names for where, names in undocumented_variables().items() if names}
        if missing:
            raise SmokeFailure(f"variables the settings read are not documented: {missing}")
        say("every variable the settings read is in .env.example and the README")
        lines = deployment_block(README.read_text(encoding="utf-8"))
        documented = documented_variables(lines)
        self.env = self.deployment_env(documented)
        say(f"README exports {', '.join(documented)}; SECURE_SSL_REDIRECT=false (loopback)")
        text = "\n".join(line for line in lines if not line.startswith("export "))
        # The loopback changes the README lists; the first two must apply (or the README moved on).
        for old, new, required in (
            (r"--bind \S+", f"--bind 127.0.0.1:{self.web_port}", True),
            (r"--schedule \S+", f"--schedule {self.work / 'celerybeat-schedule'}", True),
            (r"--workers \d+", "--workers 2", False),
            (r"--concurrency \d+", "--concurrency 2", False),
            (r"--ip-whitelist \S+", "--ip-whitelist 127.0.0.1", False),
            (r"\bcreatesuperuser\b", "createsuperuser --no-input", False),
        ):
            text, count = re.subn(old, new, text)
            if required and not count:
                raise SmokeFailure(
                    f"the README's deployment block has no {old!r} to point at loopback"
                )
        long_running = []
        for line in text.splitlines():
            if line.startswith("pip install"):
                say(f"skip: {line} (this checkout is installed in {BIN.parent})")
                continue
            for command in (part.strip() for part in line.split("&&")):
                words = shlex.split(command)
                prefix_env = {}
                while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
                    name = words.pop(0).split("=", 1)[0]
                    prefix_env[name] = self.command_value(name, words)
                if "createsuperuser" in words:
                    prefix_env["DJANGO_SUPERUSER_PASSWORD"] = ADMIN_PASSWORD
                if words[0] in ("gunicorn", "celery"):
                    long_running.append((command, [str(BIN / words[0]), *words[1:]], prefix_env))
                    continue
                if words[0] == "python":
                    words[0] = sys.executable
                started = time.monotonic()
                output = self.run_once(words, {**self.env, **prefix_env}, what=command)
                say(f"ran: {command}  ({time.monotonic() - started:.1f} s)")
                if "project_bootstrap" in command:
                    self.callback_urls = dict(re.findall(r"(\w+) callback URL: (\S+)", output))
        self.sandbox_start()
        for command, argv, prefix_env in long_running:
            name = self.process_name(argv)
            env = {**self.env, **prefix_env}
            self.processes.start(name, argv, env)
            if " worker" in command:
                self.worker_commands.append((name, argv, env))
            loopback = ", ".join(f"{key}={value}" for key, value in prefix_env.items())
            say(
                f"started: {command}  (pid {self.processes.running[name].pid}"
                + (f"; here {loopback})" if loopback else ")")
            )
        wait_for("/readyz to answer 200", lambda: self.ready(), timeout=90)
        for name, _, _ in self.worker_commands:
            wait_for(
                f"{name} to be ready", lambda n=name: " ready." in self.processes.log(n), timeout=60
            )
        say("the portal is ready: /readyz answers 200 and the workers are ready")

    def command_value(self, name: str, words: list[str]) -> str:
        """The value of a variable set on one command's line (`NAME=value command ...`)."""
        program = next((word for word in words if "=" not in word), "")
        values = {
            "WAPPIN_CLIENT_KEY": self.client_key,
            "WAPPIN_SECRET_KEY": self.secret_key,
            # Each program its own directory, as the README says for one machine.
            "PROMETHEUS_MULTIPROC_DIR": str(self.work / f"metrics-{program}"),
            "CELERY_WORKER_METRICS_PORT": str(self.worker_metrics_port),
            "CELERY_WORKER_METRICS_ADDRESS": "127.0.0.1",
        }
        if name not in values:
            raise SmokeFailure(
                f"the README's commands set {name}: the smoke test has no value for it"
            )
        return values[name]

    def process_name(self, argv: list[str]) -> str:
        base = (
            "gunicorn"
            if "gunicorn" in argv[0]
            else "celery-" + ("beat" if "beat" in argv else "worker")
        )
        name, n = base, 1
        while name in self.processes.logs:
            n += 1
            name = f"{base}-{n}"
        return name

    def ready(self) -> bool:
        self.processes.check_alive()
        return self.portal.request("GET", "/readyz").status_code == 200

    def sandbox_start(self) -> None:
        world = {
            "timezone": "Asia/Jakarta",
            "clients": {
                "0070": {
                    "name": "smoke",
                    "secret_key": self.secret_key,
                    "ip_whitelist": ["127.0.0.1"],
                }
            },
            "projects": {
                "476": {
                    "client_id": "0070",
                    "name": "SMOKE",
                    "callback_url": self.callback_urls["notification"],
                    "notification_callback_url": self.callback_urls["notification"],
                    "chatbot_callback_url": self.callback_urls["chatbot"],
                    "templates": {},
                }
            },
            "knobs": {"callback_delay_ms": 100, "approve_delay_ms": 100},
        }
        world_path = self.work / "sandbox-world.json"
        world_path.write_text(json.dumps(world), encoding="utf-8")
        process = self.processes.start(
            "sandbox",
            [
                sys.executable,
                "-m",
                "sandbox",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--world",
                str(world_path),
            ],
            {
                key: value
                for key, value in self.env.items()
                if key in ("PATH", "HOME", "LANG", "PYTHONUNBUFFERED")
            },
        )
        line = wait_for(
            "the sandbox to print its address",
            lambda: re.search(r"listening on (http://\S+)", self.processes.log("sandbox")),
            timeout=30,
        )
        self.sandbox = Sandbox(line.group(1))
        self.env["WAPPIN_BASE_URL"] = self.sandbox.base_url
        say(f"started: the Wappin sandbox at {self.sandbox.base_url} (pid {process.pid})")

    # -- through HTTP ----------------------------------------------------------------------
    def log_in(self) -> None:
        portal = self.portal
        response = portal.post_form(
            "/accounts/login/", {"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
        )
        if response.status_code != 302 or "sessionid" not in portal.cookies:
            raise SmokeFailure(f"log in refused: HTTP {response.status_code}")
        page = portal.expect(portal.request("GET", "/dashboard/"), 200, "the dashboard").text
        if "My Shop" not in page:
            raise SmokeFailure("the dashboard does not show the project")
        say("logged in as admin (session + CSRF); the dashboard shows the project")

    def api_key_create(self) -> None:
        page = self.portal.expect(
            self.portal.post_form("/api-keys/", {"name": "smoke"}), 200, "create an API key"
        ).text
        match = re.search(r"\b(wp_[A-Za-z0-9_-]{20,})", page)
        if match is None:
            raise SmokeFailure("the API keys page did not show the new key")
        self.portal.api_key = match.group(1)
        say("created an API key on the API keys page")

    def template_approve(self) -> None:
        portal = self.portal
        created = portal.expect(
            portal.request(
                "POST",
                "/api/v1/templates/",
                api=True,
                json_body={
                    "name": TEMPLATE,
                    "message_type": "utility",
                    "languages": [
                        {"language_code": "id", "body": "Halo {{1}}, pesanan {{2}} sedang dikirim."}
                    ],
                },
            ),
            201,
            "create a template",
        ).json()
        portal.expect(
            portal.request(
                "POST", f"/api/v1/templates/{created['id']}/request-approval/", api=True
            ),
            200,
            "request the template's approval",
        )
        # Wappin's review (outside its API): the sandbox plays it.
        self.sandbox.admin(
            "POST",
            "template-request",
            {"project_id": "476", "name": TEMPLATE, "languages": ["id"], "param_count": 2},
        )
        wait_for(
            "Wappin to approve the template",
            lambda: self.sandbox.admin("GET", "world")["projects"]["476"]["templates"][TEMPLATE][
                "active"
            ],
            timeout=30,
        )
        response = portal.post_form(
            f"/templates/{created['id']}/approve/", {}, form_page=f"/templates/{created['id']}/"
        )
        if response.status_code not in (200, 302):
            raise SmokeFailure(f"approve the template: HTTP {response.status_code}")
        status = portal.request("GET", f"/api/v1/templates/{created['id']}/", api=True).json()[
            "status"
        ]
        if status != "approved":
            raise SmokeFailure(f"the template is {status} after the admin approved it")
        say(
            f"template {TEMPLATE}: created and requested through the API, approved by Wappin and by the admin"
        )

    def keyword_create(self) -> None:
        self.portal.expect(
            self.portal.request(
                "POST",
                "/api/v1/chatbot-keywords/",
                api=True,
                json_body={
                    "keyword": KEYWORD,
                    "template_name": "promo_reply",
                    "response_text": KEYWORD_REPLY,
                },
            ),
            201,
            "create a chatbot keyword",
        )
        say(f"chatbot keyword {KEYWORD} created through the API")

    def send(self, number: str, *, request_id: str | None = None) -> int:
        headers = {"X-Request-Id": request_id} if request_id else {}
        response = self.portal.expect(
            self.portal.request(
                "POST",
                "/api/v1/messages/hsm/",
                api=True,
                headers=headers,
                json_body={
                    "recipient_number": number,
                    "type": TEMPLATE,
                    "language_code": "id",
                    "params": {"1": "Budi", "2": "INV-1001"},
                },
            ),
            202,
            "send a template",
        )
        return response.json()["id"]

    def message(self, message_id: int) -> dict:
        return self.portal.expect(
            self.portal.request("GET", f"/api/v1/messages/{message_id}/", api=True),
            200,
            "a message",
        ).json()

    def send_until_read(self) -> None:
        request_id = "smoke-" + secrets.token_hex(6)
        message_id = self.send("0812-3456-7001", request_id=request_id)
        wait_for(
            "the message to reach read",
            lambda: self.message(message_id)["status"] == "read",
            timeout=60,
        )
        timeline = [event["status"] for event in self.message(message_id)["timeline"]]
        say(f"template sent through the API reached read (timeline {' -> '.join(timeline)})")
        worker_lines = [
            json.loads(line)
            for name, _, _ in self.worker_commands
            for line in self.processes.log(name).splitlines()
            if line.startswith("{")
        ]
        if not any(
            line.get("request_id") == request_id and line.get("task") for line in worker_lines
        ):
            raise SmokeFailure(
                f"no JSON task line in the worker's log carries the request id {request_id}"
            )
        say(f"the send task's JSON log line carries the request's X-Request-Id {request_id}")

    def customer_writes(self) -> None:
        self.sandbox.admin(
            "POST",
            "customer-message",
            {"project_id": "476", "sender_number": CUSTOMER, "message_content": KEYWORD},
        )

        def replied() -> bool:
            history = self.portal.request(
                "GET", f"/api/v1/messages/?number={CUSTOMER}", api=True
            ).json()["results"]
            texts = {(message["direction"], message["text"]) for message in history}
            return any(text == KEYWORD for _, text in texts) and any(
                text == KEYWORD_REPLY for _, text in texts
            )

        wait_for("the customer's keyword and its reply in the history", replied, timeout=60)
        say(f"a customer wrote {KEYWORD}; the message and the chatbot's reply are in the history")

    def history_export(self) -> None:
        response = self.portal.expect(
            self.portal.request("GET", "/history/export.csv"), 200, "export the history"
        )
        body = response.content.decode("utf-8-sig")
        if (
            "text/csv" not in response.headers.get("Content-Type", "")
            or CUSTOMER not in body
            or KEYWORD_REPLY not in body
        ):
            raise SmokeFailure("the history CSV lacks the customer's conversation")
        say(f"history exported as CSV ({len(body.splitlines())} lines)")

    def metrics_check(self) -> None:
        """/metrics refuses a request without its token; with it, the web's counters are summed
        over gunicorn's workers and the worker answers its own on its port."""
        from prometheus_client.parser import text_string_to_metric_families

        def values(text: str) -> dict[tuple[str, tuple], float]:
            return {
                (sample.name, tuple(sorted(sample.labels.items()))): sample.value
                for family in text_string_to_metric_families(text)
                for sample in family.samples
            }

        refused = self.portal.request("GET", "/metrics")
        if refused.status_code != 401:
            raise SmokeFailure(f"/metrics without its token: HTTP {refused.status_code}")
        web = self.portal.expect(
            self.portal.request(
                "GET", "/metrics", headers={"Authorization": f"Bearer {self.metrics_token}"}
            ),
            200,
            "/metrics with its token",
        ).text
        worker = http_request(
            "GET", f"http://127.0.0.1:{self.worker_metrics_port}/metrics", timeout=10
        ).text
        self.metrics_pages += [web, worker]
        web_values, worker_values = values(web), values(worker)
        # The first message's sent, delivered and read, whichever gunicorn worker took each.
        statuses = web_values.get(
            ("wappin_portal_callbacks_total", (("outcome", "accepted"), ("reason", "status"))), 0
        )
        read = web_values.get(
            ("wappin_portal_messages_recent", (("kind", "hsm"), ("status", "read"))), 0
        )
        sends = worker_values.get(
            (
                "wappin_portal_wappin_calls_total",
                (("endpoint", "/v1/message/do-send-hsm"), ("status", "200")),
            ),
            0,
        )
        if statuses < 3 or read < 1 or sends < 1:
            raise SmokeFailure(
                f"/metrics: {statuses:g} status callbacks accepted (expected 3 or more, summed "
                f"over gunicorn's workers), {read:g} read template (expected 1 or more), "
                f"{sends:g} sends on the worker's port (expected 1 or more)"
            )
        say(
            f"/metrics: refused without its token; {statuses:g} status callbacks over gunicorn's "
            f"workers, {read:g} read in the last hour; the worker's port counts {sends:g} sends"
        )

    def workers_restart_keep_every_message(self) -> None:
        # Slow Wappin down so that sends are under way when the workers get SIGTERM: a warm
        # shutdown lets them finish. Then sends queued while no worker runs wait for the restart.
        self.sandbox.admin("POST", "knobs", {"latency_ms": 1500})
        numbers = [f"62812345671{n:02d}" for n in range(10)]
        ids = [self.send(number) for number in numbers[:5]]
        for name, _, _ in self.worker_commands:
            code = self.processes.stop(name)
            if code != 0:
                raise SmokeFailure(f"{name} exited with code {code} after SIGTERM")
        ids += [self.send(number) for number in numbers[5:]]
        waiting = [
            message_id for message_id in ids if self.message(message_id)["status"] == "queued"
        ]
        say(
            f"workers stopped with SIGTERM (exit 0) with {len(ids) - len(waiting)} of {len(ids)} sends done, {len(waiting)} queued"
        )
        if not waiting:
            raise SmokeFailure("nothing was left queued while the workers were stopped")
        self.sandbox.admin("POST", "knobs", {"latency_ms": 0})
        for name, argv, env in self.worker_commands:
            self.processes.start(name, argv, env)
            wait_for(
                f"{name} to be ready again",
                lambda n=name: self.processes.log(n).count(" ready.") >= 2,
                timeout=60,
            )
        wait_for(
            "every message to be sent after the restart",
            lambda: all(
                self.message(message_id)["status"] in ("sent", "delivered", "read")
                for message_id in ids
            ),
            timeout=90,
        )
        received = self.sandbox.admin("GET", "messages", endpoint="do-send-hsm")
        for number in numbers:
            count = sum(
                1 for message in received if message["recipient_number_normalised"] == number
            )
            if count != 1:
                raise SmokeFailure(
                    f"Wappin received the message to {number} {count} times (expected once)"
                )
        say(
            "workers started again: every message, queued ones included, reached Wappin exactly once"
        )

    def logs_hold_no_secret(self) -> None:
        tokens = [entry["access_token"] for entry in self.sandbox.admin("GET", "tokens").values()]
        secrets_in_play = [
            self.client_key,
            self.secret_key,
            self.portal.api_key,
            ADMIN_PASSWORD,
            self.metrics_token,
            *filter(None, tokens),
        ]
        for name in self.processes.logs:
            if name == "sandbox":
                continue
            text = self.processes.log(name)
            if any(secret in text for secret in secrets_in_play):
                raise SmokeFailure(
                    f"{name}'s log holds a secret (client key, secret key, API key, password or token)"
                )
        if any(secret in page for page in self.metrics_pages for secret in secrets_in_play):
            raise SmokeFailure("/metrics holds a secret")
        say(
            f"no secret in the portal's logs ({len(secrets_in_play)} secrets looked for, {len(tokens)} Wappin token(s))"
        )

    def stop_all(self) -> None:
        for name in [name for name in self.processes.running if name != "sandbox"] + ["sandbox"]:
            code = self.processes.stop(name)
            if name != "sandbox" and code != 0:
                raise SmokeFailure(f"{name} exited with code {code} after SIGTERM")
        say("gunicorn, the workers, beat and the sandbox stopped on SIGTERM (exit 0)")

    def run(self) -> None:
        started = time.monotonic()
        self.client_key, self.secret_key = secrets.token_hex(20), secrets.token_hex(20)
        self.database_create()
        self.redis_flush()
        say(
            f"fresh database {self.database_name}, Redis {self.broker_url} (broker) and {self.cache_url} (cache)"
        )
        try:
            self.deploy()
            self.run_once(
                [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
                self.env,
                what="makemigrations --check (a model change without its migration)",
            )
            say("makemigrations --check: no migration missing")
            self.log_in()
            self.api_key_create()
            self.template_approve()
            self.keyword_create()
            self.send_until_read()
            self.customer_writes()
            self.history_export()
            self.metrics_check()
            self.workers_restart_keep_every_message()
            self.logs_hold_no_secret()
            self.stop_all()
        except BaseException:
            for name in self.processes.logs:
                say(f"--- last lines of {name}'s log ---")
                print("\n".join(self.processes.log(name).splitlines()[-40:]), flush=True)  # noqa: T201
            raise
        finally:
            self.processes.kill_all()
            self.database_drop()
        say(f"passed in {time.monotonic() - started:.0f} s")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="wappin-smoke-") as work:
        try:
            Smoke(Path(work)).run()
        except SmokeFailure as failure:
            say(f"FAILED: {failure}")
            return 1
        except Exception as error:  # a service that is not there, a bug: still a clear last line
            say(f"FAILED: {type(error).__name__}: {error}")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
