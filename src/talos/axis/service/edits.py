"""Editing one frame's strokes (use case 3): patch, delete, add, restore — every edit a new
revision in the database, the frame's JSON and SVG (and PNG, when one exists) re-rendered in
the store.

Concurrency: a frame's ETag is its revision number. An edit is a compare-and-swap on the
``frame_heads`` row (revision r → r + 1) inside the transaction that also inserts the
revision row and rewrites the store files, so two edits of the same frame are serialized by
the database: with ``If-Match`` the loser gets 412; without it, it is re-applied on top of
the winner. Revision 0 is the frame as traced, kept when the first edit lands.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from talos.axis.editing import apply_patch, new_stroke
from talos.axis.io.frames import (
    circle_from_dict,
    dumps,
    frame_stem,
    stroke_from_dict,
    stroke_to_dict,
    triangle_from_dict,
)
from talos.axis.io.manifest import MANIFEST_FILE
from talos.axis.render.png import frame_png
from talos.axis.render.svg import frame_svg
from talos.axis.service.api_models import StrokeNew, StrokePatch
from talos.axis.service.jobs import JobService
from talos.axis.service.runtime import Runtime
from talos.axis.service.tables import FrameHead, FrameRevision, Job
from talos.config import ServiceLimits
from talos.store import StoreNotFoundError
from talos.web.db import execute_dml
from talos.web.errors import ApiError, not_found, unprocessable
from talos.web.limits import clip_echo

ADDED_ID_BASE = 1_000_000  # strokes added by hand get ids from here, clear of traced ids
RETRIES = 5


def etag_for(revision: int) -> str:
    return f'"r{revision}"'


@dataclass(frozen=True)
class FrameState:
    data: dict[str, Any]
    revision: int

    @property
    def etag(self) -> str:
        return etag_for(self.revision)


class _Conflict(Exception):
    pass


# An edit: the frame's data → the edited data and the stroke it touched (None: no one stroke).
_Edit = Callable[[dict[str, Any]], tuple[dict[str, Any], int | None]]


@contextmanager
def _invalid_edit() -> Iterator[None]:
    """A malformed edit (the engine's ValueError) answered as 400 ``invalid_edit``."""
    try:
        yield
    except ValueError as exc:
        raise ApiError(400, "invalid_edit", str(exc)) from None


def _check_request_points(count: int, limits: ServiceLimits) -> None:
    """422 when a request gives more control points for one stroke than
    ``service.limits.max_stroke_points``: checked before any work (a 300,000-segment stroke
    once took 12 s to store and 49 s to render as PNG)."""
    if count > limits.max_stroke_points:
        raise unprocessable(
            "too_many_points",
            f"control_points: {count} points is over the limit of {limits.max_stroke_points} "
            "per stroke (service.limits.max_stroke_points)",
        )


def _check_edited(
    data: dict[str, Any], stroke: dict[str, Any], points_before: int, limits: ServiceLimits
) -> None:
    """422 unless the edited ``stroke`` (as the frame file holds it) is finite and lies
    within the frame widened by ``service.limits.edit_margin`` frame sizes, and the frame
    keeps at most ``service.limits.max_frame_points`` control points (or no more than it had
    before this edit: a traced frame over the cap can still be edited)."""
    arrays = [stroke["bezier"], stroke["pressure"]]
    if stroke.get("curvature"):
        arrays.append(stroke["curvature"]["knots"])
    if not all(np.isfinite(np.asarray(a, dtype=np.float64)).all() for a in arrays):
        raise unprocessable("edit_out_of_bounds", "the edit gives the stroke non-finite values")
    width, height = float(data["width"]), float(data["height"])
    margin = limits.edit_margin
    cp = np.asarray(stroke["bezier"], dtype=np.float64)
    low = np.array([-margin * width, -margin * height])
    high = np.array([(1 + margin) * width, (1 + margin) * height])
    if ((cp < low) | (cp > high)).any():
        raise unprocessable(
            "edit_out_of_bounds",
            f"the edited stroke leaves the frame ({width:g} x {height:g} px) by more than "
            f"{margin:g} frame sizes (service.limits.edit_margin): x must stay in "
            f"[{low[0]:g}, {high[0]:g}], y in [{low[1]:g}, {high[1]:g}]",
        )
    total = _frame_points(data)
    if total > limits.max_frame_points and total > points_before:
        raise unprocessable(
            "too_many_points",
            f"the frame would hold {total} control points, over the limit of "
            f"{limits.max_frame_points} (service.limits.max_frame_points)",
        )


def _frame_points(data: dict[str, Any]) -> int:
    return sum(len(s["bezier"]) for s in data.get("strokes", []))


class FrameEditor:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.jobs = JobService(runtime)
        self.store = runtime.store
        self.limits = runtime.settings.service.limits

    def _prefix(self, job_id: str) -> str:
        self.jobs.completed(job_id)
        return f"{job_id}/axis"

    def key(self, job_id: str, frame: int, suffix: str) -> str:
        return f"{self._prefix(job_id)}/{frame_stem(frame)}.{suffix}"

    def current(self, job_id: str, frame: int) -> FrameState:
        """The frame as it is now, with its revision (0 = as traced)."""
        if frame < 0:
            raise not_found(f"no frame {frame}")
        key = self.key(job_id, frame, "json")
        with self.rt.sessions() as session:
            head = session.get(FrameHead, (job_id, frame))
            if head is not None:
                row = session.scalar(
                    select(FrameRevision).where(
                        FrameRevision.job_id == job_id,
                        FrameRevision.frame == frame,
                        FrameRevision.revision == head.revision,
                    )
                )
                if row is not None:
                    return FrameState(json.loads(row.frame_json), head.revision)
        try:
            raw = self.store.get_bytes(key)
        except StoreNotFoundError:
            raise not_found(f"job {job_id} has no frame {frame}") from None
        return FrameState(parse_frame(raw, f"frame {frame} of job {job_id}"), 0)

    def revisions(self, job_id: str, frame: int) -> list[FrameRevision]:
        self.current(job_id, frame)  # 404s
        with self.rt.sessions() as session:
            return list(
                session.scalars(
                    select(FrameRevision)
                    .where(FrameRevision.job_id == job_id, FrameRevision.frame == frame)
                    .order_by(FrameRevision.revision)
                )
            )

    # each edit: a function from the current frame data to (new data, stroke_id, change)

    def patch(
        self,
        job_id: str,
        frame: int,
        stroke_id: int,
        patch: StrokePatch,
        author: str,
        if_match: str | None,
    ) -> tuple[FrameState, int | None]:
        if patch.control_points is not None:
            _check_request_points(len(patch.control_points), self.limits)

        def edit(data: dict[str, Any]) -> tuple[dict[str, Any], int | None]:
            before = _frame_points(data)
            strokes = data["strokes"]
            index = _find(strokes, stroke_id, job_id, frame)
            stroke = stroke_from_dict(strokes[index])
            with _invalid_edit():
                stroke = apply_patch(stroke, patch)
            strokes[index] = stroke_to_dict(stroke)
            _check_edited(data, strokes[index], before, self.limits)
            return data, stroke_id

        change = patch.model_dump(exclude_none=True)
        return self._commit(job_id, frame, "patch", change, author, if_match, edit)

    def delete(
        self, job_id: str, frame: int, stroke_id: int, author: str, if_match: str | None
    ) -> tuple[FrameState, int | None]:
        def edit(data: dict[str, Any]) -> tuple[dict[str, Any], int | None]:
            del data["strokes"][_find(data["strokes"], stroke_id, job_id, frame)]
            return data, stroke_id

        return self._commit(job_id, frame, "delete", {}, author, if_match, edit)

    def add(
        self, job_id: str, frame: int, spec: StrokeNew, author: str, if_match: str | None
    ) -> tuple[FrameState, int | None]:
        _check_request_points(len(spec.control_points), self.limits)

        def edit(data: dict[str, Any]) -> tuple[dict[str, Any], int | None]:
            before = _frame_points(data)
            ids = [int(s["stroke_id"]) for s in data["strokes"]]
            stroke_id = max([ADDED_ID_BASE - 1, *ids]) + 1
            with _invalid_edit():
                stroke = new_stroke(spec, stroke_id)
            data["strokes"].append(stroke_to_dict(stroke))
            _check_edited(data, data["strokes"][-1], before, self.limits)
            return data, stroke_id

        change = spec.model_dump()
        return self._commit(job_id, frame, "add", change, author, if_match, edit)

    def restore(
        self, job_id: str, frame: int, revision: int, author: str, if_match: str | None
    ) -> tuple[FrameState, int | None]:
        with self.rt.sessions() as session:
            row = session.scalar(
                select(FrameRevision).where(
                    FrameRevision.job_id == job_id,
                    FrameRevision.frame == frame,
                    FrameRevision.revision == revision,
                )
            )
        if row is None:
            self.current(job_id, frame)  # 404 for the job or frame first
            raise not_found(f"frame {frame} of job {job_id} has no revision {revision}")
        snapshot = json.loads(row.frame_json)

        def edit(_data: dict[str, Any]) -> tuple[dict[str, Any], int | None]:
            return snapshot, None

        change = {"restored_revision": revision}
        return self._commit(job_id, frame, "restore", change, author, if_match, edit)

    def _commit(
        self,
        job_id: str,
        frame: int,
        action: str,
        change: dict[str, Any],
        author: str,
        if_match: str | None,
        edit: _Edit,
    ) -> tuple[FrameState, int | None]:
        for _ in range(RETRIES):
            state = self.current(job_id, frame)
            if if_match is not None and if_match.strip() not in (state.etag, "*"):
                raise ApiError(
                    412,
                    "precondition_failed",
                    f"frame {frame} changed: If-Match {clip_echo(if_match)} but the frame is "
                    f"{state.etag}",
                    {"current_etag": state.etag},
                )
            original = json.dumps(state.data, separators=(",", ":"))
            data, stroke_id = edit(json.loads(original))
            try:
                new = self._write(
                    job_id, frame, state, original, data, action, stroke_id, change, author
                )
                return new, stroke_id
            except _Conflict:
                if if_match is not None:
                    raise ApiError(
                        412,
                        "precondition_failed",
                        f"frame {frame} was changed by a concurrent edit",
                        {"expected_etag": state.etag},
                    ) from None
        raise ApiError(
            503,
            "edit_contention",
            "frame is being edited too often; try again",
            headers={"Retry-After": "1"},
        )

    def _write(
        self,
        job_id: str,
        frame: int,
        state: FrameState,
        original: str,
        data: dict[str, Any],
        action: str,
        stroke_id: int | None,
        change: dict[str, Any],
        author: str,
    ) -> FrameState:
        revision = state.revision + 1
        frame_json = json.dumps(data, separators=(",", ":"))
        try:
            with self.rt.sessions.begin() as session:
                # Edits of any frame of one job take turns from here on (lines.json is shared);
                # SQLite locks the whole database at the first write anyway.
                session.execute(select(Job.job_id).where(Job.job_id == job_id).with_for_update())
                if state.revision == 0:
                    # the first statement takes the write lock; a concurrent first edit fails here
                    session.add(FrameHead(job_id=job_id, frame=frame, revision=revision))
                    session.flush()
                    session.add(
                        FrameRevision(
                            job_id=job_id,
                            frame=frame,
                            revision=0,
                            action="original",
                            stroke_id=None,
                            author="axis",
                            change={},
                            frame_json=original,
                        )
                    )
                else:
                    result = execute_dml(
                        session,
                        update(FrameHead)
                        .where(
                            FrameHead.job_id == job_id,
                            FrameHead.frame == frame,
                            FrameHead.revision == state.revision,
                        )
                        .values(revision=revision),
                    )
                    if result.rowcount != 1:
                        raise _Conflict
                session.add(
                    FrameRevision(
                        job_id=job_id,
                        frame=frame,
                        revision=revision,
                        action=action,
                        stroke_id=stroke_id,
                        author=author,
                        change=change,
                        frame_json=frame_json,
                    )
                )
                session.flush()
                # still inside the transaction: concurrent edits reach the store in order
                self._publish(job_id, frame, data)
        except IntegrityError:
            raise _Conflict from None
        return FrameState(data, revision)

    def _publish(self, job_id: str, frame: int, data: dict[str, Any]) -> None:
        stem = f"{job_id}/axis/{frame_stem(frame)}"
        self.store.put_bytes(f"{stem}.json", dumps(data))
        manifest = self._manifest(job_id)
        layers = sorted(manifest.get("layers", []), key=lambda layer: layer.get("order", 0))
        count = len(data.get("strokes", []))
        for entry in manifest.get("frames", []):
            if entry.get("index") == frame and entry.get("stroke_count") != count:
                entry["stroke_count"] = count
                self.store.put_bytes(
                    f"{job_id}/axis/{MANIFEST_FILE}", json.dumps(manifest, indent=1).encode()
                )
        strokes = [stroke_from_dict(s) for s in data.get("strokes", [])]
        circles = [circle_from_dict(c) for c in data.get("circles", [])]
        triangles = [triangle_from_dict(t) for t in data.get("triangles", [])]
        order = [layer["name"] for layer in layers]
        svg = frame_svg(data["width"], data["height"], strokes, circles, triangles, order)
        self.store.put_bytes(f"{stem}.svg", svg.encode("utf-8"))
        if self.store.exists(f"{stem}.png"):
            self.store.put_bytes(f"{stem}.png", frame_png(data))

    def _manifest(self, job_id: str) -> dict[str, Any]:
        try:
            manifest: dict[str, Any] = json.loads(
                self.store.get_bytes(f"{job_id}/axis/{MANIFEST_FILE}")
            )
            return manifest
        except StoreNotFoundError:
            return {}


def parse_frame(raw: bytes, what: str) -> dict[str, Any]:
    """A stored frame file's JSON, or a 500 ``frame_unreadable`` naming it: a damaged file in
    the store is the service's fault, and the viewer shows the message instead of a blank."""
    try:
        data = json.loads(raw)
        if not isinstance(data, dict) or not isinstance(data.get("strokes"), list):
            raise ValueError("no 'strokes' list")
    except ValueError as exc:
        raise ApiError(
            500, "frame_unreadable", f"{what} is not a readable frame file: {exc}"
        ) from None
    return data


def _find(strokes: list[dict[str, Any]], stroke_id: int, job_id: str, frame: int) -> int:
    for i, stroke in enumerate(strokes):
        if int(stroke["stroke_id"]) == stroke_id:
            return i
    raise not_found(f"frame {frame} of job {job_id} has no stroke {stroke_id}")
