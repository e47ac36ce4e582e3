"""The HTTP server: Wappin's paths under ``/v1/``, test controls under ``/_sandbox/``."""

from __future__ import annotations

import html
import json
import logging
import random
import socket
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox.api import ROUTES, WappinRequest, api_handle
from sandbox.callbacks import customer_message_send
from sandbox.state import State
from sandbox.world import WorldError

logger = logging.getLogger("sandbox")

MAX_BODY_BYTES = 110 * 1024 * 1024


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], state: State, *, verbose: bool = False) -> None:
        super().__init__(address, Handler)
        self.state = state
        self.verbose = verbose


class BadRequest(Exception):
    def __init__(self, message: str, http_status: int = 400) -> None:
        super().__init__(message)
        self.http_status = http_status


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "WappinSandbox/1.0"
    disable_nagle_algorithm = True
    server: SandboxServer

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # -- plumbing -------------------------------------------------------
    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY_BYTES:
                    raise BadRequest("request body too large", 413)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise BadRequest("bad Content-Length") from None
        if length > MAX_BODY_BYTES:
            raise BadRequest("request body too large", 413)
        return self.rfile.read(length) if length > 0 else b""

    def _send(
        self, http_status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None
    ) -> None:
        # One write per answer: headers and body together keep keep-alive fast.
        reason = self.responses.get(http_status, ("",))[0]
        lines = [
            f"HTTP/1.1 {http_status} {reason}",
            f"Server: {self.server_version}",
            f"Date: {self.date_time_string()}",
            f"Content-Type: {content_type}",
            f"Content-Length: {len(body)}",
        ]
        for name, value in (extra or {}).items():
            lines.append(f"{name}: {value}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + body)
        if self.server.verbose:
            self.log_request(http_status, len(body))

    def _send_json(self, http_status: int, data: Any) -> None:
        self._send(http_status, json.dumps(data).encode(), "application/json")

    def _client_ip(self) -> str:
        forwarded = self.headers.get("X-Forwarded-For")
        if forwarded and self.server.state.knob("trust_x_forwarded_for"):
            return forwarded.split(",")[0].strip()
        return self.client_address[0]

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        try:
            body = self._read_body()
            if path in ROUTES:
                self._wappin(method, path, body)
            elif path == "/_sandbox" or path.startswith("/_sandbox/"):
                self._admin(method, path, parse_qs(url.query), body)
            else:
                self._send_json(404, {"status": "404", "message": "Not Found"})
        except BadRequest as exc:
            self.close_connection = True
            self._send_json(exc.http_status, {"error": str(exc)})
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception as exc:
            logger.exception("sandbox request failed")
            self.close_connection = True
            self._send_json(500, {"error": f"{type(exc).__name__}: {exc}"})

    # -- Wappin ---------------------------------------------------------
    def _wappin(self, method: str, path: str, body: bytes) -> None:
        if method != "POST":
            self._send_json(405, {"status": "405", "message": "Method Not Allowed"})
            return
        state = self.server.state
        knobs = state.knobs
        if knobs["latency_ms"]:
            time.sleep(knobs["latency_ms"] / 1000)
        if knobs["token_latency_ms"] and path.rstrip("/").endswith("/token/get"):
            time.sleep(knobs["token_latency_ms"] / 1000)
        if knobs["timeout_rate"] and random.random() < knobs["timeout_rate"]:
            # Nothing is processed; the client should have given up long before.
            time.sleep(knobs["timeout_sleep_s"])
            self.close_connection = True
            self._send(504, b"<html><body><h1>504 Gateway Time-out</h1></body></html>", "text/html")
            return
        if knobs["error_5xx_rate"] and random.random() < knobs["error_5xx_rate"]:
            status = int(knobs["error_5xx_status"])
            reason = self.responses.get(status, ("Server Error",))[0]
            page = f"<html><body><h1>{status} {reason}</h1></body></html>".encode()
            self._send(status, page, "text/html")
            return
        request = WappinRequest(headers=self.headers, body=body, client_ip=self._client_ip())
        self._send_json(200, api_handle(state, path, request))

    # -- admin ----------------------------------------------------------
    def _admin(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> None:
        state = self.server.state
        action = path.removeprefix("/_sandbox").strip("/")
        route = (method, action)

        def payload() -> Any:
            try:
                return json.loads(body or b"{}")
            except ValueError:
                pass
            # The HTML page's form posts urlencoded fields.
            if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
                return {key: values[-1] for key, values in parse_qs(body.decode()).items()}
            raise BadRequest("the body must be JSON")

        try:
            if route == ("GET", ""):
                self._send(200, _page(state).encode(), "text/html; charset=utf-8")
            elif route == ("GET", "health"):
                self._send_json(200, {"status": "ok", "busy_jobs": state.scheduler.busy()})
            elif route == ("GET", "world"):
                self._send_json(200, state.world_get())
            elif route == ("PUT", "world"):
                self._send_json(200, state.world_replace(payload()))
            elif route == ("PATCH", "world"):
                self._send_json(200, state.world_patch(payload()))
            elif route == ("POST", "reload"):
                self._send_json(200, state.world_reload())
            elif route == ("GET", "knobs"):
                self._send_json(200, dict(state.knobs))
            elif route == ("POST", "knobs"):
                self._send_json(200, state.knobs_update(payload()))
            elif route == ("GET", "tokens"):
                self._send_json(200, state.tokens_list())
            elif route in {("POST", "revoke-token"), ("POST", "expire-token")}:
                client_id = str(_field(payload(), "client_id"))
                change = state.token_revoke if action == "revoke-token" else state.token_expire
                self._send_json(200, {"client_id": client_id, "changed": change(client_id)})
            elif route == ("GET", "messages"):
                self._send_json(200, state.messages_list(*_filters(query)))
            elif route == ("GET", "callbacks"):
                self._send_json(200, state.callbacks_list(*_filters(query)))
            elif route == ("POST", "reset"):
                state.reset()
                self._send_json(200, {"reset": True})
            elif route == ("POST", "customer-message"):
                self._customer_message(payload())
            elif route == ("POST", "template-request"):
                self._send_json(200, _template_request(state, payload()))
            else:
                self._send_json(404, {"error": f"no admin route {method} {path}"})
        except (WorldError, ValueError, LookupError) as exc:
            self._send_json(400, {"error": str(exc)})

    def _customer_message(self, data: Any) -> None:
        state = self.server.state
        sent = customer_message_send(
            state,
            project_id=str(_field(data, "project_id")),
            sender_number=str(_field(data, "sender_number")),
            message_content=str(_field(data, "message_content")),
        )
        if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            self._send(303, b"", "text/plain", {"Location": "/_sandbox/"})
        else:
            self._send_json(200, sent)


def _field(data: Any, name: str) -> Any:
    if not isinstance(data, dict) or data.get(name) in (None, ""):
        raise ValueError(f"{name} is required")
    return data[name]


def _filters(query: dict[str, list[str]]) -> tuple[dict[str, str], int]:
    limit = int(query.pop("limit", ["0"])[-1] or 0)
    return {key: values[-1] for key, values in query.items()}, limit


def _template_request(state: State, data: Any) -> dict[str, Any]:
    """Simulate Wappin's review: the template goes on process, then approved or rejected."""
    project_id = str(_field(data, "project_id"))
    name = str(_field(data, "name"))
    outcome = data.get("outcome", "approved")
    if outcome not in ("approved", "rejected"):
        raise ValueError("outcome must be approved or rejected")
    template = {
        "active": False,
        "approval": "on_process",
        "languages": data.get("languages") or ["id"],
        "param_count": data.get("param_count", 0),
        "header_param": bool(data.get("header_param", False)),
    }
    with state.lock:
        if project_id not in state.world["projects"]:
            raise LookupError(f"unknown project_id {project_id!r}")
        state.world_patch({"projects": {project_id: {"templates": {name: template}}}})

    def decide() -> None:
        with state.lock:
            if name in state.world["projects"].get(project_id, {}).get("templates", {}):
                state.world_patch(
                    {
                        "projects": {
                            project_id: {
                                "templates": {
                                    name: {"approval": outcome, "active": outcome == "approved"}
                                }
                            }
                        }
                    }
                )

    delay_ms = state.knob("approve_delay_ms")
    if delay_ms:
        state.scheduler.schedule(delay_ms / 1000, decide)
    else:
        decide()  # no review time: decided before the answer, so a caller can read it at once
    with state.lock:
        decided = state.world["projects"][project_id]["templates"].get(name, template)
    return {
        "project_id": project_id,
        "name": name,
        **template,
        "active": decided["active"],
        "approval": decided.get("approval", template["approval"]),
        "approve_delay_ms": delay_ms,
    }


def _page(state: State) -> str:
    with state.lock:
        projects = list(state.world["projects"].items())
    messages = state.messages_list({}, 20)
    callbacks = state.callbacks_list({}, 20)
    esc = html.escape
    options = "".join(
        f'<option value="{esc(pid)}">{esc(pid)} - {esc(p["name"])}</option>' for pid, p in projects
    )
    message_rows = "".join(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>".format(
            esc(m["message_id"]),
            esc(m["direction"]),
            esc(m["endpoint"]),
            esc(m["project_id"]),
            esc(m.get("recipient_number_normalised") or m.get("sender_number") or ""),
            esc(str(m.get("status"))),
        )
        for m in reversed(messages)
    )
    callback_rows = "".join(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>".format(
            esc(c["message_id"]),
            esc(c["callback_type"]),
            esc(c["status"]),
            c["attempt"],
            esc(str(c["http_status"] or c["error"])),
            "yes" if c["accepted"] else "no",
        )
        for c in reversed(callbacks)
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Wappin sandbox</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #1d2b24; }}
table {{ border-collapse: collapse; margin-bottom: 2rem; }}
td, th {{ border: 1px solid #ccc; padding: .25rem .5rem; font-size: .9rem; }}
label {{ display: block; margin: .5rem 0 .2rem; }}
</style></head><body>
<h1>Wappin sandbox</h1>
<p>An emulator of api.wappin.id. <a href="/_sandbox/">Refresh</a> &middot;
<a href="/_sandbox/world">world</a> &middot; <a href="/_sandbox/messages">messages</a> &middot;
<a href="/_sandbox/callbacks">callbacks</a></p>
<h2>A customer writes</h2>
<form method="post" action="/_sandbox/customer-message">
<label for="project_id">Project</label><select id="project_id" name="project_id">{options}</select>
<label for="sender_number">Customer number</label>
<input id="sender_number" name="sender_number" value="6281234567890" required>
<label for="message_content">Message</label>
<input id="message_content" name="message_content" value="halo wappin" required>
<p><button type="submit">Send as customer</button></p>
</form>
<h2>Recent messages</h2>
<table><tr><th>message_id</th><th>direction</th><th>endpoint</th><th>project</th>
<th>number</th><th>status</th></tr>{message_rows}</table>
<h2>Recent callbacks</h2>
<table><tr><th>message_id</th><th>type</th><th>status</th><th>attempt</th><th>answer</th>
<th>accepted</th></tr>{callback_rows}</table>
</body></html>
"""


def server_start(host: str, port: int, state: State, *, verbose: bool = False) -> SandboxServer:
    server = SandboxServer((host, port), state, verbose=verbose)
    server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    return server
