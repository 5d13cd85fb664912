# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""The release: read, plan, register, migrate, update, watch, roll back or clean up.

Reads come first and every option is validated before the first write; the plan (pure, see
:mod:`planner`) is what check mode returns; applying it follows the plan step by step, and
``changed`` is the plan's.  A release is successful only when the watcher saw each deployment
we started complete; anything else ends in :class:`DeployError` after the rollback, carrying
what an operator needs to act (why, stopped tasks, events, log lines, end state, timeline).
"""

from __future__ import annotations

import copy
import datetime
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import combined_calls
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.diff import prune
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ShipyardError, ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.result import Action, Plan, Result
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.api import EcsApi, EcsError, LogsApi
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.taskdef import apply_overrides, task_definition_changes
from ansible_collections.shipyard.ecs.plugins.module_utils._secrets.api import SecretsManagerApi, SsmApi, StsApi
from ansible_collections.shipyard.ecs.plugins.module_utils._secrets.refs import check_secret_references

from .definition import check_fits_service, secret_references
from ansible_collections.shipyard.ecs.plugins.module_utils._report.summary import summary_lines

from .errors import DeployError
from .migration import OneOffTaskRunner, essential_containers, log_tail
from .options import PREVIOUS, ReleaseOptions
from .progress import Progress
from .planner import AWAIT, DEPLOY, NOOP, RevisionChoice, ServicePlan, build_plan, choose_revision, classify
from .readiness import (
    DONE,
    FAILED,
    KIND_ECS_ROLLBACK,
    KIND_REPLACED,
    Judgement,
    Policy,
    Track,
    deployment_by_id,
    judge,
    primary_deployment,
    stop_summary,
)
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.api import Elbv2Api, health_states, target_group_name
from .watcher import Observer, RolloutWatcher, Timeline
from .strategies import (
    HELD,
    NATIVE_STRATEGIES,
    EcsNativeStrategy,
    ReleaseStrategy,
    RollingStrategy,
    pause_hooks,
    strategy_of,
)

Key = Tuple[str, str]
REUSE_LOOKBACK = 5
PREVIOUS_LOOKBACK = 25
RELEASED_TAG = "shipyard.ecs:released-at"
MAX_STOPPED_REPORTED = 10
MAX_EVENTS_REPORTED = 10
MAX_TASKS_WITH_LOGS = 2
# Service deployment statuses (ListServiceDeployments) of a deployment that completed: a rollback
# succeeds only by returning to a completed one.
COMPLETED_SERVICE_DEPLOYMENT = ("SUCCESSFUL", "ROLLBACK_SUCCESSFUL")


def revisions_to_deregister(arns_newest_first: List[str], keep: int, in_use: set) -> List[str]:
    """ACTIVE revisions beyond the newest ``keep`` that no deployment of any service uses."""
    return [arn for arn in arns_newest_first[keep:] if arn not in in_use]


def recent_events(service: Optional[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The service's most recent events (ECS lists them newest first)."""
    events = (service or {}).get("events") or []
    return [{"created_at": str(e.get("createdAt")), "message": e.get("message")} for e in events[:MAX_EVENTS_REPORTED]]


def family_of(arn: str) -> str:
    """``arn:...:task-definition/users:7`` -> ``users``."""
    return arn.rsplit("/", 1)[-1].rsplit(":", 1)[0]


class ReleaseRunner:
    """Runs one release of one or more services."""

    def __init__(self, options: ReleaseOptions, ecs: EcsApi, elbv2: Optional[Elbv2Api] = None,
                 logs: Optional[LogsApi] = None, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep,
                 secrets: Optional[Tuple[SsmApi, SecretsManagerApi, StsApi]] = None, region: Optional[str] = None) -> None:
        self.options = options
        self.secret_apis = secrets
        self.region = region
        self.warnings: List[str] = []
        self.ecs = ecs
        self.elbv2 = elbv2
        self.logs = logs
        self.clock = clock
        self.sleep = sleep
        self.timeline = Timeline(clock)
        self.progress = Progress(options.progress_file)
        self.observer = Observer(ecs, elbv2, clock, look_at_stopped=True)
        self._described: Dict[str, Dict[str, Any]] = {}
        self.plans: List[ServicePlan] = []
        self.unmarked: List[ServicePlan] = []
        self.tracks: Dict[Key, Track] = {}
        self.outcomes: Dict[Key, Dict[str, Any]] = {}
        self.watcher: Optional[RolloutWatcher] = None
        self._final_services: Dict[Key, Dict[str, Any]] = {}
        self.rolling: ReleaseStrategy = RollingStrategy(self)
        self.native = EcsNativeStrategy(ecs, elbv2, self.timeline, self.progress, timeout=options.timeout,
                                        interval=options.poll_interval, max_interval=options.max_poll_interval,
                                        clock=clock, sleep=sleep, rollback=options.rollback)
        self.held: List[Dict[str, Any]] = []
        # The planner's readiness judgement of each service steady on its revision (its tasks and targets as read then).
        self.steady: Dict[Key, Judgement] = {}

    def strategy(self, key: Key) -> ReleaseStrategy:
        """The strategy of a released service: ECS-native for BLUE_GREEN/CANARY/LINEAR, else rolling."""
        sp = next((p for p in self.plans if p.request.key == key), None)
        return self.native if sp is not None and strategy_of(sp.service) in NATIVE_STRATEGIES else self.rolling

    @classmethod
    def from_module(cls, module: Any) -> "ReleaseRunner":
        """Build a runner from an ``AnsibleAWSModule``."""
        options = ReleaseOptions.from_params(module.params, check_mode=module.check_mode, region=module.region)
        return cls(options, EcsApi(module.client("ecs")), Elbv2Api(module.client("elbv2")),
                   LogsApi(module.client("logs")),
                   secrets=(SsmApi(module.client("ssm")), SecretsManagerApi(module.client("secretsmanager")),
                            StsApi(module.client("sts"))), region=module.region)

    # --------------------------------------------------------------------------------------
    def run(self) -> Result:
        """Plan the release; in check mode return the plan, else apply and verify it."""
        try:
            result = self._run()
        except DeployError as exc:
            exc.details.setdefault("timeline", self.timeline.events)
            exc.details.setdefault("api_calls", self._calls())
            self._add_summary(exc.details, exc.msg)
            raise
        except ValidationError:
            raise
        except ShipyardError as exc:
            details = dict(exc.details, timeline=self.timeline.events, api_calls=self._calls(), services=self._services_report())
            self._add_summary(details, exc.msg)
            raise DeployError(exc.msg, operation=exc.operation, code=exc.code, state=exc.state, details=details) from exc
        result.data["summary"] = summary_lines(dict(result.data, check_mode=self.options.check_mode))
        result.data["release_failed"] = False
        return result

    def _add_summary(self, details: Dict[str, Any], msg: str) -> None:
        """The failure's summary lines and progress samples, beside its details."""
        details.setdefault("services", self._services_report())
        details["progress"] = self.progress.samples
        details["summary"] = summary_lines(dict(details, failed=True, msg=msg))
        # Playbooks register the result with failed_when false to print the summary rather than the
        # whole result: this says the release failed once ``failed`` no longer does.
        details["release_failed"] = True

    def _run(self) -> Result:
        if self.options.one_off_task:
            return self.run_one_off_task()
        self.plans = self.plan()
        self.unmarked = self.unmarked_revisions() if self.options.wait else []
        plan = build_plan(self.plans, self.options.migration, self.unmarked)
        self.timeline.add(None, "planned", "%d service(s): %s" % (len(self.plans), ", ".join(
            "%s=%s" % (p.name, p.decision) for p in self.plans)))
        if self.options.check_mode:
            return self._result(plan, check_mode=True)
        self.register_revisions()
        migration = self.migrate()
        self.release()
        cleanup: List[str] = []
        if self.options.wait:
            self.mark_released()
            cleanup = self.cleanup()
        result = self._result(plan, migration=migration, deregistered=cleanup)
        result.data["target_health"] = self.target_health()
        return result

    def target_health(self) -> Dict[str, List[str]]:
        """Target group name -> its targets' states, read once the release is over (what a smoke check judges).

        A release changes task definitions, not load balancer bindings: the groups are those the planner read."""
        read = self.observer.target_health([p.service for p in self.plans])
        return {target_group_name(arn): health_states(targets) for arn, targets in read.items()}

    # planning -----------------------------------------------------------------------------
    def describe_task_definition(self, arn: str) -> Dict[str, Any]:
        """Described definition (with tags), cached for the run."""
        if arn not in self._described:
            answer = self.ecs.describe_task_definition(arn)
            self._described[arn] = answer
            self._described.setdefault(answer["taskDefinition"]["taskDefinitionArn"], answer)
        return self._described[arn]

    def family_revisions(self, family: str) -> List[str]:
        """ACTIVE revisions of exactly ``family``, newest first.

        ``familyPrefix`` is a prefix: ``users`` also lists ``users-worker``, which is another
        family and must never be reused or cleaned up as this one.
        """
        return [arn for arn in self.ecs.list_task_definitions(family) if family_of(arn) == family]

    def plan(self) -> List[ServicePlan]:
        """Read every service and its revision; decide no-op / await / deploy for each."""
        requests = self.options.services
        described = self.observer.describe([r.key for r in requests])
        for index, request in enumerate(requests):
            svc = described.get(request.key)
            if not svc or svc.get("status") != "ACTIVE":
                raise ValidationError("services[%d].name" % index, request.name, "no ACTIVE service of that name in cluster %s (%s)"
                                      % (request.cluster, svc.get("status") if svc else "not found"))
            controller = (svc.get("deploymentController") or {}).get("type", "ECS")
            if controller != "ECS":
                raise ValidationError("services[%d].name" % index, request.name,
                                      "uses the %s deployment controller; only rolling (ECS) deployments are supported" % controller)
        self._check_strategies(requests, described)
        choices = [self._choose(i, r, described[r.key]) for i, r in enumerate(requests)]
        self._check_secrets(choices)
        steady_tracks = []
        for request, choice in zip(requests, choices):
            primary = primary_deployment(described[request.key]) or {}
            if choice.arn and primary.get("taskDefinition") == choice.arn:
                steady_tracks.append(Track(request.cluster, request.name, choice.arn, primary.get("id")))
        steady = self.steady = {}
        if steady_tracks:
            # Judged on readiness alone (no fail-fast): stopped tasks would not change the verdict, so they are not listed.
            observations = self.observer.observe(steady_tracks, stopped=False)
            readiness_only = Policy(max_failed_tasks=0, unhealthy_timeout=0, wait_for_drain=self.options.policy.wait_for_drain)
            for track in steady_tracks:
                steady[track.key] = judge(track, observations[track.key], readiness_only)
        plans = [classify(r, described[r.key], c, steady.get(r.key), self.options.force_new_deployment)
                 for r, c in zip(requests, choices)]
        self._check_migration(plans)
        return plans

    def _check_strategies(self, requests: List[Any], described: Dict[Key, Any]) -> None:
        """test_traffic belongs to ECS-native strategies; a PAUSE hook needs test_traffic (else it would hang).

        In check mode these are warnings: an earlier task of the run (ecs_stack) may change the
        service's strategy or hooks first; the real run refuses them before any write.
        """
        for index, request in enumerate(requests):
            svc = described[request.key] or {}
            strategy = strategy_of(svc)
            problem = None
            if request.test_traffic is not None and strategy not in NATIVE_STRATEGIES:
                problem = ("services[%d].test_traffic" % index, "set",
                           "the service's deployment strategy is %s; test traffic checks need BLUE_GREEN, CANARY or LINEAR"
                           % strategy)
            elif request.test_traffic is None and strategy in NATIVE_STRATEGIES and pause_hooks(svc):
                stages = sorted({s for h in pause_hooks(svc) for s in h.get("lifecycleStages") or []})
                problem = ("services[%d].test_traffic" % index, None,
                           "the service has PAUSE lifecycle hooks (%s) that only ContinueServiceDeployment releases; give "
                           "test_traffic (checks, or reachable: false) so the release answers them" % ", ".join(stages))
            if problem is None:
                continue
            if self.options.check_mode:
                self.warnings.append("check mode: %s=%r: %s (unless an earlier task changes the service first)" % problem)
            else:
                raise ValidationError(*problem)

    def _check_secrets(self, choices: List[RevisionChoice]) -> None:
        """Every secret a revision to be registered references must exist (checked before any write)."""
        if self.secret_apis is None:
            return
        references: Dict[str, str] = {}
        for index, choice in enumerate(choices):
            if self.options.services[index].definition is not None:
                references.update(secret_references(choice.register_kwargs or {}, "services[%d].definition" % index))
                continue
            for container in (choice.register_kwargs or {}).get("containerDefinitions") or []:
                for secret in container.get("secrets") or []:
                    where = "services[%d].secrets.%s.%s" % (index, container.get("name"), secret["name"])
                    references[where] = secret["valueFrom"]
        unchecked = check_secret_references(references, *self.secret_apis, region=self.region)
        if unchecked:
            self.warnings.append("secrets in another account or region were not checked: %s" % ", ".join(sorted(unchecked)))

    def _choose(self, index: int, request: Any, service: Dict[str, Any]) -> RevisionChoice:
        current = self.describe_task_definition(service["taskDefinition"])
        where = "services[%d]" % index
        if request.task_definition:
            name = request.task_definition
            if name == PREVIOUS:
                name = self.previous_good_revision(index, service)
            try:
                explicit = self.describe_task_definition(name)
            except EcsError as exc:
                raise ValidationError(where + ".task_definition", request.task_definition, exc.msg) from exc
            return choose_revision(current, None, [], explicit)
        if request.definition is not None:
            rendered = self._whole_definition(request, service, where + ".definition", self.options.check_mode,
                                              self.warnings)
        elif request.has_changes:
            rendered = self._overridden_definition(request, current, where)
        else:
            return choose_revision(current, None, [])
        choice = choose_revision(current, rendered, [])
        if choice.arn is not None:
            return choice
        candidates = []
        for arn in self.family_revisions(rendered.get("family") or family_of(service["taskDefinition"]))[:REUSE_LOOKBACK]:
            if arn != current["taskDefinition"]["taskDefinitionArn"]:
                candidates.append(self.describe_task_definition(arn))
        return choose_revision(current, rendered, candidates)

    @staticmethod
    def _whole_definition(request: Any, service: Dict[str, Any], where: str, check_mode: bool = False,
                          warnings: Optional[List[str]] = None) -> Dict[str, Any]:
        """``services[].definition``: the revision is exactly that definition (its own tags, no others).

        In check mode a definition that does not fit the service as it is now is a warning: an earlier task
        of the run (ecs_stack moving the service to other subnets, placement or target groups) may not have
        changed it yet; the real run refuses it before any write.
        """
        try:
            check_fits_service(request.definition, service, where)
        except ValidationError as exc:
            if not check_mode:
                raise
            if warnings is not None:
                warnings.append("check mode: %s=%r: %s (unless an earlier task changes the service first)"
                                % (exc.option, exc.value, exc.reason))
        rendered = copy.deepcopy(request.definition)
        rendered["tags"] = [t for t in rendered.get("tags") or [] if t.get("key") != RELEASED_TAG]
        return prune(rendered)

    @staticmethod
    def _overridden_definition(request: Any, current: Dict[str, Any], where: str) -> Dict[str, Any]:
        """The current revision with the changes of ``images``/``environment``/``secrets``/``container_definitions``."""
        try:
            rendered = apply_overrides(current, images=request.images, environment=request.environment,
                                       secrets=request.secrets, container_definitions=request.container_definitions)
        except ValidationError as exc:
            raise ValidationError("%s.%s" % (where, exc.option), exc.value, exc.reason) from exc
        # The new revision inherits the current one's tags, but not the mark of a verified
        # release: it has not been verified yet.
        tags = [t for t in rendered.get("tags") or [] if t.get("key") != RELEASED_TAG]
        rendered.pop("tags", None)
        if tags:
            rendered["tags"] = tags
        return rendered

    def previous_good_revision(self, index: int, service: Dict[str, Any]) -> str:
        """The revision the service ran well on before its current one.

        While a deployment is under way or failed, that is the revision of the last COMPLETED
        deployment; otherwise the newest revision a release verified (tagged by this module)
        other than the current one.
        """
        current = service["taskDefinition"]
        for dep in service.get("deployments") or []:
            if dep.get("rolloutState") == "COMPLETED" and dep.get("taskDefinition") != current:
                return dep["taskDefinition"]
        best: Tuple[str, str] = ("", "")
        for arn in self.family_revisions(family_of(current))[:PREVIOUS_LOOKBACK]:
            if arn == current:
                continue
            tags = {t.get("key"): t.get("value") for t in self.describe_task_definition(arn).get("tags") or []}
            stamp = tags.get(RELEASED_TAG) or ""
            if stamp and stamp > best[0]:
                best = (stamp, arn)
        if not best[1]:
            raise ValidationError("services[%d].task_definition" % index, PREVIOUS,
                                  "no earlier revision of %s was released by this module; name the revision to return to"
                                  % family_of(current))
        return best[1]

    def _check_migration(self, plans: List[ServicePlan]) -> None:
        migration = self.options.migration
        if not migration:
            return
        sp = next(p for p in plans if p.name == migration["service"])
        # The migration runs on the revision the release puts the service on.
        if sp.revision.register_kwargs is not None:
            desired, label = sp.revision.register_kwargs, "the new revision of %s" % sp.revision.register_kwargs.get("family")
        else:
            label = sp.revision.arn or sp.current_revision or sp.service["taskDefinition"]
            desired = self.describe_task_definition(label)["taskDefinition"]
        names = [c.get("name") for c in desired.get("containerDefinitions") or []]
        if migration.get("container") and migration["container"] not in names:
            raise ValidationError("migration.container", migration["container"],
                                  "no container of that name in %s (containers: %s)" % (label, ", ".join(names)))

    # applying -----------------------------------------------------------------------------
    def register_revisions(self) -> None:
        """Register the revisions the plan needs (only those that differ and exist nowhere)."""
        for sp in self.plans:
            if sp.decision != DEPLOY or sp.revision.register_kwargs is None:
                continue
            registered = self.ecs.register_task_definition(**sp.revision.register_kwargs)
            sp.revision.arn = registered["taskDefinitionArn"]
            stored = task_definition_changes(sp.revision.register_kwargs, registered)
            if stored:
                # AWS stored something the normaliser does not know of: the next run would see a
                # difference and register again, so say so instead of drifting silently.
                self.warnings.append("%s was stored differently from the definition in %s; report this as a defect of the "
                                     "task definition normaliser" % (sp.revision.arn, ", ".join(c["path"] for c in stored)))
            self._described[sp.revision.arn] = {"taskDefinition": registered, "tags": sp.revision.register_kwargs.get("tags", [])}
            self.timeline.add(sp.name, "registered", sp.revision.arn)

    def migrate(self) -> Optional[Dict[str, Any]]:
        """Run the migration on its service's new revision, before any service update."""
        migration = self.options.migration
        if not migration or not any(p.decision == DEPLOY for p in self.plans):
            return None
        sp = next(p for p in self.plans if p.name == migration["service"])
        revision = sp.revision.arn or sp.current_revision
        runner = OneOffTaskRunner(self.ecs, self.logs, self.timeline, timeout=migration["timeout"],
                                  interval=self.options.poll_interval, max_interval=self.options.max_poll_interval,
                                  clock=self.clock, sleep=self.sleep, log_lines=self.options.log_lines,
                                  progress=self.progress)
        try:
            return runner.run(sp.request.cluster, sp.service, revision, self.describe_task_definition(revision),
                              migration.get("container"), migration["command"])
        except DeployError as exc:
            exc.details["services"] = self._services_report()
            exc.msg = "release stopped before any service update: %s" % exc.msg
            exc.args = (exc.msg,)
            raise

    def run_one_off_task(self) -> Result:
        """Run ``one_off_task`` in the revision its service runs now, gated on its exit codes.

        Nothing is registered and no service is updated. Check mode reports the task it would run.
        """
        spec = self.options.one_off_task or {}
        key = (spec["cluster"], spec["service"])
        svc = self.observer.describe([key]).get(key)
        if not svc or svc.get("status") != "ACTIVE":
            raise ValidationError("one_off_task.service", spec["service"], "no ACTIVE service of that name in cluster %s (%s)"
                                  % (spec["cluster"], svc.get("status") if svc else "not found"))
        revision = svc["taskDefinition"]
        document = self.describe_task_definition(revision)
        names = [c.get("name") for c in document["taskDefinition"].get("containerDefinitions") or []]
        container = spec.get("container")
        if container and container not in names:
            raise ValidationError("one_off_task.container", container,
                                  "no container of that name in %s (containers: %s)" % (revision, ", ".join(names)))
        if not container:
            # The container named like the service (the application's own), else the first essential one.
            essentials = essential_containers(document)
            container = spec["service"] if spec["service"] in names else (essentials[0] if essentials else None)
        command = " ".join(spec["command"])
        plan = Plan()
        plan.add(Action("run_task", "one_off_task", spec["service"], "run %s in container %s of %s" % (command, container, revision),
                        after={"task_definition": revision, "container": container, "command": spec["command"]}))
        data: Dict[str, Any] = {"services": [], "deregistered": []}
        if self.options.check_mode:
            data["task"] = {"status": "would run", "service": spec["service"], "revision": revision, "container": container,
                            "command": spec["command"]}
        else:
            runner = OneOffTaskRunner(self.ecs, self.logs, self.timeline, timeout=spec["timeout"],
                                      interval=self.options.poll_interval, max_interval=self.options.max_poll_interval,
                                      clock=self.clock, sleep=self.sleep, log_lines=self.options.log_lines,
                                      label="one-off task", started_by="shipyard-one-off-task", progress=self.progress)
            outcome = runner.run(spec["cluster"], svc, revision, document, container, spec["command"])
            data["task"] = dict(outcome, status="succeeded", service=spec["service"])
        data.update(timeline=self.timeline.events, api_calls=self._calls())
        return Result(changed=True, plan=plan, data=data, warnings=self.warnings)

    def release(self) -> None:
        """Update services group by group (``order``), watching each group before the next."""
        orders = sorted({p.request.order for p in self.plans})
        started: List[ServicePlan] = []
        for order in orders:
            group = [p for p in self.plans if p.request.order == order]
            tracks = []
            for sp in group:
                if sp.decision == NOOP:
                    self.outcomes[sp.request.key] = {"status": "unchanged"}
                    continue
                native = self.strategy(sp.request.key) is self.native
                if sp.decision == DEPLOY:
                    try:
                        before = self.native.in_progress(sp.request.cluster, sp.name) if native else []
                        tracks.append(self.update(sp, sp.revision.arn, sp.force, "release"))
                        if native:
                            self._start_native(sp, tracks[-1], before)
                    except ShipyardError as exc:
                        self.abort(sp, exc, started)
                    started.append(sp)
                else:
                    track = Track(sp.request.cluster, sp.name, sp.current_revision, sp.await_deployment,
                                  sp.previous_revision, "await")
                    self.timeline.add(sp.name, "awaiting", sp.reason, deployment=sp.await_deployment)
                    tracks.append(track)
                    if native:
                        self._start_native(sp, track, [])
                self.tracks[sp.request.key] = tracks[-1]
            if not self.options.wait:
                for track in tracks:
                    self.outcomes[track.key] = {"status": "started" if track.purpose == "release" else "in_progress"}
                continue
            verdicts = self.follow(tracks, stop_on_first_failure=self.options.rollback_scope == "release")
            for key, verdict in verdicts.items():
                status = {DONE: "completed", FAILED: "failed", HELD: "held_in_test_traffic"}.get(verdict.status, "not_awaited")
                self.outcomes[key] = {"status": status, "reason": verdict.reason, "kind": verdict.kind}
                if verdict.status == HELD:
                    self.held.append({"service": key[1], "cluster": key[0], "reason": verdict.reason,
                                      "service_deployment": self.native.followed[key].arn})
                    self.warnings.append("%s: %s" % (key[1], verdict.reason))
            failed = [k for k, v in verdicts.items() if v.status == FAILED]
            if failed:
                self.fail(failed, verdicts, started)

    def _start_native(self, sp: ServicePlan, track: Track, before: List[str]) -> None:
        """Pin the ServiceDeployment an ECS-native update started (or the one in progress we await)."""
        try:
            self.native.started(track, before, sp.request.test_traffic)
        except LookupError as exc:
            raise DeployError(str(exc)) from exc

    def follow(self, tracks: List[Track], stop_on_first_failure: bool = False) -> Dict[Key, Judgement]:
        """Follow each track with its service's strategy (rolling ones and ECS-native ones side by side)."""
        native = [t for t in tracks if self.strategy(t.key) is self.native]
        rolling = [t for t in tracks if t not in native]
        verdicts: Dict[Key, Judgement] = {}
        if rolling:
            verdicts.update(self.rolling.follow(rolling, stop_on_first_failure))
        if native:
            verdicts.update(self.native.follow(native, stop_on_first_failure))
        return verdicts

    def _watcher(self) -> RolloutWatcher:
        if self.watcher is None:
            self.watcher = RolloutWatcher(self.observer, self.options.policy, self.timeline, timeout=self.options.timeout,
                                          interval=self.options.poll_interval, max_interval=self.options.max_poll_interval,
                                          clock=self.clock, sleep=self.sleep, progress=self.progress)
        return self.watcher

    def update(self, sp: ServicePlan, revision: Optional[str], force: bool, purpose: str) -> Track:
        """``update_service`` to ``revision`` and pin the deployment it started."""
        before = {d.get("id") for d in sp.service.get("deployments") or []}
        kwargs: Dict[str, Any] = {"cluster": sp.request.cluster, "service": sp.name, "taskDefinition": revision}
        if force:
            kwargs["forceNewDeployment"] = True
        updated = self.ecs.update_service(**kwargs)
        sp.service = updated
        deployment = None
        for dep in updated.get("deployments") or []:
            if dep.get("status") == "PRIMARY" and dep.get("taskDefinition") == revision:
                deployment = dep
                if dep.get("id") not in before:
                    break
        dep_id = deployment.get("id") if deployment else None
        self.timeline.add(sp.name, "%s_update" % purpose, "update_service to %s" % revision, deployment=dep_id)
        if dep_id is None:
            raise DeployError("update_service on %s returned no PRIMARY deployment of %s" % (sp.name, revision))
        track = Track(sp.request.cluster, sp.name, revision, dep_id, sp.previous_revision, purpose)
        if purpose == "release":
            track.completed_before = self.completed_before(sp)
        return track

    def completed_before(self, sp: ServicePlan) -> bool:
        """Whether any deployment of the service COMPLETED before this release.

        The described service shows a completed deployment while it still runs tasks (that is
        ``previous_revision``); otherwise the service's deployment history says (one
        ``ListServiceDeployments``, only for services that show none).
        """
        if sp.previous_revision:
            return True
        return bool(self.ecs.list_service_deployments(sp.request.cluster, sp.name,
                                                      status=list(COMPLETED_SERVICE_DEPLOYMENT)))

    # failure and rollback -----------------------------------------------------------------
    def abort(self, sp: ServicePlan, exc: ShipyardError, started: List[ServicePlan]) -> None:
        """An update call failed mid-release: undo the updates already made, then raise."""
        self.outcomes[sp.request.key] = {"status": "failed", "reason": exc.msg}
        notes = self.roll_back(list(started), {}) if self.options.rollback and started else {}
        msg = "release failed on %s: %s" % (sp.name, exc.msg)
        if notes:
            msg += "; rollback: %s" % ", ".join("%s %s" % (k[1], note) for k, note in notes.items())
        self.timeline.add(None, "release_failed", msg)
        raise DeployError(msg, operation=exc.operation, code=exc.code, state=self.end_state(),
                          details={"failed_services": [sp.name], "services": self._services_report()}) from exc

    def fail(self, failed: List[Key], verdicts: Dict[Key, Judgement], started: List[ServicePlan]) -> None:
        """Roll back what the options say, gather the diagnosis, and raise."""
        by_key = {p.request.key: p for p in self.plans}
        diagnosis = {k: self.diagnose(by_key[k], verdicts[k]) for k in failed}
        rollback_notes: Dict[Key, str] = {}
        if self.options.rollback:
            scope = failed if self.options.rollback_scope == "service" else [p.request.key for p in started]
            to_roll = [by_key[k] for k in scope if by_key[k] in started]
            rollback_notes = self.roll_back(to_roll, verdicts)
        end_state = self.end_state()
        for key in failed:
            # Events read after the rollback also tell how it went.
            final = self._final_services.get(key)
            if final:
                diagnosis[key]["events"] = recent_events(final)
        names = ", ".join(k[1] for k in failed)
        reasons = "; ".join("%s: %s" % (k[1], verdicts[k].reason) for k in failed)
        rolled = ", ".join("%s %s" % (k[1], note) for k, note in rollback_notes.items())
        msg = "release failed on %s: %s" % (names, reasons)
        msg += ("; rollback: %s" % rolled) if rolled else ("; not rolled back (rollback=false)" if not self.options.rollback else "")
        self.timeline.add(None, "release_failed", msg)
        raise DeployError(msg, state=end_state, details={
            "failed_services": [k[1] for k in failed],
            "failures": [diagnosis[k] for k in failed],
            "services": self._services_report(),
        })

    def roll_back(self, plans: List[ServicePlan], verdicts: Dict[Key, Judgement]) -> Dict[Key, str]:
        """Roll back each service with its own strategy."""
        native = [p for p in plans if self.strategy(p.request.key) is self.native]
        notes = self.rolling.roll_back([p for p in plans if p not in native], verdicts)
        if native:
            native_notes = self.native.roll_back(native, verdicts)
            native_notes.update(self._roll_back_completed_native(native))
            for key, note in native_notes.items():
                ok = note.startswith("rolled back")
                self.outcomes.setdefault(key, {})["status"] = "rolled_back" if ok else "failed"
            notes.update(native_notes)
        return notes

    def _roll_back_completed_native(self, plans: List[ServicePlan]) -> Dict[Key, str]:
        """ECS-native deployments that completed (another service failed): release the previous revision again.

        That update is an ECS-native deployment too, followed and judged the same way; PAUSE hooks
        on its way are continued (no checks: it returns to the revision that ran before).
        """
        notes: Dict[Key, str] = {}
        tracks: List[Track] = []
        for sp in plans:
            native = self.native.followed.get(sp.request.key)
            if native is None or native.status != "SUCCESSFUL" or native.track.purpose == "rollback":
                continue
            if not sp.previous_revision:
                notes[sp.request.key] = "not rolled back: no completed revision known before this release"
                continue
            before = self.native.in_progress(sp.request.cluster, sp.name)
            track = self.update(sp, sp.previous_revision, False, "rollback")
            self.native.started(track, before, None)
            tracks.append(track)
        verdicts = self.native.follow(tracks) if tracks else {}
        for track in tracks:
            ok = verdicts[track.key].status == DONE
            notes[track.key] = ("rolled back to %s" % track.revision) if ok else (
                "rollback to %s failed: %s" % (track.revision, verdicts[track.key].reason))
        return notes

    def roll_back_rolling(self, plans: List[ServicePlan], verdicts: Dict[Key, Judgement]) -> Dict[Key, str]:
        """Return each service to its last completed revision (or await ECS's own rollback)."""
        notes: Dict[Key, str] = {}
        tracks: List[Track] = []
        if not plans:
            return notes
        described = self.observer.describe([p.request.key for p in plans])
        for sp in plans:
            key = sp.request.key
            ours = self.tracks[key]
            verdict = verdicts.get(key)
            svc = described.get(key) or {}
            primary = primary_deployment(svc) or {}
            our_dep = deployment_by_id(svc, ours.deployment_id) or {}
            breaker = ((svc.get("deploymentConfiguration") or {}).get("deploymentCircuitBreaker") or {})
            if verdict is not None and verdict.kind == KIND_REPLACED:
                notes[key] = "not rolled back: deployment %s replaced it" % primary.get("id")
                self.outcomes.setdefault(key, {})["status"] = "replaced"
                continue
            ecs_rolling_back = verdict is not None and verdict.kind == KIND_ECS_ROLLBACK
            if primary and primary.get("id") != ours.deployment_id and (ecs_rolling_back or our_dep.get("rolloutState") == "FAILED"):
                tracks.append(Track(sp.request.cluster, sp.name, primary.get("taskDefinition"), primary.get("id"),
                                    None, "rollback"))
                self.timeline.add(sp.name, "rollback_by_ecs", "awaiting ECS's rollback to %s" % primary.get("taskDefinition"),
                                  deployment=primary.get("id"))
                continue
            if (our_dep.get("rolloutState") == "FAILED" and breaker.get("enable") and breaker.get("rollback")
                    and ours.ecs_can_roll_back):
                tracks.append(Track(sp.request.cluster, sp.name, None, None, None, "rollback",
                                    exclude_deployment=ours.deployment_id))
                self.timeline.add(sp.name, "rollback_by_ecs", "awaiting the circuit breaker's rollback deployment")
                continue
            if not sp.previous_revision:
                notes[key] = ("not rolled back: no deployment of the service ever completed, so ECS has nothing to roll back "
                              "to" if ours.completed_before is False else
                              "not rolled back: no completed revision known before this release")
                self.outcomes.setdefault(key, {})["status"] = "failed"
                continue
            sp.service = svc or sp.service
            tracks.append(self.update(sp, sp.previous_revision, sp.previous_revision == svc.get("taskDefinition"), "rollback"))
        rollback_verdicts = self._watcher().watch(tracks) if tracks else {}
        for track in tracks:
            verdict = rollback_verdicts[track.key]
            ok = verdict.status == DONE
            notes[track.key] = ("rolled back to %s" % track.revision) if ok else ("rollback to %s failed: %s" % (
                track.revision, verdict.reason))
            outcome = self.outcomes.setdefault(track.key, {})
            outcome["status"] = "rolled_back" if ok else "rollback_failed"
            outcome["rollback"] = {"revision": track.revision, "deployment_id": track.deployment_id,
                                   "status": "completed" if ok else "failed", "reason": verdict.reason}
        return notes

    def diagnose(self, sp: ServicePlan, verdict: Judgement) -> Dict[str, Any]:
        """Why one service failed: stopped tasks, recent events, last log lines."""
        key = sp.request.key
        obs = self._watcher().last_observations.get(key)
        stopped = sorted((obs.stopped_tasks if obs else []), key=lambda t: str(t.get("stoppedAt") or ""), reverse=True)
        track = self.tracks.get(key)
        revision = track.revision if track else sp.revision.arn
        doc = self.describe_task_definition(revision) if revision else {}
        logs = {}
        for task in stopped[:MAX_TASKS_WITH_LOGS]:
            lines = log_tail(self.logs, doc, task, self.options.log_lines)
            if lines:
                logs[task.get("taskArn", "").rsplit("/", 1)[-1]] = lines
        native = self.native.followed.get(key)
        if native is not None and obs is None:
            stopped_arns = self.ecs.list_tasks(sp.request.cluster, "STOPPED", serviceName=sp.name)
            stopped = sorted([t for t in (self.ecs.describe_tasks(sp.request.cluster, stopped_arns) if stopped_arns else [])
                              if t.get("taskDefinitionArn") == native.track.revision or t.get("taskDefinitionArn") == revision],
                             key=lambda t: str(t.get("stoppedAt") or ""), reverse=True)
            for task in stopped[:MAX_TASKS_WITH_LOGS]:
                lines = log_tail(self.logs, doc, task, self.options.log_lines)
                if lines:
                    logs[task.get("taskArn", "").rsplit("/", 1)[-1]] = lines
        extra: Dict[str, Any] = {}
        if native is not None:
            extra = {"service_deployment": native.arn, "stage": native.stage, "stages": list(native.stages),
                     "service_deployment_status": native.status,
                     "status_reason": (native.last or {}).get("statusReason")}
        return dict(extra, **{
            "service": sp.name,
            "cluster": sp.request.cluster,
            "reason": verdict.reason,
            "kind": verdict.kind,
            "deployment_id": track.deployment_id if track else None,
            "revision": revision,
            "progress": verdict.summary,
            "stopped_tasks": [stop_summary(t) for t in stopped[:MAX_STOPPED_REPORTED]],
            "events": recent_events(obs.service if obs else None),
            "log_lines": logs,
        })

    def end_state(self) -> List[Dict[str, Any]]:
        """Where each service of the release ended: its PRIMARY revision and rollout state."""
        described = self.observer.describe([p.request.key for p in self.plans])
        self._final_services = {k: v for k, v in described.items() if v}
        out = []
        for sp in self.plans:
            svc = described.get(sp.request.key) or {}
            primary = primary_deployment(svc) or {}
            out.append({"service": sp.name, "cluster": sp.request.cluster, "task_definition": svc.get("taskDefinition"),
                        "primary_deployment": primary.get("id"), "rollout_state": primary.get("rolloutState"),
                        "running": svc.get("runningCount"), "desired": svc.get("desiredCount"),
                        "deployments": len(svc.get("deployments") or [])})
        return out

    # after success ------------------------------------------------------------------------
    def unmarked_revisions(self) -> List[ServicePlan]:
        """Services on their desired revision (no-op or awaited) that no release marked as verified.

        A release killed after its ``update_service`` (a cancelled CI job) leaves the service
        rolling out to, or completed on, a revision without the mark; so does a service created on
        its first revision. The run that verifies it marks it, or ``task_definition: previous``
        would skip it and return the service to an older one.
        """
        out = []
        for sp in self.plans:
            if sp.decision in (NOOP, AWAIT) and sp.current_revision:
                tags = self.describe_task_definition(sp.current_revision).get("tags") or []
                if not any(t.get("key") == RELEASED_TAG for t in tags):
                    out.append(sp)
        return out

    def mark_released(self) -> None:
        """Tag each revision a release verified, so ``task_definition: previous`` can find it."""
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        marked = set()
        for sp in self.plans:
            if sp.decision == DEPLOY and sp.revision.arn and \
                    (self.outcomes.get(sp.request.key) or {}).get("status") != "held_in_test_traffic":
                marked.add(sp.revision.arn)
        for sp in self.unmarked:
            if (self.outcomes.get(sp.request.key) or {}).get("status") in ("unchanged", "completed"):
                marked.add(sp.current_revision)
        for arn in sorted(marked):
            self.ecs.tag_resource(arn, {RELEASED_TAG: stamp})
            self.timeline.add(None, "marked_released", arn)

    def cleanup(self) -> List[str]:
        """Deregister revisions beyond the newest ``keep_revisions`` that no service uses."""
        keep = self.options.keep_revisions
        if not keep or not any(p.decision == DEPLOY for p in self.plans):
            return []
        in_use = set()
        for cluster in sorted({p.request.cluster for p in self.plans}):
            arns = self.ecs.list_services(cluster)
            for svc in self.ecs.describe_services(cluster, arns)["services"] if arns else []:
                in_use.add(svc.get("taskDefinition"))
                in_use.update(d.get("taskDefinition") for d in svc.get("deployments") or [])
        removed = []
        for family in sorted({family_of(p.revision.arn) for p in self.plans if p.decision == DEPLOY and p.revision.arn}):
            for arn in revisions_to_deregister(self.family_revisions(family), keep, in_use):
                self.ecs.deregister_task_definition(arn)
                removed.append(arn)
                self.timeline.add(None, "deregistered", arn)
        return removed

    # reporting ----------------------------------------------------------------------------
    def _calls(self) -> Dict[str, Dict[str, int]]:
        return combined_calls([a for a in (self.ecs, self.elbv2, self.logs) + tuple(self.secret_apis or ()) if a is not None])

    def _main_image(self, revision: Optional[str], service: str) -> Optional[str]:
        """The image of the service's own container (named like it, else the first essential) in a described revision."""
        if not revision or revision not in self._described:
            return None
        containers = self._described[revision]["taskDefinition"].get("containerDefinitions") or []
        own = [c for c in containers if c.get("name") == service] or [c for c in containers if c.get("essential", True)]
        return own[0].get("image") if own else None

    def _duration(self, service: str) -> Optional[float]:
        """Seconds from the service's update (or the start of awaiting it) to its last event in the timeline."""
        times = [e["t"] for e in self.timeline.events if e.get("service") == service]
        starts = [e["t"] for e in self.timeline.events if e.get("service") == service
                  and e.get("event") in ("release_update", "awaiting")]
        return round(times[-1] - starts[0], 1) if starts and times else None

    def _counts(self, sp: ServicePlan) -> Dict[str, Any]:
        """Tasks running/desired and targets healthy/total as last seen (the planner's read for unchanged services)."""
        judged = self.watcher.last_judgements.get(sp.request.key) if self.watcher else None
        judged = self.native.last_judgements.get(sp.request.key, judged) or self.steady.get(sp.request.key)
        summary = judged.summary if judged and judged.summary else {}
        svc = sp.service or {}
        tasks = {"running": summary.get("running", svc.get("runningCount")), "desired": summary.get("desired", svc.get("desiredCount"))}
        out: Dict[str, Any] = {"tasks": tasks}
        if "targets" in summary:
            out["targets"] = {"healthy": summary.get("healthy_targets", 0), "total": summary["targets"]}
        return out

    def _services_report(self) -> List[Dict[str, Any]]:
        out = []
        for sp in self.plans:
            track = self.tracks.get(sp.request.key)
            entry = {
                "name": sp.name,
                "cluster": sp.request.cluster,
                "action": sp.decision,
                "reason": sp.reason,
                "revision_before": sp.current_revision,
                "previous_good_revision": sp.previous_revision,
                "revision": sp.revision.arn,
                "registered": sp.revision.register_kwargs is not None and sp.decision == DEPLOY,
                "reused_revision": sp.revision.reused,
                "task_definition_changes": sp.revision.changes,
                "changed_fields": sp.revision.changed_fields,
                "deployment_id": track.deployment_id if track and track.purpose != "rollback" else None,
                "image": self._main_image(sp.revision.arn or sp.current_revision, sp.name),
                "strategy": str(((sp.service or {}).get("deploymentConfiguration") or {}).get("strategy") or "rolling").lower(),
                "duration": self._duration(sp.name),
            }
            entry.update(self._counts(sp))
            entry.update(self.outcomes.get(sp.request.key, {"status": "planned" if self.options.check_mode else "not_started"}))
            out.append(entry)
        return out

    def _result(self, plan: Any, check_mode: bool = False, migration: Optional[Dict[str, Any]] = None,
                deregistered: Optional[List[str]] = None) -> Result:
        data: Dict[str, Any] = {
            "services": self._services_report(),
            "timeline": self.timeline.events,
            "api_calls": self._calls(),
            "deregistered": deregistered or [],
            "progress": self.progress.samples,
        }
        if self.held:
            data["held"] = self.held
        if migration is not None:
            data["migration"] = migration
        elif self.options.migration and check_mode and any(p.decision == DEPLOY for p in self.plans):
            data["migration"] = {"command": self.options.migration["command"], "status": "would run"}
        return Result(changed=plan.changed, plan=plan, data=data, warnings=self.warnings)
