"""The control API: behaviours, the virtual clock, fault injection, reset."""

from __future__ import annotations

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from emulator.fidelity.behaviours import Behaviours
from emulator.launcher import LocalAwsError

NO_RETRIES = Config(retries={"max_attempts": 1, "mode": "standard"})


@pytest.fixture
def raw(aws):
    """boto3 clients that do not retry, so that each injected fault is seen."""
    import boto3

    session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1")
    return lambda service: session.client(service, endpoint_url=aws.endpoint, config=NO_RETRIES)


def test_behaviour_parameters_get_their_defaults(aws):
    assert aws.set_behaviour("users:2", "crash") == {"kind": "crash", "exit_code": 1, "after_seconds": 5.0}


def test_unknown_behaviour_kind_is_refused_naming_it(aws):
    with pytest.raises(LocalAwsError, match="400.*explode"):
        aws.set_behaviour("users:2", "explode")


def test_exact_image_beats_the_longest_prefix_which_beats_shorter_ones():
    behaviours = Behaviours()
    behaviours.set("repo/*", {"kind": "unhealthy"})
    behaviours.set("repo/users:*", {"kind": "pull_error"})
    behaviours.set("repo/users:2", {"kind": "exit"})

    assert [behaviours.for_image(image)["kind"] for image in ("repo/users:2", "repo/users:3", "repo/client:1", "other")] == [
        "exit", "pull_error", "unhealthy", "healthy"]


def test_paused_clock_moves_only_when_advanced(aws):
    aws.set_time_scale(0)
    before = aws.time()["now"]
    aws.advance_time(42)

    assert aws.time()["now"] == pytest.approx(before + 42)
    assert aws.time()["scale"] == 0


def test_reset_restores_default_time_scale_and_forgets_behaviours_and_faults(aws):
    aws.set_time_scale(3)
    aws.set_behaviour("users:2", "pull_error")
    aws.inject_fault("ecs", throttle_rate=1)

    aws.reset()

    assert aws.time()["scale"] == aws.time()["default_scale"]
    assert aws.control("GET", "behaviours") == {"behaviours": []}
    assert aws.control("GET", "faults") == {"faults": []}


def test_throttled_json_protocol_call_is_a_throttling_exception(aws, raw):
    aws.inject_fault("ecs", "ListClusters", throttle_rate=1)

    with pytest.raises(ClientError) as error:
        raw("ecs").list_clusters()

    assert error.value.response["Error"]["Code"] == "ThrottlingException"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_throttled_query_protocol_call_is_throttling(aws, raw):
    aws.inject_fault("elbv2", "DescribeLoadBalancers", throttle_rate=1)

    with pytest.raises(ClientError) as error:
        raw("elbv2").describe_load_balancers()

    assert error.value.response["Error"]["Code"] == "Throttling"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_throttled_ec2_call_is_request_limit_exceeded(aws, raw):
    aws.inject_fault("ec2", "DescribeVpcs", throttle_rate=1)

    with pytest.raises(ClientError) as error:
        raw("ec2").describe_vpcs()

    assert error.value.response["Error"]["Code"] == "RequestLimitExceeded"


def test_server_errors_are_service_unavailable_or_internal_failure(aws, raw):
    aws.inject_fault("ecs", "*", error_rate=1)
    ecs = raw("ecs")
    seen = set()
    for call in ("list_clusters", "list_task_definitions", "describe_clusters", "list_account_settings"):
        with pytest.raises(ClientError) as error:
            getattr(ecs, call)()
        seen.add((error.value.response["Error"]["Code"], error.value.response["ResponseMetadata"]["HTTPStatusCode"]))

    assert seen <= {("ServiceUnavailable", 503), ("InternalFailure", 500)}
    assert len(seen) == 2


def test_faults_hit_only_the_named_operation(aws, raw):
    aws.inject_fault("ecs", "DescribeServices", throttle_rate=1)

    assert raw("ecs").list_clusters()["clusterArns"] == []


def test_seeded_fault_sequence_repeats(aws, raw):
    ecs = raw("ecs")

    def outcomes():
        aws.inject_fault("ecs", "ListClusters", throttle_rate=0.5, seed=7)
        seen = []
        for _call in range(12):
            try:
                ecs.list_clusters()
                seen.append("ok")
            except ClientError:
                seen.append("throttled")
        return seen

    first = outcomes()

    assert outcomes() == first
    assert set(first) == {"ok", "throttled"}


def test_sdk_retries_ride_through_throttling(aws, boto3_client):
    aws.inject_fault("ecs", "ListClusters", throttle_rate=0.5, seed=1)

    assert boto3_client("ecs").list_clusters()["clusterArns"] == []
    assert [c["status"] for c in aws.calls() if c["operation"] == "ListClusters"][-1] == 200


def test_latency_is_added_to_matching_calls(aws, raw):
    aws.inject_fault("ecs", "ListClusters", latency_ms=1)
    raw("ecs").list_clusters()

    [fault] = aws.control("GET", "faults")["faults"]
    assert fault["injected"]["latency"] == 1


def test_injected_errors_appear_in_the_call_log(aws, raw):
    aws.inject_fault("ecs", "ListClusters", throttle_rate=1)
    with pytest.raises(ClientError):
        raw("ecs").list_clusters()

    assert {"service": "ecs", "operation": "ListClusters", "write": False, "status": 400} in aws.calls()


def test_filter_log_events_is_logged_as_a_read(aws, boto3_client):
    logs = boto3_client("logs")
    logs.create_log_group(logGroupName="/ecs/call-log")
    aws.clear_calls()

    logs.filter_log_events(logGroupName="/ecs/call-log")

    assert aws.calls() == [{"service": "logs", "operation": "FilterLogEvents", "write": False, "status": 200}]
