"""cloudwatch_stack's runner end to end against moto in-process."""

from __future__ import annotations

import json

import boto3
import pytest
from emulator.fidelity import fixes
from moto import mock_aws

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError

from .helpers import NAME, REGION, cpu_alarm, params, reads, run, writes


@pytest.fixture(autouse=True)
def aws():
    # moto as the emulator runs it: metric filters counted per group and listed in pages, as AWS does.
    fixes.install()
    with mock_aws():
        yield


def test_everything_of_three_services_is_created_in_one_run():
    result, api = run(params())

    assert result.changed
    assert writes(api) == {"create_topic": 1, "subscribe": 1, "create_log_group": 3, "put_retention_policy": 3,
                           "put_metric_filter": 3, "put_metric_alarm": 3, "put_dashboard": 1}
    logs = boto3.client("logs", region_name=REGION)
    groups = logs.describe_log_groups(logGroupNamePrefix="/ecs/%s/" % NAME)["logGroups"]
    assert [(g["logGroupName"], g["retentionInDays"]) for g in groups] == [
        ("/ecs/shop-prod/client", 30), ("/ecs/shop-prod/swagger", 30), ("/ecs/shop-prod/users", 30)]
    alarm = boto3.client("cloudwatch", region_name=REGION).describe_alarms(AlarmNames=["shop-prod-users-cpu-high"])
    assert alarm["MetricAlarms"][0]["AlarmActions"] == [result.data["topic_arn"]]
    assert result.data["topic_arn"] == "arn:aws:sns:us-east-1:123456789012:shop-prod-alarms"


def test_second_run_is_a_no_op_of_batched_reads():
    run(params())

    result, api = run(params())

    assert not result.changed
    assert result.plan.to_list() == []
    assert writes(api) == {}
    assert reads(api) == {"sts.get_caller_identity": 1, "sns.get_topic_attributes": 1,
                          "sns.list_subscriptions_by_topic": 1, "logs.describe_log_groups": 1,
                          "logs.describe_metric_filters": 1, "cloudwatch.describe_alarms": 1,
                          "cloudwatch.get_dashboard": 1, "resourcegroupstaggingapi.get_resources": 1}


def test_reads_do_not_grow_with_alarms_log_groups_and_metric_filters():
    services = ["svc%02d" % i for i in range(30)]
    run(params(services))

    result, api = run(params(services))

    assert not result.changed
    counts = reads(api)
    assert counts["cloudwatch.describe_alarms"] == 1
    assert counts["logs.describe_log_groups"] == 1
    assert counts["resourcegroupstaggingapi.get_resources"] == 1
    # The account holds this environment only: its 30 groups' filters are the region's first page.
    assert counts["logs.describe_metric_filters"] == 1


def test_check_mode_on_an_empty_account_plans_everything_and_writes_nothing():
    result, api = run(params(), check_mode=True)

    assert result.changed
    assert writes(api) == {}
    planned = sorted((a["action"], a["kind"]) for a in result.plan.to_list())
    assert planned.count(("create", "alarm")) == 3
    assert planned.count(("create", "log_group")) == 3
    assert planned.count(("create", "metric_filter")) == 3
    assert ("create", "topic") in planned and ("create", "dashboard") in planned
    after = result.plan.diff()["after"]
    assert after["alarm/shop-prod-users-cpu-high"]["alarm_actions"] == ["arn:aws:sns:us-east-1:123456789012:shop-prod-alarms"]


def test_changed_threshold_updates_only_that_alarm_and_diff_shows_it():
    run(params())
    changed = params(alarms=[cpu_alarm("client"), cpu_alarm("users", threshold=90), cpu_alarm("swagger")])

    result, api = run(changed)

    assert writes(api) == {"put_metric_alarm": 1}
    [action] = result.plan.actions
    assert action.changes == [{"path": "threshold", "before": 80.0, "after": 90.0}]
    assert result.plan.diff()["before"]["alarm/shop-prod-users-cpu-high"]["threshold"] == 80.0


def test_retention_and_tags_are_corrected_in_place():
    run(params())
    boto3.client("logs", region_name=REGION).put_retention_policy(logGroupName="/ecs/shop-prod/users", retentionInDays=7)

    result, api = run(params(tags={"Application": "shop", "Team": "core"}))

    assert writes(api)["put_retention_policy"] == 1
    assert writes(api)["tag_resource"] == 3 + 3 + 1  # log groups, alarms, the topic
    log_group = [a for a in result.plan.actions if a.name == "/ecs/shop-prod/users"][0]
    assert {"path": "retention_days", "before": 7, "after": 30} in log_group.changes


def test_unlisted_subscriptions_are_removed_and_new_ones_added():
    run(params())
    topic = dict(params()["alarm_topic"], subscriptions=[{"protocol": "https", "endpoint": "https://hooks.example.com/x"}])

    result, api = run(params(alarm_topic=topic))

    assert writes(api) == {"subscribe": 1, "unsubscribe": 1}
    subs = boto3.client("sns", region_name=REGION).list_subscriptions_by_topic(TopicArn=result.data["topic_arn"])
    assert [s["Endpoint"] for s in subs["Subscriptions"]] == ["https://hooks.example.com/x"]


def test_unlisted_metric_filters_of_a_listed_group_are_deleted():
    run(params())
    logs = boto3.client("logs", region_name=REGION)
    logs.put_metric_filter(logGroupName="/ecs/shop-prod/users", filterName="stray", filterPattern="x",
                           metricTransformations=[{"metricName": "m", "metricNamespace": "n", "metricValue": "1"}])

    result, api = run(params())

    assert writes(api) == {"delete_metric_filter": 1}
    assert [a.name for a in result.plan.actions] == ["/ecs/shop-prod/users:stray"]


def test_dashboard_body_change_is_put_and_unchanged_body_is_not():
    run(params())
    board = {"name": "overview", "body": json.dumps({"widgets": [{"type": "text", "x": 0, "y": 0, "width": 6,
                                                                  "height": 2, "properties": {"markdown": "hi"}}]})}

    result, api = run(params(dashboards=[board]))
    again, api2 = run(params(dashboards=[board]))

    assert writes(api) == {"put_dashboard": 1}
    assert not again.changed and writes(api2) == {}


def test_load_balancer_alarm_dimensions_resolve_from_names_and_arns():
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.%d.0/24" % i, AvailabilityZone=REGION + az)["Subnet"]["SubnetId"]
               for i, az in enumerate("ab", start=1)]
    elb = boto3.client("elbv2", region_name=REGION)
    lb = elb.create_load_balancer(Name="shop", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elb.create_target_group(Name="prod-users", Protocol="HTTP", Port=5000, VpcId=vpc)["TargetGroups"][0]["TargetGroupArn"]
    by_name = {"name": "users-unhealthy-hosts", "namespace": "AWS/ApplicationELB", "metric_name": "UnHealthyHostCount",
               "dimensions": {"LoadBalancer": "shop", "TargetGroup": "prod-users"}, "statistic": "Maximum",
               "comparison": "GreaterThanThreshold", "threshold": 0, "period": 60, "evaluation_periods": 3}
    by_arn = dict(by_name, name="users-target-5xx", dimensions={"LoadBalancer": lb, "TargetGroup": tg})

    run(params(alarms=[by_name, by_arn]))

    alarms = boto3.client("cloudwatch", region_name=REGION).describe_alarms(AlarmNamePrefix="shop-prod-users")
    dims = [{d["Name"]: d["Value"] for d in a["Dimensions"]} for a in alarms["MetricAlarms"]]
    expected = {"LoadBalancer": lb.split(":loadbalancer/")[1], "TargetGroup": "targetgroup/" + tg.split(":targetgroup/")[1]}
    assert dims == [expected, expected]
    again, api = run(params(alarms=[by_name, by_arn]))
    assert not again.changed and writes(api) == {}


def test_a_target_group_that_does_not_exist_is_refused_before_any_write():
    alarm = cpu_alarm("users", namespace="AWS/ApplicationELB", dimensions={"TargetGroup": "nope"})

    with pytest.raises(ValidationError) as err:
        run(params(alarms=[alarm]))

    assert "alarms[0].dimensions.TargetGroup" in err.value.msg and "'nope'" in err.value.msg
    assert boto3.client("logs", region_name=REGION).describe_log_groups()["logGroups"] == []


def test_pending_arns_are_planned_as_unknown_in_check_mode():
    alarm = cpu_alarm("users", namespace="AWS/ApplicationELB", dimensions={"TargetGroup": "(known after apply)",
                                                                           "LoadBalancer": ""})
    result, api = run(params(alarms=[alarm]), check_mode=True)

    after = result.plan.diff()["after"]["alarm/shop-prod-users-cpu-high"]
    assert after["dimensions"] == {"LoadBalancer": "(known after apply)", "TargetGroup": "(known after apply)"}
    assert writes(api) == {}


def test_alarms_that_notify_a_topic_that_does_not_exist_are_refused_outside_check_mode():
    with pytest.raises(ValidationError) as err:
        run(params(alarm_topic=None))
    assert err.value.option == "alarms"

    result, api = run(params(alarm_topic=None), check_mode=True)
    assert any("does not exist yet" in w for w in result.warnings)


def test_absent_deletes_dashboards_alarms_topic_and_log_groups():
    run(params())

    names_only = params(state="absent", alarms=[{"name": a["name"]} for a in params()["alarms"]],
                        dashboards=[{"name": "overview"}])

    result, api = run(names_only)

    assert writes(api) == {"delete_dashboards": 1, "delete_alarms": 1, "delete_topic": 1, "delete_log_group": 3}
    assert [a.kind for a in result.plan.actions] == ["dashboard", "alarm", "alarm", "alarm", "topic",
                                                     "log_group", "log_group", "log_group"]
    again, api2 = run(names_only)
    assert not again.changed and writes(api2) == {}


@pytest.mark.parametrize("overrides, path", [
    ({"log_groups": [{"name": "/ecs/x", "retention_days": 31}]}, "log_groups[0].retention_days"),
    ({"log_groups": [{"name": "/ecs/x", "kms_key_id": "alias/logs"}]}, "log_groups[0].kms_key_id"),
    ({"log_groups": [{"name": "/ecs/x"}, {"name": "/ecs/x"}]}, "log_groups[1].name"),
    ({"alarms": [cpu_alarm("users", period=45)]}, "alarms[0].period"),
    ({"alarms": [cpu_alarm("users", statistic=None)]}, "alarms[0].statistic"),
    ({"alarms": [cpu_alarm("users", evaluation_periods=2, datapoints_to_alarm=3)]}, "alarms[0].datapoints_to_alarm"),
    ({"alarms": [cpu_alarm("users", period=3000, evaluation_periods=60)]}, "alarms[0].evaluation_periods"),
    ({"alarm_topic": {"subscriptions": [{"protocol": "email", "endpoint": "not-an-address"}]}},
     "alarm_topic.subscriptions[0].endpoint"),
    ({"alarm_topic": {"subscriptions": [{"protocol": "https", "endpoint": "http://insecure.example.com"}]}},
     "alarm_topic.subscriptions[0].endpoint"),
    ({"dashboards": [{"name": "a b", "widgets": []}]}, "dashboards[0].name"),
    ({"dashboards": [{"name": "x", "body": "{not json"}]}, "dashboards[0].body"),
    ({"tags": {"aws:owner": "me"}}, "tags.aws:owner"),
])
def test_bad_options_are_refused_naming_the_option_before_any_call(overrides, path):
    with pytest.raises(ValidationError) as err:
        run(params(**overrides))

    assert err.value.option == path


def test_https_endpoints_are_shown_without_their_path():
    topic = {"subscriptions": [{"protocol": "https", "endpoint": "https://hooks.example.com/services/T0/SECRET"}]}

    result = run(params(alarm_topic=topic), check_mode=True)[0]

    text = json.dumps([result.plan.to_list(), result.plan.diff()])
    assert "SECRET" not in text and "https://hooks.example.com/***" in text


def test_a_tagging_api_that_lags_behind_makes_no_needless_tag_write(monkeypatch):
    run(params())
    from ansible_collections.shipyard.ecs.plugins.module_utils._cloudwatch.api import TaggingApi

    # Right after a run, the tagging API may not know the new tags yet.
    monkeypatch.setattr(TaggingApi, "get_resources", lambda self, arns: {})
    result, api = run(params())

    assert not result.changed
    assert writes(api) == {}
    assert reads(api)["logs.list_tags_for_resource"] == 3
    assert reads(api)["cloudwatch.list_tags_for_resource"] == 3
    assert reads(api)["sns.list_tags_for_resource"] == 1


def test_a_shared_account_whose_listing_does_not_reach_the_groups_reads_them_one_by_one():
    """Other applications' 120 filters fill the region's first pages: after two pages (half the four groups) the
    groups are read one call each, and what they hold is still compared (the no-op stays a no-op, drift is seen)."""
    logs = boto3.client("logs", region_name=REGION)
    for n in range(120):
        logs.create_log_group(logGroupName="/other/app%03d" % n)
        logs.put_metric_filter(logGroupName="/other/app%03d" % n, filterName="errors", filterPattern="ERROR",
                               metricTransformations=[{"metricName": "e%d" % n, "metricNamespace": "other", "metricValue": "1"}])
    services = ["svc%d" % n for n in range(4)]
    run(params(services))

    result, api = run(params(services))

    assert not result.changed and reads(api)["logs.describe_metric_filters"] == 2 + 4
    logs.put_metric_filter(logGroupName="/ecs/%s/svc2" % NAME, filterName="errors", filterPattern="ERROR",
                           metricTransformations=[{"metricName": "svc2-errors", "metricNamespace": "other", "metricValue": "1"}])
    drifted, _api = run(params(services), check_mode=True)
    assert [(a.kind, a.name, a.verb) for a in drifted.plan.actions] == [("metric_filter", "/ecs/%s/svc2:errors" % NAME, "update")]
