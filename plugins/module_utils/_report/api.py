# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""The one AWS call of release notifications: SNS Publish."""

from __future__ import annotations

from typing import Any, Dict

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import AwsApi
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import AwsApiError


class SnsError(AwsApiError):
    """Anything that went wrong on the SNS side."""


class SnsApi(AwsApi):
    error = SnsError
    service = "sns"

    def publish(self, topic_arn: str, subject: str, message: str) -> Dict[str, Any]:
        """Publish one message to a topic; ``{'MessageId': ...}``."""
        return self.call("publish", TopicArn=topic_arn, Subject=subject, Message=message)
