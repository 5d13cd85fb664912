"""cloudwatch_stack against the local emulated AWS, run the way a user runs it (ansible-playbook)."""

from __future__ import annotations

import json

# Not "...-local": the emulator's credentials are the word "local", which Ansible masks in results.
NAME = "flask-microservices-it"
SERVICES = ["client", "users", "swagger"]


def seed_args(**overrides):
    """What the logging role asks for at three services, plus a dashboard."""
    args = {
        "name": NAME,
        "tags": {"Application": "flask-microservices", "Environment": "it"},
        "log_groups": [{"name": "/ecs/%s/%s" % (NAME, s), "retention_days": 14,
                        "metric_filters": [{"name": "errors", "pattern": "?ERROR ?Error ?Traceback",
                                            "metric_name": "%s-errors" % s, "default_value": 0}]}
                       for s in SERVICES],
        "alarm_topic": {"display_name": "%s alarms" % NAME,
                        "subscriptions": [{"protocol": "email", "endpoint": "ops@example.com"}]},
        "alarms": [{"name": "%s-cpu-high" % s, "description": "%s: average CPU above 80 %%" % s, "namespace": "AWS/ECS",
                    "metric_name": "CPUUtilization", "dimensions": {"ClusterName": NAME, "ServiceName": s},
                    "statistic": "Average", "comparison": "GreaterThanThreshold", "threshold": 80, "period": 300,
                    "evaluation_periods": 2, "treat_missing_data": "notBreaching"} for s in SERVICES],
        "dashboards": [{"name": "dashboard", "widgets": [
            {"type": "metric", "x": 0, "y": 0, "width": 12, "height": 6,
             "properties": {"title": "CPU", "region": "us-east-1", "stat": "Average", "period": 300,
                            "metrics": [["AWS/ECS", "CPUUtilization", "ClusterName", NAME, "ServiceName", s]
                                        for s in SERVICES]}}]}],
    }
    args.update(overrides)
    return args


def operations(calls):
    return sorted(c["operation"] for c in calls)


def test_first_run_creates_everything_and_second_run_makes_no_write_call(aws, run_module, boto3_client):
    first = run_module("cloudwatch_stack", seed_args())

    assert not first.get("failed"), first.get("msg")
    assert first["changed"]
    groups = boto3_client("logs").describe_log_groups(logGroupNamePrefix="/ecs/%s/" % NAME)["logGroups"]
    assert [g["retentionInDays"] for g in groups] == [14, 14, 14]
    alarm = boto3_client("cloudwatch").describe_alarms(AlarmNames=["%s-users-cpu-high" % NAME])["MetricAlarms"][0]
    assert alarm["AlarmActions"] == [first["topic_arn"]] == ["arn:aws:sns:us-east-1:123456789012:%s-alarms" % NAME]
    body = json.loads(boto3_client("cloudwatch").get_dashboard(DashboardName=NAME + "-dashboard")["DashboardBody"])
    assert len(body["widgets"][0]["properties"]["metrics"]) == 3

    aws.clear_calls()
    second = run_module("cloudwatch_stack", seed_args())

    assert not second.get("failed"), second.get("msg")
    assert second["changed"] is False
    assert second["plan"] == []
    assert aws.write_calls() == []
    assert operations(aws.calls()) == [
        "DescribeAlarms", "DescribeLogGroups", "DescribeMetricFilters", "GetCallerIdentity", "GetDashboard",
        "GetResources", "GetTopicAttributes", "ListSubscriptionsByTopic"]


def test_check_mode_on_an_empty_account_plans_everything_with_zero_writes(aws, run_module):
    res = run_module("cloudwatch_stack", seed_args(), check=True, diff=True)

    assert not res.get("failed"), res.get("msg")
    assert res["changed"] is True
    assert aws.write_calls() == []
    planned = sorted((a["action"], a["kind"]) for a in res["plan"])
    assert planned == sorted([("create", "topic"), ("create", "subscription"), ("create", "dashboard")]
                             + [("create", "log_group")] * 3 + [("create", "metric_filter")] * 3
                             + [("create", "alarm")] * 3)
    # Alarms name the topic that does not exist yet: its ARN comes from the account and region.
    after = res["diff"]["after"]["alarm/%s-users-cpu-high" % NAME]
    assert after["alarm_actions"] == ["arn:aws:sns:us-east-1:123456789012:%s-alarms" % NAME]


def test_diff_shows_before_and_after_of_what_changed(aws, run_module, boto3_client):
    run_module("cloudwatch_stack", seed_args())
    boto3_client("logs").put_retention_policy(logGroupName="/ecs/%s/users" % NAME, retentionInDays=3)
    aws.clear_calls()

    res = run_module("cloudwatch_stack", seed_args(), diff=True)

    assert res["changed"] is True
    assert res["diff"]["before"] == {"log_group//ecs/%s/users" % NAME: {
        "retention_days": 3, "tags": {"Application": "flask-microservices", "Environment": "it"}}}
    assert res["diff"]["after"]["log_group//ecs/%s/users" % NAME]["retention_days"] == 14
    assert operations(aws.write_calls()) == ["PutRetentionPolicy"]


def test_bad_input_is_refused_naming_the_option_with_zero_writes(aws, run_module):
    args = seed_args()
    args["log_groups"][1]["retention_days"] = 31

    res = run_module("cloudwatch_stack", args)

    assert res.get("failed")
    assert "log_groups[1].retention_days=31" in res["msg"]
    assert aws.write_calls() == []


def test_target_group_alarms_resolve_arns_and_absent_deletes_in_dependency_order(aws, run_module, boto3_client):
    ec2 = boto3_client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock="10.30.%d.0/24" % i, AvailabilityZone="us-east-1" + az)[
        "Subnet"]["SubnetId"] for i, az in enumerate("ab", start=1)]
    elb = boto3_client("elbv2")
    lb = elb.create_load_balancer(Name="cw-lb", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elb.create_target_group(Name="it-users", Protocol="HTTP", Port=5000, VpcId=vpc,
                                 TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    run_module("cloudwatch_stack", seed_args())
    unhealthy = {"name": "users-unhealthy-hosts", "namespace": "AWS/ApplicationELB", "metric_name": "UnHealthyHostCount",
                 "dimensions": {"LoadBalancer": lb, "TargetGroup": tg}, "statistic": "Maximum",
                 "comparison": "GreaterThanThreshold", "threshold": 0, "evaluation_periods": 3}

    res = run_module("cloudwatch_stack", {"name": NAME, "alarms": [unhealthy]})

    assert not res.get("failed"), res.get("msg")
    alarm = boto3_client("cloudwatch").describe_alarms(AlarmNames=["%s-users-unhealthy-hosts" % NAME])["MetricAlarms"][0]
    assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]} == {
        "LoadBalancer": lb.split(":loadbalancer/")[1], "TargetGroup": "targetgroup/" + tg.split(":targetgroup/")[1]}

    aws.clear_calls()
    gone = run_module("cloudwatch_stack", {
        "name": NAME, "state": "absent", "alarm_topic": {}, "dashboards": [{"name": "dashboard"}],
        "log_groups": [{"name": "/ecs/%s/%s" % (NAME, s)} for s in SERVICES],
        "alarms": [{"name": "%s-cpu-high" % s} for s in SERVICES] + [{"name": "users-unhealthy-hosts"}]})

    assert not gone.get("failed"), gone.get("msg")
    assert [c["operation"] for c in aws.write_calls()] == [
        "DeleteDashboards", "DeleteAlarms", "DeleteTopic", "DeleteLogGroup", "DeleteLogGroup", "DeleteLogGroup"]
    assert boto3_client("logs").describe_log_groups(logGroupNamePrefix="/ecs/%s/" % NAME)["logGroups"] == []
