# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""The thin glue between a module file and its runner.

A module's ``main()`` is::

    def main():
        run_module(ARGUMENT_SPEC, lambda module: MyRunner.from_module(module).run())

``run_module`` builds an ``AnsibleAWSModule`` (so every amazon.aws connection option works),
calls the runner, and turns the area's exception into ``fail_json``; nothing else in the
collection calls ``exit_json`` or ``fail_json``.
"""

from __future__ import annotations

from typing import Any, Callable, Dict

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from .errors import ShipyardError
from .result import Result

WAIT_OPTIONS: Dict[str, Dict[str, Any]] = {
    "wait": {"type": "bool", "default": True},
    "wait_timeout": {"type": "int", "default": 600},
    "poll_interval": {"type": "float", "default": 5.0},
}


def run_module(
    argument_spec: Dict[str, Any],
    run: Callable[[AnsibleAWSModule], Result],
    **module_kwargs: Any,
) -> None:
    """Build the module, run it, report.  Only place that exits."""
    module_kwargs.setdefault("supports_check_mode", True)
    module = AnsibleAWSModule(argument_spec=argument_spec, **module_kwargs)
    try:
        result = run(module)
    except ShipyardError as exc:
        module.fail_json(msg=exc.msg, **exc.to_result())
    for warning in result.warnings:
        module.warn(warning)
    module.exit_json(**result.to_module_result(diff_mode=module._diff))
