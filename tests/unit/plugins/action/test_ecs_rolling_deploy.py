"""The action plugin's progress printer: new lines as they come, a reminder while a service stays quiet."""

from __future__ import annotations

import json

from ansible_collections.shipyard.ecs.plugins.action.ecs_rolling_deploy import ProgressPrinter


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def append(path, **sample):
    with open(path, "a") as handle:
        handle.write(json.dumps(dict({"service": "users", "purpose": "release", "running": 1, "desired": 2,
                                      "healthy": 0, "targets": 1, "rollout": "IN_PROGRESS"}, **sample)) + "\n")


def test_each_sample_is_printed_once_and_a_half_written_line_waits(tmp_path):
    path = tmp_path / "progress.jsonl"
    path.write_text("")
    said = []
    printer = ProgressPrinter(str(path), said.append, clock=Clock())
    append(path, t=1, status="waiting")
    with open(path, "a") as handle:
        handle.write('{"t": 2, "service": "us')
    printer.poll()
    printer.poll()
    assert said == ["[+1s] users release: rollout IN_PROGRESS, tasks 1/2, targets 0/1 healthy"]


def test_a_waiting_service_is_repeated_after_quiet_seconds_and_a_finished_one_is_not(tmp_path):
    path = tmp_path / "progress.jsonl"
    path.write_text("")
    clock = Clock()
    said = []
    printer = ProgressPrinter(str(path), said.append, clock=clock, every=12)
    append(path, t=1, status="waiting")
    append(path, t=1, service="orders", status="done", running=2, healthy=2, targets=2, rollout="COMPLETED")
    printer.poll()
    clock.now = 11.0
    printer.poll()
    assert len(said) == 2
    clock.now = 12.5
    printer.poll()
    assert said[-1] == "[+13s] users release: rollout IN_PROGRESS, tasks 1/2, targets 0/1 healthy (no change)"
    assert len(said) == 3
