"""The issue's "done when" scenarios, at the default time scale (AWS minutes in wall seconds).

They poll the way a deployment tool does; the deadline only stops a broken emulator from
hanging the suite, it is not a speed assertion (speed figures belong in bench/).
"""

from __future__ import annotations

import time

import pytest

from integration.emulator.stack import Stack

BREAKER = {"deploymentCircuitBreaker": {"enable": True, "rollback": True}, "maximumPercent": 200,
           "minimumHealthyPercent": 100}
WALL_DEADLINE = 60


@pytest.fixture
def live(aws, clients):
    """The reference stack with AWS time running at the emulator's default scale."""
    assert aws.time()["scale"] == aws.time()["default_scale"]
    return Stack(aws, clients).build()


def _until_settled(stack):
    deadline = time.monotonic() + WALL_DEADLINE
    while time.monotonic() < deadline:
        deployments = stack.deployments()
        if len(deployments) == 1 and deployments[0]["rolloutState"] != "IN_PROGRESS":
            return stack.service()
        time.sleep(0.2)
    raise AssertionError("no steady state: %s" % stack.deployments())


def test_healthy_release_ends_completed_with_old_tasks_drained(live):
    live.create_service(image="users:1", deploymentConfiguration=BREAKER)
    _until_settled(live)
    old = {t["taskArn"] for t in live.tasks()}

    revision = live.release("users:2")
    service = _until_settled(live)

    assert (service["deployments"][0]["rolloutState"], service["taskDefinition"]) == ("COMPLETED", revision)
    assert {t["taskDefinitionArn"] for t in live.tasks()} == {revision}
    stopped = {t["taskArn"]: t for t in live.tasks("STOPPED")}
    assert old <= set(stopped)
    assert {stopped[arn]["lastStatus"] for arn in old} == {"STOPPED"}


def test_crash_looping_release_ends_failed_and_rolled_back(live):
    first = live.create_service(image="users:1", deploymentConfiguration=BREAKER)["taskDefinition"]
    _until_settled(live)
    live.aws.set_behaviour("users:2", "crash", exit_code=1, after_seconds=10)

    live.release("users:2")
    service = _until_settled(live)

    assert service["taskDefinition"] == first
    assert service["deployments"][0]["taskDefinition"] == first
    [failed] = live.ecs.list_service_deployments(cluster="demo", service="users",
                                                 status=["ROLLBACK_SUCCESSFUL"])["serviceDeployments"]
    assert failed["statusReason"]
    assert any("deployment failed: tasks failed to start." in e for e in live.events())
