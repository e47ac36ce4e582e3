"""The contact import's Celery task: thin, by id, calling `imports.contact_import_run`."""

from __future__ import annotations

import logging

from django.db import OperationalError

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from messaging.contacts import imports

logger = logging.getLogger(__name__)

IMPORT_MAX_RETRIES = 5
# A million rows take minutes, not the 60 s every other task gets (CELERY_TASK_SOFT_TIME_LIMIT).
IMPORT_SOFT_TIME_LIMIT = 60 * 60
IMPORT_TIME_LIMIT = IMPORT_SOFT_TIME_LIMIT + 60


@shared_task(
    bind=True,
    max_retries=IMPORT_MAX_RETRIES,
    acks_late=True,
    soft_time_limit=IMPORT_SOFT_TIME_LIMIT,
    time_limit=IMPORT_TIME_LIMIT,
)
def contact_import_run(self, import_id: int) -> None:
    """Import one uploaded contacts file; a retry goes on after the last chunk written."""
    try:
        imports.contact_import_run(import_id=import_id)
    except OperationalError as exc:
        if self.request.retries >= self.max_retries:
            imports.contact_import_fail(
                import_id=import_id,
                reason=f"The database could not be written after {self.request.retries + 1} attempts ({exc}).",
            )
            return
        raise self.retry(exc=exc, countdown=2 ** (self.request.retries + 1)) from exc
    except SoftTimeLimitExceeded:
        imports.contact_import_fail(
            import_id=import_id,
            reason=f"The import took longer than {IMPORT_SOFT_TIME_LIMIT // 60} minutes and was stopped; "
            "the rows before it stopped were imported.",
        )
    except Exception:
        logger.exception("contact import %s failed", import_id)
        imports.contact_import_fail(
            import_id=import_id,
            reason="The import stopped on an unexpected error; the rows before it were imported.",
        )
        raise
