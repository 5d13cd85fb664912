"""The local emulated AWS: moto's server behind a thin WSGI layer of our own.

Dev tooling only (left out of the built collection).  The product never knows it talks to this.

The layer adds, on the same port as moto:

* a call log: every AWS request is recorded as ``{service, operation, write}`` so that tests
  can assert that a no-op run or check mode made no write call;
* a control API under the reserved path ``/_shipyard/`` (health, calls, reset, and what the
  fidelity work registers through :data:`CONTROL_ROUTES`);
* an HTTP forward proxy: a request whose target is absolute-form (``GET http://host:port/path``)
  for a host other than the emulator itself goes to :attr:`EmulatorApp.proxy_handler` (the
  load balancers' data plane, ``fidelity/alb_data_plane.py``), as does ``CONNECT``.  Clients reach
  it through the standard ``http_proxy`` environment variable.

Run as ``python tests/emulator/server.py --port 0 --ready-file FILE``; the launcher
(``launcher.py``) does that and waits for the ready file.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import signal
import sys
import threading
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import parse_qs

CONTROL_PREFIX = "/_shipyard/"
READ_PREFIXES = ("Describe", "List", "Get", "BatchGet", "BatchCheck", "Filter")
_CREDENTIAL_RE = re.compile(r"Credential=[^/]+/[^/]+/([^/]+)/([^/]+)/aws4_request")

# (method, path) -> handler(app, request_body_json) -> (status, json-able body)
ControlHandler = Callable[["EmulatorApp", Dict[str, Any]], Tuple[int, Any]]
CONTROL_ROUTES: Dict[Tuple[str, str], ControlHandler] = {}
# What the fidelity layer knows how to name that is not an AWS API call (the registry's HTTP
# API): environ -> (service, operation), or None to leave the request to ``identify``.
IDENTIFIERS: List[Callable[[Dict[str, Any]], Optional[Tuple[str, str]]]] = []


def control(method: str, path: str) -> Callable[[ControlHandler], ControlHandler]:
    """Register a control API route (path relative to ``/_shipyard/``)."""

    def register(fn: ControlHandler) -> ControlHandler:
        CONTROL_ROUTES[(method.upper(), path.strip("/"))] = fn
        return fn

    return register


def is_write(operation: str) -> bool:
    return not operation.startswith(READ_PREFIXES)


class CallLog:
    """Thread-safe record of the AWS calls the emulator answered."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: List[Dict[str, Any]] = []

    def add(self, service: str, operation: str, status: int) -> None:
        with self._lock:
            self._calls.append(
                {"service": service, "operation": operation, "write": is_write(operation), "status": status}
            )

    def snapshot(self) -> List[Dict[str, Any]]:
        with self._lock:
            return list(self._calls)

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()


def identify(environ: Dict[str, Any], body: bytes) -> Tuple[str, str]:
    """(service, operation) of an AWS request, from its signature scope and target/action."""
    for identifier in IDENTIFIERS:
        named = identifier(environ)
        if named is not None:
            return named
    service = "unknown"
    match = _CREDENTIAL_RE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if match:
        service = match.group(2)
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return service, target.rsplit(".", 1)[-1]
    action = parse_qs(environ.get("QUERY_STRING", "")).get("Action")
    if not action and body and "json" not in environ.get("CONTENT_TYPE", ""):
        try:
            action = parse_qs(body.decode("utf-8", "replace")).get("Action")
        except ValueError:
            action = None
    if action:
        return service, action[0]
    method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "/")
    return service, _rest_operation(service, method, path) or "%s %s" % (method, path)


_REST_ROUTES: Dict[str, List[Tuple[str, Any, str]]] = {}


def _rest_operation(service: str, method: str, path: str) -> Optional[str]:
    """The operation of a REST-protocol request (Route 53...) from its service model's HTTP bindings.

    The most literal URI template wins (``/hostedzonesbyname`` over ``/hostedzone/{Id}``).
    """
    if service not in _REST_ROUTES:
        import botocore.session
        from botocore.exceptions import UnknownServiceError

        routes: List[Tuple[str, Any, str, int]] = []
        try:
            model = botocore.session.get_session().get_service_model(service)
        except UnknownServiceError:
            model = None
        if model is not None and model.protocol.startswith("rest"):
            for name in model.operation_names:
                http = model.operation_model(name).http
                template = http["requestUri"].split("?", 1)[0].rstrip("/") or "/"
                pattern = re.sub(r"\\\{[^}]+\\\+\\\}", ".+", re.escape(template))
                pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", pattern)
                literal = len(re.sub(r"\{[^}]+\}", "", template))
                routes.append((http["method"], re.compile("^%s/?$" % pattern), name, literal))
            routes.sort(key=lambda route: -route[3])
        _REST_ROUTES[service] = [route[:3] for route in routes]
    for route_method, pattern, name in _REST_ROUTES[service]:
        if route_method == method and pattern.match(path):
            return name
    return None


class EmulatorApp:
    """WSGI app: control API, call log, then moto."""

    def __init__(self, moto_app: Optional[Callable] = None) -> None:
        if moto_app is None:
            from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

            moto_app = DomainDispatcherApplication(create_backend_app)
        self.moto_app = moto_app
        self.calls = CallLog()
        # Hooks the fidelity layer installs: called before a request reaches moto; may return a
        # (status, headers, body) triple to answer instead of moto (fault injection, fixes).
        self.before_hooks: List[Callable[[str, str, Dict[str, Any], bytes], Optional[Tuple[int, list, bytes]]]] = []
        self.reset_hooks: List[Callable[[], None]] = []
        # Answers proxied requests (environ, body) -> (status, headers, body); not AWS calls, so
        # not in the call log.  None: the proxy answers 502 (no data plane installed).
        self.proxy_handler: Optional[Callable[[Dict[str, Any], bytes], Tuple[int, list, bytes]]] = None

    def __call__(self, environ: Dict[str, Any], start_response: Callable) -> Any:
        if is_proxy_request(environ):
            return self._proxy(environ, start_response)
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL_PREFIX):
            return self._control(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        service, operation = identify(environ, body)
        for hook in self.before_hooks:
            answer = hook(service, operation, environ, body)
            if answer is not None:
                status, headers, payload = answer
                self.calls.add(service, operation, status)
                start_response("%d %s" % (status, _REASONS.get(status, "Error")), headers)
                return [payload]
        status_holder: Dict[str, int] = {}

        def recording_start_response(status: str, headers: list, exc_info: Any = None) -> Any:
            status_holder["status"] = int(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info)

        result = self.moto_app(environ, recording_start_response)
        self.calls.add(service, operation, status_holder.get("status", 0))
        return result

    def _proxy(self, environ: Dict[str, Any], start_response: Callable) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        if self.proxy_handler is None:
            data = b"emulator proxy: this emulator has no load balancer data plane\n"
            status, headers, payload = 502, [("Content-Type", "text/plain; charset=utf-8"),
                                             ("Content-Length", str(len(data)))], data
        else:
            status, headers, payload = self.proxy_handler(environ, body)
        start_response("%d %s" % (status, _reason(status)), headers)
        return [payload]

    def reset(self) -> None:
        """Forget every resource (as moto's /moto-api/reset), the call log, and hook state."""
        from moto.core.model_instances import reset_model_data

        _forget_backends()
        reset_model_data()
        self.calls.clear()
        for hook in self.reset_hooks:
            hook()

    def _control(self, environ: Dict[str, Any], start_response: Callable) -> Any:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        route = environ.get("PATH_INFO", "")[len(CONTROL_PREFIX):].strip("/")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        try:
            payload = json.loads(raw) if raw else {}
        except ValueError:
            return _json(start_response, 400, {"error": "body is not JSON"})
        handler = CONTROL_ROUTES.get((method, route))
        if handler is None:
            return _json(start_response, 404, {"error": "no control route %s /_shipyard/%s" % (method, route)})
        try:
            status, body = handler(self, payload)
        except (KeyError, ValueError, TypeError) as exc:
            return _json(start_response, 400, {"error": str(exc)})
        return _json(start_response, status, body)


def _forget_backends() -> None:
    """What ``BackendDict.reset()`` ends with (every backend dropped), without first rebuilding
    each one only to throw it away: moto's reset re-runs every backend's ``__init__``, which
    for IAM with AWS managed policies costs seconds. Backends that clean up after themselves
    (their own ``reset``) still get to."""
    from moto.core.base_backend import BackendDict, BaseBackend, backend_lock

    with backend_lock:
        for service in BackendDict._instances:
            for account in service.values():
                for backend in dict.values(account):
                    if type(backend).reset is not BaseBackend.reset:
                        backend.reset()
            service.clear()
        BackendDict._instances.clear()


_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 429: "Too Many Requests",
            500: "Internal Server Error", 503: "Service Unavailable"}
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return _REASONS.get(status, "Status")


def is_proxy_request(environ: Dict[str, Any]) -> bool:
    """A proxy request: ``CONNECT``, or an absolute-form target for a host that is not this server.

    The WSGI server keeps the request target in ``REQUEST_URI`` and sets ``HTTP_HOST`` from an
    absolute-form target (RFC 7230 5.4)."""
    if environ.get("REQUEST_METHOD", "").upper() == "CONNECT":
        return True
    target = str(environ.get("REQUEST_URI") or environ.get("RAW_URI") or "")
    if not target.lower().startswith(("http://", "https://")):
        return False
    from urllib.parse import urlsplit

    parts = urlsplit(target)
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        return True
    host = (parts.hostname or "").lower()
    own = {str(environ.get("SERVER_NAME", "")).lower()} | set(_LOCAL_HOSTS)
    return not (host in own and str(port) == str(environ.get("SERVER_PORT", "")))


def _json(start_response: Callable, status: int, body: Any) -> List[bytes]:
    data = json.dumps(body, default=str).encode()
    start_response("%d %s" % (status, _REASONS.get(status, "Error")),
                   [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


@control("GET", "health")
def _health(app: EmulatorApp, _payload: Dict[str, Any]) -> Tuple[int, Any]:
    import moto

    return 200, {"status": "ok", "moto": moto.__version__, "pid": os.getpid()}


@control("GET", "calls")
def _calls(app: EmulatorApp, _payload: Dict[str, Any]) -> Tuple[int, Any]:
    return 200, {"calls": app.calls.snapshot()}


@control("POST", "calls/reset")
def _calls_reset(app: EmulatorApp, _payload: Dict[str, Any]) -> Tuple[int, Any]:
    app.calls.clear()
    return 200, {"status": "ok"}


@control("POST", "reset")
def _reset(app: EmulatorApp, _payload: Dict[str, Any]) -> Tuple[int, Any]:
    app.reset()
    return 200, {"status": "ok"}


def load_extensions(app: EmulatorApp) -> None:
    """Import the fidelity layer, if present, and let it install its hooks."""
    try:
        import fidelity  # type: ignore  # sibling module, on sys.path via this file's folder
    except ImportError:
        return
    fidelity.install(app)


def serve(host: str, port: int, ready_file: Optional[str]) -> None:
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    app = EmulatorApp()
    load_extensions(app)
    server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
    actual_port = server.server_address[1]
    if ready_file:
        tmp = ready_file + ".tmp"
        with open(tmp, "w") as handle:
            handle.write("http://%s:%d\n" % (host, actual_port))
        os.replace(tmp, ready_file)

    def stop(_signum: int, _frame: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever()
    # Nothing to save: skip the interpreter's slow teardown of moto's thousands of objects.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--ready-file", help="written with the endpoint once listening")
    args = parser.parse_args(argv)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    serve(args.host, args.port, args.ready_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
