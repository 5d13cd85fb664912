# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""The exception hierarchy shared by every area of the collection.

Each area (ECS, ELBv2, ECR, ...) raises its own subclass of ``ShipyardError``; only a module's
``main()`` turns one into ``fail_json``.  An error carries, besides its message, what an operator
needs in order to act: the AWS operation and error code when an API call failed, and the state
the run left things in (``state``) so that a failure is never silent about half-applied work.
"""

from __future__ import annotations

from typing import Any, Dict, Optional


class ShipyardError(Exception):
    """Base class of every error the collection raises on purpose."""

    def __init__(
        self,
        msg: str,
        *,
        operation: Optional[str] = None,
        code: Optional[str] = None,
        state: Optional[Any] = None,
        details: Optional[Dict[str, Any]] = None,
    ) -> None:
        super().__init__(msg)
        self.msg = msg
        self.operation = operation
        self.code = code
        self.state = state
        self.details = dict(details or {})

    def to_result(self) -> Dict[str, Any]:
        """Return the keys a module adds to ``fail_json`` besides ``msg``."""
        out: Dict[str, Any] = {}
        if self.operation:
            out["operation"] = self.operation
        if self.code:
            out["error_code"] = self.code
        if self.state is not None:
            out["state_left"] = self.state
        out.update(self.details)
        return out


class ValidationError(ShipyardError):
    """Input that cannot be applied; raised before the first write call."""

    def __init__(self, option: str, value: Any, reason: str, **kwargs: Any) -> None:
        msg = "%s=%r: %s" % (option, value, reason)
        super().__init__(msg, **kwargs)
        self.option = option
        self.value = value
        self.reason = reason


class AwsApiError(ShipyardError):
    """An AWS API call failed after retries."""


class WaitTimeout(ShipyardError):
    """A waiter ran out of time before its predicate held."""
