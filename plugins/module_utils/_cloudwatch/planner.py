# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""The plan: a pure function of the desired state and the current :class:`Snapshot`.

It returns typed actions in the order the applier runs them: the topic and its subscriptions
first (alarms name the topic), log groups, their metric filters, alarms, dashboards; with
``state=absent``, dashboards, alarms, the topic and the log groups (their metric filters go with
them).  Every action carries the normalised before/after documents that ``--diff`` shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.diff import differences, tag_delta
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.result import Action, Plan

from .model import UNKNOWN, Desired, alarm_document
from .state import Snapshot

TagDelta = Tuple[Dict[str, str], List[str]]


@dataclass
class CreateTopic(Action):
    display_name: str = ""
    tags: Dict[str, str] = field(default_factory=dict)


@dataclass
class UpdateTopic(Action):
    arn: str = ""
    display_name: Optional[str] = None
    tag_delta: TagDelta = ({}, [])


@dataclass
class Subscribe(Action):
    protocol: str = ""
    endpoint: str = ""


@dataclass
class Unsubscribe(Action):
    subscription_arn: str = ""


@dataclass
class DeleteTopic(Action):
    arn: str = ""


@dataclass
class CreateLogGroup(Action):
    retention_days: Optional[int] = None
    kms_key_id: Optional[str] = None
    tags: Dict[str, str] = field(default_factory=dict)


@dataclass
class UpdateLogGroup(Action):
    arn: str = ""
    retention_days: Optional[int] = None
    kms_key_id: Optional[str] = None
    tag_delta: TagDelta = ({}, [])


@dataclass
class DeleteLogGroup(Action):
    pass


@dataclass
class PutMetricFilter(Action):
    log_group: str = ""
    filter_name: str = ""
    document: Dict[str, Any] = field(default_factory=dict)


@dataclass
class DeleteMetricFilter(Action):
    log_group: str = ""
    filter_name: str = ""


@dataclass
class PutAlarm(Action):
    document: Dict[str, Any] = field(default_factory=dict)
    # Existing alarms: PutMetricAlarm ignores Tags, they change through TagResource / UntagResource.
    arn: str = ""
    tag_delta: TagDelta = ({}, [])
    put: bool = True


@dataclass
class DeleteAlarm(Action):
    pass


@dataclass
class PutDashboard(Action):
    body: Dict[str, Any] = field(default_factory=dict)


@dataclass
class DeleteDashboard(Action):
    pass


@dataclass
class CloudWatchPlan(Plan):
    warnings: List[str] = field(default_factory=list)


def shown(key: str) -> str:
    """A subscription as the plan shows it: the path of an HTTPS endpoint (a webhook's token) is hidden."""
    protocol, endpoint = key.split(":", 1)
    if protocol == "https":
        head, sep, _rest = endpoint.partition("://")
        host = _rest.split("/", 1)[0]
        return "%s:%s%s%s/***" % (protocol, head, sep, host)
    return key


def _tags_after(current: Dict[str, str], delta: TagDelta) -> Dict[str, str]:
    out = {k: v for k, v in current.items() if k not in delta[1]}
    out.update(delta[0])
    return out


def compute_plan(desired: Desired, snap: Snapshot, check_mode: bool) -> CloudWatchPlan:
    """Every action of this run, in the order it is applied."""
    plan = CloudWatchPlan()
    if desired.state == "absent":
        _plan_absent(desired, snap, plan)
        return plan
    _plan_topic(desired, snap, plan)
    _plan_log_groups(desired, snap, plan)
    _plan_metric_filters(desired, snap, plan)
    _plan_alarms(desired, snap, plan, check_mode)
    _plan_dashboards(desired, snap, plan)
    return plan


def _plan_topic(desired: Desired, snap: Snapshot, plan: CloudWatchPlan) -> None:
    want = desired.topic
    if want is None:
        return
    name = want["name"]
    after = {"name": name, "display_name": want["display_name"], "tags": want["tags"],
             "subscriptions": [shown(k) for k in want["subscriptions"]]}
    current = snap.topic
    if current is None:
        plan.add(CreateTopic("create", "topic", name, reason="topic does not exist", after=after,
                             display_name=want["display_name"], tags=want["tags"]))
        for key in want["subscriptions"]:
            protocol, endpoint = key.split(":", 1)
            plan.add(Subscribe("create", "subscription", shown(key), reason="not subscribed",
                               after={"subscription": shown(key)}, protocol=protocol, endpoint=endpoint))
        return
    delta = tag_delta(current["tags"], want["tags"], desired.purge_tags)
    display = want["display_name"] if current["display_name"] != want["display_name"] else None
    if display is not None or delta[0] or delta[1]:
        before = {"display_name": current["display_name"], "tags": current["tags"]}
        upd = {"display_name": want["display_name"], "tags": _tags_after(current["tags"], delta)}
        plan.add(UpdateTopic("update", "topic", name, reason="attributes or tags differ", before=before, after=upd,
                             changes=differences(before, upd), arn=current["arn"], display_name=display,
                             tag_delta=delta))
    for key in want["subscriptions"]:
        if key not in snap.subscriptions:
            protocol, endpoint = key.split(":", 1)
            plan.add(Subscribe("create", "subscription", shown(key), reason="not subscribed",
                               after={"subscription": shown(key)}, protocol=protocol, endpoint=endpoint))
    if not want["purge_subscriptions"]:
        return
    for key, arn in sorted(snap.subscriptions.items()):
        if key in want["subscriptions"]:
            continue
        if arn == "PendingConfirmation":
            # A subscription waiting for confirmation has no ARN to unsubscribe; SNS deletes it
            # when it is not confirmed in time.
            plan.warnings.append("subscription %s of topic %s is pending confirmation: it cannot be removed, SNS "
                                 "deletes it if it stays unconfirmed" % (shown(key), name))
            continue
        plan.add(Unsubscribe("delete", "subscription", shown(key), reason="not listed (purge_subscriptions)",
                             before={"subscription": shown(key)}, subscription_arn=arn))


def _managed(doc: Dict[str, Any], want: Dict[str, Any]) -> Dict[str, Any]:
    """The fields of a log group the options set (others are left as they are)."""
    out = {"tags": doc.get("tags") or {}}
    for key in ("retention_days", "kms_key_id"):
        if want.get(key) is not None:
            out[key] = doc.get(key)
    return out


def _plan_log_groups(desired: Desired, snap: Snapshot, plan: CloudWatchPlan) -> None:
    for name, want in sorted(desired.log_groups.items()):
        current = snap.log_groups.get(name)
        after = _managed(want, want)
        if current is None:
            plan.add(CreateLogGroup("create", "log_group", name, reason="log group does not exist", after=after,
                                    retention_days=want["retention_days"], kms_key_id=want["kms_key_id"],
                                    tags=want["tags"]))
            continue
        before = _managed(current, want)
        delta = tag_delta(current["tags"], want["tags"], desired.purge_tags)
        after["tags"] = _tags_after(current["tags"], delta)
        changes = differences(before, after)
        if not changes:
            continue
        plan.add(UpdateLogGroup(
            "update", "log_group", name, reason=", ".join(sorted({c["path"].split(".")[0] for c in changes})) + " differ",
            before=before, after=after, changes=changes, arn=current["arn"],
            retention_days=want["retention_days"] if before.get("retention_days") != after.get("retention_days") else None,
            kms_key_id=want["kms_key_id"] if before.get("kms_key_id") != after.get("kms_key_id") else None,
            tag_delta=delta))


def _plan_metric_filters(desired: Desired, snap: Snapshot, plan: CloudWatchPlan) -> None:
    for group, wanted in sorted(desired.metric_filters.items()):
        current = snap.metric_filters.get(group) or {}
        for fname, doc in sorted(wanted.items()):
            key = "%s:%s" % (group, fname)
            before = current.get(fname)
            if before == doc:
                continue
            plan.add(PutMetricFilter("create" if before is None else "update", "metric_filter", key,
                                     reason="metric filter does not exist" if before is None else "metric filter differs",
                                     before=before, after=doc, changes=differences(before, doc) if before else [],
                                     log_group=group, filter_name=fname, document=doc))
        for fname in sorted(set(current) - set(wanted)):
            plan.add(DeleteMetricFilter("delete", "metric_filter", "%s:%s" % (group, fname),
                                        reason="not listed in log_groups[].metric_filters", before=current[fname],
                                        log_group=group, filter_name=fname))


def _plan_alarms(desired: Desired, snap: Snapshot, plan: CloudWatchPlan, check_mode: bool) -> None:
    notifying = [n for n, a in desired.alarms.items() if a["notify"]]
    if notifying and desired.topic is None and snap.topic is None:
        if not check_mode:
            raise ValidationError("alarms", sorted(notifying), "notify the topic %s, which does not exist (give "
                                  "alarm_topic, or create the topic first)" % snap.topic_arn)
        plan.warnings.append("topic %s does not exist yet: alarms %s notify it" % (snap.topic_arn, ", ".join(
            sorted(notifying))))
    for name, want in sorted(desired.alarms.items()):
        doc = alarm_document(want, snap.topic_arn)
        for key, ref in desired.elb_references.get(name, {}).items():
            value = snap.resolved.get(name, {}).get(key)
            if value is None and not check_mode:
                raise ValidationError(ref["path"], ref["name"], "no such %s in this region" % (
                    "target group" if key == "TargetGroup" else "load balancer"))
            doc["dimensions"][key] = value or UNKNOWN
        current = snap.alarms.get(name)
        if current is None:
            plan.add(PutAlarm("create", "alarm", name, reason="alarm does not exist", after=doc, document=doc))
            continue
        before = {k: v for k, v in current.items() if k != "arn"}
        delta = tag_delta(current["tags"], want["tags"], desired.purge_tags)
        after = dict(doc, tags=_tags_after(current["tags"], delta))
        changes = differences(before, after)
        if not changes:
            continue
        settings_differ = any(c["path"] != "tags" and not c["path"].startswith("tags.") for c in changes)
        plan.add(PutAlarm("update", "alarm", name, reason="alarm differs", before=before, after=after, changes=changes,
                          document=doc, arn=current["arn"], tag_delta=delta, put=settings_differ))


def _plan_dashboards(desired: Desired, snap: Snapshot, plan: CloudWatchPlan) -> None:
    for name, want in sorted(desired.dashboards.items()):
        current = snap.dashboards.get(name)
        if current is not None and current["body"] == want["body"]:
            continue
        before = {"body": current["body"]} if current else None
        plan.add(PutDashboard("create" if current is None else "update", "dashboard", name,
                              reason="dashboard does not exist" if current is None else "dashboard body differs",
                              before=before, after=want, changes=differences(before, want) if before else [],
                              body=want["body"]))


def _plan_absent(desired: Desired, snap: Snapshot, plan: CloudWatchPlan) -> None:
    for name in sorted(snap.dashboards):
        plan.add(DeleteDashboard("delete", "dashboard", name, reason="state=absent", before=snap.dashboards[name]))
    for name in sorted(snap.alarms):
        before = {k: v for k, v in snap.alarms[name].items() if k != "arn"}
        plan.add(DeleteAlarm("delete", "alarm", name, reason="state=absent", before=before))
    if desired.topic is not None and snap.topic is not None:
        plan.add(DeleteTopic("delete", "topic", desired.topic_name, reason="state=absent (its subscriptions go with it)",
                             before={"name": desired.topic_name, "display_name": snap.topic["display_name"]},
                             arn=snap.topic["arn"]))
    for name in sorted(snap.log_groups):
        current = snap.log_groups[name]
        plan.add(DeleteLogGroup("delete", "log_group", name, reason="state=absent (its metric filters go with it)",
                                before={"retention_days": current["retention_days"], "kms_key_id": current["kms_key_id"]}))
