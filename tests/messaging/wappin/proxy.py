"""A counting pass-through between the client and the sandbox: an observer on the wire.

It forwards every request unchanged and counts them by path, so a test can say
how many token requests really reached Wappin, independent of the client's own log.
"""

from __future__ import annotations

import http.client
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class CountingProxy:
    def __init__(self, upstream: str) -> None:
        target = urlsplit(upstream)
        self.counts: Counter[str] = Counter()
        self.authorizations: list[str] = []
        # When set, every answer goes back with this HTTP code (the body unchanged).
        self.http_status_override: int | None = None
        lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with lock:
                    proxy.counts[self.path] += 1
                    proxy.authorizations.append(self.headers.get("Authorization", ""))
                upstream_connection = http.client.HTTPConnection(
                    target.hostname, target.port, timeout=30
                )
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")
                }
                upstream_connection.request("POST", self.path, body=body, headers=headers)
                answer = upstream_connection.getresponse()
                data = answer.read()
                upstream_connection.close()
                self.send_response(proxy.http_status_override or answer.status)
                self.send_header(
                    "Content-Type", answer.getheader("Content-Type", "application/json")
                )
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
