"""The runner end to end against moto in-process: one-run creation, no-op, check mode, counts."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.api import Elbv2Api, Elbv2Error
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.runner import AlbRoutes

from .helpers import params, route


@pytest.fixture
def aws():
    with mock_aws():
        ec2 = boto3.client("ec2", region_name="us-east-1")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.%d.0/24" % i,
                                     AvailabilityZone="us-east-1" + az)["Subnet"]["SubnetId"]
                   for i, az in enumerate("ab", start=1)]
        group = ec2.create_security_group(GroupName="alb", Description="alb", VpcId=vpc)["GroupId"]
        yield {"elbv2": boto3.client("elbv2", region_name="us-east-1"), "subnets": subnets, "sg": group,
               "vpc": vpc}


def seed(aws, **kw):
    return params(subnets=aws["subnets"], security_groups=[aws["sg"]], **dict({
        "target_groups": [{"name": "client", "port": 9000},
                          {"name": "users", "port": 5000, "health_check": {"path": "/ping"},
                           "deregistration_delay": 30}],
        "routes": [route("/auth/*", "/users", "/users/*"), route("/ping")],
        "attributes": {"idle_timeout": 120},
    }, **kw))


def run(aws, module_params, check_mode=False):
    api = Elbv2Api(aws["elbv2"])
    return AlbRoutes(api, module_params, check_mode).run(), api


def test_load_balancer_listener_target_groups_and_rules_are_created_in_one_run(aws):
    result, api = run(aws, seed(aws))

    assert result.changed
    assert api.write_calls == {"create_load_balancer": 1, "modify_load_balancer_attributes": 1,
                               "create_target_group": 2, "modify_target_group_attributes": 1,
                               "create_listener": 1, "create_rule": 2}
    assert result.data["load_balancer"]["vpc_id"] == aws["vpc"]
    assert [r["priority"] for r in result.data["rules"]] == [10, 20]


def test_second_run_is_a_no_op_made_of_batched_describe_calls(aws):
    run(aws, seed(aws))

    result, api = run(aws, seed(aws))

    assert not result.changed
    assert api.write_calls == {}
    assert dict(api.read_calls) == {
        "describe_load_balancers": 1, "describe_load_balancer_attributes": 1, "describe_listeners": 1,
        "describe_rules": 1, "describe_target_groups": 1, "describe_tags": 1, "describe_target_group_attributes": 2}


def test_check_mode_on_nothing_predicts_everything_and_writes_nothing(aws):
    result, api = run(aws, seed(aws), check_mode=True)

    assert result.changed
    assert api.write_calls == {}
    assert result.data["load_balancer"]["arn"] == "(known after apply)"
    assert set(result.data["target_groups"].values()) == {"(known after apply)"}


def test_check_mode_of_a_change_reports_it_and_writes_nothing(aws):
    run(aws, seed(aws))

    result, api = run(aws, seed(aws, routes=[route("/auth/*", "/users", "/users/*"), route("/ping", tg="client")]),
                      check_mode=True)

    assert [a.verb for a in result.plan.actions] == ["update"]
    assert api.write_calls == {}


def test_weighted_forward_change_is_applied_then_stable(aws):
    run(aws, seed(aws))
    canary = dict(route("/ping", tg=None), forward={"target_groups": [{"name": "users", "weight": 80},
                                                                      {"name": "client", "weight": 20}]})
    changed, api = run(aws, seed(aws, routes=[route("/auth/*", "/users", "/users/*"), canary]))
    assert api.write_calls == {"modify_rule": 1}

    again, api = run(aws, seed(aws, routes=[route("/auth/*", "/users", "/users/*"), canary]))

    assert changed.changed and not again.changed


def test_redirect_and_fixed_response_listeners_are_stable(aws):
    listeners = [{"port": 80, "default_action": {"redirect": {"protocol": "HTTPS", "port": "443"}}},
                 {"port": 8080, "default_action": {"fixed_response": {"status_code": "404"}}}]
    module_params = seed(aws, listeners=listeners, routes=[route("/ping", listener=8080)])
    run(aws, module_params)

    result, api = run(aws, module_params)

    assert not result.changed, result.plan.to_list()


def test_invalid_input_fails_before_any_write(aws):
    with pytest.raises(Elbv2Error) as exc:
        run(aws, seed(aws, routes=[route("/v2/*", tg="orders")]))

    assert "routes[0].target_group='orders'" in exc.value.msg
    assert aws["elbv2"].describe_load_balancers()["LoadBalancers"] == []


def test_targets_registered_by_ecs_survive_a_run(aws):
    first, _api = run(aws, seed(aws))
    users = first.data["target_groups"]["users"]
    aws["elbv2"].register_targets(TargetGroupArn=users, Targets=[{"Id": "10.0.1.10", "Port": 5000}])

    result, api = run(aws, seed(aws, target_groups=[{"name": "client", "port": 9000},
                                                    {"name": "users", "port": 5000, "health_check": {"path": "/health"}}]))

    assert result.changed
    assert "deregister_targets" not in api.calls
    assert len(aws["elbv2"].describe_target_health(TargetGroupArn=users)["TargetHealthDescriptions"]) == 1


def test_absent_removes_what_the_application_created(aws):
    run(aws, seed(aws))

    result, _api = run(aws, params(state="absent", listeners=None, target_groups=None, routes=None, subnets=None))

    assert result.changed
    assert aws["elbv2"].describe_load_balancers()["LoadBalancers"] == []
    assert aws["elbv2"].describe_target_groups()["TargetGroups"] == []


def test_https_listener_with_two_certificates_and_http_redirect_is_stable(aws):
    acm = boto3.client("acm", region_name="us-east-1")
    certs = [acm.request_certificate(DomainName=d)["CertificateArn"] for d in ("a.example.com", "b.example.com")]
    listeners = [{"port": 80, "default_action": {"redirect": {"protocol": "HTTPS", "port": "443"}}},
                 {"port": 443, "protocol": "HTTPS", "certificates": certs, "default_action": {"target_group": "client"}}]
    module_params = seed(aws, listeners=listeners, routes=[route("/ping", listener=443)])
    first, api = run(aws, module_params)
    assert api.write_calls["add_listener_certificates"] == 1

    again, api = run(aws, module_params)

    assert first.changed and not again.changed
    assert api.write_calls == {}


def test_security_group_and_attribute_changes_update_the_load_balancer_in_place(aws):
    run(aws, seed(aws))
    ec2 = boto3.client("ec2", region_name="us-east-1")
    other = ec2.create_security_group(GroupName="alb2", Description="alb2", VpcId=aws["vpc"])["GroupId"]

    result, api = run(aws, dict(seed(aws, attributes={"idle_timeout": 300}), security_groups=[other]))

    assert [(a.verb, a.kind) for a in result.plan.actions] == [("update", "load_balancer")]
    assert api.write_calls == {"set_security_groups": 1, "modify_load_balancer_attributes": 1}
    assert result.data["load_balancer"]["security_groups"] == [other]


def test_a_failed_call_reports_what_was_already_done(aws):
    api = Elbv2Api(aws["elbv2"])
    real_call = api.call

    def failing(operation, **kw):
        if operation == "create_rule":
            raise Elbv2Error("create_rule failed: TooManyRules: quota", operation=operation, code="TooManyRules")
        return real_call(operation, **kw)

    api.call = failing
    with pytest.raises(Elbv2Error) as exc:
        AlbRoutes(api, seed(aws)).run()

    assert exc.value.state["failed_on"] == "create_rule"
    assert "created listener 80" in exc.value.state["done"]
