# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""Seed 004's switch by hand: move a held ECS-native deployment to production, or send it back.

The deployment waits at a PAUSE lifecycle hook (``AWAITING_ACTION``).  ``to: production``
answers it with ContinueServiceDeployment ``CONTINUE`` and follows the deployment to SUCCESSFUL,
judged like a release (production rule 100 % on the new revision's healthy tasks).
``to: rollback`` answers ``ROLLBACK``, or, with no hook waiting but the deployment still in
progress (its bake time), StopServiceDeployment ``ROLLBACK``; either is followed to
ROLLBACK_SUCCESSFUL.  Nothing in progress: no change, and the result says so.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Dict

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import combined_calls
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.result import Action, Plan, Result
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.api import EcsApi
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.api import Elbv2Api

from .errors import DeployError
from .readiness import DONE, Track, primary_deployment
from .strategies import IN_PROGRESS, NATIVE_STRATEGIES, EcsNativeStrategy, NativeTrack, strategy_of
from .watcher import Timeline

TO = ("production", "rollback")


class TrafficSwitch:
    """One switch of one service."""

    def __init__(self, ecs: EcsApi, elbv2: Any, timeout: float = 900.0, interval: float = 5.0,
                 max_interval: float = 15.0, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.ecs = ecs
        self.elbv2 = elbv2
        self.timeline = Timeline(clock)
        self.native = EcsNativeStrategy(ecs, elbv2, self.timeline, None, timeout=timeout, interval=interval,
                                        max_interval=max_interval, clock=clock, sleep=sleep)

    def run(self, cluster: str, service: str, to: str, check_mode: bool = False) -> Result:
        if to not in TO:
            raise ValidationError("to", to, "must be production or rollback")
        found = self.ecs.describe_services(cluster, [service])["services"]
        svc = next((s for s in found if s.get("serviceName") == service and s.get("status") == "ACTIVE"), None)
        if svc is None:
            raise ValidationError("service", service, "no ACTIVE service of that name in cluster %s" % cluster)
        if strategy_of(svc) not in NATIVE_STRATEGIES:
            raise ValidationError("service", service, "its deployment strategy is %s; the switch moves BLUE_GREEN, CANARY or "
                                  "LINEAR deployments" % strategy_of(svc))
        arns = [d["serviceDeploymentArn"] for d in self.ecs.list_service_deployments(cluster, service, status=list(IN_PROGRESS))]
        deployments = self.ecs.describe_service_deployments(arns) if arns else []
        data: Dict[str, Any] = {"service": service, "cluster": cluster, "to": to}
        if not deployments:
            data["msg"] = "nothing to switch: no deployment of %s is in progress" % service
            return Result(changed=False, plan=Plan(), data=data)
        sd = sorted(deployments, key=lambda d: str(d.get("createdAt") or ""))[-1]
        hook = next((h for h in sd.get("lifecycleHookDetails") or [] if h.get("targetType") == "PAUSE"
                     and h.get("status") == "AWAITING_ACTION"), None)
        data.update(service_deployment=sd["serviceDeploymentArn"], stage=sd.get("lifecycleStage"))
        if hook is None and to == "production":
            data["msg"] = ("nothing to switch: deployment %s is %s at %s and waits at no PAUSE hook (ECS is moving it)"
                           % (sd["serviceDeploymentArn"], sd.get("status"), sd.get("lifecycleStage")))
            return Result(changed=False, plan=Plan(), data=data)
        call = ("continue_service_deployment %s" % ("CONTINUE" if to == "production" else "ROLLBACK")) if hook else \
            "stop_service_deployment ROLLBACK"
        plan = Plan()
        plan.add(Action("switch", "service_deployment", service, "%s at %s" % (call, sd.get("lifecycleStage")),
                        before={"stage": sd.get("lifecycleStage"), "status": sd.get("status"),
                                "hook": hook.get("hookId") if hook else None},
                        after={"traffic": "new revision" if to == "production" else "previous revision"}))
        if check_mode:
            data["msg"] = "would call %s" % call
            return Result(changed=True, plan=plan, data=data)
        primary = primary_deployment(svc) or {}
        previous = next((d.get("taskDefinition") for d in svc.get("deployments") or [] if d.get("status") != "PRIMARY"), None)
        track = Track(cluster, service, primary.get("taskDefinition"), primary.get("id"), previous,
                      "switch" if to == "production" else "rollback")
        native = NativeTrack(track, sd["serviceDeploymentArn"], None, stage=sd.get("lifecycleStage"), status=sd.get("status"))
        if hook:
            native.answered_hooks[hook["hookId"]] = "CONTINUE" if to == "production" else "ROLLBACK"
            self.ecs.continue_service_deployment(native.arn, hook["hookId"], native.answered_hooks[hook["hookId"]])
        else:
            self.ecs.stop_service_deployment(native.arn, "ROLLBACK")
        self.timeline.add(service, "switch", call, deployment=native.arn)
        self.native.followed[track.key] = native
        verdict = self.native.follow([track])[track.key]
        data.update(timeline=self.timeline.events, status=native.status, stages=list(native.stages),
                    api_calls=combined_calls([a for a in (self.ecs, self.elbv2) if a is not None]))
        data = {k: v for k, v in data.items() if v is not None}
        ok = verdict.status == DONE if to == "production" else native.status == "ROLLBACK_SUCCESSFUL"
        if not ok:
            raise DeployError("switch of %s to %s failed: %s" % (service, to, verdict.reason), details=data)
        data["msg"] = ("production traffic on %s: %s" % (track.revision, verdict.reason) if to == "production" else
                       "rolled back: production traffic back on %s (service deployment ROLLBACK_SUCCESSFUL)" % (previous or "the previous revision"))
        return Result(changed=True, plan=plan, data=data)

    @classmethod
    def from_module(cls, module: Any) -> "TrafficSwitch":
        params = module.params
        return cls(EcsApi(module.client("ecs")), Elbv2Api(module.client("elbv2")), timeout=params["timeout"],
                   interval=params["poll_interval"])
