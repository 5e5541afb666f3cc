"""What every service process holds once: settings, job database, store, readiness checks."""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from talos.axis.errors import StrategyError
from talos.axis.service.tables import migrate
from talos.config import Settings
from talos.store import Store
from talos.web.db import make_engine, ping, session_factory

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: Store
    model_error: str | None = None  # why the configured steps cannot be built, if they cannot

    @property
    def work_dir(self) -> Path:
        base = self.settings.service.work_dir
        return Path(base) if base is not None else Path(tempfile.gettempdir())


def check_models(settings: Settings) -> str | None:
    """Build the configured steps once (loading any models); the error text if that fails."""
    from talos.axis.io.output import OutputDir
    from talos.axis.steps import BuildContext, build_steps

    with tempfile.TemporaryDirectory(prefix="axis-check-") as tmp:
        try:
            build_steps(settings.pipeline.steps, BuildContext(settings, OutputDir(tmp), {}))
        except StrategyError as exc:
            log.error("models not ready: %s", exc)
            return str(exc)
    return None


def build_runtime(settings: Settings, check: bool = True, migrate_now: bool = True) -> Runtime:
    """Connect to (and migrate, unless ``migrate_now`` is False) the database, open the store,
    check the models (unless ``check`` is False)."""
    engine = make_engine(settings.database.url.get_secret_value())
    if migrate_now:
        migrate(engine)
        ping(engine)
    store = Store.from_settings(settings.store)
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        store=store,
        model_error=check_models(settings) if check else None,
    )
