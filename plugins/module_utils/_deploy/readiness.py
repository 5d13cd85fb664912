# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""Readiness predicates: is the deployment we follow done, failed, or still on its way?

Pure functions over one :class:`Observation` of a service (its description, the tasks of the
deployment we follow, the health of the targets in its target groups).  The only memory they
keep is in the :class:`Track` (when each target was first seen unhealthy), so the same
predicates serve the module, the unit tests and the benchmark.

Success is judged on *our* deployment, never on the service as a whole: a service that is
"stable" because ECS rolled our deployment back is a failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

DONE = "done"
FAILED = "failed"
WAITING = "waiting"

# Why a deployment failed, in words a result consumer can switch on.
KIND_COMPLETED = "completed"
KIND_ECS_ROLLBACK = "rolled_back_by_ecs"
KIND_REPLACED = "replaced"
KIND_FAILED = "deployment_failed"
KIND_FAIL_FAST = "tasks_failed"
KIND_UNHEALTHY = "targets_unhealthy"
KIND_TIMEOUT = "timeout"
KIND_MISSING = "service_missing"


@dataclass
class Policy:
    """Fail-fast thresholds and what "done" requires."""

    max_failed_tasks: int = 3
    unhealthy_timeout: float = 120.0
    wait_for_drain: bool = False


@dataclass
class Track:
    """One service the watcher follows, and the deployment it follows on it.

    ``deployment_id`` None means: follow whichever deployment becomes PRIMARY next, other than
    ``exclude_deployment`` (used to wait for the rollback deployment ECS's circuit breaker
    starts after failing ours).
    """

    cluster: str
    service: str
    revision: Optional[str]
    deployment_id: Optional[str] = None
    previous_revision: Optional[str] = None
    purpose: str = "release"
    exclude_deployment: Optional[str] = None
    unhealthy_since: Dict[str, float] = field(default_factory=dict)
    # Whether any deployment of the service COMPLETED before the one followed (None: not known).
    # ECS's circuit breaker rolls back only to a completed deployment: without one it leaves
    # the failed deployment PRIMARY and starts nothing.
    completed_before: Optional[bool] = None

    @property
    def ecs_can_roll_back(self) -> bool:
        """Whether ECS has a completed deployment its circuit breaker could roll back to."""
        return self.completed_before is not False

    @property
    def key(self) -> Tuple[str, str]:
        return (self.cluster, self.service)


@dataclass
class Observation:
    """What one poll saw of a service."""

    service: Optional[Dict[str, Any]]
    running_tasks: List[Dict[str, Any]] = field(default_factory=list)
    stopped_tasks: List[Dict[str, Any]] = field(default_factory=list)
    targets: Dict[str, List[Dict[str, Any]]] = field(default_factory=dict)
    at: float = 0.0


@dataclass
class Judgement:
    status: str
    reason: str
    kind: str = ""
    summary: Dict[str, Any] = field(default_factory=dict)
    successor: Optional[Dict[str, Any]] = None


def deployment_by_id(service: Dict[str, Any], deployment_id: Optional[str]) -> Optional[Dict[str, Any]]:
    """The deployment of a described service with that id, else None."""
    for dep in service.get("deployments") or []:
        if dep.get("id") == deployment_id:
            return dep
    return None


def primary_deployment(service: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The PRIMARY deployment of a described service (the one ECS is moving towards)."""
    for dep in service.get("deployments") or []:
        if dep.get("status") == "PRIMARY":
            return dep
    return None


def last_completed_revision(service: Dict[str, Any]) -> Optional[str]:
    """The revision the service last completed a deployment on.

    ECS keeps ``rolloutState: COMPLETED`` on a deployment that reached steady state, also once
    it has become ACTIVE behind a newer PRIMARY; that revision is the one to return to, which is
    not necessarily "the previous revision number".  Services without rollout state count as
    completed on their PRIMARY when it is their only deployment.
    """
    deployments = service.get("deployments") or []
    ordered = sorted(deployments, key=lambda d: 0 if d.get("status") == "PRIMARY" else 1)
    for dep in ordered:
        if dep.get("rolloutState") == "COMPLETED":
            return dep.get("taskDefinition")
    if len(deployments) == 1 and not deployments[0].get("rolloutState"):
        return deployments[0].get("taskDefinition")
    return None


def task_of_deployment(task: Dict[str, Any], deployment: Dict[str, Any]) -> bool:
    """True when ECS started ``task`` for ``deployment``.

    ECS sets a service task's ``startedBy`` to the deployment id; when absent, a task of the
    deployment's revision created after the deployment counts as its own.
    """
    started_by = task.get("startedBy")
    if started_by:
        return started_by == deployment.get("id")
    if task.get("taskDefinitionArn") != deployment.get("taskDefinition"):
        return False
    created, since = task.get("createdAt"), deployment.get("createdAt")
    if created is None or since is None:
        return True
    try:
        return created >= since
    except TypeError:
        return True


def task_endpoints(task: Dict[str, Any], container_name: Optional[str], container_port: Optional[int]) -> List[Tuple[Optional[str], Optional[int]]]:
    """``(target id, port)`` pairs under which a load balancer sees this task's container.

    awsvpc tasks register by private IP and container port; bridge/host tasks by instance and
    host port (the instance id is not on the task, so only the port is matched then).
    """
    ips: List[str] = []
    for attachment in task.get("attachments") or []:
        if attachment.get("type") not in ("ElasticNetworkInterface", "eni"):
            continue
        for detail in attachment.get("details") or []:
            if detail.get("name") == "privateIPv4Address" and detail.get("value"):
                ips.append(detail["value"])
    for container in task.get("containers") or []:
        for eni in container.get("networkInterfaces") or []:
            ip = eni.get("privateIpv4Address")
            if ip and ip not in ips:
                ips.append(ip)
    if ips:
        return [(ip, container_port) for ip in ips]
    out: List[Tuple[Optional[str], Optional[int]]] = []
    for container in task.get("containers") or []:
        if container_name and container.get("name") != container_name:
            continue
        for binding in container.get("networkBindings") or []:
            if container_port is None or binding.get("containerPort") == container_port:
                out.append((None, binding.get("hostPort")))
    return out


def _matching_targets(descriptions: List[Dict[str, Any]], endpoints: List[Tuple[Optional[str], Optional[int]]]) -> List[Dict[str, Any]]:
    found = []
    for desc in descriptions:
        target = desc.get("Target") or {}
        for ident, port in endpoints:
            if (ident is None or target.get("Id") == ident) and (port is None or target.get("Port") == port):
                found.append(desc)
                break
    return found


def _best_health(matches: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The health of a task's target when several registrations match its address.

    A stopped task's IP can be handed to a new task while the old registration still drains;
    the draining one is not the new task's.
    """
    states = [m.get("TargetHealth") or {} for m in matches]
    for wanted in ("healthy", None):
        for health in states:
            if health.get("State") != "draining" and (wanted is None or health.get("State") == wanted):
                return health
    return states[0]


def bound_target_groups(service: Optional[Dict[str, Any]]) -> List[str]:
    """The target groups a service's load balancer bindings name: each binding's group and, for ECS-native
    blue/green, canary and linear, its alternate (a task serves from either group of the pair)."""
    groups: List[str] = []
    for binding in (service or {}).get("loadBalancers") or []:
        for arn in (binding.get("targetGroupArn"), (binding.get("advancedConfiguration") or {}).get("alternateTargetGroupArn")):
            if arn and arn not in groups:
                groups.append(arn)
    return groups


def target_states(service: Dict[str, Any], tasks: List[Dict[str, Any]], targets: Dict[str, List[Dict[str, Any]]]) -> List[Dict[str, Any]]:
    """One row per (target group, task): the target's state, or ``unregistered``."""
    rows = []
    for binding in service.get("loadBalancers") or []:
        arn = binding.get("targetGroupArn")
        if not arn:
            continue
        # ECS-native blue/green, canary and linear: a task serves from either group of the pair
        # (after a deployment the new tasks are in the group that was the alternate).
        alternate = (binding.get("advancedConfiguration") or {}).get("alternateTargetGroupArn")
        for task in tasks:
            endpoints = task_endpoints(task, binding.get("containerName"), binding.get("containerPort"))
            group = arn
            matches = _matching_targets(targets.get(arn, []), endpoints)
            if not matches and alternate:
                matches = _matching_targets(targets.get(alternate, []), endpoints)
                group = alternate if matches else arn
            task_id = (task.get("taskArn") or "").rsplit("/", 1)[-1]
            if not matches:
                rows.append({"target_group": arn, "task": task_id, "state": "unregistered", "reason": ""})
            if matches:
                health = _best_health(matches)
                rows.append({"target_group": group, "task": task_id, "state": health.get("State", "unknown"),
                             "reason": health.get("Description") or health.get("Reason") or ""})
    return rows


def is_failed_task(task: Dict[str, Any]) -> bool:
    """Whether a stopped task of a deployment counts as a failure (for ``max_failed_tasks``).

    Failures are what AWS's circuit breaker counts: a task that never started, whose essential
    container exited, or that the scheduler stopped for failing its ELB or container health
    checks.  Scale-in, a user's stop_task or a Spot interruption are not the revision's fault.
    """
    code = task.get("stopCode")
    if code in ("TaskFailedToStart", "EssentialContainerExited"):
        return True
    reason = (task.get("stoppedReason") or "").lower()
    return code == "ServiceSchedulerInitiated" and "health check" in reason


def stop_summary(task: Dict[str, Any]) -> Dict[str, Any]:
    """Why a task stopped, with every container's exit code."""
    return {
        "task": (task.get("taskArn") or "").rsplit("/", 1)[-1],
        "task_arn": task.get("taskArn"),
        "stop_code": task.get("stopCode"),
        "stopped_reason": task.get("stoppedReason"),
        "exit_codes": {c.get("name"): c.get("exitCode") for c in task.get("containers") or []},
        "container_reasons": {c.get("name"): c.get("reason") for c in task.get("containers") or [] if c.get("reason")},
    }


def _short(deployment: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    if not deployment:
        return {}
    return {"id": deployment.get("id"), "status": deployment.get("status"),
            "task_definition": deployment.get("taskDefinition"), "rollout_state": deployment.get("rolloutState"),
            "rollout_state_reason": deployment.get("rolloutStateReason")}


def judge(track: Track, obs: Observation, policy: Policy) -> Judgement:
    """Done, failed or waiting, for the deployment ``track`` follows, given one observation.

    Updates ``track.unhealthy_since`` (the one piece of memory fail-fast on target health
    needs) and, when following "the next PRIMARY", pins ``track.deployment_id`` once seen.
    """
    service = obs.service
    if not service or service.get("status") not in (None, "ACTIVE"):
        status = service.get("status") if service else "missing"
        return Judgement(FAILED, "service %s is %s" % (track.service, status), KIND_MISSING)
    primary = primary_deployment(service)
    if track.deployment_id is None:
        if primary is None or primary.get("id") == track.exclude_deployment:
            return Judgement(WAITING, "waiting for ECS to start the rollback deployment")
        track.deployment_id = primary.get("id")
        track.revision = primary.get("taskDefinition")
    ours = deployment_by_id(service, track.deployment_id)
    if ours is None or ours.get("status") != "PRIMARY":
        return _replaced(track, ours, primary, service)
    summary: Dict[str, Any] = {
        "deployment": ours.get("id"),
        "rollout_state": ours.get("rolloutState"),
        "running": ours.get("runningCount", 0),
        "pending": ours.get("pendingCount", 0),
        "desired": ours.get("desiredCount", service.get("desiredCount", 0)),
        "failed_tasks": max(ours.get("failedTasks") or 0, sum(1 for t in obs.stopped_tasks if is_failed_task(t))),
    }
    if ours.get("rolloutState") == "FAILED":
        return Judgement(FAILED, "deployment %s failed: %s" % (ours.get("id"), ours.get("rolloutStateReason") or "rollout FAILED"),
                         KIND_FAILED, summary)
    if policy.max_failed_tasks and summary["failed_tasks"] >= policy.max_failed_tasks:
        return Judgement(FAILED, "%d task(s) of deployment %s stopped (max_failed_tasks=%d)" % (
            summary["failed_tasks"], ours.get("id"), policy.max_failed_tasks), KIND_FAIL_FAST, summary)

    rows = target_states(service, obs.running_tasks, obs.targets)
    summary["targets"] = len(rows)
    summary["healthy_targets"] = sum(1 for r in rows if r["state"] == "healthy")
    unhealthy = _unhealthy_too_long(track, rows, obs.at, policy)
    if unhealthy:
        return Judgement(FAILED, unhealthy, KIND_UNHEALTHY, summary)

    waiting = []
    rollout = ours.get("rolloutState")
    if rollout and rollout != "COMPLETED":
        waiting.append("rollout %s" % rollout)
    desired = summary["desired"]
    if summary["running"] != desired or service.get("runningCount", summary["running"]) < desired:
        waiting.append("%d/%d tasks running" % (summary["running"], desired))
    others = [d for d in service.get("deployments") or [] if d.get("id") != ours.get("id")]
    if not rollout and others:
        waiting.append("%d older deployment(s) still present" % len(others))
    elif policy.wait_for_drain and any((d.get("runningCount") or 0) + (d.get("pendingCount") or 0) > 0 for d in others):
        waiting.append("old tasks draining")
    if rows and summary["healthy_targets"] < len(rows):
        waiting.append("%d/%d targets healthy" % (summary["healthy_targets"], len(rows)))
    elif not rows and service.get("loadBalancers") and desired:
        waiting.append("no targets registered yet")
    if waiting:
        return Judgement(WAITING, ", ".join(waiting), "", summary)
    return Judgement(DONE, "deployment %s completed on %s" % (ours.get("id"), ours.get("taskDefinition")), KIND_COMPLETED, summary)


def _replaced(track: Track, ours: Optional[Dict[str, Any]], primary: Optional[Dict[str, Any]],
              service: Dict[str, Any]) -> Judgement:
    successor = _short(primary)
    target = primary.get("taskDefinition") if primary else None
    # With no completed deployment to return to, ECS starts no rollback: a new PRIMARY is someone else's.
    if track.ecs_can_roll_back and _failed_by_ecs(track, ours, primary, service) and target and target != track.revision:
        reason = (ours or {}).get("rolloutStateReason") or "ECS reported the deployment failed"
        return Judgement(FAILED, "deployment %s failed and ECS rolled back to %s: %s" % (
            track.deployment_id, target, reason), KIND_ECS_ROLLBACK, successor=successor)
    return Judgement(FAILED, "deployment %s is no longer PRIMARY: replaced by %s on %s" % (
        track.deployment_id, successor.get("id"), target), KIND_REPLACED, successor=successor)


def _failed_by_ecs(track: Track, ours: Optional[Dict[str, Any]], primary: Optional[Dict[str, Any]],
                   service: Dict[str, Any]) -> bool:
    """Whether ECS itself (the circuit breaker) ended our deployment.

    Once ECS's rollback deployment completes, the failed deployment disappears from the
    service, so its FAILED rollout state is no longer there to read; the service events ECS
    wrote about it ("(deployment <id>) deployment failed") and the rollback deployment's
    reason still say what happened.
    """
    if ours is not None and ours.get("rolloutState") == "FAILED":
        return True
    for event in service.get("events") or []:
        message = event.get("message") or ""
        if track.deployment_id and track.deployment_id in message and "deployment failed" in message:
            return True
    reason = (primary or {}).get("rolloutStateReason") or ""
    return "circuit breaker" in reason and "rolling back" in reason


def _unhealthy_too_long(track: Track, rows: List[Dict[str, Any]], now: float, policy: Policy) -> str:
    seen = set()
    worst = ""
    for row in rows:
        key = "%s|%s" % (row["target_group"], row["task"])
        if row["state"] != "unhealthy":
            continue
        seen.add(key)
        since = track.unhealthy_since.setdefault(key, now)
        if policy.unhealthy_timeout and now - since >= policy.unhealthy_timeout and not worst:
            worst = "target of task %s unhealthy for %.0fs in %s: %s (unhealthy_timeout=%s)" % (
                row["task"], now - since, row["target_group"].rsplit(":", 1)[-1], row["reason"], policy.unhealthy_timeout)
    for key in list(track.unhealthy_since):
        if key not in seen:
            del track.unhealthy_since[key]
    return worst
