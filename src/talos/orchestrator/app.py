"""The Orchestrator HTTP API: ``create_app(settings)``.

Routes (``routes/``) are thin: they check input and call :class:`~.engine.Orchestrator`.
``/jobs`` and ``/dlq`` need an X-API-Key when keys are configured (:mod:`talos.web.auth`);
callbacks are signed with the job's key (:mod:`talos.web.callbacks`), always: without a
configured ``orchestrator.callback_token`` the app makes a random secret for its run. Errors
use the shared error body ``{"error": {"code", "message", "details"}}``.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.concurrency import run_in_threadpool
from pydantic import SecretStr

from talos import __version__
from talos.config import Settings
from talos.orchestrator.db import open_database
from talos.orchestrator.engine import Orchestrator
from talos.orchestrator.routes import callbacks, dlq, health, jobs
from talos.web.auth import require_api_key
from talos.web.errors import install_database_unavailable, install_error_handlers
from talos.web.limits import install_body_limit
from talos.web.openapi import document_errors

# Error codes single operations answer beyond the ones every operation of their kind does
# (400 on input, 401/403 behind the API key, 413 with a body: see talos.web.openapi).
ERROR_CODES = {  # 503: the job database unreachable (every route that reads it)
    "POST /jobs": (404, 409, 503),
    "GET /jobs": (503,),
    "GET /jobs/{job_id}": (404, 503),
    "POST /callbacks/job-completed": (401, 403, 404, 409, 503),
    "GET /dlq": (503,),
    "GET /dlq/{entry_id}": (404, 503),
    "POST /dlq/{entry_id}/replay": (404, 409, 503),
    "GET /readyz": (503,),
}

log = logging.getLogger(__name__)


def with_callback_secret(settings: Settings) -> Settings:
    """``settings`` with ``orchestrator.callback_token`` set: the configured one, else a random
    32-byte secret (callbacks are never unauthenticated; the secret is never logged)."""
    if settings.orchestrator.callback_token is not None:
        return settings
    log.warning(
        "orchestrator.callback_token is not set: signing callbacks with a random secret for "
        "this run; callbacks of jobs in flight across a restart will be refused"
    )
    generated = SecretStr(secrets.token_urlsafe(32))
    section = settings.orchestrator.model_copy(update={"callback_token": generated})
    return settings.model_copy(update={"orchestrator": section})


def create_app(settings: Settings, start_loop: bool = True) -> FastAPI:
    """The Orchestrator app; its stage loop runs while the app is being served."""

    sessions = open_database(settings.orchestrator)  # fails here, before serving, if down
    settings = with_callback_secret(settings)  # after: a failed start says one line only

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        orchestrator = Orchestrator(settings, sessions)
        app.state.orchestrator = orchestrator
        if start_loop:
            orchestrator.start()
        try:
            yield
        finally:
            await run_in_threadpool(orchestrator.stop)

    app = FastAPI(
        title="TALOS Orchestrator",
        version=__version__,
        description="Runs prompt → PRISM → AXIS → CHROMA jobs with step-level retries and a "
        "dead-letter queue.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.sessions = sessions
    install_error_handlers(app)
    install_database_unavailable(app, "orchestrator database")
    document_errors(app, codes=ERROR_CODES)
    install_body_limit(app, settings.http.max_body_bytes)
    protected = [Depends(require_api_key)]
    app.include_router(health.router)
    app.include_router(jobs.router, dependencies=protected)
    app.include_router(callbacks.router)
    app.include_router(dlq.router, dependencies=protected)
    return app
