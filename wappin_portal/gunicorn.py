"""gunicorn's settings for the portal: `gunicorn -c python:wappin_portal.gunicorn wappin_portal.wsgi`.

Only what the metrics need; everything else stays on the command line (see the README).
With PROMETHEUS_MULTIPROC_DIR set, each gunicorn worker writes its counters to files
there and `/metrics` sums them (prometheus_client's multiprocess mode): the directory is
emptied when gunicorn starts, and a worker that exits is marked dead so that its live
gauges stop counting (its counters stay: they are totals).
"""

from prometheus_client import multiprocess

from wappin_portal.metrics import multiprocess_dir, multiprocess_dir_reset


def on_starting(server) -> None:
    multiprocess_dir_reset()


def child_exit(server, worker) -> None:
    if multiprocess_dir():
        multiprocess.mark_process_dead(worker.pid)
