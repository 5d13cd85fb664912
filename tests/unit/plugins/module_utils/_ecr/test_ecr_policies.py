"""Policies compare by meaning; lifecycle rules turn into the ECR policy AWS expects."""

import json

import pytest

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.policy import normalise_policy
from ansible_collections.shipyard.ecs.plugins.module_utils._ecr.policies import lifecycle_from_rules, normalise_lifecycle, parse_policy

PULL_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{
        "Sid": "AllowPull",
        "Effect": "Allow",
        "Principal": {"AWS": ["arn:aws:iam::111122223333:root", "444455556666"]},
        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
    }],
}


def test_policy_spelled_differently_normalises_to_the_same_document():
    same = {
        "Statement": {
            "Action": ["ecr:getdownloadurlforlayer", "ecr:BatchGetImage"],
            "Principal": {"AWS": ["arn:aws:iam::444455556666:root", "111122223333"]},
            "Effect": "Allow",
            "Sid": "AllowPull",
        },
        "Version": "2012-10-17",
    }
    assert normalise_policy(same) == normalise_policy(PULL_POLICY)


def test_single_action_string_equals_one_item_list():
    a = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}]}
    b = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": ["ecr:BatchGetImage"]}]}
    assert normalise_policy(a) == normalise_policy(b)


def test_statement_order_does_not_matter():
    s1 = {"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}
    s2 = {"Effect": "Deny", "Principal": "*", "Action": "ecr:PutImage"}
    assert normalise_policy({"Statement": [s1, s2]}) == normalise_policy({"Statement": [s2, s1]})


def test_different_effect_is_a_difference():
    allow = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}]}
    deny = {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "ecr:BatchGetImage"}]}
    assert normalise_policy(allow) != normalise_policy(deny)


def test_parse_policy_accepts_json_text():
    assert parse_policy("repository_policy", json.dumps(PULL_POLICY)) == PULL_POLICY


def test_parse_policy_rejects_invalid_json_naming_the_option():
    with pytest.raises(ValidationError) as err:
        parse_policy("repository_policy", "{not json")
    assert "repository_policy" in str(err.value)
    assert "{not json" in str(err.value)


def test_keep_last_with_prefix_becomes_image_count_rule():
    policy = lifecycle_from_rules([{"tag_prefixes": ["production-"], "keep_last": 20}])
    assert policy["rules"][0]["selection"] == {
        "tagStatus": "tagged", "tagPrefixList": ["production-"], "countType": "imageCountMoreThan", "countNumber": 20}
    assert policy["rules"][0]["rulePriority"] == 1
    assert policy["rules"][0]["action"] == {"type": "expire"}


def test_untagged_expiry_becomes_since_pushed_rule_after_the_first():
    policy = lifecycle_from_rules([{"tag_prefixes": ["staging-"], "keep_last": 5},
                                   {"tag_status": "untagged", "expire_days": 14}])
    rule = policy["rules"][1]
    assert rule["rulePriority"] == 2
    assert rule["selection"] == {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                                 "countNumber": 14}


def test_rule_needs_exactly_one_of_keep_last_and_expire_days():
    with pytest.raises(ValidationError) as err:
        lifecycle_from_rules([{"keep_last": 3, "expire_days": 3}])
    assert "lifecycle_rules[0]" in str(err.value)


def test_catch_all_rule_must_come_last():
    with pytest.raises(ValidationError) as err:
        lifecycle_from_rules([{"keep_last": 3}, {"tag_status": "untagged", "expire_days": 3}])
    assert "must be the last rule" in str(err.value)


def test_tagged_rule_without_prefixes_is_refused():
    with pytest.raises(ValidationError):
        lifecycle_from_rules([{"tag_status": "tagged", "keep_last": 3}])


def test_lifecycle_rule_order_in_json_does_not_matter():
    rules = lifecycle_from_rules([{"tag_prefixes": ["a", "b"], "keep_last": 2}, {"tag_status": "untagged", "expire_days": 1}])
    shuffled = {"rules": [dict(rules["rules"][1]), dict(rules["rules"][0], selection=dict(
        rules["rules"][0]["selection"], tagPrefixList=["b", "a"]))]}
    assert normalise_lifecycle(shuffled) == normalise_lifecycle(rules)
