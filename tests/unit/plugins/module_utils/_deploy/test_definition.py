"""services[].definition: the whole task definition of a service, released exactly when it differs.

The service starts on revision 1 as AWS describes it (the defaults AWS fills in spelled out,
lists in AWS's order); each test releases a definition in ecs_stack's option format and pins
how many revisions were registered and which fields the release reports as different.
"""

from __future__ import annotations

import copy

import pytest

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._deploy.runner import RELEASED_TAG
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.taskdef import readable_task_definition

from .test_release import WRITES, release, writes

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/users@sha256:" + "1" * 64
DB_URL = "arn:aws:ssm:us-east-1:123456789012:parameter/users/database-url"
SECRET_KEY = "arn:aws:secretsmanager:us-east-1:123456789012:secret:users-secret-key-AbCdEf"
HEALTH = "curl -f http://localhost:5000/ping || exit 1"

# What the application hands ecs_stack as services[].task_definition.
DEFINITION = {
    "family": "users",
    "network_mode": "awsvpc",
    "requires_compatibilities": ["FARGATE"],
    "cpu": "256",
    "memory": "512",
    "execution_role_arn": "arn:aws:iam::123456789012:role/exec",
    "containers": [{
        "name": "users",
        "image": IMAGE,
        "memory_reservation": 300,
        "port_mappings": [{"container_port": 5000}],
        "environment": {"APP_SETTINGS": "project.config.ProductionConfig", "WORKERS": "4"},
        "secrets": {"DATABASE_URL": DB_URL, "SECRET_KEY": SECRET_KEY},
        "awslogs": {"group": "/ecs/users", "region": "us-east-1", "stream_prefix": "users"},
        "health_check": {"command": HEALTH},
        "command": ["gunicorn", "-b", "0.0.0.0:5000", "manage:app"],
    }],
}

# How AWS describes DEFINITION once registered: defaults filled in, lists in its own order.
DESCRIBED = {
    "family": "users",
    "networkMode": "awsvpc",
    "requiresCompatibilities": ["FARGATE"],
    "compatibilities": ["EC2", "FARGATE"],
    "requiresAttributes": [{"name": "com.amazonaws.ecs.capability.docker-remote-api.1.18"}],
    "cpu": "256",
    "memory": "512",
    "executionRoleArn": "arn:aws:iam::123456789012:role/exec",
    "registeredAt": "2026-12-01T10:00:00Z",
    "containerDefinitions": [{
        "name": "users",
        "image": IMAGE,
        "cpu": 0,
        "memoryReservation": 300,
        "portMappings": [{"containerPort": 5000, "hostPort": 5000, "protocol": "tcp"}],
        "essential": True,
        "environment": [{"name": "WORKERS", "value": "4"}, {"name": "APP_SETTINGS", "value": "project.config.ProductionConfig"}],
        "mountPoints": [],
        "volumesFrom": [],
        "secrets": [{"name": "SECRET_KEY", "valueFrom": SECRET_KEY}, {"name": "DATABASE_URL", "valueFrom": DB_URL}],
        "command": ["gunicorn", "-b", "0.0.0.0:5000", "manage:app"],
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": "/ecs/users", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "users"},
            "secretOptions": []},
        "healthCheck": {"command": ["CMD-SHELL", HEALTH], "interval": 30, "timeout": 5, "retries": 3},
        "systemControls": [],
        "versionConsistency": "enabled",
    }],
    "volumes": [],
    "placementConstraints": [],
}


@pytest.fixture
def world():
    from .fakes import FakeAws

    aws = FakeAws()
    rev1 = aws._register(copy.deepcopy(DESCRIBED))
    # A revision a release verified before: no release marks it again.
    aws.td_tags[rev1] = [{"key": RELEASED_TAG, "value": "2026-12-01T10:00:00Z"}]
    aws.service("users", rev1)
    return aws


def definition(**changes):
    """DEFINITION with task-level ``changes``; ``container={...}`` changes the users container."""
    out = copy.deepcopy(DEFINITION)
    container = changes.pop("container", {})
    out.update(changes)
    out["containers"][0].update(container)
    return out


def release_definition(world, td, check_mode=False, **params):
    return release(world, check_mode=check_mode, services=[{"name": "users", "definition": td}], **params)


def registrations(world):
    return world.calls.count("register_task_definition")


def running(world):
    """The task definition the service runs, as stored."""
    return world.task_definitions[world.services["users"]["taskDefinition"]]


def test_the_definition_the_service_runs_is_a_noop_without_writes(world):
    result = release_definition(world, definition())
    svc = result.data["services"][0]
    assert result.changed is False
    assert svc["action"] == "noop"
    assert svc["changed_fields"] == []
    assert writes(world) == []


# Each field category: a change the release must deploy, and the path it reports.
CHANGES = {
    "environment": (dict(container={"environment": {"APP_SETTINGS": "project.config.StagingConfig", "WORKERS": "4"}}),
                    ["containers.users.environment.APP_SETTINGS"]),
    "environment_removed": (dict(container={"environment": {"APP_SETTINGS": "project.config.ProductionConfig"}}),
                            ["containers.users.environment.WORKERS"]),
    "secrets": (dict(container={"secrets": {"DATABASE_URL": DB_URL + "-v2", "SECRET_KEY": SECRET_KEY}}),
                ["containers.users.secrets.DATABASE_URL"]),
    "task_cpu_memory": (dict(cpu="512", memory="1024"), ["cpu", "memory"]),
    "container_cpu": (dict(container={"cpu": 128}), ["containers.users.cpu"]),
    "container_memory": (dict(container={"memory": 512}), ["containers.users.memory"]),
    "memory_reservation": (dict(container={"memory_reservation": 400}), ["containers.users.memory_reservation"]),
    "port_mappings": (dict(container={"port_mappings": [{"container_port": 5000}, {"container_port": 5001}]}),
                      ["containers.users.port_mappings"]),
    "health_check": (dict(container={"health_check": {"command": HEALTH, "interval": 10}}),
                     ["containers.users.health_check.interval"]),
    "command": (dict(container={"command": ["gunicorn", "-w", "4", "manage:app"]}), ["containers.users.command"]),
    "entry_point": (dict(container={"entry_point": ["/docker-entrypoint.sh"]}), ["containers.users.entry_point"]),
    "log_configuration": (dict(container={"awslogs": {"group": "/ecs/users", "region": "us-east-1", "stream_prefix": "api"}}),
                          ["containers.users.log_configuration.options.awslogs-stream-prefix"]),
    "image": (dict(container={"image": IMAGE.replace("1" * 64, "2" * 64)}), ["containers.users.image"]),
}


@pytest.mark.parametrize("category", sorted(CHANGES))
def test_a_changed_field_registers_exactly_one_revision_and_the_service_runs_it(world, category):
    changes, paths = CHANGES[category]
    wanted = definition(**copy.deepcopy(changes))
    result = release_definition(world, wanted)
    svc = result.data["services"][0]
    assert result.changed is True
    assert svc["status"] == "completed"
    assert svc["registered"] is True
    assert svc["changed_fields"] == paths
    assert registrations(world) == 1
    assert svc["revision"].endswith("task-definition/users:2")
    assert world.services["users"]["taskDefinition"] == svc["revision"]
    world.calls.clear()
    again = release_definition(world, wanted)
    assert again.changed is False and writes(world) == []


def test_the_new_revision_carries_the_new_value(world):
    release_definition(world, definition(container={"environment": {"APP_SETTINGS": "project.config.StagingConfig",
                                                                    "WORKERS": "4"}}))
    environment = {e["name"]: e["value"] for e in running(world)["containerDefinitions"][0]["environment"]}
    assert environment == {"APP_SETTINGS": "project.config.StagingConfig", "WORKERS": "4"}


# The same definition spelled the way a user may write it: no category makes a phantom difference.
SAME = {
    "environment": dict(container={"environment": {"WORKERS": 4, "APP_SETTINGS": "project.config.ProductionConfig"}}),
    "secrets": dict(container={"secrets": {"SECRET_KEY": SECRET_KEY, "DATABASE_URL": DB_URL}}),
    "task_cpu_memory": dict(cpu="0.25 vCPU", memory="0.5 GB"),
    "container_cpu": dict(container={"cpu": 0}),
    "essential": dict(container={"essential": True}),
    "port_mappings": dict(container={"port_mappings": [{"container_port": 5000, "host_port": 5000, "protocol": "tcp"}]}),
    "health_check": dict(container={"health_check": {"command": ["CMD-SHELL", HEALTH], "interval": 30, "timeout": 5,
                                                     "retries": 3, "start_period": 0}}),
    "log_configuration": dict(container={"awslogs": {"group": "/ecs/users", "stream_prefix": "users"}}),
    "tags": dict(tags={"team": "accounts"}),
}


@pytest.mark.parametrize("category", sorted(SAME))
def test_an_equivalent_spelling_registers_nothing(world, category):
    result = release_definition(world, definition(**copy.deepcopy(SAME[category])))
    assert result.changed is False, result.data["services"][0]["task_definition_changes"]
    assert writes(world) == []


def test_container_order_does_not_make_a_difference(world):
    sidecar = {"name": "envoy", "image": "public.ecr.aws/appmesh/aws-appmesh-envoy:v1.27", "memory_reservation": 64}
    release_definition(world, definition(containers=DEFINITION["containers"] + [sidecar]))
    world.calls.clear()
    result = release_definition(world, definition(containers=[sidecar] + DEFINITION["containers"]))
    assert result.changed is False
    assert writes(world) == []


def test_an_identical_active_revision_of_the_family_is_reused_instead_of_registered(world):
    staging = definition(container={"environment": {"APP_SETTINGS": "project.config.StagingConfig", "WORKERS": "4"}})
    release_definition(world, staging)
    release_definition(world, definition())
    world.calls.clear()
    result = release_definition(world, staging)
    svc = result.data["services"][0]
    assert svc["reused_revision"] is True and svc["registered"] is False
    assert svc["revision"].endswith("task-definition/users:2")
    assert registrations(world) == 0
    assert svc["changed_fields"] == ["containers.users.environment.APP_SETTINGS"]


def test_a_family_change_registers_in_the_new_family(world):
    planned = release_definition(world, definition(family="users-api"), check_mode=True).plan.to_list()
    assert planned[1]["changes"][0]["after"] == "new revision of users-api"
    result = release_definition(world, definition(family="users-api"))
    svc = result.data["services"][0]
    assert svc["revision"].endswith("task-definition/users-api:1")
    assert "family" in svc["changed_fields"]


def test_the_family_defaults_to_the_service_name_as_in_ecs_stack(world):
    td = definition()
    del td["family"]
    assert release_definition(world, td).changed is False


def test_the_new_revision_gets_the_definitions_tags_and_not_the_verified_mark_of_the_old(world):
    result = release_definition(world, definition(cpu="512", memory="1024", tags={"team": "accounts"}))
    tags = {t["key"]: t["value"] for t in world.td_tags[result.data["services"][0]["revision"]]}
    assert tags["team"] == "accounts"
    assert tags[RELEASED_TAG] != "2026-12-01T10:00:00Z"


def test_check_mode_shows_every_differing_field_and_writes_nothing(world):
    wanted = definition(cpu="512", memory="1024",
                        container={"environment": {"APP_SETTINGS": "project.config.StagingConfig", "WORKERS": "4"}})
    result = release_definition(world, wanted, check_mode=True)
    assert result.changed is True
    assert writes(world) == []
    plan = result.plan.to_list()
    assert [(a["action"], a["kind"], a["name"]) for a in plan] == [("register", "task_definition", "users"),
                                                                   ("update", "service", "users")]
    assert {c["path"]: (c["before"], c["after"]) for c in plan[0]["changes"]} == {
        "containers.users.environment.APP_SETTINGS": ("project.config.ProductionConfig", "project.config.StagingConfig"),
        "cpu": ("256", "512"),
        "memory": ("512", "1024"),
    }
    diff = result.plan.diff()
    assert diff["before"]["task_definition/users"]["containers"]["users"]["environment"]["APP_SETTINGS"] == \
        "project.config.ProductionConfig"
    assert diff["after"]["task_definition/users"]["cpu"] == "512"
    svc = result.data["services"][0]
    assert (svc["action"], svc["status"], svc["registered"], svc["revision"]) == ("deploy", "planned", True, None)


def test_check_mode_of_a_reused_revision_shows_the_difference_on_the_service_update(world):
    staging = definition(container={"environment": {"APP_SETTINGS": "project.config.StagingConfig", "WORKERS": "4"}})
    release_definition(world, staging)
    release_definition(world, definition())
    world.calls.clear()
    diff = release_definition(world, staging, check_mode=True).plan.diff()
    assert diff["after"]["service/users"]["definition"]["containers"]["users"]["environment"]["APP_SETTINGS"] == \
        "project.config.StagingConfig"
    assert writes(world) == []


def test_secrets_show_their_references_never_values(world):
    result = release_definition(world, definition(container={"secrets": {"DATABASE_URL": DB_URL + "-v2"}}), check_mode=True)
    changes = {c["path"]: c for c in result.data["services"][0]["task_definition_changes"]}
    assert changes["containers.users.secrets.DATABASE_URL"]["after"] == DB_URL + "-v2"
    assert changes["containers.users.secrets.SECRET_KEY"] == {"path": "containers.users.secrets.SECRET_KEY",
                                                              "before": SECRET_KEY, "after": None}


@pytest.mark.parametrize("other", [("images", {"users": IMAGE}), ("environment", {"users": {"A": "1"}}),
                                   ("secrets", {"users": {"B": DB_URL}}), ("container_definitions", {"users": {"cpu": 1}}),
                                   ("task_definition", "users:1")])
def test_definition_is_mutually_exclusive_with_the_partial_changes(world, other):
    key, value = other
    with pytest.raises(ValidationError) as excinfo:
        release(world, services=[{"name": "users", "definition": definition(), key: value}])
    assert excinfo.value.option == "services[0].%s" % key
    assert "services[0].definition" in excinfo.value.reason
    assert world.calls == []


def test_an_invalid_definition_is_refused_before_any_call_with_its_option_path(world):
    with pytest.raises(ValidationError) as excinfo:
        release_definition(world, definition(cpu="256", memory="4096"))
    assert excinfo.value.option == "services[0].definition.memory"
    assert excinfo.value.value == "4096"
    assert world.calls == []


def test_a_definition_without_the_load_balanced_port_is_refused_before_any_write(world):
    with pytest.raises(ValidationError) as excinfo:
        release_definition(world, definition(container={"port_mappings": [{"container_port": 8080}]}))
    assert excinfo.value.option == "services[0].definition.containers[0].port_mappings"
    assert "port 5000 of container users" in excinfo.value.reason
    assert [c for c in world.calls if c in WRITES] == []


def test_a_definition_without_the_load_balanced_container_is_refused_before_any_write(world):
    with pytest.raises(ValidationError) as excinfo:
        release_definition(world, definition(container={"name": "api"}))
    assert excinfo.value.option == "services[0].definition.containers"
    assert writes(world) == []


def test_a_fargate_service_refuses_a_definition_not_compatible_with_fargate(world):
    td = definition(requires_compatibilities=["EC2"])
    del td["cpu"], td["memory"]
    with pytest.raises(ValidationError) as excinfo:
        release_definition(world, td)
    assert excinfo.value.option == "services[0].definition.requires_compatibilities"
    assert writes(world) == []


def test_a_service_with_an_awsvpc_configuration_refuses_a_bridge_definition(world):
    world.services["users"]["launchType"] = "EC2"
    td = definition(network_mode="bridge", requires_compatibilities=["EC2"])
    with pytest.raises(ValidationError) as excinfo:
        release_definition(world, td)
    assert excinfo.value.option == "services[0].definition.network_mode"
    assert "needs network_mode awsvpc" in excinfo.value.reason
    assert writes(world) == []


def test_a_service_without_an_awsvpc_configuration_refuses_an_awsvpc_definition(world):
    world.services["users"].update(launchType="EC2", networkConfiguration={})
    with pytest.raises(ValidationError) as excinfo:
        release_definition(world, definition(cpu="512", memory="1024"))
    assert excinfo.value.option == "services[0].definition.network_mode"
    assert "no awsvpc network configuration" in excinfo.value.reason
    assert writes(world) == []


def test_the_readable_form_uses_the_words_of_the_definition_option():
    readable = readable_task_definition(dict(DESCRIBED, ephemeralStorage={"sizeInGiB": 30}, containerDefinitions=[
        dict(DESCRIBED["containerDefinitions"][0], dockerLabels={"com.example.team": "accounts"})]))
    users = readable["containers"]["users"]
    assert readable["ephemeral_storage"] == 30
    assert readable["execution_role_arn"] == "arn:aws:iam::123456789012:role/exec"
    assert users["environment"] == {"APP_SETTINGS": "project.config.ProductionConfig", "WORKERS": "4"}
    assert users["secrets"] == {"DATABASE_URL": DB_URL, "SECRET_KEY": SECRET_KEY}
    assert users["docker_labels"] == {"com.example.team": "accounts"}
    assert users["log_configuration"]["options"]["awslogs-stream-prefix"] == "users"
    assert users["health_check"] == {"command": ["CMD-SHELL", HEALTH], "interval": 30, "timeout": 5, "retries": 3}
    assert users["port_mappings"] == [{"container_port": 5000, "host_port": 5000, "protocol": "tcp"}]
