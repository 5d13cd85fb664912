"""The switch by hand (ecs_traffic_switch) on scripted ServiceDeployments (native_fakes.py)."""

from __future__ import annotations

import pytest

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import RetryPolicy
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._deploy.switch import TrafficSwitch
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.api import EcsApi
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.api import Elbv2Api

from .native_fakes import BLUE_GREEN, TD, NativeWorld
from .test_native_release import TRAFFIC, release


def switch(world, to, check_mode=False):
    retry = RetryPolicy(sleep=world.clock.sleep, rand=lambda: 0.5)
    runner = TrafficSwitch(EcsApi(world.ecs, retry), Elbv2Api(world.elbv2, retry), timeout=600, interval=5.0,
                           clock=world.clock, sleep=world.clock.sleep)
    return runner.run("app", "talk", to, check_mode=check_mode)


@pytest.fixture
def held():
    world = NativeWorld()
    release(world, test_traffic=dict(TRAFFIC, hold=True))
    world.calls.clear()
    return world


def test_switch_to_production_continues_the_held_hook_and_judges_production(held):
    result = switch(held, "production")
    assert result.changed is True
    assert held.ops("continue_service_deployment") == [
        {"serviceDeploymentArn": held.deployment["arn"], "hookId": "hook-5", "action": "CONTINUE"}]
    assert result.data["status"] == "SUCCESSFUL"
    assert result.data["stages"][-1] == "CLEAN_UP" and "PRODUCTION_TRAFFIC_SHIFT" in result.data["stages"]
    assert result.data["msg"].startswith("production traffic on arn:aws:ecs:us-east-1:123456789012:task-definition/talk:2")
    assert held.green_percent() == 100
    assert held.writes == ["continue_service_deployment"]


def test_switch_to_rollback_answers_rollback_and_waits_for_it(held):
    result = switch(held, "rollback")
    assert result.changed is True
    assert [kw["action"] for kw in held.ops("continue_service_deployment")] == ["ROLLBACK"]
    assert result.data["status"] == "ROLLBACK_SUCCESSFUL"
    assert held.green_percent() == 0


def test_rollback_during_bake_time_stops_the_deployment_with_rollback():
    world = NativeWorld()
    world.deployment = {"arn": "arn:aws:ecs:us-east-1:123456789012:service-deployment/app/talk/sd2", "td": TD % 2,
                        "id": "ecs-svc/2"}
    world.position = [s[1] for s in BLUE_GREEN].index("BAKE_TIME")
    result = switch(world, "rollback")
    assert world.ops("stop_service_deployment") == [{"serviceDeploymentArn": world.deployment["arn"], "stopType": "ROLLBACK"}]
    assert result.data["status"] == "ROLLBACK_SUCCESSFUL"


def test_check_mode_plans_the_switch_without_writing(held):
    result = switch(held, "production", check_mode=True)
    assert result.changed is True
    assert result.data["msg"] == "would call continue_service_deployment CONTINUE"
    assert result.plan.diff()
    assert held.writes == []


def test_nothing_waiting_is_no_change():
    world = NativeWorld()
    result = switch(world, "production")
    assert result.changed is False
    assert result.data["msg"] == "nothing to switch: no deployment of talk is in progress"
    assert world.writes == []
    # a second switch after a completed one changes nothing either
    world2 = NativeWorld()
    release(world2, test_traffic=dict(TRAFFIC, hold=True))
    switch(world2, "production")
    world2.calls.clear()
    assert switch(world2, "production").changed is False
    assert world2.writes == []


def test_rolling_service_is_refused():
    world = NativeWorld(strategy="ROLLING")
    with pytest.raises(ValidationError) as excinfo:
        switch(world, "production")
    assert excinfo.value.option == "service" and "ROLLING" in excinfo.value.reason
