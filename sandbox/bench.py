"""Requests per second against a running sandbox, with keep-alive clients.

    python -m sandbox.bench --url http://127.0.0.1:9100 --seconds 5 --concurrency 8

Each client is its own process (so the clients' GIL is not what we measure)
holding one keep-alive connection. The client, project and template come from
the sandbox's own world (``GET /_sandbox/world``).
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import multiprocessing
import statistics
import sys
import time
from typing import Any
from urllib.parse import urlsplit


def _call(
    conn: http.client.HTTPConnection, method: str, path: str, body: bytes, headers: dict[str, str]
) -> tuple[int, bytes]:
    conn.request(method, path, body=body, headers=headers)
    answer = conn.getresponse()
    return answer.status, answer.read()


def _setup(url: str, endpoint: str) -> dict[str, Any]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=10)
    _, raw_world = _call(conn, "GET", "/_sandbox/world", b"", {})
    world = json.loads(raw_world)
    project_id, project = next(iter(world["projects"].items()))
    client = world["clients"][project["client_id"]]
    basic = base64.b64encode(f"{project['client_id']}:{client['secret_key']}".encode()).decode()
    _, raw_token = _call(conn, "POST", "/v1/token/get", b"", {"Authorization": f"Basic {basic}"})
    token = json.loads(raw_token)["data"]["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if endpoint == "token":
        return {
            "path": "/v1/token/get",
            "body": b"",
            "headers": {"Authorization": f"Basic {basic}"},
        }
    name, template = next(
        (n, t) for n, t in project["templates"].items() if t["active"] and not t["header_param"]
    )
    hsm = {
        "client_id": project["client_id"],
        "project_id": project_id,
        "type": name,
        "recipient_number": "6281327666166",
        "params": {str(n): f"value {n}" for n in range(1, template["param_count"] + 1)},
    }
    if endpoint == "inquiry":
        _, raw_sent = _call(
            conn, "POST", "/v1/message/do-send-hsm", json.dumps(hsm).encode(), headers
        )
        body = {"message_id": json.loads(raw_sent)["message_id"]}
        return {
            "path": "/v1/message/inquiry",
            "body": json.dumps(body).encode(),
            "headers": headers,
        }
    return {"path": "/v1/message/do-send-hsm", "body": json.dumps(hsm).encode(), "headers": headers}


def _client(url: str, job: dict[str, Any], seconds: float, results: Any) -> None:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=30)
    latencies: list[float] = []
    failures = 0
    deadline = time.perf_counter() + seconds
    while True:
        started = time.perf_counter()
        if started >= deadline:
            break
        status, raw = _call(conn, "POST", job["path"], job["body"], job["headers"])
        latencies.append(time.perf_counter() - started)
        if status != 200 or json.loads(raw).get("status") != "200":
            failures += 1
    conn.close()
    results.put((latencies, failures))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.bench")
    parser.add_argument("--url", default="http://127.0.0.1:9100")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--endpoint", choices=["hsm", "inquiry", "token"], default="hsm")
    args = parser.parse_args(argv)

    job = _setup(args.url, args.endpoint)
    results: Any = multiprocessing.Queue()
    clients = [
        multiprocessing.Process(target=_client, args=(args.url, job, args.seconds, results))
        for _ in range(args.concurrency)
    ]
    for process in clients:
        process.start()
    latencies: list[float] = []
    failures = 0
    for _ in clients:
        client_latencies, client_failures = results.get()
        latencies += client_latencies
        failures += client_failures
    for process in clients:
        process.join()

    latencies.sort()
    total = len(latencies)
    p99 = latencies[min(total - 1, int(total * 0.99))] if total else 0.0
    report = {
        "endpoint": job["path"],
        "concurrency": args.concurrency,
        "seconds": args.seconds,
        "requests": total,
        "failures": failures,
        "requests_per_second": round(total / args.seconds, 1),
        "latency_ms_p50": round(statistics.median(latencies) * 1000, 3) if total else None,
        "latency_ms_p99": round(p99 * 1000, 3),
    }
    sys.stdout.write(json.dumps(report, indent=2) + "\n")
    return 0 if total and not failures else 1


if __name__ == "__main__":
    sys.exit(main())
