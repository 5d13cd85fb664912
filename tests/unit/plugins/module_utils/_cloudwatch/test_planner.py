"""The planner alone: desired options and a described snapshot in, typed actions out (no AWS)."""

from __future__ import annotations

from ansible_collections.shipyard.ecs.plugins.module_utils._cloudwatch.model import build_desired
from ansible_collections.shipyard.ecs.plugins.module_utils._cloudwatch.planner import (
    PutAlarm,
    Subscribe,
    Unsubscribe,
    UpdateLogGroup,
    compute_plan,
)
from ansible_collections.shipyard.ecs.plugins.module_utils._cloudwatch.state import Snapshot

from .helpers import cpu_alarm

TOPIC = "arn:aws:sns:us-east-1:123456789012:shop-alarms"


def desired(**params):
    base = {"name": "shop", "state": "present", "tags": {}, "purge_tags": True}
    base.update(params)
    return build_desired(base, check_mode=False)


def existing_topic(subscriptions):
    return Snapshot(topic_arn=TOPIC, topic={"arn": TOPIC, "name": "shop-alarms", "display_name": "", "tags": {},
                                            "subscriptions": sorted(subscriptions)}, subscriptions=subscriptions)


def test_a_subscription_pending_confirmation_counts_as_subscribed():
    want = desired(alarm_topic={"subscriptions": [{"protocol": "email", "endpoint": "Ops@Example.com"}]})

    plan = compute_plan(want, existing_topic({"email:ops@example.com": "PendingConfirmation"}), False)

    assert plan.actions == [] and plan.warnings == []


def test_an_unlisted_pending_subscription_is_left_with_a_warning_and_a_confirmed_one_is_removed():
    want = desired(alarm_topic={"subscriptions": []})
    snap = existing_topic({"email:old@example.com": "PendingConfirmation",
                           "email:gone@example.com": TOPIC + ":1234"})

    plan = compute_plan(want, snap, False)

    assert [(type(a), a.subscription_arn) for a in plan.actions] == [(Unsubscribe, TOPIC + ":1234")]
    assert "pending confirmation" in plan.warnings[0]


def test_purge_subscriptions_false_only_adds():
    want = desired(alarm_topic={"purge_subscriptions": False,
                                "subscriptions": [{"protocol": "https", "endpoint": "https://hooks.example.com/T/x"}]})

    plan = compute_plan(want, existing_topic({"email:gone@example.com": TOPIC + ":1234"}), False)

    assert [type(a) for a in plan.actions] == [Subscribe]


def test_tags_not_listed_stay_without_purge_tags():
    want = desired(tags={"Team": "core"}, purge_tags=False, log_groups=[{"name": "/ecs/shop/users"}])
    snap = Snapshot(log_groups={"/ecs/shop/users": {"arn": "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/shop/users",
                                                    "name": "/ecs/shop/users", "retention_days": 7, "kms_key_id": None,
                                                    "tags": {"Owner": "someone"}}})

    [action] = compute_plan(want, snap, False).actions

    assert isinstance(action, UpdateLogGroup)
    assert action.tag_delta == ({"Team": "core"}, [])
    # Retention is not an option here: it is left as it is and not compared.
    assert action.retention_days is None and "retention_days" not in action.after


def test_an_alarm_whose_tags_alone_differ_is_retagged_without_put_metric_alarm():
    want = desired(tags={"Team": "core"}, alarms=[cpu_alarm("users")])
    doc = dict(want.alarms["shop-users-cpu-high"])
    doc.pop("notify")
    current = dict(doc, arn="arn:aws:cloudwatch:us-east-1:123456789012:alarm:shop-users-cpu-high", tags={},
                   alarm_actions=[TOPIC], ok_actions=[TOPIC], insufficient_data_actions=[], actions_enabled=True)
    snap = existing_topic({})
    snap.alarms["shop-users-cpu-high"] = current

    [action] = compute_plan(want, snap, False).actions

    assert isinstance(action, PutAlarm) and action.put is False
    assert action.tag_delta == ({"Team": "core"}, [])
