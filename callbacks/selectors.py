"""Reads for callbacks: who is calling, may they, and the chat panel's lists."""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.db.models import Count, F, Max, Q, QuerySet
from django.http import HttpRequest

from ipware import get_client_ip

from messaging.models import Contact, Message
from projects.models import Integration, Project


def _address_in(address: str, entries) -> bool:
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


def callback_client_address(*, request: HttpRequest) -> str:
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
    if not forwarded or (not trusted and not count):
        return peer
    if trusted and not _address_in(peer, trusted):
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


def callback_address_allowed(*, integration: Integration, address: str) -> bool:
    """Whether the callback may come from this address (an empty allow-list allows any)."""
    if not integration.callback_ip_allowlist:
        return True
    return _address_in(address, integration.callback_ip_allowlist)


def callback_token_check(*, integration: Integration, authorization: str) -> str:
    """Check `Authorization: Bearer <token>`; returns "" when it matches, else the reason.

    The current and the previous token both count: Wappin may still sign with the
    old one for a moment after we refresh it. Constant-time comparisons, and the
    reason never contains a token.
    """
    scheme, _, token = (authorization or "").strip().partition(" ")
    if not authorization:
        return "No Authorization header: Wappin sends 'Authorization: Bearer <token>'."
    if scheme.lower() != "bearer" or not token.strip():
        return "The Authorization header is not 'Bearer <token>'."
    known = [t for t in (integration.access_token, integration.previous_access_token) if t]
    if not known:
        return (
            "This integration has no Wappin token yet, so no callback can be checked: "
            "the portal fetches one on its first call to Wappin (a send, or the token refresh)."
        )
    given = token.strip().encode()
    matched = False
    for candidate in known:
        # Compare against every candidate (no early exit) so timing says nothing about which.
        matched |= hmac.compare_digest(given, candidate.encode())
    return "" if matched else "The bearer token is not this integration's current or previous token."


def chat_conversation_list(*, project: Project, limit: int = 100) -> QuerySet[Contact]:
    """Contacts who wrote to us, the ones waiting for a person first, then the most recent."""
    return (
        Contact.objects.filter(project=project, last_inbound_at__isnull=False)
        .annotate(
            last_message_at=Max("messages__created_at"),
            inbound_count=Count("messages", filter=Q(messages__direction=Message.Direction.INCOMING)),
        )
        .order_by(F("handed_over_at").desc(nulls_last=True), "-last_inbound_at")
        [:limit]
    )


def chat_messages(*, contact: Contact, limit: int = 200) -> list[Message]:
    """The conversation with one contact, oldest first."""
    recent = Message.objects.filter(project=contact.project, contact=contact).order_by("-created_at", "-id")[:limit]
    return list(reversed(list(recent)))
