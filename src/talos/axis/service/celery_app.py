"""The Celery application of the distributed executor (``queue.backend: celery``).

Broker: ``queue.broker_url`` (Redis). Tasks are acknowledged late and rejected when their
worker is lost, one prefetched at a time; results live in the job database, not in Celery.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from celery import Celery

from talos.config import Settings, load_settings

if TYPE_CHECKING:
    from talos.axis.service.runtime import Runtime

log = logging.getLogger(__name__)
RUN_JOB = "axis.run_job"
QUEUE = "axis"


def make_celery(settings: Settings) -> Celery:
    app = Celery("axis", broker=settings.queue.broker_url.get_secret_value())
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_default_queue=QUEUE,
        broker_connection_retry_on_startup=True,
        # a redelivered duplicate is harmless (the database lease decides who runs a job)
        broker_transport_options={"visibility_timeout": max(60, settings.service.lease_s * 4)},
        worker_hijack_root_logger=False,
    )
    app.task(name=RUN_JOB, ignore_result=True)(_run_job_task)
    return app


def send_job(app: Celery, job_id: str) -> None:
    app.send_task(RUN_JOB, args=[job_id], queue=QUEUE)


_runtime: Runtime | None = None


def set_worker_runtime(runtime: Runtime) -> None:
    """The Runtime tasks in this process use (``axis worker`` sets it before starting)."""
    global _runtime
    _runtime = runtime


def _worker_runtime() -> Runtime:
    global _runtime
    if _runtime is None:  # a worker started by `celery -A ...` rather than `axis worker`
        from talos.axis.service.runtime import build_runtime

        _runtime = build_runtime(load_settings(), check=False)
    return _runtime


def _run_job_task(job_id: str) -> str | None:
    from talos.axis.service.runner import run_job

    return run_job(_worker_runtime(), job_id)
