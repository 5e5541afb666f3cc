"""Liveness and readiness (no API key needed)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from talos.orchestrator.deps import SessionsDep
from talos.web.errors import unavailable

router = APIRouter(tags=["ops"])


@router.get("/healthz")
def health() -> dict[str, str]:
    return {"status": "ok", "module": "orchestrator"}


@router.get("/readyz")
def ready(sessions: SessionsDep) -> dict[str, str]:
    try:
        with sessions() as session:
            session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        raise unavailable("database_unavailable", "orchestrator database unreachable") from None
    return {"status": "ready", "module": "orchestrator"}
