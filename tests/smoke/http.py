"""A small HTTP client on the standard library (the project keeps `requests` to the Wappin client)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from email.message import Message
from http.cookies import SimpleCookie
from typing import Any


@dataclass
class Response:
    status_code: int
    content: bytes
    headers: Message
    cookies: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def http_request(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    json_body: Any = None,
    form: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
    timeout: float = 30,
) -> Response:
    """One request, redirects not followed; every status is an answer, not an exception."""
    headers = dict(headers or {})
    data = None
    if json_body is not None:
        data = json.dumps(json_body).encode()
        headers["Content-Type"] = "application/json"
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if params:
        url += ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with _opener.open(request, timeout=timeout) as answer:
            status, body, answer_headers = answer.status, answer.read(), answer.headers
    except urllib.error.HTTPError as error:
        status, body, answer_headers = error.code, error.read(), error.headers
    cookies = {}
    for value in answer_headers.get_all("Set-Cookie") or []:
        jar = SimpleCookie()
        jar.load(value)
        cookies.update({name: morsel.value for name, morsel in jar.items()})
    return Response(status_code=status, content=body, headers=answer_headers, cookies=cookies)
