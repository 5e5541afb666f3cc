"""Models AXIS can install locally (``axis models install NAME``) and where they live.

Installed models are files in one folder, ``models.dir`` (default ``~/.cache/talos/models``;
``~`` is expanded when it is used). Nothing here downloads anything: only the explicit
install command does. This package imports no model toolkit (ONNX, h5py) so that strategies
can ask for paths cheaply; the converters live in its submodules.
"""

from __future__ import annotations

from pathlib import Path

from talos.config import ModelsSettings, Settings

# Installable model name -> file name inside models.dir.
INSTALLABLE: dict[str, str] = {"hed": "hed_bsds500.onnx"}


def models_dir(settings: Settings) -> Path:
    """The configured models folder with ``~`` expanded (it may not exist yet)."""
    return Path(settings.models.dir).expanduser()


def model_path(models: ModelsSettings, name: str) -> Path:
    """Where model ``name`` (a key of :data:`INSTALLABLE`) is, or will be, installed in
    ``models.dir`` (``~`` expanded)."""
    return Path(models.dir).expanduser() / INSTALLABLE[name]


def installed_path(settings: Settings, name: str) -> Path:
    """:func:`model_path` in the settings' ``models`` section."""
    return model_path(settings.models, name)
