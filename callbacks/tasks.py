"""Callback tasks: they take ids, load the stored row and call a service."""

from __future__ import annotations

import logging

from celery import shared_task

from callbacks import services

logger = logging.getLogger(__name__)

MAX_RETRIES = 4


@shared_task(acks_late=True)
def callbacks_process() -> int:
    """Apply the stored callbacks not tried yet, in batches (started by `callbacks_wake`)."""
    return services.callbacks_process_fresh()


@shared_task(bind=True, max_retries=MAX_RETRIES, acks_late=True)
def callback_process(self, event_id: int) -> None:
    """Apply one stored callback: what portals before the batch processor published per
    callback, kept so the tasks a running broker still holds at an upgrade are done. Expected failures are recorded by the service on the row;
    anything else (a busy database, a lost connection) is retried with backoff, and the
    last failure is written on the row for a person to see and "process again"."""
    try:
        services.callback_event_process(event_id=event_id)
    except Exception as exc:
        if not self.request.is_eager and self.request.retries < MAX_RETRIES:
            raise self.retry(exc=exc, countdown=5 * 2**self.request.retries) from exc
        logger.exception("callback #%s could not be processed", event_id)
        services.callback_event_fail(
            event_id=event_id,
            reason=f"Processing failed after {self.request.retries + 1} attempts: {exc!r}"[:2000],
        )


@shared_task(acks_late=True)
def callbacks_sweep() -> dict[str, int]:
    return services.callbacks_sweep()


@shared_task(acks_late=True)
def callbacks_prune() -> dict[str, int]:
    return services.callbacks_prune()


@shared_task(acks_late=True)
def integration_token_fetch(integration_id: int) -> None:
    """A callback came before we had a token, or with one we do not know: fetch the client's
    current token so Wappin's retry is let in."""
    try:
        services.integration_token_fetch_for_callbacks(integration_id=integration_id)
    except Exception:
        # Only a convenience: the next send fetches the token anyway.
        logger.warning(
            "token fetch for integration %s after a refused callback failed",
            integration_id,
            exc_info=True,
        )
