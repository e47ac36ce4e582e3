"""The one HTTP call of the webhooks: POST a signed body to an endpoint, with a short timeout.

STYLE.md keeps `requests` to the Wappin client; this module is the only other place
(the architecture test lists it): a customer's URL is not Wappin, and a failure here
is a row in the delivery log, never an exception for the caller.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

import requests

EXCERPT_BYTES = 2048


@dataclass(frozen=True)
class WebhookResponse:
    status_code: int | None  # None: no HTTP answer (refused, timed out, not allowed)
    excerpt: str
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def address_is_private(host: str) -> bool:
    """Whether `host` (a name or an IP) is or resolves to a loopback, private or link-local address."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (socket.gaierror, UnicodeError):
        return False  # an unknown name: the POST fails on its own
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global:
            return True
    return False


def webhook_post(*, url: str, body: bytes, headers: dict[str, str]) -> WebhookResponse:
    """POST `body` to `url`; never raises. Redirects are not followed (a 3xx is a failure)."""
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    host = urlsplit(url).hostname or ""
    if not settings.WEBHOOK_ALLOW_INSECURE_URLS and address_is_private(host):
        # Checked at send time too: a name may be pointed at an inside address after saving.
        return WebhookResponse(None, "", "The URL's host is a private or loopback address.", took())
    try:
        with requests.post(
            url,
            data=body,
            headers=headers,
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
            allow_redirects=False,
            stream=True,
        ) as response:
            raw = b""
            for chunk in response.iter_content(EXCERPT_BYTES):
                raw += chunk
                if len(raw) >= EXCERPT_BYTES:
                    break
            excerpt = raw[:EXCERPT_BYTES].decode("utf-8", errors="replace")
            return WebhookResponse(response.status_code, excerpt, "", took())
    except requests.Timeout:
        return WebhookResponse(
            None, "", f"No answer within {settings.WEBHOOK_TIMEOUT_SECONDS:g} s.", took()
        )
    except requests.RequestException as exc:
        return WebhookResponse(None, "", f"Could not connect: {type(exc).__name__}.", took())
