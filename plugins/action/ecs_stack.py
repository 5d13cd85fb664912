# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Run ecs_stack and print its progress while it waits.

ecs_stack waits for services it deletes to become INACTIVE, for their Cloud Map services to lose
their instances and for Cloud Map's asynchronous operations (namespace creation, update and
deletion).  The module appends a JSON line to a progress file each time what it waits for changes;
this action runs the module as usual and, meanwhile, prints those lines at default verbosity, and
repeats a still-waiting one every 12 s.  Under ``async``, with a JSON stdout callback, or when the
module runs on another host than the controller, it runs the module without progress.

The progress file, the printer and the thread that follows the module are shared code
(module_utils/_aws/progress.py); whether the output is read by a script is ecs_rolling_deploy's
action plugin's test, reused here.
"""

from __future__ import annotations

import os
import tempfile

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.shipyard.ecs.plugins.action.ecs_rolling_deploy import machine_readable_output
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.progress import ProgressPrinter, follow_progress

display = Display()


class ActionModule(ActionBase):

    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        wrap_async = self._task.async_val and not self._connection.has_native_async
        if (wrap_async or self._connection.transport != "local" or self._task.args.get("progress_file")
                or machine_readable_output()):
            result.update(self._execute_module(task_vars=task_vars, wrap_async=wrap_async))
            if not wrap_async:
                self._remove_tmp_path(self._connection._shell.tmpdir)
            return result
        handle, path = tempfile.mkstemp(prefix="shipyard-ecs-stack-", suffix=".jsonl")
        os.close(handle)
        try:
            outcome = follow_progress(
                lambda: self._execute_module(module_args=dict(self._task.args, progress_file=path), task_vars=task_vars),
                ProgressPrinter(path, display.display))
        finally:
            os.unlink(path)
        self._remove_tmp_path(self._connection._shell.tmpdir)
        result.update(outcome)
        return result
