"""Validation of AXIS output against its published JSON Schemas (the files are in
:mod:`talos.axis.schemas`): one document, or a run's whole output folder."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from talos.contracts.documents import SchemaError, check_document

SCHEMA_NAMES = ("lines", "frame")


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The schema ``lines`` (the manifest) or ``frame`` (a frame file) as a dict."""
    if name not in SCHEMA_NAMES:
        raise ValueError(f"unknown schema {name!r}; known: {', '.join(SCHEMA_NAMES)}")
    text = resources.files("talos.axis.schemas").joinpath(f"{name}.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(load_schema(name))


def validate(name: str, document: Any, source: str = "document") -> None:
    """Raise :class:`SchemaError` naming the first problem if ``document`` is invalid."""
    check_document(_validator(name), document, source)


def validate_output(folder: str | Path) -> int:
    """Validate ``lines.json`` and every frame file it lists; return the number of frames."""
    root = Path(folder)
    manifest_path = root / "lines.json"
    if not manifest_path.is_file():
        raise SchemaError(f"{manifest_path}: missing")
    manifest = json.loads(manifest_path.read_text())
    validate("lines", manifest, str(manifest_path))
    for entry in manifest["frames"]:
        frame_path = root / entry["path"]
        if not frame_path.is_file():
            raise SchemaError(f"{frame_path}: listed in lines.json but missing")
        validate("frame", json.loads(frame_path.read_text()), str(frame_path))
        if "svg" in entry and not (root / entry["svg"]).is_file():
            raise SchemaError(f"{root / entry['svg']}: listed in lines.json but missing")
    return len(manifest["frames"])
