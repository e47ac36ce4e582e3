import logging
import os
from collections.abc import Callable

from django.db import transaction

from celery import Celery
from celery.contrib.django.task import DjangoTask
from celery.signals import worker_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wappin_portal.settings.local")


class Task(DjangoTask):
    """Celery's Django task, whose `delay_on_commit` / `apply_async_on_commit` are robust.

    Once the transaction has committed, its work is done: a broker that cannot
    take the task then must not turn that into an error (a client told "500"
    retries, and a message goes out twice). The failed enqueue is logged, and the
    sweeps (`messages_settle_unknown`, `blasts_resume_stalled`) pick the row up again.
    """

    def delay_on_commit(self, *args, **kwargs) -> None:
        self._on_commit(self.delay, *args, **kwargs)

    def apply_async_on_commit(self, *args, **kwargs) -> None:
        self._on_commit(self.apply_async, *args, **kwargs)

    def _on_commit(self, enqueue: Callable, *args, **kwargs) -> None:
        def run() -> None:
            enqueue(*args, **kwargs)

        # Django logs a robust callback's failure by its __qualname__ (a partial has none).
        run.__qualname__ = f"{self.name}.{enqueue.__name__}"
        transaction.on_commit(run, robust=True)


app = Celery("wappin_portal", task_cls=Task)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _embedded_broker_polls_often(sender, **kwargs) -> None:
    """kombu's SQLAlchemy transport hands every transport option to create_engine(), so its
    polling interval (a class attribute) is set here, for the embedded broker only."""
    from django.conf import settings

    if str(sender.conf.broker_url or "").startswith("sqla+"):
        from kombu.transport.sqlalchemy import Transport

        Transport.polling_interval = settings.EMBEDDED_BROKER_POLLING_SECONDS


@worker_init.connect
def _metrics_directory_reset(**kwargs) -> None:
    """A worker starts with an empty PROMETHEUS_MULTIPROC_DIR (its pool's counters go there)."""
    from wappin_portal import metrics

    metrics.multiprocess_dir_reset()


@worker_ready.connect
def _metrics_port_open(**kwargs) -> None:
    """The worker's own /metrics (its pool's counters) when CELERY_WORKER_METRICS_PORT is set."""
    from django.conf import settings

    from wappin_portal import metrics

    if settings.CELERY_WORKER_METRICS_PORT:
        if not metrics.multiprocess_dir():
            logging.getLogger(__name__).warning(
                "CELERY_WORKER_METRICS_PORT is set without PROMETHEUS_MULTIPROC_DIR: the port "
                "shows this process's counters only, not those of its pool's processes."
            )
        metrics.worker_metrics_start(
            port=settings.CELERY_WORKER_METRICS_PORT,
            address=settings.CELERY_WORKER_METRICS_ADDRESS,
        )


# The request id travels in task headers; one log line per task (signal receivers).
from wappin_portal import logs  # noqa: E402, F401
