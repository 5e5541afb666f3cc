"""``axis dlq list|show|replay``: the Orchestrator's dead-letter queue from the command line.

Talks to a running Orchestrator over HTTP (``--url``, default its configured host/port).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from talos.cli import CliError
from talos.cli.common import add_config_option, settings_from_args
from talos.config import Settings


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "dlq",
        help="list, show or replay the Orchestrator's dead-lettered jobs",
        description="Inspect and replay dead-lettered jobs of a running Orchestrator.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="one line per entry")
    listing.add_argument("--pending", action="store_true", help="only entries not replayed yet")
    show = actions.add_parser("show", help="one entry as JSON (reason, attempts, request body)")
    show.add_argument("entry_id", type=int)
    replay = actions.add_parser("replay", help="re-run the job from its failed stage")
    replay.add_argument("entry_id", type=int)
    for sub in (listing, show, replay):
        sub.add_argument("--url", help="Orchestrator base URL (default: its host/port settings)")
        sub.add_argument("--api-key", help="X-API-Key, if the Orchestrator requires one")
        add_config_option(sub)
        sub.set_defaults(handler=run)


def _base_url(args: argparse.Namespace, settings: Settings) -> str:
    if args.url:
        return str(args.url).rstrip("/")
    host = settings.orchestrator.host
    host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{host}:{settings.orchestrator.port}"


def _call(method: str, url: str, api_key: str | None) -> Any:
    import httpx

    headers = {"X-API-Key": api_key} if api_key else {}
    try:
        response = httpx.request(method, url, headers=headers, timeout=30)
    except httpx.HTTPError as exc:
        raise CliError(f"cannot reach the Orchestrator at {url}: {type(exc).__name__}") from None
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code >= 400:
        message = response.reason_phrase
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            message = body["error"].get("message") or message
        raise CliError(f"HTTP {response.status_code}: {message}")
    return body


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    base = _base_url(args, settings)
    if args.action == "list":
        query = "?pending=true" if args.pending else ""
        body = _call("GET", f"{base}/dlq{query}", args.api_key)
        if not body["entries"]:
            print("dead-letter queue is empty")
        for entry in body["entries"]:
            replayed = f"  replayed x{entry['replay_count']}" if entry["replay_count"] else ""
            code = entry["http_status"] if entry["http_status"] is not None else "-"
            print(
                f"{entry['id']:>4}  {entry['created']}  job {entry['job_id']}  "
                f"{entry['stage']}  HTTP {code}  {len(entry['attempts'])} attempt(s)  "
                f"{entry['reason']}{replayed}"
            )
    elif args.action == "show":
        print(json.dumps(_call("GET", f"{base}/dlq/{args.entry_id}", args.api_key), indent=2))
    else:
        body = _call("POST", f"{base}/dlq/{args.entry_id}/replay", args.api_key)
        print(f"replaying job {body['job_id']} from its {body['entry']['stage']} stage")
    return 0
