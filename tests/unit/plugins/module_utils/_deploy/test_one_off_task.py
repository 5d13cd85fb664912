"""ecs_rolling_deploy's one_off_task: a command run once in a service's current revision, gated on its exit code."""

from __future__ import annotations

import pytest

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import RetryPolicy
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._deploy.errors import DeployError
from ansible_collections.shipyard.ecs.plugins.module_utils._deploy.options import ReleaseOptions
from ansible_collections.shipyard.ecs.plugins.module_utils._deploy.runner import ReleaseRunner
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.api import EcsApi, LogsApi
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.api import Elbv2Api

from .fakes import FakeAws

IMAGE = "repo/users:1"
SEED = ["python", "manage.py", "seed_db"]
WRITES = ("register_task_definition", "update_service", "run_task", "deregister_task_definition", "tag_resource")


def run(world, check_mode=False, **params):
    params.setdefault("cluster", "app")
    params.setdefault("poll_interval", 5.0)
    params.setdefault("max_poll_interval", 5.0)
    options = ReleaseOptions.from_params(params, check_mode=check_mode)
    retry = RetryPolicy(sleep=world.clock.sleep, rand=lambda: 0.5)
    runner = ReleaseRunner(options, EcsApi(world.ecs, retry), Elbv2Api(world.elbv2, retry), LogsApi(world.logs, retry),
                           clock=world.clock, sleep=world.clock.sleep)
    return runner.run()


@pytest.fixture
def world():
    aws = FakeAws()
    aws.service("users", aws.register("users", IMAGE))
    return aws


def the_task(world):
    [one] = world.one_off.values()
    return one


def test_a_one_off_task_runs_in_the_service_revision_on_its_network_and_succeeds_on_exit_0(world):
    world.one_off_behaviours[IMAGE] = {"kind": "exit", "exit_code": 0, "after": 5.0}

    result = run(world, one_off_task={"service": "users", "command": SEED})

    task = result.data["task"]
    assert (result.changed, task["status"], task["exit_codes"], task["container"]) == (True, "succeeded", {"users": 0}, "users")
    kwargs = the_task(world)["kwargs"]
    assert kwargs["taskDefinition"] == world.services["users"]["taskDefinition"]
    assert kwargs["networkConfiguration"] == world.services["users"]["networkConfiguration"]
    assert kwargs["overrides"]["containerOverrides"] == [{"name": "users", "command": SEED}]
    assert kwargs["startedBy"] == "shipyard-one-off-task"
    assert [c for c in world.calls if c in WRITES] == ["run_task"], "no revision registered, no service updated"
    assert result.data["services"] == []


def test_a_non_zero_exit_code_fails_with_the_code_the_stop_reason_and_the_last_log_lines(world):
    world.one_off_behaviours[IMAGE] = {"kind": "exit", "exit_code": 3, "after": 5.0}
    world.log_streams["/ecs/users|ecs/users/migr2"] = ["seeding", "psycopg2.OperationalError: no such host"]

    with pytest.raises(DeployError) as excinfo:
        run(world, one_off_task={"service": "users", "command": SEED})

    msg = excinfo.value.msg
    assert "one-off task failed: users exited with 3" in msg
    assert "Essential container in task exited" in msg
    assert "psycopg2.OperationalError: no such host" in msg
    task = excinfo.value.details["task"]
    assert task["exit_codes"] == {"users": 3}
    assert task["log_lines"] == {"users": ["seeding", "psycopg2.OperationalError: no such host"]}
    assert task["stopped_reason"] == "Essential container in task exited"


def test_a_task_that_fails_to_start_fails_with_the_reason(world):
    world.behave(IMAGE, "pull_error")

    with pytest.raises(DeployError) as excinfo:
        run(world, one_off_task={"service": "users", "command": SEED})

    assert "failed to start: CannotPullContainerError" in excinfo.value.msg


def test_a_task_that_does_not_stop_in_time_fails_and_says_it_is_left_running(world):
    world.one_off_behaviours[IMAGE] = {"kind": "exit", "exit_code": 0, "after": 10000.0}

    with pytest.raises(DeployError) as excinfo:
        run(world, one_off_task={"service": "users", "command": ["sleep", "600"], "timeout": 30})

    assert "did not stop within 30s and is left running (last status RUNNING)" in excinfo.value.msg
    assert "stop_task" not in world.calls


def test_check_mode_reports_the_task_it_would_run_and_starts_nothing(world):
    result = run(world, check_mode=True, one_off_task={"service": "users", "command": SEED})

    assert result.changed is True
    assert result.data["task"] == {"status": "would run", "service": "users", "container": "users", "command": SEED,
                                   "revision": world.services["users"]["taskDefinition"]}
    assert [c for c in world.calls if c in WRITES] == []


def test_the_container_named_like_the_service_runs_the_command_even_behind_a_sidecar(world):
    sidecar = {"name": "envoy", "image": "envoy:1", "essential": True}
    app = {"name": "orders", "image": "repo/orders:1", "essential": True}
    world.service("orders", world.register("orders", "repo/orders:1", containers=[sidecar, app]))

    result = run(world, check_mode=True, one_off_task={"service": "orders", "command": SEED})

    assert result.data["task"]["container"] == "orders"


@pytest.mark.parametrize("params, option", [
    ({"one_off_task": {"service": "users", "command": SEED}, "services": [{"name": "users", "images": "repo/users:2"}]},
     "one_off_task"),
    ({"one_off_task": {"service": "users", "command": SEED}, "migration": {"service": "users", "command": SEED}},
     "migration"),
    ({"one_off_task": {"service": "users", "command": []}}, "one_off_task.command"),
    ({"one_off_task": {"service": "users", "command": SEED, "timeout": 0}}, "one_off_task.timeout"),
    ({}, "services"),
])
def test_bad_input_fails_before_any_call_naming_the_option(world, params, option):
    with pytest.raises(ValidationError) as excinfo:
        run(world, **params)
    assert excinfo.value.option == option
    assert world.calls == []


@pytest.mark.parametrize("task, option", [
    ({"service": "orders", "command": SEED}, "one_off_task.service"),
    ({"service": "users", "command": SEED, "container": "worker"}, "one_off_task.container"),
])
def test_an_unknown_service_or_container_fails_before_any_write(world, task, option):
    with pytest.raises(ValidationError) as excinfo:
        run(world, one_off_task=task)
    assert excinfo.value.option == option
    assert [c for c in world.calls if c in WRITES] == []
