"""Progress of long waits: the module's log writes each change once; the printer prints and reminds."""

from __future__ import annotations

import json

import pytest

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.progress import (
    ProgressLog,
    ProgressPrinter,
    follow_progress,
    wait_line,
)


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_look_is_written_only_when_what_is_waited_for_changed(tmp_path):
    path = tmp_path / "progress.jsonl"
    clock = Clock()
    log = ProgressLog(str(path), clock=clock)
    assert log.add("users", "deletion", "waiting", "DRAINING", running=2, desired=0, event="has stopped 1 running tasks")
    clock.now = 5
    assert not log.add("users", "deletion", "waiting", "DRAINING", running=2, desired=0, event="has stopped 1 running tasks")
    clock.now = 9.5
    assert log.add("users", "deletion", "waiting", "DRAINING", running=1, desired=0, event="has stopped 1 running tasks")
    assert [(s["t"], s["running"]) for s in lines(path)] == [(0, 2), (9.5, 1)]
    assert log.samples == lines(path)


def test_without_a_file_samples_are_only_kept(tmp_path):
    log = ProgressLog(None, clock=Clock())
    log.add("ns.internal", "namespace creation", "done", "operation SUCCESS")
    assert log.samples == [{"service": "ns.internal", "purpose": "namespace creation", "status": "done",
                            "state": "operation SUCCESS", "t": 0}]


def test_a_line_says_time_subject_state_tasks_and_the_newest_event_without_arn_prefixes():
    sample = {"t": 12.7, "service": "users", "purpose": "deletion", "status": "waiting", "state": "DRAINING",
              "running": 1, "desired": 0,
              "event": "(service users) has begun draining connections on 1 tasks. (arn:aws:ecs:us-east-1:123456789012:task/x)"}
    assert wait_line(sample) == ("[+12s] users deletion: DRAINING, tasks 1/0 | (service users) has begun draining "
                                 "connections on 1 tasks. (task/x)")
    assert wait_line({"t": 3, "service": "ns", "purpose": "namespace deletion", "status": "done",
                      "state": "operation SUCCESS"}) == "[+3s] ns namespace deletion: operation SUCCESS - done"


def test_the_printer_prints_new_lines_and_repeats_a_quiet_waiting_subject_until_it_is_done(tmp_path):
    path = tmp_path / "progress.jsonl"
    clock = Clock()
    log = ProgressLog(str(path), clock=clock)
    said = []
    printer = ProgressPrinter(str(path), said.append, clock=clock, every=12)
    log.add("users", "deletion", "waiting", "DRAINING", running=1, desired=0)
    printer.poll()
    assert said == ["[+0s] users deletion: DRAINING, tasks 1/0"]
    clock.now = 11
    printer.poll()
    assert len(said) == 1
    clock.now = 12
    printer.poll()
    assert said[-1] == "[+12s] users deletion: DRAINING, tasks 1/0 (no change)"
    clock.now = 20
    log.add("users", "deletion", "done", "INACTIVE", running=0, desired=0)
    printer.poll()
    assert said[-1] == "[+20s] users deletion: INACTIVE, tasks 0/0 - done"
    clock.now = 60
    printer.poll()
    assert said[-1].endswith("- done")


def test_a_half_written_line_waits_for_its_end(tmp_path):
    path = tmp_path / "progress.jsonl"
    said = []
    printer = ProgressPrinter(str(path), said.append, clock=Clock())
    path.write_text('{"t": 1, "service": "users", "purpose": "deletion", "status": "waiting", "state": "DRA')
    printer.poll()
    assert said == []
    with open(path, "a") as handle:
        handle.write('INING"}\n')
    printer.poll()
    assert said == ["[+1s] users deletion: DRAINING"]


def test_following_a_module_prints_while_it_runs_and_returns_its_result(tmp_path):
    path = tmp_path / "progress.jsonl"
    path.write_text("")
    said = []

    def module():
        ProgressLog(str(path)).add("users", "deletion", "done", "INACTIVE")
        return {"changed": True}

    assert follow_progress(module, ProgressPrinter(str(path), said.append), every=0.01) == {"changed": True}
    assert said == ["[+0s] users deletion: INACTIVE - done"]


def test_following_a_module_that_raises_raises_in_the_caller(tmp_path):
    path = tmp_path / "progress.jsonl"
    path.write_text("")

    def module():
        raise RuntimeError("connection lost")

    with pytest.raises(RuntimeError, match="connection lost"):
        follow_progress(module, ProgressPrinter(str(path), print), every=0.01)
