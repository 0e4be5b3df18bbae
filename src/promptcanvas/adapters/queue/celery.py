"""Scaled-out delivery: Celery on a Redis broker, any number of worker machines.

Celery only delivers job ids; the job table on the shared database holds all state, so the
task body is one call, `JobRunner.run_job`. Tasks are acknowledged late (after running) and
re-queued if a worker process is lost. What Celery cannot recover by itself (a worker killed
with messages it had prefetched, a publish lost in a crash) each worker recovers from the
table every few seconds: jobs of dead local processes, expired leases, due jobs nobody took.
"""

from __future__ import annotations

import logging
import queue as stdlib_queue
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from celery import Celery, signals

from promptcanvas.ports.jobs import JobQueue
from promptcanvas.settings import Settings

if TYPE_CHECKING:
    from promptcanvas.bootstrap import Container

log = logging.getLogger(__name__)

TASK = "promptcanvas.run_job"
QUEUE = "promptcanvas"
SWEEP_SECONDS = 5.0
# A due job nobody has claimed is re-sent after this long when the broker queue is empty (its
# message is lost: a killed worker had taken it, or it was never published). While a backlog
# waits in the broker, its messages most likely include the job's, so only the shortfall
# between runnable jobs and waiting messages is re-sent, for jobs due REDELIVER_BUSY_SECONDS.
REDELIVER_IDLE_SECONDS = 3.0
REDELIVER_BUSY_SECONDS = 15.0


def make_celery(settings: Settings) -> Celery:
    """The Celery app for these settings (broker from PROMPTCANVAS_BROKER_URL)."""
    if not settings.broker_url:
        raise RuntimeError("PROMPTCANVAS_BROKER_URL must name the Redis broker for Celery")
    app = Celery("promptcanvas", broker=settings.broker_url)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        task_default_queue=QUEUE,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        # Redelivery of unacknowledged messages after a crash; the table sweep is faster.
        broker_transport_options={"visibility_timeout": 3600},
    )
    return app


class CeleryQueue(JobQueue):
    """Publishes job ids from a background thread so API requests never wait on the broker."""

    def __init__(self, settings: Settings, app: Celery | None = None) -> None:
        self.app = app or make_celery(settings)
        self._outbox: stdlib_queue.SimpleQueue[tuple[str, float]] = stdlib_queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def enqueue(self, job_ids: Sequence[str], *, delay: float = 0.0) -> None:
        """Hand the ids to the publisher thread."""
        for job_id in job_ids:
            self._outbox.put((job_id, delay))
        self._start()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._publish, name="celery-publisher")
                self._thread.daemon = True
                self._thread.start()

    def _publish(self) -> None:
        with self.app.producer_or_acquire() as producer:
            while True:
                job_id, delay = self._outbox.get()
                try:
                    self.app.send_task(
                        TASK,
                        args=[job_id],
                        countdown=delay or None,
                        queue=QUEUE,
                        producer=producer,
                    )
                except Exception:
                    # The job stays PENDING in the table; workers re-deliver due jobs.
                    log.exception("could not publish job %s; workers will find it", job_id)

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until everything handed over has been published (for tests and shutdown)."""
        import time

        deadline = time.monotonic() + timeout
        while not self._outbox.empty() and time.monotonic() < deadline:
            time.sleep(0.01)


def waiting(app: Celery) -> int:
    """How many messages wait in the broker's job queue, taken by no worker yet."""
    with app.pool.acquire(block=True) as connection:
        return int(connection.default_channel.queue_declare(queue=QUEUE).message_count)


def run_worker(
    settings: Settings,
    *,
    concurrency: int,
    name: str | None = None,
    container: Container | None = None,
) -> None:
    """Run a Celery worker (thread pool) in this process until it is stopped.

    `container` is built from `settings` unless given (benchmarks pass one with a fake model).
    """
    from promptcanvas.bootstrap import bootstrap

    container = container or bootstrap(settings)
    app = container.queue.app if isinstance(container.queue, CeleryQueue) else make_celery(settings)
    stop = threading.Event()

    @app.task(name=TASK, ignore_result=True)  # type: ignore[untyped-decorator]
    def run_job(job_id: str) -> None:
        container.runner.run_job(job_id, label=threading.current_thread().name)

    def sweep() -> None:
        while not stop.wait(SWEEP_SECONDS):
            try:
                container.runner.recover()
                backlog = waiting(app)
                container.runner.redeliver(
                    REDELIVER_BUSY_SECONDS if backlog else REDELIVER_IDLE_SECONDS,
                    waiting=backlog,
                )
            except Exception:
                log.exception("job table sweep failed")

    def on_ready(**_: Any) -> None:
        container.runner.recover()
        threading.Thread(target=sweep, name="job-sweep", daemon=True).start()

    signals.worker_ready.connect(on_ready, weak=False)
    argv = [
        "worker",
        "--pool=threads",
        f"--concurrency={concurrency}",
        f"--queues={QUEUE}",
        "--without-gossip",
        "--without-mingle",
        "--loglevel=INFO",
    ]
    if name:
        argv.append(f"--hostname={name}")
    try:
        app.worker_main(argv)
    finally:
        stop.set()
        container.close()
