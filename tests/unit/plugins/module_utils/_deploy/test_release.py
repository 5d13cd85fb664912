"""The release state machine on scripted AWS answers (see fakes.py), one behaviour per test."""

from __future__ import annotations

import pytest

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import RetryPolicy
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._deploy.errors import DeployError
from ansible_collections.shipyard.ecs.plugins.module_utils._deploy.options import ReleaseOptions
from ansible_collections.shipyard.ecs.plugins.module_utils._deploy.runner import ReleaseRunner
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.api import Elbv2Api
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.api import EcsApi, LogsApi

from .fakes import FakeAws, client_error

WRITES = ("register_task_definition", "update_service", "run_task", "deregister_task_definition", "tag_resource",
          "stop_task")
IMAGE_V1 = "repo/users:1"
IMAGE_V2 = "repo/users:2"


def release(world, check_mode=False, region="us-east-1", **params):
    params.setdefault("cluster", "app")
    params.setdefault("poll_interval", 5.0)
    params.setdefault("max_poll_interval", 5.0)
    params.setdefault("timeout", 600)
    options = ReleaseOptions.from_params(params, check_mode=check_mode, region=region)
    retry = RetryPolicy(sleep=world.clock.sleep, rand=lambda: 0.5)
    runner = ReleaseRunner(options, EcsApi(world.ecs, retry), Elbv2Api(world.elbv2, retry), LogsApi(world.logs, retry),
                           clock=world.clock, sleep=world.clock.sleep)
    return runner.run()


def writes(world):
    return [c for c in world.calls if c in WRITES]


@pytest.fixture
def world():
    aws = FakeAws()
    rev1 = aws.register("users", IMAGE_V1)
    aws.service("users", rev1)
    return aws


def users_v2(**extra):
    return [dict({"name": "users", "images": {"users": IMAGE_V2}}, **extra)]


def failure_of(excinfo, service="users"):
    return next(f for f in excinfo.value.details["failures"] if f["service"] == service)


def test_release_of_a_new_image_registers_a_revision_and_completes(world):
    result = release(world, services=users_v2())
    svc = result.data["services"][0]
    assert result.changed is True
    assert svc["status"] == "completed"
    assert svc["revision"].endswith("task-definition/users:2")
    assert world.services["users"]["taskDefinition"].endswith("users:2")
    assert [c for c in writes(world) if c != "tag_resource"] == ["register_task_definition", "update_service"]


def test_a_release_returns_its_target_groups_health_read_once_it_is_over(world):
    result = release(world, services=users_v2())
    assert result.data["target_health"] == {"users": ["healthy", "healthy"]}
    # Read after the release's last write, one read per target group.
    assert world.calls[-1] == "describe_target_health" and "update_service" in world.calls
    # Check mode reads nothing more: a smoke check does not run there.
    assert "target_health" not in release(world, check_mode=True, services=users_v2()).data


def test_second_run_with_the_same_input_is_a_noop_without_writes(world):
    release(world, services=users_v2())
    world.calls.clear()
    result = release(world, services=users_v2())
    assert result.changed is False
    assert result.data["services"][0]["action"] == "noop"
    assert writes(world) == []
    # A steady service is judged on readiness alone: its running tasks are listed (to find their targets), its stopped
    # ones are not (they could not change the verdict).
    assert world.calls.count("list_tasks") == 1
    # The summary shows its tasks and targets as the planner read them.
    assert {k: result.data["services"][0][k] for k in ("tasks", "targets")} == {
        "tasks": {"running": 2, "desired": 2}, "targets": {"healthy": 2, "total": 2}}
    assert result.data["summary"][2].split()[-3:] == ["2/2", "2/2", "unchanged"], result.data["summary"]


def test_check_mode_reports_the_release_and_its_diff_without_writes(world):
    result = release(world, check_mode=True, services=users_v2())
    assert result.changed is True
    assert writes(world) == []
    actions = [(a["action"], a["kind"]) for a in result.plan.to_list()]
    assert actions == [("register", "task_definition"), ("update", "service")]
    diff = result.plan.diff()
    assert diff["after"]["task_definition/users"]["containers"]["users"]["image"] == IMAGE_V2
    assert diff["before"]["task_definition/users"]["containers"]["users"]["image"] == IMAGE_V1


def test_crash_loop_fails_fast_before_the_circuit_breaker_and_rolls_back(world):
    world.services["users"]["deploymentConfiguration"]["deploymentCircuitBreaker"]["enable"] = True
    world.behave(IMAGE_V2, "crash", exit_code=3, after=5.0)
    with pytest.raises(DeployError) as excinfo:
        # The circuit breaker fails the deployment at its 3rd failed task (AWS's minimum threshold).
        release(world, services=users_v2(), max_failed_tasks=2)
    failure = failure_of(excinfo)
    assert failure["kind"] == "tasks_failed"
    assert failure["stopped_tasks"][0]["exit_codes"] == {"users": 3}
    assert failure["stopped_tasks"][0]["stop_code"] == "EssentialContainerExited"
    assert world.calls.count("update_service") == 2
    assert world.services["users"]["taskDefinition"].endswith("users:1")
    assert excinfo.value.details["services"][0]["status"] == "rolled_back"


def test_failed_tasks_last_log_lines_are_reported(world):
    world.behave(IMAGE_V2, "crash", exit_code=3, after=5.0)
    world.log_streams["/ecs/users|ecs/users/2-new-1"] = ["booting", "KeyError: DATABASE_URL"]
    with pytest.raises(DeployError) as excinfo:
        release(world, services=users_v2(), max_failed_tasks=2)
    assert failure_of(excinfo)["log_lines"]["2-new-1"] == {"users": ["booting", "KeyError: DATABASE_URL"]}


def test_targets_unhealthy_for_the_timeout_fail_the_release(world):
    # A health-check grace period longer than the release: ECS keeps the unhealthy tasks.
    world.services["users"]["_grace"] = True
    world.behave(IMAGE_V2, "unhealthy")
    with pytest.raises(DeployError) as excinfo:
        release(world, services=users_v2(), unhealthy_timeout=20, max_failed_tasks=0)
    assert failure_of(excinfo)["kind"] == "targets_unhealthy"
    assert world.services["users"]["taskDefinition"].endswith("users:1")


def test_circuit_breaker_rollback_is_reported_as_failure_and_awaited(world):
    world.services["users"]["deploymentConfiguration"]["deploymentCircuitBreaker"]["enable"] = True
    world.behave(IMAGE_V2, "crash", after=5.0)
    with pytest.raises(DeployError) as excinfo:
        release(world, services=users_v2(), max_failed_tasks=0)
    assert failure_of(excinfo)["kind"] == "rolled_back_by_ecs"
    assert world.calls.count("update_service") == 1, "ECS rolls back by itself; the module must not race it"
    state = excinfo.value.state[0]
    assert state["task_definition"].endswith("users:1") and state["rollout_state"] == "COMPLETED"
    assert excinfo.value.details["services"][0]["status"] == "rolled_back"


def test_rollout_that_never_finishes_times_out_and_rolls_back(world):
    world.behave(IMAGE_V2, "stuck")
    with pytest.raises(DeployError) as excinfo:
        release(world, services=users_v2(), timeout=60)
    assert failure_of(excinfo)["kind"] == "timeout"
    assert "timed out" in excinfo.value.msg
    assert world.services["users"]["taskDefinition"].endswith("users:1")


def test_deployment_replaced_by_someone_else_fails_and_is_not_rolled_back(world):
    rev3 = world.register("users", "repo/users:hotfix")
    world.at(12, lambda w: w.replace("users", rev3))
    with pytest.raises(DeployError) as excinfo:
        release(world, services=users_v2())
    assert failure_of(excinfo)["kind"] == "replaced"
    assert world.calls.count("update_service") == 1
    assert excinfo.value.details["services"][0]["status"] == "replaced"


def test_throttling_during_the_wait_is_retried_and_the_release_succeeds(world):
    world.at(1, lambda w: (w.fail_next("describe_services", 3), w.fail_next("describe_target_health", 2)))
    result = release(world, services=users_v2())
    assert result.data["services"][0]["status"] == "completed"
    assert world.faults == {"describe_services": [], "describe_target_health": []}, "every throttled call was retried"


def test_migration_failure_stops_the_release_before_any_service_update(world):
    world.one_off_behaviours[IMAGE_V2] = {"kind": "exit", "exit_code": 3, "after": 5.0}
    with pytest.raises(DeployError) as excinfo:
        release(world, services=users_v2(), migration={"service": "users", "command": ["manage", "migrate"]})
    assert "exited with 3" in excinfo.value.msg
    assert excinfo.value.details["migration"]["exit_codes"] == {"users": 3}
    assert "update_service" not in world.calls
    run = next(iter(world.one_off.values()))
    assert run["kwargs"]["overrides"]["containerOverrides"][0]["command"] == ["manage", "migrate"]
    assert run["kwargs"]["networkConfiguration"] == world.services["users"]["networkConfiguration"]


def test_migration_that_fails_to_start_stops_the_release(world):
    world.behave(IMAGE_V2, "pull_error")
    with pytest.raises(DeployError) as excinfo:
        release(world, services=users_v2(), migration={"service": "users", "command": ["migrate"]})
    assert "failed to start" in excinfo.value.msg
    assert "update_service" not in world.calls


def test_successful_migration_returns_exit_codes_and_then_releases(world):
    world.one_off_behaviours[IMAGE_V2] = {"kind": "exit", "exit_code": 0, "after": 5.0}
    result = release(world, services=users_v2(), migration={"service": "users", "command": ["migrate"]})
    assert result.data["migration"]["exit_codes"] == {"users": 0}
    assert world.calls.index("run_task") < world.calls.index("update_service")
    assert result.data["services"][0]["status"] == "completed"


def two_services(world):
    rev = world.register("client", "repo/client:1")
    world.service("client", rev)
    return [{"name": "users", "images": {"users": IMAGE_V2}}, {"name": "client", "images": {"client": "repo/client:2"}}]


def test_one_failed_service_rolls_back_the_whole_release_by_default(world):
    services = two_services(world)
    world.behave(IMAGE_V2, "crash", after=5.0)
    with pytest.raises(DeployError) as excinfo:
        release(world, services=services, max_failed_tasks=2)
    statuses = {s["name"]: s["status"] for s in excinfo.value.details["services"]}
    assert statuses == {"users": "rolled_back", "client": "rolled_back"}
    assert excinfo.value.details["failed_services"] == ["users"]
    assert world.services["client"]["taskDefinition"].endswith("client:1")


def test_rollback_scope_service_keeps_the_services_that_succeeded(world):
    services = two_services(world)
    world.behave(IMAGE_V2, "crash", after=30.0)
    with pytest.raises(DeployError) as excinfo:
        release(world, services=services, max_failed_tasks=2, rollback_scope="service")
    statuses = {s["name"]: s["status"] for s in excinfo.value.details["services"]}
    assert statuses == {"users": "rolled_back", "client": "completed"}
    assert world.services["client"]["taskDefinition"].endswith("client:2")


def test_services_roll_out_in_parallel_with_one_update_each_before_waiting(world):
    services = two_services(world)
    release(world, services=services)
    first_describe_after_updates = world.calls.index("update_service") + 1
    assert world.calls[first_describe_after_updates] == "update_service"


def test_a_later_order_group_is_not_started_when_an_earlier_one_fails(world):
    services = two_services(world)
    services[0]["order"], services[1]["order"] = 1, 2
    world.behave(IMAGE_V2, "crash", after=5.0)
    with pytest.raises(DeployError) as excinfo:
        release(world, services=services, max_failed_tasks=2)
    statuses = {s["name"]: s["status"] for s in excinfo.value.details["services"]}
    assert statuses["client"] == "not_started"
    assert world.services["client"]["taskDefinition"].endswith("client:1")


def test_a_rollout_in_progress_to_the_desired_revision_is_awaited_then_marked_released_and_nothing_else(world):
    # What a release killed right after its update_service leaves behind.
    rev2 = world.register("users", IMAGE_V2)
    world.replace("users", rev2)
    world.calls.clear()
    result = release(world, services=users_v2())
    assert result.data["services"][0]["action"] == "await"
    assert result.data["services"][0]["status"] == "completed"
    assert writes(world) == ["tag_resource"], "no registration, no update: only the mark of the verified revision"
    assert [(a["action"], a["name"]) for a in result.plan.to_list()] == [("mark_released", rev2)]
    world.calls.clear()
    again = release(world, services=users_v2())
    assert again.changed is False
    assert writes(world) == []


def test_a_release_interrupted_before_its_verification_is_found_by_previous_once_a_rerun_verified_it(world):
    release(world, services=users_v2())
    rev3 = world.register("users", "repo/users:3")
    world.replace("users", rev3)  # the killed run's update; it never marked rev3
    release(world, services=[{"name": "users", "images": {"users": "repo/users:3"}}])
    release(world, services=[{"name": "users", "images": {"users": "repo/users:4"}}])
    result = release(world, services=[{"name": "users", "task_definition": "previous"}])
    assert result.data["services"][0]["revision"] == rev3


def test_check_mode_reports_the_mark_of_an_unmarked_revision_without_writing_it(world):
    world.calls.clear()
    result = release(world, check_mode=True, services=[{"name": "users", "images": {"users": IMAGE_V1}}])
    assert result.changed is True
    assert [a["action"] for a in result.plan.to_list()] == ["mark_released"]
    assert writes(world) == []


def test_an_identical_registered_revision_is_reused_instead_of_registering_a_duplicate(world):
    world.register("users", IMAGE_V2)
    result = release(world, services=users_v2())
    assert "register_task_definition" not in world.calls
    assert result.data["services"][0]["reused_revision"] is True
    assert world.services["users"]["taskDefinition"].endswith("users:2")


def test_unknown_container_fails_validation_naming_the_option_before_any_write(world):
    with pytest.raises(ValidationError) as excinfo:
        release(world, services=[{"name": "users", "images": {"api": IMAGE_V2}}])
    assert "services[0].images" in excinfo.value.msg
    assert writes(world) == []


def test_cleanup_deregisters_old_revisions_no_service_uses(world):
    for tag in ("a", "b", "c"):
        world.register("users", "repo/users:%s" % tag)
    result = release(world, services=users_v2(), keep_revisions=2)
    remaining = [td["revision"] for td in world.task_definitions.values() if td["status"] == "ACTIVE"]
    assert sorted(remaining) == [4, 5]
    assert len(result.data["deregistered"]) == 3


def test_cleanup_never_deregisters_a_revision_a_service_uses(world):
    for tag in ("a", "b"):
        world.register("users", "repo/users:%s" % tag)
    other = world.register("users", "repo/users:other")
    world.service("users-canary", other)
    release(world, services=users_v2(), keep_revisions=1)
    assert world.task_definitions[other]["status"] == "ACTIVE"


def test_previous_returns_the_service_to_the_last_released_revision(world):
    release(world, services=users_v2())
    release(world, services=[{"name": "users", "images": {"users": "repo/users:3"}}])
    result = release(world, services=[{"name": "users", "task_definition": "previous"}])
    assert result.data["services"][0]["revision"].endswith("users:2")
    assert world.services["users"]["taskDefinition"].endswith("users:2")


def test_an_update_call_failing_mid_release_rolls_back_the_services_already_updated(world):
    services = two_services(world)
    original = world.ecs._update_service
    calls = []

    def second_update_fails(**kwargs):
        calls.append(kwargs["service"])
        if kwargs["service"] == "client" and len(calls) == 2:
            raise client_error("InvalidParameterException", "UpdateService")
        return original(**kwargs)

    world.ecs._update_service = second_update_fails
    with pytest.raises(DeployError) as excinfo:
        release(world, services=services)
    assert "client" in excinfo.value.msg and "InvalidParameterException" in excinfo.value.msg
    assert world.services["users"]["taskDefinition"].endswith("users:1")


def test_failed_deployment_without_breaker_rollback_is_rolled_back_by_the_module(world):
    breaker = world.services["users"]["deploymentConfiguration"]["deploymentCircuitBreaker"]
    breaker.update(enable=True, rollback=False)
    world.behave(IMAGE_V2, "crash", after=5.0)
    with pytest.raises(DeployError) as excinfo:
        release(world, services=users_v2(), max_failed_tasks=0)
    assert failure_of(excinfo)["kind"] == "deployment_failed"
    assert world.calls.count("update_service") == 2
    assert world.services["users"]["taskDefinition"].endswith("users:1")


def test_rollback_false_fails_and_leaves_the_service_on_the_failed_revision(world):
    world.behave(IMAGE_V2, "crash", after=5.0)
    with pytest.raises(DeployError) as excinfo:
        release(world, services=users_v2(), rollback=False)
    assert "rollback=false" in excinfo.value.msg
    assert world.calls.count("update_service") == 1


def test_a_service_without_load_balancer_completes_on_its_deployment_counts():
    world = FakeAws()
    world.service("worker", world.register("worker", "repo/worker:1"), target_group=False)
    result = release(world, services=[{"name": "worker", "images": {"worker": "repo/worker:2"}}])
    assert result.data["services"][0]["status"] == "completed"
    assert "describe_target_health" not in world.calls


def test_failure_report_carries_the_service_events_up_to_the_end_of_the_rollback(world):
    world.services["users"]["deploymentConfiguration"]["deploymentCircuitBreaker"]["enable"] = True
    world.behave(IMAGE_V2, "crash", after=5.0)
    with pytest.raises(DeployError) as excinfo:
        release(world, services=users_v2(), max_failed_tasks=0)
    messages = [e["message"] for e in failure_of(excinfo)["events"]]
    assert any("deployment failed" in m for m in messages)
    assert "has reached a steady state" in messages[0]


def test_cleanup_leaves_families_that_merely_share_the_name_prefix_alone(world):
    worker = [world.register("users-worker", "repo/worker:%d" % i) for i in range(3)]
    release(world, services=users_v2(), keep_revisions=1)
    assert all(world.task_definitions[arn]["status"] == "ACTIVE" for arn in worker)


def test_a_new_revision_does_not_inherit_the_released_mark_of_its_parent(world):
    release(world, services=users_v2())
    world.behave("repo/users:3", "crash", after=5.0)
    with pytest.raises(DeployError):
        release(world, services=[{"name": "users", "images": {"users": "repo/users:3"}}])
    rev3 = next(arn for arn, td in world.task_definitions.items() if td["revision"] == 3)
    assert "shipyard.ecs:released-at" not in {t["key"] for t in world.td_tags[rev3]}


def test_a_secret_reference_that_does_not_exist_stops_the_release_before_any_write(world):
    import boto3
    from moto import mock_aws

    from ansible_collections.shipyard.ecs.plugins.module_utils._secrets.api import SecretsManagerApi, SsmApi, StsApi

    with mock_aws():
        apis = tuple(cls(boto3.client(name, region_name="us-east-1")) for cls, name in
                     ((SsmApi, "ssm"), (SecretsManagerApi, "secretsmanager"), (StsApi, "sts")))
        apis[0].client.put_parameter(Name="/app/users/SECRET_KEY", Value="v", Type="SecureString")
        options = ReleaseOptions.from_params({"cluster": "app", "poll_interval": 5.0, "max_poll_interval": 5.0, "timeout": 600,
                                              "services": users_v2(secrets={"users": {"SECRET_KEY": "/app/users/SECRET_KEY",
                                                                                      "DATABASE_URL": "/app/users/MISSING"}})})
        retry = RetryPolicy(sleep=world.clock.sleep, rand=lambda: 0.5)
        runner = ReleaseRunner(options, EcsApi(world.ecs, retry), Elbv2Api(world.elbv2, retry), LogsApi(world.logs, retry),
                               clock=world.clock, sleep=world.clock.sleep, secrets=apis, region="us-east-1")
        with pytest.raises(ValidationError) as info:
            runner.run()
    assert info.value.option == "services[0].secrets.users.DATABASE_URL"
    assert info.value.value == "/app/users/MISSING"
    assert writes(world) == []


def test_a_failed_deployment_of_a_service_that_never_completed_one_is_not_awaited_as_an_ecs_rollback():
    # AWS: the circuit breaker's rollback needs a previous deployment in COMPLETED state; without
    # one ECS leaves the failed deployment PRIMARY, so waiting for its rollback would wait the
    # whole timeout.
    world = FakeAws()
    world.service("users", world.register("users", IMAGE_V1), breaker=True, rollback=True,
                  completed=False)
    world.behave(IMAGE_V2, "crash", after=5.0)
    start = world.clock.now
    with pytest.raises(DeployError) as excinfo:
        release(world, services=users_v2(), max_failed_tasks=0, timeout=600)
    assert failure_of(excinfo)["kind"] == "deployment_failed"
    assert world.clock.now - start < 120, "waited for a rollback ECS never starts"
    assert "ever completed" in excinfo.value.msg
    assert excinfo.value.details["services"][0]["status"] == "failed"
    assert world.calls.count("update_service") == 1
    assert world.calls.count("list_service_deployments") == 1
