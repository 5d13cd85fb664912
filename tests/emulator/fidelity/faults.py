"""API fault injection: throttling, 5xx and latency per service and operation.

Errors are answered in the shape of the service's own protocol so that SDK retry logic
(botocore, our ``AwsApi``) classifies them the way it would against AWS.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from typing import Any, Dict, List, Optional, Tuple

# Names people use for a service -> the signing name in the request's credential scope.
SERVICE_ALIASES = {"elbv2": "elasticloadbalancing", "elb": "elasticloadbalancing",
                   "cloudwatchlogs": "logs", "application_autoscaling": "application-autoscaling"}

Answer = Tuple[int, List[Tuple[str, str]], bytes]


def _rate(payload: Dict[str, Any], key: str) -> float:
    value = payload.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError("%s must be a number between 0 and 1, got %r" % (key, value))
    return float(value)


class FaultRule:
    """One injected fault; its own seeded random stream keeps a run reproducible."""

    def __init__(self, payload: Dict[str, Any]) -> None:
        service = payload.get("service")
        if not isinstance(service, str) or not service:
            raise ValueError("service must be a non-empty string, got %r" % (service,))
        self.service = SERVICE_ALIASES.get(service.lower(), service.lower())
        self.operation = payload.get("operation", "*")
        if not isinstance(self.operation, str) or not self.operation:
            raise ValueError("operation must be an operation name or '*', got %r" % (self.operation,))
        self.throttle_rate = _rate(payload, "throttle_rate")
        self.error_rate = _rate(payload, "error_rate")
        if self.throttle_rate + self.error_rate > 1:
            raise ValueError("throttle_rate + error_rate must be <= 1, got %r" % (self.throttle_rate + self.error_rate,))
        latency = payload.get("latency_ms", 0)
        if isinstance(latency, bool) or not isinstance(latency, (int, float)) or latency < 0:
            raise ValueError("latency_ms must be a number >= 0, got %r" % (latency,))
        self.latency_ms = float(latency)
        self.seed = payload.get("seed")
        self._random = random.Random(self.seed)
        self.injected = {"throttle": 0, "error": 0, "latency": 0}

    def matches(self, service: str, operation: str) -> bool:
        return self.service in (service, "*") and self.operation in (operation, "*")

    def draw(self) -> Optional[str]:
        """'throttle', 'error' or None for one request."""
        roll = self._random.random()
        if roll < self.throttle_rate:
            return "throttle"
        if roll < self.throttle_rate + self.error_rate:
            return "error"
        return None

    def describe(self) -> Dict[str, Any]:
        return {"service": self.service, "operation": self.operation, "throttle_rate": self.throttle_rate,
                "error_rate": self.error_rate, "latency_ms": self.latency_ms, "seed": self.seed,
                "injected": dict(self.injected)}


class Faults:
    """The active fault rules, consulted before each AWS request reaches moto."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: List[FaultRule] = []

    def add(self, payload: Dict[str, Any]) -> Dict[str, Any]:
        rule = FaultRule(payload)
        with self._lock:
            # One rule per (service, operation): setting it again replaces it.
            self._rules = [r for r in self._rules if (r.service, r.operation) != (rule.service, rule.operation)]
            self._rules.append(rule)
        return rule.describe()

    def reset(self) -> None:
        with self._lock:
            self._rules = []

    def snapshot(self) -> List[Dict[str, Any]]:
        with self._lock:
            return [rule.describe() for rule in self._rules]

    def hook(self, service: str, operation: str, environ: Dict[str, Any], _body: bytes) -> Optional[Answer]:
        """``EmulatorApp.before_hooks`` entry: maybe sleep, maybe answer with an error."""
        outcome = self.decide(service, operation)
        if outcome is None:
            return None
        return error_answer(service, operation, environ, outcome)

    def decide(self, service: str, operation: str) -> Optional[str]:
        """Draw the matching rules for one request: sleep their latency; 'throttle', 'error' or None."""
        with self._lock:
            rules = [rule for rule in self._rules if rule.matches(service, operation)]
            outcome = None
            delay = 0.0
            for rule in rules:
                if rule.latency_ms:
                    rule.injected["latency"] += 1
                    delay = max(delay, rule.latency_ms)
                if outcome is None:
                    outcome = rule.draw()
                    if outcome:
                        rule.injected[outcome] += 1
        if delay:
            time.sleep(delay / 1000.0)
        return outcome


def error_answer(service: str, operation: str, environ: Dict[str, Any], outcome: str) -> Answer:
    """An AWS error response for ``outcome`` ('throttle' or 'error') in the request's protocol."""
    request_id = str(uuid.uuid4())
    if outcome == "throttle":
        status = 400
        message = "Rate exceeded"
    else:
        # Alternate deterministically between the two 5xx AWS answers with.
        status = 503 if sum(map(ord, operation)) % 2 else 500
        message = "Service is unavailable, please try again later" if status == 503 else "An internal error occurred"
    if environ.get("HTTP_X_AMZ_TARGET"):
        code = "ThrottlingException" if outcome == "throttle" else (
            "ServiceUnavailable" if status == 503 else "InternalFailure")
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", request_id),
                   ("x-amzn-ErrorType", code)]
    elif service == "ec2":
        code = "RequestLimitExceeded" if outcome == "throttle" else (
            "Unavailable" if status == 503 else "InternalError")
        if outcome == "throttle":
            message = "Request limit exceeded."
        body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>%s</Code>"
                "<Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>"
                % (code, message, request_id)).encode()
        headers = [("Content-Type", "text/xml")]
    else:
        code = "Throttling" if outcome == "throttle" else ("ServiceUnavailable" if status == 503 else "InternalFailure")
        error_type = "Sender" if outcome == "throttle" else "Receiver"
        body = ("<ErrorResponse>"
                "<Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error>"
                "<RequestId>%s</RequestId></ErrorResponse>" % (error_type, code, message, request_id)).encode()
        headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
    headers.append(("Content-Length", str(len(body))))
    return status, headers, body
