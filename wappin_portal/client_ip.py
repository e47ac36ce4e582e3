"""The real client address of a request, the one definition every part uses.

The callback IP allow-list and the login lock-out (django-axes, through
`AXES_CLIENT_IP_CALLABLE`) both ask here, so `TRUSTED_PROXIES` and
`TRUSTED_PROXY_COUNT` mean the same thing to both.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

from ipware import get_client_ip


def address_in(address: str, entries) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for entry in entries or []:
        try:
            if ip in ipaddress.ip_network(str(entry).strip(), strict=False):
                return True
        except ValueError:
            continue
    return False


def client_ip(request: HttpRequest) -> str:
    """The caller's real address: the peer, or the client behind our trusted proxies.

    django-ipware reads `X-Forwarded-For`, but on its own it trusts the chain a
    caller writes: it checks the proxies named *in the header*, not the peer that
    connected. So the header is read only when the peer is one of our proxies
    (`IPWARE_TRUSTED_PROXY_LIST`), and the peer is put at the end of the chain,
    which lets the list (and `IPWARE_PROXY_COUNT`) name every proxy including the
    one that connects to us. With neither set, the peer is the client and the
    header is ignored.
    """
    peer = request.META.get("REMOTE_ADDR", "") or ""
    trusted = list(settings.IPWARE_TRUSTED_PROXY_LIST or [])
    count = settings.IPWARE_PROXY_COUNT or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").strip()
    # Only a peer that is one of our proxies is believed (a count alone is refused at start-up).
    if not forwarded or not trusted or not address_in(peer, trusted):
        return peer
    meta = {"HTTP_X_FORWARDED_FOR": f"{forwarded}, {peer}", "REMOTE_ADDR": peer}
    address, _routable = get_client_ip(
        _MetaOnly(meta),
        proxy_count=count or None,
        proxy_trusted_ips=trusted or None,
        request_header_order=["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"],
        strict=False,
    )
    return address or peer


class _MetaOnly:
    """What ipware reads of a request: its META."""

    def __init__(self, meta: dict) -> None:
        self.META = meta
