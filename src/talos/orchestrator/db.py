"""The Orchestrator's database: an engine for ``orchestrator.database_url`` and its tables.

The tables live on their own metadata (:class:`~talos.orchestrator.models.OrchestratorBase`)
and have their own Alembic migrations and version table (``orch_alembic_version``), so the
Orchestrator can share a database with the AXIS service or use its own. The schema is
brought to the newest revision at start-up; tables made by an earlier version without
migrations are adopted as revision 0001.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, inspect
from sqlalchemy.orm import Session, sessionmaker

from talos.config import OrchestratorSettings
from talos.web.db import make_engine, migrate, ping, session_factory

MIGRATIONS = Path(__file__).with_name("migrations")


def _unversioned_revision(connection: Connection) -> str | None:
    """``"0001"`` for Orchestrator tables that predate its migrations (made by
    ``create_all``, the same schema), else None."""
    tables = set(inspect(connection).get_table_names())
    return "0001" if "orch_jobs" in tables and "orch_alembic_version" not in tables else None


def open_database(settings: OrchestratorSettings) -> sessionmaker[Session]:
    """Sessions on the Orchestrator's database, its schema migrated to the newest revision;
    a database that cannot be reached is a one-line
    :class:`~talos.web.db.DatabaseError` (no URL, it may hold a password)."""
    engine = make_engine(settings.database_url.get_secret_value())
    ping(engine, "orchestrator database")
    migrate(engine, MIGRATIONS, "the orchestrator database", adopt=_unversioned_revision)
    return session_factory(engine)
