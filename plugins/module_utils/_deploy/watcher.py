# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""One watcher for every service of a release.

Each poll describes all followed services together (ten per ``describe_services`` call),
lists the tasks of each, describes them in batches, and reads the health of every target group
once; then :func:`readiness.judge` decides per service.  Polling backs off up to a cap;
throttling is absorbed by the API wrappers' retries.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import read_each
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.waiter import Verdict, Waiter
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.api import EcsApi

from .progress import Progress
from .readiness import (
    DONE,
    FAILED,
    KIND_TIMEOUT,
    WAITING,
    Judgement,
    Observation,
    Policy,
    Track,
    bound_target_groups,
    deployment_by_id,
    judge,
    primary_deployment,
    task_of_deployment,
)
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.api import Elbv2Api

Key = Tuple[str, str]
# Each look waits a quarter longer than the last, up to the cap: gentle on the API during long
# rollouts while a completion or failure is still seen within one (capped) interval.
BACKOFF = 1.25


class Timeline:
    """What happened when, relative to the start of the release."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.start = clock()
        self.events: List[Dict[str, Any]] = []

    def add(self, service: Optional[str], event: str, note: str = "", **extra: Any) -> None:
        """Record one event (``service`` None for release-wide events)."""
        entry: Dict[str, Any] = {"t": round(self.clock() - self.start, 3), "event": event}
        if service:
            entry["service"] = service
        if note:
            entry["note"] = note
        entry.update({k: v for k, v in extra.items() if v is not None})
        self.events.append(entry)


class Observer:
    """Reads the state of several services (and their deployments' tasks and targets) at once."""

    def __init__(self, ecs: EcsApi, elbv2: Optional[Elbv2Api], clock: Callable[[], float] = time.monotonic,
                 look_at_stopped: bool = True) -> None:
        self.ecs = ecs
        self.elbv2 = elbv2
        self.clock = clock
        self.look_at_stopped = look_at_stopped

    def target_health(self, services: List[Optional[Dict[str, Any]]]) -> Dict[str, List[Dict[str, Any]]]:
        """Target group ARN -> its targets' health descriptions, read now, for every target group these (described)
        services are bound to."""
        if self.elbv2 is None:
            return {}
        groups = sorted({arn for svc in services for arn in bound_target_groups(svc)})
        return dict(zip(groups, read_each(self.elbv2.describe_target_health, groups)))

    def describe(self, keys: List[Key]) -> Dict[Key, Optional[Dict[str, Any]]]:
        """Described services by (cluster, name); None for a service ECS does not know."""
        out: Dict[Key, Optional[Dict[str, Any]]] = {k: None for k in keys}
        by_cluster: Dict[str, List[str]] = {}
        for cluster, name in keys:
            by_cluster.setdefault(cluster, []).append(name)
        for cluster, names in by_cluster.items():
            found = self.ecs.describe_services(cluster, names)["services"]
            for svc in found:
                for name in names:
                    if svc.get("serviceName") == name or svc.get("serviceArn") == name:
                        out[(cluster, name)] = svc
        return out

    def _tasks(self, tracks: List[Track], services: Dict[Key, Optional[Dict[str, Any]]], look_at_stopped: bool
               ) -> Tuple[Dict[Key, Tuple[List[str], List[str]]], Dict[str, Dict[str, Any]]]:
        """The running and stopped task ARNs of each (described) track's service, and those tasks described.

        Running tasks matter only to find their targets: a service without a load balancer is judged on its
        deployment's counts alone. Where two tracks or more of one cluster need a list, the cluster's tasks are listed
        once, when they fit in one page (the cluster of one application), and told apart by their group
        (``service:<name>``, as ECS sets it); otherwise each service's tasks are listed, several at once."""
        wants = [(track, status) for track in tracks for status in ("RUNNING", "STOPPED")
                 if (services[track.key].get("loadBalancers") if status == "RUNNING" else look_at_stopped)]  # type: ignore[union-attr]
        # ListTasks lists RUNNING tasks unless asked for another desired status.
        desired = {"RUNNING": None, "STOPPED": "STOPPED"}
        whole: Dict[Tuple[str, str], List[str]] = {}
        for cluster, status in sorted({(track.cluster, status) for track, status in wants}):
            if sum(1 for track, s in wants if (track.cluster, s) == (cluster, status)) > 1:
                arns = self.ecs.list_cluster_tasks(cluster, desired[status])
                if arns is not None:
                    whole[(cluster, status)] = arns
        alone = [(track, status) for track, status in wants if (track.cluster, status) not in whole]
        listed_alone = read_each(lambda want: self.ecs.list_tasks(want[0].cluster, desired[want[1]], serviceName=want[0].service),
                                 alone)
        arns_of: Dict[Tuple[Key, str], List[str]] = {(track.key, status): arns for (track, status), arns in zip(alone, listed_alone)}
        arns_by_cluster: Dict[str, List[str]] = {}
        for (cluster, _status), arns in whole.items():
            arns_by_cluster.setdefault(cluster, []).extend(arns)
        for (track, _status), arns in zip(alone, listed_alone):
            arns_by_cluster.setdefault(track.cluster, []).extend(arns)
        tasks: Dict[str, Dict[str, Any]] = {}
        for cluster, arns in arns_by_cluster.items():
            if arns:
                for task in self.ecs.describe_tasks(cluster, sorted(set(arns))):
                    tasks[task.get("taskArn")] = task
        # A cluster listed whole: each service's tasks by their group.
        for track, status in wants:
            if (track.cluster, status) in whole:
                group = "service:%s" % services[track.key]["serviceName"]  # type: ignore[index]
                arns_of[(track.key, status)] = [a for a in whole[(track.cluster, status)] if tasks.get(a, {}).get("group") == group]
        listed = {track.key: (arns_of.get((track.key, "RUNNING"), []), arns_of.get((track.key, "STOPPED"), [])) for track in tracks}
        return listed, tasks

    def observe(self, tracks: List[Track], stopped: Optional[bool] = None) -> Dict[Key, Observation]:
        """One observation per track, all services read together; the stopped tasks too when ``stopped`` (default: the
        observer's ``look_at_stopped``)."""
        look_at_stopped = self.look_at_stopped if stopped is None else stopped
        services = self.describe([t.key for t in tracks])
        now = self.clock()
        known = [track for track in tracks if services.get(track.key)]
        listed, tasks = self._tasks(known, services, look_at_stopped)
        health = self.target_health([services.get(track.key) for track in tracks])
        out: Dict[Key, Observation] = {}
        for track in tracks:
            svc = services.get(track.key)
            obs = Observation(service=svc, at=now)
            if svc:
                dep = deployment_by_id(svc, track.deployment_id) if track.deployment_id else primary_deployment(svc)
                running, gone = listed.get(track.key, ([], []))
                if dep:
                    obs.running_tasks = [tasks[a] for a in running if a in tasks and task_of_deployment(tasks[a], dep)
                                         and tasks[a].get("desiredStatus", "RUNNING") == "RUNNING"]
                elif track.deployment_id:
                    # Once ECS's circuit breaker has rolled our deployment back, the deployment is gone
                    # from the service, but its stopped tasks (why it failed) are still listed.
                    dep = {"id": track.deployment_id, "taskDefinition": track.revision}
                if dep:
                    obs.stopped_tasks = [tasks[a] for a in gone if a in tasks and task_of_deployment(tasks[a], dep)]
                obs.targets = {arn: health.get(arn, []) for arn in bound_target_groups(svc)}
            out[track.key] = obs
        return out


class RolloutWatcher:
    """Follow several deployments at once until each is done or failed, or time runs out."""

    def __init__(
        self,
        observer: Observer,
        policy: Policy,
        timeline: Timeline,
        timeout: float = 600.0,
        interval: float = 5.0,
        max_interval: float = 15.0,
        backoff: float = BACKOFF,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        progress: Optional[Progress] = None,
    ) -> None:
        self.progress = progress
        self.observer = observer
        self.policy = policy
        self.timeline = timeline
        self.timeout = timeout
        self.interval = interval
        self.max_interval = max(max_interval, interval)
        self.backoff = backoff
        self.clock = clock
        self.sleep = sleep
        self.polls = 0
        self.last_observations: Dict[Key, Observation] = {}
        self.last_judgements: Dict[Key, Judgement] = {}

    def watch(self, tracks: List[Track], stop_on_first_failure: bool = False) -> Dict[Key, Judgement]:
        """Poll until every track is done or failed; a track still open at the timeout fails.

        With ``stop_on_first_failure`` the watch ends as soon as one track fails (the whole
        release is rolled back then, so waiting for the others is wasted time).
        """
        verdicts: Dict[Key, Judgement] = {}
        last: Dict[Key, Judgement] = {}
        open_tracks = {t.key: t for t in tracks}

        def describe() -> Dict[Key, Observation]:
            self.polls += 1
            observations = self.observer.observe(list(open_tracks.values()))
            self.last_observations.update(observations)
            return observations

        def predicate(observations: Dict[Key, Observation]) -> Verdict:
            for key, obs in observations.items():
                track = open_tracks[key]
                verdict = judge(track, obs, self.policy)
                previous = last.get(key)
                if previous is None or previous.reason != verdict.reason or previous.status != verdict.status:
                    self.timeline.add(track.service, "%s_%s" % (track.purpose, verdict.status), verdict.reason,
                                      deployment=track.deployment_id)
                last[key] = verdict
                self.last_judgements[key] = verdict
                if self.progress is not None:
                    self.progress.rollout(self.clock() - self.timeline.start, track.service, track.purpose,
                                          verdict.summary, verdict.status, obs.service)
                if verdict.status in (DONE, FAILED):
                    verdicts[key] = verdict
                    del open_tracks[key]
            if not open_tracks:
                return Verdict.done()
            if stop_on_first_failure and any(v.status == FAILED for v in verdicts.values()):
                return Verdict.done()
            return Verdict.waiting("; ".join("%s: %s" % (k[1], last[k].reason) for k in open_tracks if k in last))

        if tracks:
            waiter = Waiter(timeout=self.timeout, interval=self.interval, max_interval=self.max_interval,
                            backoff=self.backoff, clock=self.clock, sleep=self.sleep)
            waiter.wait(describe, predicate, what="deployments", raise_on_timeout=False)
        for key, track in open_tracks.items():
            seen = last.get(key)
            note = seen.reason if seen else "no observation"
            verdict = Judgement(FAILED, "timed out after %.0fs waiting for deployment %s of %s: %s" % (
                self.timeout, track.deployment_id, track.service, note), KIND_TIMEOUT, seen.summary if seen else {})
            if stop_on_first_failure and any(v.status == FAILED for v in verdicts.values()):
                verdict = Judgement(WAITING, "not awaited: another service of the release failed", "", verdict.summary)
            else:
                self.timeline.add(track.service, "%s_timeout" % track.purpose, verdict.reason)
            verdicts[key] = verdict
        return verdicts
