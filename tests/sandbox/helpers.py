"""Helpers for the sandbox tests: a callback receiver and an HTTP client (stdlib only)."""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CLIENT_ID = "0070"
SECRET_KEY = "599868c06777dffded3c94a8394d9ab9c3604700"
PROJECT_ID = "476"
OTHER_CLIENT_ID = "0099"
OTHER_SECRET_KEY = "other-secret"
OTHER_PROJECT_ID = "900"
FENCED_CLIENT_ID = "0100"
FENCED_SECRET_KEY = "fenced-secret"
INVALID_NUMBER = "6281100000000"
UNDELIVERABLE_NUMBER = "6281199999999"
GOOD_NUMBER = "6281327666166"


def world_for(callback_url: str) -> dict[str, Any]:
    return {
        "timezone": "Asia/Jakarta",
        "clients": {
            CLIENT_ID: {"name": "wappin-info", "secret_key": SECRET_KEY, "ip_whitelist": []},
            OTHER_CLIENT_ID: {"secret_key": OTHER_SECRET_KEY},
            FENCED_CLIENT_ID: {"secret_key": FENCED_SECRET_KEY, "ip_whitelist": ["10.0.0.0/8"]},
        },
        "projects": {
            PROJECT_ID: {
                "client_id": CLIENT_ID,
                "name": "WAPPIN-INFO",
                "callback_url": callback_url,
                "templates": {
                    "opening_message1": {"languages": ["id", "en"], "param_count": 1},
                    "order_shipped": {"languages": ["id"], "param_count": 2, "header_param": True},
                    "no_params": {"languages": ["en"], "param_count": 0},
                    "old_promo": {"active": False, "languages": ["id"], "param_count": 0},
                },
            },
            OTHER_PROJECT_ID: {"client_id": OTHER_CLIENT_ID, "templates": {}},
        },
        "invalid_numbers": [INVALID_NUMBER],
        "undeliverable_numbers": [UNDELIVERABLE_NUMBER],
        "knobs": {"callback_delay_ms": 20, "callback_retry_backoff_ms": 20, "approve_delay_ms": 50},
    }


# -- the callback receiver ------------------------------------------------------
class CallbackReceiver:
    """A stdlib HTTP server standing in for the portal's callback view."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.answer = b'{"status": "000"}'
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.received.append(
                        {"path": self.path, "headers": dict(self.headers), "body": json.loads(raw)}
                    )
                    answer = receiver.answer
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/callbacks/wappin/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def clear(self) -> None:
        with self.lock:
            self.received.clear()
            self.answer = b'{"status": "000"}'

    def bodies(self, message_id: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [
                r["body"]
                for r in self.received
                if message_id is None or r["body"]["message_id"] == message_id
            ]


# -- the sandbox process ----------------------------------------------------------
class Answer:
    def __init__(self, http_status: int, raw: bytes, headers: dict[str, str]) -> None:
        self.http_status = http_status
        self.raw = raw
        self.headers = headers

    @property
    def json(self) -> Any:
        return json.loads(self.raw)

    @property
    def status(self) -> str:
        return self.json["status"]

    @property
    def message(self) -> str:
        return self.json["message"]


def basic(client_id: str, secret_key: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret_key}".encode()).decode()


def multipart(
    fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]
) -> tuple[bytes, str]:
    boundary = f"----sandboxtest{uuid.uuid4().hex}"
    chunks: list[bytes] = []
    for name, value in fields.items():
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for name, (filename, data, content_type) in files.items():
        chunks.append(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'
            ).encode()
            + data
            + b"\r\n"
        )
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


class Sandbox:
    """Talks to the sandbox over real HTTP with urllib."""

    def __init__(self, url: str, receiver: CallbackReceiver) -> None:
        self.url = url
        self.receiver = receiver

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 10,
    ) -> Answer:
        request = urllib.request.Request(
            self.url + path, data=body, method=method, headers=headers or {}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                return Answer(answer.status, answer.read(), dict(answer.headers))
        except urllib.error.HTTPError as exc:
            return Answer(exc.code, exc.read(), dict(exc.headers))

    def post_json(self, path: str, data: Any, *, token: str | None = None, **kwargs: Any) -> Answer:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.request("POST", path, body=json.dumps(data).encode(), headers=headers, **kwargs)

    def post_multipart(
        self,
        path: str,
        fields: dict[str, str],
        files: dict[str, tuple[str, bytes, str]],
        *,
        token: str | None,
    ) -> Answer:
        body, content_type = multipart(fields, files)
        headers = {"Content-Type": content_type}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.request("POST", path, body=body, headers=headers)

    def token_get(self, client_id: str = CLIENT_ID, secret_key: str = SECRET_KEY) -> Answer:
        return self.request(
            "POST",
            "/v1/token/get",
            headers={
                "Authorization": basic(client_id, secret_key),
                "Content-Type": "application/json",
            },
        )

    def token(self, client_id: str = CLIENT_ID, secret_key: str = SECRET_KEY) -> str:
        answer = self.token_get(client_id, secret_key)
        assert answer.status == "200", answer.json
        return answer.json["data"]["access_token"]

    def admin(self, method: str, action: str, data: Any = None) -> Any:
        body = None if data is None else json.dumps(data).encode()
        answer = self.request(
            method, f"/_sandbox/{action}", body=body, headers={"Content-Type": "application/json"}
        )
        assert answer.http_status == 200, answer.raw
        return answer.json

    def knobs(self, **knobs: Any) -> dict[str, Any]:
        return self.admin("POST", "knobs", knobs)

    def messages(self, **filters: str) -> list[dict[str, Any]]:
        query = "&".join(f"{key}={value}" for key, value in filters.items())
        return self.admin("GET", f"messages?{query}")

    def callbacks(self, **filters: str) -> list[dict[str, Any]]:
        query = "&".join(f"{key}={value}" for key, value in filters.items())
        return self.admin("GET", f"callbacks?{query}")


def wait_for(condition: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)
