"""A webhook receiver for tests: a small `http.server` on a free port of 127.0.0.1, in a thread.

It records every request (headers, raw body, its answer) and answers with the statuses
queued by `answer(...)` (for any event, or for one event type), then 200.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered

    @property
    def json(self) -> dict:
        return json.loads(self.body)


class WebhookReceiver:
    def __init__(self) -> None:
        self.requests: list[ReceivedRequest] = []
        self._answers: dict[str | None, deque[int]] = {}
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    event_type = json.loads(body).get("type")
                except ValueError:
                    event_type = None
                with receiver._lock:
                    queue = receiver._answers.get(event_type) or receiver._answers.get(None)
                    status = queue.popleft() if queue else 200
                    receiver.requests.append(
                        ReceivedRequest(
                            self.path, {k.lower(): v for k, v in self.headers.items()}, body, status
                        )
                    )
                answer = b'{"ok": true}' if status < 300 else b"receiver says no"
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def answer(self, *statuses: int, event_type: str | None = None) -> None:
        """The next requests (of `event_type`, or any) get these statuses, in order (then 200)."""
        with self._lock:
            self._answers.setdefault(event_type, deque()).extend(statuses)

    def of_type(self, event_type: str) -> list[ReceivedRequest]:
        with self._lock:
            return [r for r in self.requests if r.json.get("type") == event_type]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def eventually(check, *, timeout: float = 30.0, interval: float = 0.1):
    """Poll `check()` until it is truthy; return its value, or the last one after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
