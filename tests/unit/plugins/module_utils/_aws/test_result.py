"""Plan and result: what check mode reports and --diff shows."""

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.result import Action, Plan, Result


def test_empty_plan_is_unchanged():
    assert Result(changed=False, plan=Plan()).to_module_result() == {"changed": False, "plan": []}


def test_plan_diff_is_keyed_by_kind_and_name():
    plan = Plan()
    plan.add(Action("update", "service", "users", reason="desired count", before={"desiredCount": 1}, after={"desiredCount": 2}))
    plan.add(Action("create", "service", "client", after={"desiredCount": 1}))
    out = Result(changed=plan.changed, plan=plan).to_module_result(diff_mode=True)
    assert out["changed"] is True
    assert out["diff"] == {
        "before": {"service/users": {"desiredCount": 1}},
        "after": {"service/users": {"desiredCount": 2}, "service/client": {"desiredCount": 1}},
    }
    assert out["plan"][0] == {"action": "update", "kind": "service", "name": "users", "reason": "desired count"}


def test_diff_is_only_returned_in_diff_mode():
    plan = Plan([Action("create", "service", "client", after={})])
    assert "diff" not in Result(changed=True, plan=plan).to_module_result(diff_mode=False)


def test_validation_error_names_option_and_value():
    err = ValidationError("services[0].cpu", 300, "Fargate supports 256, 512, 1024, 2048, 4096")
    assert err.msg == "services[0].cpu=300: Fargate supports 256, 512, 1024, 2048, 4096"
    assert err.to_result() == {}
