"""``POST /callbacks/job-completed``: a module reports a stage's end; the job moves on."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Header, Query

from talos.config import Settings
from talos.orchestrator.deps import OrchestratorDep, SettingsDep
from talos.orchestrator.flows import callback_signature
from talos.orchestrator.routes.errors import engine_errors
from talos.orchestrator.schemas import CallbackBody
from talos.web.auth import same_secret
from talos.web.errors import ApiError

router = APIRouter(tags=["callbacks"])


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


@router.post("/callbacks/job-completed")
def job_completed(
    body: CallbackBody, engine: OrchestratorDep, settings: SettingsDep,
    token: str | None = Query(None), authorization: str | None = Header(None),
) -> dict[str, Any]:  # fmt: skip
    _check_callback_auth(settings, body.job_id, authorization, token)
    with engine_errors(f"job: {body.job_id}"):
        result = engine.handle_callback(
            body.job_id, body.module_name, body.status, body.output_url,
            body.error_message, body.transient, body.http_status,
        )  # fmt: skip
    return {"job_id": body.job_id, "result": result}
