"""Repository planning and applying against moto's ECR: create, converge, no phantom changes."""

import json

import boto3
import pytest
from moto import mock_aws

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import RetryPolicy
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._ecr.api import EcrApi
from ansible_collections.shipyard.ecs.plugins.module_utils._ecr.repository import (
    RepositorySpec,
    apply_repository,
    plan_repository,
    read_repository,
)

NAME = "flask-microservices/users"
POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "Pull", "Effect": "Allow", "Principal": {"AWS": "111122223333"},
                   "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}],
}


def params(kw=None, **more):
    base = {"name": NAME, "purge_tags": True}
    base.update(kw or {})
    base.update(more)
    return base


@pytest.fixture
def api():
    with mock_aws():
        yield EcrApi(boto3.client("ecr", region_name="us-east-1"), retry=RetryPolicy(sleep=lambda s: None))


def converge(api, kw):
    spec = RepositorySpec.from_params(params(kw))
    current = read_repository(api, NAME)
    plan = plan_repository(spec, current)
    return plan, apply_repository(api, spec, plan, current)


FULL = dict(scan_on_push=True, image_tag_mutability="IMMUTABLE", encryption_type="AES256",
            lifecycle_rules=[{"tag_prefixes": ["production-"], "keep_last": 10},
                             {"tag_status": "untagged", "expire_days": 7}],
            repository_policy=POLICY, tags={"app": "flask-microservices", "env": "production"})


def test_missing_repository_is_planned_as_create(api):
    plan = plan_repository(RepositorySpec.from_params(params()), read_repository(api, NAME))
    assert [(a.verb, a.kind) for a in plan.actions] == [("create", "repository")]


def test_create_applies_every_setting(api):
    state = converge(api, FULL)[1]
    assert state["scan_on_push"] is True
    assert state["image_tag_mutability"] == "IMMUTABLE"
    assert state["lifecycle_policy"]["rules"][0]["selection"]["tagPrefixList"] == ["production-"]
    assert state["repository_policy"]["Statement"][0]["Principal"] == {"AWS": ["arn:aws:iam::111122223333:root"]}
    assert state["tags"] == {"app": "flask-microservices", "env": "production"}


def test_second_run_plans_nothing_and_writes_nothing(api):
    converge(api, FULL)
    api.calls.clear()
    plan = converge(api, FULL)[0]
    assert plan.actions == []
    assert api.write_calls == {}


def test_policy_given_as_reordered_json_text_is_no_change(api):
    converge(api, FULL)
    text = json.dumps({"Statement": [{"Action": ["ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
                                      "Principal": {"AWS": ["arn:aws:iam::111122223333:root"]},
                                      "Effect": "Allow", "Sid": "Pull"}], "Version": "2012-10-17"})
    plan = converge(api, dict(FULL, repository_policy=text))[0]
    assert plan.actions == []


def test_changed_scan_on_push_is_one_update_with_its_difference(api):
    converge(api, FULL)
    plan, state = converge(api, dict(FULL, scan_on_push=False))
    assert [(a.verb, a.kind) for a in plan.actions] == [("update", "repository")]
    assert plan.actions[0].changes == [{"path": "scan_on_push", "before": True, "after": False}]
    assert state["scan_on_push"] is False


def test_other_encryption_on_existing_repository_is_a_clear_error_before_any_write(api):
    converge(api, FULL)
    api.calls.clear()
    spec = RepositorySpec.from_params(params(dict(FULL, encryption_type="KMS")))
    with pytest.raises(ValidationError) as err:
        plan_repository(spec, read_repository(api, NAME))
    assert "encryption_type='KMS'" in str(err.value)
    assert "cannot change" in str(err.value)
    assert api.write_calls == {}


def test_purge_tags_removes_tags_not_asked_for(api):
    converge(api, FULL)
    plan, state = converge(api, dict(FULL, tags={"app": "flask-microservices"}))
    assert plan.actions[0].kind == "tags"
    assert state["tags"] == {"app": "flask-microservices"}


def test_without_purge_tags_other_tags_stay(api):
    converge(api, FULL)
    plan, state = converge(api, dict(FULL, tags={"team": "core"}, purge_tags=False))
    assert plan.actions[0].after == {"app": "flask-microservices", "env": "production", "team": "core"}
    assert state["tags"]["team"] == "core"


def test_empty_lifecycle_rules_remove_the_policy(api):
    converge(api, FULL)
    plan, state = converge(api, dict(FULL, lifecycle_rules=[]))
    assert [(a.verb, a.kind) for a in plan.actions] == [("delete", "lifecycle_policy")]
    assert state["lifecycle_policy"] is None


def test_raw_lifecycle_policy_equal_to_rules_is_no_change(api):
    converge(api, FULL)
    raw = json.dumps({"rules": [
        {"rulePriority": 2, "description": "expire untagged images after 7 days",
         "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 7},
         "action": {"type": "expire"}},
        {"rulePriority": 1, "description": "keep the last 10 images tagged production-*",
         "selection": {"tagStatus": "TAGGED", "tagPrefixList": ["production-"], "countType": "imageCountMoreThan",
                       "countNumber": 10}, "action": {"type": "expire"}},
    ]})
    spec_kw = dict(FULL)
    spec_kw.pop("lifecycle_rules")
    plan, _state = converge(api, dict(spec_kw, lifecycle_policy=raw))
    assert plan.actions == []


def test_repository_name_with_uppercase_is_refused_naming_the_option():
    with pytest.raises(ValidationError) as err:
        RepositorySpec.from_params(params(name="Users"))
    assert str(err.value).startswith("name='Users'")


def test_kms_key_without_kms_encryption_is_refused():
    with pytest.raises(ValidationError) as err:
        RepositorySpec.from_params(params(encryption_type="AES256", kms_key="alias/ecr"))
    assert "kms_key" in str(err.value)
