"""Alembic environment of the Orchestrator's tables: runs on the connection
:func:`talos.orchestrator.db.open_database` passes. Its own version table lets the
Orchestrator share a database with the AXIS service, whose migrations are separate."""

from __future__ import annotations

from alembic import context

from talos.orchestrator.models import OrchestratorBase

VERSION_TABLE = "orch_alembic_version"

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=OrchestratorBase.metadata,
    version_table=VERSION_TABLE,
    render_as_batch=True,
    include_name=lambda name, kind, _parent: kind != "table" or str(name).startswith("orch_"),
)
with context.begin_transaction():
    context.run_migrations()
