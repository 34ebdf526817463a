"""A small HTTP API on 127.0.0.1 (stdlib http.server in a thread) for API-action tests."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


class _ApiHandler(BaseHTTPRequestHandler):
    """Routes: /echo/... (any method), /status/<code>, /slow, /big, /redirect/<n>, /notjson,
    /peer (the client's port: the same port twice means a reused connection)."""

    protocol_version = "HTTP/1.1"  # keep-alive, so connection reuse is observable

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        if path.startswith("/echo"):
            self._send(
                200,
                {
                    "method": self.command,
                    "path": path,
                    "query": query,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": json.loads(raw) if raw else None,
                    "items": [{"name": "lamp"}, {"name": "desk"}],
                    "status": "shipped",
                },
            )
        elif path.startswith("/status/"):
            code = int(path.rsplit("/", 1)[1])
            self._send(code, {"detail": f"status {code}"})
        elif path == "/slow":
            time.sleep(3)
            self._send(200, {"status": "late"})
        elif path == "/big":
            self._send(200, b'"' + b"x" * 2_000_000 + b'"')
        elif path.startswith("/redirect/"):
            left = int(path.rsplit("/", 1)[1])
            target = f"/redirect/{left - 1}" if left > 1 else "/echo/redirected"
            self._send(302, {}, {"Location": target})
        elif path == "/redirect-to":
            self._send(302, {}, {"Location": query.removeprefix("url=")})
        elif path == "/peer":
            self._send(200, {"port": self.client_address[1]})
        elif path == "/notjson":
            self._send(200, b"<html>hello</html>")
        else:
            self._send(404, {"detail": "no route"})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients drop pooled keep-alive connections when their event loop ends: not an error."""


@pytest.fixture(scope="session")
def api_server() -> Iterator[str]:
    """Base URL of the test API, e.g. http://127.0.0.1:PORT."""
    server = _QuietServer(("127.0.0.1", 0), _ApiHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
