"""``POST /callbacks/job-completed``: a module reports a stage's end; the job moves on.

Every callback must be signed with the job's key (``X-Talos-Timestamp``,
``X-Talos-Signature``; :mod:`talos.web.callbacks`). An unsigned, forged or stale one is
refused with 401 before its body is looked at, and the refusal is logged (job id, reason and
the caller's address; never a key or signature).
"""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request

from talos.orchestrator.deps import OrchestratorDep, SettingsDep
from talos.orchestrator.routes.errors import engine_errors
from talos.orchestrator.schemas import CallbackBody
from talos.web.callbacks import verify_signature
from talos.web.errors import ApiError

log = logging.getLogger(__name__)
router = APIRouter(tags=["callbacks"])


async def verified_callback(
    request: Request,
    settings: SettingsDep,
    x_talos_timestamp: Annotated[
        str | None, Header(description="Unix seconds when the module signed the body.")
    ] = None,
    x_talos_signature: Annotated[
        str | None,
        Header(description='"sha256=" + hex HMAC-SHA256 of "<timestamp>." + body, job key.'),
    ] = None,
) -> None:
    """FastAPI dependency: 401 unless the raw body is signed with its job's key and fresh."""
    raw = await request.body()
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = None
    job_id = parsed.get("job_id") if isinstance(parsed, dict) else None
    secret = settings.orchestrator.callback_token
    if not isinstance(job_id, str) or secret is None:
        reason: str | None = "no job_id to check the signature against"
    else:
        reason = verify_signature(
            secret.get_secret_value(), job_id, raw, x_talos_timestamp, x_talos_signature,
            settings.orchestrator.callback_max_age_s,
        )  # fmt: skip
    if reason is not None:
        client = request.client.host if request.client else "?"
        shown = job_id[:64] if isinstance(job_id, str) else None
        log.warning("callback refused (%s): job %r from %s", reason, shown, client)
        raise ApiError(401, "unauthorized", f"callback not accepted: {reason}")


@router.post(
    "/callbacks/job-completed",
    dependencies=[Depends(verified_callback)],
    responses={401: {"description": "Unsigned, forged, or outside the replay window."}},
)
def job_completed(body: CallbackBody, engine: OrchestratorDep) -> dict[str, Any]:
    with engine_errors(f"job: {body.job_id}"):
        result = engine.handle_callback(
            body.job_id, body.module_name, body.status, body.output_url,
            body.error_message, body.transient, body.http_status,
        )  # fmt: skip
    return {"job_id": body.job_id, "result": result}
