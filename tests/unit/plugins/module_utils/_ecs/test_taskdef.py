"""The task definition normaliser: every coercion and default it knows, and rendering revisions."""

import boto3
import pytest
from moto import mock_aws

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.taskdef import (
    apply_overrides,
    container_from_options,
    container_names,
    normalise_container,
    normalise_task_definition,
    task_definition_differences,
    task_definition_from_options,
    task_definitions_equal,
    task_units,
    to_register_kwargs,
)

USERS_OPTIONS = {
    "family": "users",
    "network_mode": "bridge",
    "execution_role_arn": "arn:aws:iam::123456789012:role/exec",
    "containers": [{
        "name": "users",
        "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/users:1.0",
        "memory_reservation": 300,
        "port_mappings": [{"container_port": 5000, "host_port": 0}],
        "environment": {"APP_SETTINGS": "project.config.ProductionConfig", "WORKERS": 4},
        "secrets": {"DATABASE_URL": "arn:aws:ssm:us-east-1:123456789012:parameter/users/db"},
        "awslogs": {"group": "/ecs/users", "stream_prefix": "users"},
        "health_check": {"command": "curl -f http://localhost:5000/ping || exit 1"},
    }],
}

# What describe_task_definition returns for USERS_OPTIONS on AWS (fields AWS fills in included).
USERS_DESCRIBED = {
    "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/users:3",
    "family": "users",
    "revision": 3,
    "status": "ACTIVE",
    "networkMode": "bridge",
    "executionRoleArn": "arn:aws:iam::123456789012:role/exec",
    "containerDefinitions": [{
        "name": "users",
        "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/users:1.0",
        "cpu": 0,
        "memoryReservation": 300,
        "portMappings": [{"containerPort": 5000, "hostPort": 0, "protocol": "tcp"}],
        "essential": True,
        "environment": [{"name": "WORKERS", "value": "4"},
                        {"name": "APP_SETTINGS", "value": "project.config.ProductionConfig"}],
        "mountPoints": [],
        "volumesFrom": [],
        "secrets": [{"name": "DATABASE_URL", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/users/db"}],
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": "/ecs/users", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "users"}},
        "healthCheck": {"command": ["CMD-SHELL", "curl -f http://localhost:5000/ping || exit 1"],
                        "interval": 30, "timeout": 5, "retries": 3},
        "systemControls": [],
    }],
    "volumes": [],
    "placementConstraints": [],
    "requiresAttributes": [{"name": "com.amazonaws.ecs.capability.docker-remote-api.1.29"}],
    "compatibilities": ["EC2"],
    "registeredAt": "2026-11-23T12:00:00Z",
    "registeredBy": "arn:aws:iam::123456789012:root",
}


def _norm_container(**fields):
    return normalise_task_definition({"family": "f", "containerDefinitions": [dict({"name": "c"}, **fields)]})[
        "containerDefinitions"][0]


# ---------------------------------------------------------------------------- options -> kwargs

def test_options_render_register_kwargs_in_camel_case():
    kwargs = task_definition_from_options(USERS_OPTIONS, default_region="us-east-1")
    container = kwargs["containerDefinitions"][0]
    assert kwargs["family"] == "users"
    assert kwargs["networkMode"] == "bridge"
    assert container["memoryReservation"] == 300
    assert container["portMappings"] == [{"containerPort": 5000, "hostPort": 0}]
    assert container["environment"] == [{"name": "APP_SETTINGS", "value": "project.config.ProductionConfig"},
                                        {"name": "WORKERS", "value": "4"}]
    assert container["secrets"] == [{"name": "DATABASE_URL",
                                     "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/users/db"}]


def test_awslogs_shorthand_becomes_log_configuration_with_default_region():
    container = container_from_options({"name": "c", "image": "i", "awslogs": {"group": "/ecs/c", "stream_prefix": "c"}},
                                       default_region="eu-west-1")
    assert container["logConfiguration"] == {"logDriver": "awslogs", "options": {
        "awslogs-group": "/ecs/c", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "c"}}


def test_awslogs_region_option_wins_over_default_region():
    container = container_from_options({"name": "c", "awslogs": {"group": "g", "region": "us-west-2"}},
                                       default_region="eu-west-1")
    assert container["logConfiguration"]["options"]["awslogs-region"] == "us-west-2"


def test_generic_log_configuration_is_passed_through_with_string_options():
    container = container_from_options({"name": "c", "log_configuration": {
        "log_driver": "json-file", "options": {"max-size": "10m", "max-file": 3}}})
    assert container["logConfiguration"] == {"logDriver": "json-file", "options": {"max-size": "10m", "max-file": "3"}}


def test_string_health_check_command_runs_in_a_shell():
    container = container_from_options({"name": "c", "health_check": {"command": "curl -f localhost", "start_period": 10}})
    assert container["healthCheck"] == {"command": ["CMD-SHELL", "curl -f localhost"], "startPeriod": 10}


def test_string_command_and_entry_point_are_split_like_a_shell():
    container = container_from_options({"name": "c", "command": "gunicorn -b '0.0.0.0:5000' app", "entry_point": ["sh", "-c"]})
    assert container["command"] == ["gunicorn", "-b", "0.0.0.0:5000", "app"]
    assert container["entryPoint"] == ["sh", "-c"]


def test_depends_on_links_ulimits_working_directory_render():
    container = container_from_options({
        "name": "c",
        "depends_on": [{"container_name": "db"}],
        "links": ["db"],
        "ulimits": [{"name": "nofile", "soft_limit": "1024"}],
        "working_directory": "/app",
    })
    assert container["dependsOn"] == [{"containerName": "db", "condition": "START"}]
    assert container["links"] == ["db"]
    assert container["ulimits"] == [{"name": "nofile", "softLimit": 1024, "hardLimit": 1024}]
    assert container["workingDirectory"] == "/app"


def test_bare_port_numbers_are_container_ports():
    assert container_from_options({"name": "c", "port_mappings": [8080, "9000"]})["portMappings"] == [
        {"containerPort": 8080}, {"containerPort": 9000}]


def test_yaml_booleans_in_environment_become_lowercase_strings():
    container = container_from_options({"name": "c", "environment": {"DEBUG": False, "ON": True}})
    assert container["environment"] == [{"name": "DEBUG", "value": "false"}, {"name": "ON", "value": "true"}]


def test_unset_options_are_left_out():
    assert container_from_options({"name": "c", "image": "i", "cpu": None, "environment": None, "links": []}) == {
        "name": "c", "image": "i"}


def test_task_level_options_render():
    kwargs = task_definition_from_options({
        "family": "f", "cpu": 256, "memory": "0.5 GB", "network_mode": "awsvpc",
        "requires_compatibilities": ["FARGATE"], "task_role_arn": "arn:aws:iam::1:role/t",
        "runtime_platform": {"cpu_architecture": "ARM64", "operating_system_family": "LINUX"},
        "volumes": [{"name": "data", "host": {"source_path": "/data"}},
                    {"name": "efs", "efs_volume_configuration": {"file_system_id": "fs-1"}}],
        "ephemeral_storage": 30, "tags": {"app": "users"},
        "containers": [{"name": "c", "image": "i"}],
    })
    assert kwargs["cpu"] == "256"
    assert kwargs["memory"] == "0.5 GB"
    assert kwargs["runtimePlatform"] == {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"}
    assert kwargs["volumes"] == [{"name": "data", "host": {"sourcePath": "/data"}},
                                 {"name": "efs", "efsVolumeConfiguration": {"fileSystemId": "fs-1"}}]
    assert kwargs["ephemeralStorage"] == {"sizeInGiB": 30}
    assert kwargs["tags"] == [{"key": "app", "value": "users"}]
    assert kwargs["taskRoleArn"] == "arn:aws:iam::1:role/t"


# ---------------------------------------------------------------------------- normalisation

def test_described_definition_equals_the_options_it_was_registered_from():
    kwargs = task_definition_from_options(USERS_OPTIONS, default_region="us-east-1")
    assert task_definition_differences(USERS_DESCRIBED, kwargs) == []
    assert task_definitions_equal(USERS_DESCRIBED, kwargs)


def test_whole_describe_response_is_accepted():
    assert normalise_task_definition({"taskDefinition": USERS_DESCRIBED, "tags": []}) == normalise_task_definition(
        USERS_DESCRIBED)


@pytest.mark.parametrize("field", ["taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities",
                                   "registeredAt", "registeredBy"])
def test_read_only_fields_are_dropped(field):
    assert field not in normalise_task_definition(USERS_DESCRIBED)


def test_deregistered_at_and_tags_are_not_content():
    a = {"family": "f", "deregisteredAt": "2026-01-01", "tags": [{"key": "a", "value": "b"}]}
    assert normalise_task_definition(a) == normalise_task_definition({"family": "f"})


@pytest.mark.parametrize("value,kind,expected", [
    (256, "cpu", "256"),
    ("256", "cpu", "256"),
    ("0.25 vCPU", "cpu", "256"),
    ("1vcpu", "cpu", "1024"),
    ("2 vCPU", "cpu", "2048"),
    (512, "memory", "512"),
    ("0.5 GB", "memory", "512"),
    ("2GB", "memory", "2048"),
    ("1 GiB", "memory", "1024"),
    ("512 MiB", "memory", "512"),
    (1024.0, "memory", "1024"),
])
def test_task_cpu_and_memory_become_strings_of_units(value, kind, expected):
    assert task_units(value, kind) == expected


def test_task_units_leave_what_they_cannot_read_for_validation():
    assert task_units("lots", "cpu") == "lots"
    assert task_units("1 GB", "cpu") == "1 GB"


def test_task_cpu_memory_forms_compare_equal():
    assert task_definitions_equal({"family": "f", "cpu": "0.25 vCPU", "memory": "0.5 GB"},
                                  {"family": "f", "cpu": 256, "memory": "512"})


def test_missing_network_mode_is_bridge():
    assert normalise_task_definition({"family": "f"})["networkMode"] == "bridge"
    assert task_definitions_equal({"family": "f"}, {"family": "f", "networkMode": "bridge"})


def test_missing_network_mode_on_windows_is_left_unset():
    doc = normalise_task_definition({"family": "f", "runtimePlatform": {"operatingSystemFamily": "WINDOWS_SERVER_2022_CORE"}})
    assert "networkMode" not in doc


def test_network_mode_change_is_a_difference():
    diffs = task_definition_differences({"family": "f", "networkMode": "bridge"}, {"family": "f", "networkMode": "awsvpc"})
    assert diffs == [{"path": "networkMode", "before": "bridge", "after": "awsvpc"}]


@pytest.mark.parametrize("field,before,after", [
    ("cpu", "256", "512"),
    ("memory", "512", "1024"),
    ("executionRoleArn", "arn:aws:iam::1:role/a", "arn:aws:iam::1:role/b"),
    ("taskRoleArn", None, "arn:aws:iam::1:role/b"),
])
def test_task_level_changes_are_differences(field, before, after):
    current = {"family": "f", field: before} if before else {"family": "f"}
    assert task_definition_differences(current, {"family": "f", field: after}) == [
        {"path": field, "before": before, "after": after}]


def test_empty_lists_dicts_and_none_read_as_unset():
    assert task_definitions_equal(
        {"family": "f", "volumes": [], "placementConstraints": [], "taskRoleArn": None,
         "containerDefinitions": [{"name": "c", "mountPoints": [], "volumesFrom": [], "dockerLabels": {}}]},
        {"family": "f", "containerDefinitions": [{"name": "c"}]})


def test_requires_compatibilities_order_is_ignored():
    assert task_definitions_equal({"family": "f", "requiresCompatibilities": ["FARGATE", "EC2"]},
                                  {"family": "f", "requiresCompatibilities": ["EC2", "FARGATE"]})


def test_container_order_is_ignored():
    assert task_definitions_equal({"family": "f", "containerDefinitions": [{"name": "a"}, {"name": "b"}]},
                                  {"family": "f", "containerDefinitions": [{"name": "b"}, {"name": "a"}]})


def test_essential_defaults_to_true():
    assert _norm_container()["essential"] is True
    assert _norm_container(essential=False)["essential"] is False
    assert _norm_container(essential="false")["essential"] is False


def test_container_cpu_zero_is_unset():
    assert "cpu" not in _norm_container(cpu=0)
    assert _norm_container(cpu="128")["cpu"] == 128


@pytest.mark.parametrize("field", ["memory", "memoryReservation", "stopTimeout", "startTimeout"])
def test_container_numbers_as_strings_become_numbers(field):
    assert _norm_container(**{field: "300"})[field] == 300


def test_port_protocol_defaults_to_tcp_and_is_lowercase():
    assert _norm_container(portMappings=[{"containerPort": 80}])["portMappings"][0]["protocol"] == "tcp"
    assert _norm_container(portMappings=[{"containerPort": 53, "protocol": "UDP"}])["portMappings"][0]["protocol"] == "udp"


def test_host_port_defaults_to_dynamic_on_bridge():
    assert _norm_container(portMappings=[{"containerPort": 5000}])["portMappings"][0]["hostPort"] == 0


@pytest.mark.parametrize("mode", ["awsvpc", "host"])
def test_host_port_defaults_to_container_port_on_awsvpc_and_host(mode):
    doc = normalise_task_definition({"family": "f", "networkMode": mode,
                                     "containerDefinitions": [{"name": "c", "portMappings": [{"containerPort": "5000"}]}]})
    assert doc["containerDefinitions"][0]["portMappings"] == [{"containerPort": 5000, "hostPort": 5000, "protocol": "tcp"}]


def test_port_mappings_order_is_ignored():
    a = [{"containerPort": 80}, {"containerPort": 443}]
    assert _norm_container(portMappings=a) == _norm_container(portMappings=list(reversed(a)))


def test_environment_order_is_ignored_and_values_are_strings():
    a = _norm_container(environment=[{"name": "B", "value": 2}, {"name": "A", "value": "x"}])
    b = _norm_container(environment=[{"name": "A", "value": "x"}, {"name": "B", "value": "2"}])
    assert a == b
    assert a["environment"] == [{"name": "A", "value": "x"}, {"name": "B", "value": "2"}]


def test_environment_value_change_is_a_difference():
    diffs = task_definition_differences(
        {"family": "f", "containerDefinitions": [{"name": "c", "environment": [{"name": "A", "value": "1"}]}]},
        {"family": "f", "containerDefinitions": [{"name": "c", "environment": [{"name": "A", "value": "2"}]}]})
    assert diffs == [{"path": "containerDefinitions[0].environment[0].value", "before": "1", "after": "2"}]


def test_secrets_order_is_ignored():
    s1 = {"name": "A", "valueFrom": "arn:aws:secretsmanager:us-east-1:1:secret:a"}
    s2 = {"name": "B", "valueFrom": "/b"}
    assert _norm_container(secrets=[s2, s1]) == _norm_container(secrets=[s1, s2])


@pytest.mark.parametrize("field,items", [
    ("ulimits", [{"name": "nproc", "softLimit": 1, "hardLimit": 1}, {"name": "nofile", "softLimit": 2, "hardLimit": 2}]),
    ("dependsOn", [{"containerName": "z", "condition": "START"}, {"containerName": "a", "condition": "HEALTHY"}]),
    ("links", ["z", "a"]),
    ("mountPoints", [{"sourceVolume": "v", "containerPath": "/z", "readOnly": False},
                     {"sourceVolume": "v", "containerPath": "/a", "readOnly": True}]),
])
def test_order_free_container_lists_are_sorted(field, items):
    assert _norm_container(**{field: items}) == _norm_container(**{field: list(reversed(items))})


def test_mount_point_read_only_defaults_to_false():
    assert _norm_container(mountPoints=[{"sourceVolume": "v", "containerPath": "/d"}]) == _norm_container(
        mountPoints=[{"sourceVolume": "v", "containerPath": "/d", "readOnly": False}])


def test_ulimit_numbers_as_strings_become_numbers():
    assert _norm_container(ulimits=[{"name": "nofile", "softLimit": "1", "hardLimit": "2"}])["ulimits"] == [
        {"name": "nofile", "softLimit": 1, "hardLimit": 2}]


def test_health_check_defaults_are_filled_in():
    hc = _norm_container(healthCheck={"command": ["CMD", "true"]})["healthCheck"]
    assert hc == {"command": ["CMD", "true"], "interval": 30, "timeout": 5, "retries": 3}


def test_health_check_start_period_zero_is_unset_and_strings_are_numbers():
    hc = _norm_container(healthCheck={"command": "true", "startPeriod": 0, "interval": "10"})["healthCheck"]
    assert hc == {"command": ["CMD-SHELL", "true"], "interval": 10, "timeout": 5, "retries": 3}


def test_log_options_are_strings():
    log = _norm_container(logConfiguration={"logDriver": "json-file", "options": {"max-file": 3}})["logConfiguration"]
    assert log["options"] == {"max-file": "3"}


def test_docker_labels_are_strings():
    assert _norm_container(dockerLabels={"port": 80})["dockerLabels"] == {"port": "80"}


def test_volumes_are_sorted_and_empty_host_reads_as_unset():
    a = normalise_task_definition({"family": "f", "volumes": [{"name": "z", "host": {}}, {"name": "a"}]})
    b = normalise_task_definition({"family": "f", "volumes": [{"name": "a"}, {"name": "z"}]})
    assert a == b
    assert [v["name"] for v in a["volumes"]] == ["a", "z"]


def test_efs_volume_root_directory_defaults_to_slash():
    assert task_definitions_equal(
        {"family": "f", "volumes": [{"name": "e", "efsVolumeConfiguration": {"fileSystemId": "fs-1"}}]},
        {"family": "f", "volumes": [{"name": "e", "efsVolumeConfiguration": {"fileSystemId": "fs-1", "rootDirectory": "/"}}]})


def test_docker_volume_scope_defaults_to_task():
    assert task_definitions_equal(
        {"family": "f", "volumes": [{"name": "d", "dockerVolumeConfiguration": {"driver": "local"}}]},
        {"family": "f", "volumes": [{"name": "d", "dockerVolumeConfiguration": {"driver": "local", "scope": "task"}}]})


def test_defaults_newer_aws_responses_spell_out_read_as_unset():
    described = {"family": "f", "enableFaultInjection": False, "containerDefinitions": [
        {"name": "c", "versionConsistency": "enabled", "restartPolicy": {"enabled": False}}]}
    assert task_definitions_equal(described, {"family": "f", "containerDefinitions": [{"name": "c"}]})


def test_fault_injection_and_restart_policy_when_enabled_are_content():
    assert not task_definitions_equal({"family": "f", "enableFaultInjection": True}, {"family": "f"})
    assert not task_definitions_equal(
        {"family": "f", "containerDefinitions": [{"name": "c", "restartPolicy": {"enabled": True}}]},
        {"family": "f", "containerDefinitions": [{"name": "c"}]})


def test_image_change_is_a_difference():
    diffs = task_definition_differences({"family": "f", "containerDefinitions": [{"name": "c", "image": "a:1"}]},
                                        {"family": "f", "containerDefinitions": [{"name": "c", "image": "a:2"}]})
    assert diffs == [{"path": "containerDefinitions[0].image", "before": "a:1", "after": "a:2"}]


def test_normalise_container_does_not_mutate_its_input():
    container = {"name": "c", "portMappings": [{"containerPort": 80}]}
    normalise_container(container)
    assert container == {"name": "c", "portMappings": [{"containerPort": 80}]}


@mock_aws
def test_definition_registered_on_ecs_compares_equal_to_its_options():
    ecs = boto3.client("ecs", region_name="us-east-1")
    kwargs = task_definition_from_options(USERS_OPTIONS, default_region="us-east-1")
    ecs.register_task_definition(**kwargs)
    described = ecs.describe_task_definition(taskDefinition="users")["taskDefinition"]
    assert task_definition_differences(described, kwargs) == []


# ---------------------------------------------------------------------------- rendering revisions

def test_to_register_kwargs_keeps_only_register_fields():
    kwargs = to_register_kwargs(USERS_DESCRIBED)
    assert set(kwargs) == {"family", "networkMode", "executionRoleArn", "containerDefinitions"}


def test_to_register_kwargs_carries_tags_of_a_whole_describe_response():
    kwargs = to_register_kwargs({"taskDefinition": USERS_DESCRIBED, "tags": [{"key": "app", "value": "users"}]})
    assert kwargs["tags"] == [{"key": "app", "value": "users"}]


def test_apply_overrides_without_changes_equals_current():
    assert task_definitions_equal(apply_overrides(USERS_DESCRIBED), USERS_DESCRIBED)


def test_apply_overrides_sets_image_by_container_name():
    kwargs = apply_overrides(USERS_DESCRIBED, images={"users": "users:2.0"})
    assert kwargs["containerDefinitions"][0]["image"] == "users:2.0"
    assert task_definition_differences(USERS_DESCRIBED, kwargs) == [{
        "path": "containerDefinitions[0].image",
        "before": "123456789012.dkr.ecr.us-east-1.amazonaws.com/users:1.0", "after": "users:2.0"}]


def test_apply_overrides_accepts_one_image_for_a_single_container():
    assert apply_overrides(USERS_DESCRIBED, images="users:2.0")["containerDefinitions"][0]["image"] == "users:2.0"


def test_apply_overrides_rejects_one_image_for_several_containers():
    two = dict(USERS_DESCRIBED, containerDefinitions=USERS_DESCRIBED["containerDefinitions"] + [{"name": "side", "image": "s"}])
    with pytest.raises(ValidationError, match="images"):
        apply_overrides(two, images="users:2.0")


def test_apply_overrides_merges_environment_and_removes_none():
    kwargs = apply_overrides(USERS_DESCRIBED, environment={"users": {"WORKERS": 8, "APP_SETTINGS": None, "NEW": "x"}})
    assert kwargs["containerDefinitions"][0]["environment"] == [{"name": "NEW", "value": "x"}, {"name": "WORKERS", "value": "8"}]


def test_apply_overrides_merges_secrets_as_value_from():
    kwargs = apply_overrides(USERS_DESCRIBED, secrets={"users": {"API_KEY": "/users/api-key"}})
    assert {"name": "API_KEY", "valueFrom": "/users/api-key"} in kwargs["containerDefinitions"][0]["secrets"]


def test_apply_overrides_merges_container_definition_keys():
    kwargs = apply_overrides(USERS_DESCRIBED, container_definitions={"users": {"memoryReservation": 512, "healthCheck": None}})
    container = kwargs["containerDefinitions"][0]
    assert container["memoryReservation"] == 512
    assert "healthCheck" not in container


def test_apply_overrides_rejects_unknown_container_names():
    with pytest.raises(ValidationError, match="no container named web"):
        apply_overrides(USERS_DESCRIBED, images={"web": "x"})


def test_apply_overrides_does_not_mutate_the_described_definition():
    apply_overrides(USERS_DESCRIBED, images={"users": "users:9"})
    assert USERS_DESCRIBED["containerDefinitions"][0]["image"].endswith("users:1.0")


def test_container_names_lists_containers():
    assert container_names({"taskDefinition": USERS_DESCRIBED}) == ["users"]
