"""Reads of a project's webhook endpoints and their delivery log."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from projects.models import Membership, Project
from projects.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from wappin_portal.errors import NotFound


def webhook_endpoint_list(*, project: Project) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(project=project).order_by("created_at", "id")


def webhook_endpoint_get(*, project: Project, endpoint_id) -> WebhookEndpoint:
    try:
        return webhook_endpoint_list(project=project).get(pk=int(endpoint_id))
    except (ValueError, TypeError, WebhookEndpoint.DoesNotExist) as exc:
        raise NotFound(
            _("No such webhook endpoint in this project."), code="webhook_endpoint_not_found"
        ) from exc


def webhook_delivery_list(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """The endpoint's delivery log, newest first, each with its attempts."""
    return (
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .order_by("-created_at", "-id")
        .prefetch_related(Prefetch("tries", queryset=WebhookAttempt.objects.order_by("id")))
    )


def webhook_delivery_get(*, endpoint: WebhookEndpoint, delivery_id) -> WebhookDelivery:
    try:
        return webhook_delivery_list(endpoint=endpoint).get(pk=int(delivery_id))
    except (ValueError, TypeError, WebhookDelivery.DoesNotExist) as exc:
        raise NotFound(
            _("No such delivery for this endpoint."), code="webhook_delivery_not_found"
        ) from exc


def webhook_endpoints_disabled_for_admin(*, project: Project | None, user) -> list[WebhookEndpoint]:
    """The project's endpoints disabled for failing, if `user` is one of its admins (the banner)."""
    if project is None or not isinstance(user, get_user_model()):  # e.g. an API key's user
        return []
    return list(
        WebhookEndpoint.objects.filter(
            project=project,
            disabled_at__isnull=False,
            project__memberships__user=user,
            project__memberships__role=Membership.Role.ADMIN,
        )
    )
