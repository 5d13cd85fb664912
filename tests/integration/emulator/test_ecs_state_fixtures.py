"""The described-state fixtures the unit tests' fakes replay, recorded again from the emulator.

``tests/fixtures/ecs_states/<scenario>.json`` holds what ECS and ELBv2 answered over time in one
scenario (a release of an image with a given behaviour onto a service steady on a healthy
revision, or a one-off task): per deployment (its role: ``new``, ``old``, ECS's ``rollback``) and
per task, every change of what DescribeServices, DescribeTasks and DescribeTargetHealth said,
with the AWS second it was first seen, and the service events.  The unit tests' fakes
(tests/unit/plugins/module_utils/_deploy/fakes.py) answer from these files, so the unit tests
and the emulator give one account of what ECS does.

Each test here records its scenario again and fails when the answer differs from the file.
After a deliberate change of the emulator, write the files again with

    SHIPYARD_RECORD_ECS_STATES=1 .venv/bin/pytest tests/integration/emulator/test_ecs_state_fixtures.py

and review the diff: it is the change in ECS behaviour the unit tests will see.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, Dict, List, Optional

import pytest

from integration.emulator.stack import CLUSTER

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
FIXTURES = os.path.join(REPO, "tests", "fixtures", "ecs_states")
RECORD = os.environ.get("SHIPYARD_RECORD_ECS_STATES") == "1"
STEP = 5.0
IMAGE_V1 = "users:1"
IMAGE_V2 = "users:2"
MIGRATION = "users:migrate"

# name: (what happens, the new image's behaviour, circuit breaker, load balanced, AWS seconds to record)
RELEASES = {
    "healthy": ("a healthy image rolls out", {"kind": "healthy"}, (False, False), True, 900),
    "healthy_breaker": ("a healthy image rolls out, circuit breaker with rollback on", {"kind": "healthy"},
                        (True, True), True, 900),
    "healthy_no_load_balancer": ("a healthy image rolls out on a service without a load balancer", {"kind": "healthy"},
                                 (False, False), False, 300),
    "crash_loop": ("the essential container exits 3 five seconds after it started, circuit breaker off",
                   {"kind": "crash", "exit_code": 3, "after_seconds": 5}, (False, False), True, 600),
    "crash_loop_late": ("the essential container exits 3 thirty seconds after it started, circuit breaker off",
                        {"kind": "crash", "exit_code": 3, "after_seconds": 30}, (False, False), True, 600),
    "crash_loop_breaker_rollback": ("a crash loop with the circuit breaker and its rollback on",
                                    {"kind": "crash", "exit_code": 3, "after_seconds": 5}, (True, True), True, 900),
    "crash_loop_breaker_no_rollback": ("a crash loop with the circuit breaker on and its rollback off",
                                       {"kind": "crash", "exit_code": 3, "after_seconds": 5}, (True, False), True, 600),
    "failing_health_checks": ("the tasks run but fail their ELB health checks, circuit breaker off",
                              {"kind": "unhealthy"}, (False, False), True, 900),
    "failing_health_checks_long_grace": ("the tasks run but fail their ELB health checks; a health-check grace period "
                                         "longer than the release keeps them", {"kind": "unhealthy"}, (False, False),
                                         True, 600),
    "pull_error": ("the image cannot be pulled, circuit breaker off", {"kind": "pull_error"}, (False, False), True, 600),
    "slow_start": ("the tasks stay PENDING for longer than any release waits", {"kind": "slow_start", "start_seconds": 100000},
                   (False, False), True, 900),
}
# A service whose first deployment failed (so none ever COMPLETED), then a crash-looping release.
FIRST_FAILED = {
    "crash_loop_never_completed": ("a crash loop with the circuit breaker and rollback on, on a service whose first "
                                   "deployment failed", {"kind": "crash", "exit_code": 3, "after_seconds": 5}, (True, True),
                                   True, 600),
}
ONE_OFF = {
    "one_off_exit_0": ("a one-off task exits 0", {"kind": "exit", "exit_code": 0, "after_seconds": 5}, 120),
    "one_off_exit_3": ("a one-off task exits 3", {"kind": "exit", "exit_code": 3, "after_seconds": 5}, 120),
    "one_off_pull_error": ("a one-off task whose image cannot be pulled", {"kind": "pull_error"}, 120),
    "one_off_runs_long": ("a one-off task that runs longer than any release waits",
                          {"kind": "exit", "exit_code": 0, "after_seconds": 100000}, 900),
}


class Names:
    """Stable names for what AWS names at random: deployments, tasks, revisions, the target group."""

    def __init__(self) -> None:
        self.names: Dict[str, str] = {}
        self.counts: Dict[str, int] = {}

    def add(self, real: str, name: str) -> str:
        self.names.setdefault(real, name)
        return self.names[real]

    def task(self, arn: str, role: str) -> str:
        short = arn.rsplit("/", 1)[-1]
        if short not in self.names:
            self.counts[role] = self.counts.get(role, 0) + 1
            self.names[short] = "%s-%d" % (role, self.counts[role])
        return self.names[short]

    def text(self, message: str) -> str:
        for real in sorted(self.names, key=len, reverse=True):
            message = message.replace(real, "{%s}" % self.names[real])
        # Task ids not (yet) seen in a task listing, and random numbers in messages.
        return re.sub(r"\b[0-9a-f]{32}\b", "{task}", message)


def _essential_exit(task: Dict[str, Any]) -> Optional[int]:
    for container in task.get("containers") or []:
        if container.get("name") == "users":
            return container.get("exitCode")
    return None


class Recorder:
    """Samples a service (or a one-off task) every STEP AWS seconds; keeps each change with its time."""

    def __init__(self, stack: Any, names: Names) -> None:
        self.stack = stack
        self.names = names
        self.deployments: Dict[str, List[List[Any]]] = {}
        self.tasks: Dict[str, Dict[str, Any]] = {}
        self.events: List[List[Any]] = []
        self._last: Dict[str, Dict[str, Any]] = {}
        self._seen_events: set = set()

    def _change(self, log: List[List[Any]], key: str, t: float, state: Dict[str, Any]) -> None:
        before = self._last.get(key, {})
        diff = {k: v for k, v in state.items() if before.get(k, "absent") != v}
        if diff:
            log.append([t, diff])
            self._last[key] = dict(before, **diff)

    def sample_service(self, t: float, roles: Dict[str, str]) -> None:
        svc = self.stack.service()
        present = set()
        for dep in svc["deployments"]:
            if dep["id"] not in roles:
                roles[dep["id"]] = "rollback"
                self.names.add(dep["id"], "dep:rollback")
            role = roles[dep["id"]]
            present.add(role)
            self._change(self.deployments.setdefault(role, []), "dep:" + role, t, {
                "present": True, "status": dep["status"], "rolloutState": dep.get("rolloutState"),
                "rolloutStateReason": self.names.text(dep.get("rolloutStateReason") or ""),
                "failedTasks": dep.get("failedTasks", 0), "runningCount": dep.get("runningCount", 0),
                "pendingCount": dep.get("pendingCount", 0), "desiredCount": dep.get("desiredCount", 0)})
        for role, log in self.deployments.items():
            if role not in present:
                self._change(log, "dep:" + role, t, {"present": False})
        health = self.stack.target_health() if svc.get("loadBalancers") else []
        tasks = self.stack.tasks("RUNNING") + self.stack.tasks("STOPPED")
        for task in sorted(tasks, key=lambda x: str(x.get("createdAt"))):
            role = roles.get(task.get("startedBy"), "other")
            self._task(t, task, role, health)
        for event in reversed(svc.get("events") or []):
            if event["id"] not in self._seen_events:
                self._seen_events.add(event["id"])
                self.events.append([t, self.names.text(event["message"])])

    def _task(self, t: float, task: Dict[str, Any], role: str, health: List[Dict[str, Any]]) -> None:
        name = self.names.task(task["taskArn"], role)
        entry = self.tasks.setdefault(name, {"deployment": role, "changes": []})
        ip = None
        for attachment in task.get("attachments") or []:
            for detail in attachment.get("details") or []:
                if detail.get("name") == "privateIPv4Address":
                    ip = detail.get("value")
        target = None
        if ip and task.get("lastStatus") == "RUNNING":
            matches = [h for h in health if h["Target"]["Id"] == ip]
            live = [h for h in matches if h["TargetHealth"]["State"] != "draining"] or matches
            if live:
                state = live[0]["TargetHealth"]
                target = {"state": state["State"], "reason": state.get("Reason"), "description": state.get("Description")}
        self._change(entry["changes"], "task:" + name, t, {
            "lastStatus": task.get("lastStatus"), "desiredStatus": task.get("desiredStatus"),
            "stopCode": task.get("stopCode"), "stoppedReason": self.names.text(task.get("stoppedReason") or "") or None,
            "exitCode": _essential_exit(task), "target": target})


def _service_with_breaker(stack: Any, image: str, breaker: Any, load_balanced: bool, scenario: str) -> None:
    extra = {"healthCheckGracePeriodSeconds": 100000} if scenario.endswith("_long_grace") else {}
    stack.create_service(image=image, load_balanced=load_balanced, deploymentConfiguration={
        "deploymentCircuitBreaker": {"enable": breaker[0], "rollback": breaker[1]},
        "maximumPercent": 200, "minimumHealthyPercent": 100}, **extra)


def record_release(stack: Any, aws: Any, scenario: str) -> Dict[str, Any]:
    first_failed = scenario in FIRST_FAILED
    what, behaviour, breaker, load_balanced, horizon = (FIRST_FAILED if first_failed else RELEASES)[scenario]
    names = Names()
    params = {k: v for k, v in behaviour.items() if k != "kind"}
    if first_failed:
        aws.set_behaviour(IMAGE_V1, behaviour["kind"], **params)
    _service_with_breaker(stack, IMAGE_V1, breaker, load_balanced, scenario)
    spent = 0.0
    while True:
        deployments = stack.deployments()
        if len(deployments) == 1 and deployments[0]["rolloutState"] in (("FAILED",) if first_failed else ("COMPLETED",)):
            break
        assert spent < 3600, deployments
        stack.advance(30)
        spent += 30
    old = stack.deployments()[0]
    aws.set_behaviour(IMAGE_V2, behaviour["kind"], **params)
    names.add(stack.target_group, "tg")
    names.add(old["id"], "dep:old")
    names.add(old["taskDefinition"], "rev:old")
    recorder = Recorder(stack, names)
    # Events before the release are the service's history, not the scenario's.
    recorder._seen_events.update(event["id"] for event in stack.service()["events"])
    # What the old deployment's tasks looked like before the release: their names, not their history.
    for task in stack.tasks("RUNNING"):
        names.task(task["taskArn"], "old")
    # The service before the release (t = -1): what a steady (or failed) service looks like.
    recorder.sample_service(-1.0, {old["id"]: "old"})
    new_rev = stack.task_definition(IMAGE_V2)
    names.add(new_rev, "rev:new")
    updated = stack.ecs.update_service(cluster=CLUSTER, service="users", taskDefinition=new_rev)["service"]
    new = next(d for d in updated["deployments"] if d["status"] == "PRIMARY")
    names.add(new["id"], "dep:new")
    roles = {old["id"]: "old", new["id"]: "new"}
    t = 0.0
    while t <= horizon:
        recorder.sample_service(t, roles)
        stack.advance(STEP)
        t += STEP
    return {"scenario": scenario, "what": what, "behaviour": behaviour,
            "circuit_breaker": {"enable": breaker[0], "rollback": breaker[1]}, "load_balanced": load_balanced,
            "desired": 2, "step": STEP, "horizon": horizon, "deployments": recorder.deployments,
            "tasks": recorder.tasks, "events": recorder.events}


def record_one_off(stack: Any, aws: Any, scenario: str) -> Dict[str, Any]:
    what, behaviour, horizon = ONE_OFF[scenario]
    aws.set_behaviour(MIGRATION, behaviour["kind"], **{k: v for k, v in behaviour.items() if k != "kind"})
    rev = stack.task_definition(MIGRATION)
    names = Names()
    recorder = Recorder(stack, names)
    task = stack.ecs.run_task(cluster=CLUSTER, taskDefinition=rev, launchType="FARGATE", networkConfiguration={
        "awsvpcConfiguration": {"subnets": stack.subnets, "securityGroups": [stack.security_group]}})["tasks"][0]
    t = 0.0
    while t <= horizon:
        described = stack.ecs.describe_tasks(cluster=CLUSTER, tasks=[task["taskArn"]])["tasks"][0]
        recorder._task(t, described, "one-off", [])
        stack.advance(STEP)
        t += STEP
    return {"scenario": scenario, "what": what, "behaviour": behaviour, "step": STEP, "horizon": horizon,
            "tasks": recorder.tasks}


def _check(scenario: str, recorded: Dict[str, Any]) -> None:
    path = os.path.join(FIXTURES, scenario + ".json")
    text = json.dumps(recorded, indent=1, sort_keys=True) + "\n"
    if RECORD:
        os.makedirs(FIXTURES, exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        return
    assert os.path.exists(path), "%s is missing: record it (see this file's docstring)" % path
    stored = json.load(open(path, encoding="utf-8"))
    assert stored == json.loads(text), (
        "the emulator no longer answers as %s says (the unit tests' fakes replay it): record it again and "
        "review the difference" % path)


@pytest.mark.slow
@pytest.mark.parametrize("scenario", sorted(RELEASES) + sorted(FIRST_FAILED))
def test_a_release_scenario_is_what_the_emulator_answers(stack, paused, scenario):
    _check(scenario, record_release(stack, paused, scenario))


@pytest.mark.parametrize("scenario", sorted(ONE_OFF))
def test_a_one_off_task_scenario_is_what_the_emulator_answers(stack, paused, scenario):
    _check(scenario, record_one_off(stack, paused, scenario))


def test_every_fixture_file_has_a_scenario_that_records_it():
    known = set(RELEASES) | set(FIRST_FAILED) | set(ONE_OFF)
    stored = {name[:-5] for name in os.listdir(FIXTURES) if name.endswith(".json")} if os.path.isdir(FIXTURES) else set()
    assert stored == known, "fixtures without a scenario: %s; scenarios without a fixture: %s" % (
        sorted(stored - known), sorted(known - stored))
