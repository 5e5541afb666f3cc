"""The Orchestrator HTTP API: ``create_app(settings)``.

Routes are thin: they check input and auth and call :class:`~.engine.Orchestrator`.
Errors use the AXIS error body ``{"error": {"code", "message", "details"}}``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from talos import __version__
from talos.calllog import record_call
from talos.config import Settings
from talos.orchestrator.db import open_database
from talos.orchestrator.engine import Orchestrator
from talos.orchestrator.errors import CallbackConflict, JobNotFound
from talos.orchestrator.flows import callback_signature
from talos.orchestrator.schemas import CallbackBody, JobCreate
from talos.web.auth import check_api_key, same_secret
from talos.web.errors import (
    ApiError,
    conflict,
    install_error_handlers,
    not_found,
    unavailable,
)


def _check_callback_auth(
    settings: Settings, job_id: str, authorization: str | None, token: str | None
) -> None:
    """A callback carries either the job's signed ``?token=`` (from the callback URL we
    handed out) or ``Authorization: Bearer <callback_token>``."""
    secret = settings.orchestrator.callback_token
    if secret is None:
        return
    value = secret.get_secret_value()
    if authorization and authorization.startswith("Bearer "):
        if same_secret(authorization.removeprefix("Bearer "), value):
            return
        raise ApiError(403, "forbidden", "callback token not accepted")
    if token is not None:
        if same_secret(token, callback_signature(value, job_id)):
            return
        raise ApiError(403, "forbidden", "callback token not accepted")
    raise ApiError(401, "unauthorized", "callback needs its token (?token= or Bearer)")


def create_app(settings: Settings, start_loop: bool = True) -> FastAPI:
    """The Orchestrator app; its stage loop runs while the app is being served."""

    sessions = open_database(settings.orchestrator)  # fails here, before serving, if down

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
    install_error_handlers(app)

    def orch(request: Request) -> Orchestrator:
        return request.app.state.orchestrator

    @app.get("/healthz", tags=["ops"])
    def health() -> dict[str, str]:
        return {"status": "ok", "module": "orchestrator"}

    @app.get("/readyz", tags=["ops"])
    def ready() -> dict[str, str]:
        try:
            with sessions() as session:
                session.execute(text("SELECT 1"))
        except SQLAlchemyError:
            raise unavailable("database_unavailable", "orchestrator database unreachable") from None
        return {"status": "ready", "module": "orchestrator"}

    @app.post("/jobs", status_code=202, tags=["jobs"])
    def create_job(
        body: JobCreate, request: Request, response: Response,
        x_api_key: str | None = Header(None),
    ) -> dict[str, Any]:  # fmt: skip
        check_api_key(settings.api_keys, x_api_key)
        engine = orch(request)
        payload = body.model_dump(exclude_none=True, exclude={"job_id"})
        if body.job_id is not None and engine.job_exists(body.job_id):
            raise conflict(f"job {body.job_id} exists")
        if body.edit is not None:
            try:
                lines = engine.lines_url_of(body.edit.base_job_id)
            except JobNotFound:
                raise not_found(f"no such job: {body.edit.base_job_id}") from None
            if not lines:
                raise conflict(f"job {body.edit.base_job_id} has no lines.json yet")
            payload["lines_data_url"] = lines
        try:
            job_id = engine.create_job(body.kind, payload, body.job_id)
        except IntegrityError:  # a concurrent POST with the same job_id won the race
            raise conflict(f"job {body.job_id} exists") from None
        record_call(settings.tracing.call_log, "user", "orchestrator", "POST", "/jobs", 202, job_id)
        response.headers["Location"] = f"/jobs/{job_id}"
        view = engine.get_job(job_id)
        return {"job_id": job_id, "status": "pending", "kind": body.kind,
                "stages": [s["module"] for s in view["stages"]]}  # fmt: skip

    @app.get("/jobs/{job_id}", tags=["jobs"])
    def get_job(job_id: str, request: Request, x_api_key: str | None = Header(None)) -> Any:
        check_api_key(settings.api_keys, x_api_key)
        try:
            return orch(request).get_job(job_id)
        except JobNotFound:
            raise not_found(f"no such job: {job_id}") from None

    @app.get("/jobs", tags=["jobs"])
    def list_jobs(
        request: Request,
        status: str | None = Query(None, pattern="^(pending|running|completed|failed)$"),
        kind: str | None = Query(None, pattern="^(generate|recolor|edit)$"),
        module: str | None = Query(None, pattern="^(prism|axis|axis_edit|chroma)$"),
        limit: int = Query(100, ge=1, le=1000),
        offset: int = Query(0, ge=0),
        x_api_key: str | None = Header(None),
    ) -> dict[str, Any]:
        check_api_key(settings.api_keys, x_api_key)
        jobs = orch(request).list_jobs(status, kind, module, limit, offset)
        return {"jobs": jobs, "count": len(jobs)}

    @app.post("/callbacks/job-completed", tags=["callbacks"])
    def job_completed(
        body: CallbackBody, request: Request,
        token: str | None = Query(None), authorization: str | None = Header(None),
    ) -> dict[str, Any]:  # fmt: skip
        _check_callback_auth(settings, body.job_id, authorization, token)
        try:
            result = orch(request).handle_callback(
                body.job_id, body.module_name, body.status, body.output_url,
                body.error_message, body.transient, body.http_status,
            )  # fmt: skip
        except JobNotFound:
            raise not_found(f"no such job: {body.job_id}") from None
        except CallbackConflict as exc:
            raise conflict(str(exc)) from None
        return {"job_id": body.job_id, "result": result}

    @app.get("/dlq", tags=["dlq"])
    def list_dlq(
        request: Request, pending: bool = Query(False), x_api_key: str | None = Header(None)
    ) -> dict[str, Any]:
        check_api_key(settings.api_keys, x_api_key)
        entries = orch(request).list_dead_letters(include_replayed=not pending)
        return {"entries": entries, "count": len(entries)}

    @app.get("/dlq/{entry_id}", tags=["dlq"])
    def get_dlq(entry_id: int, request: Request, x_api_key: str | None = Header(None)) -> Any:
        check_api_key(settings.api_keys, x_api_key)
        try:
            return orch(request).get_dead_letter(entry_id)
        except JobNotFound:
            raise not_found(f"no such dead-letter entry: {entry_id}") from None

    @app.post("/dlq/{entry_id}/replay", status_code=202, tags=["dlq"])
    def replay_dlq(entry_id: int, request: Request, x_api_key: str | None = Header(None)) -> Any:
        check_api_key(settings.api_keys, x_api_key)
        try:
            entry = orch(request).replay(entry_id)
        except JobNotFound:
            raise not_found(f"no such dead-letter entry: {entry_id}") from None
        except CallbackConflict as exc:
            raise conflict(str(exc)) from None
        return {"entry": entry, "job_id": entry["job_id"], "status": "running"}

    return app
