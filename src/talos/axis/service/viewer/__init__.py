"""The web viewer and stroke editor (``/viewer/``): static ES modules and Canvas 2D, no build
step. The service serves it next to its JSON API (:func:`mount_viewer`); ``axis view`` serves it
for a CLI output folder (:mod:`.local`).

The page talks only to the JSON endpoints both servers share: ``GET /jobs``,
``/jobs/{id}``, ``lines.json``, ``metrics.jsonl``, ``frames/{n}.json|png``, ``source`` and, on
the service, the edit routes. ``/viewer/info.json`` tells it which server it is on (can it
edit, does it need an API key)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"


def mount_viewer(app: FastAPI, info: dict[str, Any]) -> None:
    """Serve the viewer at ``/viewer/`` and ``info`` (what it can do here) at
    ``/viewer/info.json``. The page holds no secret, so it is not behind the API key; the
    JSON it reads is."""

    @app.get("/viewer/info.json", include_in_schema=False)
    def viewer_info() -> dict[str, Any]:
        return info

    @app.get("/viewer", include_in_schema=False)
    def viewer_slash() -> RedirectResponse:
        return RedirectResponse("/viewer/")

    app.mount("/viewer", StaticFiles(directory=STATIC_DIR, html=True), name="viewer")
