"""How a container image behaves when the emulator "runs" it, keyed by image reference."""

from __future__ import annotations

import threading
from typing import Any, Dict, List, Optional

# kind -> {param: default}; every param must be a non-negative number.
KINDS: Dict[str, Dict[str, float]] = {
    "healthy": {},
    "crash": {"exit_code": 1, "after_seconds": 5},
    "unhealthy": {},
    "slow_start": {"start_seconds": 120},
    "pull_error": {},
    "exit": {"exit_code": 0, "after_seconds": 5},
}


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
        result[param] = int(value) if param == "exit_code" else float(value)
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
