"""The dead-letter queue: list entries, show one, replay its job from the failed stage."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from talos.contracts.bounds import DB_INT_MAX
from talos.orchestrator.deps import OrchestratorDep
from talos.orchestrator.routes.errors import engine_errors

router = APIRouter(prefix="/dlq", tags=["dlq"])
EntryId = Annotated[int, Path(ge=0, le=DB_INT_MAX, description="The dead-letter entry's id.")]


@router.get("")
def list_dlq(engine: OrchestratorDep, pending: bool = Query(False)) -> dict[str, Any]:
    entries = engine.list_dead_letters(include_replayed=not pending)
    return {"entries": entries, "count": len(entries)}


@router.get("/{entry_id}")
def get_dlq(entry_id: EntryId, engine: OrchestratorDep) -> Any:
    with engine_errors(f"dead-letter entry: {entry_id}"):
        return engine.get_dead_letter(entry_id)


@router.post("/{entry_id}/replay", status_code=202)
def replay_dlq(entry_id: EntryId, engine: OrchestratorDep) -> Any:
    with engine_errors(f"dead-letter entry: {entry_id}"):
        entry = engine.replay(entry_id)
    return {"entry": entry, "job_id": entry["job_id"], "status": "running"}
