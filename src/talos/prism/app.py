"""PRISM's HTTP API: ``POST /direct`` → 202; the cut_spec is written to
``/{job_id}/prism/cut_spec.json`` in the shared store and reported by callback.

``GET /schemas/cut_spec`` serves the published JSON Schema.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from pydantic import ConfigDict, Field

from talos.config import Settings
from talos.contracts.bounds import FPS_MAX, FRAME_MAX, SECONDS_MAX, RequestBody
from talos.contracts.cut_spec import cut_spec_schema, validate_cut_spec
from talos.contracts.patterns import JOB_ID_PATTERN, STYLE_PATTERN
from talos.errors import InputError
from talos.media import probe_video
from talos.modulekit import PROTECTED, module_app
from talos.prism.director import direct
from talos.store import Store
from talos.web.callbacks import check_callback_url
from talos.web.inputs import check_url, fetch


class SourceFacts(RequestBody):
    """What is known of the source video; any field may be left out."""

    width: int | None = Field(None, ge=1, le=16384)
    height: int | None = Field(None, ge=1, le=16384)
    fps: float | None = Field(None, gt=0, le=FPS_MAX)
    duration: float | None = Field(None, gt=0, le=SECONDS_MAX)
    frame_count: int | None = Field(None, ge=1, le=FRAME_MAX)


class DirectRequest(RequestBody):
    """POST /direct."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"job_id": "abc123", "prompt": "slow pan over a city skyline", "style": "ink"}
            ]
        },
    )

    job_id: str = Field(..., pattern=JOB_ID_PATTERN)
    prompt: str = Field(..., min_length=1, max_length=4000)
    style: str | None = Field(None, pattern=STYLE_PATTERN)
    video_source_url: str | None = Field(None, description="Probed for size, fps and length.")
    source: SourceFacts | None = Field(
        None, description="Known source facts (width, height, fps, duration) instead of probing."
    )
    callback_url: str | None = None


def _probe(url: str, settings: Settings) -> dict[str, Any]:
    """Size, fps and length of a local or fetched source video (only its header is read)."""
    checked = check_url(url, settings, "video_source_url")
    with tempfile.TemporaryDirectory(prefix="prism-") as tmp:
        local = fetch(
            checked, Path(tmp) / "source", settings,
            settings.service.limits.max_input_bytes, "video_source_url",
        )  # fmt: skip
        try:
            info = probe_video(local)
        except InputError as exc:
            raise InputError(f"video_source_url: {exc}") from None
    facts = {"width": info.width, "height": info.height, "fps": info.fps}
    if info.duration:
        facts["duration"] = info.duration
    if info.frame_count:
        facts["frame_count"] = info.frame_count
    return facts


def create_app(settings: Settings) -> FastAPI:
    store = Store.from_settings(settings.store)

    app = module_app(
        "prism",
        settings,
        title="TALOS PRISM (reference director)",
        description="Rule-based prompt → cut_spec.json. Replace it with an LLM-backed director "
        "by pointing services.prism_url at any service with the same POST /direct.",
        error_codes={"POST /direct": (422,)},
    )

    @app.get("/schemas/cut_spec", tags=["schemas"], dependencies=PROTECTED)
    def schema() -> dict[str, Any]:
        return cut_spec_schema()

    @app.post("/direct", status_code=202, tags=["prism"], dependencies=PROTECTED)
    def direct_shot(body: DirectRequest, request: Request) -> dict[str, Any]:
        if body.video_source_url is not None:
            check_url(body.video_source_url, settings, "video_source_url")  # 400 now, not later
        check_callback_url(body.callback_url, settings)  # 422: a private address

        def work() -> str:
            source = body.source.model_dump(exclude_none=True) if body.source else {}
            if body.video_source_url and not source:
                source = _probe(body.video_source_url, settings)
            spec = direct(body.prompt, settings.prism, body.style, source, body.job_id)
            validate_cut_spec(spec)
            data = json.dumps(spec, indent=1).encode()
            return store.put_bytes(f"{body.job_id}/prism/cut_spec.json", data)

        request.app.state.worker.submit(body.job_id, body.callback_url, work)
        return {"status": "accepted", "job_id": body.job_id, "message": "directing"}

    return app
