"""Task placement on EC2 container instances, as the ECS Developer Guide describes it.

Pure functions over plain records: what a task needs (``requirements``), whether an instance can
take it (``refusal``), placement constraints (``distinctInstance``, ``memberOf`` with the cluster
query language's simple expressions) and strategies (``spread``, ``binpack``, ``random``), applied
in the order given ("Amazon ECS task placement", "Amazon ECS task placement strategies",
"Define which container instances Amazon ECS uses for tasks").
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

# The ports the ECS agent reserves on every container instance (registeredResources PORTS).
RESERVED_PORTS = (22, 2375, 2376, 51678, 51679)
# A service's tasks, without a strategy: spread over zones, then over instances (the console's
# "AZ balanced spread"); RunTask without a strategy places at random.
SERVICE_DEFAULT_STRATEGY = [{"type": "spread", "field": "attribute:ecs.availability-zone"},
                            {"type": "spread", "field": "instanceId"}]


@dataclass
class Requirements:
    """What one task reserves on a container instance."""

    cpu: int
    memory: int
    ports: Set[int] = field(default_factory=set)   # static host ports (tcp)


@dataclass
class InstanceState:
    """A container instance as placement sees it: what it registered and what its tasks hold."""

    arn: str
    instance_id: str
    attributes: Dict[str, str]
    cpu: int
    memory: int
    used_cpu: int = 0
    used_memory: int = 0
    used_ports: Set[int] = field(default_factory=set)
    groups: List[str] = field(default_factory=list)   # the group of each task on it

    @property
    def remaining_cpu(self) -> int:
        return self.cpu - self.used_cpu

    @property
    def remaining_memory(self) -> int:
        return self.memory - self.used_memory

    def take(self, needs: Requirements, group: str) -> None:
        self.used_cpu += needs.cpu
        self.used_memory += needs.memory
        self.used_ports |= needs.ports
        self.groups.append(group)


def requirements(task_definition: Any) -> Requirements:
    """Task-level cpu/memory, else the containers' cpu and memoryReservation-or-memory; static ports.

    ECS Developer Guide, "Container instance memory management": a container's
    ``memoryReservation`` (soft limit) is what is reserved when given, else its ``memory``.
    """
    containers = task_definition.container_definitions
    cpu = int(task_definition.cpu or 0) or sum(int(c.get("cpu") or 0) for c in containers)
    memory = int(task_definition.memory or 0) or sum(
        int(c.get("memoryReservation") or c.get("memory") or 0) for c in containers)
    ports: Set[int] = set()
    mode = task_definition.network_mode or "bridge"
    if mode in ("bridge", "host"):
        for container in containers:
            for mapping in container.get("portMappings") or []:
                if mapping.get("protocol", "tcp") != "tcp":
                    continue
                port = int(mapping.get("containerPort") or 0) if mode == "host" else int(mapping.get("hostPort") or 0)
                if port:
                    ports.add(port)
    return Requirements(cpu=cpu, memory=memory, ports=ports)


def refusal(instance: InstanceState, needs: Requirements) -> Optional[str]:
    """The RunTask failure reason when ``instance`` cannot take the task (None: it can)."""
    if needs.cpu > instance.remaining_cpu:
        return "RESOURCE:CPU"
    if needs.memory > instance.remaining_memory:
        return "RESOURCE:MEMORY"
    if needs.ports & (instance.used_ports | set(RESERVED_PORTS)):
        return "RESOURCE:PORTS"
    return None


REASON_SENTENCES = {
    "RESOURCE:CPU": "has insufficient CPU units available",
    "RESOURCE:MEMORY": "has insufficient memory available",
    "RESOURCE:PORTS": "is already using a port required by your task",
    "MemberOf": "encountered error \"MemberOf\"",
    "DistinctInstance": "encountered error \"DistinctInstance\"",
}


# constraints ----------------------------------------------------------------------------------------
_COMPARISON = re.compile(r"^\s*attribute:([\w.\-]+)\s*(==|!=|=~|!~|not in|in|exists|!exists)\s*(.*?)\s*$")


def _value(instance: InstanceState, name: str) -> Optional[str]:
    return instance.attributes.get(name)


def _matches(instance: InstanceState, clause: str) -> bool:
    match = _COMPARISON.match(clause)
    if match is None:
        raise ValueError("unsupported expression %r" % clause)
    name, operator, operand = match.groups()
    value = _value(instance, name)
    if operator == "exists":
        return value is not None
    if operator == "!exists":
        return value is None
    if operator in ("in", "not in"):
        items = [item.strip() for item in operand.strip("[]()").split(",") if item.strip()]
        return (value in items) == (operator == "in")
    if operator in ("=~", "!~"):
        pattern = "^" + re.escape(operand).replace("\\*", ".*") + "$"
        return (value is not None and re.match(pattern, value) is not None) == (operator == "=~")
    return (value == operand) == (operator == "==")


def member_of(instance: InstanceState, expression: str) -> bool:
    """The cluster query language's simple expressions: comparisons joined by ``and`` / ``or``
    (``and`` binds tighter), e.g. ``attribute:ecs.instance-type =~ t3.* and attribute:ecs.availability-zone in [us-east-1a, us-east-1b]``."""
    return any(all(_matches(instance, clause) for clause in re.split(r"\s+and\s+", branch))
               for branch in re.split(r"\s+or\s+", expression.strip()))


def _constraint_refusal(instance: InstanceState, constraints: Sequence[Dict[str, Any]], group: str) -> Optional[str]:
    for constraint in constraints:
        kind = constraint.get("type")
        if kind == "distinctInstance" and group in instance.groups:
            return "DistinctInstance"
        if kind == "memberOf" and not member_of(instance, constraint.get("expression") or ""):
            return "MemberOf"
    return None


# strategies ------------------------------------------------------------------------------------------
def _field_value(instance: InstanceState, name: str) -> str:
    if name.lower() in ("instanceid", "host"):
        return instance.instance_id
    return instance.attributes.get(name.split("attribute:", 1)[-1], "")


def _order(candidates: List[InstanceState], strategies: Sequence[Dict[str, Any]], group: str,
           every: Sequence[InstanceState], rng: random.Random) -> List[InstanceState]:
    """Candidates best first: each strategy sorts within the ties the previous one left."""
    def key(instance: InstanceState) -> Tuple[Any, ...]:
        parts: List[Any] = []
        for strategy in strategies:
            kind, name = strategy.get("type"), strategy.get("field") or ""
            if kind == "spread":
                # Fewest tasks of this group on instances sharing the instance's value of the field.
                value = _field_value(instance, name)
                parts.append(sum(i.groups.count(group) for i in every if _field_value(i, name) == value))
            elif kind == "binpack":
                parts.append(instance.remaining_cpu if name.lower() == "cpu" else instance.remaining_memory)
            elif kind == "random":
                parts.append(rng.random())
        parts.append(instance.arn)
        return tuple(parts)

    return sorted(candidates, key=key)


@dataclass
class Decision:
    """Where a task goes (``instance``), or why it cannot go anywhere (``failures``: arn -> reason)."""

    instance: Optional[InstanceState]
    failures: Dict[str, str]

    def sentence(self) -> str:
        """The service event's reason: the closest matching instance and what it lacks."""
        if not self.failures:
            return "No Container Instances were found in your cluster."
        arn, reason = sorted(self.failures.items(), key=lambda item: _CLOSENESS.index(item[1])
                             if item[1] in _CLOSENESS else 0)[-1]
        return "The closest matching (container-instance %s) %s." % (arn.split("/")[-1], REASON_SENTENCES[reason])


# A refusal for ports is "closer" than one for memory, which is closer than one for CPU or a constraint.
_CLOSENESS = ["MemberOf", "DistinctInstance", "RESOURCE:CPU", "RESOURCE:MEMORY", "RESOURCE:PORTS"]


def place(instances: Sequence[InstanceState], needs: Requirements, group: str,
          constraints: Sequence[Dict[str, Any]] = (), strategies: Optional[Sequence[Dict[str, Any]]] = None,
          rng: Optional[random.Random] = None) -> Decision:
    """Choose an instance for one task; the caller ``take``s it on the instance it gets."""
    failures: Dict[str, str] = {}
    fit = []
    for instance in instances:
        reason = _constraint_refusal(instance, constraints, group) or refusal(instance, needs)
        if reason:
            failures[instance.arn] = reason
        else:
            fit.append(instance)
    if not fit:
        return Decision(None, failures)
    order = _order(fit, strategies if strategies is not None else [{"type": "random"}], group, instances,
                   rng or random.Random())
    return Decision(order[0], failures)
