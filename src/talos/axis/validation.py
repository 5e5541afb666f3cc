"""Validation of AXIS output against its published JSON Schemas (the files are in
:mod:`talos.axis.schemas`): one document, or a run's whole output folder.

A folder is also checked for what a schema cannot say, across documents: each frame file holds
the index its ``lines.json`` entry gives, no id is worn by two items of one frame (an id is one
line, so two strokes with one id are a tracking bug, not two pieces of a line), and a stroke
whose id is in the track table lies in one of that track's runs of frames. Strokes added by
hand have ids of their own, outside the table."""

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
    """Validate ``lines.json`` and every frame file it lists, each against its schema and
    against each other (see the module docstring); return the number of frames."""
    root = Path(folder)
    manifest_path = root / "lines.json"
    if not manifest_path.is_file():
        raise SchemaError(f"{manifest_path}: missing")
    manifest = json.loads(manifest_path.read_text())
    validate("lines", manifest, str(manifest_path))
    runs = track_runs(manifest.get("tracks", []), str(manifest_path))
    for entry in manifest["frames"]:
        frame_path = root / entry["path"]
        if not frame_path.is_file():
            raise SchemaError(f"{frame_path}: listed in lines.json but missing")
        frame = json.loads(frame_path.read_text())
        validate("frame", frame, str(frame_path))
        check_frame_ids(frame, entry["index"], runs, str(frame_path))
        if "svg" in entry and not (root / entry["svg"]).is_file():
            raise SchemaError(f"{root / entry['svg']}: listed in lines.json but missing")
    return len(manifest["frames"])


def track_runs(tracks: list[dict[str, Any]], source: str) -> dict[int, list[tuple[int, int]]]:
    """The runs of frames ``[(first, last), ...]`` of each track in a manifest's ``tracks``
    table, by id; raise :class:`SchemaError` when an id is listed twice. A row without
    ``frames`` has the one run from its ``first_frame`` to its ``last_frame``."""
    runs: dict[int, list[tuple[int, int]]] = {}
    for row in tracks:
        track_id = int(row["stroke_id"])
        if track_id in runs:
            raise SchemaError(f"{source}: tracks: stroke_id {track_id} is listed twice")
        spans = row.get("frames") or [[row["first_frame"], row["last_frame"]]]
        runs[track_id] = [(int(first), int(last)) for first, last in spans]
    return runs


def check_frame_ids(
    frame: dict[str, Any],
    index: int,
    runs: dict[int, list[tuple[int, int]]],
    source: str,
) -> None:
    """Raise :class:`SchemaError` naming ``source`` when a (schema-valid) frame file does not
    hold frame ``index``, when two of its strokes, circles or triangles share an id, or when
    a stroke's track (in ``runs``, see :func:`track_runs`) was not seen in this frame."""
    if frame["index"] != index:
        raise SchemaError(f"{source}: index: {frame['index']}, but lines.json lists it as {index}")
    seen: set[int] = set()
    for kind in ("strokes", "circles", "triangles"):
        for item in frame[kind]:
            if "stroke_id" not in item:
                continue
            item_id = int(item["stroke_id"])
            if item_id in seen:
                raise SchemaError(f"{source}: {kind}: stroke_id {item_id} is used twice")
            seen.add(item_id)
            spans = runs.get(item_id)
            if spans is not None and not any(a <= index <= b for a, b in spans):
                raise SchemaError(
                    f"{source}: {kind}: stroke_id {item_id} is in frame {index}, outside its "
                    f"track's frames in lines.json"
                )
