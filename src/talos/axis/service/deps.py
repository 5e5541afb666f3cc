"""Request dependencies: the process's Runtime and services, API-key checking."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Header, Request

from talos.axis.service.edits import FrameEditor
from talos.axis.service.errors import ApiError
from talos.axis.service.executors import Executor
from talos.axis.service.jobs import JobService
from talos.axis.service.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def get_executor(request: Request) -> Executor:
    return request.app.state.executor


def get_jobs(runtime: Annotated[Runtime, Depends(get_runtime)]) -> JobService:
    return JobService(runtime)


def get_editor(runtime: Annotated[Runtime, Depends(get_runtime)]) -> FrameEditor:
    return FrameEditor(runtime)


def require_api_key(
    runtime: Annotated[Runtime, Depends(get_runtime)],
    x_api_key: Annotated[
        str | None, Header(description="Required when AXIS_API_KEYS is set.")
    ] = None,
) -> None:
    keys = runtime.settings.api_keys
    if not keys:
        return
    if not x_api_key:
        raise ApiError(
            401,
            "unauthorized",
            "X-API-Key header required",
            headers={"WWW-Authenticate": "X-API-Key"},
        )
    given = x_api_key.encode("utf-8")
    if not any(secrets.compare_digest(given, k.get_secret_value().encode("utf-8")) for k in keys):
        raise ApiError(403, "forbidden", "X-API-Key not accepted")


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
JobsDep = Annotated[JobService, Depends(get_jobs)]
EditorDep = Annotated[FrameEditor, Depends(get_editor)]
ExecutorDep = Annotated[Executor, Depends(get_executor)]
