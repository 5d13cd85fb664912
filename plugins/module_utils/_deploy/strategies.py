# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""Release strategies: how the update of one service is followed, judged and rolled back.

The runner picks a strategy per service from what ``DescribeServices`` reports
(``deploymentConfiguration.strategy``): ``ROLLING`` (or none) is today's watcher of deployments,
tasks and targets; ``BLUE_GREEN``, ``CANARY`` and ``LINEAR`` are ECS-native deployments, followed
through the ServiceDeployment their ``UpdateService`` started (its ``lifecycleStage`` and
``status``), with PAUSE lifecycle hooks answered by our own checks on test traffic.

Success of an ECS-native deployment is: its ServiceDeployment SUCCESSFUL, each production
listener rule (``advancedConfiguration.productionListenerRule``) forwarding 100 % to one target
group, whose registered targets are the new revision's running tasks, all healthy.  Anything
else (STOPPED, ROLLBACK_*, replaced, timed out) is a failure, never a success.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.api import EcsApi

from .checks import TrafficChecker
from .progress import Progress
from .readiness import (
    DONE,
    FAILED,
    KIND_ECS_ROLLBACK,
    KIND_REPLACED,
    KIND_TIMEOUT,
    WAITING,
    Judgement,
    Track,
    primary_deployment,
    task_endpoints,
)
from .watcher import Timeline

Key = Tuple[str, str]

ROLLING = "ROLLING"
NATIVE_STRATEGIES = ("BLUE_GREEN", "CANARY", "LINEAR")
# A verdict that is neither done nor failed: the deployment waits in test traffic on purpose.
HELD = "held"
KIND_HELD = "held_in_test_traffic"
KIND_CHECK_FAILED = "test_traffic_check_failed"
KIND_TRAFFIC = "production_traffic_not_verified"
KIND_STOPPED = "deployment_stopped"

TEST_STAGE = "POST_TEST_TRAFFIC_SHIFT"
# Where canary and linear steps pause: the ECS developer guide (DeploymentLifecycleHook) invokes
# PRE_PRODUCTION_TRAFFIC_SHIFT before every traffic shift step of a linear or canary deployment;
# POST_PRODUCTION_TRAFFIC_SHIFT follows the last one.  PAUSE hooks are not allowed at
# TEST_TRAFFIC_SHIFT or PRODUCTION_TRAFFIC_SHIFT.
STEP_STAGES = ("PRE_PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT")
IN_PROGRESS = ("PENDING", "IN_PROGRESS")
ROLLING_BACK = ("ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS", "STOP_REQUESTED")
ENDED_BADLY = ("STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED")
BACKOFF = 1.25


def strategy_of(service: Optional[Dict[str, Any]]) -> str:
    """``ROLLING``, ``BLUE_GREEN``, ``CANARY`` or ``LINEAR`` as DescribeServices reports it."""
    return str(((service or {}).get("deploymentConfiguration") or {}).get("strategy") or ROLLING).upper()


def pause_hooks(service: Optional[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The service's lifecycle hooks of target type PAUSE."""
    hooks = ((service or {}).get("deploymentConfiguration") or {}).get("lifecycleHooks") or []
    return [h for h in hooks if h.get("targetType") == "PAUSE"]


def listener_of_rule(rule_arn: str) -> str:
    """``...:listener-rule/app/lb/1/l1/r1`` -> ``...:listener/app/lb/1/l1`` (the ELBv2 ARN format)."""
    if ":listener-rule/" not in rule_arn:
        return rule_arn
    head, tail = rule_arn.split(":listener-rule/", 1)
    return "%s:listener/%s" % (head, tail.rsplit("/", 1)[0])


def forward_weights(rule: Dict[str, Any]) -> Dict[str, int]:
    """Target group ARN -> weight of a rule's forward action (a plain forward is weight 1 of 1)."""
    for action in rule.get("Actions") or []:
        if action.get("Type") != "forward":
            continue
        groups = ((action.get("ForwardConfig") or {}).get("TargetGroups")) or []
        if groups:
            return {g["TargetGroupArn"]: int(g.get("Weight", 1)) for g in groups}
        if action.get("TargetGroupArn"):
            return {action["TargetGroupArn"]: 1}
    return {}


@dataclass
class NativeTrack:
    """One ECS-native deployment followed: the track and its ServiceDeployment."""

    track: Track
    arn: str
    test_traffic: Optional[Dict[str, Any]] = None
    stage: Optional[str] = None
    status: Optional[str] = None
    answered_hooks: Dict[str, str] = field(default_factory=dict)
    check_failure: Optional[str] = None
    last: Optional[Dict[str, Any]] = None
    # stage changes seen, oldest first
    stages: List[str] = field(default_factory=list)


class ReleaseStrategy(ABC):
    """How a service's update is followed, judged and rolled back."""

    name = ""

    @abstractmethod
    def follow(self, tracks: List[Track], stop_on_first_failure: bool = False) -> Dict[Key, Judgement]:
        """Follow the deployments of ``tracks`` until each is done, failed (or held)."""

    @abstractmethod
    def roll_back(self, plans: List[Any], verdicts: Dict[Key, Judgement]) -> Dict[Key, str]:
        """Return the services of ``plans`` to where they were; one note per service."""


class RollingStrategy(ReleaseStrategy):
    """Today's rolling update: the runner's watcher and its rollback (unchanged)."""

    name = "rolling"

    def __init__(self, runner: Any) -> None:
        self.runner = runner

    def follow(self, tracks: List[Track], stop_on_first_failure: bool = False) -> Dict[Key, Judgement]:
        return self.runner._watcher().watch(tracks, stop_on_first_failure=stop_on_first_failure)

    def roll_back(self, plans: List[Any], verdicts: Dict[Key, Judgement]) -> Dict[Key, str]:
        return self.runner.roll_back_rolling(plans, verdicts)


class EcsNativeStrategy(ReleaseStrategy):
    """BLUE_GREEN, CANARY and LINEAR: ECS moves the traffic; we follow, gate and judge."""

    name = "ecs_native"

    def __init__(self, ecs: EcsApi, elbv2: Any, timeline: Timeline, progress: Optional[Progress] = None,
                 timeout: float = 900.0, interval: float = 5.0, max_interval: float = 15.0,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 checker: Optional[TrafficChecker] = None, rollback: bool = True) -> None:
        self.ecs = ecs
        self.elbv2 = elbv2
        self.timeline = timeline
        self.progress = progress
        self.timeout = timeout
        self.interval = interval
        self.max_interval = max(interval, max_interval)
        self.clock = clock
        self.sleep = sleep
        self.checker = checker or TrafficChecker(sleep=sleep)
        self.rollback = rollback
        self.followed: Dict[Key, NativeTrack] = {}
        self.last_judgements: Dict[Key, Judgement] = {}
        self.last_tasks: Dict[Key, List[Dict[str, Any]]] = {}

    # starting -------------------------------------------------------------------------------
    def in_progress(self, cluster: str, service: str) -> List[str]:
        """ARNs of the service's deployments in progress (read before the update)."""
        return [d["serviceDeploymentArn"] for d in self.ecs.list_service_deployments(
            cluster, service, status=list(IN_PROGRESS))]

    def started(self, track: Track, before: List[str], test_traffic: Optional[Dict[str, Any]]) -> NativeTrack:
        """The ServiceDeployment the update of ``track`` started: the in-progress one that was not there before."""
        new = [d for d in self.ecs.list_service_deployments(track.cluster, track.service, status=list(IN_PROGRESS))
               if d["serviceDeploymentArn"] not in before]
        if not new:
            raise LookupError("update_service on %s started no service deployment that ListServiceDeployments shows"
                              % track.service)
        newest = sorted(new, key=lambda d: str(d.get("createdAt") or ""))[-1]
        native = NativeTrack(track, newest["serviceDeploymentArn"], test_traffic)
        self.followed[track.key] = native
        self.timeline.add(track.service, "service_deployment", newest["serviceDeploymentArn"],
                          deployment=track.deployment_id)
        return native

    # following ------------------------------------------------------------------------------
    def follow(self, tracks: List[Track], stop_on_first_failure: bool = False) -> Dict[Key, Judgement]:
        open_tracks = {t.key: self.followed[t.key] for t in tracks}
        verdicts: Dict[Key, Judgement] = {}
        start = self.clock()
        wait = self.interval
        while open_tracks:
            described = {d["serviceDeploymentArn"]: d for d in self.ecs.describe_service_deployments(
                [n.arn for n in open_tracks.values()])}
            services = self._describe_services(list(open_tracks))
            for key, native in list(open_tracks.items()):
                verdict = self._judge(native, described.get(native.arn), services.get(key))
                self.last_judgements[key] = verdict
                if verdict.status != WAITING:
                    verdicts[key] = verdict
                    del open_tracks[key]
                    self.timeline.add(native.track.service, "%s_%s" % (native.track.purpose, verdict.status), verdict.reason,
                                      deployment=native.arn)
            if not open_tracks or (stop_on_first_failure and any(v.status == FAILED for v in verdicts.values())):
                break
            if self.clock() - start >= self.timeout:
                break
            self.sleep(wait)
            wait = min(wait * BACKOFF, self.max_interval)
        for key, native in open_tracks.items():
            if stop_on_first_failure and any(v.status == FAILED for v in verdicts.values()):
                verdicts[key] = Judgement(WAITING, "not awaited: another service of the release failed")
                continue
            reason = "timed out after %.0fs waiting for service deployment %s of %s (stage %s, status %s)" % (
                self.timeout, native.arn, native.track.service, native.stage, native.status)
            verdicts[key] = Judgement(FAILED, reason, KIND_TIMEOUT, self._summary(native))
            self.timeline.add(native.track.service, "%s_timeout" % native.track.purpose, reason, deployment=native.arn)
        return verdicts

    def _describe_services(self, keys: List[Key]) -> Dict[Key, Dict[str, Any]]:
        out: Dict[Key, Dict[str, Any]] = {}
        by_cluster: Dict[str, List[str]] = {}
        for cluster, name in keys:
            by_cluster.setdefault(cluster, []).append(name)
        for cluster, names in by_cluster.items():
            for svc in self.ecs.describe_services(cluster, names)["services"]:
                out[(cluster, svc.get("serviceName"))] = svc
        return out

    def _summary(self, native: NativeTrack) -> Dict[str, Any]:
        target = (native.last or {}).get("targetServiceRevision") or {}
        return {"service_deployment": native.arn, "stage": native.stage, "status": native.status,
                "stages": list(native.stages), "running": target.get("runningTaskCount"),
                "desired": target.get("requestedTaskCount")}

    def _note_stage(self, native: NativeTrack, sd: Dict[str, Any], service: Optional[Dict[str, Any]]) -> None:
        stage, status = sd.get("lifecycleStage"), sd.get("status")
        if stage != native.stage or status != native.status:
            if stage != native.stage and stage:
                native.stages.append(stage)
            native.stage, native.status = stage, status
            note = "stage %s, status %s" % (stage or "-", status or "-")
            self.timeline.add(native.track.service, "stage", note, stage=stage, status=status, deployment=native.arn)
            if self.progress is not None:
                summary = self._summary(native)
                self.progress.add({
                    "t": round(self.clock() - self.timeline.start, 3), "service": native.track.service,
                    "purpose": native.track.purpose, "status": WAITING, "rollout": status, "stage": stage,
                    "deployment": native.arn, "running": summary.get("running"), "desired": summary.get("desired"),
                })

    def _judge(self, native: NativeTrack, sd: Optional[Dict[str, Any]], service: Optional[Dict[str, Any]]) -> Judgement:
        track = native.track
        if sd is None:
            return Judgement(WAITING, "service deployment %s not described yet" % native.arn)
        native.last = sd
        self._note_stage(native, sd, service)
        status = sd.get("status")
        primary = primary_deployment(service or {}) or {}
        if primary and track.revision and primary.get("taskDefinition") not in (track.revision, None) \
                and status not in ROLLING_BACK + ENDED_BADLY and status != "SUCCESSFUL" \
                and primary.get("id") != track.deployment_id and (track.previous_revision is None
                                                                  or primary.get("taskDefinition") != track.previous_revision):
            return Judgement(FAILED, "replaced by deployment %s of %s" % (primary.get("id"), primary.get("taskDefinition")),
                             KIND_REPLACED, self._summary(native))
        if status == "SUCCESSFUL":
            if native.check_failure:
                return Judgement(FAILED, native.check_failure, KIND_CHECK_FAILED, self._summary(native))
            return self._verify_production(native, service or {})
        if status in ENDED_BADLY:
            reason = "service deployment %s at stage %s" % (status, native.stages[-1] if native.stages else "-")
            if sd.get("statusReason"):
                reason += ": %s" % sd["statusReason"]
            if native.check_failure:
                reason = "%s; %s" % (native.check_failure, reason)
            kind = KIND_CHECK_FAILED if native.check_failure else (KIND_STOPPED if status == "STOPPED" else KIND_ECS_ROLLBACK)
            return Judgement(FAILED, reason, kind, self._summary(native))
        if status in ROLLING_BACK:
            return Judgement(WAITING, "ECS is rolling back (%s)" % status, summary=self._summary(native))
        for hook in sd.get("lifecycleHookDetails") or []:
            if hook.get("targetType") != "PAUSE" or hook.get("status") != "AWAITING_ACTION":
                continue
            if hook.get("hookId") in native.answered_hooks:
                continue
            verdict = self._answer(native, sd, hook, service or {})
            if verdict is not None:
                return verdict
        return Judgement(WAITING, "stage %s, status %s" % (native.stage, status), summary=self._summary(native))

    # PAUSE hooks ----------------------------------------------------------------------------
    def _answer(self, native: NativeTrack, sd: Dict[str, Any], hook: Dict[str, Any],
                service: Dict[str, Any]) -> Optional[Judgement]:
        """Run the checks for a waiting PAUSE hook, then continue, roll back or hold."""
        traffic = native.test_traffic or {}
        stage = sd.get("lifecycleStage")
        service_name = native.track.service
        checked = stage == TEST_STAGE or (traffic.get("pause_after_steps") and stage in STEP_STAGES)
        failure = None
        if checked:
            failure = self._check(native, traffic, service)
            self.timeline.add(service_name, "test_traffic_checks", failure or "passed", stage=stage, hook=hook.get("hookId"))
        if failure:
            native.check_failure = "test traffic check failed at %s: %s" % (stage, failure)
            self.ecs.continue_service_deployment(native.arn, hook["hookId"], "ROLLBACK")
            native.answered_hooks[hook["hookId"]] = "ROLLBACK"
            self.timeline.add(service_name, "hook_rollback", native.check_failure, hook=hook.get("hookId"))
            return None
        if checked and stage == TEST_STAGE and traffic.get("hold"):
            native.answered_hooks[hook["hookId"]] = "HOLD"
            reason = ("held in test traffic at %s (hook %s, expires %s, then %s): production traffic has not moved; "
                      "run playbooks/switch.yml -e service=%s -e to=production (or to=rollback)"
                      % (stage, hook.get("hookId"), hook.get("expiresAt"), hook.get("timeoutAction"), service_name))
            return Judgement(HELD, reason, KIND_HELD, self._summary(native))
        self.ecs.continue_service_deployment(native.arn, hook["hookId"], "CONTINUE")
        native.answered_hooks[hook["hookId"]] = "CONTINUE"
        note = "checks passed" if checked else "no checks for stage %s (pause_after_steps is false): continued" % stage
        self.timeline.add(service_name, "hook_continue", note, stage=stage, hook=hook.get("hookId"))
        return None

    def _check(self, native: NativeTrack, traffic: Dict[str, Any], service: Dict[str, Any]) -> Optional[str]:
        if traffic.get("reachable", True):
            return self.checker.run(traffic.get("url") or "", traffic.get("headers") or {}, traffic.get("checks") or [])
        return self._green_health(native, service)

    # judging ---------------------------------------------------------------------------------
    def _green_tasks(self, native: NativeTrack) -> List[Dict[str, Any]]:
        track = native.track
        arns = self.ecs.list_tasks(track.cluster, serviceName=track.service)
        tasks = self.ecs.describe_tasks(track.cluster, arns) if arns else []
        green = [t for t in tasks if t.get("taskDefinitionArn") == track.revision and t.get("lastStatus") == "RUNNING"]
        self.last_tasks[track.key] = green
        return green

    def _groups_of(self, service: Dict[str, Any]) -> List[Tuple[Dict[str, Any], List[str]]]:
        """Each load balancer binding with its pair of target groups (primary, alternate)."""
        out = []
        for binding in service.get("loadBalancers") or []:
            advanced = binding.get("advancedConfiguration") or {}
            groups = [g for g in (binding.get("targetGroupArn"), advanced.get("alternateTargetGroupArn")) if g]
            out.append((binding, groups))
        return out

    def _green_rows(self, binding: Dict[str, Any], group: str, green: List[Dict[str, Any]],
                    health: List[Dict[str, Any]]) -> Tuple[int, int, int]:
        """(green tasks registered healthy, green tasks, targets in the group)."""
        healthy = 0
        for task in green:
            endpoints = task_endpoints(task, binding.get("containerName"), binding.get("containerPort"))
            for desc in health:
                target = desc.get("Target") or {}
                if any((i is None or target.get("Id") == i) and (p is None or target.get("Port") == p) for i, p in endpoints):
                    if (desc.get("TargetHealth") or {}).get("State") == "healthy":
                        healthy += 1
                    break
        return healthy, len(green), len(health)

    def _green_health(self, native: NativeTrack, service: Dict[str, Any]) -> Optional[str]:
        """reachable: false - every green task healthy in a target group of its pair."""
        green = self._green_tasks(native)
        if not green:
            return "no running task of %s" % native.track.revision
        for binding, groups in self._groups_of(service):
            best = (0, len(green), 0)
            for group in groups:
                rows = self._green_rows(binding, group, green, self.elbv2.describe_target_health(group))
                best = max(best, rows)
            if best[0] < len(green):
                return "%d of %d green tasks healthy in target groups %s" % (best[0], len(green), ", ".join(groups))
        return None

    def _verify_production(self, native: NativeTrack, service: Dict[str, Any]) -> Judgement:
        """SUCCESSFUL: the production rule forwards 100 % to the group of the new revision's healthy tasks."""
        summary = self._summary(native)
        green = self._green_tasks(native)
        if not green:
            return Judgement(FAILED, "service deployment SUCCESSFUL but no running task of %s" % native.track.revision,
                             KIND_TRAFFIC, summary)
        rules_by_listener: Dict[str, List[Dict[str, Any]]] = {}
        for binding, groups in self._groups_of(service):
            rule_arn = (binding.get("advancedConfiguration") or {}).get("productionListenerRule")
            if not rule_arn:
                continue
            listener = listener_of_rule(rule_arn)
            if listener not in rules_by_listener:
                rules_by_listener[listener] = self.elbv2.describe_rules(listener)
            rule = next((r for r in rules_by_listener[listener] if r.get("RuleArn") == rule_arn), None)
            if rule is None:
                return Judgement(FAILED, "production listener rule %s not found" % rule_arn, KIND_TRAFFIC, summary)
            weights = forward_weights(rule)
            serving = [g for g, w in weights.items() if w > 0]
            if len(serving) != 1:
                return Judgement(FAILED, "production rule %s still splits traffic: %s" % (
                    rule_arn, ", ".join("%s=%s" % (g.rsplit("/", 2)[-2], w) for g, w in sorted(weights.items()))),
                    KIND_TRAFFIC, summary)
            health = self.elbv2.describe_target_health(serving[0])
            healthy, wanted, registered = self._green_rows(binding, serving[0], green, health)
            summary.update(healthy_targets=healthy, targets=registered, production_target_group=serving[0])
            if healthy < wanted or registered != wanted:
                return Judgement(FAILED, "production rule forwards 100%% to %s, where %d of %d tasks of %s are healthy "
                                 "among %d targets" % (serving[0], healthy, wanted, native.track.revision, registered),
                                 KIND_TRAFFIC, summary)
        return Judgement(DONE, "service deployment SUCCESSFUL; production traffic 100%% on %s, %d tasks healthy" % (
            native.track.revision, len(green)), "completed", summary)

    # rollback -------------------------------------------------------------------------------
    def roll_back(self, plans: List[Any], verdicts: Dict[Key, Judgement]) -> Dict[Key, str]:
        """ECS rolls a failed deployment back itself; one still in progress is stopped with ROLLBACK."""
        notes: Dict[Key, str] = {}
        to_follow: List[Track] = []
        for sp in plans:
            key = sp.request.key
            native = self.followed.get(key)
            verdict = verdicts.get(key)
            if native is None:
                continue
            if native.status == "ROLLBACK_SUCCESSFUL":
                notes[key] = "rolled back by ECS (service deployment %s ROLLBACK_SUCCESSFUL)" % native.arn
            elif native.status == "ROLLBACK_FAILED":
                notes[key] = "ECS's rollback failed (service deployment %s ROLLBACK_FAILED)" % native.arn
            elif native.status == "STOPPED":
                notes[key] = "not rolled back: service deployment %s was stopped" % native.arn
            elif verdict is not None and verdict.kind == KIND_REPLACED:
                notes[key] = "not rolled back: another deployment replaced it"
            elif native.status in IN_PROGRESS:
                self.ecs.stop_service_deployment(native.arn, "ROLLBACK")
                self.timeline.add(sp.name, "rollback_requested", "stop_service_deployment ROLLBACK", deployment=native.arn)
                native.track = Track(native.track.cluster, native.track.service, native.track.previous_revision,
                                     native.track.deployment_id, None, "rollback")
                to_follow.append(native.track)
            elif native.status != "SUCCESSFUL":
                notes[key] = "not rolled back: service deployment %s is %s" % (native.arn, native.status)
        if to_follow:
            followed = self.follow(to_follow)
            for track in to_follow:
                native = self.followed[track.key]
                notes[track.key] = ("rolled back by ECS (service deployment %s %s)" % (native.arn, native.status)
                                    if native.status == "ROLLBACK_SUCCESSFUL" else
                                    "rollback did not complete: %s" % followed[track.key].reason)
        return notes
