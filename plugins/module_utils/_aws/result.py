# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""The plan and result types every runner returns.

A runner first computes a :class:`Plan` (a list of :class:`Action`), which is what check mode
reports and ``--diff`` shows; then it executes the plan and returns a :class:`Result`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional


@dataclass
class Action:
    """One planned change: ``create``, ``update``, ``delete`` (or an area's own verb)."""

    verb: str
    kind: str
    name: str
    reason: str = ""
    before: Any = None
    after: Any = None
    changes: List[Dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"action": self.verb, "kind": self.kind, "name": self.name}
        if self.reason:
            out["reason"] = self.reason
        if self.changes:
            out["changes"] = self.changes
        return out


@dataclass
class Plan:
    actions: List[Action] = field(default_factory=list)

    def add(self, action: Action) -> Action:
        self.actions.append(action)
        return action

    @property
    def changed(self) -> bool:
        return bool(self.actions)

    def of_kind(self, kind: str) -> List[Action]:
        return [a for a in self.actions if a.kind == kind]

    def to_list(self) -> List[Dict[str, Any]]:
        return [a.to_dict() for a in self.actions]

    def diff(self) -> Dict[str, Any]:
        """Ansible's ``diff`` dict: ``before`` and ``after`` keyed by ``kind/name``."""
        before: Dict[str, Any] = {}
        after: Dict[str, Any] = {}
        for a in self.actions:
            key = "%s/%s" % (a.kind, a.name)
            if a.before is not None:
                before[key] = a.before
            if a.after is not None:
                after[key] = a.after
        return {"before": before, "after": after}


@dataclass
class Result:
    changed: bool = False
    plan: Optional[Plan] = None
    data: Dict[str, Any] = field(default_factory=dict)
    warnings: List[str] = field(default_factory=list)

    def to_module_result(self, diff_mode: bool = False) -> Dict[str, Any]:
        out: Dict[str, Any] = dict(self.data)
        out["changed"] = self.changed
        if self.plan is not None:
            out["plan"] = self.plan.to_list()
            if diff_mode:
                out["diff"] = self.plan.diff()
        return out
