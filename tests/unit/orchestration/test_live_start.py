"""The live system's start-up warms the task execution API, so the first task does not wait for it."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from surgehub.orchestration.live import free_port, warm_execution_api


def test_the_execution_api_is_pinged_once_at_start_up() -> None:
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"ok": ["JWTValidator"], "failing": {}}')

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert warm_execution_api(f"http://127.0.0.1:{server.server_port}", timeout=5) is True
    finally:
        server.shutdown()
    assert asked == ["/execution/health/ping"]


def test_warming_is_best_effort() -> None:
    assert warm_execution_api(f"http://127.0.0.1:{free_port()}", timeout=2) is False  # nothing listens
