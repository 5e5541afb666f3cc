"""Request dependencies of the Orchestrator's routes: what ``create_app`` keeps in
``app.state`` (the settings, the database's sessions and, while serving, the engine)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from talos.config import Settings
from talos.orchestrator.engine import Orchestrator


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_sessions(request: Request) -> sessionmaker[Session]:
    return request.app.state.sessions


def get_orchestrator(request: Request) -> Orchestrator:
    return request.app.state.orchestrator


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionsDep = Annotated[sessionmaker[Session], Depends(get_sessions)]
OrchestratorDep = Annotated[Orchestrator, Depends(get_orchestrator)]
