"""Checks on test traffic over real HTTP (a local server standing in for a proxy and a load balancer)."""

from __future__ import annotations

import http.server
import threading

import pytest

from ansible_collections.shipyard.ecs.plugins.module_utils._deploy.checks import TrafficChecker, fetch


class _Handler(http.server.BaseHTTPRequestHandler):
    seen = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.seen.append((self.path, self.headers.get("X-Green")))
        status, body = (500, b"boom " * 100) if self.path.endswith("/broken") else (200, b"served by repo/talk:2")
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        return


@pytest.fixture
def server():
    _Handler.seen = []
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_requests_go_through_the_proxy_of_the_environment(server, monkeypatch):
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:%d" % server.server_port)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    status, body = fetch("http://talk-alb.example:8080/health", {"X-Green": "1"}, 5.0)
    assert (status, body) == (200, b"served by repo/talk:2")
    # a proxy receives the absolute URL
    assert _Handler.seen == [("http://talk-alb.example:8080/health", "1")]


def test_a_failing_check_names_the_request_status_and_first_bytes_after_its_attempts(server, monkeypatch):
    monkeypatch.delenv("http_proxy", raising=False)
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    sleeps = []
    checker = TrafficChecker(sleep=sleeps.append)
    base = "http://127.0.0.1:%d" % server.server_port
    failure = checker.run(base, {}, [{"path": "/", "status": 200, "contains": "talk:2"}, {"path": "/broken", "status": 200}])
    assert failure.startswith("GET %s/broken: status 500 (expected 200), body: 'boom boom" % base)
    assert len(failure.split("body: ")[1]) <= 203
    assert [seen[0] for seen in _Handler.seen] == ["/", "/broken", "/broken", "/broken"]
    assert sleeps == [2.0, 2.0]
    assert checker.run(base, {}, [{"path": "/", "contains": "other"}]).endswith("lacks 'other', body: 'served by repo/talk:2'")
