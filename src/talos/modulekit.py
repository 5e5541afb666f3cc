"""What the reference modules (PRISM, CHROMA) share: accept a job with 202, do the work in a
worker thread, then report ``POST /callbacks/job-completed`` to the Orchestrator (signed with
the job's key from its ``callback_url``; see :mod:`talos.web.callbacks`).

The work function returns the output URL; a :class:`~talos.errors.TalosError` (the engine's
``AxisError`` among them) or :class:`~talos.web.errors.ApiError` it raises is
a permanent failure with its message, anything else a transient one (``transient: true`` —
the Orchestrator may retry).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.concurrency import run_in_threadpool

from talos import __version__
from talos.config import Settings
from talos.errors import TalosError
from talos.web.auth import require_api_key
from talos.web.callbacks import callback_body, send_callback
from talos.web.errors import ApiError, install_error_handlers
from talos.web.limits import install_body_limit
from talos.web.openapi import document_errors

log = logging.getLogger(__name__)

# A module's routes other than /healthz take this: X-API-Key when Settings.api_keys is set.
PROTECTED = [Depends(require_api_key)]


class ModuleWorker:
    """A small thread pool that runs jobs of one module and sends their callbacks."""

    def __init__(self, module: str, settings: Settings, workers: int = 2) -> None:
        self.module = module
        self.settings = settings
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"{module}-job")

    def submit(
        self, job_id: str, callback_url: str | None, work: Callable[[], str]
    ) -> Future[None]:
        return self._pool.submit(self._run, job_id, callback_url, work)

    def _run(self, job_id: str, callback_url: str | None, work: Callable[[], str]) -> None:
        body: dict[str, Any]
        try:
            output_url = work()
            body = callback_body(job_id, "completed", output_url, None, module_name=self.module)
        except (TalosError, ApiError) as exc:
            log.warning("%s job %s failed: %s", self.module, job_id, exc)
            code = getattr(exc, "code", type(exc).__name__)
            body = callback_body(job_id, "failed", None, str(exc), code, module_name=self.module)
        except Exception as exc:  # unexpected: report it as worth a retry
            log.exception("%s job %s crashed", self.module, job_id)
            body = callback_body(
                job_id, "failed", None, f"{type(exc).__name__}: {exc}", "internal_error",
                module_name=self.module,
            )  # fmt: skip
            body["transient"] = True
        url = callback_url or self.settings.callbacks.orchestrator_url
        if url:
            send_callback(url, body, self.settings, source=self.module)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)


def module_app(
    module: str, settings: Settings, title: str, description: str,
    error_codes: Mapping[str, Iterable[int]] | None = None,
) -> FastAPI:  # fmt: skip
    """A reference module's FastAPI app: a :class:`ModuleWorker` in ``app.state.worker`` for
    the app's lifetime, the shared JSON error bodies, the request body limit, and
    ``GET /healthz``. The module's own routes take ``dependencies=PROTECTED``; ``error_codes``
    names the error statuses of single operations for the OpenAPI document
    (:func:`~talos.web.openapi.document_errors`)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.worker = ModuleWorker(module, settings)
        try:
            yield
        finally:
            await run_in_threadpool(app.state.worker.shutdown)

    app = FastAPI(title=title, version=__version__, description=description, lifespan=lifespan)
    app.state.settings = settings  # read by require_api_key
    install_error_handlers(app)
    document_errors(app, codes=error_codes)
    install_body_limit(app, settings.http.max_body_bytes)

    @app.get("/healthz", tags=["ops"])
    def health() -> dict[str, str]:
        return {"status": "ok", "module": module}

    return app
