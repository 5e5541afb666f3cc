"""The AXIS HTTP service: ``create_app(settings)`` for uvicorn (``axis serve axis``).

Start-up: open the store, build the configured steps once (a model that fails to load makes
/readyz and POST /generate answer 503), migrate the database (retried in the background while
it is unreachable), then start the executor.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from talos import __version__
from talos.axis.service.executors import make_executor
from talos.axis.service.jobs import JobService
from talos.axis.service.prometheus import make_registry
from talos.axis.service.routes import edits, export, generate, health, jobs, viewer
from talos.axis.service.runtime import build_runtime
from talos.axis.service.tables import migrate
from talos.axis.service.viewer import mount_viewer
from talos.config import Settings, load_settings
from talos.web.auth import require_api_key
from talos.web.db import DatabaseError
from talos.web.errors import install_database_unavailable, install_error_handlers
from talos.web.limits import install_body_limit
from talos.web.openapi import document_errors

log = logging.getLogger(__name__)

DESCRIPTION = """
AXIS turns a video (plus the shot's `cut_spec.json`) into editable vector strokes.

* `POST /generate` accepts a job (202) and works asynchronously; poll `GET /jobs/{job_id}` or
  pass a `callback_url` to be told `{job_id, module_name: "AXIS", status, output_url,
  error_message}` when it ends.
* Results are in the shared data store under `/{job_id}/axis/` and over this API.
* Stroke edits are revisions: nothing is ever lost, `If-Match` makes an edit conditional.
* Every error is `{"error": {"code", "message", "details"}}`.
"""


def _start_when_database_ready(app: FastAPI, stop: threading.Event) -> None:
    state = app.state
    while not stop.is_set():
        try:
            migrate(state.runtime.engine)
            break
        except DatabaseError as exc:
            state.db_problem = str(exc)
            log.warning("%s; retrying", exc)
            stop.wait(2.0)
    if stop.is_set():
        return
    state.db_ready.set()
    state.db_problem = None
    state.executor.start()
    log.info("AXIS service ready (executor %s)", state.executor.name)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = build_runtime(settings, check=True, migrate_now=False)
        app.state.runtime = runtime
        app.state.executor = make_executor(runtime)
        app.state.metrics = make_registry(JobService(runtime))
        app.state.db_ready = threading.Event()
        app.state.db_problem = None
        stop = threading.Event()
        starter = threading.Thread(
            target=_start_when_database_ready, args=(app, stop), name="axis-start", daemon=True
        )
        starter.start()
        starter.join(5.0)  # usually instant; a slow database keeps retrying in the background
        try:
            yield
        finally:
            stop.set()
            app.state.executor.stop()
            runtime.engine.dispose()

    app = FastAPI(
        title="AXIS",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings  # read by require_api_key
    install_error_handlers(app)
    document_errors(app, everywhere=(503,))  # 503: the job database unreachable, any route
    install_body_limit(app, settings.http.max_body_bytes)

    install_database_unavailable(app, "job database")
    protected = [Depends(require_api_key)]
    app.include_router(health.router)
    app.include_router(generate.router, dependencies=protected)
    app.include_router(jobs.router, dependencies=protected)
    app.include_router(edits.router, dependencies=protected)
    app.include_router(export.router, dependencies=protected)
    app.include_router(viewer.router, dependencies=protected)
    mount_viewer(app, {"server": "service", "editable": True, "auth": bool(settings.api_keys)})
    return app


__all__ = ["create_app"]
