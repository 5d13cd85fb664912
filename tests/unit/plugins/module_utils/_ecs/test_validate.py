"""Validation before any write: each rule fails naming the option and the value."""

import pytest

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.taskdef import task_definition_from_options
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.validate import (
    is_secret_reference,
    validate_load_balancers,
    validate_task_definition,
)


def _td(container=None, **task):
    c = {"name": "web", "image": "web:1", "memory": 512, "port_mappings": [{"container_port": 80}]}
    c.update(container or {})
    return task_definition_from_options(dict({"family": "web", "containers": [c]}, **task))


def _fails(kwargs, option_fragment):
    with pytest.raises(ValidationError) as exc:
        validate_task_definition(kwargs, "td")
    assert option_fragment in exc.value.option
    return exc.value


def test_a_sound_definition_passes():
    validate_task_definition(_td(), "td")


@pytest.mark.parametrize("cpu,memory", [(256, 512), ("0.25 vCPU", "2 GB"), (1024, 8192), (4096, 30720), (16384, 122880)])
def test_fargate_sizes_from_the_aws_table_pass(cpu, memory):
    validate_task_definition(_td(requires_compatibilities=["FARGATE"], network_mode="awsvpc", cpu=cpu, memory=memory), "td")


@pytest.mark.parametrize("cpu,memory,option", [(256, 4096, "td.memory"), (512, 512, "td.memory"), (300, 1024, "td.cpu"),
                                               (8192, 18432, "td.memory")])
def test_fargate_sizes_outside_the_table_fail(cpu, memory, option):
    err = _fails(_td(requires_compatibilities=["FARGATE"], network_mode="awsvpc", cpu=cpu, memory=memory), option)
    assert err.value in (cpu, memory, str(cpu), str(memory))


def test_fargate_needs_awsvpc():
    _fails(_td(requires_compatibilities=["FARGATE"], network_mode="bridge", cpu=256, memory=512), "td.network_mode")


def test_fargate_needs_task_cpu_and_memory():
    _fails(_td(requires_compatibilities=["FARGATE"], network_mode="awsvpc", memory=512), "td.cpu")


def test_unreadable_task_cpu_fails():
    _fails(_td(cpu="lots"), "td.cpu")


def test_memory_below_reservation_fails():
    err = _fails(_td({"memory": 256, "memory_reservation": 300}), "containers[0].memory")
    assert "memory_reservation" in err.reason


def test_container_without_any_memory_fails_unless_the_task_has_memory():
    _fails(_td({"memory": None}), "containers[0].memory")
    validate_task_definition(_td({"memory": None}, memory=512), "td")


def test_awsvpc_host_port_must_equal_container_port():
    _fails(_td({"port_mappings": [{"container_port": 80, "host_port": 8080}]}, network_mode="awsvpc"),
           "port_mappings[0].host_port")


def test_awsvpc_host_port_equal_to_container_port_passes():
    validate_task_definition(_td({"port_mappings": [{"container_port": 80, "host_port": 80}]}, network_mode="awsvpc"), "td")


def test_host_mode_host_port_must_equal_container_port():
    _fails(_td({"port_mappings": [{"container_port": 80, "host_port": 0}]}, network_mode="host"), "host_port")


def test_bridge_accepts_dynamic_host_port_zero():
    validate_task_definition(_td({"port_mappings": [{"container_port": 5000, "host_port": 0}]}), "td")


@pytest.mark.parametrize("mapping,option", [({"container_port": 0}, "container_port"),
                                            ({"container_port": 70000}, "container_port"),
                                            ({"container_port": 80, "host_port": 65536}, "host_port")])
def test_ports_out_of_range_fail(mapping, option):
    _fails(_td({"port_mappings": [mapping]}), option)


def test_same_container_port_twice_fails():
    _fails(_td({"port_mappings": [{"container_port": 80}, {"container_port": 80, "host_port": 0}]}), "port_mappings[1]")


@pytest.mark.parametrize("ref", [
    "arn:aws:ssm:us-east-1:123456789012:parameter/users/db",
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:users-key-AbCdEf",
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:users-key-AbCdEf:password::",
    "/users/db",
    "users.db_url",
])
def test_secret_references_that_are_arns_or_parameter_names_pass(ref):
    assert is_secret_reference(ref)


@pytest.mark.parametrize("ref", ["", "arn:aws:s3:::bucket/key", "not a name", None, "arn:aws:ssm:us-east-1:1:parameter/x"])
def test_other_secret_references_fail(ref):
    assert not is_secret_reference(ref)


def test_bad_secret_reference_names_the_secret():
    err = _fails(_td({"secrets": {"DB": "s3://bucket/secret"}}), "containers[0].secrets.DB")
    assert err.value == "s3://bucket/secret"


def test_depends_on_unknown_container_fails():
    _fails(_td({"depends_on": [{"container_name": "db", "condition": "START"}]}), "depends_on[0].container_name")


def test_links_outside_bridge_fail():
    _fails(_td({"links": ["web"]}, network_mode="awsvpc"), "links")


def test_duplicate_container_names_fail():
    kwargs = _td()
    kwargs["containerDefinitions"].append(dict(kwargs["containerDefinitions"][0]))
    _fails(kwargs, "containers[1].name")


def test_load_balancer_container_must_exist():
    with pytest.raises(ValidationError, match="no such container") as exc:
        validate_load_balancers([{"target_group": "web-tg", "container_name": "api", "container_port": 80}], _td(), "lb")
    assert exc.value.option == "lb[0].container_name"


def test_load_balancer_port_must_be_mapped():
    with pytest.raises(ValidationError, match="maps no such port") as exc:
        validate_load_balancers([{"target_group": "web-tg", "container_name": "web", "container_port": 8080}], _td(), "lb")
    assert exc.value.value == 8080


def test_load_balancer_target_group_must_look_like_a_name_or_arn():
    with pytest.raises(ValidationError, match="target group name or ARN"):
        validate_load_balancers([{"target_group": "web tg!", "container_name": "web", "container_port": 80}], _td(), "lb")
