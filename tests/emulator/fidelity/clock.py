"""Virtual clock of the emulator: AWS seconds pass ``scale`` times faster than wall seconds."""

from __future__ import annotations

import os
import threading
import time
from typing import Callable

# A healthy rolling deployment of 2 tasks behind an ALB with AWS's defaults takes about
# 8 minutes of AWS time (start ~15 s, 5 health checks 30 s apart, 300 s deregistration delay):
# at 100x that is under 5 s of wall time.
DEFAULT_SCALE = 100.0
SCALE_ENV = "SHIPYARD_LOCAL_AWS_TIME_SCALE"


def default_scale() -> float:
    """The scale set at start by ``SHIPYARD_LOCAL_AWS_TIME_SCALE`` (else :data:`DEFAULT_SCALE`)."""
    raw = os.environ.get(SCALE_ENV)
    if not raw:
        return DEFAULT_SCALE
    value = float(raw)
    if value < 0:
        raise ValueError("%s must be >= 0, got %r" % (SCALE_ENV, raw))
    return value


class VirtualClock:
    """Monotonic virtual seconds; changing the scale never makes time jump or go back."""

    def __init__(self, scale: float = DEFAULT_SCALE, wall: Callable[[], float] = time.monotonic) -> None:
        self._wall = wall
        self._lock = threading.Lock()
        self._scale = scale
        self._origin_wall = wall()
        self._origin_virtual = 0.0

    @property
    def scale(self) -> float:
        return self._scale

    def now(self) -> float:
        """Virtual seconds since the clock was created or reset."""
        with self._lock:
            return self._origin_virtual + (self._wall() - self._origin_wall) * self._scale

    def set_scale(self, scale: float) -> None:
        """Change the speed from now on (0 pauses AWS time; ``advance`` still moves it)."""
        if scale < 0:
            raise ValueError("scale must be >= 0, got %r" % (scale,))
        current = self.now()
        with self._lock:
            self._origin_wall = self._wall()
            self._origin_virtual = current
            self._scale = float(scale)

    def advance(self, seconds: float) -> None:
        """Jump forward by ``seconds`` of AWS time (tests that want a step, not a speed)."""
        if seconds < 0:
            raise ValueError("seconds must be >= 0, got %r" % (seconds,))
        with self._lock:
            self._origin_virtual += seconds

    def reset(self, scale: float) -> None:
        with self._lock:
            self._origin_wall = self._wall()
            self._origin_virtual = 0.0
            self._scale = float(scale)
