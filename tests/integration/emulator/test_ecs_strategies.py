"""ECS-native BLUE_GREEN, CANARY and LINEAR deployments, lifecycle hooks and their rollback.

Every test below fails on plain moto (``SHIPYARD_LOCAL_AWS_PLAIN=1``, checked with moto 5.x): its
DescribeServices has no deploymentConfiguration at all (KeyError), CreateService accepts every
strategy, percent, hook and advancedConfiguration unchecked, its one deployment per service never
progresses nor starts a task (``settle`` times out), it has no ListServiceDeployments /
DescribeServiceDeployments / ContinueServiceDeployment / StopServiceDeployment, and it never moves
a listener rule's weights.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import pytest
from botocore.exceptions import ClientError

from integration.emulator.stack import CLUSTER, USERS_PORT

ROLE = "arn:aws:iam::123456789012:role/ecsInfrastructureRoleForLoadBalancers"
LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:check"


class BlueGreen:
    """The stack plus an alternate target group, a production rule and a test listener."""

    def __init__(self, stack: Any) -> None:
        self.stack = stack
        self.elbv2 = stack.elbv2
        self.ecs = stack.ecs
        self.primary = stack.target_group
        self.alternate = stack.create_target_group("users-alt", USERS_PORT)
        production_listener = self.elbv2.describe_listeners(LoadBalancerArn=stack.load_balancer)["Listeners"][0]["ListenerArn"]
        self.production_rule = self.elbv2.create_rule(
            ListenerArn=production_listener, Priority=10,
            Conditions=[{"Field": "path-pattern", "Values": ["/*"]}],
            Actions=[self._forward(100, 0)])["Rules"][0]["RuleArn"]
        test_listener = self.elbv2.create_listener(LoadBalancerArn=stack.load_balancer, Protocol="HTTP", Port=8080,
                                                   DefaultActions=[self._forward(100, 0)])["Listeners"][0]["ListenerArn"]
        self.test_rule = [r for r in self.elbv2.describe_rules(ListenerArn=test_listener)["Rules"] if r["IsDefault"]][0]["RuleArn"]

    def _forward(self, primary: int, alternate: int) -> Dict[str, Any]:
        return {"Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": self.primary, "Weight": primary}, {"TargetGroupArn": self.alternate, "Weight": alternate}]}}

    def binding(self, **advanced: Any) -> Dict[str, Any]:
        config = {"alternateTargetGroupArn": self.alternate, "productionListenerRule": self.production_rule,
                  "testListenerRule": self.test_rule, "roleArn": ROLE}
        config.update(advanced)
        return {"targetGroupArn": self.primary, "containerName": "users", "containerPort": USERS_PORT,
                "advancedConfiguration": config}

    def create(self, strategy: str = "BLUE_GREEN", desired: int = 2, **config: Any) -> Dict[str, Any]:
        deployment = dict({"strategy": strategy, "bakeTimeInMinutes": 0}, **config)
        service = self.stack.create_service(desired=desired, loadBalancers=[self.binding()],
                                            deploymentConfiguration=deployment)
        self.stack.settle()
        return service

    def weights(self, rule: str) -> Dict[str, int]:
        [described] = self.elbv2.describe_rules(RuleArns=[rule])["Rules"]
        [action] = described["Actions"]
        return {g["TargetGroupArn"]: g["Weight"] for g in action["ForwardConfig"]["TargetGroups"]}

    def production(self) -> tuple:
        weights = self.weights(self.production_rule)
        return weights[self.primary], weights[self.alternate]

    def test(self) -> tuple:
        weights = self.weights(self.test_rule)
        return weights[self.primary], weights[self.alternate]

    def latest(self) -> Dict[str, Any]:
        listed = self.ecs.list_service_deployments(cluster=CLUSTER, service="users")["serviceDeployments"]
        newest = max(listed, key=lambda d: d["createdAt"])
        return self.ecs.describe_service_deployments(serviceDeploymentArns=[newest["serviceDeploymentArn"]])["serviceDeployments"][0]

    def registered(self, group: str) -> List[str]:
        return sorted(d["Target"]["Id"] for d in self.stack.target_health(group))

    def task_ips(self, task_definition: Optional[str] = None) -> List[str]:
        ips = []
        for task in self.stack.tasks():
            if task_definition and task["taskDefinitionArn"] != task_definition:
                continue
            for detail in task["attachments"][0]["details"]:
                if detail["name"] == "privateIPv4Address":
                    ips.append(detail["value"])
        return sorted(ips)

    def run(self, seconds: float = 1800, step: float = 15, until: Optional[str] = None) -> List[Dict[str, Any]]:
        """Advance AWS time, recording each distinct (status, lifecycleStage) seen, until ``until`` or a final status."""
        seen: List[Dict[str, Any]] = []
        spent = 0.0
        while spent <= seconds:
            current = self.latest()
            key = (current["status"], current.get("lifecycleStage"))
            if not seen or (seen[-1]["status"], seen[-1].get("lifecycleStage")) != key:
                seen.append(dict(current, production=self.production(), test=self.test()))
            if until is not None and current.get("lifecycleStage") == until:
                return seen
            if current["status"] not in ("PENDING", "IN_PROGRESS", "ROLLBACK_IN_PROGRESS"):
                return seen
            self.stack.advance(step)
            spent += step
        return seen


@pytest.fixture
def bg(stack):
    return BlueGreen(stack)


def _stages(seen: List[Dict[str, Any]]) -> List[Any]:
    return [d.get("lifecycleStage") for d in seen]


def test_create_service_keeps_strategy_hooks_and_advanced_configuration(bg):
    hooks = [{"targetType": "PAUSE", "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
              "timeoutConfiguration": {"timeoutInMinutes": 30, "action": "ROLLBACK"}}]
    service = bg.stack.create_service(loadBalancers=[bg.binding()], deploymentConfiguration={
        "strategy": "CANARY", "bakeTimeInMinutes": 10, "lifecycleHooks": hooks,
        "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 5}})

    config = bg.stack.service()["deploymentConfiguration"]
    assert (config["strategy"], config["bakeTimeInMinutes"]) == ("CANARY", 10)
    assert config["canaryConfiguration"] == {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 5}
    assert config["lifecycleHooks"] == hooks
    assert service["loadBalancers"][0]["advancedConfiguration"] == bg.binding()["advancedConfiguration"]
    assert bg.stack.service()["loadBalancers"][0]["advancedConfiguration"]["alternateTargetGroupArn"] == bg.alternate


@pytest.mark.parametrize("change, message", [
    ({"advancedConfiguration": None}, "advancedConfiguration is required"),
    ({"advancedConfiguration": "same"}, "alternate target group must be different"),
    ({"advancedConfiguration": "unattached"}, "must forward to both"),
    ({"deploymentConfiguration": {"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 0.05}}},
     "canaryPercent must be between 0.1 and 100"),
    ({"deploymentConfiguration": {"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 2.0}}},
     "stepPercent must be between 3 and 100"),
    ({"deploymentConfiguration": {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1441}},
     "bakeTimeInMinutes must be between 0 and 1440"),
    ({"deploymentConfiguration": {"strategy": "BLUE_GREEN", "lifecycleHooks": [
        {"targetType": "AWS_LAMBDA", "lifecycleStages": ["POST_SCALE_UP"]}]}}, "hookTargetArn and roleArn are required"),
    ({"deploymentConfiguration": {"strategy": "BLUE_GREEN", "lifecycleHooks": [
        {"targetType": "PAUSE", "hookTargetArn": LAMBDA, "lifecycleStages": ["POST_SCALE_UP"]}]}},
     "hookTargetArn is not supported"),
])
def test_create_service_refuses_what_aws_refuses(bg, change, message):
    binding = bg.binding()
    config: Dict[str, Any] = {"strategy": "BLUE_GREEN"}
    if "advancedConfiguration" in change:
        value = change["advancedConfiguration"]
        if value is None:
            binding.pop("advancedConfiguration")
        elif value == "same":
            binding["advancedConfiguration"]["alternateTargetGroupArn"] = bg.primary
        else:
            other = bg.stack.create_target_group("other", USERS_PORT)
            binding["advancedConfiguration"]["alternateTargetGroupArn"] = other
    else:
        config = change["deploymentConfiguration"]
    with pytest.raises(ClientError) as error:
        bg.stack.create_service(loadBalancers=[binding], deploymentConfiguration=config)

    assert error.value.response["Error"]["Code"] == "InvalidParameterException"
    assert message in error.value.response["Error"]["Message"]
    assert bg.ecs.describe_services(cluster=CLUSTER, services=["users"])["services"] == []


def test_pause_hook_may_name_no_target_and_lambda_hook_with_target_and_role_is_accepted(bg):
    bg.stack.create_service(loadBalancers=[bg.binding()], deploymentConfiguration={"strategy": "BLUE_GREEN", "lifecycleHooks": [
        {"targetType": "PAUSE", "lifecycleStages": ["POST_SCALE_UP"]},
        {"targetType": "AWS_LAMBDA", "hookTargetArn": LAMBDA, "roleArn": ROLE, "lifecycleStages": ["POST_SCALE_UP"]}]})

    assert len(bg.stack.service()["deploymentConfiguration"]["lifecycleHooks"]) == 2


def test_blue_green_goes_through_every_stage_then_swaps_the_groups(bg):
    bg.create("BLUE_GREEN", bakeTimeInMinutes=5)
    blue_ips = bg.task_ips()
    assert bg.registered(bg.primary) == blue_ips and bg.registered(bg.alternate) == []

    green_td = bg.stack.release("users:2")
    seen = bg.run()

    assert _stages(seen)[-1] == "CLEAN_UP"
    by_stage = {d.get("lifecycleStage"): d for d in seen}
    # SCALE_UP waits for healthy green tasks; neither rule has moved yet.
    assert by_stage["SCALE_UP"]["test"] == (100, 0) and by_stage["SCALE_UP"]["production"] == (100, 0)
    # Production moves all at once for BLUE_GREEN, then blue keeps running through the bake time.
    assert by_stage["BAKE_TIME"]["production"] == (0, 100) and by_stage["BAKE_TIME"]["test"] == (0, 100)
    assert seen[-1]["status"] == "SUCCESSFUL"
    assert bg.stack.service()["taskDefinition"] == green_td
    [deployment] = bg.stack.deployments()
    assert (deployment["taskDefinition"], deployment["rolloutState"]) == (green_td, "COMPLETED")
    green_ips = bg.task_ips(green_td)
    assert len(green_ips) == 2 and bg.registered(bg.alternate) == green_ips
    assert bg.stack.tasks() and all(t["taskDefinitionArn"] == green_td for t in bg.stack.tasks())

    # The next deployment's green tasks go to the group that is idle now: the original one.
    third_td = bg.stack.release("users:3")
    bg.run()
    assert bg.registered(bg.primary) == bg.task_ips(third_td)
    assert bg.production() == (100, 0)


def test_blue_green_reports_each_stage_in_order_with_bake_time_holding_blue(bg):
    bg.create("BLUE_GREEN", bakeTimeInMinutes=10)
    blue_td = bg.stack.service()["taskDefinition"]
    bg.stack.release("users:2")

    seen = bg.run(step=5)
    stages = _stages(seen)
    order = ["RECONCILE_SERVICE", "PRE_SCALE_UP", "SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT",
             "POST_TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP"]
    # Instant stages may pass between two looks; the ones seen come in AWS's order.
    assert [order.index(s) for s in stages] == sorted(order.index(s) for s in stages)
    assert {"SCALE_UP", "BAKE_TIME"} <= set(stages)
    assert seen[-1]["status"] == "SUCCESSFUL"

    bg.stack.release("users:3")
    bg.run(until="BAKE_TIME")
    bg.stack.advance(9 * 60)
    assert bg.latest()["lifecycleStage"] == "BAKE_TIME"
    tds = {t["taskDefinitionArn"] for t in bg.stack.tasks()}
    assert len(tds) == 2 and blue_td not in tds


def test_canary_moves_canary_percent_then_the_rest_after_its_bake_time(bg):
    bg.create("CANARY", canaryConfiguration={"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 5})
    bg.stack.release("users:2")
    bg.run(until="PRODUCTION_TRAFFIC_SHIFT")
    bg.stack.advance(30)

    assert bg.production() == (90, 10)
    bg.stack.advance(4 * 60)
    assert bg.production() == (90, 10)
    assert bg.latest()["lifecycleStage"] == "PRODUCTION_TRAFFIC_SHIFT"
    bg.stack.advance(60)
    assert bg.production() == (0, 100)
    assert bg.run()[-1]["status"] == "SUCCESSFUL"


def test_linear_moves_step_percent_every_step_bake_time(bg):
    bg.create("LINEAR", linearConfiguration={"stepPercent": 25.0, "stepBakeTimeInMinutes": 2})
    bg.stack.release("users:2")
    bg.run(until="PRODUCTION_TRAFFIC_SHIFT")
    observed = []
    for _step in range(5):
        observed.append(bg.production())
        bg.stack.advance(120)

    assert observed[:4] == [(75, 25), (50, 50), (25, 75), (0, 100)]
    assert bg.run()[-1]["status"] == "SUCCESSFUL"


def _paused_at(bg, stage: str, action: str = "ROLLBACK", minutes: int = 30) -> Dict[str, Any]:
    bg.create("BLUE_GREEN", lifecycleHooks=[{"targetType": "PAUSE", "lifecycleStages": [stage],
                                             "timeoutConfiguration": {"timeoutInMinutes": minutes, "action": action}}])
    bg.stack.release("users:2")
    bg.run(until=stage)
    return bg.latest()


def test_pause_hook_waits_at_its_stage_until_continue(bg):
    waiting = _paused_at(bg, "POST_TEST_TRAFFIC_SHIFT")
    bg.stack.advance(20 * 60)
    still = bg.latest()

    assert (still["status"], still["lifecycleStage"]) == ("IN_PROGRESS", "POST_TEST_TRAFFIC_SHIFT")
    [hook] = still["lifecycleHookDetails"]
    assert (hook["targetType"], hook["status"], hook["timeoutAction"]) == ("PAUSE", "AWAITING_ACTION", "ROLLBACK")
    assert hook["hookId"].startswith("ecs-pause-") and hook["expiresAt"] > still["createdAt"]
    assert waiting["lifecycleHookDetails"][0]["hookId"] == hook["hookId"]
    # Test traffic reaches green, production still blue.
    assert bg.test() == (0, 100) and bg.production() == (100, 0)

    bg.ecs.continue_service_deployment(serviceDeploymentArn=still["serviceDeploymentArn"], hookId=hook["hookId"],
                                       action="CONTINUE")
    assert bg.run()[-1]["status"] == "SUCCESSFUL"
    assert bg.production() == (0, 100)


def test_continue_refuses_a_wrong_hook_and_a_deployment_not_waiting(bg):
    waiting = _paused_at(bg, "POST_SCALE_UP")
    arn = waiting["serviceDeploymentArn"]

    with pytest.raises(ClientError) as wrong:
        bg.ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId="ecs-pause-nope", action="CONTINUE")
    assert wrong.value.response["Error"]["Code"] == "InvalidParameterException"
    bg.ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=waiting["lifecycleHookDetails"][0]["hookId"],
                                       action="CONTINUE")
    with pytest.raises(ClientError) as again:
        bg.ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=waiting["lifecycleHookDetails"][0]["hookId"],
                                           action="CONTINUE")
    assert again.value.response["Error"]["Code"] == "InvalidParameterException"
    with pytest.raises(ClientError) as missing:
        bg.ecs.continue_service_deployment(serviceDeploymentArn=arn + "x", hookId="h", action="CONTINUE")
    assert missing.value.response["Error"]["Code"] == "ServiceDeploymentNotFoundException"


def test_rollback_action_before_production_shift_restores_blue_and_never_moves_production(bg):
    waiting = _paused_at(bg, "POST_TEST_TRAFFIC_SHIFT")
    blue_td = [d for d in bg.stack.deployments() if d["status"] == "ACTIVE"][0]["taskDefinition"]
    productions = [bg.production()]

    bg.ecs.continue_service_deployment(serviceDeploymentArn=waiting["serviceDeploymentArn"],
                                       hookId=waiting["lifecycleHookDetails"][0]["hookId"], action="ROLLBACK")
    rolling_back = bg.latest()
    productions.append(bg.production())
    seen = bg.run()

    assert rolling_back["status"] == "ROLLBACK_IN_PROGRESS"
    assert rolling_back["rollback"]["serviceRevisionArn"]
    assert seen[-1]["status"] == "ROLLBACK_SUCCESSFUL"
    assert all(p == (100, 0) for p in productions + [s["production"] for s in seen])
    assert bg.test() == (100, 0)
    assert bg.stack.service()["taskDefinition"] == blue_td
    [primary] = bg.stack.deployments()
    assert (primary["taskDefinition"], primary["status"]) == (blue_td, "PRIMARY")
    assert all(t["taskDefinitionArn"] == blue_td for t in bg.stack.tasks())
    assert bg.registered(bg.alternate) == []


def test_hook_timeout_applies_its_action(bg):
    _paused_at(bg, "POST_SCALE_UP", action="CONTINUE", minutes=2)
    bg.stack.advance(60)
    assert bg.latest()["lifecycleStage"] == "POST_SCALE_UP"
    bg.stack.advance(61)
    after = bg.latest()

    assert after["lifecycleStage"] != "POST_SCALE_UP"
    assert bg.run()[-1]["status"] == "SUCCESSFUL"


def test_hook_timeout_with_rollback_rolls_back(bg):
    _paused_at(bg, "POST_SCALE_UP", action="ROLLBACK", minutes=1)
    bg.stack.advance(61)

    assert bg.run()[-1]["status"] == "ROLLBACK_SUCCESSFUL"


def test_stop_service_deployment_rollback_after_production_shift_moves_traffic_back(bg):
    waiting = _paused_at(bg, "POST_PRODUCTION_TRAFFIC_SHIFT")
    assert bg.production() == (0, 100)

    bg.ecs.stop_service_deployment(serviceDeploymentArn=waiting["serviceDeploymentArn"], stopType="ROLLBACK")

    assert bg.production() == (100, 0) and bg.test() == (100, 0)
    assert bg.run()[-1]["status"] == "ROLLBACK_SUCCESSFUL"
    with pytest.raises(ClientError) as done:
        bg.ecs.stop_service_deployment(serviceDeploymentArn=waiting["serviceDeploymentArn"], stopType="ROLLBACK")
    assert done.value.response["Error"]["Code"] == "ConflictException"


def test_circuit_breaker_rolls_back_a_crash_looping_green(bg):
    bg.create("BLUE_GREEN", deploymentCircuitBreaker={"enable": True, "rollback": True})
    blue_td = bg.stack.service()["taskDefinition"]
    bg.stack.aws.set_behaviour("users:2", "crash", exit_code=1, after_seconds=10)
    bg.stack.release("users:2")

    seen = bg.run()

    assert seen[-1]["status"] == "ROLLBACK_SUCCESSFUL"
    assert seen[-1]["rollback"]["reason"] == "Circuit Breaker"
    assert seen[-1]["deploymentCircuitBreaker"]["status"] == "TRIGGERED"
    assert all(s["production"] == (100, 0) and s["test"] == (100, 0) for s in seen)
    assert bg.stack.service()["taskDefinition"] == blue_td
    assert sorted(bg.registered(bg.primary)) == bg.task_ips(blue_td)


def test_circuit_breaker_without_rollback_stops_the_deployment_where_it_is(bg):
    bg.create("BLUE_GREEN", deploymentCircuitBreaker={"enable": True, "rollback": False})
    blue_td = bg.stack.service()["taskDefinition"]
    bg.stack.aws.set_behaviour("users:2", "crash", exit_code=1, after_seconds=10)
    green_td = bg.stack.release("users:2")

    seen = bg.run()

    assert (seen[-1]["status"], seen[-1]["lifecycleStage"]) == ("STOPPED", "SCALE_UP")
    assert "rollback" not in seen[-1]
    primary = bg.stack.deployments()[0]
    assert (primary["taskDefinition"], primary["rolloutState"]) == (green_td, "FAILED")
    assert bg.production() == (100, 0) and bg.test() == (100, 0)
    assert sorted(bg.registered(bg.primary)) == bg.task_ips(blue_td)
