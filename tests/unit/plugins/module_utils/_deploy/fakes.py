"""A scripted ECS / ELBv2 / CloudWatch Logs for the release state machine, on a fake clock.

Not a mock of the code under test: a tiny model of how AWS documents ECS rolling deployments
(new PRIMARY, old ACTIVE until the new one completes, rolloutState, failedTasks, circuit
breaker with rollback, tasks started by their deployment, targets with a health life cycle,
stopped tasks with reasons and exit codes, one-off tasks that exit with a code).  How a task
behaves depends on its image, like the emulator's behaviours; everything is a pure function of
the fake clock, so a test reads as a script: "this image crashes 5 s after start".
"""

from __future__ import annotations

import copy
import itertools
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


HEALTHY = {"kind": "healthy", "start": 10.0, "healthy_after": 20.0}


class FakeAws:
    """ECS, ELBv2 and Logs clients sharing one world and one clock."""

    def __init__(self, clock: Optional[FakeClock] = None) -> None:
        self.clock = clock or FakeClock()
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
        """How tasks running ``image`` behave (healthy, crash, unhealthy, pull_error, stuck, exit)."""
        self.behaviours[image] = dict(HEALTHY if kind == "healthy" else {"start": 10.0}, kind=kind, **params)

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
                rollback: bool = True, target_group: bool = True, failed_threshold: int = 10,
                completed: bool = True) -> Dict[str, Any]:
        """A service already COMPLETED on ``task_definition`` (``completed=False``: its first
        deployment FAILED, so no deployment of the service ever completed)."""
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
            "_threshold": failed_threshold,
        }
        dep = self._deployment(svc, task_definition, self.clock.now - 3600)
        if completed:
            dep.update(rolloutState="COMPLETED", _done=True)
        else:
            dep.update(rolloutState="FAILED", rolloutStateReason="ECS deployment circuit breaker: tasks failed to start.",
                       _failed=True)
        svc["deployments"] = [dep]
        self.services[name] = svc
        return svc

    def replace(self, service: str, task_definition: str) -> None:
        """Someone else starts a deployment (another pipeline, the console)."""
        self._start(self.services[service], task_definition)

    # model ----------------------------------------------------------------------------------
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

    def _deployment(self, svc: Dict[str, Any], td: str, created: float) -> Dict[str, Any]:
        return {"id": "ecs-svc/%d" % next(self.ids), "status": "PRIMARY", "taskDefinition": td,
                "desiredCount": svc["desiredCount"], "createdAt": created, "rolloutState": "IN_PROGRESS",
                "rolloutStateReason": "ECS deployment in progress.", "failedTasks": 0, "_done": False}

    def _start(self, svc: Dict[str, Any], td: str) -> Dict[str, Any]:
        for dep in svc["deployments"]:
            if dep["status"] == "PRIMARY":
                dep["status"] = "ACTIVE"
                dep["_replaced_at"] = self.clock.now
        dep = self._deployment(svc, td, self.clock.now)
        svc["deployments"].insert(0, dep)
        svc["taskDefinition"] = td
        return dep

    def _progress(self, svc: Dict[str, Any], dep: Dict[str, Any]) -> Dict[str, Any]:
        """Counts, tasks and target state of a deployment at the current time."""
        now = self.clock.now
        desired = dep["desiredCount"]
        beh = self._behaviour(dep["taskDefinition"])
        if dep["_done"] or dep.get("_completed_at"):
            return {"running": desired if dep["status"] == "PRIMARY" or not dep.get("_drained") else 0,
                    "stopped": dep.get("_stopped_final", []), "target": "healthy"}
        end = dep.get("_replaced_at", now)
        age = min(now, end) - dep["createdAt"]
        start = beh.get("start", 10.0)
        kind = beh["kind"]
        stopped: List[Dict[str, Any]] = []
        out = {"running": 0, "stopped": stopped, "target": "initial"}
        if "_replaced_at" in dep:
            out["running"] = 0
        if kind == "stuck" or age < start:
            out["pending"] = desired
        elif kind == "healthy":
            out["running"] = desired
            out["target"] = "healthy" if age >= start + beh.get("healthy_after", 20.0) else "initial"
        elif kind == "crash":
            waves = int((age - start) // beh.get("after", 5.0))
            for w in range(waves):
                for i in range(desired):
                    stopped.append({"n": w * desired + i, "stopCode": "EssentialContainerExited",
                                    "reason": "Essential container in task exited", "exit": beh.get("exit_code", 1)})
            out["running"] = desired
        elif kind == "unhealthy":
            out["running"] = desired
            grace = beh.get("grace", 30.0)
            out["target"] = "unhealthy" if age >= start + grace else "initial"
            waves = int(max(0.0, age - start - grace) // 30.0)
            for w in range(waves):
                for i in range(desired):
                    stopped.append({"n": w * desired + i, "stopCode": "ServiceSchedulerInitiated",
                                    "reason": "Task failed ELB health checks in (target-group %s)" % svc["_tg"]
                                    if "_tg" in svc else "Task failed ELB health checks", "exit": 137})
        elif kind == "pull_error":
            waves = int((age - start) // 5.0) + 1
            for w in range(waves):
                for i in range(desired):
                    stopped.append({"n": w * desired + i, "stopCode": "TaskFailedToStart",
                                    "reason": "CannotPullContainerError: pull image manifest has been retried",
                                    "exit": None})
        if "_replaced_at" in dep:
            out["running"] = 0
            out["pending"] = 0
        return out

    def _advance(self, svc: Dict[str, Any]) -> None:
        for hook in list(self.hooks):
            if self.clock.now >= hook[0]:
                self.hooks.remove(hook)
                hook[1](self)
        primary = next(d for d in svc["deployments"] if d["status"] == "PRIMARY")
        if primary["_done"]:
            return
        prog = self._progress(svc, primary)
        beh = self._behaviour(primary["taskDefinition"])
        breaker = svc["deploymentConfiguration"]["deploymentCircuitBreaker"]
        primary["failedTasks"] = len(prog["stopped"])
        if primary["rolloutState"] == "IN_PROGRESS" and breaker["enable"] and len(prog["stopped"]) >= svc["_threshold"]:
            primary["rolloutState"] = "FAILED"
            primary["rolloutStateReason"] = "ECS deployment circuit breaker: tasks failed to start."
            primary["_stopped_final"] = prog["stopped"]
            svc["events"].insert(0, {"id": str(next(self.ids)), "createdAt": self.clock.now,
                                     "message": "(service %s) (deployment %s) deployment failed: tasks failed to start."
                                     % (svc["serviceName"], primary["id"])})
            if breaker["rollback"]:
                good = next((d for d in svc["deployments"] if d.get("_done") and d is not primary), None)
                if good is not None:
                    rollback = self._start(svc, good["taskDefinition"])
                    rollback["_rollback_of"] = primary["id"]
                    primary["_rollback"] = rollback
                    svc["events"].insert(0, {"id": str(next(self.ids)), "createdAt": self.clock.now,
                                             "message": "(service %s) rolling back to deployment %s." % (
                                                 svc["serviceName"], good["id"])})
            return
        if (beh["kind"] == "healthy" and prog["running"] == primary["desiredCount"] and prog["target"] == "healthy"
                and primary["rolloutState"] == "IN_PROGRESS"):
            primary.update(rolloutState="COMPLETED", rolloutStateReason="ECS deployment completed.", _done=True,
                           _completed_at=self.clock.now)
            # ECS forgets the replaced deployments, but lists their stopped tasks for a while longer.
            svc.setdefault("_gone", []).extend(d for d in svc["deployments"] if d is not primary)
            svc["deployments"] = [primary]
            svc["events"].insert(0, {"id": str(next(self.ids)), "createdAt": self.clock.now,
                                     "message": "(service %s) has reached a steady state." % svc["serviceName"]})

    def _service_deployment_status(self, svc: Dict[str, Any], dep: Dict[str, Any]) -> str:
        """The ListServiceDeployments status of one deployment (as ECS reports it)."""
        rollback = dep.get("_rollback")
        if rollback is not None:
            return "ROLLBACK_SUCCESSFUL" if rollback.get("_done") else "ROLLBACK_IN_PROGRESS"
        if dep.get("_done") or dep.get("rolloutState") == "COMPLETED":
            return "SUCCESSFUL"
        if dep.get("rolloutState") == "FAILED" or dep["status"] != "PRIMARY":
            return "STOPPED"
        return "IN_PROGRESS"

    def _tasks(self, svc: Dict[str, Any]) -> List[Dict[str, Any]]:
        tasks = []
        for dep in svc["deployments"]:
            prog = self._progress(svc, dep)
            num = dep["id"].split("/")[1]
            for i in range(prog["running"]):
                tasks.append(self._task(svc, dep, "%s-r%d" % (num, i), "RUNNING", "10.%s.0.%d" % (num, i), prog["target"]))
            tasks.extend(self._stopped_tasks(svc, dep, prog))
        for dep in svc.get("_gone") or []:
            tasks.extend(self._stopped_tasks(svc, dep, self._progress(svc, dep)))
        return tasks

    def _stopped_tasks(self, svc: Dict[str, Any], dep: Dict[str, Any], prog: Dict[str, Any]) -> List[Dict[str, Any]]:
        tasks = []
        num = dep["id"].split("/")[1]
        for rec in prog["stopped"]:
            task = self._task(svc, dep, "%s-s%d" % (num, rec["n"]), "STOPPED", None, None)
            task.update(stopCode=rec["stopCode"], stoppedReason=rec["reason"], stoppedAt=self.clock.now)
            task["containers"][0]["exitCode"] = rec["exit"]
            tasks.append(task)
        return tasks

    def _task(self, svc, dep, tid, status, ip, target) -> Dict[str, Any]:
        td = self.task_definitions[dep["taskDefinition"]]
        task = {"taskArn": "arn:aws:ecs:%s:task/%s/%s" % (REGION_ACCOUNT, svc["_cluster"], tid),
                "taskDefinitionArn": dep["taskDefinition"], "startedBy": dep["id"], "lastStatus": status,
                "desiredStatus": status, "group": "service:%s" % svc["serviceName"], "createdAt": dep["createdAt"],
                "containers": [{"name": c["name"], "image": c.get("image")} for c in td["containerDefinitions"]],
                "_target": target, "_service": svc["serviceName"]}
        if ip:
            task["attachments"] = [{"type": "ElasticNetworkInterface", "status": "ATTACHED",
                                    "details": [{"name": "privateIPv4Address", "value": ip}]}]
        return task

    def _public(self, svc: Dict[str, Any]) -> Dict[str, Any]:
        self._advance(svc)
        out = {k: copy.deepcopy(v) for k, v in svc.items() if not k.startswith("_")}
        running = 0
        for dep, src in zip(out["deployments"], svc["deployments"]):
            prog = self._progress(svc, src)
            dep.update(runningCount=prog["running"], pendingCount=prog.get("pending", 0))
            running += prog["running"]
            for key in [k for k in dep if k.startswith("_")]:
                del dep[key]
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
            if dep.get("_rollback_of"):
                continue  # a circuit-breaker rollback belongs to the deployment it rolls back
            state = self.world._service_deployment_status(svc, dep)
            if not status or state in status:
                out.append({"serviceDeploymentArn": "arn:aws:ecs:%s:service-deployment/%s/%s/%s" % (
                    REGION_ACCOUNT, svc["_cluster"], service, dep["id"].split("/")[1]),
                    "serviceArn": svc["serviceArn"], "status": state})
        return {"serviceDeployments": out}

    def _list_tasks(self, cluster: str, serviceName: Optional[str] = None, desiredStatus: str = "RUNNING", **_: Any):
        svc = self.world.services[serviceName]
        self.world._advance(svc)
        return {"taskArns": [t["taskArn"] for t in self.world._tasks(svc) if t["desiredStatus"] == desiredStatus]}

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
        age = self.world.clock.now - one["started"]
        task = {"taskArn": one["arn"], "taskDefinitionArn": td["taskDefinitionArn"], "lastStatus": "RUNNING",
                "desiredStatus": "RUNNING", "containers": [{"name": c["name"]} for c in td["containerDefinitions"]]}
        if beh["kind"] == "pull_error" and age >= 5:
            task.update(lastStatus="STOPPED", desiredStatus="STOPPED", stopCode="TaskFailedToStart",
                        stoppedReason="CannotPullContainerError: not found")
        elif beh["kind"] == "exit" and age >= beh.get("after", 5.0):
            task.update(lastStatus="STOPPED", desiredStatus="STOPPED", stopCode="EssentialContainerExited",
                        stoppedReason="Essential container in task exited")
            for c in task["containers"]:
                c["exitCode"] = beh.get("exit_code", 0)
        return task

    # ELBv2 ----------------------------------------------------------------------------------
    def _describe_target_health(self, TargetGroupArn: str) -> Dict[str, Any]:
        out = []
        for svc in self.world.services.values():
            if not any(b["targetGroupArn"] == TargetGroupArn for b in svc["loadBalancers"]):
                continue
            self.world._advance(svc)
            for task in self.world._tasks(svc):
                if task["lastStatus"] != "RUNNING":
                    continue
                ip = task["attachments"][0]["details"][0]["value"]
                out.append({"Target": {"Id": ip, "Port": 5000},
                            "TargetHealth": {"State": task["_target"],
                                             "Description": "Health checks failed" if task["_target"] == "unhealthy" else ""}})
        return {"TargetHealthDescriptions": out}

    # Logs -----------------------------------------------------------------------------------
    def _get_log_events(self, logGroupName: str, logStreamName: str, limit: int = 50, startFromHead: bool = False):
        lines = self.world.log_streams.get("%s|%s" % (logGroupName, logStreamName))
        if lines is None:
            raise client_error("ResourceNotFoundException", "GetLogEvents")
        return {"events": [{"message": m} for m in lines[-limit:]]}
