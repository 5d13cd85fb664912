# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""Progress of a module's long waits, shared by the module (writer) and its action plugin (printer).

The module appends one JSON object per line to a progress file (its ``progress_file`` option,
set by the collection's action plugin to a temporary file on the controller) each time what it
waits for changes; the action plugin reads the file while the module runs and prints each new
sample at default verbosity, and repeats a sample that is still waiting every ``every`` seconds
with ``(no change)``.  Nothing here imports Ansible: both sides use it, and tests drive it with
a scripted clock.

A sample: ``t`` (seconds since the module started waiting), ``service`` (what is waited for),
``purpose`` (why), ``status`` (``waiting``, ``done``, ``failed``), ``state`` (AWS's word for it),
optionally ``running``/``desired`` tasks and ``event`` (the newest ECS event).
"""

from __future__ import annotations

import json
import re
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

MAX_EVENT_CHARS = 160
# ``arn:aws:ecs:us-east-1:123456789012:service/...`` reads as ``service/...``.
ARN_PREFIX = re.compile(r"arn:aws[\w-]*:[\w-]+:[\w-]*:\d*:")
FINAL = ("done", "failed")
# A line per waiting subject at least every 15 s: a repeat after 12 s keeps it with the
# module's polls (up to poll_interval apart) and the time a look takes.
PROGRESS_EVERY = 12.0


def wait_line(sample: Dict[str, Any]) -> str:
    """``[+12s] users deletion: DRAINING, tasks 1/0 | <newest event>``."""
    head = "[+%ds] %s %s" % (int(sample.get("t") or 0), sample.get("service") or "-", sample.get("purpose") or "wait")
    body = str(sample.get("state") or "?")
    if sample.get("running") is not None or sample.get("desired") is not None:
        body += ", tasks %s/%s" % (sample.get("running", "?"), sample.get("desired", "?"))
    if sample.get("status") in FINAL:
        body += " - %s" % sample["status"]
    event = ARN_PREFIX.sub("", sample.get("event") or "")
    if event:
        body += " | " + (event if len(event) <= MAX_EVENT_CHARS else event[:MAX_EVENT_CHARS - 3] + "...")
    return "%s: %s" % (head, body)


class ProgressLog:
    """The module's side: records samples and appends each new state as a JSON line to ``path``."""

    def __init__(self, path: Optional[str] = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self.clock = clock
        self.started = clock()
        self.samples: List[Dict[str, Any]] = []
        self._last: Dict[Tuple[Any, Any], Dict[str, Any]] = {}

    def add(self, service: str, purpose: str, status: str, state: Any, **extra: Any) -> bool:
        """Record a look at ``service``; written only when something but the time changed. True when written."""
        sample: Dict[str, Any] = {"service": service, "purpose": purpose, "status": status, "state": state}
        sample.update({k: v for k, v in extra.items() if v is not None})
        key = (service, purpose)
        if self._last.get(key) == sample:
            return False
        self._last[key] = dict(sample)
        sample["t"] = round(self.clock() - self.started, 3)
        self.samples.append(sample)
        if self.path:
            # Appended and closed at once: the reader sees whole lines as they come.
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(sample, sort_keys=True, default=str) + "\n")
        return True


class ProgressPrinter:
    """The action plugin's side: prints new samples of a progress file; repeats quiet waiting ones.

    ``line`` formats a sample (``wait_line`` by default); ``key`` says which samples are the same
    subject (a later one replaces the earlier).
    """

    def __init__(self, path: str, say: Callable[[str], None], line: Callable[[Dict[str, Any]], str] = wait_line,
                 clock: Callable[[], float] = time.monotonic, every: float = PROGRESS_EVERY,
                 key: Callable[[Dict[str, Any]], Any] = lambda s: (s.get("service"), s.get("purpose"))) -> None:
        self.path = path
        self.say = say
        self.line = line
        self.clock = clock
        self.every = every
        self.key = key
        self.offset = 0
        self.last: Dict[Any, Tuple[float, Dict[str, Any]]] = {}

    def poll(self) -> None:
        """Print what the module appended since the last poll, then the reminders that are due."""
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                chunk = handle.read()
        except OSError:
            chunk = b""
        complete = chunk[:chunk.rfind(b"\n") + 1]
        self.offset += len(complete)
        now = self.clock()
        for raw in complete.decode("utf-8", "replace").splitlines():
            try:
                sample = json.loads(raw)
            except ValueError:
                continue
            self.say(self.line(sample))
            self.last[self.key(sample)] = (now, sample)
        for key, (at, sample) in list(self.last.items()):
            if sample.get("status") in FINAL:
                del self.last[key]
            elif now - at >= self.every:
                still = dict(sample, t=(sample.get("t") or 0) + (now - at))
                self.say(self.line(still) + " (no change)")
                self.last[key] = (now, still)


# How often the action plugin looks at the progress file while the module runs.
READ_EVERY = 0.5


def follow_progress(execute: Callable[[], Any], printer: ProgressPrinter, every: float = READ_EVERY) -> Any:
    """Run ``execute`` (the module) in a thread; meanwhile poll ``printer``; return what it returned.

    An exception of ``execute`` is raised again here, after the last lines are printed.
    """
    import threading  # pylint: disable=import-outside-toplevel  # only the controller side runs this

    outcome: Dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = execute()
        except Exception as exc:  # pylint: disable=broad-except  # re-raised in the caller's thread below
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="shipyard-progress")
    worker.start()
    try:
        while worker.is_alive():
            worker.join(every)
            printer.poll()
    finally:
        worker.join()
    printer.poll()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]
