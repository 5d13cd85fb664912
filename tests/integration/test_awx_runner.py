"""AWX / Automation Controller: the execution environment's definition, and deploy.yml run the
way a job template runs it.

AWX hands ansible-runner a private data directory: ``project/`` (the synced git project),
``inventory/`` (the inventory it imported), ``env/envvars`` (the credential injected as
environment variables) and ``env/extravars`` (the template's extra vars). The deploy test builds
exactly that around this checkout and the emulator, runs ``ansible_runner.run()`` and reads the
job's status and events; it also checks that every AWS call the deploy made is one the shipped
deployer policy allows.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys

import ansible_runner
import pytest
import yaml
from packaging.specifiers import SpecifierSet

from integration.ansible_runner_helpers import REPO
from unit.test_deployer_policy import OPTIONAL_ACTIONS, allows, load_policy, used_fqcns

BIN = os.path.dirname(sys.executable)

# Tasks of each role deploy.yml runs; the job's events must show all three roles at work.
ROLE_TASKS = {
    "platform": "Set up the network, security groups and IAM roles",
    "logging": "Write the log groups, metric filters, alarm topic and service alarms",
    "services": "Shape the services",
}

# The application's secrets exist before a deploy, as an operator put them (values never matter here).
SECRETS = ("/flask-microservices/local/users/DATABASE_URL", "/flask-microservices/local/users/SECRET_KEY")

# Signing name in the emulator's call log -> IAM service prefix, where the two differ.
IAM_PREFIX_OF_SIGNING_NAME = {"monitoring": "cloudwatch"}


def _load(path):
    with open(os.path.join(REPO, path)) as handle:
        return yaml.safe_load(handle)


# --- the execution environment's definition --------------------------------------------------

def _galaxy_name(entry):
    """The collection a requirements entry installs: a name, this checkout, or its release tarball."""
    name = entry["name"] if isinstance(entry, dict) else entry
    kind = entry.get("type", "galaxy") if isinstance(entry, dict) else "galaxy"
    galaxy = _load("galaxy.yml")
    ours = "%s.%s" % (galaxy["namespace"], galaxy["name"])
    if kind == "dir" and name == ".":
        return ours
    if kind == "file" and name == "collections/%s-%s-%s.tar.gz" % (galaxy["namespace"], galaxy["name"], galaxy["version"]):
        return ours
    assert kind == "galaxy", entry
    return name


def _versions(entries):
    return {_galaxy_name(e): e.get("version") for e in entries if isinstance(e, dict) and e.get("type", "galaxy") == "galaxy"}


def _used_collections():
    used = {".".join(fqcn.split(".")[:2]) for fqcn in used_fqcns()}
    assert {"amazon.aws", "community.aws", "shipyard.ecs"} <= used
    # ansible.builtin ships with ansible-core.
    return used - {"ansible.builtin"}


def test_execution_environment_is_an_ansible_builder_v3_definition():
    ee = _load("execution-environment.yml")
    assert ee["version"] == 3
    assert ee["images"]["base_image"]["name"]
    deps = ee["dependencies"]
    assert {"ansible_core", "ansible_runner", "galaxy", "python"} <= set(deps)
    assert deps["ansible_core"]["package_pip"].startswith("ansible-core")
    assert deps["ansible_runner"]["package_pip"].startswith("ansible-runner")


def test_execution_environment_installs_the_python_requirements_pinned():
    deps = _load("execution-environment.yml")["dependencies"]
    with open(os.path.join(REPO, "requirements.txt")) as handle:
        packages = {re.split(r"[<>=!~; \[]", line.strip())[0].lower() for line in handle if line.strip() and not line.startswith("#")}
    assert {"boto3", "botocore"} <= packages
    assert all(re.fullmatch(r"[\w.-]+==[\w.]+", requirement) for requirement in deps["python"]), deps["python"]
    assert {requirement.split("==")[0].lower() for requirement in deps["python"]} == packages


def test_execution_environment_installs_every_collection_the_roles_and_playbooks_use():
    entries = _load("execution-environment.yml")["dependencies"]["galaxy"]["collections"]
    assert sorted(_used_collections() - {_galaxy_name(e) for e in entries}) == []


def test_execution_environment_installs_this_collection_from_the_tarball_built_from_this_checkout():
    ee = _load("execution-environment.yml")
    tarball = "shipyard-ecs-%s.tar.gz" % _load("galaxy.yml")["version"]
    entries = ee["dependencies"]["galaxy"]["collections"]
    assert [e["name"] for e in entries if e.get("type") in ("file", "git", "dir", "url")] == ["collections/" + tarball]
    assert ee["additional_build_files"] == [{"src": "build/" + tarball, "dest": "collections"}]


def test_collection_requirements_list_every_collection_the_roles_and_playbooks_use():
    entries = _load("collections/requirements.yml")["collections"]
    assert sorted(_used_collections() - {_galaxy_name(e) for e in entries}) == []


def test_collection_requirements_and_execution_environment_follow_the_dependencies_of_galaxy_yml():
    dependencies = _load("galaxy.yml")["dependencies"]
    assert _versions(_load("collections/requirements.yml")["collections"]) == dependencies
    # The execution environment pins one version of each, within galaxy.yml's range.
    pinned = _versions(_load("execution-environment.yml")["dependencies"]["galaxy"]["collections"])
    assert sorted(pinned) == sorted(dependencies)
    for name, version in pinned.items():
        assert version.startswith("==") and SpecifierSet(dependencies[name]).contains(version[2:]), (name, version)


# --- deploy.yml as an AWX job ------------------------------------------------------------------

def _private_data_dir(root, aws):
    """The directory AWX builds for a job of the "deploy" template on the local environment."""
    os.symlink(REPO, os.path.join(root, "project"))
    inventory = os.path.join(root, "inventory")
    shutil.copytree(os.path.join(REPO, "inventories", "local"), inventory)
    os.makedirs(os.path.join(root, "env"))
    env = aws.env()
    envvars = {
        # The AWS credential of the job template, injected as environment variables.
        "AWS_ACCESS_KEY_ID": env["AWS_ACCESS_KEY_ID"],
        "AWS_SECRET_ACCESS_KEY": env["AWS_SECRET_ACCESS_KEY"],
        "SHIPYARD_LOCAL_AWS_ENDPOINT": env["SHIPYARD_LOCAL_AWS_ENDPOINT"],
        # Where the local inventory finds the images to push (the local_aws fixture builds them).
        "SHIPYARD_DEMO_IMAGES": os.environ["SHIPYARD_DEMO_IMAGES"],
        "ANSIBLE_CONFIG": os.path.join(REPO, "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": os.path.join(REPO, ".collections"),
        "ANSIBLE_NOCOLOR": "1",
        "PATH": BIN + os.pathsep + os.environ.get("PATH", ""),
    }
    extravars = {
        "env_image_tag": "awx-1",
        # AWX keeps the imported inventory away from the project: the application definition is
        # found next to the playbooks instead of next to the inventory.
        "app_definition_file": "{{ playbook_dir }}/../inventories/app.yml",
    }
    with open(os.path.join(root, "env", "envvars"), "w") as handle:
        yaml.safe_dump(envvars, handle)
    with open(os.path.join(root, "env", "extravars"), "w") as handle:
        yaml.safe_dump(extravars, handle)
    return root


@pytest.mark.slow
def test_deploy_runs_as_an_awx_job_and_calls_only_what_the_deployer_policy_allows(aws, boto3_client, tmp_path):
    ssm = boto3_client("ssm")
    for name in SECRETS:
        ssm.put_parameter(Name=name, Value="awx-test-value", Type="SecureString")
    private = _private_data_dir(str(tmp_path), aws)
    aws.clear_calls()

    run = ansible_runner.run(private_data_dir=private, playbook="playbooks/deploy.yml", quiet=True, timeout=600)

    events = [e for e in run.events if "event_data" in e]
    stdout = run.stdout.read()[-6000:]
    assert (run.status, run.rc) == ("successful", 0), stdout
    kinds = [e["event"] for e in events]
    assert "playbook_on_stats" in kinds
    failed = [e["event_data"].get("task") for e in events if e["event"] == "runner_on_failed"]
    assert failed == [], stdout
    started = {e["event_data"].get("task") for e in events if e["event"] == "playbook_on_task_start"}
    assert {role: task for role, task in ROLE_TASKS.items() if task not in started} == {}
    stats = next(e for e in events if e["event"] == "playbook_on_stats")["event_data"]
    assert stats["changed"].get("localhost", 0) > 0
    assert run.stats["failures"] == {}

    image = json.dumps(next(e for e in events if e["event_data"].get("task") == "Release the services' task definitions"
                            and e["event"] == "runner_on_ok")["event_data"]["res"])
    # The job's tag was pushed (inventories/local gives every service an image archive), and the
    # release runs that image pinned by its digest.
    pushed = boto3_client("ecr").describe_images(repositoryName="flask-microservices/users",
                                                 imageIds=[{"imageTag": "awx-1"}])["imageDetails"][0]
    assert "flask-microservices/users@" + pushed["imageDigest"] in image

    policy = load_policy()
    calls = {(IAM_PREFIX_OF_SIGNING_NAME.get(c["service"], c["service"]), c["operation"]) for c in aws.calls()}
    # Calls without an operation name are the registry's HTTP API (image pushes).
    api_calls = {"%s:%s" % call for call in calls if " " not in call[1]} - set(OPTIONAL_ACTIONS)
    assert "ecs:CreateService" in api_calls
    assert sorted(a for a in api_calls if not allows(policy, a)) == []
