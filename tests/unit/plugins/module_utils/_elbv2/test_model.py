"""Normalisation: what AWS returns and what the user wrote read the same when they mean the same."""

from __future__ import annotations

from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.model import (
    action_from_params,
    actions_from_aws,
    conditions_from_aws,
    conditions_from_route,
    conditions_to_aws,
    target_group_from_aws,
    target_group_from_params,
)

TG_NAMES = {"arn:tg/users": "users", "arn:tg/client": "client"}


def test_forward_as_aws_fills_it_equals_a_plain_target_group():
    aws = [{"Type": "forward", "Order": 1, "TargetGroupArn": "arn:tg/users",
            "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": "arn:tg/users", "Weight": 1}],
                              "TargetGroupStickinessConfig": {"Enabled": False}}}]

    assert actions_from_aws(aws, TG_NAMES) == [action_from_params({"target_group": "users"})]


def test_forward_without_forward_config_equals_a_plain_target_group():
    aws = [{"Type": "forward", "TargetGroupArn": "arn:tg/users"}]

    assert actions_from_aws(aws, TG_NAMES) == [action_from_params({"target_group": "users"})]


def test_weighted_forward_ignores_order_of_target_groups():
    aws = [{"Type": "forward", "Order": 1, "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": "arn:tg/client", "Weight": 10}, {"TargetGroupArn": "arn:tg/users", "Weight": 90}],
        "TargetGroupStickinessConfig": {"Enabled": True, "DurationSeconds": 600}}}]
    wanted = {"forward": {"target_groups": [{"name": "users", "weight": 90}, {"name": "client", "weight": 10}],
                          "stickiness": {"enabled": True, "duration": 600}}}

    assert actions_from_aws(aws, TG_NAMES) == [action_from_params(wanted)]


def test_redirect_with_aws_placeholders_equals_the_short_form():
    aws = [{"Type": "redirect", "Order": 1, "RedirectConfig": {
        "Protocol": "HTTPS", "Port": "443", "Host": "#{host}", "Path": "/#{path}", "Query": "#{query}",
        "StatusCode": "HTTP_301"}}]

    assert actions_from_aws(aws, {}) == [action_from_params({"redirect": {"protocol": "HTTPS", "port": 443}})]


def test_fixed_response_without_content_type_reads_as_text_plain():
    aws = [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}]

    wanted = {"fixed_response": {"status_code": "404", "content_type": None}}

    assert actions_from_aws(aws, {}) == [action_from_params(wanted)]


def test_conditions_in_legacy_and_config_form_read_the_same():
    legacy = [{"Field": "path-pattern", "Values": ["/users/*", "/users"]},
              {"Field": "host-header", "Values": ["API.example.com"]}]
    config = [{"Field": "host-header", "HostHeaderConfig": {"Values": ["api.example.com"]}},
              {"Field": "path-pattern", "Values": ["/users"], "PathPatternConfig": {"Values": ["/users", "/users/*"]}}]

    assert conditions_from_aws(legacy) == conditions_from_aws(config) == conditions_from_route(
        {"path_patterns": ["/users", "/users/*"], "host_headers": ["api.example.com"]})


def test_path_patterns_stay_case_sensitive():
    assert conditions_from_route({"path_patterns": ["/Users"]}) != conditions_from_route({"path_patterns": ["/users"]})


def test_every_condition_kind_survives_a_round_trip_through_the_aws_form():
    route = {"path_patterns": ["/a"], "host_headers": ["a.example.com"], "methods": ["get", "POST"],
             "http_headers": [{"name": "X-Env", "values": ["Beta"]}],
             "query_strings": [{"key": "v", "value": "2"}, {"key": None, "value": "debug"}],
             "source_ips": ["10.0.0.1", "192.168.0.0/16"]}
    canonical = conditions_from_route(route)

    assert conditions_from_aws(conditions_to_aws(canonical)) == canonical
    assert canonical["source_ips"] == ["10.0.0.1/32", "192.168.0.0/16"]
    assert canonical["methods"] == ["GET", "POST"]


def test_target_group_with_aws_defaults_equals_one_declared_without_them():
    aws = {"TargetGroupArn": "arn:tg/users", "TargetGroupName": "users", "Protocol": "HTTP", "Port": 5000,
           "VpcId": "vpc-1", "HealthCheckProtocol": "HTTP", "HealthCheckPort": "traffic-port",
           "HealthCheckEnabled": True, "HealthCheckIntervalSeconds": 30, "HealthCheckTimeoutSeconds": 5,
           "HealthyThresholdCount": 5, "UnhealthyThresholdCount": 2, "HealthCheckPath": "/",
           "Matcher": {"HttpCode": "200"}, "TargetType": "ip"}
    attributes = {"deregistration_delay.timeout_seconds": "300", "slow_start.duration_seconds": "0",
                  "stickiness.enabled": "false", "load_balancing.algorithm.type": "round_robin"}
    wanted = target_group_from_params({"name": "users", "port": 5000}, "app")

    current = target_group_from_aws(aws, attributes, wanted["tags"], sorted(wanted["attributes"]))

    assert current["health_check"] == wanted["health_check"]
    assert current["attributes"] == wanted["attributes"]
