"""Waiter: predicate over a described state, monotonic clock, timeout, check-mode no-op."""

import pytest

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ShipyardError, WaitTimeout
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.waiter import NoopWaiter, Verdict, Waiter, raise_if_failed


class FakeClock:
    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def scripted(states):
    states = list(states)
    return lambda: states.pop(0) if len(states) > 1 else states[0]


def until(value):
    return lambda state: Verdict.done("reached") if state == value else Verdict.waiting("at %s" % state)


def test_waits_until_the_predicate_is_done():
    clock = FakeClock()
    outcome = Waiter(timeout=60, interval=5, clock=clock, sleep=clock.sleep).wait(scripted([1, 2, 3]), until(3))
    assert outcome.verdict.status == "done"
    assert outcome.polls == 3
    assert clock.sleeps == [5, 5]
    assert [e["note"] for e in outcome.timeline] == ["at 1", "at 2", "reached"]


def test_interval_backs_off_up_to_the_cap():
    clock = FakeClock()
    Waiter(timeout=600, interval=1, max_interval=4, backoff=2, clock=clock, sleep=clock.sleep).wait(
        scripted([0, 0, 0, 0, 0, 1]), until(1))
    assert clock.sleeps == [1, 2, 4, 4, 4]


def test_failed_verdict_stops_at_once():
    clock = FakeClock()
    outcome = Waiter(timeout=60, interval=5, clock=clock, sleep=clock.sleep).wait(
        scripted(["bad"]), lambda s: Verdict.failed("went bad"))
    assert outcome.verdict.status == "failed"
    assert clock.sleeps == []
    with pytest.raises(ShipyardError, match="went bad"):
        raise_if_failed(outcome)


def test_timeout_raises_with_the_last_reason_and_never_oversleeps():
    clock = FakeClock()
    waiter = Waiter(timeout=12, interval=5, clock=clock, sleep=clock.sleep)
    with pytest.raises(WaitTimeout) as info:
        waiter.wait(scripted([0]), until(1), what="the deployment")
    assert "timed out after 12s waiting for the deployment: at 0" in info.value.msg
    assert clock.sleeps == [5, 5, 2]


def test_timeout_can_be_returned_instead_of_raised():
    clock = FakeClock()
    outcome = Waiter(timeout=1, interval=5, clock=clock, sleep=clock.sleep).wait(scripted([0]), until(1), raise_on_timeout=False)
    assert outcome.verdict.status == "failed"


def test_noop_waiter_looks_once_and_never_sleeps():
    calls = []

    def describe():
        calls.append(1)
        return 0

    outcome = NoopWaiter().wait(describe, until(1))
    assert calls == [1]
    assert outcome.verdict.status == "waiting"
