"""Talking to a running TALOS service in the tests: poll a job, check the one error body,
receive job-finished callbacks on a real HTTP server."""

from __future__ import annotations

import time

import httpx


def wait_job(
    client: httpx.Client,
    job_id: str,
    timeout: float = 90.0,
    until: tuple[str, ...] = ("completed", "failed"),
) -> dict:
    """Poll ``GET /jobs/{job_id}`` until its status is one of ``until``; return the job."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/jobs/{job_id}").json()
        if body.get("status") in until:
            return body
        time.sleep(0.1)
    raise TimeoutError(f"job {job_id} still {body.get('status')} after {timeout} s: {body}")


def assert_error(response: httpx.Response, status: int, code: str) -> dict:
    """The answer has ``status`` and the one error body with ``code``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["code"] == code, body
    assert body["error"]["message"], body
    return body["error"]


class CallbackServer:
    """A real HTTP server recording POSTed JSON; answers ``fail_first`` requests with 503."""

    def __init__(self, fail_first: int = 0) -> None:
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.received: list[dict] = []
        self.attempts = 0
        self.fail_first = fail_first
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                outer.attempts += 1
                if outer.attempts <= outer.fail_first:
                    self.send_response(503)
                    self.end_headers()
                    return
                outer.received.append(body)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/callbacks/job-completed"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def for_job(self, job_id: str, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for body in self.received:
                if body.get("job_id") == job_id:
                    return body
            time.sleep(0.05)
        raise TimeoutError(f"no callback for {job_id}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
