# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: module_runs
type: aggregate
short_description: Count the module runs of a playbook run and time its tasks (benchmark only)
description:
  - Used by C(bench/bench_deploy_noop.py) only, which enables it through C(ANSIBLE_CALLBACK_PLUGINS) and
    C(ANSIBLE_CALLBACKS_ENABLED); it is not part of the collection.
  - A module run is a task, or an item of a looped task, that ran (was not skipped) and executed a module.
    Actions that run on the controller without a module (C(set_fact), C(assert), C(debug), includes, a role's argument validation...) are
    counted apart as controller actions, which cost little next to a module run.
  - Writes a JSON document to the file named by C(SHIPYARD_BENCH_COUNTS_FILE) at the end of the run
    (nothing when it is unset) with the counts, per-action and per-role module runs, each task's wall time
    and the C(timeline) of every result that returns one (M(shipyard.ecs.ecs_rolling_deploy)).
"""

import json
import os
import time
from typing import Any, Dict, List, Optional

from ansible.plugins.callback import CallbackBase

# Actions that Ansible runs in the controller's action plugin without executing a module.
CONTROLLER_ACTIONS = frozenset(
    name
    for short in ("set_fact", "assert", "debug", "fail", "include_vars", "include_tasks", "include_role",
                  "import_tasks", "import_role", "meta", "add_host", "group_by", "set_stats", "pause", "noop",
                  "validate_argument_spec")
    for name in (short, "ansible.builtin." + short, "ansible.legacy." + short)
)


class CallbackModule(CallbackBase):
    """Counts module runs per playbook run; see DOCUMENTATION."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "module_runs"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self.started = time.monotonic()
        self.module_runs = 0
        self.controller_actions = 0
        self.skipped = 0
        self.by_action: Dict[str, int] = {}
        self.by_role: Dict[str, int] = {}
        self.tasks: List[Dict[str, Any]] = []
        self.timelines: List[Dict[str, Any]] = []
        self._current: Optional[Dict[str, Any]] = None

    # timing -----------------------------------------------------------------------------------
    def _close_task(self) -> None:
        if self._current is not None:
            self._current["seconds"] = round(time.monotonic() - self._current.pop("_start"), 3)
            self.tasks.append(self._current)
            self._current = None

    def v2_playbook_on_task_start(self, task: Any, is_conditional: bool) -> None:
        self._close_task()
        self._current = {"name": task.get_name(), "action": task.action, "_start": time.monotonic()}

    def v2_playbook_on_handler_task_start(self, task: Any) -> None:
        self.v2_playbook_on_task_start(task, False)

    # counting ---------------------------------------------------------------------------------
    def _ran(self, result: Any) -> None:
        task = result._task  # pylint: disable=protected-access
        action = task.action
        if action in CONTROLLER_ACTIONS:
            self.controller_actions += 1
            return
        self.module_runs += 1
        self.by_action[action] = self.by_action.get(action, 0) + 1
        role = task._role.get_name() if task._role else "(playbook)"  # pylint: disable=protected-access
        self.by_role[role] = self.by_role.get(role, 0) + 1
        timeline = result._result.get("timeline")  # pylint: disable=protected-access
        if isinstance(timeline, list):
            self.timelines.append({"task": task.get_name(), "action": action, "timeline": timeline})

    @staticmethod
    def _looped(result: Any) -> bool:
        # A looped task reports each item, then once for the whole loop: only the items count.
        return "results" in result._result and result._task.loop is not None  # pylint: disable=protected-access

    def v2_runner_on_ok(self, result: Any) -> None:
        if not self._looped(result):
            self._ran(result)

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        if not self._looped(result):
            self._ran(result)

    def v2_runner_on_skipped(self, result: Any) -> None:
        if not self._looped(result):
            self.skipped += 1

    def v2_runner_item_on_ok(self, result: Any) -> None:
        self._ran(result)

    def v2_runner_item_on_failed(self, result: Any) -> None:
        self._ran(result)

    def v2_runner_item_on_skipped(self, result: Any) -> None:
        self.skipped += 1

    def v2_playbook_on_stats(self, stats: Any) -> None:
        self._close_task()
        path = os.environ.get("SHIPYARD_BENCH_COUNTS_FILE")
        if not path:
            return
        doc = {
            "module_runs": self.module_runs,
            "controller_actions": self.controller_actions,
            "skipped": self.skipped,
            "by_action": self.by_action,
            "by_role": self.by_role,
            "tasks": self.tasks,
            "timelines": self.timelines,
            "seconds": round(time.monotonic() - self.started, 3),
        }
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(doc, handle, indent=1, sort_keys=True)
