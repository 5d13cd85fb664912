"""Scripted ECS / ELBv2 answers for ECS-native (BLUE_GREEN, CANARY, LINEAR) deployments.

A deployment plays a script: one step per DescribeServiceDeployments call, each step a
(status, lifecycleStage, percent of production traffic on green) triple; a step whose stage has
a PAUSE hook waits (AWAITING_ACTION) until ContinueServiceDeployment answers it.  CONTINUE
moves on; ROLLBACK plays ROLLBACK_IN_PROGRESS then ROLLBACK_SUCCESSFUL with production back on
blue.  The stage order and statuses are the ECS API reference's (ServiceDeployment,
DeploymentLifecycleHook).
"""

from __future__ import annotations

import threading
from typing import Any, Dict, List, Optional, Tuple

from .fakes import FakeClock, client_error

ACCOUNT = "us-east-1:123456789012"
TD = "arn:aws:ecs:%s:task-definition/talk:%%d" % ACCOUNT
BLUE_TG = "arn:aws:elasticloadbalancing:%s:targetgroup/talk/1" % ACCOUNT
GREEN_TG = "arn:aws:elasticloadbalancing:%s:targetgroup/talk-alt/2" % ACCOUNT
LISTENER = "arn:aws:elasticloadbalancing:%s:listener/app/web/9/l1" % ACCOUNT
PROD_RULE = "arn:aws:elasticloadbalancing:%s:listener-rule/app/web/9/l1/r-prod" % ACCOUNT
TEST_RULE = "arn:aws:elasticloadbalancing:%s:listener-rule/app/web/9/l1/r-test" % ACCOUNT

Step = Tuple[str, str, float]
HEAD: List[Step] = [("PENDING", "RECONCILE_SERVICE", 0), ("IN_PROGRESS", "PRE_SCALE_UP", 0), ("IN_PROGRESS", "SCALE_UP", 0),
                    ("IN_PROGRESS", "POST_SCALE_UP", 0), ("IN_PROGRESS", "TEST_TRAFFIC_SHIFT", 0),
                    ("IN_PROGRESS", "POST_TEST_TRAFFIC_SHIFT", 0)]
TAIL: List[Step] = [("IN_PROGRESS", "POST_PRODUCTION_TRAFFIC_SHIFT", 100), ("IN_PROGRESS", "BAKE_TIME", 100),
                    ("IN_PROGRESS", "CLEAN_UP", 100), ("SUCCESSFUL", "CLEAN_UP", 100)]
BLUE_GREEN: List[Step] = HEAD + [("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", 100)] + TAIL
CANARY: List[Step] = HEAD + [("IN_PROGRESS", "PRE_PRODUCTION_TRAFFIC_SHIFT", 0), ("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", 10),
                             ("IN_PROGRESS", "PRE_PRODUCTION_TRAFFIC_SHIFT", 10),
                             ("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", 100)] + TAIL
CRASH: List[Step] = HEAD[:3] + [("ROLLBACK_IN_PROGRESS", "SCALE_UP", 0), ("ROLLBACK_SUCCESSFUL", "SCALE_UP", 0)]
STUCK: List[Step] = HEAD[:3]
ROLLED_BACK: List[Step] = [("ROLLBACK_IN_PROGRESS", "TEST_TRAFFIC_SHIFT", 0), ("ROLLBACK_SUCCESSFUL", "TEST_TRAFFIC_SHIFT", 0)]


class NativeWorld:
    """One service ``talk`` on the ECS controller with an ECS-native strategy and a PAUSE hook."""

    def __init__(self, strategy: str = "BLUE_GREEN", script: Optional[List[Step]] = None,
                 pause_stages: Tuple[str, ...] = ("POST_TEST_TRAFFIC_SHIFT",)) -> None:
        self.clock = FakeClock()
        self.lock = threading.RLock()
        self.calls: List[Tuple[str, Dict[str, Any]]] = []
        self.strategy = strategy
        self.script = script if script is not None else (CANARY if strategy in ("CANARY", "LINEAR") else BLUE_GREEN)
        self.pause_stages = pause_stages
        self.revision = TD % 1
        self.deployment: Optional[Dict[str, Any]] = None
        self.position = 0
        self.rolling_back: List[Step] = []
        self.answered: Dict[str, str] = {}
        self.hook_visits = 0
        self.ecs = _Client(self)
        self.elbv2 = self.ecs

    @property
    def writes(self) -> List[str]:
        wanted = ("update_service", "continue_service_deployment", "stop_service_deployment", "register_task_definition",
                  "tag_resource", "deregister_task_definition")
        return [call[0] for call in self.calls if call[0] in wanted]

    def ops(self, name: str) -> List[Dict[str, Any]]:
        return [kw for c, kw in self.calls if c == name]

    def step(self) -> Step:
        if self.rolling_back:
            return self.rolling_back[0]
        return self.script[min(self.position, len(self.script) - 1)]

    def green_percent(self) -> float:
        if self.deployment is None:
            return 0
        return self.step()[2]

    def service(self) -> Dict[str, Any]:
        primary = {"id": "ecs-svc/1", "status": "PRIMARY", "taskDefinition": self.revision, "rolloutState": "COMPLETED",
                   "desiredCount": 2, "runningCount": 2}
        if self.deployment is not None:
            primary = {"id": self.deployment["id"], "status": "PRIMARY", "taskDefinition": self.deployment["td"],
                       "rolloutState": "IN_PROGRESS", "desiredCount": 2, "runningCount": 2}
        hooks = [{"targetType": "PAUSE", "lifecycleStages": list(self.pause_stages), "roleArn": "arn:aws:iam::1:role/h"}]
        return {
            "serviceName": "talk", "serviceArn": "arn:aws:ecs:%s:service/app/talk" % ACCOUNT, "status": "ACTIVE",
            "clusterArn": "arn:aws:ecs:%s:cluster/app" % ACCOUNT, "desiredCount": 2, "runningCount": 2,
            "taskDefinition": primary["taskDefinition"], "deploymentController": {"type": "ECS"},
            "deploymentConfiguration": {"strategy": self.strategy, "bakeTimeInMinutes": 1,
                                        "lifecycleHooks": hooks if self.pause_stages else []},
            "loadBalancers": [{"targetGroupArn": BLUE_TG, "containerName": "talk", "containerPort": 5000,
                               "advancedConfiguration": {"alternateTargetGroupArn": GREEN_TG,
                                                         "productionListenerRule": PROD_RULE,
                                                         "testListenerRule": TEST_RULE,
                                                         "roleArn": "arn:aws:iam::1:role/lb"}}],
            "deployments": [primary], "events": [],
        }

    def service_deployment(self) -> Dict[str, Any]:
        status, stage = self.step()[:2]
        sd = {"serviceDeploymentArn": self.deployment["arn"], "status": status, "lifecycleStage": stage,
              "targetServiceRevision": {"arn": "rev/2", "requestedTaskCount": 2, "runningTaskCount": 2}}
        if status.startswith("ROLLBACK"):
            sd["statusReason"] = "tasks failed to start" if self.script is CRASH else "rolled back by hook"
        hook_id = "hook-%d" % self.position
        if status == "IN_PROGRESS" and stage in self.pause_stages and not self.rolling_back:
            waiting = self.answered.get(hook_id) is None
            sd["lifecycleHookDetails"] = [{"hookId": hook_id, "targetType": "PAUSE",
                                           "status": "AWAITING_ACTION" if waiting else "SUCCEEDED",
                                           "expiresAt": "2026-12-06T10:00:00Z", "timeoutAction": "ROLLBACK"}]
        return sd

    def advance(self) -> None:
        if self.rolling_back:
            if len(self.rolling_back) > 1:
                self.rolling_back.pop(0)
            return
        status, stage = self.step()[:2]
        waiting = status == "IN_PROGRESS" and stage in self.pause_stages and "hook-%d" % self.position not in self.answered
        if not waiting and self.position < len(self.script) - 1:
            self.position += 1

    def tasks(self) -> List[Dict[str, Any]]:
        out = []
        green = self.deployment is not None and self.step()[1] not in ("RECONCILE_SERVICE", "PRE_SCALE_UP")
        for i in (1, 2):
            out.append(self._task("blue%d" % i, TD % 1, "10.0.0.%d" % i))
            if green:
                stopped = self.script is CRASH
                out.append(self._task("green%d" % i, TD % 2, "10.0.1.%d" % i, stopped))
        return out

    @staticmethod
    def _task(tid: str, td: str, ip: str, stopped: bool = False) -> Dict[str, Any]:
        task = {"taskArn": "arn:aws:ecs:%s:task/app/%s" % (ACCOUNT, tid), "taskDefinitionArn": td,
                "lastStatus": "STOPPED" if stopped else "RUNNING", "desiredStatus": "STOPPED" if stopped else "RUNNING",
                "attachments": [{"type": "ElasticNetworkInterface", "details": [{"name": "privateIPv4Address", "value": ip}]}],
                "containers": [{"name": "talk", "exitCode": 3 if stopped else None}]}
        if stopped:
            task.update(stoppedReason="Essential container in task exited", stopCode="EssentialContainerExited",
                        stoppedAt="2026-12-05T10:00:0%sZ" % tid[-1])
        return task


class _Client:
    def __init__(self, world: NativeWorld) -> None:
        self.world = world

    def __getattr__(self, operation: str):
        handler = getattr(self, "_" + operation)

        def call(**kwargs: Any) -> Dict[str, Any]:
            # One call at a time, as AWS answers each request on its own (the release reads several at once).
            with self.world.lock:
                self.world.calls.append((operation, kwargs))
                return handler(**kwargs)

        return call

    # ECS
    def _describe_services(self, cluster, services, include=None):
        return {"services": [self.world.service()], "failures": []}

    def _describe_task_definition(self, taskDefinition, include=None):
        arn = taskDefinition if taskDefinition.startswith("arn:") else "arn:aws:ecs:%s:task-definition/%s" % (ACCOUNT, taskDefinition)
        number = int(arn.rsplit(":", 1)[-1])
        if number not in (1, 2):
            raise client_error("ClientException", "DescribeTaskDefinition")
        td = {"taskDefinitionArn": arn, "family": "talk", "revision": number, "networkMode": "awsvpc",
              "containerDefinitions": [{"name": "talk", "image": "repo/talk:%d" % number, "essential": True}]}
        return {"taskDefinition": td, "tags": [{"key": "shipyard.ecs:released-at", "value": "2026-12-01T00:00:00Z"}]}

    def _list_task_definitions(self, familyPrefix, status="ACTIVE", sort="DESC", **_):
        return {"taskDefinitionArns": [TD % 2, TD % 1]}

    def _update_service(self, cluster, service, taskDefinition=None, **_):
        world = self.world
        number = len(world.ops("update_service")) + 1
        world.deployment = {"arn": "arn:aws:ecs:%s:service-deployment/app/talk/sd%d" % (ACCOUNT, number), "td": taskDefinition,
                            "id": "ecs-svc/%d" % number}
        world.position = 0
        return {"service": world.service()}

    def _list_service_deployments(self, cluster, service, status=None, **_):
        world = self.world
        out = []
        if world.deployment is not None and world.step()[0] in (status or [world.step()[0]]):
            out.append({"serviceDeploymentArn": world.deployment["arn"], "status": world.step()[0],
                        "createdAt": "2026-12-05T10:00:00Z"})
        return {"serviceDeployments": out}

    def _describe_service_deployments(self, serviceDeploymentArns):
        world = self.world
        answer = [world.service_deployment()] if world.deployment else []
        world.advance()
        return {"serviceDeployments": answer, "failures": []}

    def _continue_service_deployment(self, serviceDeploymentArn, hookId, action):
        world = self.world
        world.answered[hookId] = action
        if action == "ROLLBACK":
            world.rolling_back = list(ROLLED_BACK)
        return {"serviceDeploymentArn": serviceDeploymentArn}

    def _stop_service_deployment(self, serviceDeploymentArn, stopType):
        self.world.rolling_back = list(ROLLED_BACK)
        return {"serviceDeploymentArn": serviceDeploymentArn}

    def _list_tasks(self, cluster, serviceName=None, desiredStatus="RUNNING", **_):
        return {"taskArns": [t["taskArn"] for t in self.world.tasks() if t["desiredStatus"] == desiredStatus]}

    def _describe_tasks(self, cluster, tasks):
        return {"tasks": [t for t in self.world.tasks() if t["taskArn"] in tasks]}

    def _tag_resource(self, resourceArn, tags):
        return {}

    def _get_log_events(self, **_):
        return {"events": []}

    # ELBv2
    def _describe_rules(self, ListenerArn, PageSize=None, **_):
        assert ListenerArn == LISTENER
        green = self.world.green_percent()
        prod = {"RuleArn": PROD_RULE, "Priority": "10", "Actions": [{"Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": BLUE_TG, "Weight": int(100 - green)}, {"TargetGroupArn": GREEN_TG, "Weight": int(green)}]}}]}
        return {"Rules": [prod, {"RuleArn": TEST_RULE, "Priority": "5", "Actions": []}]}

    def _describe_target_health(self, TargetGroupArn):
        world = self.world
        rows = []
        for task in world.tasks():
            if task["lastStatus"] != "RUNNING":
                continue
            ip = task["attachments"][0]["details"][0]["value"]
            group = GREEN_TG if task["taskDefinitionArn"] == TD % 2 else BLUE_TG
            if group == TargetGroupArn:
                rows.append({"Target": {"Id": ip, "Port": 5000}, "TargetHealth": {"State": "healthy"}})
        return {"TargetHealthDescriptions": rows}
