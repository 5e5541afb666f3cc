"""The Orchestrator's database: an engine for ``orchestrator.database_url`` and its tables.

The tables live on their own metadata (:class:`~talos.orchestrator.models.OrchestratorBase`),
so the Orchestrator can share a database with the AXIS service or use its own; they are
created if missing (``create_all`` is idempotent).
"""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from talos.axis.service.db import DatabaseError, make_engine, session_factory
from talos.config import OrchestratorSettings
from talos.orchestrator.models import OrchestratorBase


def open_database(settings: OrchestratorSettings) -> sessionmaker[Session]:
    """Sessions on the Orchestrator's database, its tables created if missing; a database
    that cannot be reached is a one-line :class:`DatabaseError` (no URL, it may hold a
    password)."""
    engine = make_engine(settings.database_url.get_secret_value())
    try:
        OrchestratorBase.metadata.create_all(engine)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        raise DatabaseError(
            f"orchestrator database unreachable: {reason[0] if reason else type(exc).__name__}"
        ) from None
    return session_factory(engine)
