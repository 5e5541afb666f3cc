"""The Alembic migrations build exactly the schema the SQLAlchemy models describe."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from talos.axis.service.tables import Base, migrate
from talos.web.db import DatabaseError, make_engine


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.e2e)])
def test_migrations_match_models_and_are_idempotent(tmp_path, database, request) -> None:
    url = (
        f"sqlite:///{tmp_path}/m.db"
        if database == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    engine = make_engine(url)
    migrate(engine)
    migrate(engine)  # a second start-up is a no-op
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []
    assert {"jobs", "frame_revisions", "frame_heads", "step_timings"} <= set(
        inspect(engine).get_table_names()
    )
    engine.dispose()


def test_bad_database_urls_are_clear_errors() -> None:
    with pytest.raises(DatabaseError, match="not a valid SQLAlchemy URL"):
        make_engine("not a url")
    with pytest.raises(DatabaseError, match="cannot migrate"):
        migrate(make_engine("postgresql+psycopg://postgres:pw@127.0.0.1:9/x"))
