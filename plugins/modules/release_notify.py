#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: release_notify
short_description: Send a release's summary to an SNS topic and/or a Slack-compatible webhook
version_added: 0.1.0
description:
  - Sends the summary lines of a release (RV(shipyard.ecs.ecs_rolling_deploy#module:summary)), successful or failed, to
    an SNS topic (for example the environment's alarm topic C(<name>-alarms) that the logging role creates) and/or to an
    HTTPS webhook as Slack-compatible JSON, an object with a C(text) (the summary in a code block, so that the table
    stays aligned).
  - Sending is not a change to the environment, so the module never reports a change.
author:
  - Shipyard ECS contributors (@shipyard-ecs)
options:
  name:
    description: What was released, for the subject (for example the cluster's name).
    type: str
    required: true
  summary:
    description: The summary lines.
    type: list
    elements: str
    required: true
  failed:
    description: Whether the release failed (the subject says so).
    type: bool
    default: false
  report:
    description: Where the release report is, appended to the message; empty for none.
    type: str
    default: ""
  sns_topic_arn:
    description: SNS topic to publish to; empty for none.
    type: str
    default: ""
  webhook_url:
    description: HTTPS webhook to post to; empty for none. Webhook URLs carry their secret, so the option is not logged.
    type: str
    default: ""
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - Says where it would send and sends nothing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
"""

EXAMPLES = r"""
- name: Tell the team how the release went
  shipyard.ecs.release_notify:
    name: flask-microservices-production
    summary: "{{ release.summary }}"
    failed: "{{ release.release_failed }}"
    sns_topic_arn: arn:aws:sns:eu-west-1:123456789012:flask-microservices-production-alarms
    webhook_url: "{{ slack_webhook_url }}"
"""

RETURN = r"""
sent:
  description: The SNS message id (or V(would publish) in check mode) and the webhook's HTTP status (V(would post)); null where not sent.
  returned: always
  type: dict
  sample: {"sns": "9b3c1d2e-...", "webhook": 200}
"""

from ansible.module_utils.urls import open_url

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.module import run_module
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.result import Result
from ansible_collections.shipyard.ecs.plugins.module_utils._report.api import SnsApi
from ansible_collections.shipyard.ecs.plugins.module_utils._report.notify import Notifier

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    summary=dict(type="list", elements="str", required=True),
    failed=dict(type="bool", default=False),
    report=dict(type="str", default=""),
    sns_topic_arn=dict(type="str", default=""),
    webhook_url=dict(type="str", default="", no_log=True),
)


def notify(module):
    """Send as the options say; all logic lives in module_utils/_report."""
    params = module.params
    sns = SnsApi(module.client("sns")) if params["sns_topic_arn"] and not module.check_mode else None
    sent = Notifier(sns, open_url).send(params["name"], params["summary"], params["failed"], params["sns_topic_arn"],
                                        params["webhook_url"], params["report"], check_mode=module.check_mode)
    return Result(changed=False, data={"sent": sent})


def main():
    run_module(ARGUMENT_SPEC, notify)


if __name__ == "__main__":
    main()
