"""app_plan and deploy.yml against the local emulated AWS: bad input is refused before the first write.

Every case of tests/app_cases.py runs the plan (the code deploy.yml's first step runs) against an
empty emulator account: it must be refused naming the option path and the value, and the emulator's
call log must show no write call. The review's cases also run the whole deploy.yml, in check mode and
for real, from an inventory of their own.
"""

import os

import pytest
import yaml

from app_cases import ACCOUNT_CASES, CASES, SECRETS, local_env, reference_app
from integration.ansible_runner_helpers import REPO
from ansible_collections.shipyard.ecs.plugins.module_utils._app.model import load
from ansible_collections.shipyard.ecs.plugins.module_utils._app.plan import Apis, EnvironmentPlanner
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError

DEPLOY = os.path.join(REPO, "playbooks", "deploy.yml")
REVIEW_CASES = ["listener-port-out-of-range", "default-service-names-no-service", "duplicate-route", "fargate-cpu-memory-pair",
                "negative-desired-count", "secret-that-does-not-exist", "target-group-name-too-long",
                "typo-in-a-service-key", "override-of-a-service-that-does-not-exist", "count-is-not-a-number"]
# Each runs deploy.yml twice (check mode, then for real): a sample of the kinds of problem, the rest
# run in-process above (the same code as the playbook's first step).
PLAYBOOK_CASES = ["listener-port-out-of-range", "secret-that-does-not-exist", "target-group-name-too-long", "typo-in-a-service-key"]


def seed_secrets(boto3_client):
    ssm = boto3_client("ssm")
    for name in SECRETS:
        ssm.put_parameter(Name=name, Value="throwaway", Type="SecureString", Overwrite=True)


def plan(boto3_client, app, env, account_id="123456789012"):
    return EnvironmentPlanner(load(app, env), Apis(boto3_client), "us-east-1", account_id).run()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_by_the_plan_with_no_write_call(aws, boto3_client, case):
    seed_secrets(boto3_client)
    aws.clear_calls()
    app, env = case.inputs()
    with pytest.raises(ValidationError) as raised:
        plan(boto3_client, app, env)
    for text in case.says:
        assert text in raised.value.msg, raised.value.msg
    assert aws.write_calls() == []


def test_the_valid_definition_plans_every_resource_of_a_new_account(aws, boto3_client):
    seed_secrets(boto3_client)
    aws.clear_calls()
    outcome = plan(boto3_client, reference_app(), local_env())
    planned = {(e["resource"], e["name"]): e["action"] for e in outcome["plan"]}
    assert set(planned.values()) == {"create"}
    for resource, name in [("vpc", "flask-microservices-local"), ("security_group", "flask-microservices-local-tasks"),
                           ("iam_role", "flask-microservices-local-task-execution"), ("ecs_cluster", "flask-microservices-local"),
                           ("log_group", "/ecs/flask-microservices-local/users"), ("load_balancer", "flask-microservices-local"),
                           ("target_group", "local-users"), ("listener", "80"), ("rule", "80 path=/ping"), ("service", "users"),
                           ("alarm", "flask-microservices-local-users-cpu-high"), ("alarm", "flask-microservices-local-users-target-5xx"),
                           ("topic", "flask-microservices-local-alarms"), ("dashboard", "flask-microservices-local-dashboard"),
                           ("metric_filter", "/ecs/flask-microservices-local/users:errors")]:
        assert (resource, name) in planned, (resource, name)
    assert aws.write_calls() == []


def test_a_blue_green_service_plans_its_alternate_group_its_ecs_rules_and_the_infrastructure_role(aws, boto3_client):
    seed_secrets(boto3_client)
    app = reference_app()
    app["services"]["swagger"]["release"] = {"strategy": "blue_green", "bake_minutes": 5,
                                             "test_traffic": {"http_header": {"name": "X-Shipyard-Test", "value": "1"}}}
    aws.clear_calls()
    outcome = plan(boto3_client, app, local_env())
    planned = {(e["resource"], e["name"]): e["action"] for e in outcome["plan"]}
    for resource, name in [("iam_role", "flask-microservices-local-ecs-infrastructure"), ("target_group", "local-swagger-alt"),
                           ("service", "swagger")]:
        assert planned.get((resource, name)) == "create", (resource, name, sorted(planned))
    assert aws.write_calls() == []


def test_a_wrong_account_in_the_inventory_is_refused(aws, boto3_client):
    seed_secrets(boto3_client)
    aws.clear_calls()
    with pytest.raises(ValidationError) as raised:
        plan(boto3_client, reference_app(), local_env(), account_id="999999999999")
    assert "aws_account_id='999999999999'" in raised.value.msg and "123456789012" in raised.value.msg
    assert aws.write_calls() == []


def test_the_module_reports_every_problem_with_its_path(aws, run_module):
    app, env = reference_app(), local_env()
    app["services"]["users"]["contianer_port"] = 5000
    env["env_services"]["userz"] = {"cpu": 256}
    result = run_module("app_plan", {"application": app, "environment": env})
    assert result["failed"]
    assert result["problems"] == [
        "services.users.contianer_port=5000: unknown key; did you mean container_port?",
        "env_services.userz={'cpu': 256}: no such service in the application (client, swagger, users); did you mean users?"]
    assert aws.write_calls() == []


def inventory(tmp_path, case):
    """An inventory of the local environment with the case's application and env_* variables."""
    app, env = case.inputs()
    with open(os.path.join(REPO, "inventories", "local", "group_vars", "all.yml"), encoding="utf-8") as handle:
        local = yaml.safe_load(handle)
    group_vars = {k: v for k, v in local.items() if not k.startswith("env_")}
    group_vars.update(env)
    root = tmp_path / "inventories"
    (root / case.id / "group_vars").mkdir(parents=True)
    (root / "app.yml").write_text(yaml.safe_dump(app))
    (root / case.id / "group_vars" / "all.yml").write_text(yaml.safe_dump(group_vars))
    (root / case.id / "hosts.yml").write_text(open(os.path.join(REPO, "inventories", "local", "hosts.yml")).read())
    return str(root / case.id)


@pytest.mark.slow
@pytest.mark.parametrize("case_id", PLAYBOOK_CASES)
def test_deploy_refuses_the_reviews_bad_inputs_before_the_first_write(aws, boto3_client, run_playbook, tmp_path, case_id):
    case = {c.id: c for c in CASES}[case_id]
    seed_secrets(boto3_client)
    inv = inventory(tmp_path, case)
    for check in (True, False):
        aws.clear_calls()
        run = run_playbook(DEPLOY, inventory=inv, check=check)
        assert run.rc != 0
        failed = run.task("Validate the application and plan the environment")
        for text in case.says:
            assert text in failed["msg"], failed["msg"]
        assert run.changed == 0
        assert aws.write_calls() == []


def test_account_cases_cover_what_only_the_account_can_tell():
    assert {c.id for c in ACCOUNT_CASES} >= {"secret-that-does-not-exist", "image-not-in-ecr", "archive-that-does-not-exist",
                                             "domain-without-certificate", "vpc-that-does-not-exist"}
    assert set(REVIEW_CASES) <= {c.id for c in CASES}
    assert len(CASES) - len(REVIEW_CASES) >= 40
