"""The Orchestrator's Alembic migrations build exactly its models' schema, beside AXIS's."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from tests.helpers.databases import fresh_postgres_database

from talos.axis.service.tables import Base, migrate
from talos.config import OrchestratorSettings
from talos.orchestrator.db import open_database
from talos.orchestrator.models import OrchestratorBase
from talos.web.db import make_engine


def _diff(engine, metadata, prefix: str | None) -> list:
    def ours(name, kind, _parent) -> bool:
        is_orch = str(name).startswith("orch_")
        return kind != "table" or (is_orch if prefix else not is_orch)

    version_table = "orch_alembic_version" if prefix else "alembic_version"
    with engine.connect() as connection:
        opts = {"include_name": ours, "version_table": version_table}
        return compare_metadata(MigrationContext.configure(connection, opts=opts), metadata)


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.e2e)])
def test_migrations_match_the_models_and_share_a_database_with_axis(tmp_path, database) -> None:
    def check(url: str) -> None:
        settings = OrchestratorSettings(database_url=url)
        open_database(settings)
        open_database(settings)  # a second start-up is a no-op
        engine = make_engine(url)
        migrate(engine)  # the AXIS service's tables in the same database
        assert _diff(engine, OrchestratorBase.metadata, "orch_") == []
        assert _diff(engine, Base.metadata, None) == []
        tables = set(inspect(engine).get_table_names())
        assert {"orch_jobs", "orch_stages", "orch_attempts", "orch_dlq", "jobs"} <= tables
        assert {"orch_alembic_version", "alembic_version"} <= tables
        engine.dispose()

    if database == "sqlite":
        check(f"sqlite:///{tmp_path}/shared.db")
    else:
        with fresh_postgres_database("orch_migrate") as url:
            check(url)


def test_tables_from_before_the_migrations_are_adopted(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    engine = make_engine(url)
    OrchestratorBase.metadata.create_all(engine)  # how earlier versions made them
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO orch_jobs (job_id, kind, status, request, outputs, created_at, "
                "updated_at) VALUES ('kept', 'generate', 'completed', '{}', '{}', 1, 1)"
            )
        )
    sessions = open_database(OrchestratorSettings(database_url=url))
    with sessions() as session:
        assert session.execute(text("SELECT job_id FROM orch_jobs")).scalar_one() == "kept"
        version = session.execute(text("SELECT version_num FROM orch_alembic_version"))
        assert version.scalar_one() == "0001"
    engine.dispose()
