"""Request dependencies: the process's Runtime and services."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from talos.axis.service.edits import FrameEditor
from talos.axis.service.executors import Executor
from talos.axis.service.jobs import JobService
from talos.axis.service.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_executor(request: Request) -> Executor:
    executor: Executor = request.app.state.executor
    return executor


def get_jobs(runtime: Annotated[Runtime, Depends(get_runtime)]) -> JobService:
    return JobService(runtime)


def get_editor(runtime: Annotated[Runtime, Depends(get_runtime)]) -> FrameEditor:
    return FrameEditor(runtime)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
JobsDep = Annotated[JobService, Depends(get_jobs)]
EditorDep = Annotated[FrameEditor, Depends(get_editor)]
ExecutorDep = Annotated[Executor, Depends(get_executor)]
