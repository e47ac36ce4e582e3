"""The webhooks' Celery tasks (`webhooks.*`, routed to the `webhooks` queue): thin, ids in."""

from __future__ import annotations

from celery import shared_task

from projects.webhooks import services


@shared_task(name="webhooks.deliver")
def webhooks_deliver(delivery_ids: list[int], claimed: bool = False) -> int:
    return services.webhook_deliveries_send(delivery_ids=delivery_ids, claimed=claimed)


@shared_task(name="webhooks.sweep")
def webhooks_sweep() -> int:
    return services.webhook_deliveries_sweep()


@shared_task(name="webhooks.prune")
def webhooks_prune() -> int:
    return services.webhook_deliveries_prune()
