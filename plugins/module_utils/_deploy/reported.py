# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""ecs_rolling_deploy's run: the release and, with ``report_dir``, its report written by the same run.

The report is drawn from the result a playbook would register (the module's result, or on failure
``msg``, ``failed`` and the failure's details), exactly what M(shipyard.ecs.release_report) renders
from a registered result; writing it here saves the playbook a module run per release. A report that
cannot be written is a warning: the release itself happened, and its result says how it went.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.result import Result
from ansible_collections.shipyard.ecs.plugins.module_utils._report.writer import write_report

from .errors import DeployError
from .runner import ReleaseRunner


def write_release_report(directory: str, name: str, registered: Dict[str, Any], warnings: List[str]) -> Optional[Dict[str, Any]]:
    """The report's paths and status, or None (and a warning) when it could not be written."""
    try:
        return write_report(directory, name, registered)
    except OSError as exc:
        warnings.append("cannot write the release report to %s: %s" % (directory, exc))
        return None


def run_release(module: Any, make_runner: Callable[[Any], ReleaseRunner] = ReleaseRunner.from_module) -> Result:
    """Run the release of ``module``'s options; write its report to ``report_dir`` (not in check mode)."""
    runner = make_runner(module)
    directory = module.params.get("report_dir")
    if not directory or module.check_mode or module.params.get("one_off_task"):
        return runner.run()
    name = module.params.get("report_name") or module.params["cluster"]
    try:
        result = runner.run()
    except DeployError as exc:
        # A failure after the release began has a summary, and gets a report; options refused before it began do not.
        if "summary" in exc.details:
            warnings: List[str] = []
            written = write_release_report(directory, name, dict(exc.to_result(), msg=exc.msg, failed=True), warnings)
            if written:
                exc.details["report"] = written
            for warning in warnings:
                module.warn(warning)
        raise
    written = write_release_report(directory, name, result.to_module_result(), result.warnings)
    if written:
        result.data["report"] = written
    return result
