"""``axis view OUTDIR``: the viewer over a CLI output folder, on loopback, read-only.

It answers the same read endpoints as the service (``/jobs``, ``/jobs/{id}``, ``lines.json``,
``metrics.jsonl``, ``frames/{n}.json|png``, ``source``) for one job, named after the folder;
the edit routes are absent, so the page opens without its edit tools. Edits need revisions,
ETags and a database, which is what the service is for: a folder edited in place would lose
its history. No API key: the server binds to 127.0.0.1 only."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Response
from fastapi.responses import FileResponse

from talos import __version__
from talos.axis.errors import InputError
from talos.axis.io.frames import frame_stem
from talos.axis.io.metrics_log import METRICS_FILE
from talos.axis.io.readback import manifest_source, read_manifest
from talos.axis.render.png import frame_png
from talos.axis.service.edits import parse_frame
from talos.axis.service.routes.jobs import FrameNo
from talos.axis.service.viewer import mount_viewer
from talos.web.errors import install_error_handlers, not_found


def job_name(outdir: Path) -> str:
    """The folder's name as a job id (letters, digits, ``-_.``; others become ``_``)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", outdir.resolve().name) or "trace"


def create_local_app(outdir: str | Path) -> FastAPI:
    """The viewer app for ``outdir`` (checked now: :class:`~talos.axis.errors.InputError` when
    it is not a trace folder)."""
    folder = Path(outdir).resolve()
    manifest = read_manifest(folder)
    name = job_name(folder)
    created = dt.datetime.fromtimestamp((folder / "lines.json").stat().st_mtime, dt.UTC)
    frames = len(manifest["frames"])
    try:
        source_path: Path | None = manifest_source(folder)
    except InputError:
        source_path = None
    app = FastAPI(title=f"AXIS viewer: {folder}", version=__version__)
    install_error_handlers(app)

    def check(job_id: str) -> None:
        if job_id != name:
            raise not_found(f"no job {job_id} (this server shows {name})")

    def status() -> dict[str, Any]:
        return {
            "job_id": name,
            "status": "completed",
            "progress": {"frames_done": frames, "frames_total": frames, "fraction": 1.0},
            "timings": {},
            "attempts": 1,
            "error": None,
            "output_url": folder.as_uri() + "/lines.json",
            "lines_url": f"/jobs/{name}/lines.json",
            "created_at": created.isoformat(),
        }

    def read(relative: str, what: str) -> bytes:
        path = folder / relative
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise not_found(f"{what}: {path} is missing") from None

    @app.get("/jobs")
    def jobs() -> list[dict[str, Any]]:
        return [status()]

    @app.get("/jobs/{job_id}")
    def job(job_id: str) -> dict[str, Any]:
        check(job_id)
        return status()

    @app.get("/jobs/{job_id}/lines.json")
    def lines(job_id: str) -> Response:
        check(job_id)
        return Response(read("lines.json", "the manifest"), media_type="application/json")

    @app.get("/jobs/{job_id}/metrics.jsonl")
    def metrics(job_id: str) -> Response:
        check(job_id)
        return Response(read(METRICS_FILE, "the metrics"), media_type="application/x-ndjson")

    def frame_file(n: int) -> tuple[bytes, dict[str, Any]]:
        """Frame ``n``'s file and its data (404 when missing, 500 frame_unreadable naming
        the file when it is not a frame)."""
        raw = read(f"{frame_stem(n)}.json", f"frame {n}")
        return raw, parse_frame(raw, f"frame {n} ({folder / frame_stem(n)}.json)")

    @app.get("/jobs/{job_id}/frames/{n}.json")
    def frame_json(job_id: str, n: FrameNo) -> Response:
        check(job_id)
        raw, _ = frame_file(n)
        return Response(raw, media_type="application/json", headers={"ETag": '"r0"'})

    @app.get("/jobs/{job_id}/frames/{n}.png")
    def frame_png_file(job_id: str, n: FrameNo) -> Response:
        check(job_id)
        path = folder / f"{frame_stem(n)}.png"
        data = path.read_bytes() if path.is_file() else frame_png(frame_file(n)[1])
        return Response(data, media_type="image/png", headers={"ETag": '"r0"'})

    @app.get("/jobs/{job_id}/source")
    def source(job_id: str) -> FileResponse:
        check(job_id)
        if source_path is None or not source_path.is_file():
            raise not_found(
                f"the traced source {source_path or '(none named)'} is not on this machine"
            )
        return FileResponse(source_path)

    mount_viewer(app, {"server": "local", "editable": False, "auth": False, "job_id": name})
    return app
