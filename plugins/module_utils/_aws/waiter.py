# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""Waiting: a predicate over a described state, a monotonic clock and a deadline.

``Waiter.wait(describe, predicate)`` calls ``describe()``, hands the state to ``predicate``
which returns a :class:`Verdict` (done, failed, or keep waiting with a note), and sleeps with a
capped backoff in between.  Check mode gets :class:`NoopWaiter`, which describes once and never
sleeps.  The same predicates serve the modules and their tests, where the clock and sleep are
scripted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

from .errors import ShipyardError, WaitTimeout

DONE = "done"
FAILED = "failed"
WAITING = "waiting"


@dataclass
class Verdict:
    status: str
    reason: str = ""

    @classmethod
    def done(cls, reason: str = "") -> "Verdict":
        return cls(DONE, reason)

    @classmethod
    def failed(cls, reason: str) -> "Verdict":
        return cls(FAILED, reason)

    @classmethod
    def waiting(cls, reason: str = "") -> "Verdict":
        return cls(WAITING, reason)


@dataclass
class WaitOutcome:
    verdict: Verdict
    state: Any
    elapsed: float
    polls: int
    timeline: List[Dict[str, Any]] = field(default_factory=list)


class Waiter:
    """Poll until a predicate is done or failed, or until ``timeout`` seconds have passed."""

    def __init__(
        self,
        timeout: float = 600.0,
        interval: float = 5.0,
        max_interval: Optional[float] = None,
        backoff: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.timeout = timeout
        self.interval = interval
        self.max_interval = max_interval if max_interval is not None else interval
        self.backoff = backoff
        self.clock = clock
        self.sleep = sleep

    def wait(
        self,
        describe: Callable[[], Any],
        predicate: Callable[[Any], Verdict],
        what: str = "condition",
        raise_on_timeout: bool = True,
    ) -> WaitOutcome:
        start = self.clock()
        interval = self.interval
        polls = 0
        timeline: List[Dict[str, Any]] = []
        last_reason = None
        while True:
            state = describe()
            polls += 1
            verdict = predicate(state)
            elapsed = self.clock() - start
            if verdict.reason and verdict.reason != last_reason:
                timeline.append({"t": round(elapsed, 3), "status": verdict.status, "note": verdict.reason})
                last_reason = verdict.reason
            if verdict.status in (DONE, FAILED):
                return WaitOutcome(verdict, state, elapsed, polls, timeline)
            remaining = self.timeout - elapsed
            if remaining <= 0:
                outcome = WaitOutcome(Verdict.failed("timed out after %.0fs waiting for %s: %s" % (
                    self.timeout, what, verdict.reason or "not done")), state, elapsed, polls, timeline)
                if raise_on_timeout:
                    raise WaitTimeout(outcome.verdict.reason, state=state, details={"timeline": timeline})
                return outcome
            self.sleep(min(interval, remaining))
            interval = min(self.max_interval, interval * self.backoff)


class NoopWaiter(Waiter):
    """Check mode: look once, never sleep, never fail on time."""

    def wait(self, describe, predicate, what="condition", raise_on_timeout=True):  # type: ignore[override]
        state = describe()
        return WaitOutcome(predicate(state), state, 0.0, 1, [])


def raise_if_failed(outcome: WaitOutcome, error: type = ShipyardError) -> WaitOutcome:
    """Turn a failed outcome into the area's exception, carrying the timeline."""
    if outcome.verdict.status == FAILED:
        raise error(outcome.verdict.reason, state=outcome.state, details={"timeline": outcome.timeline})
    return outcome
