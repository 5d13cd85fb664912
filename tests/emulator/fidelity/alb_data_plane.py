"""The emulator's Application Load Balancers answer HTTP: a data plane reached as a forward proxy.

A client that cannot resolve ``<load balancer DNS name>`` reaches it the standard way, through an
HTTP proxy: ``http_proxy=http://127.0.0.1:<emulator port>`` (and ``no_proxy=127.0.0.1,localhost``
so that the AWS API calls stay direct).  ``server.EmulatorApp`` hands every absolute-form request
for another host (``GET http://<dns name>:<port>/path``) to :meth:`DataPlane.answer`, which does
what the ALB documents (Elastic Load Balancing user guide, "Listener rules", "Health checks"):

* the load balancer is found by its DNSName, the listener by port (HTTP listeners only);
* the listener's rules are evaluated in priority order (lowest first), every condition of a rule
  must match, any value of a condition may match (path-pattern, host-header, http-header,
  http-request-method, query-string, source-ip; ``*`` and ``?`` wildcards); then the default rule;
* actions: ``forward`` (one target group, or ``ForwardConfig`` weights: smooth weighted round robin,
  so the weights hold exactly over every ``sum(weights)`` requests and a 0 weight never gets one),
  ``fixed-response`` and ``redirect`` (``#{protocol}``, ``#{host}``, ``#{port}``, ``#{path}``,
  ``#{query}``); authenticate actions are skipped;
* a target: round robin over the group's healthy targets; when the group has registered targets
  but none healthy and some unhealthy, the ALB fails open and routes to the unhealthy ones; with no
  routable target the answer is the ALB's 503;
* the task behind the target answers as its image behaves (``behaviours``): 200 naming the image
  and task, ``bad_responses``' status, or the ALB's 502 when the target does not answer at all.

The data plane makes no AWS API call and is not in the call log.
"""

from __future__ import annotations

import ipaddress
import itertools
import re
import threading
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple
from urllib.parse import parse_qsl

Answer = Tuple[int, List[Tuple[str, str]], bytes]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _glob(pattern: str, value: str, case_sensitive: bool) -> bool:
    """ALB wildcard match: ``*`` any run of characters, ``?`` exactly one; nothing else is special."""
    regex = "".join(".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    flags = 0 if case_sensitive else re.IGNORECASE
    return re.fullmatch(regex, value, flags | re.DOTALL) is not None


def _values(condition: Dict[str, Any], config: str) -> List[Any]:
    """A condition's values: its ``<Field>Config.Values``, or the legacy ``Values``."""
    nested = condition.get(config) or {}
    values = nested.get("Values") if isinstance(nested, dict) else None
    if values:
        return list(values)
    return list(condition.get("Values") or [])


class Request:
    """What a rule condition can look at in one proxied request."""

    def __init__(self, method: str, host: str, port: int, path: str, query: str,
                 headers: Dict[str, str], source_ip: str, scheme: str = "http") -> None:
        self.method = method
        self.host = host
        self.port = port
        self.path = path
        self.query = query
        self.headers = {name.lower(): value for name, value in headers.items()}
        self.source_ip = source_ip
        self.scheme = scheme

    @classmethod
    def from_environ(cls, environ: Dict[str, Any]) -> "Request":
        host_header = environ.get("HTTP_HOST", "")
        host, _sep, port_text = host_header.partition(":")
        scheme = "https" if str(environ.get("REQUEST_URI", "")).lower().startswith("https://") else "http"
        port = int(port_text) if port_text.isdigit() else _DEFAULT_PORTS[scheme]
        headers = {}
        for key, value in environ.items():
            if key.startswith("HTTP_"):
                headers[key[5:].replace("_", "-")] = value
            elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
                headers[key.replace("_", "-")] = value
        return cls(environ.get("REQUEST_METHOD", "GET").upper(), host.lower(), port,
                   environ.get("PATH_INFO", "/") or "/", environ.get("QUERY_STRING", ""), headers,
                   environ.get("REMOTE_ADDR", ""), scheme)

    def matches(self, condition: Dict[str, Any]) -> bool:
        field = condition.get("Field")
        if field == "path-pattern":
            return any(_glob(p, self.path, True) for p in _values(condition, "PathPatternConfig"))
        if field == "host-header":
            return any(_glob(p, self.host, False) for p in _values(condition, "HostHeaderConfig"))
        if field == "http-header":
            config = condition.get("HttpHeaderConfig") or {}
            value = self.headers.get(str(config.get("HttpHeaderName", "")).lower())
            return value is not None and any(_glob(p, value, False) for p in config.get("Values") or [])
        if field == "http-request-method":
            return self.method in _values(condition, "HttpRequestMethodConfig")
        if field == "query-string":
            pairs = parse_qsl(self.query, keep_blank_values=True)
            for wanted in _values(condition, "QueryStringConfig"):
                for key, value in pairs:
                    if wanted.get("Key") is not None and not _glob(wanted["Key"], key, False):
                        continue
                    if _glob(str(wanted.get("Value", "")), value, False):
                        return True
            return False
        if field == "source-ip":
            try:
                address = ipaddress.ip_address(self.source_ip)
            except ValueError:
                return False
            return any(address in ipaddress.ip_network(cidr, strict=False)
                       for cidr in _values(condition, "SourceIpConfig"))
        return False


def _text(status: int, body: str, content_type: str = "text/plain; charset=utf-8",
          extra: Optional[List[Tuple[str, str]]] = None) -> Answer:
    data = body.encode("utf-8")
    headers = [("Content-Type", content_type), ("Content-Length", str(len(data)))]
    return status, headers + list(extra or []), data


_ALB_ERRORS = {
    502: "502 Bad Gateway",
    503: "503 Service Temporarily Unavailable",
}


def alb_error(status: int) -> Answer:
    """The ALB's own error page for ``status``."""
    title = _ALB_ERRORS[status]
    return _text(status, "<html>\r\n<head><title>%s</title></head>\r\n<body>\r\n<center><h1>%s</h1></center>\r\n"
                         "</body>\r\n</html>\r\n" % (title, title), "text/html")


def proxy_error(status: int, message: str) -> Answer:
    """An answer of the proxy itself (not of any load balancer)."""
    data = (message.rstrip("\n") + "\n").encode("utf-8")
    return status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(data))),
                    ("X-Shipyard-Emulator", "proxy")], data


class DataPlane:
    """Answers proxied requests as the emulator's load balancers and the tasks behind them would."""

    def __init__(self, sim: Any, lock: Any,
                 load_balancers: Optional[Callable[[], Iterator[Any]]] = None,
                 target_groups: Optional[Callable[[str], Any]] = None) -> None:
        self.sim = sim
        self.lock = lock
        self._load_balancers = load_balancers or _moto_load_balancers
        self._target_groups = target_groups or _moto_target_group
        self._counters: Dict[str, Iterator[int]] = {}
        self._weights: Dict[str, Dict[str, int]] = {}
        self._own_lock = threading.Lock()

    def reset(self) -> None:
        with self._own_lock:
            self._counters.clear()
            self._weights.clear()

    # entry point -----------------------------------------------------------------------------------
    def answer(self, environ: Dict[str, Any], _body: bytes) -> Answer:
        if environ.get("REQUEST_METHOD", "").upper() == "CONNECT":
            return proxy_error(405, "the emulator's load balancer data plane proxies plain HTTP only: CONNECT "
                                    "(HTTPS through the proxy) is refused; use the load balancer's HTTP listener")
        request = Request.from_environ(environ)
        with self.lock:
            self.sim.advance()
            load_balancer = self._load_balancer(request.host)
            if load_balancer is None:
                return proxy_error(502, "emulator proxy: no load balancer has the DNS name %r (the data plane "
                                        "answers only for the emulator's load balancers)" % request.host)
            listener = self._listener(load_balancer, request.port)
            if listener is None:
                return proxy_error(502, "emulator proxy: load balancer %s has no listener on port %d"
                                   % (load_balancer.dns_name, request.port))
            if listener.protocol != "HTTP":
                return proxy_error(502, "emulator proxy: the listener on port %d of %s is %s; the data plane "
                                        "answers plain HTTP listeners only"
                                   % (request.port, load_balancer.dns_name, listener.protocol))
            rule = self._rule(listener, request)
            action = self._action(rule)
            if action is None:
                return alb_error(503)
            kind = action.get("Type")
            if kind == "fixed-response":
                return self._fixed_response(action.get("FixedResponseConfig") or {}, request)
            if kind == "redirect":
                return self._redirect(action.get("RedirectConfig") or {}, request)
            if kind == "forward":
                return self._forward(rule, action, request)
            return alb_error(503)

    # rules -----------------------------------------------------------------------------------------
    def _load_balancer(self, host: str) -> Any:
        for load_balancer in self._load_balancers():
            if str(getattr(load_balancer, "dns_name", "")).lower() == host:
                return load_balancer
        return None

    @staticmethod
    def _listener(load_balancer: Any, port: int) -> Any:
        for listener in load_balancer.listeners.values():
            if int(listener.port) == port:
                return listener
        return None

    @staticmethod
    def _rule(listener: Any, request: Request) -> Any:
        rules = [rule for rule in listener.rules.values() if not rule.is_default]
        rules.sort(key=lambda rule: int(rule.priority))
        for rule in rules:
            if all(request.matches(condition) for condition in rule.conditions or []):
                return rule
        return next(rule for rule in listener.rules.values() if rule.is_default)

    @staticmethod
    def _action(rule: Any) -> Optional[Dict[str, Any]]:
        actions = sorted((a.data for a in rule.actions), key=lambda data: int(data.get("Order") or 0))
        for data in actions:
            if not str(data.get("Type", "")).startswith("authenticate-"):
                return data
        return None

    # actions ---------------------------------------------------------------------------------------
    @staticmethod
    def _fixed_response(config: Dict[str, Any], _request: Request) -> Answer:
        status = int(config.get("StatusCode") or 200)
        return _text(status, str(config.get("MessageBody") or ""), str(config.get("ContentType") or "text/plain"))

    @staticmethod
    def _redirect(config: Dict[str, Any], request: Request) -> Answer:
        values = {"protocol": request.scheme.upper(), "host": request.host, "port": str(request.port),
                  "path": request.path.lstrip("/"), "query": request.query}

        def fill(template: str) -> str:
            return re.sub(r"#\{(protocol|host|port|path|query)\}", lambda m: values[m.group(1)], template)

        protocol = fill(str(config.get("Protocol") or "#{protocol}")).lower()
        host = fill(str(config.get("Host") or "#{host}"))
        port = fill(str(config.get("Port") or "#{port}"))
        path = fill(str(config.get("Path") or "/#{path}"))
        query = fill(str(config.get("Query") if config.get("Query") is not None else "#{query}"))
        netloc = host if _DEFAULT_PORTS.get(protocol) == int(port) else "%s:%s" % (host, port)
        location = "%s://%s%s%s" % (protocol, netloc, path, "?" + query if query else "")
        status = 301 if str(config.get("StatusCode")) == "HTTP_301" else 302
        return _text(status, "", "text/html", [("Location", location)])

    def _forward(self, rule: Any, action: Dict[str, Any], request: Request) -> Answer:
        groups = (action.get("ForwardConfig") or {}).get("TargetGroups") or []
        if groups:
            arn = self._weighted(rule.arn, [(g["TargetGroupArn"], int(g.get("Weight", 1))) for g in groups])
        else:
            arn = action.get("TargetGroupArn")
        group = self._target_groups(arn) if arn else None
        if group is None:
            return alb_error(503)
        target = self._target(group)
        if target is None:
            return alb_error(503)
        return self._task_answer(group, target, request)

    def _weighted(self, key: str, weights: List[Tuple[str, int]]) -> Optional[str]:
        """Smooth weighted round robin: over every sum(weights) requests each group gets its weight."""
        live = [(arn, weight) for arn, weight in weights if weight > 0]
        if not live:
            return None
        with self._own_lock:
            current = self._weights.setdefault(key + "|" + ",".join("%s=%d" % w for w in live), {})
            total = sum(weight for _arn, weight in live)
            for arn, weight in live:
                current[arn] = current.get(arn, 0) + weight
            chosen = max(live, key=lambda item: current[item[0]])[0]
            current[chosen] -= total
            return chosen

    def _target(self, group: Any) -> Any:
        table = self.sim.targets.table(group)
        healthy = [t for t in table.values() if t.state == "healthy"]
        # Fail open: only unhealthy registered targets -> route to all of them (ALB health checks doc).
        routable = healthy or [t for t in table.values() if t.state == "unhealthy"]
        if not routable:
            return None
        with self._own_lock:
            counter = self._counters.setdefault(group.arn, itertools.count())
            return routable[next(counter) % len(routable)]

    # the task behind a target ----------------------------------------------------------------------
    def _task_answer(self, group: Any, target: Any, request: Request) -> Answer:
        sim_task, binding = self._task_for(group, target)
        if sim_task is None or sim_task.status != "RUNNING":
            return alb_error(502)
        behaviour = sim_task.behaviour
        if not behaviour.answers_health_checks():
            return alb_error(502)
        image = _image(sim_task, binding)
        task_id = str(sim_task.task.task_arn).rsplit("/", 1)[-1]
        status, body = behaviour.answer_request(image, task_id, request.method, request.path)
        status, headers, data = _text(status, body, "application/json")
        return status, headers, b"" if request.method == "HEAD" else data

    def _task_for(self, group: Any, target: Any) -> Tuple[Any, Optional[Dict[str, Any]]]:
        """The newest live task holding the target (as ``ecs_sim`` probes it), and its service binding."""
        for sim_task in reversed(list(self.sim.tasks.values())):
            if sim_task.status == "STOPPED":
                continue
            for tg, spec in sim_task.targets:
                if tg.arn == group.arn and spec["Id"] == target.id and int(spec["Port"]) == target.port:
                    binding = None
                    for candidate in getattr(sim_task.service, "load_balancers", None) or []:
                        if candidate.get("targetGroupArn") == group.arn:
                            binding = candidate
                    return sim_task, binding
        return None, None


def _image(sim_task: Any, binding: Optional[Dict[str, Any]]) -> Optional[str]:
    containers = list(getattr(sim_task.task_definition, "container_definitions", None) or [])
    name = (binding or {}).get("containerName")
    for container in containers:
        if name and container.get("name") == name:
            return container.get("image")
    for container in containers:
        if container.get("essential", True):
            return container.get("image")
    return None


def _moto_load_balancers() -> Iterator[Any]:
    from moto.elbv2.models import elbv2_backends

    for account in list(elbv2_backends.values()):
        for backend in list(dict.values(account)):
            yield from list(backend.load_balancers.values())


def _moto_target_group(arn: str) -> Any:
    from moto.elbv2.models import elbv2_backends

    for account in list(elbv2_backends.values()):
        for backend in list(dict.values(account)):
            if arn in backend.target_groups:
                return backend.target_groups[arn]
    return None


def install(app: Any, state: Any) -> DataPlane:
    """Make ``app`` answer proxied requests for its load balancers."""
    plane = DataPlane(state.sim, state.lock)
    app.proxy_handler = plane.answer
    app.reset_hooks.append(plane.reset)
    return plane


__all__ = ["DataPlane", "Request", "install", "alb_error", "proxy_error"]
