# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""Read-only calls that tell whether a secret reference exists, never what it holds.

SSM ``DescribeParameters`` and Secrets Manager ``DescribeSecret`` return metadata only; no
value is ever read (``GetParameters`` / ``GetSecretValue`` are deliberately absent).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import AwsApi, chunks
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import AwsApiError

DESCRIBE_PARAMETERS_NAMES = 50


class SecretsApiError(AwsApiError):
    """Looking up a secret reference failed."""


class SsmApi(AwsApi):
    error = SecretsApiError
    service = "ssm"

    def existing_parameter_names(self, names: List[str]) -> List[str]:
        """Which of ``names`` exist (``DescribeParameters`` with a Name Equals filter)."""
        found: List[str] = []
        for batch in chunks(sorted(set(names)), DESCRIBE_PARAMETERS_NAMES):
            for param in self.paginate("describe_parameters", "Parameters",
                                       ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": batch}]):
                found.append(param["Name"])
        return found


class SecretsManagerApi(AwsApi):
    error = SecretsApiError
    service = "secretsmanager"

    def describe_secret(self, secret_id: str) -> Optional[Dict[str, Any]]:
        """The secret's metadata, or None when there is no such secret."""
        try:
            return self.call("describe_secret", SecretId=secret_id)
        except SecretsApiError as exc:
            if exc.code == "ResourceNotFoundException":
                return None
            raise


class StsApi(AwsApi):
    """Who the credentials are: asked once per run (the answer cannot change within it)."""

    error = SecretsApiError
    service = "sts"
    _identity: Optional[Dict[str, Any]] = None

    def caller_identity(self) -> Dict[str, Any]:
        if self._identity is None:
            self._identity = self.call("get_caller_identity")
        return self._identity

    def account_id(self) -> str:
        return self.caller_identity()["Account"]
