"""CHROMA's HTTP API: ``POST /colorize`` → 202, work in a worker thread, callback when done.

``GET /profiles`` lists the shipped style profiles, ``GET /profiles/{name}`` shows one.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, Request
from pydantic import ConfigDict, Field

from talos.axis.errors import InputError
from talos.chroma.colorize import colorize, resolve_profile
from talos.chroma.profiles import load_profile, shipped_profile_names
from talos.config import Settings
from talos.contracts.bounds import FRAME_MAX, RequestBody
from talos.contracts.patterns import JOB_ID_PATTERN, STYLE_PATTERN
from talos.modulekit import PROTECTED, module_app
from talos.store import Store
from talos.web.callbacks import check_callback_url
from talos.web.errors import not_found, unprocessable
from talos.web.inputs import check_url


class ColorizeRequest(RequestBody):
    """POST /colorize."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "job_id": "abc123",
                    "lines_data_url": "file:///data/store/abc123/axis/lines.json",
                    "style": "neon",
                }
            ]
        },
    )

    job_id: str = Field(..., pattern=JOB_ID_PATTERN)
    lines_data_url: str
    style: str | None = Field(None, pattern=STYLE_PATTERN, description="Profile by name.")
    style_profile_url: str | None = Field(None, description="Profile JSON by URL (wins).")
    frames: list[Annotated[int, Field(le=FRAME_MAX)]] | None = Field(
        None, min_length=1, max_length=10000, description="Render only these frame indices."
    )
    callback_url: str | None = None


def create_app(settings: Settings) -> FastAPI:
    store = Store.from_settings(settings.store)

    app = module_app(
        "chroma",
        settings,
        title="TALOS CHROMA (reference colorist)",
        description="lines.json + a style profile → PNG frames and an MP4 in the shared store.",
        error_codes={"GET /profiles/{name}": (404,), "POST /colorize": (422,)},
    )

    @app.get("/profiles", tags=["profiles"], dependencies=PROTECTED)
    def profiles() -> dict[str, Any]:
        return {"profiles": shipped_profile_names()}

    @app.get("/profiles/{name}", tags=["profiles"], dependencies=PROTECTED)
    def profile(name: str) -> dict[str, Any]:
        try:
            return load_profile(name, settings.chroma.profiles_dir).model_dump()
        except InputError as exc:
            raise not_found(str(exc)) from None

    @app.post("/colorize", status_code=202, tags=["chroma"], dependencies=PROTECTED)
    def colorize_job(body: ColorizeRequest, request: Request) -> dict[str, Any]:
        check_url(body.lines_data_url, settings, "lines_data_url")  # 400 on a bad URL
        check_callback_url(body.callback_url, settings)  # 422: a private address
        if body.frames is not None and min(body.frames) < 0:
            raise unprocessable("invalid_frames", "frames: indices must be >= 0")
        try:
            chosen = resolve_profile(settings, body.style, body.style_profile_url)
        except InputError as exc:
            raise unprocessable("invalid_style", str(exc)) from None

        def work() -> str:
            return colorize(body.job_id, body.lines_data_url, chosen, settings, store, body.frames)

        request.app.state.worker.submit(body.job_id, body.callback_url, work)
        return {
            "status": "accepted",
            "job_id": body.job_id,
            "message": f"coloring in {chosen.name}",
        }

    return app
