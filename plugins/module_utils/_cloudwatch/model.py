# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""Desired and current CloudWatch state, normalised into the same plain documents.

The module's options are validated here, every one before the first call, each error naming the
option's path and value; then both the options and what AWS describes are turned into the same
documents, with AWS's defaults filled in (no description reads as an empty one, no
DatapointsToAlarm means as many as the evaluation periods, treat-missing-data ``missing``), so
that the planner sees only real differences.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError

UNKNOWN = "(known after apply)"
# What an upstream module reports for an ARN it has not created yet in check mode.
PENDING_VALUES = ("", UNKNOWN)

# PutRetentionPolicy's allowed values.
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                  3288, 3653)
STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
COMPARISONS = ("GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold",
               "LessThanOrEqualToThreshold")
TREAT_MISSING = ("breaching", "notBreaching", "ignore", "missing")
PROTOCOLS = ("email", "email-json", "https")
LOG_GROUP_NAME = re.compile(r"^[A-Za-z0-9_\-/.#]{1,512}$")
RESOURCE_NAME = re.compile(r"^[A-Za-z0-9_\-]+$")
ELB_ARN = re.compile(r"^arn:[a-z-]+:elasticloadbalancing:[a-z0-9-]+:\d{12}:(loadbalancer|targetgroup)/(.+)$")
ELB_DIMENSIONS = ("LoadBalancer", "TargetGroup")
MAX_ALARM_EVALUATION_SECONDS = 86400
MAX_LONG_PERIOD_EVALUATION_SECONDS = 7 * 86400


@dataclass
class Desired:
    """The module's options, validated and normalised."""

    name: str
    state: str
    tags: Dict[str, str]
    purge_tags: bool
    log_groups: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    # (log group, filter name) -> filter document, for the groups whose filters are listed.
    metric_filters: Dict[str, Dict[str, Dict[str, Any]]] = field(default_factory=dict)
    topic: Optional[Dict[str, Any]] = None
    topic_name: str = ""
    alarms: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    dashboards: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    # alarm name -> {dimension: (kind, name or ARN suffix, option path)} still to resolve with ELBv2.
    elb_references: Dict[str, Dict[str, Any]] = field(default_factory=dict)


# validation --------------------------------------------------------------------------------
def _tags(tags: Optional[Dict[str, Any]], path: str) -> Dict[str, str]:
    out = {}
    for key, value in (tags or {}).items():
        key, value = str(key), "" if value is None else str(value)
        if not key or len(key) > 128 or key.lower().startswith("aws:"):
            raise ValidationError("%s.%s" % (path, key), value, "tag keys are 1 to 128 characters and cannot start with aws:")
        if len(value) > 256:
            raise ValidationError("%s.%s" % (path, key), value, "tag values are at most 256 characters")
        out[key] = value
    if len(out) > 50:
        raise ValidationError(path, tags, "at most 50 tags per resource")
    return out


def _unique(items: List[Dict[str, Any]], key: str, path: str) -> None:
    seen = set()
    for i, item in enumerate(items):
        if item.get(key) in seen:
            raise ValidationError("%s[%d].%s" % (path, i, key), item.get(key), "listed twice")
        seen.add(item.get(key))


def _resource_name(value: Any, path: str, limit: int = 255) -> str:
    if not isinstance(value, str) or not RESOURCE_NAME.match(value) or len(value) > limit:
        raise ValidationError(path, value, "letters, digits, hyphens and underscores only, at most %d characters" % limit)
    return value


def build_desired(params: Dict[str, Any], check_mode: bool) -> Desired:
    """Validate every option and normalise it; raises ``ValidationError`` before any call."""
    name = params.get("name") or ""
    if not name or not RESOURCE_NAME.match(name) or len(name) > 200:
        raise ValidationError("name", name, "a prefix of letters, digits, hyphens and underscores, at most 200 characters")
    state = params.get("state") or "present"
    desired = Desired(name=name, state=state, tags=_tags(params.get("tags"), "tags"),
                      purge_tags=params.get("purge_tags", True) is not False)
    _log_groups(desired, params.get("log_groups") or [])
    _topic(desired, params.get("alarm_topic"))
    if state == "absent":
        # Deleting needs the names only.
        for key, items in (("alarms", desired.alarms), ("dashboards", desired.dashboards)):
            listed = params.get(key) or []
            _unique(listed, "name", key)
            for i, item in enumerate(listed):
                items[_resource_name("%s-%s" % (name, item.get("name")), "%s[%d].name" % (key, i))
                      if key == "dashboards" else "%s-%s" % (name, item.get("name"))] = {"notify": False}
        return desired
    _alarms(desired, params.get("alarms") or [], check_mode)
    _dashboards(desired, params.get("dashboards") or [])
    return desired


def _log_groups(desired: Desired, groups: List[Dict[str, Any]]) -> None:
    _unique(groups, "name", "log_groups")
    for i, group in enumerate(groups):
        path = "log_groups[%d]" % i
        gname = group.get("name")
        if not isinstance(gname, str) or not LOG_GROUP_NAME.match(gname):
            raise ValidationError(path + ".name", gname, "1 to 512 of letters, digits and _-/.#")
        days = group.get("retention_days")
        if days is not None and days not in RETENTION_DAYS:
            raise ValidationError(path + ".retention_days", days, "CloudWatch Logs accepts %s" % ", ".join(
                str(d) for d in RETENTION_DAYS))
        kms = group.get("kms_key_id")
        if kms is not None and kms != "" and not re.match(r"^arn:[a-z-]+:kms:[a-z0-9-]+:\d{12}:key/.+$", kms):
            raise ValidationError(path + ".kms_key_id", kms, "the ARN of a KMS key (arn:<partition>:kms:<region>:"
                                  "<account>:key/<id>): CloudWatch Logs takes no alias or bare id")
        desired.log_groups[gname] = {"name": gname, "retention_days": days, "kms_key_id": kms or None,
                                     "tags": dict(desired.tags)}
        filters = group.get("metric_filters")
        if filters is None or desired.state == "absent":
            continue
        _unique(filters, "name", path + ".metric_filters")
        docs = {}
        for j, flt in enumerate(filters):
            fpath = "%s.metric_filters[%d]" % (path, j)
            docs[flt.get("name")] = metric_filter_from_params(flt, desired.name, fpath)
        desired.metric_filters[gname] = docs


def metric_filter_from_params(flt: Dict[str, Any], default_namespace: str, path: str) -> Dict[str, Any]:
    fname = flt.get("name")
    if not isinstance(fname, str) or not fname or len(fname) > 512 or ":" in fname or "*" in fname:
        raise ValidationError(path + ".name", fname, "1 to 512 characters, no : or *")
    pattern = flt.get("pattern")
    if pattern is None or len(pattern) > 1024:
        raise ValidationError(path + ".pattern", pattern, "a filter pattern of at most 1024 characters ('' matches every event)")
    metric = flt.get("metric_name")
    if not metric or len(metric) > 255 or ":" in metric or "*" in metric or "$" in metric:
        raise ValidationError(path + ".metric_name", metric, "1 to 255 characters, no :, * or $")
    namespace = flt.get("metric_namespace") or default_namespace
    if len(namespace) > 255 or namespace.startswith("AWS/"):
        raise ValidationError(path + ".metric_namespace", namespace, "at most 255 characters, not an AWS/ namespace")
    value = str(flt.get("metric_value") if flt.get("metric_value") is not None else "1")
    doc = {"pattern": pattern, "metric_name": metric, "metric_namespace": namespace, "metric_value": value,
           "default_value": None if flt.get("default_value") is None else float(flt["default_value"])}
    return doc


def _topic(desired: Desired, topic: Optional[Dict[str, Any]]) -> None:
    tname = (topic or {}).get("name") or "%s-alarms" % desired.name
    desired.topic_name = _resource_name(tname, "alarm_topic.name", 256)
    if topic is None:
        return
    subs = topic.get("subscriptions") or []
    keys = set()
    for i, sub in enumerate(subs):
        path = "alarm_topic.subscriptions[%d]" % i
        protocol, endpoint = sub.get("protocol"), sub.get("endpoint") or ""
        if protocol not in PROTOCOLS:
            raise ValidationError(path + ".protocol", protocol, "one of %s" % ", ".join(PROTOCOLS))
        if protocol.startswith("email") and not re.match(r"^[^@\s]+@[^@\s]+$", endpoint):
            raise ValidationError(path + ".endpoint", endpoint, "an e-mail address")
        if protocol == "https" and not re.match(r"^https://[^\s/]+", endpoint):
            raise ValidationError(path + ".endpoint", endpoint, "an https:// URL")
        key = subscription_key(protocol, endpoint)
        if key in keys:
            raise ValidationError(path, sub, "listed twice")
        keys.add(key)
    display = topic.get("display_name") or ""
    if len(display) > 100:
        raise ValidationError("alarm_topic.display_name", display, "at most 100 characters")
    desired.topic = {"name": desired.topic_name, "display_name": display, "tags": dict(desired.tags),
                     "subscriptions": sorted(keys),
                     "purge_subscriptions": topic.get("purge_subscriptions", True) is not False}


def subscription_key(protocol: str, endpoint: str) -> str:
    """A subscription's identity; e-mail addresses compare without case (as mail delivery treats them)."""
    return "%s:%s" % (protocol, endpoint.lower() if protocol.startswith("email") else endpoint)


def _alarms(desired: Desired, alarms: List[Dict[str, Any]], check_mode: bool) -> None:
    _unique(alarms, "name", "alarms")
    for i, alarm in enumerate(alarms):
        path = "alarms[%d]" % i
        short = alarm.get("name")
        if not isinstance(short, str) or not short:
            raise ValidationError(path + ".name", short, "every alarm needs a name")
        full = "%s-%s" % (desired.name, short)
        if len(full) > 255 or any(c in full for c in ("\n", "\t")):
            raise ValidationError(path + ".name", short, "the alarm name %s is longer than 255 characters" % full)
        for key, allowed in (("statistic", STATISTICS), ("comparison", COMPARISONS)):
            if alarm.get(key) not in allowed:
                raise ValidationError("%s.%s" % (path, key), alarm.get(key), "one of %s" % ", ".join(allowed))
        treat = alarm.get("treat_missing_data") or "missing"
        if treat not in TREAT_MISSING:
            raise ValidationError(path + ".treat_missing_data", treat, "one of %s" % ", ".join(TREAT_MISSING))
        for key in ("namespace", "metric_name"):
            if not alarm.get(key) or len(alarm[key]) > 255:
                raise ValidationError("%s.%s" % (path, key), alarm.get(key), "1 to 255 characters")
        if alarm.get("threshold") is None:
            raise ValidationError(path + ".threshold", None, "required")
        period = alarm.get("period") or 60
        if not (period in (10, 20, 30) or (period > 0 and period % 60 == 0)):
            raise ValidationError(path + ".period", period, "10, 20, 30 or a positive multiple of 60 seconds")
        periods = alarm.get("evaluation_periods") or 1
        if periods < 1:
            raise ValidationError(path + ".evaluation_periods", periods, "at least 1")
        limit = MAX_LONG_PERIOD_EVALUATION_SECONDS if period >= 3600 else MAX_ALARM_EVALUATION_SECONDS
        if period * periods > limit:
            raise ValidationError(path + ".evaluation_periods", periods, "period x evaluation_periods (%d s) exceeds "
                                  "CloudWatch's %d s" % (period * periods, limit))
        datapoints = alarm.get("datapoints_to_alarm") or periods
        if not 1 <= datapoints <= periods:
            raise ValidationError(path + ".datapoints_to_alarm", datapoints, "between 1 and evaluation_periods (%d)" % periods)
        description = alarm.get("description") or ""
        if len(description) > 1024:
            raise ValidationError(path + ".description", description, "at most 1024 characters")
        dimensions, refs = _dimensions(alarm.get("dimensions") or {}, path + ".dimensions", check_mode)
        if refs:
            desired.elb_references[full] = refs
        notify = alarm.get("notify", True) is not False
        desired.alarms[full] = {
            "description": description,
            "namespace": alarm["namespace"],
            "metric_name": alarm["metric_name"],
            "dimensions": dimensions,
            "statistic": alarm["statistic"],
            "comparison": alarm["comparison"],
            "threshold": float(alarm["threshold"]),
            "period": period,
            "evaluation_periods": periods,
            "datapoints_to_alarm": datapoints,
            "treat_missing_data": treat,
            "notify": notify,
            "tags": dict(desired.tags),
        }


def _dimensions(dims: Dict[str, Any], path: str, check_mode: bool):
    """Dimensions as CloudWatch names them; load balancer and target group ARNs become their suffixes.

    Returns the dimensions and, for load balancer / target group values given by name (or not known
    yet in check mode), what is left to resolve.
    """
    if len(dims) > 30:
        raise ValidationError(path, dims, "at most 30 dimensions")
    out: Dict[str, str] = {}
    refs: Dict[str, Any] = {}
    for key, value in sorted(dims.items()):
        key, value = str(key), "" if value is None else str(value)
        where = "%s.%s" % (path, key)
        if not key or len(key) > 255 or len(value) > 1024:
            raise ValidationError(where, value, "dimension names are 1 to 255 characters, values at most 1024")
        if key in ELB_DIMENSIONS:
            match = ELB_ARN.match(value)
            if match:
                kind = "loadbalancer" if key == "LoadBalancer" else "targetgroup"
                if match.group(1) != kind:
                    raise ValidationError(where, value, "the ARN of a %s" % ("load balancer" if kind == "loadbalancer"
                                                                             else "target group"))
                value = match.group(2) if kind == "loadbalancer" else "targetgroup/" + match.group(2)
            elif value in PENDING_VALUES:
                if not check_mode:
                    raise ValidationError(where, value, "the %s does not exist yet (no ARN)" % key)
                value = UNKNOWN
            elif "/" not in value:
                refs[key] = {"name": value, "path": where}
                value = UNKNOWN
        elif not value:
            raise ValidationError(where, value, "dimension values cannot be empty")
        out[key] = value
    return out, refs


def _dashboards(desired: Desired, dashboards: List[Dict[str, Any]]) -> None:
    _unique(dashboards, "name", "dashboards")
    for i, board in enumerate(dashboards):
        path = "dashboards[%d]" % i
        short = board.get("name")
        full = _resource_name("%s-%s" % (desired.name, short) if short else "", path + ".name")
        body, widgets = board.get("body"), board.get("widgets")
        if (body is None) == (widgets is None):
            raise ValidationError(path, board, "give exactly one of body and widgets")
        if widgets is not None:
            body = {"widgets": widgets}
        elif isinstance(body, str):
            try:
                body = json.loads(body)
            except ValueError as exc:
                raise ValidationError(path + ".body", body, "not JSON: %s" % exc) from None
        if not isinstance(body, dict) or not isinstance(body.get("widgets"), list):
            raise ValidationError(path + ".body", body, "a JSON object with a list of widgets")
        for j, widget in enumerate(body["widgets"]):
            if not isinstance(widget, dict) or not widget.get("type"):
                raise ValidationError("%s.widgets[%d]" % (path, j), widget, "every widget needs a type")
        text = dashboard_body_text(body)
        if len(text) > 1024 * 1024:
            raise ValidationError(path + ".body", "%d bytes" % len(text), "a dashboard body is at most 1 MB")
        desired.dashboards[full] = {"body": body}


def dashboard_body_text(body: Dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


# desired documents with what AWS knows -------------------------------------------------------
def alarm_document(doc: Dict[str, Any], topic_arn: str) -> Dict[str, Any]:
    """A desired alarm as compared with AWS's: ``notify`` becomes the alarm and OK actions."""
    out = {k: v for k, v in doc.items() if k != "notify"}
    actions = [topic_arn] if doc["notify"] else []
    out.update(alarm_actions=actions, ok_actions=actions, insufficient_data_actions=[], actions_enabled=True)
    return out


# current documents ----------------------------------------------------------------------------
def alarm_from_aws(raw: Dict[str, Any], tags: Dict[str, str]) -> Dict[str, Any]:
    periods = raw.get("EvaluationPeriods")
    return {
        "arn": raw.get("AlarmArn"),
        "description": raw.get("AlarmDescription") or "",
        "namespace": raw.get("Namespace"),
        "metric_name": raw.get("MetricName"),
        "dimensions": {d["Name"]: d["Value"] for d in raw.get("Dimensions") or []},
        "statistic": raw.get("Statistic"),
        "comparison": raw.get("ComparisonOperator"),
        "threshold": None if raw.get("Threshold") is None else float(raw["Threshold"]),
        "period": raw.get("Period"),
        "evaluation_periods": periods,
        "datapoints_to_alarm": raw.get("DatapointsToAlarm") or periods,
        "treat_missing_data": raw.get("TreatMissingData") or "missing",
        "alarm_actions": sorted(raw.get("AlarmActions") or []),
        "ok_actions": sorted(raw.get("OKActions") or []),
        "insufficient_data_actions": sorted(raw.get("InsufficientDataActions") or []),
        "actions_enabled": raw.get("ActionsEnabled", True),
        "tags": tags,
    }


def metric_filter_from_aws(raw: Dict[str, Any]) -> Dict[str, Any]:
    transformation = (raw.get("metricTransformations") or [{}])[0]
    default = transformation.get("defaultValue")
    return {"pattern": raw.get("filterPattern") or "", "metric_name": transformation.get("metricName"),
            "metric_namespace": transformation.get("metricNamespace"),
            "metric_value": str(transformation.get("metricValue")),
            "default_value": None if default is None else float(default)}


def log_group_arn(raw: Dict[str, Any]) -> str:
    """The ARN tagging calls take: DescribeLogGroups' ``arn`` ends in ``:*``, ``logGroupArn`` does not."""
    return raw.get("logGroupArn") or re.sub(r":\*$", "", raw.get("arn") or "")
