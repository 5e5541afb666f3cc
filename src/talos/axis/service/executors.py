"""Where jobs run, behind one interface chosen by ``queue.backend``.

* :class:`EmbeddedExecutor` (default): ``queue.workers`` threads in this process poll the
  job table and claim jobs; nothing else to install. ``axis worker`` runs the same pool
  without the HTTP API (several may share one database).
* :class:`CeleryExecutor`: a Redis-brokered Celery task per job (``acks_late``), run by
  ``axis worker`` processes on any number of machines.

Either way the database decides who runs a job (a lease), so a lost or duplicated message
costs nothing: the executor's sweeper re-sends jobs whose lease ran out.
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable

from talos.axis.service.jobs import JobService
from talos.axis.service.leases import Leases
from talos.axis.service.runner import resend_lost_callbacks, run_job, worker_name
from talos.axis.service.runtime import Runtime

log = logging.getLogger(__name__)


class Executor(ABC):
    """Runs accepted jobs somewhere."""

    name: str

    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.jobs = JobService(runtime)
        self.leases = Leases(runtime)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @abstractmethod
    def submit(self, job_id: str) -> None:
        """Hand a freshly accepted job to the workers."""

    @abstractmethod
    def start(self) -> None:
        """Start background threads (workers, sweeper)."""

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout_s)

    def problem(self) -> str | None:
        """Why jobs cannot be run right now (for /readyz), or None."""
        return None

    def _spawn(self, target: Callable[[], object], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)


class EmbeddedExecutor(Executor):
    """``queue.workers`` threads that poll the database for claimable jobs."""

    name = "embedded"

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        self._wake = threading.Event()

    def submit(self, job_id: str) -> None:
        self._wake.set()

    def start(self) -> None:
        for i in range(self.rt.settings.queue.workers):
            self._spawn(self._work, f"axis-worker-{i}")
        self._spawn(self._sweep_callbacks, "axis-callbacks")

    def _sweep_callbacks(self) -> None:
        owner = worker_name()
        while not self._stop.wait(max(0.5, self.rt.settings.service.lease_s / 2)):
            try:
                resend_lost_callbacks(self.rt, owner)
            except Exception:
                log.exception("callback sweeper error")

    def run_forever(self) -> None:
        """Run the pool in the foreground until stopped (``axis worker`` for embedded)."""
        self.start()
        try:
            while not self._stop.wait(1.0):
                pass
        finally:
            self.stop()

    def _work(self) -> None:
        owner = worker_name()
        while not self._stop.is_set():
            ran = False
            try:
                for job_id in self.leases.claimable(limit=5):
                    if self._stop.is_set():
                        break
                    if run_job(self.rt, job_id, owner) is not None:
                        ran = True
                        break
            except Exception:  # the database may be down for a moment; keep the worker alive
                log.exception("embedded worker loop error")
            if not ran:
                self._wake.wait(self.rt.settings.service.poll_s)
                self._wake.clear()


class CeleryExecutor(Executor):
    """Sends one Celery task per job; a sweeper re-sends jobs whose lease ran out."""

    name = "celery"

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        from talos.axis.service.celery_app import make_celery

        self.app = make_celery(runtime.settings)

    def submit(self, job_id: str) -> None:
        from talos.axis.service.celery_app import RUN_JOB, send_job

        send_job(self.app, job_id)
        log.debug("sent %s(%s)", RUN_JOB, job_id)

    def start(self) -> None:
        self._spawn(self._sweep, "axis-sweeper")

    def problem(self) -> str | None:
        try:
            with self.app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, timeout=2)
        except Exception as exc:
            return f"queue broker unreachable: {type(exc).__name__}"
        return None

    def _sweep(self) -> None:
        lease = self.rt.settings.service.lease_s
        interval = max(0.5, lease / 2)
        last_sent: dict[str, float] = {}
        owner = worker_name()
        while not self._stop.wait(interval):
            try:
                resend_lost_callbacks(self.rt, owner)
                stale = set(self.leases.stale_queued(lease))
                now = time.monotonic()
                for job_id in self.leases.claimable(limit=100):
                    job = self.jobs.find(job_id)
                    if job is None or (job.status == "queued" and job_id not in stale):
                        continue  # its message is (probably) still on the way
                    if now - last_sent.get(job_id, -lease) < lease:
                        continue
                    log.info(
                        "re-sending job %s (%s: lease expired or message lost)", job_id, job.status
                    )
                    self.submit(job_id)
                    last_sent[job_id] = now
            except Exception:
                log.exception("sweeper error")


EXECUTORS: dict[str, type[Executor]] = {
    "embedded": EmbeddedExecutor,
    "celery": CeleryExecutor,
}


def make_executor(runtime: Runtime) -> Executor:
    return EXECUTORS[runtime.settings.queue.backend](runtime)
