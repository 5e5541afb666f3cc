"""The dead-letter queue: list entries, show one, replay its job from the failed stage."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from talos.orchestrator.deps import OrchestratorDep
from talos.orchestrator.errors import CallbackConflict, JobNotFound
from talos.web.errors import conflict, not_found

router = APIRouter(prefix="/dlq", tags=["dlq"])


@router.get("")
def list_dlq(engine: OrchestratorDep, pending: bool = Query(False)) -> dict[str, Any]:
    entries = engine.list_dead_letters(include_replayed=not pending)
    return {"entries": entries, "count": len(entries)}


@router.get("/{entry_id}")
def get_dlq(entry_id: int, engine: OrchestratorDep) -> Any:
    try:
        return engine.get_dead_letter(entry_id)
    except JobNotFound:
        raise not_found(f"no such dead-letter entry: {entry_id}") from None


@router.post("/{entry_id}/replay", status_code=202)
def replay_dlq(entry_id: int, engine: OrchestratorDep) -> Any:
    try:
        entry = engine.replay(entry_id)
    except JobNotFound:
        raise not_found(f"no such dead-letter entry: {entry_id}") from None
    except CallbackConflict as exc:
        raise conflict(str(exc)) from None
    return {"entry": entry, "job_id": entry["job_id"], "status": "running"}
