"""Liveness, readiness and Prometheus metrics (no API key needed)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from talos.store import StoreError
from talos.web.db import DatabaseError, ping

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Ready to accept jobs",
    responses={503: {"description": "Models not loaded, or database/store/broker unreachable"}},
)
def readyz(request: Request) -> JSONResponse:
    state = request.app.state
    rt = state.runtime
    problems: dict[str, str] = {}
    if rt.model_error:
        problems["models"] = rt.model_error
    if not state.db_ready.is_set():
        problems["database"] = state.db_problem or "not migrated yet"
    else:
        try:
            ping(rt.engine)
        except DatabaseError as exc:
            problems["database"] = str(exc)
    try:
        rt.store.ping()
    except StoreError as exc:
        problems["store"] = str(exc)
    queue_problem = state.executor.problem()
    if queue_problem:
        problems["queue"] = queue_problem
    if problems:
        first = next(iter(problems.values()))
        body = {"error": {"code": "not_ready", "message": first, "details": problems}}
        return JSONResponse(body, status_code=503, headers={"Retry-After": "10"})
    return JSONResponse({"status": "ready", "executor": state.executor.name})


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics), media_type=CONTENT_TYPE_LATEST)
