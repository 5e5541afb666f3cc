"""Request dependencies of the Orchestrator's routes: what ``create_app`` keeps in
``app.state`` (the settings, the database's sessions and, while serving, the engine)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from talos.config import Settings
from talos.orchestrator.engine import Orchestrator


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_sessions(request: Request) -> sessionmaker[Session]:
    sessions: sessionmaker[Session] = request.app.state.sessions
    return sessions


def get_orchestrator(request: Request) -> Orchestrator:
    orchestrator: Orchestrator = request.app.state.orchestrator
    return orchestrator


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionsDep = Annotated[sessionmaker[Session], Depends(get_sessions)]
OrchestratorDep = Annotated[Orchestrator, Depends(get_orchestrator)]
