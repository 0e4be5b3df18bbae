"""The embedded queue: worker threads inside the server process, fed from the job table.

Delivery is a wake-up: `enqueue` sets an event so idle workers poll at once instead of at
their next interval. Work is always found by claiming from the table, so nothing depends on
the wake-up arriving, and jobs a crashed process left RUNNING are recovered at start.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from promptcanvas.ports.jobs import JobQueue
from promptcanvas.services.runner import JobRunner

log = logging.getLogger(__name__)


class EmbeddedQueue(JobQueue):
    """Wakes the in-process workers."""

    def __init__(self) -> None:
        self.ready = threading.Event()

    def enqueue(self, job_ids: Sequence[str], *, delay: float = 0.0) -> None:  # noqa: ARG002
        """Wake idle workers; a delayed job is found by polling when it is due."""
        if job_ids:
            self.ready.set()


class WorkerPool:
    """N threads that claim and run jobs until stopped."""

    def __init__(
        self,
        runner: JobRunner,
        queue: EmbeddedQueue,
        *,
        threads: int,
        poll_seconds: float = 0.5,
        recover_seconds: float = 10.0,
    ) -> None:
        self.runner = runner
        self.queue = queue
        self.threads = threads
        self.poll = poll_seconds
        self.recover_every = recover_seconds
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []

    def start(self) -> None:
        """Recover jobs of dead workers, then start the threads."""
        self.runner.recover()
        for i in range(self.threads):
            thread = threading.Thread(target=self._work, args=(f"w{i}",), name=f"worker-{i}")
            thread.daemon = True
            thread.start()
            self._workers.append(thread)
        recovery = threading.Thread(target=self._recover, name="worker-recovery")
        recovery.daemon = True
        recovery.start()
        self._workers.append(recovery)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming; wait for jobs in flight (up to timeout)."""
        self._stop.set()
        self.queue.ready.set()
        for thread in self._workers:
            thread.join(timeout)
        self.runner.stop()

    def _work(self, label: str) -> None:
        while not self._stop.is_set():
            try:
                ran = self.runner.run_next(label)
            except Exception:  # the database was briefly unavailable: back off, keep going
                log.exception("worker %s could not claim a job", label)
                ran = False
                self._stop.wait(self.poll)
            if not ran:
                self.queue.ready.wait(self.poll)
                self.queue.ready.clear()

    def _recover(self) -> None:
        while not self._stop.wait(self.recover_every):
            try:
                if self.runner.recover():
                    self.queue.ready.set()
            except Exception:
                log.exception("recovering jobs of dead workers failed")
