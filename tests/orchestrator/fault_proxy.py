"""A real HTTP proxy process for fault tests: forwards every request to a target service,
except that it follows a fault plan set through ``POST /_faults``.

``{"path": "/generate", "actions": ["503", "503"]}`` makes the next two matching requests
answer 503 (any status code works) without reaching the target; ``"drop"`` answers 200 and
forwards nothing (a lost callback); ``"forward"`` passes one through. When the actions run
out, requests are forwarded. ``GET /_faults`` lists what was seen.

Usage: ``python fault_proxy.py PORT TARGET_URL``.
"""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

PLAN: dict[str, list[str]] = {}
SEEN: list[dict[str, object]] = []
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    target = ""

    def log_message(self, *_args: object) -> None:  # quiet
        pass

    def _reply(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0]
        if path == "/_faults":
            with LOCK:
                if self.command == "POST":
                    plan = json.loads(data)
                    PLAN[plan["path"]] = list(plan["actions"])
                self._reply(200, json.dumps({"plan": PLAN, "seen": SEEN}).encode())
            return
        with LOCK:
            actions = PLAN.get(path) if self.command != "GET" else None
            action = actions.pop(0) if actions else "forward"
            SEEN.append({"method": self.command, "path": path, "action": action})
        if action == "drop":
            self._reply(200, b'{"dropped": true}')
            return
        if action != "forward":
            status = int(action)
            error = {"code": "injected", "message": f"injected {status}", "details": None}
            self._reply(status, json.dumps({"error": error}).encode())
            return
        headers = {
            k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")
        }
        try:
            answer = httpx.request(
                self.command, self.target + self.path, content=data, headers=headers, timeout=30
            )
        except httpx.HTTPError:
            self._reply(
                502,
                b'{"error": {"code": "bad_gateway", "message": "target down", "details": null}}',
            )
            return
        self._reply(
            answer.status_code,
            answer.content,
            answer.headers.get("content-type", "application/json"),
        )

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle


def main() -> None:
    port, target = int(sys.argv[1]), sys.argv[2].rstrip("/")
    Handler.target = target
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.serve_forever()


if __name__ == "__main__":
    main()
