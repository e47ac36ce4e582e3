"""The client address for django-axes: the same trusted-proxy rule as the Wappin callback's."""

from __future__ import annotations

from django.http import HttpRequest


def client_ip_for_axes(request: HttpRequest) -> str:
    """`X-Forwarded-For` counts only when the peer is one of our proxies (`TRUSTED_PROXIES`).

    axes' own ipware settings read only REMOTE_ADDR by default, so behind a proxy
    every login came from the proxy's address: one attacker's failures locked
    everyone out. Reading the header from any peer would let an attacker pick a
    fresh address per attempt; `callback_client_address` does neither.
    """
    from callbacks.selectors import callback_client_address

    return callback_client_address(request=request)
