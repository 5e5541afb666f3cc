"""TALOS's architecture at C4 level 1 (system context) and level 2 (containers), as data:
who and what is there (:class:`~talos.diagrams.c4.Element`) and what travels between them
(:class:`~talos.diagrams.c4.Relation`). Edit these lists when the architecture changes and
run ``axis diagrams``; :func:`talos.diagrams.c4.build_c4` draws them.
"""

from __future__ import annotations

from talos.diagrams.c4 import Boundary, Element, Relation, build_c4
from talos.diagrams.drawio import Diagram

CONTEXT_ELEMENTS = (
    Element(
        "animator",
        "Animator / Director",
        "person",
        "Writes a prompt, picks a style and a\nsource video; edits lines stroke\nby stroke; "
        "watches the result",
        col=1,
        row=0,
    ),
    Element(
        "talos",
        "TALOS",
        "system",
        "AI animation pipeline: prompt and video in,\neditable vector line art and a colored "
        "MP4 out\n(Orchestrator, PRISM, AXIS, CHROMA)",
        col=1,
        row=1,
        min_width=340,
    ),
    Element(
        "video",
        "Source video locations",
        "external",
        "Footage to trace: HTTP(S) URLs,\nshared folders, buckets",
        col=0,
        row=1,
    ),
    Element(
        "llm",
        "LLM provider (optional)",
        "external",
        "Hosted language model that\nPRISM may ask to turn a prompt\ninto a shot spec",
        col=2,
        row=1,
    ),
    Element(
        "storage",
        "Object storage",
        "external",
        "S3-compatible bucket or a local folder:\nevery artifact under /{job_id}/{module}/",
        col=1,
        row=2,
        min_width=320,
    ),
)

CONTEXT_RELATIONS = (
    Relation(
        "animator",
        "talos",
        "Submits prompt, style, video URL;\nfollows the job; edits strokes\n"
        "[REST/JSON: POST /jobs, GET /jobs/{job_id}]",
    ),
    Relation("talos", "video", "Reads the source video\n[HTTP(S) / file URL]"),
    Relation("talos", "llm", "Prompt → shot spec\n[HTTPS, API key from env]"),
    Relation(
        "talos",
        "storage",
        "Writes and reads cut_spec.json, lines.json,\nframes, final MP4 [S3 API / files]",
    ),
)

CONTAINER_ELEMENTS = (
    Element(
        "animator",
        "Animator / Director",
        "person",
        "Submits jobs, follows them,\nedits strokes",
        col=2,
        row=0,
    ),
    Element("llm", "LLM provider (optional)", "external", "Hosted model; prompt → shot spec", 0, 2),
    Element(
        "orchestrator",
        "Orchestrator",
        "container",
        "Runs jobs through the modules;\ntracks state, retries with backoff,\n"
        "dead-letters what still fails",
        col=2,
        row=1,
        technology="FastAPI",
    ),
    Element(
        "jobdb",
        "Job database",
        "database",
        "Jobs, attempts, module state,\ndead-letter queue",
        col=3,
        row=1,
        technology="SQLAlchemy: SQLite | PostgreSQL",
    ),
    Element(
        "prism",
        "PRISM",
        "container",
        "Director: prompt → shot spec\n(cut_spec.json)",
        col=1,
        row=2,
        technology="FastAPI",
    ),
    Element(
        "axis",
        "AXIS",
        "container",
        "Animator: video + shot spec →\nvector strokes (lines.json)",
        col=2,
        row=2,
        technology="FastAPI",
    ),
    Element(
        "chroma",
        "CHROMA",
        "container",
        "Colorist: lines + style profile\n→ colored frames, MP4",
        col=3,
        row=2,
        technology="FastAPI",
    ),
    Element("video", "Source video locations", "external", "HTTP(S) / file URLs", 0, 3),
    Element(
        "workers",
        "Queue / workers",
        "container",
        "Run the AXIS Pipeline on each job:\ndecode → steps → lines.json",
        col=2,
        row=3,
        technology="in-process pool | Celery on Redis",
    ),
    Element(
        "store",
        "Shared Data Store",
        "database",
        "Every artifact under /{job_id}/{module}/",
        col=2,
        row=4,
        min_width=1160,
        technology="fsspec: local folder | S3",
    ),
)

_CALLBACK = "↩ POST /callbacks/job-completed"

CONTAINER_RELATIONS = (
    Relation(
        "animator",
        "orchestrator",
        "POST /jobs {prompt, style, video_source_url} → 202\nGET /jobs/{job_id} → status",
    ),
    Relation("orchestrator", "jobdb", "job state, attempts,\ndead letters [SQL]"),
    Relation(
        "orchestrator",
        "prism",
        f"POST /direct {{job_id, prompt, style}} → 202\n{_CALLBACK}",
        both=True,
    ),
    Relation(
        "orchestrator",
        "axis",
        f"POST /generate {{job_id, cut_spec_url,\nvideo_source_url}} → 202\n{_CALLBACK}",
        both=True,
    ),
    Relation(
        "orchestrator",
        "chroma",
        f"POST /colorize {{job_id, lines_data_url,\nstyle_profile_url}} → 202\n{_CALLBACK}",
        both=True,
    ),
    Relation("prism", "llm", "prompt → shot spec\n[HTTPS, optional]"),
    Relation("axis", "workers", "enqueue trace run\n(503 when the queue is full)"),
    Relation("workers", "video", "GET video_source_url\n(streamed decode)"),
    Relation(
        "prism", "store", "PUT /{job_id}/prism/\ncut_spec.json", exit=(0.12, 1), vertical=True
    ),
    Relation(
        "workers",
        "store",
        "GET cut_spec.json\nPUT /{job_id}/axis/lines.json,\nframes/NNNNNN.json|svg, metrics.jsonl",
        exit=(0.5, 1),
        vertical=True,
    ),
    Relation(
        "chroma",
        "store",
        "GET lines.json\nPUT /{job_id}/chroma/\nframes/*.png, final.mp4",
        exit=(0.5, 1),
        vertical=True,
    ),
)

CONTAINER_BOUNDARY = Boundary(
    "talos-boundary",
    "TALOS [Software System]",
    ("orchestrator", "jobdb", "prism", "axis", "chroma", "workers", "store"),
)


_SUBTITLES = {
    "c4-context": "C4 level 1 — who uses TALOS and which outside systems it relies on",
    "c4-containers": "C4 level 2 — the services inside TALOS and what travels between them "
    "(↩ = callback)",
}


def context_diagram() -> Diagram:
    """C4 level 1: TALOS, the animator/director, and the external systems."""
    return build_c4(
        "c4-context",
        "TALOS — system context",
        CONTEXT_ELEMENTS,
        CONTEXT_RELATIONS,
        col_pitch=560,
        row_pitch=270,
        subtitle=_SUBTITLES["c4-context"],
    )


def containers_diagram() -> Diagram:
    """C4 level 2: the containers of TALOS and every call between them."""
    return build_c4(
        "c4-containers",
        "TALOS — containers",
        CONTAINER_ELEMENTS,
        CONTAINER_RELATIONS,
        CONTAINER_BOUNDARY,
        col_pitch=500,
        subtitle=_SUBTITLES["c4-containers"],
    )
