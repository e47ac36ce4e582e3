"""Run small jobs later, on a bounded pool of worker threads.

One timer thread keeps a heap of due times and hands due jobs to a bounded
queue; a fixed number of workers run them. A slow callback receiver therefore
ties up workers, never the HTTP server's request threads.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable

logger = logging.getLogger("sandbox")

Job = Callable[[], None]


class Scheduler:
    def __init__(self, *, workers: int = 16, queue_size: int = 10_000) -> None:
        self._heap: list[tuple[float, int, int, Job]] = []
        self._sequence = itertools.count()
        self._condition = threading.Condition()
        self._ready: queue.Queue[tuple[int, Job] | None] = queue.Queue(maxsize=queue_size)
        self._generation = 0
        # The generation of the job this worker thread runs (None outside jobs).
        self._running = threading.local()
        self._running_count = 0
        self._stopped = False
        self._threads = [
            threading.Thread(target=self._timer_loop, name="sandbox-timer", daemon=True)
        ]
        self._threads += [
            threading.Thread(target=self._worker_loop, name=f"sandbox-worker-{n}", daemon=True)
            for n in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def is_stale(self) -> bool:
        """True inside a job started before the last reset: its work must leave no trace."""
        generation = getattr(self._running, "generation", None)
        return generation is not None and generation != self._generation

    def schedule(self, delay_s: float, job: Job) -> None:
        with self._condition:
            if self.is_stale():
                return  # a follow-up (next status, retry) of a job the reset forgot
            due = time.monotonic() + max(0.0, delay_s)
            heapq.heappush(self._heap, (due, next(self._sequence), self._generation, job))
            self._condition.notify()

    def clear(self) -> None:
        """Forget every pending job (a reset); jobs already running finish."""
        with self._condition:
            self._heap.clear()
            self._generation += 1

    def pending(self) -> int:
        with self._condition:
            return len(self._heap) + self._ready.qsize()

    def busy(self) -> int:
        """Jobs waiting or running: 0 means no callback is on its way anywhere."""
        with self._condition:
            return len(self._heap) + self._ready.qsize() + self._running_count

    def stop(self) -> None:
        with self._condition:
            self._stopped = True
            self._condition.notify()

    def _timer_loop(self) -> None:
        while True:
            with self._condition:
                while not self._stopped and (not self._heap or self._heap[0][0] > time.monotonic()):
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._condition.wait(timeout)
                if self._stopped:
                    return
                _, _, generation, job = heapq.heappop(self._heap)
            # Outside the lock: a full queue blocks the timer, not schedule().
            self._ready.put((generation, job))

    def _worker_loop(self) -> None:
        while True:
            item = self._ready.get()
            if item is None:
                return
            generation, job = item
            if generation != self._generation:
                continue
            self._running.generation = generation
            with self._condition:
                self._running_count += 1
            try:
                job()
            except Exception:
                logger.exception("sandbox background job failed")
            finally:
                self._running.generation = None
                with self._condition:
                    self._running_count -= 1
