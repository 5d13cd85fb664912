"""ECS / ELBv2 / CloudWatch Logs for the release state machine, on a fake clock, answering
from described states recorded from the emulator.

What ECS does over time (deployments, rollout states, failed tasks, the circuit breaker and its
rollback, tasks and their stop reasons and exit codes, target health, events, one-off tasks)
comes from tests/fixtures/ecs_states/, which tests/integration/emulator/test_ecs_state_fixtures.py
records from the emulator and checks against it: one account of ECS for both.  A test says
how an image behaves ("this image crash-loops"); the deployment then plays that scenario's
recording on the fake clock.
"""

from __future__ import annotations

import copy
import itertools
import json
import os
import threading
from typing import Any, Dict, List, Optional

from botocore.exceptions import ClientError

REGION_ACCOUNT = "us-east-1:123456789012"


class FakeClock:
    """Monotonic clock whose time moves only when the code under test sleeps."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: List[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def client_error(code: str, op: str, status: int = 400) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, op)


FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), *([os.pardir] * 4), "fixtures", "ecs_states")
_LOADED: Dict[str, Dict[str, Any]] = {}


def recorded(name: str) -> Dict[str, Any]:
    """One scenario of tests/fixtures/ecs_states (recorded from the emulator)."""
    if name not in _LOADED:
        with open(os.path.join(FIXTURES, name + ".json"), encoding="utf-8") as handle:
            _LOADED[name] = json.load(handle)
    return _LOADED[name]


def fold(changes: List[List[Any]], age: float) -> Optional[Dict[str, Any]]:
    """The state a change log says at ``age`` (None before its first change)."""
    state: Optional[Dict[str, Any]] = None
    for t, diff in changes:
        if t > age:
            break
        state = dict(state or {}, **diff)
    return state


HEALTHY = {"kind": "healthy"}


def scenario_for(kind: str, params: Dict[str, Any], breaker: Dict[str, bool], load_balanced: bool,
                 ever_completed: bool, grace: bool) -> str:
    """The recorded scenario of a release of an image that behaves as ``kind`` on such a service."""
    if kind == "healthy":
        if not load_balanced:
            return "healthy_no_load_balancer"
        return "healthy_breaker" if breaker["enable"] else "healthy"
    if kind == "crash":
        assert params.get("exit_code", 3) == 3, "the recorded crash loops exit 3"
        if params.get("after", 5.0) >= 30:
            return "crash_loop_late"
        if breaker["enable"] and breaker["rollback"]:
            return "crash_loop_breaker_rollback" if ever_completed else "crash_loop_never_completed"
        return "crash_loop_breaker_no_rollback" if breaker["enable"] else "crash_loop"
    if kind == "unhealthy":
        return "failing_health_checks_long_grace" if grace else "failing_health_checks"
    if kind == "pull_error":
        return "pull_error"
    if kind == "stuck":
        return "slow_start"
    raise AssertionError("no recorded scenario for %s %s" % (kind, params))


class FakeAws:
    """ECS, ELBv2 and Logs clients sharing one world and one clock.

    What ECS does over time is not modelled here: each deployment plays a role (``new``,
    ``old``, ``rollback``) of a scenario recorded from the emulator, from the moment its
    scenario started; this class keeps only the bookkeeping (task definitions, tags, which
    deployment plays which role, one-off tasks, faults) and names what the recording names.
    """

    def __init__(self, clock: Optional[FakeClock] = None) -> None:
        self.clock = clock or FakeClock()
        self.lock = threading.RLock()
        self.ids = itertools.count(1)
        self.task_definitions: Dict[str, Dict[str, Any]] = {}
        self.td_tags: Dict[str, List[Dict[str, str]]] = {}
        self.services: Dict[str, Dict[str, Any]] = {}
        self.behaviours: Dict[str, Dict[str, Any]] = {}
        self.one_off: Dict[str, Dict[str, Any]] = {}
        self.one_off_behaviours: Dict[str, Dict[str, Any]] = {}
        self.calls: List[str] = []
        self.faults: Dict[str, List[str]] = {}
        self.hooks: List[Any] = []
        self.log_streams: Dict[str, List[str]] = {}
        self.ecs = _Client(self, "ecs")
        self.elbv2 = _Client(self, "elbv2")
        self.logs = _Client(self, "logs")

    # scripting ------------------------------------------------------------------------------
    def behave(self, image: str, kind: str, **params: Any) -> None:
        """How tasks running ``image`` behave (healthy, crash, unhealthy, pull_error, stuck)."""
        self.behaviours[image] = dict(params, kind=kind)

    def at(self, t: float, action) -> None:
        """Run ``action(world)`` once the clock reaches ``t`` seconds from now."""
        self.hooks.append([self.clock.now + t, action])

    def fail_next(self, operation: str, count: int, code: str = "ThrottlingException") -> None:
        self.faults.setdefault(operation, []).extend([code] * count)

    def register(self, family: str, image: str, containers: Optional[List[Dict[str, Any]]] = None,
                 network_mode: str = "awsvpc") -> str:
        containers = containers or [{"name": family, "image": image, "essential": True,
                                     "portMappings": [{"containerPort": 5000, "hostPort": 5000, "protocol": "tcp"}],
                                     "logConfiguration": {"logDriver": "awslogs", "options": {
                                         "awslogs-group": "/ecs/%s" % family, "awslogs-region": "us-east-1",
                                         "awslogs-stream-prefix": "ecs"}}}]
        return self._register({"family": family, "networkMode": network_mode, "containerDefinitions": containers,
                               "requiresCompatibilities": ["FARGATE"], "cpu": "256", "memory": "512"})

    def service(self, name: str, task_definition: str, desired: int = 2, cluster: str = "app", breaker: bool = False,
                rollback: bool = True, target_group: bool = True, completed: bool = True,
                health_check_grace: bool = False) -> Dict[str, Any]:
        """A service steady on ``task_definition`` (``completed=False``: its first deployment FAILED,
        so no deployment of the service ever completed), as the recordings saw it before a release."""
        assert desired == 2, "the recorded scenarios run 2 tasks"
        svc = {
            "serviceName": name,
            "serviceArn": "arn:aws:ecs:%s:service/%s/%s" % (REGION_ACCOUNT, cluster, name),
            "clusterArn": "arn:aws:ecs:%s:cluster/%s" % (REGION_ACCOUNT, cluster),
            "status": "ACTIVE",
            "desiredCount": desired,
            "launchType": "FARGATE",
            "taskDefinition": task_definition,
            "deploymentController": {"type": "ECS"},
            "deploymentConfiguration": {"deploymentCircuitBreaker": {"enable": breaker, "rollback": rollback},
                                        "maximumPercent": 200, "minimumHealthyPercent": 100},
            "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"], "securityGroups": ["sg-1"]}},
            "loadBalancers": [{"targetGroupArn": "arn:aws:elasticloadbalancing:%s:targetgroup/%s/abc" % (REGION_ACCOUNT, name),
                               "containerName": name, "containerPort": 5000}] if target_group else [],
            "events": [],
            "deployments": [],
            "_cluster": cluster,
            "_gone": [],
            "_grace": health_check_grace,
        }
        before = ("healthy" if target_group else "healthy_no_load_balancer") if completed else "crash_loop_never_completed"
        dep = self._deployment(svc, task_definition)
        dep["_plays"] = (before, "old", None, {})
        dep["_before_release"] = True
        svc["deployments"] = [dep]
        svc["_scenario"] = None
        self.services[name] = svc
        return svc

    def replace(self, service: str, task_definition: str) -> None:
        """Someone else starts a deployment (another pipeline, the console)."""
        self._start(self.services[service], task_definition)

    # bookkeeping ----------------------------------------------------------------------------
    def _register(self, kwargs: Dict[str, Any]) -> str:
        family = kwargs["family"]
        revision = 1 + sum(1 for td in self.task_definitions.values() if td["family"] == family)
        arn = "arn:aws:ecs:%s:task-definition/%s:%d" % (REGION_ACCOUNT, family, revision)
        td = copy.deepcopy({k: v for k, v in kwargs.items() if k != "tags"})
        td.update(taskDefinitionArn=arn, revision=revision, status="ACTIVE")
        self.task_definitions[arn] = td
        self.td_tags[arn] = list(kwargs.get("tags") or [])
        return arn

    def _resolve(self, name: str) -> str:
        if name in self.task_definitions:
            return name
        for arn, td in self.task_definitions.items():
            if "%s:%s" % (td["family"], td["revision"]) == name:
                return arn
        raise client_error("ClientException", "DescribeTaskDefinition")

    def _behaviour(self, td_arn: str) -> Dict[str, Any]:
        for container in self.task_definitions[td_arn]["containerDefinitions"]:
            if container.get("image") in self.behaviours:
                return self.behaviours[container["image"]]
        return HEALTHY

    def _deployment(self, svc: Dict[str, Any], td: str) -> Dict[str, Any]:
        return {"id": "ecs-svc/%d" % next(self.ids), "taskDefinition": td, "createdAt": self.clock.now,
                "_frozen": []}

    def _ever_completed(self, svc: Dict[str, Any]) -> bool:
        return any((self._state(svc, d) or {}).get("rolloutState") == "COMPLETED" for d in svc["deployments"] + svc["_gone"])

    def _start(self, svc: Dict[str, Any], td: str) -> Dict[str, Any]:
        """A new deployment: it plays ``new`` of the scenario its image's behaviour recorded; the
        deployments it replaces play that scenario's ``old`` from now on."""
        self._advance(svc)
        beh = self._behaviour(td)
        name = scenario_for(beh["kind"], beh, svc["deploymentConfiguration"]["deploymentCircuitBreaker"],
                            bool(svc["loadBalancers"]), self._ever_completed(svc), svc["_grace"])
        start = self.clock.now
        names: Dict[str, str] = {}
        dep = self._deployment(svc, td)
        names["dep:new"] = dep["id"]
        names["rev:new"] = td
        for old in svc["deployments"]:
            # What the replaced deployment's tasks already went through stays (stopped tasks are listed).
            old["_frozen"] = [t for t in self._dep_tasks(svc, old) if t["lastStatus"] == "STOPPED"]
            old["_plays"] = (name, "old", start, names)
            names.setdefault("dep:old", old["id"])
            names.setdefault("rev:old", old["taskDefinition"])
        dep["_plays"] = (name, "new", start, names)
        svc["deployments"].insert(0, dep)
        svc["taskDefinition"] = td
        svc["_scenario"] = {"name": name, "start": start, "names": names, "events_until": -1.0}
        return dep

    def _age(self, dep: Dict[str, Any]) -> float:
        """Seconds into the deployment's scenario (-1: the service as recorded before the release)."""
        start = dep["_plays"][2]
        return -1.0 if start is None else self.clock.now - start

    def _service_deployment_status(self, svc: Dict[str, Any], dep: Dict[str, Any]) -> str:
        """The ListServiceDeployments status of one deployment (as the emulator reports it)."""
        state = self._state(svc, dep) or {}
        rollback = svc["_scenario"]["names"].get("dep:rollback") if svc["_scenario"] else None
        if rollback and dep["_plays"][1] == "new" and dep["_plays"][0] == svc["_scenario"]["name"]:
            rolled = next(d for d in svc["deployments"] + svc["_gone"] if d["id"] == rollback)
            done = (self._state(svc, rolled) or {}).get("rolloutState") == "COMPLETED"
            return "ROLLBACK_SUCCESSFUL" if done else "ROLLBACK_IN_PROGRESS"
        if state.get("rolloutState") == "COMPLETED":
            return "SUCCESSFUL"
        if state.get("rolloutState") == "FAILED" or state.get("status") != "PRIMARY":
            return "STOPPED"
        return "IN_PROGRESS"

    def _state(self, svc: Dict[str, Any], dep: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        name, role, _start, _names = dep["_plays"]
        return fold(recorded(name)["deployments"].get(role, []), self._age(dep))

    def _text(self, svc: Dict[str, Any], dep: Dict[str, Any], message: Optional[str]) -> Optional[str]:
        if not message:
            return message
        names = dict(dep["_plays"][3], tg=(svc["loadBalancers"] or [{}])[0].get("targetGroupArn", ""))
        names.setdefault("dep:%s" % dep["_plays"][1], dep["id"])
        for key, value in names.items():
            message = message.replace("{%s}" % key, value)
        return message

    def _advance(self, svc: Dict[str, Any]) -> None:
        for hook in list(self.hooks):
            if self.clock.now >= hook[0]:
                self.hooks.remove(hook)
                hook[1](self)
        scenario = svc.get("_scenario")
        if scenario is None:
            return
        doc = recorded(scenario["name"])
        age = self.clock.now - scenario["start"]
        names = scenario["names"]
        rollback = fold(doc["deployments"].get("rollback", []), age)
        if rollback and "dep:rollback" not in names:
            # ECS's circuit breaker returns the service to the deployment playing ``old``: it COMPLETED.
            old = next(d for d in svc["deployments"] + svc["_gone"] if d["id"] == names["dep:old"])
            dep = self._deployment(svc, old["taskDefinition"])
            dep["createdAt"] = scenario["start"] + doc["deployments"]["rollback"][0][0]
            names["dep:rollback"] = dep["id"]
            dep["_plays"] = (scenario["name"], "rollback", scenario["start"], names)
            svc["deployments"].insert(0, dep)
            svc["taskDefinition"] = old["taskDefinition"]
        for t, message in doc["events"]:
            if scenario["events_until"] < t <= age:
                text = message
                for key, value in dict(names, tg=(svc["loadBalancers"] or [{}])[0].get("targetGroupArn", "")).items():
                    text = text.replace("{%s}" % key, value)
                svc["events"].insert(0, {"id": str(next(self.ids)), "createdAt": scenario["start"] + t, "message": text})
        scenario["events_until"] = max(scenario["events_until"], age)
        for dep in list(svc["deployments"]):
            state = self._state(svc, dep)
            if state is not None and state.get("present") is False:
                svc["deployments"].remove(dep)
                svc["_gone"].append(dep)
        svc["deployments"].sort(key=lambda d: 0 if (self._state(svc, d) or {}).get("status") == "PRIMARY" else 1)

    def _dep_tasks(self, svc: Dict[str, Any], dep: Dict[str, Any]) -> List[Dict[str, Any]]:
        name, role, _start, _names = dep["_plays"]
        age = self._age(dep)
        start = self.clock.now - age
        num = dep["id"].split("/")[1]
        tasks = list(dep["_frozen"])
        for index, (task_name, entry) in enumerate(sorted(recorded(name)["tasks"].items())):
            if entry["deployment"] != role:
                continue
            state = fold(entry["changes"], age)
            if state is None:
                continue
            first = entry["changes"][0][0]
            tasks.append(self._task(svc, dep, "%s-%s" % (num, task_name), state, "10.%s.%d.%d" % (num, index // 250, index % 250),
                                    start + first))
        return tasks

    def _tasks(self, svc: Dict[str, Any]) -> List[Dict[str, Any]]:
        tasks = []
        for dep in svc["deployments"] + svc["_gone"]:
            tasks.extend(self._dep_tasks(svc, dep))
        return tasks

    def _task(self, svc, dep, tid, state, ip, created) -> Dict[str, Any]:
        td = self.task_definitions[dep["taskDefinition"]]
        containers = [{"name": c["name"], "image": c.get("image")} for c in td["containerDefinitions"]]
        task = {"taskArn": "arn:aws:ecs:%s:task/%s/%s" % (REGION_ACCOUNT, svc["_cluster"], tid),
                "taskDefinitionArn": dep["taskDefinition"], "startedBy": dep["id"], "lastStatus": state["lastStatus"],
                "desiredStatus": state["desiredStatus"], "group": "service:%s" % svc["serviceName"], "createdAt": created,
                "containers": containers, "_target": state.get("target")}
        if state.get("stopCode"):
            task.update(stopCode=state["stopCode"], stoppedReason=self._text(svc, dep, state.get("stoppedReason")))
        if state["lastStatus"] == "STOPPED":
            task["stoppedAt"] = self.clock.now
        if state.get("exitCode") is not None:
            for container in containers:
                if container["name"] == svc["serviceName"] or len(containers) == 1:
                    container["exitCode"] = state["exitCode"]
        else:
            task["attachments"] = [{"type": "ElasticNetworkInterface", "status": "ATTACHED",
                                    "details": [{"name": "privateIPv4Address", "value": ip}]}]
        return task

    def _public(self, svc: Dict[str, Any]) -> Dict[str, Any]:
        self._advance(svc)
        out = {k: copy.deepcopy(v) for k, v in svc.items() if not k.startswith("_")}
        out["deployments"] = []
        running = 0
        for dep in svc["deployments"]:
            state = self._state(svc, dep) or {}
            status = "PRIMARY" if dep.get("_before_release") and svc["_scenario"] is None else state.get("status")
            public = {"id": dep["id"], "status": status, "taskDefinition": dep["taskDefinition"],
                      "createdAt": dep["createdAt"], "desiredCount": state.get("desiredCount", svc["desiredCount"]),
                      "rolloutState": state.get("rolloutState"),
                      "rolloutStateReason": self._text(svc, dep, state.get("rolloutStateReason")),
                      "failedTasks": state.get("failedTasks", 0), "runningCount": state.get("runningCount", 0),
                      "pendingCount": state.get("pendingCount", 0)}
            running += public["runningCount"]
            out["deployments"].append(public)
        out["runningCount"] = running
        return out


class _Client:
    """One AWS client of the fake world: each boto3 method name maps to a handler."""

    def __init__(self, world: FakeAws, service: str) -> None:
        self.world = world
        self.service = service

    def __getattr__(self, operation: str):
        handler = getattr(self, "_" + operation, None)
        if handler is None:
            raise AttributeError(operation)

        def call(**kwargs: Any) -> Dict[str, Any]:
            world = self.world
            # One call at a time, as AWS answers each request on its own (the release reads several at once).
            with world.lock:
                world.calls.append(operation)
                pending = world.faults.get(operation)
                if pending:
                    raise client_error(pending.pop(0), operation)
                return handler(**kwargs)

        return call

    # ECS ------------------------------------------------------------------------------------
    def _describe_services(self, cluster: str, services: List[str], include=None) -> Dict[str, Any]:
        assert len(services) <= 10, "describe_services takes at most 10 services"
        found, failures = [], []
        for name in services:
            svc = self.world.services.get(name.rsplit("/", 1)[-1])
            if svc is None:
                failures.append({"arn": name, "reason": "MISSING"})
            else:
                found.append(self.world._public(svc))
        return {"services": found, "failures": failures}

    def _describe_task_definition(self, taskDefinition: str, include=None) -> Dict[str, Any]:
        arn = self.world._resolve(taskDefinition)
        return {"taskDefinition": copy.deepcopy(self.world.task_definitions[arn]), "tags": list(self.world.td_tags[arn])}

    def _register_task_definition(self, **kwargs: Any) -> Dict[str, Any]:
        arn = self.world._register(kwargs)
        return {"taskDefinition": copy.deepcopy(self.world.task_definitions[arn])}

    def _deregister_task_definition(self, taskDefinition: str) -> Dict[str, Any]:
        td = self.world.task_definitions[self.world._resolve(taskDefinition)]
        td["status"] = "INACTIVE"
        return {"taskDefinition": copy.deepcopy(td)}

    def _list_task_definitions(self, familyPrefix: str, status: str = "ACTIVE", sort: str = "DESC", **_: Any):
        tds = [td for td in self.world.task_definitions.values() if td["family"].startswith(familyPrefix) and td["status"] == status]
        tds.sort(key=lambda td: td["revision"], reverse=sort == "DESC")
        return {"taskDefinitionArns": [td["taskDefinitionArn"] for td in tds]}

    def _tag_resource(self, resourceArn: str, tags: List[Dict[str, str]]) -> Dict[str, Any]:
        current = {t["key"]: t["value"] for t in self.world.td_tags.get(resourceArn, [])}
        current.update({t["key"]: t["value"] for t in tags})
        self.world.td_tags[resourceArn] = [{"key": k, "value": v} for k, v in current.items()]
        return {}

    def _update_service(self, cluster: str, service: str, taskDefinition: Optional[str] = None,
                        forceNewDeployment: bool = False) -> Dict[str, Any]:
        svc = self.world.services[service]
        td = self.world._resolve(taskDefinition) if taskDefinition else svc["taskDefinition"]
        if td != svc["taskDefinition"] or forceNewDeployment:
            self.world._start(svc, td)
        return {"service": self.world._public(svc)}

    def _list_services(self, cluster: str, **_: Any) -> Dict[str, Any]:
        return {"serviceArns": [s["serviceArn"] for s in self.world.services.values() if s["_cluster"] == cluster]}

    def _list_service_deployments(self, cluster: str, service: str, status: Optional[List[str]] = None,
                                  **_: Any) -> Dict[str, Any]:
        svc = self.world.services[service]
        self.world._advance(svc)
        out = []
        for dep in svc["deployments"] + (svc.get("_gone") or []):
            if dep["_plays"][1] == "rollback":
                continue  # a circuit-breaker rollback belongs to the deployment it rolls back
            state = self.world._service_deployment_status(svc, dep)
            if not status or state in status:
                out.append({"serviceDeploymentArn": "arn:aws:ecs:%s:service-deployment/%s/%s/%s" % (
                    REGION_ACCOUNT, svc["_cluster"], service, dep["id"].split("/")[1]),
                    "serviceArn": svc["serviceArn"], "status": state})
        return {"serviceDeployments": out}

    def _list_tasks(self, cluster: str, serviceName: Optional[str] = None, desiredStatus: str = "RUNNING",
                    maxResults: int = 100, **_: Any):
        if serviceName is None:
            # The whole cluster: every service's tasks (this world's clusters hold fewer than a page).
            services = [svc for svc in self.world.services.values() if svc["_cluster"] == cluster.rsplit("/", 1)[-1]]
        else:
            services = [self.world.services[serviceName]]
        arns = []
        for svc in services:
            self.world._advance(svc)
            arns += [t["taskArn"] for t in self.world._tasks(svc) if t["desiredStatus"] == desiredStatus]
        assert len(arns) <= maxResults, "a page of ListTasks holds %d tasks" % maxResults
        return {"taskArns": arns}

    def _describe_tasks(self, cluster: str, tasks: List[str]) -> Dict[str, Any]:
        assert len(tasks) <= 100
        every = {}
        for svc in self.world.services.values():
            for task in self.world._tasks(svc):
                every[task["taskArn"]] = {k: v for k, v in task.items() if not k.startswith("_")}
        for arn, one in self.world.one_off.items():
            every[arn] = self._one_off_state(one)
        return {"tasks": [copy.deepcopy(every[a]) for a in tasks if a in every], "failures": []}

    def _run_task(self, **kwargs: Any) -> Dict[str, Any]:
        td = self.world.task_definitions[self.world._resolve(kwargs["taskDefinition"])]
        arn = "arn:aws:ecs:%s:task/%s/migr%d" % (REGION_ACCOUNT, kwargs["cluster"], next(self.world.ids))
        one = {"arn": arn, "td": td, "kwargs": kwargs, "started": self.world.clock.now}
        self.world.one_off[arn] = one
        return {"tasks": [self._one_off_state(one)], "failures": []}

    def _one_off_state(self, one: Dict[str, Any]) -> Dict[str, Any]:
        td = one["td"]
        image = td["containerDefinitions"][0].get("image")
        beh = self.world.one_off_behaviours.get(image) or self.world._behaviour(td["taskDefinitionArn"])
        if beh["kind"] == "pull_error":
            name = "one_off_pull_error"
        elif beh["kind"] == "exit" and beh.get("after", 5.0) > 1000:
            name = "one_off_runs_long"
        elif beh["kind"] == "exit":
            name = "one_off_exit_%d" % beh.get("exit_code", 0)
        else:
            raise AssertionError("no recorded one-off scenario for %s" % beh)
        changes = recorded(name)["tasks"]["one-off-1"]["changes"]
        state = fold(changes, self.world.clock.now - one["started"])
        task = {"taskArn": one["arn"], "taskDefinitionArn": td["taskDefinitionArn"], "lastStatus": state["lastStatus"],
                "desiredStatus": state["desiredStatus"], "containers": [{"name": c["name"]} for c in td["containerDefinitions"]]}
        if state.get("stopCode"):
            task.update(stopCode=state["stopCode"], stoppedReason=state.get("stoppedReason"))
        if state["lastStatus"] == "STOPPED":
            for container in task["containers"]:
                container["exitCode"] = state.get("exitCode")
        return task

    # ELBv2 ----------------------------------------------------------------------------------
    def _describe_target_health(self, TargetGroupArn: str) -> Dict[str, Any]:
        out = []
        for svc in self.world.services.values():
            if not any(b["targetGroupArn"] == TargetGroupArn for b in svc["loadBalancers"]):
                continue
            self.world._advance(svc)
            for task in self.world._tasks(svc):
                target = task["_target"]
                if task["lastStatus"] != "RUNNING" or not target:
                    continue
                ip = task["attachments"][0]["details"][0]["value"]
                health = {"State": target["state"]}
                health.update({k: v for k, v in (("Reason", target.get("reason")), ("Description", target.get("description"))) if v})
                out.append({"Target": {"Id": ip, "Port": 5000}, "TargetHealth": health})
        return {"TargetHealthDescriptions": out}

    # Logs -----------------------------------------------------------------------------------
    def _get_log_events(self, logGroupName: str, logStreamName: str, limit: int = 50, startFromHead: bool = False):
        lines = self.world.log_streams.get("%s|%s" % (logGroupName, logStreamName))
        if lines is None:
            raise client_error("ResourceNotFoundException", "GetLogEvents")
        return {"events": [{"message": m} for m in lines[-limit:]]}
