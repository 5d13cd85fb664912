"""The containers of one task: start order, health and exits (ECS Developer Guide, "Container
dependency" in "Amazon ECS task definition parameters"; API Reference ``ContainerDependency``).

A container starts once every ``dependsOn`` condition holds: START (the other container has
started), HEALTHY (its health check passed), COMPLETE (it exited), SUCCESS (it exited 0); a
container it ``links`` to must have started first. Until then it stays PENDING. A condition that
can no longer hold (SUCCESS of a container that exited non-zero, HEALTHY of one whose check fails)
fails the task at start. A non-essential container that exits leaves the task running; an essential
one stops it (the simulation's task behaviour). How a container's image behaves comes from the
control API's behaviours (``exit`` / ``crash``: exits after ``after_seconds``; ``unhealthy``: its
health check fails).
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

DEFAULT_INTERVAL = 30


class ContainerRun:
    """One container of a running task."""

    def __init__(self, definition: Dict[str, Any], behaviour: Dict[str, Any]) -> None:
        self.name = definition.get("name")
        self.definition = definition
        self.essential = definition.get("essential", True) is not False
        self.behaviour = behaviour
        self.status = "PENDING"
        self.started_at: Optional[float] = None
        self.exit_code: Optional[int] = None
        check = definition.get("healthCheck")
        self.interval = int((check or {}).get("interval") or DEFAULT_INTERVAL) if check else None
        self.start_period = int((check or {}).get("startPeriod") or 0) if check else 0

    @property
    def exits_after(self) -> Optional[float]:
        """Seconds from start until the process exits by itself (None: it runs until stopped)."""
        if self.behaviour.get("kind") in ("exit", "crash"):
            return float(self.behaviour.get("after_seconds", 5))
        return None

    @property
    def exits_with(self) -> int:
        return int(self.behaviour.get("exit_code", 1 if self.behaviour.get("kind") == "crash" else 0))

    def exit_time(self) -> Optional[float]:
        if self.started_at is None or self.exits_after is None:
            return None
        return self.started_at + self.exits_after

    def healthy_time(self) -> Optional[float]:
        """When its health check first passes (None: never, or no health check)."""
        if self.started_at is None or self.interval is None or self.behaviour.get("kind") == "unhealthy":
            return None
        return self.started_at + self.interval


def dependencies(definition: Dict[str, Any]) -> List[Tuple[str, str]]:
    """(container, condition) pairs a container waits for: its dependsOn, then its links (START)."""
    result = [(d.get("containerName"), (d.get("condition") or "START").upper()) for d in definition.get("dependsOn") or []]
    for link in definition.get("links") or []:
        name = link.split(":", 1)[0]
        if all(name != other for other, _condition in result):
            result.append((name, "START"))
    return result


class TaskContainers:
    """The containers of one task and the order they start in."""

    def __init__(self, task_definition: Any, behaviour_of: Callable[[Optional[str]], Dict[str, Any]]) -> None:
        self.runs: Dict[str, ContainerRun] = {}
        for definition in task_definition.container_definitions:
            run = ContainerRun(definition, behaviour_of(definition.get("image")))
            self.runs[run.name] = run

    def _holds(self, name: str, condition: str, now: float) -> Optional[bool]:
        """True: the condition holds; False: it never will; None: not yet."""
        other = self.runs.get(name)
        if other is None:
            return False
        if condition == "START":
            return True if other.started_at is not None else None
        if condition == "HEALTHY":
            if other.interval is None or other.behaviour.get("kind") == "unhealthy":
                return False if other.started_at is not None else None
            when = other.healthy_time()
            return True if when is not None and when <= now else None
        exited = other.status == "STOPPED"
        if condition == "COMPLETE":
            return True if exited else None
        if condition == "SUCCESS":
            if not exited:
                return None
            return other.exit_code == 0
        return False

    def step(self, now: float) -> Tuple[List[ContainerRun], List[ContainerRun], Optional[str]]:
        """Apply what is due at ``now``: (started, exited, why the task cannot start or None)."""
        started: List[ContainerRun] = []
        exited: List[ContainerRun] = []
        progress = True
        while progress:
            progress = False
            for run in self.runs.values():
                when = run.exit_time()
                if run.status == "RUNNING" and when is not None and when <= now and not run.essential:
                    run.status, run.exit_code = "STOPPED", run.exits_with
                    exited.append(run)
                    progress = True
            for run in self.runs.values():
                if run.status != "PENDING":
                    continue
                verdicts = [self._holds(name, condition, now) for name, condition in dependencies(run.definition)]
                if any(v is False for v in verdicts):
                    blocking = [d for d, v in zip(dependencies(run.definition), verdicts) if v is False][0]
                    return started, exited, ("Container %s cannot start: dependency %s of container %s can no "
                                             "longer be met" % (run.name, blocking[1], blocking[0]))
                if all(v is True for v in verdicts):
                    run.status, run.started_at = "RUNNING", now
                    started.append(run)
                    progress = True
        return started, exited, None

    def essential_running(self) -> bool:
        return all(run.status == "RUNNING" for run in self.runs.values() if run.essential)

    def next_due(self, now: float) -> Optional[float]:
        """The next time a container may start or exit."""
        times = []
        for run in self.runs.values():
            for when in (run.exit_time() if not run.essential and run.status == "RUNNING" else None,
                         run.healthy_time()):
                if when is not None and when > now:
                    times.append(when)
        return min(times) if times else None
