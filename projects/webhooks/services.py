"""Webhooks: emit events into the outbox, deliver them signed (Standard Webhooks), manage endpoints.

`webhook_events_emit` is called inside the transaction that records the event (a
message's status, a customer's message, an opt-out...): the delivery rows commit or
roll back with it. After the commit a `webhooks.deliver` task sends them; a failed
attempt is retried with exponential backoff and jitter until `retry_until` (3 days),
picked up by the `webhooks.sweep` beat task. An endpoint whose every attempt has
failed for 3 days is disabled and its project's admins see it on every page.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from standardwebhooks.webhooks import Webhook

from projects.models import ApiKey, Project
from projects.roles import capability_require
from projects.services import audit_record
from projects.webhooks.models import (
    WEBHOOK_TEST_EVENT,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEventType,
)
from projects.webhooks.sender import WebhookResponse, address_is_private, webhook_post
from wappin_portal.db import rows_delete
from wappin_portal.errors import Conflict, ValidationFailed
from wappin_portal.metrics import WEBHOOK_ATTEMPTS

logger = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
ENDPOINTS_PER_PROJECT = 10
# A claimed delivery is not due again for this long (a worker that died mid-send is covered).
CLAIM_LEASE = timedelta(minutes=10)
SUBSCRIPTIONS_CACHE_SECONDS = 300
DELIVER_CHUNK = 20
# A task stops taking deliveries after this long (well within Celery's soft time limit).
DELIVER_BUDGET_SECONDS = 30.0


# --- emitting --------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookEvent:
    """One event of a project, for `webhook_events_emit`. `data` must be JSON-ready."""

    project_id: int
    event_type: str
    data: dict = field(default_factory=dict)
    occurred_at: datetime | None = None


def _subscriptions_key(project_id: int) -> str:
    return f"webhooks:subscriptions:{project_id}"


def webhook_subscriptions_get(*, project_ids: Iterable[int]) -> dict[int, dict[str, list[int]]]:
    """For each project: event type -> the ids of its active endpoints that want it.

    Cached per project (one cache read for a whole batch), so emitting costs nothing
    for a project without endpoints; an endpoint's save or delete drops the entry.
    """
    project_ids = set(project_ids)
    keys = {_subscriptions_key(project_id): project_id for project_id in project_ids}
    cached = cache.get_many(list(keys))
    found = {keys[key]: value for key, value in cached.items()}
    missing = project_ids - set(found)
    if missing:
        fresh: dict[int, dict[str, list[int]]] = {project_id: {} for project_id in missing}
        rows = WebhookEndpoint.objects.filter(project_id__in=missing, is_active=True).values_list(
            "project_id", "pk", "event_types"
        )
        for project_id, endpoint_id, event_types in rows:
            for event_type in event_types:
                fresh[project_id].setdefault(event_type, []).append(endpoint_id)
        cache.set_many(
            {_subscriptions_key(pid): value for pid, value in fresh.items()},
            SUBSCRIPTIONS_CACHE_SECONDS,
        )
        found.update(fresh)
    return found


def _subscriptions_forget(project_id: int) -> None:
    # Now, and again after the commit: a reader between the two could cache the old rows.
    cache.delete(_subscriptions_key(project_id))
    transaction.on_commit(lambda: cache.delete(_subscriptions_key(project_id)))


def _new_webhook_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)


def _payload(*, event_type: str, data: dict, at: datetime) -> dict:
    # The Standard Webhooks payload shape: type, timestamp, data.
    return {"type": event_type, "timestamp": at.isoformat(), "data": data}


def webhook_events_emit(events: Iterable[WebhookEvent]) -> list[int]:
    """Write the outbox rows of `events` (one bulk insert) in the caller's transaction;
    send them after it commits. Returns the new deliveries' ids (none: nobody listens)."""
    events = list(events)
    if not events:
        return []
    subscriptions = webhook_subscriptions_get(project_ids={event.project_id for event in events})
    now = timezone.now()
    retry_until = now + timedelta(seconds=settings.WEBHOOK_RETRY_WINDOW_SECONDS)
    rows = []
    for event in events:
        endpoint_ids = subscriptions.get(event.project_id, {}).get(event.event_type)
        if not endpoint_ids:
            continue
        payload = _payload(
            event_type=event.event_type, data=event.data, at=event.occurred_at or now
        )
        webhook_id = _new_webhook_id()
        rows += [
            WebhookDelivery(
                endpoint_id=endpoint_id,
                webhook_id=webhook_id,
                event_type=event.event_type,
                payload=payload,
                next_attempt_at=now,
                retry_until=retry_until,
                created_at=now,
            )
            for endpoint_id in endpoint_ids
        ]
    if not rows:
        return []
    created = WebhookDelivery.objects.bulk_create(rows, batch_size=500)
    ids = [row.pk for row in created]
    _deliver_on_commit(ids, claimed=False)
    return ids


def webhook_event_emit(
    *, project_id: int, event_type: str, data: dict, occurred_at: datetime | None = None
) -> list[int]:
    """`webhook_events_emit` for one event."""
    return webhook_events_emit([WebhookEvent(project_id, event_type, data, occurred_at)])


def _deliver_on_commit(ids: list[int], *, claimed: bool) -> None:
    from projects.webhooks.tasks import webhooks_deliver  # tasks import this module

    for start in range(0, len(ids), DELIVER_CHUNK):
        webhooks_deliver.delay_on_commit(ids[start : start + DELIVER_CHUNK], claimed=claimed)


# --- delivering ------------------------------------------------------------------------


def webhook_retry_delay(attempts: int) -> float:
    """Seconds before the next try after `attempts` failed ones: doubling from the base up
    to the cap, with "equal jitter" (between half and all of it) so retries spread out."""
    base = settings.WEBHOOK_RETRY_BASE_SECONDS
    delay = min(base * 2 ** max(attempts - 1, 0), settings.WEBHOOK_RETRY_MAX_SECONDS)
    return delay / 2 + random.uniform(0, delay / 2)  # noqa: S311 - jitter, not a secret


def _claim(queryset, *, now: datetime, limit: int | None = None) -> list[WebhookDelivery]:
    """Lock the due rows of `queryset` no one else holds, count the attempt, push them out of
    sight for the lease. Several workers or sweeps never take the same row."""
    with transaction.atomic():
        due = queryset.select_for_update(skip_locked=True, of=("self",)).filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
        )
        if limit is not None:
            due = due.order_by("next_attempt_at")[:limit]
        rows = list(due)
        for row in rows:
            row.attempts += 1
            row.next_attempt_at = now + CLAIM_LEASE
        WebhookDelivery.objects.bulk_update(rows, ["attempts", "next_attempt_at"])
    return rows


def webhook_deliveries_send(*, delivery_ids: list[int], claimed: bool = False) -> int:
    """Attempt these deliveries (claiming them first unless the sweep did); how many were sent."""
    queryset = WebhookDelivery.objects.filter(pk__in=delivery_ids).order_by("pk")
    if claimed:
        rows = list(queryset.filter(status=WebhookDelivery.Status.PENDING))
    else:
        rows = _claim(queryset, now=timezone.now())
    endpoints = WebhookEndpoint.objects.in_bulk({row.endpoint_id for row in rows})
    delivered = 0
    started = time.monotonic()
    for index, row in enumerate(rows):
        if time.monotonic() - started > DELIVER_BUDGET_SECONDS:
            # Slow receivers ate the task's time: the rest are due again now, for the sweep.
            WebhookDelivery.objects.filter(
                pk__in=[r.pk for r in rows[index:]], status=WebhookDelivery.Status.PENDING
            ).update(next_attempt_at=timezone.now(), attempts=F("attempts") - 1)
            break
        if row.endpoint_id not in endpoints:
            continue  # deleted meanwhile, with its deliveries
        row.endpoint = endpoints[row.endpoint_id]
        delivered += _attempt(row)
    return delivered


def webhook_signature_headers(
    *, endpoint: WebhookEndpoint, webhook_id: str, body: str, at: datetime
) -> dict[str, str]:
    """The Standard Webhooks headers; during a rotation's overlap both secrets sign
    (space-separated signatures, as the specification allows)."""
    signatures = [
        Webhook(secret).sign(webhook_id, at, body) for secret in endpoint.signing_secrets(now=at)
    ]
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


def _attempt(delivery: WebhookDelivery) -> bool:
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        _finish(delivery, status=WebhookDelivery.Status.FAILED, error="The endpoint is disabled.")
        return False
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False)
    now = timezone.now()
    headers = {
        "content-type": "application/json",
        "user-agent": "WappinPortal-Webhooks/1",
        **webhook_signature_headers(
            endpoint=endpoint, webhook_id=delivery.webhook_id, body=body, at=now
        ),
    }
    response = webhook_post(url=endpoint.url, body=body.encode(), headers=headers)
    _attempt_record(delivery, response=response, headers=headers, at=now)
    return response.ok


@transaction.atomic
def _attempt_record(
    delivery: WebhookDelivery, *, response: WebhookResponse, headers: dict, at: datetime
) -> None:
    WebhookAttempt.objects.create(
        delivery=delivery,
        attempted_at=at,
        request_headers={k: v for k, v in headers.items() if k != "webhook-signature"},
        response_code=response.status_code,
        response_excerpt=response.excerpt,
        error=response.error[:300],
        duration_ms=response.duration_ms,
    )
    endpoint = delivery.endpoint
    now = timezone.now()
    if response.ok:
        WEBHOOK_ATTEMPTS.labels(outcome="delivered").inc()
        _finish(delivery, status=WebhookDelivery.Status.DELIVERED, code=response.status_code)
        if endpoint.failing_since is not None:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
        return
    error = response.error or f"The endpoint answered {response.status_code}."
    WEBHOOK_ATTEMPTS.labels(outcome="failed" if now >= delivery.retry_until else "retrying").inc()
    if now >= delivery.retry_until:
        _finish(
            delivery, status=WebhookDelivery.Status.FAILED, code=response.status_code, error=error
        )
    else:
        delivery.next_attempt_at = now + timedelta(seconds=webhook_retry_delay(delivery.attempts))
        delivery.last_response_code = response.status_code
        delivery.last_error = error[:300]
        delivery.save(update_fields=["next_attempt_at", "last_response_code", "last_error"])
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(
        failing_since=at
    )
    failing_since = WebhookEndpoint.objects.values_list("failing_since", flat=True).get(
        pk=endpoint.pk
    )
    if now - failing_since >= timedelta(seconds=settings.WEBHOOK_DISABLE_AFTER_SECONDS):
        webhook_endpoint_disable(
            endpoint=endpoint,
            reason=f"Every delivery failed since {failing_since:%Y-%m-%d %H:%M} UTC "
            f"(last: {error})"[:300],
        )


def _finish(
    delivery: WebhookDelivery, *, status: str, code: int | None = None, error: str = ""
) -> None:
    delivery.status = status
    delivery.next_attempt_at = None
    delivery.last_response_code = code
    delivery.last_error = error[:300]
    fields = ["status", "next_attempt_at", "last_response_code", "last_error"]
    if status == WebhookDelivery.Status.DELIVERED:
        delivery.delivered_at = timezone.now()
        fields.append("delivered_at")
    delivery.save(update_fields=fields)


def webhook_deliveries_sweep(*, now: datetime | None = None, limit: int = 500) -> int:
    """Claim the deliveries whose retry is due and hand them to `webhooks.deliver`; how many."""
    now = now or timezone.now()
    rows = _claim(WebhookDelivery.objects.all(), now=now, limit=limit)
    _deliver_on_commit([row.pk for row in rows], claimed=True)
    return len(rows)


def webhook_deliveries_prune(*, now: datetime | None = None) -> int:
    """Nightly: delete settled deliveries (and their attempts) older than the retention, in
    chunks; how many rows went."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.WEBHOOK_DELIVERY_RETENTION_DAYS)
    return rows_delete(
        WebhookDelivery.objects.filter(created_at__lt=cutoff).exclude(
            status=WebhookDelivery.Status.PENDING
        )
    )


@transaction.atomic
def webhook_delivery_resend(
    *,
    delivery: WebhookDelivery,
    actor: AbstractBaseUser | None = None,
    api_key: ApiKey | None = None,
) -> WebhookDelivery:
    """Send a delivery again (same `webhook-id`: a receiver that has it already drops it)."""
    capability_require(
        project=delivery.endpoint.project, capability="webhook.manage", actor=actor, api_key=api_key
    )
    if not delivery.endpoint.is_active:
        raise Conflict(
            _("The endpoint is disabled: enable it before resending."),
            code="webhook_endpoint_disabled",
        )
    now = timezone.now()
    delivery.status = WebhookDelivery.Status.PENDING
    delivery.next_attempt_at = now
    delivery.retry_until = now + timedelta(seconds=settings.WEBHOOK_RETRY_WINDOW_SECONDS)
    delivery.save(update_fields=["status", "next_attempt_at", "retry_until"])
    audit_record(
        action="webhook.resend",
        project=delivery.endpoint.project,
        actor=actor,
        api_key=api_key,
        target=delivery.webhook_id,
    )
    _deliver_on_commit([delivery.pk], claimed=False)
    return delivery


# --- endpoints -------------------------------------------------------------------------


def webhook_secret_new() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def webhook_url_check(url: str, *, field: str = "url") -> str:
    """A URL a delivery may go to: https (http and inside addresses only when
    WEBHOOK_ALLOW_INSECURE_URLS is on: local and test settings)."""
    url = (url or "").strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError as exc:
        raise ValidationFailed(
            _("Enter a full URL, such as https://example.com/webhooks/wappin."),
            field=field,
            code="webhook_url_invalid",
        ) from exc
    if len(url) > 500:
        raise ValidationFailed(
            _("The URL is longer than 500 characters."), field=field, code="webhook_url_invalid"
        )
    if settings.WEBHOOK_ALLOW_INSECURE_URLS:
        return url
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise ValidationFailed(
            _("Webhooks go to https:// URLs only."), field=field, code="webhook_url_not_https"
        )
    if address_is_private(parts.hostname or ""):
        raise ValidationFailed(
            _("The URL's host is a private or loopback address; use a public one."),
            field=field,
            code="webhook_url_private",
        )
    return url


def webhook_event_types_check(event_types, *, field: str = "event_types") -> list[str]:
    if not isinstance(event_types, list | tuple) or not event_types:
        raise ValidationFailed(
            _("Choose at least one event."), field=field, code="webhook_events_required"
        )
    unknown = sorted({str(value) for value in event_types} - set(WebhookEventType.values))
    if unknown:
        raise ValidationFailed(
            _("Unknown events: %(unknown)s. Choose from %(known)s.")
            % {
                "unknown": ", ".join(unknown)[:200],
                "known": ", ".join(WebhookEventType.values),
            },
            field=field,
            code="webhook_event_unknown",
        )
    return [value for value in WebhookEventType.values if value in event_types]


@dataclass(frozen=True)
class EndpointWithSecret:
    endpoint: WebhookEndpoint
    secret: str  # shown once, stored encrypted


@transaction.atomic
def webhook_endpoint_create(
    *,
    project: Project,
    url: str,
    event_types: list[str],
    description: str = "",
    actor: AbstractBaseUser | None = None,
    api_key: ApiKey | None = None,
) -> EndpointWithSecret:
    capability_require(project=project, capability="webhook.manage", actor=actor, api_key=api_key)
    url = webhook_url_check(url)
    event_types = webhook_event_types_check(event_types)
    if WebhookEndpoint.objects.filter(project=project).count() >= ENDPOINTS_PER_PROJECT:
        raise Conflict(
            _("A project has at most %(count)d webhook endpoints; delete one first.")
            % {"count": ENDPOINTS_PER_PROJECT},
            code="webhook_endpoints_limit",
        )
    secret = webhook_secret_new()
    endpoint = WebhookEndpoint.objects.create(
        project=project,
        url=url,
        event_types=event_types,
        description=(description or "").strip()[:200],
        secret=secret,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    _subscriptions_forget(project.pk)
    audit_record(
        action="webhook_endpoint.create",
        project=project,
        actor=actor,
        api_key=api_key,
        target=url,
        data={"event_types": event_types},
    )
    return EndpointWithSecret(endpoint=endpoint, secret=secret)


@transaction.atomic
def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    actor: AbstractBaseUser | None = None,
    api_key: ApiKey | None = None,
    url: str | None = None,
    event_types: list[str] | None = None,
    description: str | None = None,
    is_active: bool | None = None,
) -> WebhookEndpoint:
    """Change an endpoint; enabling it again forgets its failures."""
    capability_require(
        project=endpoint.project, capability="webhook.manage", actor=actor, api_key=api_key
    )
    if url is not None:
        endpoint.url = webhook_url_check(url)
    if event_types is not None:
        endpoint.event_types = webhook_event_types_check(event_types)
    if description is not None:
        endpoint.description = description.strip()[:200]
    if is_active is not None and is_active != endpoint.is_active:
        endpoint.is_active = is_active
        if is_active:
            endpoint.disabled_at = None
            endpoint.disabled_reason = ""
            endpoint.failing_since = None
    endpoint.save()
    _subscriptions_forget(endpoint.project_id)
    audit_record(
        action="webhook_endpoint.update",
        project=endpoint.project,
        actor=actor,
        api_key=api_key,
        target=endpoint.url,
        data={"event_types": endpoint.event_types, "is_active": endpoint.is_active},
    )
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(
    *,
    endpoint: WebhookEndpoint,
    actor: AbstractBaseUser | None = None,
    api_key: ApiKey | None = None,
) -> None:
    capability_require(
        project=endpoint.project, capability="webhook.manage", actor=actor, api_key=api_key
    )
    project = endpoint.project
    audit_record(
        action="webhook_endpoint.delete",
        project=project,
        actor=actor,
        api_key=api_key,
        target=endpoint.url,
    )
    endpoint.delete()
    _subscriptions_forget(project.pk)


@transaction.atomic
def webhook_endpoint_secret_rotate(
    *,
    endpoint: WebhookEndpoint,
    actor: AbstractBaseUser | None = None,
    api_key: ApiKey | None = None,
) -> EndpointWithSecret:
    """A new secret; the old one goes on signing too for the overlap (24 hours)."""
    capability_require(
        project=endpoint.project, capability="webhook.manage", actor=actor, api_key=api_key
    )
    secret = webhook_secret_new()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = timezone.now() + timedelta(
        seconds=settings.WEBHOOK_SECRET_OVERLAP_SECONDS
    )
    endpoint.secret = secret
    endpoint.save(
        update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"]
    )
    audit_record(
        action="webhook_endpoint.rotate_secret",
        project=endpoint.project,
        actor=actor,
        api_key=api_key,
        target=endpoint.url,
        data={"previous_secret_expires_at": endpoint.previous_secret_expires_at.isoformat()},
    )
    return EndpointWithSecret(endpoint=endpoint, secret=secret)


@transaction.atomic
def webhook_endpoint_disable(*, endpoint: WebhookEndpoint, reason: str) -> WebhookEndpoint:
    """Stop sending to an endpoint that keeps failing; its pending deliveries fail with it."""
    now = timezone.now()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        is_active=False, disabled_at=now, disabled_reason=reason[:300], updated_at=now
    )
    endpoint.refresh_from_db()
    WebhookDelivery.objects.filter(endpoint=endpoint, status=WebhookDelivery.Status.PENDING).update(
        status=WebhookDelivery.Status.FAILED,
        next_attempt_at=None,
        last_error="The endpoint was disabled after 3 days of failures.",
    )
    _subscriptions_forget(endpoint.project_id)
    audit_record(
        action="webhook_endpoint.disable",
        project=endpoint.project,
        target=endpoint.url,
        data={"reason": reason[:300]},
    )
    logger.warning("webhook endpoint %s disabled: %s", endpoint.pk, reason)
    return endpoint


@transaction.atomic
def webhook_endpoint_test_send(
    *,
    endpoint: WebhookEndpoint,
    actor: AbstractBaseUser | None = None,
    api_key: ApiKey | None = None,
) -> WebhookDelivery:
    """Queue a `webhook.test` event for this endpoint alone (it shows in its log)."""
    capability_require(
        project=endpoint.project, capability="webhook.manage", actor=actor, api_key=api_key
    )
    if not endpoint.is_active:
        raise Conflict(
            _("The endpoint is disabled: enable it to send a test event."),
            code="webhook_endpoint_disabled",
        )
    now = timezone.now()
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        webhook_id=_new_webhook_id(),
        event_type=WEBHOOK_TEST_EVENT,
        payload=_payload(
            event_type=WEBHOOK_TEST_EVENT,
            data={"project": endpoint.project_id, "endpoint": endpoint.pk},
            at=now,
        ),
        next_attempt_at=now,
        retry_until=now + timedelta(seconds=settings.WEBHOOK_RETRY_WINDOW_SECONDS),
        created_at=now,
    )
    audit_record(
        action="webhook_endpoint.test",
        project=endpoint.project,
        actor=actor,
        api_key=api_key,
        target=endpoint.url,
    )
    _deliver_on_commit([delivery.pk], claimed=False)
    return delivery
