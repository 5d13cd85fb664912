# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Run ecs_rolling_deploy and print its progress while it waits.

The module owns every decision of the release (start, verify, fail, roll back); it appends a
JSON line per look at each service to a progress file.  This action runs the module as usual and,
meanwhile, prints those lines at default verbosity: a line per service at each change of state,
and at least every PROGRESS_EVERY seconds while the service is still waiting.

Under ``async`` with ``poll`` > 0 (AWX job templates, CI), the module is started as Ansible's own
async job (``async_wrapper``) and this action follows it like Ansible's poller does, with the
``async_status`` action, printing the progress file meanwhile; once the job has finished it
returns the job's start result, and Ansible's own poll collects the module's result from the
job file as for any async task.  With ``poll: 0`` (fire and forget) nobody waits, so nothing is
printed (the result's ``progress`` holds every sample).  The progress file lives where the module
runs: when that is another host than the controller (a connection other than ``local``), it runs
the module without progress lines.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time

from ansible import constants as C
from ansible.playbook.task import Task
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.shipyard.ecs.plugins.module_utils._deploy.progress import progress_line

display = Display()

# The promise is a line per service at least every 15 s; a repeat after 12 s keeps it
# with the module's polls (up to max_poll_interval apart) and the time a look takes.
PROGRESS_EVERY = 12.0
READ_EVERY = 0.5


def machine_readable_output():
    """Whether the stdout callback writes JSON (a script reads it: progress lines would break it)."""
    callback = str(C.config.get_config_value("DEFAULT_STDOUT_CALLBACK") or "")
    return callback.rsplit(".", 1)[-1] in ("json", "jsonl")


class ProgressPrinter:
    """Prints new samples of a progress file; repeats a waiting service's last state when it is quiet."""

    def __init__(self, path, say, clock=time.monotonic, every=PROGRESS_EVERY):
        self.path = path
        self.say = say
        self.clock = clock
        self.every = every
        self.offset = 0
        self.started = clock()
        self.last = {}

    def poll(self):
        """Print what the module appended since the last poll, then the reminders that are due."""
        try:
            with open(self.path, "r", encoding="utf-8") as handle:
                handle.seek(self.offset)
                chunk = handle.read()
        except OSError:
            chunk = ""
        complete = chunk[:chunk.rfind("\n") + 1]
        self.offset += len(complete.encode("utf-8"))
        now = self.clock()
        for raw in complete.splitlines():
            try:
                sample = json.loads(raw)
            except ValueError:
                continue
            self.say(progress_line(sample))
            key = (sample.get("service"), sample.get("purpose"))
            self.last[key] = (now, sample)
        for key, (at, sample) in list(self.last.items()):
            if sample.get("status") in ("done", "failed"):
                del self.last[key]
            elif now - at >= self.every:
                still = dict(sample, t=(sample.get("t") or 0) + (now - at))
                self.say(progress_line(still) + " (no change)")
                self.last[key] = (now, still)


class ActionModule(ActionBase):

    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        wrap_async = self._task.async_val and not self._connection.has_native_async
        quiet = self._connection.transport != "local" or self._task.args.get("progress_file") or machine_readable_output()
        if wrap_async and self._task.poll and not quiet:
            result.update(self._run_async_with_progress(task_vars))
            return result
        if wrap_async or quiet:
            result.update(self._execute_module(task_vars=task_vars, wrap_async=wrap_async))
            if not wrap_async:
                self._remove_tmp_path(self._connection._shell.tmpdir)
            return result
        handle, path = tempfile.mkstemp(prefix="shipyard-release-", suffix=".jsonl")
        os.close(handle)
        outcome = {}

        def execute():
            try:
                outcome["result"] = self._execute_module(module_args=dict(self._task.args, progress_file=path),
                                                         task_vars=task_vars)
            except Exception as exc:  # pylint: disable=broad-except  # re-raised in the main thread below
                outcome["error"] = exc

        worker = threading.Thread(target=execute, name="ecs_rolling_deploy")
        printer = ProgressPrinter(path, display.display)
        try:
            worker.start()
            while worker.is_alive():
                worker.join(READ_EVERY)
                printer.poll()
        finally:
            worker.join()
            os.unlink(path)
        self._remove_tmp_path(self._connection._shell.tmpdir)
        if "error" in outcome:
            raise outcome["error"]
        result.update(outcome["result"])
        return result

    # under async ---------------------------------------------------------------------------
    def _async_status(self, jid):
        """Ansible's own ``async_status`` action for job ``jid``, as the task executor's poller builds it."""
        task = Task.load(dict(action="async_status", args={"jid": jid}, check_mode=self._task.check_mode,
                              environment=self._task.environment))
        return self._shared_loader_obj.action_loader.get(
            "ansible.legacy.async_status", task=task, connection=self._connection, play_context=self._play_context,
            loader=self._loader, templar=self._templar, shared_loader_obj=self._shared_loader_obj)

    def _run_async_with_progress(self, task_vars, clock=time.monotonic, sleep=time.sleep):
        """Start the module as an async job, print its progress until the job finishes, return the job's start.

        The job file is left in place: Ansible's poller (``poll`` seconds later) reads the module's
        result from it and cleans it up, as for every async task.
        """
        handle, path = tempfile.mkstemp(prefix="shipyard-release-", suffix=".jsonl")
        os.close(handle)
        try:
            started = self._execute_module(module_args=dict(self._task.args, progress_file=path), task_vars=task_vars,
                                           wrap_async=True)
            jid = started.get("ansible_job_id")
            if not jid or started.get("failed"):
                return started
            status = self._async_status(jid)
            printer = ProgressPrinter(path, display.display, clock=clock)
            deadline = clock() + float(self._task.async_val)
            next_status = clock() + float(self._task.poll)
            while clock() < deadline:
                sleep(READ_EVERY)
                printer.poll()
                if clock() < next_status:
                    continue
                next_status = clock() + float(self._task.poll)
                try:
                    answer = status.run(task_vars=task_vars)
                except Exception as exc:  # pylint: disable=broad-except  # as Ansible's poller: a failed look is retried
                    display.vvvv("ecs_rolling_deploy: async_status failed, retrying: %s" % exc)
                    continue
                if answer.get("finished") or (answer.get("failed") and answer.get("_ansible_parsed")):
                    break
            printer.poll()
            status.cleanup()
            return started
        finally:
            os.unlink(path)
