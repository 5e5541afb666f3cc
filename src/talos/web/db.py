"""Engines, sessions and schema migrations of a module's database (AXIS's job database, the
Orchestrator's).

SQLite (a file, the default) or PostgreSQL (``AXIS_DATABASE__URL=postgresql+psycopg://...``).
The schema is created and upgraded by Alembic at start-up from the module's own migrations
folder; several processes starting at once (service and workers) take a lock first so only one
migrates.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# alembic announces each of its plugins at INFO when imported: noise on every start-up
logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from sqlalchemy import Connection, CursorResult, Engine, create_engine, event, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.engine.interfaces import DBAPIConnection  # noqa: E402
from sqlalchemy.exc import ArgumentError, SQLAlchemyError  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402
from sqlalchemy.pool import ConnectionPoolEntry  # noqa: E402
from sqlalchemy.sql.dml import UpdateBase  # noqa: E402

from talos.errors import TalosError  # noqa: E402

# pg_advisory_lock key held while migrating, one for every module ("AXIS", where it began):
# two modules sharing a database then migrate one after the other
_PG_MIGRATION_LOCK = 0x41584953


class DatabaseError(TalosError):
    """A database is unreachable or its URL is unusable."""


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get WAL mode and a generous busy timeout so the
    service and its workers can share one file."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError("database.url is not a valid SQLAlchemy URL") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(
            dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry
        ) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    try:
        return create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=10)
    except (ImportError, ModuleNotFoundError) as exc:
        raise DatabaseError(
            f"database driver missing ({exc.name}); install talos-axis[distributed]"
        ) from None


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def execute_dml(session: Session, statement: UpdateBase) -> CursorResult[Any]:
    """Run an INSERT, UPDATE or DELETE in ``session``: its cursor result, whose ``rowcount``
    (rows matched) is what a compare-and-swap update tests."""
    result = session.execute(statement)
    if not isinstance(result, CursorResult):
        raise TypeError(f"{type(statement).__name__} gave a {type(result).__name__}, no rowcount")
    return result


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if not database or database == ":memory:":
            yield
            return
        with open(f"{database}.migrate.lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    yield  # PostgreSQL: the advisory lock is taken on the migration connection itself


def migrate(
    engine: Engine,
    migrations: Path,
    what: str = "the job database",
    adopt: Callable[[Connection], str | None] | None = None,
) -> None:
    """Bring the schema to the newest Alembic revision of ``migrations`` (no-op when it is
    already there). ``adopt`` may name the revision an older, unversioned schema already
    matches (it is stamped with it first); ``what`` names the database in errors."""
    config = Config()
    config.set_main_option("script_location", str(migrations))
    try:
        with _migration_lock(engine), engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK}
                )
            config.attributes["connection"] = connection
            found = adopt(connection) if adopt is not None else None
            if found is not None:
                command.stamp(config, found)
            command.upgrade(config, "head")
    except SQLAlchemyError as exc:
        raise DatabaseError(f"cannot migrate {what}: {_one_line(exc)}") from None


def ping(engine: Engine, what: str = "job database") -> None:
    """Raise :class:`DatabaseError` unless a trivial query succeeds."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise DatabaseError(f"{what} unreachable: {_one_line(exc)}") from None


def _one_line(exc: BaseException) -> str:
    text_ = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text_[0] if text_ else type(exc).__name__
