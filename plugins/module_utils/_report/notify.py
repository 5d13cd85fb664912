# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""Send a release's summary to the environment's SNS topic and/or a Slack-compatible webhook."""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, List, Optional

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ShipyardError

from .api import SnsApi

# SNS subjects are at most 100 printable ASCII characters.
MAX_SUBJECT = 100


def subject(name: str, failed: bool) -> str:
    """``Release of <name> succeeded`` / ``FAILED``, within SNS's subject limit."""
    text = "Release of %s %s" % (name, "FAILED" if failed else "succeeded")
    return "".join(c if 32 <= ord(c) < 127 else "?" for c in text)[:MAX_SUBJECT]


def message(name: str, summary: List[str], failed: bool, report: str = "") -> str:
    """The summary lines under a subject line (and the report's path when there is one)."""
    lines = [subject(name, failed)] + list(summary)
    if report:
        lines.append("report: %s" % report)
    return "\n".join(lines)


def webhook_payload(text: str) -> bytes:
    """Slack-compatible JSON: the text in a code block, so that the table stays aligned."""
    return json.dumps({"text": "```\n%s\n```" % text}).encode("utf-8")


class Notifier:
    """Sends one release's summary where the environment wants it."""

    def __init__(self, sns: Optional[SnsApi], post: Callable[..., Any]) -> None:
        self.sns = sns
        self.post = post

    def send(self, name: str, summary: List[str], failed: bool, sns_topic_arn: str = "", webhook_url: str = "",
             report: str = "", check_mode: bool = False) -> Dict[str, Any]:
        """Publish and/or post; return where it went (``would`` in check mode)."""
        text = message(name, summary, failed, report)
        sent: Dict[str, Any] = {"sns": None, "webhook": None}
        if check_mode:
            sent.update(sns="would publish" if sns_topic_arn else None, webhook="would post" if webhook_url else None)
            return sent
        if sns_topic_arn and self.sns is not None:
            sent["sns"] = self.sns.publish(sns_topic_arn, subject(name, failed), text).get("MessageId")
        if webhook_url:
            try:
                response = self.post(webhook_url, data=webhook_payload(text), method="POST", timeout=10,
                                     headers={"Content-Type": "application/json"})
            except Exception as exc:  # pylint: disable=broad-except  # open_url raises many kinds; the option names the URL
                raise ShipyardError("webhook_url: the webhook did not accept the release summary: %s" % exc) from exc
            sent["webhook"] = getattr(response, "status", None) or response.getcode()
        return sent
