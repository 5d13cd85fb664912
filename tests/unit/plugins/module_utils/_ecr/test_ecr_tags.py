"""The tag planner: no-op when a tag is at the digest, move when mutable, refuse when immutable."""

import pytest

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._ecr.push import plan_tags, validate_tags

OLD = "sha256:" + "a" * 64
NEW = "sha256:" + "b" * 64


def test_tag_already_at_the_digest_is_no_action():
    assert not plan_tags("repo", NEW, {"production-1": NEW}, immutable=True, reason="push").changed


def test_absent_tag_is_a_new_tag_action():
    plan = plan_tags("repo", NEW, {"production-1": None}, immutable=True, reason="push")
    assert [(a.verb, a.name, a.before, a.after) for a in plan.actions] == [("tag", "repo:production-1", None, NEW)]


def test_mutable_tag_at_another_digest_moves():
    plan = plan_tags("repo", NEW, {"staging": OLD}, immutable=False, reason="push")
    assert plan.actions[0].before == OLD
    assert "moves from" in plan.actions[0].reason


def test_immutable_tag_at_another_digest_is_an_error_naming_both_digests():
    with pytest.raises(ValidationError) as err:
        plan_tags("repo", NEW, {"production-1": OLD}, immutable=True, reason="push")
    assert OLD in str(err.value) and NEW in str(err.value)
    assert err.value.option == "image_tags"


def test_invalid_tag_is_refused_naming_it():
    with pytest.raises(ValidationError) as err:
        validate_tags(["ok", "-bad"])
    assert "'-bad'" in str(err.value)


def test_duplicate_tags_collapse_in_order():
    assert validate_tags(["b", "a", "b"]) == ["b", "a"]
