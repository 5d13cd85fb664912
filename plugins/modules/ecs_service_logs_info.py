#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ecs_service_logs_info
short_description: Read the recent log lines of an ECS service from CloudWatch Logs
version_added: 0.1.0
description:
  - Returns the newest log lines of the containers of an ECS service, oldest first, with their timestamp and log stream.
  - Where the lines are is read from the service's task definitions, never guessed from names. For each revision the
    service's deployments run (two while a rollout is under way), every container that logs with the C(awslogs) driver
    is read from its C(awslogs-group) (in C(awslogs-region) when set), in the streams C(<awslogs-stream-prefix>/<container
    name>/) that ECS creates for each task.
  - Containers that log with another driver, or with C(awslogs) but without C(awslogs-stream-prefix) (their streams are
    named by Docker container ID and cannot be told apart from other writers of the group), are left out with a warning.
  - Events are read with C(FilterLogEvents), every page, looking back in widening windows (5 minutes, an hour, a day, a
    week, 30 days, then everything) until O(limit) lines were found or O(since) is reached.
  - Read-only; it makes no write call.
author:
  - shipyard.ecs contributors (@shipyard-ecs)
options:
  cluster:
    description:
      - Name or ARN of the service's cluster.
    type: str
    required: true
  service:
    description:
      - Name or ARN of the service.
    type: str
    required: true
  container:
    description:
      - Only the lines of this container. Default is every container of the service that logs to CloudWatch Logs.
    type: str
  since:
    description:
      - Only lines of the last O(since) minutes. Default is no bound.
    type: int
  limit:
    description:
      - How many lines to return at most (the newest ones), from 1 to 10000.
    type: int
    default: 50
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - Read-only; runs the same in check mode.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
notes:
  - The deploying identity needs C(logs:FilterLogEvents) on the log groups, C(ecs:DescribeServices) and
    C(ecs:DescribeTaskDefinition).
seealso:
  - module: shipyard.ecs.ecs_rolling_deploy
"""

EXAMPLES = r"""
- name: Read the last 100 lines of the users service
  shipyard.ecs.ecs_service_logs_info:
    cluster: flask-microservices-production
    service: users
    limit: 100
  register: users_logs

- name: Show them
  ansible.builtin.debug:
    msg: "{{ users_logs.lines | map(attribute='timestamp') | zip(users_logs.lines | map(attribute='message')) | map('join', ' ') }}"

- name: Read what the users container logged in the last 15 minutes
  shipyard.ecs.ecs_service_logs_info:
    cluster: flask-microservices-production
    service: users
    container: users
    since: 15
    limit: 1000
"""

RETURN = r"""
lines:
  description: The newest log lines, at most O(limit), oldest first.
  returned: always
  type: list
  elements: dict
  contains:
    timestamp:
      description: When the line was logged, in UTC (ISO 8601, milliseconds).
      type: str
      sample: "2024-05-01T12:00:00.123Z"
    timestamp_ms:
      description: The event's timestamp in milliseconds since the epoch.
      type: int
      sample: 1714564800123
    log_group:
      description: The log group of the line.
      type: str
      sample: /ecs/flask-microservices-production/users
    stream:
      description: The log stream of the line, C(<awslogs-stream-prefix>/<container>/<task id>).
      type: str
      sample: users/users/0f3c4a9b2d6e4f1a8b7c6d5e4f3a2b1c
    message:
      description: The line, without its trailing newline.
      type: str
      sample: "Booting worker with pid: 8"
sources:
  description: Where the lines were read from, one entry per container log destination.
  returned: always
  type: list
  elements: dict
  sample: [{"container": "users", "log_group": "/ecs/flask-microservices-production/users", "stream_prefix": "users/users/",
            "region": "eu-west-1"}]
task_definitions:
  description: The task definition revisions of the service's deployments whose log configuration was read.
  returned: always
  type: list
  elements: str
api_calls:
  description: Read and write API calls made, per AWS service (writes are always 0).
  returned: always
  type: dict
  sample: {"ecs": {"read": 2, "write": 0}, "logs": {"read": 1, "write": 0}}
"""

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.module import run_module
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.service_logs import ServiceLogsReader

ARGUMENT_SPEC = dict(
    cluster=dict(type="str", required=True),
    service=dict(type="str", required=True),
    container=dict(type="str"),
    since=dict(type="int"),
    limit=dict(type="int", default=50),
)


def main():
    """Read the lines; all logic lives in module_utils/_ecs/service_logs.py."""
    run_module(ARGUMENT_SPEC, lambda module: ServiceLogsReader.from_module(module).run_params(module.params))


if __name__ == "__main__":
    main()
