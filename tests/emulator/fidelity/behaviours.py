"""How a container image behaves when the emulator "runs" it, keyed by image reference."""

from __future__ import annotations

import json
import threading
from typing import Any, Dict, List, Optional, Tuple


class ImageBehaviour:
    """How a task running an image behaves: ``healthy``. One subclass per other kind; the
    simulation asks these questions only, so a new kind is one class added to ``STRATEGIES``."""

    kind = "healthy"
    # param -> default; every param is a non-negative number.
    defaults: Dict[str, float] = {}

    def __init__(self, params: Optional[Dict[str, Any]] = None, image: Optional[str] = None) -> None:
        self.params = dict(params or {})
        self.image = image

    def pending_seconds(self, usual: float) -> float:
        """Seconds from PENDING to RUNNING (image pull and container start)."""
        return usual

    def pull_failure(self) -> Optional[str]:
        """The stopped reason when the image cannot be pulled; None when it can."""
        return None

    def runs_for(self, usual: Optional[float]) -> Optional[float]:
        """Seconds of RUNNING before the essential container exits by itself (None: never)."""
        return usual

    def exit_code(self) -> int:
        return 0

    def answers_health_checks(self) -> bool:
        return True

    def answer_request(self, image: Optional[str], task_id: str, method: str, path: str) -> Tuple[int, str]:
        """(status, JSON body) the task answers to a request the load balancer forwards to it."""
        return 200, json.dumps({"image": image, "task": task_id, "path": path}, sort_keys=True) + "\n"


class Crash(ImageBehaviour):
    kind = "crash"
    defaults = {"exit_code": 1, "after_seconds": 5}

    def runs_for(self, usual: Optional[float]) -> Optional[float]:
        return float(self.params["after_seconds"])

    def exit_code(self) -> int:
        return int(self.params["exit_code"])


class Exit(Crash):
    kind = "exit"
    defaults = {"exit_code": 0, "after_seconds": 5}


class Unhealthy(ImageBehaviour):
    kind = "unhealthy"

    def answers_health_checks(self) -> bool:
        return False


class SlowStart(ImageBehaviour):
    kind = "slow_start"
    defaults = {"start_seconds": 120}

    def pending_seconds(self, usual: float) -> float:
        return float(self.params["start_seconds"])


class PullError(ImageBehaviour):
    kind = "pull_error"

    def pull_failure(self) -> Optional[str]:
        return ("CannotPullContainerError: pull image manifest has been retried 5 time(s): "
                "failed to resolve ref %s: not found" % self.image)


class BadResponses(ImageBehaviour):
    """Passes the load balancer's health checks but answers every other request with ``status``
    (a release that is healthy to the load balancer yet broken for its users)."""

    kind = "bad_responses"
    defaults = {"status": 500}

    def answer_request(self, image: Optional[str], task_id: str, method: str, path: str) -> Tuple[int, str]:
        status = int(self.params["status"])
        return status, json.dumps({"error": "bad response (emulated image behaviour bad_responses)",
                                   "image": image, "task": task_id, "path": path}, sort_keys=True) + "\n"


STRATEGIES: Dict[str, type] = {cls.kind: cls for cls in (ImageBehaviour, Crash, Unhealthy, SlowStart, PullError, Exit,
                                                         BadResponses)}
KINDS: Dict[str, Dict[str, float]] = {kind: dict(cls.defaults) for kind, cls in STRATEGIES.items()}


def strategy(behaviour: Dict[str, Any], image: Optional[str] = None) -> ImageBehaviour:
    """The strategy object for a normalised behaviour document."""
    params = {k: v for k, v in behaviour.items() if k != "kind"}
    return STRATEGIES[behaviour.get("kind", "healthy")](params, image)


def normalise(behaviour: Dict[str, Any]) -> Dict[str, Any]:
    """Validate a behaviour document and fill in its defaults."""
    if not isinstance(behaviour, dict):
        raise ValueError("behaviour must be an object, got %r" % (behaviour,))
    kind = behaviour.get("kind", "healthy")
    if kind not in KINDS:
        raise ValueError("behaviour.kind must be one of %s, got %r" % (", ".join(sorted(KINDS)), kind))
    unknown = sorted(set(behaviour) - set(KINDS[kind]) - {"kind"})
    if unknown:
        raise ValueError("behaviour %r takes no %s" % (kind, ", ".join(unknown)))
    result: Dict[str, Any] = {"kind": kind}
    for param, default in KINDS[kind].items():
        value = behaviour.get(param, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError("behaviour.%s must be a number >= 0, got %r" % (param, value))
        if param == "status" and (value != int(value) or not 100 <= value <= 599):
            raise ValueError("behaviour.status must be an HTTP status code 100..599, got %r" % (value,))
        result[param] = int(value) if param in ("exit_code", "status") else float(value)
    return result


class Behaviours:
    """Image reference (exact, or a prefix ending in ``*``) -> behaviour; healthy by default."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: Dict[str, Dict[str, Any]] = {}

    def set(self, image: str, behaviour: Dict[str, Any]) -> Dict[str, Any]:
        if not isinstance(image, str) or not image:
            raise ValueError("image must be a non-empty string, got %r" % (image,))
        normalised = normalise(behaviour)
        with self._lock:
            self._rules[image] = normalised
        return normalised

    def for_image(self, image: Optional[str]) -> Dict[str, Any]:
        """The behaviour of ``image``: exact match first, then the longest matching prefix."""
        with self._lock:
            if image and image in self._rules:
                return dict(self._rules[image])
            best = None
            for pattern in self._rules:
                if pattern.endswith("*") and (image or "").startswith(pattern[:-1]):
                    if best is None or len(pattern) > len(best):
                        best = pattern
            return dict(self._rules[best]) if best else {"kind": "healthy"}

    def snapshot(self) -> List[Dict[str, Any]]:
        with self._lock:
            return [{"image": image, "behaviour": dict(rule)} for image, rule in sorted(self._rules.items())]

    def reset(self) -> None:
        with self._lock:
            self._rules.clear()
