"""``axis worker``: run jobs without serving HTTP.

With ``queue.backend: celery`` this is a Celery worker on ``queue.broker_url`` (start any
number, on any machines sharing the database and store). With ``embedded`` it is the same
polling pool ``axis serve`` runs in-process, useful to add workers on one machine.
"""

from __future__ import annotations

import argparse
import logging
import os
from typing import Any

from talos.cli import CliError
from talos.cli.common import add_config_option, settings_from_args

log = logging.getLogger(__name__)


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "worker",
        help="run AXIS jobs (Celery worker, or an embedded pool) without the HTTP API",
        description=(
            "Run AXIS jobs. Example: AXIS_QUEUE__BACKEND=celery "
            "AXIS_DATABASE__URL=postgresql+psycopg://... axis worker --concurrency 2"
        ),
    )
    parser.add_argument("--concurrency", type=int, metavar="N", help="jobs at once")
    add_config_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from talos.axis.service.runtime import build_runtime
    from talos.web.db import DatabaseError

    overrides = {}
    if args.concurrency is not None:
        if args.concurrency < 1:
            raise CliError("--concurrency must be at least 1", 2)
        overrides["queue"] = {"workers": args.concurrency}
    settings = settings_from_args(args, **overrides)
    try:
        runtime = build_runtime(settings, check=True)
    except DatabaseError as exc:
        raise CliError(str(exc)) from None
    if runtime.model_error:
        raise CliError(f"models are not loaded: {runtime.model_error}")
    if settings.queue.backend == "embedded":
        from talos.axis.service.executors import EmbeddedExecutor

        log.info("embedded worker pool: %d workers", settings.queue.workers)
        EmbeddedExecutor(runtime).run_forever()
        return 0
    from talos.axis.service.celery_app import QUEUE, make_celery, set_worker_runtime

    set_worker_runtime(runtime)
    app = make_celery(settings)
    app.worker_main(
        [
            "worker",
            "--pool=threads",
            f"--concurrency={settings.queue.workers}",
            f"--queues={QUEUE}",
            f"--loglevel={settings.logging.level}",
            "--without-gossip",
            "--without-mingle",
            f"--hostname=axis-{os.getpid()}@%h",
        ]
    )
    return 0
