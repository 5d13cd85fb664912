"""ECS-native releases (BLUE_GREEN, CANARY) on scripted ServiceDeployments (native_fakes.py)."""

from __future__ import annotations

import pytest

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import RetryPolicy
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._deploy.checks import TrafficChecker
from ansible_collections.shipyard.ecs.plugins.module_utils._deploy.errors import DeployError
from ansible_collections.shipyard.ecs.plugins.module_utils._deploy.options import ReleaseOptions
from ansible_collections.shipyard.ecs.plugins.module_utils._deploy.runner import ReleaseRunner
from ansible_collections.shipyard.ecs.plugins.module_utils._deploy.strategies import listener_of_rule
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.api import EcsApi, LogsApi
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.api import Elbv2Api

from .native_fakes import CRASH, GREEN_TG, LISTENER, PROD_RULE, STUCK, TD, NativeWorld

TRAFFIC = {"url": "http://web.example:8080", "headers": {"X-Green": "1"},
           "checks": [{"path": "/health"}, {"path": "/", "contains": "talk:2"}]}


class Answers:
    """Scripted HTTP answers by path; records each request."""

    def __init__(self, **by_path):
        self.by_path = by_path
        self.requests = []

    def __call__(self, url, headers, timeout):
        self.requests.append((url, dict(headers), timeout))
        path = "/" + url.split("/", 3)[3] if url.count("/") >= 3 else "/"
        return self.by_path.get(path, (200, b"served by repo/talk:2"))


def release(world, answers=None, check_mode=False, test_traffic="default", **params):
    if test_traffic == "default":
        test_traffic = dict(TRAFFIC)
    service = {"name": "talk", "task_definition": "talk:2"}
    if test_traffic is not None:
        service["test_traffic"] = test_traffic
    params.setdefault("services", [service])
    params.setdefault("cluster", "app")
    params.setdefault("poll_interval", 5.0)
    params.setdefault("max_poll_interval", 5.0)
    params.setdefault("timeout", 600)
    options = ReleaseOptions.from_params(params, check_mode=check_mode, region="us-east-1")
    retry = RetryPolicy(sleep=world.clock.sleep, rand=lambda: 0.5)
    runner = ReleaseRunner(options, EcsApi(world.ecs, retry), Elbv2Api(world.elbv2, retry), LogsApi(world.ecs, retry),
                           clock=world.clock, sleep=world.clock.sleep)
    runner.native.checker = TrafficChecker(fetcher=answers or Answers(), sleep=world.clock.sleep)
    return runner.run()


def stages(events, service="talk"):
    """The stages in the timeline, in order (a status change within a stage is a line, not a new stage)."""
    out = []
    for e in events:
        if e.get("event") == "stage" and e.get("service") == service and (not out or out[-1] != e["stage"]):
            out.append(e["stage"])
    return out


def test_blue_green_healthy_release_reports_each_stage_and_judges_the_production_rule():
    world = NativeWorld()
    answers = Answers()
    result = release(world, answers)
    svc = result.data["services"][0]
    assert result.changed is True and svc["status"] == "completed", svc
    assert svc["strategy"] == "blue_green"
    assert stages(result.data["timeline"]) == [
        "RECONCILE_SERVICE", "PRE_SCALE_UP", "SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT", "POST_TEST_TRAFFIC_SHIFT",
        "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP"]
    # The checks ran once, through the test URL with the test rule's header, before production moved.
    assert [r[0] for r in answers.requests] == ["http://web.example:8080/health", "http://web.example:8080/"]
    assert answers.requests[0][1] == {"X-Green": "1"}
    assert world.ops("continue_service_deployment") == [
        {"serviceDeploymentArn": world.deployment["arn"], "hookId": "hook-5", "action": "CONTINUE"}]
    # Success was judged on the production rule (read from its listener) and the green targets.
    assert [kw["ListenerArn"] for kw in world.ops("describe_rules")] == [LISTENER]
    assert any(kw == {"TargetGroupArn": GREEN_TG} for kw in world.ops("describe_target_health"))
    assert world.writes == ["update_service", "continue_service_deployment", "tag_resource"]
    # The health a smoke check judges: both groups (the alternate serves now), read once the release was over.
    health = result.data["target_health"]
    assert sorted(health) == ["talk", "talk-alt"] and health["talk-alt"] and set(health["talk-alt"]) == {"healthy"}, health
    # The ServiceDeployments are described together, one call per look.
    assert all(len(kw["serviceDeploymentArns"]) == 1 for kw in world.ops("describe_service_deployments"))


def test_crash_loop_rolled_back_by_ecs_is_a_failure_with_production_never_moved():
    world = NativeWorld(script=CRASH)
    with pytest.raises(DeployError) as excinfo:
        release(world)
    msg = excinfo.value.msg
    assert "ROLLBACK_SUCCESSFUL at stage SCALE_UP" in msg and "tasks failed to start" in msg
    assert "rolled back by ECS" in msg
    failure = excinfo.value.details["failures"][0]
    assert failure["stage"] == "SCALE_UP" and failure["kind"] == "rolled_back_by_ecs"
    assert [t["exit_codes"] for t in failure["stopped_tasks"]] == [{"talk": 3}, {"talk": 3}]
    assert failure["stages"] == ["RECONCILE_SERVICE", "PRE_SCALE_UP", "SCALE_UP"]
    assert world.ops("continue_service_deployment") == []
    assert world.writes == ["update_service"]
    assert world.green_percent() == 0


def test_a_failing_test_traffic_check_rolls_back_at_the_hook_and_names_the_check():
    world = NativeWorld()
    answers = Answers(**{"/": (500, b"Internal Server Error: boom")})
    with pytest.raises(DeployError) as excinfo:
        release(world, answers)
    msg = excinfo.value.msg
    assert "test traffic check failed at POST_TEST_TRAFFIC_SHIFT" in msg
    assert "GET http://web.example:8080/: status 500 (expected 200)" in msg and "boom" in msg
    assert [kw["action"] for kw in world.ops("continue_service_deployment")] == ["ROLLBACK"]
    assert excinfo.value.details["failures"][0]["kind"] == "test_traffic_check_failed"
    # three attempts of the failing check, none of production moved
    assert len([r for r in answers.requests if r[0].endswith(":8080/")]) == 3
    assert world.green_percent() == 0
    assert "tag_resource" not in world.writes


def test_hold_leaves_the_deployment_waiting_in_test_traffic():
    world = NativeWorld()
    result = release(world, test_traffic=dict(TRAFFIC, hold=True))
    svc = result.data["services"][0]
    assert result.changed is True
    assert svc["status"] == "held_in_test_traffic"
    assert "switch.yml -e service=talk -e to=production" in svc["reason"]
    assert result.data["held"][0]["service_deployment"] == world.deployment["arn"]
    assert world.ops("continue_service_deployment") == []
    assert world.writes == ["update_service"]  # not marked released: not verified in production


def test_canary_with_pause_after_steps_checks_at_each_step():
    world = NativeWorld(strategy="CANARY", pause_stages=("POST_TEST_TRAFFIC_SHIFT", "PRE_PRODUCTION_TRAFFIC_SHIFT"))
    answers = Answers()
    result = release(world, answers, test_traffic=dict(TRAFFIC, pause_after_steps=True))
    assert result.data["services"][0]["status"] == "completed"
    hooks = world.ops("continue_service_deployment")
    assert [kw["action"] for kw in hooks] == ["CONTINUE"] * 3
    assert len(answers.requests) == 2 * 3
    assert stages(result.data["timeline"]).count("PRE_PRODUCTION_TRAFFIC_SHIFT") == 2


def test_canary_without_pause_after_steps_continues_step_hooks_and_says_so():
    world = NativeWorld(strategy="CANARY", pause_stages=("POST_TEST_TRAFFIC_SHIFT", "PRE_PRODUCTION_TRAFFIC_SHIFT"))
    answers = Answers()
    result = release(world, answers)
    assert result.data["services"][0]["status"] == "completed"
    assert len(answers.requests) == 2
    notes = [e["note"] for e in result.data["timeline"] if e["event"] == "hook_continue"]
    assert notes[1].startswith("no checks for stage PRE_PRODUCTION_TRAFFIC_SHIFT")


def test_timeout_is_a_failure_and_the_deployment_is_stopped_with_rollback():
    world = NativeWorld(script=STUCK)
    with pytest.raises(DeployError) as excinfo:
        release(world, timeout=60)
    assert "timed out after 60s" in excinfo.value.msg and "stage SCALE_UP" in excinfo.value.msg
    assert world.ops("stop_service_deployment") == [{"serviceDeploymentArn": world.deployment["arn"], "stopType": "ROLLBACK"}]
    assert "rolled back by ECS" in excinfo.value.msg


def test_check_mode_makes_no_write_and_no_continue():
    world = NativeWorld()
    result = release(world, check_mode=True)
    assert result.changed is True
    assert world.writes == []
    assert world.ops("describe_service_deployments") == []


def test_pause_hook_without_test_traffic_is_refused_before_any_write():
    world = NativeWorld()
    with pytest.raises(ValidationError) as excinfo:
        release(world, test_traffic=None)
    assert excinfo.value.option == "services[0].test_traffic"
    assert "POST_TEST_TRAFFIC_SHIFT" in excinfo.value.reason
    assert world.writes == []


def test_test_traffic_on_a_rolling_service_is_refused():
    world = NativeWorld(strategy="ROLLING")
    with pytest.raises(ValidationError) as excinfo:
        release(world)
    assert "ROLLING" in excinfo.value.reason
    assert world.writes == []


def test_reachable_false_judges_the_green_targets_health():
    world = NativeWorld()
    answers = Answers()
    result = release(world, answers, test_traffic={"reachable": False})
    assert result.data["services"][0]["status"] == "completed"
    assert answers.requests == []
    checks = [e for e in result.data["timeline"] if e["event"] == "test_traffic_checks"]
    assert checks[0]["note"] == "passed"


@pytest.mark.parametrize("raw, option", [
    ({"checks": [{"path": "/"}]}, "services[0].test_traffic.url"),
    ({"url": "http://x", "checks": []}, "services[0].test_traffic.checks"),
    ({"url": "http://x", "checks": [{"path": "health"}]}, "services[0].test_traffic.checks[0].path"),
    ({"url": "http://x", "checks": [{"path": "/", "status": 900}]}, "services[0].test_traffic.checks[0].status"),
])
def test_test_traffic_options_are_validated(raw, option):
    with pytest.raises(ValidationError) as excinfo:
        ReleaseOptions.from_params({"cluster": "app", "services": [{"name": "talk", "test_traffic": raw}]})
    assert excinfo.value.option == option


def test_listener_of_rule():
    assert listener_of_rule(PROD_RULE) == LISTENER
    assert TD % 2 != TD % 1


def test_each_stage_change_is_one_progress_line():
    from ansible_collections.shipyard.ecs.plugins.module_utils._deploy.progress import progress_line
    world = NativeWorld()
    result = release(world)
    lines = [progress_line(s) for s in result.data["progress"] if s.get("stage")]
    assert lines[0] == "[+0s] talk release: stage RECONCILE_SERVICE, service deployment PENDING, tasks 2/2"
    assert sum("stage POST_TEST_TRAFFIC_SHIFT" in line for line in lines) == 1
    assert lines[-1].endswith("stage CLEAN_UP, service deployment SUCCESSFUL, tasks 2/2")


def test_successful_deployment_with_production_still_split_is_a_failure_and_is_released_back():
    from .native_fakes import HEAD
    world = NativeWorld(script=HEAD + [("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", 50), ("SUCCESSFUL", "CLEAN_UP", 50)])
    with pytest.raises(DeployError) as excinfo:
        release(world)
    failure = excinfo.value.details["failures"][0]
    assert failure["kind"] == "production_traffic_not_verified"
    assert "production rule %s still splits traffic: talk-alt=50, talk=50" % PROD_RULE in excinfo.value.msg
    # never success; the previous revision is released again (an ECS-native deployment, followed the same way)
    assert [kw["taskDefinition"] for kw in world.ops("update_service")] == [TD % 2, TD % 1]
    # (the scripted rollback splits traffic the same way, so it is judged failed too)
    assert "rollback: talk rollback to %s failed: production rule" % (TD % 1) in excinfo.value.msg
    assert "tag_resource" not in world.writes


def test_a_service_steady_on_the_released_revision_in_the_alternate_group_is_a_no_op():
    """After a blue/green deployment the tasks are targets of the former alternate group: still no change."""
    world = NativeWorld()
    world.revision = TD % 2  # the service completed on talk:2 (green tasks in talk-alt)
    world.tasks = lambda: [world._task("green%d" % i, TD % 2, "10.0.1.%d" % i) for i in (1, 2)]
    result = release(world)
    assert result.changed is False
    assert result.data["services"][0]["status"] == "unchanged"
    assert world.writes == []
