# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""ecs_rolling_deploy's argument spec: the module validates its options with it, and the environment
plan fills in the same defaults when it runs the release's planner on the options the application renders."""

from __future__ import annotations

from ansible_collections.shipyard.ecs.plugins.module_utils._deploy.definition import DEFINITION_OPTIONS

ARGUMENT_SPEC = dict(
    cluster=dict(type="str", required=True),
    services=dict(
        type="list",
        elements="dict",
        default=[],
        options=dict(
            name=dict(type="str", required=True),
            cluster=dict(type="str"),
            images=dict(type="raw"),
            environment=dict(type="dict"),
            secrets=dict(type="dict", no_log=False),
            container_definitions=dict(type="dict"),
            task_definition=dict(type="str"),
            definition=dict(type="dict", options=DEFINITION_OPTIONS),
            order=dict(type="int", default=0),
            test_traffic=dict(
                type="dict",
                options=dict(
                    url=dict(type="str"),
                    headers=dict(type="dict"),
                    checks=dict(type="list", elements="dict", options=dict(
                        path=dict(type="str", required=True),
                        status=dict(type="int", default=200),
                        contains=dict(type="str"),
                    )),
                    reachable=dict(type="bool", default=True),
                    pause_after_steps=dict(type="bool", default=False),
                    hold=dict(type="bool", default=False),
                ),
            ),
        ),
    ),
    migration=dict(
        type="dict",
        options=dict(
            service=dict(type="str", required=True),
            command=dict(type="list", elements="str", required=True),
            container=dict(type="str"),
            timeout=dict(type="int", default=600),
        ),
    ),
    one_off_task=dict(
        type="dict",
        options=dict(
            service=dict(type="str", required=True),
            command=dict(type="list", elements="str", required=True),
            container=dict(type="str"),
            timeout=dict(type="int", default=600),
        ),
    ),
    force_new_deployment=dict(type="bool", default=False),
    wait=dict(type="bool", default=True),
    timeout=dict(type="int", default=900),
    poll_interval=dict(type="float", default=5.0),
    max_poll_interval=dict(type="float", default=15.0),
    wait_for_drain=dict(type="bool", default=False),
    max_failed_tasks=dict(type="int", default=3),
    unhealthy_timeout=dict(type="int", default=120),
    rollback=dict(type="bool", default=True),
    rollback_scope=dict(type="str", choices=["release", "service"], default="release"),
    keep_revisions=dict(type="int"),
    log_lines=dict(type="int", default=20),
    progress_file=dict(type="path"),
    report_dir=dict(type="path"),
    report_name=dict(type="str"),
)
