# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""cloudwatch_stack's argument spec: the module validates its options with it, and the environment
plan fills in the same defaults when it runs cloudwatch_stack's planner on the options it renders."""

from __future__ import annotations

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    tags=dict(type="dict", default={}),
    purge_tags=dict(type="bool", default=True),
    log_groups=dict(type="list", elements="dict", default=[], options=dict(
        name=dict(type="str", required=True),
        retention_days=dict(type="int"),
        kms_key_id=dict(type="str"),
        metric_filters=dict(type="list", elements="dict", options=dict(
            name=dict(type="str", required=True),
            pattern=dict(type="str", required=True),
            metric_name=dict(type="str", required=True),
            metric_namespace=dict(type="str"),
            metric_value=dict(type="str", default="1"),
            default_value=dict(type="float"),
        )),
    )),
    alarm_topic=dict(type="dict", options=dict(
        name=dict(type="str"),
        display_name=dict(type="str", default=""),
        subscriptions=dict(type="list", elements="dict", default=[], options=dict(
            protocol=dict(type="str", required=True, choices=["email", "email-json", "https"]),
            endpoint=dict(type="str", required=True),
        )),
        purge_subscriptions=dict(type="bool", default=True),
    )),
    alarms=dict(type="list", elements="dict", default=[], options=dict(
        name=dict(type="str", required=True),
        description=dict(type="str", default=""),
        namespace=dict(type="str"),
        metric_name=dict(type="str"),
        dimensions=dict(type="dict", default={}),
        statistic=dict(type="str", choices=["SampleCount", "Average", "Sum", "Minimum", "Maximum"]),
        comparison=dict(type="str", choices=["GreaterThanOrEqualToThreshold", "GreaterThanThreshold",
                                             "LessThanThreshold", "LessThanOrEqualToThreshold"]),
        threshold=dict(type="float"),
        period=dict(type="int", default=60),
        evaluation_periods=dict(type="int", default=1),
        datapoints_to_alarm=dict(type="int"),
        treat_missing_data=dict(type="str", choices=["breaching", "notBreaching", "ignore", "missing"], default="missing"),
        notify=dict(type="bool", default=True),
    )),
    dashboards=dict(type="list", elements="dict", default=[], options=dict(
        name=dict(type="str", required=True),
        widgets=dict(type="list", elements="dict"),
        body=dict(type="raw"),
    ), mutually_exclusive=[["widgets", "body"]]),
)
