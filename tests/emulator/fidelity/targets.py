"""ELBv2 target health on the virtual clock: ``initial`` -> ``healthy``/``unhealthy``, ``draining``.

moto keys targets by Id only and reports every registered (and some unregistered) target
``healthy`` at once. AWS keys a target by Id *and* port, starts it ``initial``, decides its
health after ``HealthCheckIntervalSeconds`` x the threshold counts, drains it for
``deregistration_delay.timeout_seconds`` on deregistration, and reports a target that is not
registered as ``unused`` / ``Target.NotRegistered``.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable, Dict, List, Optional, Tuple

Key = Tuple[str, int]
# probe(target_group, target) -> True (answers health checks), False (fails them)
Probe = Callable[[Any, "Target"], bool]

NOT_REGISTERED = ("unused", "Target.NotRegistered", "Target is not registered to the target group")
NOT_IN_USE = ("unused", "Target.NotInUse", "Target group is not configured to receive traffic from the load balancer")
INITIAL = ("initial", "Elb.RegistrationInProgress", "Target registration is in progress")
INITIAL_CHECKING = ("initial", "Elb.InitialHealthChecking", "Initial health checks in progress")
# Seconds a new target spends being registered with the load balancer's nodes before its first
# health check (then Elb.InitialHealthChecking until the threshold count decides).
REGISTRATION_SECONDS = 10
DRAINING = ("draining", "Target.DeregistrationInProgress", "Target deregistration is in progress")
FAILING = ("unhealthy", "Target.ResponseCodeMismatch", "Health checks failed with these codes: [503]")
HEALTHY = ("healthy", None, None)
DISABLED = ("unavailable", "Target.HealthCheckDisabled", "Health checks are disabled for the target group")


class Target:
    """One registered (or draining) target of one target group."""

    def __init__(self, target_id: str, port: int, now: float, availability_zone: Optional[str] = None) -> None:
        self.id = target_id
        self.port = port
        self.availability_zone = availability_zone
        self.state, self.reason, self.description = INITIAL
        self.since = now
        # When the health checks that decide the next verdict started (registration included).
        self.checks_from = now
        self.drain_until: Optional[float] = None

    def set(self, health: Tuple[str, Optional[str], Optional[str]], now: float) -> bool:
        if (self.state, self.reason, self.description) == health:
            return False
        if health != INITIAL_CHECKING:
            self.checks_from = now
        self.state, self.reason, self.description = health
        self.since = now
        return True


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


class TargetHealth:
    """Registers, drains and health-checks targets on the virtual clock."""

    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now
        self.probe: Probe = lambda _tg, _target: False
        self._groups: Dict[str, Any] = {}
        # Target group ARN -> its targets, kept here rather than on moto's target group.
        self._tables: Dict[str, "OrderedDict[Key, Target]"] = {}

    def reset(self) -> None:
        self._groups.clear()
        self._tables.clear()

    def table(self, target_group: Any) -> "OrderedDict[Key, Target]":
        """The targets of a moto target group (empty until the first registration)."""
        return self._tables.setdefault(target_group.arn, OrderedDict())

    # moto patches -------------------------------------------------------------------------
    def register(self, target_group: Any, targets: List[Dict[str, Any]]) -> List[Target]:
        """Register targets (idempotent; re-registering a draining target starts it over)."""
        table = self.table(target_group)
        now = self._now()
        added = []
        for spec in targets:
            key = (str(spec["Id"]), _int(spec.get("Port"), _int(target_group.port, 80)))
            current = table.get(key)
            if current is not None and current.state != "draining":
                continue
            target = Target(key[0], key[1], now, spec.get("AvailabilityZone"))
            table[key] = target
            added.append(target)
            # moto's own table (Id -> target) stays filled for the moto code that reads it.
            target_group.targets[key[0]] = {"Id": key[0], "Port": key[1]}
        self._groups[target_group.arn] = target_group
        return added

    def deregister(self, target_group: Any, targets: List[Dict[str, Any]]) -> List[Target]:
        """Start draining targets; they disappear after the deregistration delay."""
        table = self.table(target_group)
        now = self._now()
        delay = _int(target_group.attributes.get("deregistration_delay.timeout_seconds"), 300)
        drained = []
        for spec in targets:
            matches = self._find(target_group, spec)
            if not matches:
                from moto.elbv2.exceptions import InvalidTargetError

                raise InvalidTargetError()
            for target in matches:
                if target.state == "draining":
                    continue
                target.set(DRAINING, now)
                target.drain_until = now + delay
                drained.append(target)
        if not any(t.state != "draining" for t in table.values() if t.id in {d.id for d in drained}):
            for target in drained:
                target_group.targets.pop(target.id, None)
        return drained

    def describe(self, target_group: Any, targets: List[Dict[str, Any]]) -> List[Any]:
        """``describe_target_health``: every target asked for, or every registered one."""
        from moto.elbv2.models import FakeHealthStatus

        self.step()
        table = self.table(target_group)
        health_port = target_group.health_check_port
        answers = []
        if not targets:
            for target in table.values():
                answers.append(FakeHealthStatus(target.id, target.port, health_port, target.state,
                                                target.reason, target.description))
            return answers
        for spec in targets:
            matches = self._find(target_group, spec)
            if not matches:
                port = _int(spec.get("Port"), _int(target_group.port, 80))
                state, reason, description = NOT_REGISTERED
                answers.append(FakeHealthStatus(str(spec["Id"]), port, health_port, state, reason, description))
            for target in matches:
                answers.append(FakeHealthStatus(target.id, target.port, health_port, target.state,
                                                target.reason, target.description))
        return answers

    def _find(self, target_group: Any, spec: Dict[str, Any]) -> List[Target]:
        table = self.table(target_group)
        if spec.get("Port") is not None:
            found = table.get((str(spec["Id"]), _int(spec["Port"], 0)))
            return [found] if found else []
        default = table.get((str(spec["Id"]), _int(target_group.port, 80)))
        if default:
            return [default]
        return [t for (tid, _port), t in table.items() if tid == str(spec["Id"])]

    # clock ----------------------------------------------------------------------------------
    def next_due(self) -> Optional[float]:
        """The earliest virtual time at which some target changes state."""
        due = None
        for group in list(self._groups.values()):
            for target in self.table(group).values():
                when = self._due(group, target)
                if when is not None and (due is None or when < due):
                    due = when
        return due

    def step(self, now: Optional[float] = None) -> List[Tuple[Any, Target]]:
        """Apply every transition due by ``now``; returns (target group, target) that changed."""
        now = self._now() if now is None else now
        changed = []
        for group in list(self._groups.values()):
            table = self.table(group)
            for key, target in list(table.items()):
                if target.state == "draining":
                    if target.drain_until is not None and target.drain_until <= now:
                        del table[key]
                        if not any(t.id == target.id for t in table.values()):
                            group.targets.pop(target.id, None)
                        changed.append((group, target))
                    continue
                when = self._due(group, target)
                if when is not None and when <= now:
                    verdict_due = self._verdict_due(group, target)
                    health = self._verdict(group, target) if verdict_due is not None and verdict_due <= now \
                        else INITIAL_CHECKING
                    if target.set(health, now):
                        changed.append((group, target))
        return changed

    def _verdict(self, group: Any, target: Target) -> Tuple[str, Optional[str], Optional[str]]:
        if not group.health_check_enabled:
            return DISABLED
        if not group.load_balancer_arns:
            return NOT_IN_USE
        return HEALTHY if self.probe(group, target) else FAILING

    def _due(self, group: Any, target: Target) -> Optional[float]:
        if target.state == "draining":
            return target.drain_until
        due = self._verdict_due(group, target)
        if (target.state, target.reason, target.description) == INITIAL:
            registered = target.since + REGISTRATION_SECONDS
            due = registered if due is None else min(due, registered)
        return due

    def _verdict_due(self, group: Any, target: Target) -> Optional[float]:
        verdict = self._verdict(group, target)
        if verdict == (target.state, target.reason, target.description):
            return None
        if verdict in (DISABLED, NOT_IN_USE):
            return target.checks_from
        interval = _int(group.health_check_interval_seconds, 30)
        threshold = _int(group.healthy_threshold_count if verdict == HEALTHY else group.unhealthy_threshold_count, 5)
        return target.checks_from + interval * threshold
