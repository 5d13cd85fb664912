#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudwatch_stack
short_description: CloudWatch log groups, metric filters, alarms, dashboards and the alarm SNS topic in one run
version_added: 0.1.0
description:
  - Owns the CloudWatch side of an environment for all its services at once - log groups (retention,
    KMS key, tags), their metric filters, metric alarms, dashboards, and the SNS topic the alarms notify
    with its subscriptions.
  - Reads are batched - C(DescribeAlarms) a hundred names per call, C(DescribeLogGroups) once per name
    prefix, tags of every log group, alarm and the topic in one C(tag:GetResources) call per hundred
    resources, C(GetDashboard) per named dashboard, C(ListSubscriptionsByTopic) once.
  - Metric filters are read from the region's listing (C(DescribeMetricFilters) without a log group, 50 a
    call) for at most half as many calls as there are log groups with filters (C(metricFilterCount) says
    when a group is complete); the groups it did not complete are read one call each. A group without filters
    is not read. Where C(logs:DescribeMetricFilters) is allowed only on the environment's log groups
    (AccessDenied on the listing), each group is read.
  - A write is made only where something differs; a second run with the same options makes no write call.
  - The topic's ARN is computed from the account (C(sts:GetCallerIdentity)) and the region, so alarms
    that notify it are planned in check mode before the topic exists.
  - Every option is validated before the first call; an error names the option's path and value.
  - Resources are only ever named by the options, never found by prefix; nothing that is not named is
    deleted, except subscriptions of the managed topic (O(alarm_topic.purge_subscriptions)) and metric
    filters of a log group whose O(log_groups[].metric_filters) is given.
author:
  - shipyard.ecs contributors (@shipyard-ecs)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
  idempotent:
    description: When run twice in a row outside check mode with the same arguments, the second invocation indicates no change.
    support: full
options:
  name:
    description:
      - Prefix of the names - alarms are named C(<name>-<alarms[].name>), dashboards
        C(<name>-<dashboards[].name>), the topic C(<name>-alarms) unless O(alarm_topic.name) says otherwise.
      - The default namespace of the metrics the metric filters publish.
      - Letters, digits, hyphens and underscores, at most 200 characters.
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates what the options name.
      - V(absent) deletes the named dashboards, alarms, the topic (when O(alarm_topic) is given, with its
        subscriptions) and the log groups (with their metric filters), in that order.
    type: str
    choices: [present, absent]
    default: present
  tags:
    description: Tags of the log groups, the alarms and the topic.
    type: dict
    default: {}
  purge_tags:
    description: Remove tags of those resources that O(tags) does not list.
    type: bool
    default: true
  log_groups:
    description: CloudWatch Logs log groups.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the log group, such as C(/ecs/<app>-<env>/<service>).
        type: str
        required: true
      retention_days:
        description:
          - Days CloudWatch Logs keeps events, one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545,
            731, 1096, 1827, 2192, 2557, 2922, 3288 and 3653. Left as it is when not given.
        type: int
      kms_key_id:
        description: ARN of the KMS key that encrypts the log group. Left as it is when not given.
        type: str
      metric_filters:
        description:
          - The log group's metric filters. When given, filters of the group it does not list are deleted;
            when not given, the group's filters are left alone.
        type: list
        elements: dict
        suboptions:
          name:
            description: Name of the filter.
            type: str
            required: true
          pattern:
            description: CloudWatch Logs filter pattern (an empty string matches every event).
            type: str
            required: true
          metric_name:
            description: Name of the metric the filter publishes.
            type: str
            required: true
          metric_namespace:
            description: Namespace of the metric; O(name) when not given.
            type: str
          metric_value:
            description: Value published per matching event (a number or a C($.field) selector).
            type: str
            default: "1"
          default_value:
            description: Value published for periods without a matching event; nothing is published when not given.
            type: float
  alarm_topic:
    description:
      - The SNS topic the alarms notify, owned by this run. Leave it out in a run whose alarms notify a topic
        another run owns (C(<name>-alarms) must then exist, except in check mode).
    type: dict
    suboptions:
      name:
        description: Name of the topic; C(<name>-alarms) when not given.
        type: str
      display_name:
        description: Display name of the topic (the sender's name of e-mail notifications).
        type: str
        default: ""
      subscriptions:
        description:
          - Who is notified. An e-mail subscription waits for its owner's confirmation; while it waits it
            counts as subscribed (it is not subscribed again), and it cannot be removed (SNS gives it no ARN
            until confirmed, and deletes it if it stays unconfirmed).
          - The path of an HTTPS endpoint is hidden in the plan and the diff (webhook URLs carry tokens).
        type: list
        elements: dict
        default: []
        suboptions:
          protocol:
            description: Protocol of the subscription.
            type: str
            choices: [email, email-json, https]
            required: true
          endpoint:
            description: E-mail address or HTTPS URL.
            type: str
            required: true
      purge_subscriptions:
        description: Remove confirmed subscriptions that O(alarm_topic.subscriptions) does not list.
        type: bool
        default: true
  alarms:
    description: CloudWatch metric alarms.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the alarm after O(name) and a hyphen.
        type: str
        required: true
      description:
        description: Description of the alarm.
        type: str
        default: ""
      namespace:
        description: Namespace of the metric, such as C(AWS/ECS) or C(AWS/ApplicationELB). Required with O(state=present).
        type: str
      metric_name:
        description: Name of the metric. Required with O(state=present).
        type: str
      dimensions:
        description:
          - Dimensions of the metric, name to value.
          - The values of C(LoadBalancer) and C(TargetGroup) may be given as the load balancer's or target
            group's ARN or name; the module turns them into the ARN suffixes CloudWatch uses
            (C(app/<name>/<id>), C(targetgroup/<name>/<id>)), reading names with ELBv2.
          - In check mode an empty value or C((known after apply)) (what M(shipyard.ecs.alb_routes) returns for
            what it has not created yet) is planned as not known yet; outside check mode it is refused.
        type: dict
        default: {}
      statistic:
        description: Statistic of the metric. Required with O(state=present).
        type: str
        choices: [SampleCount, Average, Sum, Minimum, Maximum]
      comparison:
        description: How the statistic is compared with O(alarms[].threshold). Required with O(state=present).
        type: str
        choices: [GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold, LessThanOrEqualToThreshold]
      threshold:
        description: Threshold of the alarm. Required with O(state=present).
        type: float
      period:
        description: Period of the statistic in seconds (10, 20, 30 or a multiple of 60).
        type: int
        default: 60
      evaluation_periods:
        description: Periods compared with the threshold.
        type: int
        default: 1
      datapoints_to_alarm:
        description: Breaching periods among O(alarms[].evaluation_periods) that set the alarm off; all of them when not given.
        type: int
      treat_missing_data:
        description: How periods without data count.
        type: str
        choices: [breaching, notBreaching, ignore, missing]
        default: missing
      notify:
        description: Send the alarm's ALARM and OK notifications to the topic.
        type: bool
        default: true
  dashboards:
    description: CloudWatch dashboards.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the dashboard after O(name) and a hyphen.
        type: str
        required: true
      widgets:
        description:
          - The dashboard's widgets (the C(widgets) of a dashboard body). Mutually exclusive with O(dashboards[].body).
          - One of them is required with O(state=present).
        type: list
        elements: dict
      body:
        description: The whole dashboard body, as a JSON string or a dict with C(widgets).
        type: raw
notes:
  - Permissions - C(logs:DescribeLogGroups), C(logs:DescribeMetricFilters), C(cloudwatch:DescribeAlarms),
    C(cloudwatch:GetDashboard), C(sns:GetTopicAttributes), C(sns:ListSubscriptionsByTopic),
    C(sts:GetCallerIdentity), C(tag:GetResources), C(ListTagsForResource) of CloudWatch, CloudWatch Logs and
    SNS (only where the eventually consistent C(tag:GetResources) differs from O(tags)),
    C(elasticloadbalancing:DescribeTargetGroups) and
    C(elasticloadbalancing:DescribeLoadBalancers) to read; the matching create, put, tag and delete
    actions to write (see the collection's C(policies/)).
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Log groups, error counts, the alarm topic, CPU alarms and a dashboard of two services
  shipyard.ecs.cloudwatch_stack:
    name: flask-microservices-production
    tags:
      Application: flask-microservices
    log_groups:
      - name: /ecs/flask-microservices-production/users
        retention_days: 90
        metric_filters:
          - name: errors
            pattern: "?ERROR ?Traceback"
            metric_name: users-errors
            default_value: 0
    alarm_topic:
      display_name: flask-microservices alarms
      subscriptions:
        - protocol: email
          endpoint: ops@example.com
    alarms:
      - name: users-cpu-high
        namespace: AWS/ECS
        metric_name: CPUUtilization
        dimensions:
          ClusterName: flask-microservices-production
          ServiceName: users
        statistic: Average
        comparison: GreaterThanThreshold
        threshold: 80
        period: 300
        evaluation_periods: 2
        treat_missing_data: notBreaching
    dashboards:
      - name: overview
        widgets:
          - type: metric
            x: 0
            y: 0
            width: 12
            height: 6
            properties:
              title: CPU
              region: eu-west-1
              metrics:
                - [AWS/ECS, CPUUtilization, ClusterName, flask-microservices-production, ServiceName, users]

- name: Alarm on unhealthy targets of a target group given by ARN, notifying the topic above
  shipyard.ecs.cloudwatch_stack:
    name: flask-microservices-production
    alarms:
      - name: users-unhealthy-hosts
        namespace: AWS/ApplicationELB
        metric_name: UnHealthyHostCount
        dimensions:
          LoadBalancer: "{{ alb.load_balancer.arn }}"
          TargetGroup: "{{ alb.target_groups['production-users'] }}"
        statistic: Maximum
        comparison: GreaterThanThreshold
        threshold: 0
        evaluation_periods: 3

- name: Delete all of it (teardown)
  shipyard.ecs.cloudwatch_stack:
    name: flask-microservices-production
    state: absent
    log_groups:
      - name: /ecs/flask-microservices-production/users
    alarm_topic: {}
    alarms:
      - name: users-cpu-high
    dashboards:
      - name: overview
"""

RETURN = r"""
topic_arn:
  description: ARN of the alarm topic (computed before it exists in check mode); null when no alarm notifies.
  returned: always
  type: str
  sample: arn:aws:sns:eu-west-1:123456789012:flask-microservices-production-alarms
log_groups:
  description: Names of the log groups.
  returned: always
  type: list
  elements: str
alarms:
  description: Full names of the alarms.
  returned: always
  type: list
  elements: str
dashboards:
  description: Full names of the dashboards.
  returned: always
  type: list
  elements: str
plan:
  description: The actions of the run (what check mode would do), each with C(action), C(kind), C(name), C(reason) and C(changes).
  returned: always
  type: list
  elements: dict
  sample: [{"action": "update", "kind": "alarm", "name": "flask-microservices-production-users-cpu-high",
            "reason": "alarm differs", "changes": [{"path": "threshold", "before": 80.0, "after": 90.0}]}]
check_mode_prediction:
  description: True when the result is a check-mode prediction.
  returned: always
  type: bool
api_calls:
  description: Read and write calls per AWS service made by this run.
  returned: always
  type: dict
  sample: {"cloudwatch": {"read": 2, "write": 0}, "logs": {"read": 4, "write": 0}}
"""

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.module import run_module
from ansible_collections.shipyard.ecs.plugins.module_utils._cloudwatch.runner import CloudWatchStack
from ansible_collections.shipyard.ecs.plugins.module_utils._cloudwatch.spec import ARGUMENT_SPEC


def main():
    """Run cloudwatch_stack."""
    run_module(ARGUMENT_SPEC, lambda module: CloudWatchStack.from_module(module).run())


if __name__ == "__main__":
    main()
