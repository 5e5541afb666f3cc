"""A UML sequence diagram of one job, drawn from a call log (:mod:`talos.calllog`).

Each recorded call becomes a solid arrow ``source → target`` labelled ``METHOD /path`` (with its
note, e.g. ``attempt 2``) and a dashed answer arrow back labelled with the HTTP status; errors
and missing answers are red, so retries stand out. Job ids in paths read ``{job_id}``, and runs
of identical calls (status polling) collapse into one arrow marked ``×N``. Lifelines follow the
order of the pipeline: user, orchestrator, prism, axis, chroma, store, then any other module.
"""

from __future__ import annotations

import http
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from talos.calllog import read_calls
from talos.diagrams.drawio import Diagram, Edge, Node, Text
from talos.diagrams.layout import place_labels, snap, text_block, text_node, text_width

LIFELINE_ORDER = ("user", "orchestrator", "prism", "axis", "chroma", "store")
LIFELINE_NAMES = {
    "user": ("Animator / Director", "user"),
    "orchestrator": ("Orchestrator", "job runner"),
    "prism": ("PRISM", "director"),
    "axis": ("AXIS", "animator"),
    "chroma": ("CHROMA", "colorist"),
    "store": ("Shared Data Store", "artifacts"),
}
REQUIRED_FIELDS = ("ts", "source", "target", "method", "path", "status")

MARGIN = 40.0
TIME_COLUMN = 90.0
HEADER = 54.0
TOP = 150.0
ROW = 34.0
INK = "#1f2933"
ERROR = "#c53030"
CALL = "#2d3748"
ANSWER = "#718096"


class TraceError(ValueError):
    """The call log is missing, unreadable or has no usable calls."""


@dataclass(frozen=True)
class Message:
    """One call (collapsed with identical neighbours) and its answer."""

    ts: float
    source: str
    target: str
    method: str
    path: str
    status: int | None
    note: str = ""
    repeat: int = 1
    retry_after: float | None = None  # s since the same call last failed


def load_trace(path: str | Path, job_id: str | None = None) -> tuple[str | None, list[Message]]:
    """Read a call log and keep one job's calls (``job_id``, else the job of the first
    ``POST /jobs``, else the first job seen). Raises :class:`TraceError` on a bad file."""
    try:
        entries = list(read_calls(path))
    except FileNotFoundError:
        raise TraceError(f"trace file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TraceError(f"cannot read trace file {path}: {exc}") from None
    except ValueError as exc:
        raise TraceError(f"{path}: not JSON lines ({exc})") from None
    except (KeyError, TypeError):
        raise TraceError(f"{path}: every line must be an object with a numeric 'ts'") from None
    for number, entry in enumerate(entries, 1):
        missing = [key for key in REQUIRED_FIELDS if key not in entry]
        if missing:
            raise TraceError(f"{path}: call {number} lacks {', '.join(missing)}")
        texts_ok = all(isinstance(entry[k], str) for k in ("source", "target", "method", "path"))
        status = entry["status"]
        status_ok = status is None or (isinstance(status, int) and not isinstance(status, bool))
        if not (texts_ok and status_ok and isinstance(entry["ts"], int | float)):
            raise TraceError(
                f"{path}: call {number} needs a numeric ts, text source/target/method/path "
                "and an integer or null status"
            )
    return select_job(entries, job_id)


def select_job(
    entries: Sequence[Mapping[str, Any]], job_id: str | None = None
) -> tuple[str | None, list[Message]]:
    """One job's calls as messages, in time order, job ids in paths replaced by ``{job_id}``."""
    jobs = [e["job_id"] for e in entries if e.get("job_id")]
    if job_id is None and jobs:
        first_post = [
            e["job_id"]
            for e in entries
            if e.get("job_id") and e["method"] == "POST" and e["path"] == "/jobs"
        ]
        job_id = (first_post or jobs)[0]
    elif job_id is not None and job_id not in jobs:
        raise TraceError(f"no calls for job {job_id!r} in the trace")
    alone = len(set(jobs)) <= 1  # calls without a job id belong to the only job there is
    chosen = [e for e in entries if e.get("job_id") == job_id or (alone and not e.get("job_id"))]
    if not chosen:
        raise TraceError("the trace holds no calls")
    messages: list[Message] = []
    for e in chosen:
        path = str(e["path"]).replace(job_id, "{job_id}") if job_id else str(e["path"])
        message = Message(
            float(e["ts"]),
            str(e["source"]),
            str(e["target"]),
            str(e["method"]).upper(),
            path,
            e["status"],
            str(e.get("note") or ""),
        )
        last = messages[-1] if messages else None
        if last and (last.source, last.target, last.method, last.path, last.status, last.note) == (
            message.source,
            message.target,
            message.method,
            message.path,
            message.status,
            message.note,
        ):
            messages[-1] = Message(
                last.ts,
                last.source,
                last.target,
                last.method,
                last.path,
                last.status,
                last.note,
                last.repeat + 1,
            )
        else:
            messages.append(message)
    return job_id, _mark_retries(messages)


def _mark_retries(messages: list[Message]) -> list[Message]:
    """Note on each call that repeats a failed one how long after the failure it came."""
    failed_at: dict[tuple[str, str, str, str], float] = {}
    marked = []
    for m in messages:
        key = (m.source, m.target, m.method, m.path)
        if key in failed_at:
            m = replace(m, retry_after=m.ts - failed_at.pop(key))
        if _is_error(m):
            failed_at[key] = m.ts
        marked.append(m)
    return marked


def _participants(messages: Iterable[Message]) -> list[str]:
    seen: list[str] = []
    for m in messages:
        for name in (m.source, m.target):
            if name not in seen:
                seen.append(name)
    known = [name for name in LIFELINE_ORDER if name in seen]
    return known + [name for name in seen if name not in LIFELINE_ORDER]


def _call_label(m: Message) -> str:
    text = f"{m.method} {m.path}"
    if m.note:
        text += f"  ({m.note})"
    if m.repeat > 1:
        text += f"  ×{m.repeat}"
    if m.retry_after is not None:
        text += f"  · retry after {m.retry_after:.1f} s"
    return text


def _answer_label(m: Message) -> str:
    if m.status is None:
        return "no answer"
    try:
        return f"{m.status} {http.HTTPStatus(m.status).phrase}"
    except ValueError:
        return str(m.status)


def _is_error(m: Message) -> bool:
    return m.status is None or m.status >= 400


def sequence_diagram(messages: Sequence[Message], source_name: str = "") -> Diagram:
    """Lay out the messages as a sequence diagram (lifelines left to right, time downward)."""
    names = _participants(messages)
    column = {name: i for i, name in enumerate(names)}
    headers = [
        (
            Text(LIFELINE_NAMES.get(n, (n, ""))[0], 14, bold=True, color=INK),
            Text(LIFELINE_NAMES.get(n, (n, ""))[1] or n, 11, color="#4a5568"),
        )
        for n in names
    ]
    header_w = snap(max(text_block(h)[0] for h in headers) + 32)
    spacing = header_w + 40
    for m in messages:
        span = abs(column[m.target] - column[m.source]) or 1
        need = max(text_width(_call_label(m), 12), text_width(_answer_label(m), 12)) + 48
        spacing = max(spacing, need / span)
    spacing = snap(spacing)

    x0 = MARGIN + TIME_COLUMN + header_w / 2
    centers = {name: x0 + i * spacing for i, name in enumerate(names)}
    rows_top = TOP + HEADER + 40
    bottom = rows_top + len(messages) * 2 * ROW + 20
    nodes: list[Node] = []
    for name, header in zip(names, headers, strict=True):
        nodes.append(
            Node(
                f"lifeline-{name}",
                header,
                centers[name] - header_w / 2,
                TOP,
                header_w,
                bottom - TOP,
                shape="lifeline",
                fill="#e8f1fb",
                stroke="#2b6cb0",
                header=HEADER,
            )
        )
    edges: list[Edge] = []
    t0 = messages[0].ts if messages else 0.0
    for i, m in enumerate(messages):
        y_call = rows_top + i * 2 * ROW + ROW / 2 + 6
        y_answer = y_call + ROW
        xs, xt = centers[m.source], centers[m.target]
        src, dst = f"lifeline-{m.source}", f"lifeline-{m.target}"
        color = ERROR if _is_error(m) else ANSWER
        if m.source == m.target:
            loop = 60.0
            call_points = (
                (xs, y_call),
                (xs + loop, y_call),
                (xs + loop, y_answer - 6),
                (xs, y_answer - 6),
            )
            edges.append(
                Edge(
                    f"m{i + 1}",
                    src,
                    dst,
                    call_points,
                    (
                        Text(
                            f"{_call_label(m)} → {_answer_label(m)}",
                            12,
                            color=ERROR if _is_error(m) else INK,
                        ),
                    ),
                    color=CALL,
                    label_above=True,
                    label_at=0.12,
                )
            )
        else:
            edges.append(
                Edge(
                    f"m{i + 1}",
                    src,
                    dst,
                    ((xs, y_call), (xt, y_call)),
                    (Text(_call_label(m), 12, color=INK),),
                    color=CALL,
                    label_above=True,
                )
            )
            edges.append(
                Edge(
                    f"m{i + 1}-answer",
                    dst,
                    src,
                    ((xt, y_answer), (xs, y_answer)),
                    (Text(_answer_label(m), 12, color=color),),
                    dashed=True,
                    end_arrow="open",
                    color=color,
                    width=1.2,
                    label_above=True,
                )
            )
        nodes.append(
            Node(
                f"t{i + 1}",
                (Text(f"+{m.ts - t0:.2f} s", 11, color="#718096"),),
                MARGIN,
                y_call - 9,
                TIME_COLUMN - 10,
                18,
                shape="text",
            )
        )
    subtitle = (
        "Calls in time order from "
        + (source_name or "a call log")
        + (": solid = request, dashed = answer, red = error or no answer (retried).")
    )
    title = text_node(
        "sequence-title",
        (
            Text("Prompt → animation (use case 1)", 20, bold=True),
            Text(subtitle, 13, color="#4a5568"),
        ),
        MARGIN,
        MARGIN,
    )
    nodes.insert(0, title)
    width = max(n.x + n.width for n in nodes) + MARGIN
    diagram = Diagram(
        "sequence-prompt-to-animation",
        "Prompt → animation",
        snap(width),
        bottom + MARGIN,
        tuple(nodes),
        tuple(edges),
    )
    return place_labels(diagram)


def sequence_from_trace(
    path: str | Path, job_id: str | None = None, source_name: str = ""
) -> Diagram:
    """Read the call log at ``path`` and draw one job's calls."""
    _, messages = load_trace(path, job_id)
    return sequence_diagram(messages, source_name or Path(path).name)
