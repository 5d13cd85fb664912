# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""The release planner: what each service of a release needs, as pure functions.

For each service the runner reads the service, the task definition it runs and (only when
the rendered revision differs) the newest revisions of the family; :func:`choose_revision`
and :func:`classify` then decide, without any AWS call, whether the service is a no-op, has a
rollout to await, or needs a deployment (and whether a revision must be registered first).
:func:`build_plan` turns the decisions into the :class:`Plan` check mode and ``--diff`` show.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.result import Action, Plan
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.taskdef import (
    readable_task_definition,
    task_definition_changes,
    task_definitions_equal,
)

from .readiness import DONE, Judgement, last_completed_revision, primary_deployment

NOOP = "noop"
AWAIT = "await"
DEPLOY = "deploy"


@dataclass
class ServiceRequest:
    """One service of the release, as the user asked for it."""

    name: str
    cluster: str
    images: Any = None
    environment: Optional[Dict[str, Any]] = None
    secrets: Optional[Dict[str, Any]] = None
    container_definitions: Optional[Dict[str, Any]] = None
    task_definition: Optional[str] = None
    order: int = 0
    # register kwargs rendered from ``services[].definition``: the whole revision to run
    definition: Optional[Dict[str, Any]] = None
    # ``test_traffic``: checks run when an ECS-native deployment waits at a PAUSE hook
    test_traffic: Optional[Dict[str, Any]] = None

    @property
    def key(self):
        return (self.cluster, self.name)

    @property
    def has_changes(self) -> bool:
        return any(v is not None for v in (self.images, self.environment, self.secrets, self.container_definitions))


@dataclass
class RevisionChoice:
    """The revision a service should run: an existing ARN, or kwargs still to register."""

    arn: Optional[str]
    register_kwargs: Optional[Dict[str, Any]] = None
    reused: bool = False
    changes: List[Dict[str, Any]] = field(default_factory=list)
    before: Optional[Dict[str, Any]] = None
    after: Optional[Dict[str, Any]] = None

    @property
    def changed_fields(self) -> List[str]:
        """The paths of the fields that differ (``containers.users.environment.APP_SETTINGS``, ``cpu``)."""
        return [c["path"] for c in self.changes]


@dataclass
class ServicePlan:
    """What the release does to one service, and why."""

    request: ServiceRequest
    service: Dict[str, Any]
    current_revision: Optional[str]
    previous_revision: Optional[str]
    revision: RevisionChoice
    decision: str
    reason: str
    force: bool = False
    await_deployment: Optional[str] = None

    @property
    def name(self) -> str:
        return self.request.name


def choose_revision(current: Dict[str, Any], rendered: Optional[Dict[str, Any]],
                    candidates: List[Dict[str, Any]], explicit: Optional[Dict[str, Any]] = None) -> RevisionChoice:
    """Pick the revision to run.

    ``current`` is the described definition the service runs; ``rendered`` the register kwargs
    of the desired one (None when nothing is to change); ``candidates`` described ACTIVE
    revisions of the family, newest first, checked so that a definition already registered is
    reused instead of registered again; ``explicit`` a described revision the user named.
    Both sides are compared normalised (AWS's defaults known, order-free lists sorted, tags
    aside); the changes and the before/after documents are in the readable form of
    :func:`readable_task_definition`.
    """
    current_td = current.get("taskDefinition", current)
    if explicit is not None:
        target = explicit.get("taskDefinition", explicit)
        changes = task_definition_changes(current_td, target)
        return RevisionChoice(target.get("taskDefinitionArn"), None, True, changes,
                              readable_task_definition(current_td), readable_task_definition(target))
    if rendered is None or task_definitions_equal(current_td, rendered):
        return RevisionChoice(current_td.get("taskDefinitionArn"))
    changes = task_definition_changes(current_td, rendered)
    before, after = readable_task_definition(current_td), readable_task_definition(rendered)
    for candidate in candidates:
        cand_td = candidate.get("taskDefinition", candidate)
        if task_definitions_equal(cand_td, rendered):
            return RevisionChoice(cand_td.get("taskDefinitionArn"), None, True, changes, before, after)
    return RevisionChoice(None, rendered, False, changes, before, after)


def classify(request: ServiceRequest, service: Dict[str, Any], choice: RevisionChoice,
             steady: Optional[Judgement], force_new_deployment: bool = False) -> ServicePlan:
    """No-op, await or deploy, for one service.

    ``steady`` is the readiness verdict on the service's PRIMARY deployment as it stands
    (None when the PRIMARY does not run the desired revision).
    """
    primary = primary_deployment(service) or {}
    current = primary.get("taskDefinition") or service.get("taskDefinition")
    previous = last_completed_revision(service)
    plan = ServicePlan(request, service, current, previous, choice, DEPLOY, "")
    on_desired = choice.arn is not None and current == choice.arn
    if not on_desired:
        plan.reason = "runs %s, release wants %s" % (current, choice.arn or "a new revision of %s" % _family(current))
        return plan
    if force_new_deployment:
        plan.reason, plan.force = "force_new_deployment requested", True
        return plan
    if primary.get("rolloutState") == "FAILED":
        plan.reason, plan.force = "the last deployment of %s failed; deploying it again" % current, True
        return plan
    if steady is not None and steady.status == DONE:
        plan.decision, plan.reason = NOOP, "already completed on %s" % current
        return plan
    plan.decision, plan.await_deployment = AWAIT, primary.get("id")
    plan.reason = "a rollout to %s is under way (%s)" % (current, steady.reason if steady else "not steady")
    return plan


def _family(arn: Optional[str]) -> str:
    if not arn:
        return "?"
    return arn.rsplit("/", 1)[-1].rsplit(":", 1)[0]


def build_plan(plans: List[ServicePlan], migration: Optional[Dict[str, Any]] = None,
               unmarked: Optional[List[ServicePlan]] = None) -> Plan:
    """The actions of a release: registrations, the migration, service updates, marks of verified revisions.

    ``unmarked`` are services on their desired revision that no release marked as verified: the
    run marks them once it has verified them (see ``ReleaseRunner.unmarked_revisions``).
    """
    plan = Plan()
    deploying = [p for p in plans if p.decision == DEPLOY]
    for sp in deploying:
        if sp.revision.register_kwargs is not None:
            plan.add(Action("register", "task_definition", sp.revision.register_kwargs.get("family") or _family(sp.current_revision),
                            "the definition differs from %s in %s" % (sp.current_revision,
                                                                      ", ".join(sp.revision.changed_fields)),
                            before=sp.revision.before, after=sp.revision.after, changes=sp.revision.changes))
    if migration and deploying:
        plan.add(Action("run_task", "migration", migration["service"], "run %s on the new revision before updating services"
                        % " ".join(migration["command"])))
    for sp in deploying:
        family = (sp.revision.register_kwargs or {}).get("family") or _family(sp.current_revision)
        target = sp.revision.arn or "new revision of %s" % family
        before: Dict[str, Any] = {"task_definition": sp.current_revision}
        after: Dict[str, Any] = {"task_definition": target, "force_new_deployment": sp.force}
        if sp.revision.register_kwargs is None and sp.revision.changes:
            # A reused revision has no register action to show its content: the update shows it.
            before["definition"], after["definition"] = sp.revision.before, sp.revision.after
        plan.add(Action("update", "service", sp.name, sp.reason, before=before, after=after,
                        changes=[{"path": "taskDefinition", "before": sp.current_revision, "after": target}]
                        + [dict(c, path="definition." + c["path"]) for c in sp.revision.changes
                           if sp.revision.register_kwargs is None]))
    for sp in unmarked or []:
        plan.add(Action("mark_released", "task_definition", sp.current_revision or "",
                        "%s runs it%s but no release marked it verified (a release interrupted before its end, or the "
                        "service's first revision)" % (sp.name, "" if sp.decision == NOOP else " once its rollout completes")))
    return plan
