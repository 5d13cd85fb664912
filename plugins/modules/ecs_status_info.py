#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ecs_status_info
short_description: Read what runs in an ECS cluster, as a table a person scans and a document for scripts
version_added: 0.1.0
description:
  - Returns, per service of an ECS cluster, the revision and images of its running (PRIMARY) deployment, the age of that
    deployment, running and desired tasks, the rollout state, the failed tasks of the last O(failed_tasks_since)
    minutes, the health of the targets of each of its target groups, and its last events.
  - Returns the same as text (RV(text)) with headers and aligned columns, images shortened to
    C(repository:tag@sha256:<12 hex digits>); for an ECR image referenced by digest only, its tags are read from ECR.
  - A failed task is one the ECS circuit breaker counts as failed, stopped in the window (C(TaskFailedToStart),
    C(EssentialContainerExited), or stopped by the scheduler for failing its health checks). ECS keeps a stopped task
    listed for about an hour, so a longer window sees no more than that.
  - Reads are batched (C(DescribeServices) ten a call, C(DescribeTasks) a hundred a call, C(DescribeTargetGroups)
    twenty a call, C(DescribeImages) per repository, C(DescribeTargetHealth) once per target group, one paginated
    C(ListTasks) for the cluster's stopped tasks). Read-only; it makes no write call.
author:
  - shipyard.ecs contributors (@shipyard-ecs)
options:
  cluster:
    description:
      - Name or ARN of the cluster.
    type: str
    required: true
  services:
    description:
      - Names or ARNs of the services to show, in this order. Default is every service of the cluster.
      - Names that do not exist are listed in RV(status.missing_services), not an error.
    type: list
    elements: str
    default: []
  load_balancer:
    description:
      - Name of the application load balancer to show (state and DNS name). Default is none.
    type: str
  failed_tasks_since:
    description:
      - Count the failed tasks stopped in the last O(failed_tasks_since) minutes.
    type: int
    default: 60
  events:
    description:
      - How many of each service's newest events to return, from 0 to 100.
    type: int
    default: 3
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
  - The identity needs C(ecs:ListServices), C(ecs:DescribeServices), C(ecs:DescribeTaskDefinition), C(ecs:ListTasks),
    C(ecs:DescribeTasks), C(elasticloadbalancing:DescribeTargetGroups), C(elasticloadbalancing:DescribeTargetHealth),
    C(elasticloadbalancing:DescribeLoadBalancers) and C(ecr:DescribeImages).
seealso:
  - module: shipyard.ecs.ecs_service_logs_info
"""

EXAMPLES = r"""
- name: Read the status of the production services
  shipyard.ecs.ecs_status_info:
    cluster: flask-microservices-production
    services: [client, users, swagger]
    load_balancer: flask-microservices-production
  register: status

- name: Show it as a table
  ansible.builtin.debug:
    msg: "{{ status.text }}"

- name: Fail when a service had failed tasks in the last 15 minutes
  shipyard.ecs.ecs_status_info:
    cluster: flask-microservices-production
    failed_tasks_since: 15
  register: recent
  failed_when: recent.status.services | map(attribute='failed_tasks') | sum > 0
"""

RETURN = r"""
text:
  description:
    - The status as text; a header line with the cluster and region, the load balancer, a table of the services with
      the columns C(SERVICE REVISION IMAGE AGE RUNNING ROLLOUT FAILED 1H TARGETS), then C(RECENT EVENTS).
    - No line ends in blanks, so Ansible's YAML output (C(callback_result_format=yaml)) prints it as one block.
  returned: always
  type: str
  sample: |-
    cluster shop-production (eu-west-1)

    SERVICE  REVISION                  IMAGE                                 AGE    RUNNING  ROLLOUT    FAILED 1H  TARGETS
    users    shop-production-users:12  shop/users:1.4.2@sha256:897c7de99333  2h05m  2/2      COMPLETED  0          production-users 2/2 healthy
status:
  description: The same, as data.
  returned: always
  type: dict
  contains:
    cluster:
      description: The cluster asked for.
      type: str
    region:
      description: The region read.
      type: str
    generated_at:
      description: When the status was read (UTC, ISO 8601).
      type: str
    cluster_found:
      description: False when the cluster does not exist (nothing deployed); C(services) is then empty.
      type: bool
    load_balancer:
      description: C(name), C(state) and C(dns_name) of O(load_balancer), null when none was named.
      type: dict
    missing_services:
      description: Names of O(services) that the cluster does not have.
      type: list
      elements: str
    failed_tasks_since_minutes:
      description: The window of C(services[].failed_tasks), O(failed_tasks_since).
      type: int
    services:
      description: One entry per service.
      type: list
      elements: dict
      contains:
        name:
          description: The service's name.
          type: str
        status:
          description: ECS's status of the service (C(ACTIVE), C(DRAINING)).
          type: str
        task_definition:
          description: ARN of the task definition of the PRIMARY deployment.
          type: str
        revision:
          description: C(family:revision) of that task definition.
          type: str
        images:
          description: Per container, C(container), C(image) (as in the task definition), C(short)
            (C(repository:tag@sha256:<12 hex>)) and C(tags) (ECR's tags of an image referenced by digest only).
          type: list
          elements: dict
        running:
          description: Running tasks.
          type: int
        pending:
          description: Pending tasks.
          type: int
        desired:
          description: Desired tasks.
          type: int
        deployment:
          description: The PRIMARY deployment, C(id), C(status), C(rollout_state), C(rollout_state_reason),
            C(created_at) and C(age_seconds).
          type: dict
        deployment_count:
          description: How many deployments the service has (more than one while a rollout is under way).
          type: int
        failed_tasks:
          description: Failed tasks of the service stopped in the last O(failed_tasks_since) minutes.
          type: int
        target_groups:
          description: Per target group the service registers in, C(name), C(arn), C(healthy), C(total) and C(states)
            (how many targets are in each state).
          type: list
          elements: dict
        events:
          description: The newest O(events) events, newest first, with C(created_at), C(age_seconds) and C(message).
          type: list
          elements: dict
api_calls:
  description: Read and write API calls made, per AWS service (writes are always 0).
  returned: always
  type: dict
  sample: {"ecs": {"read": 4, "write": 0}, "elbv2": {"read": 2, "write": 0}, "ecr": {"read": 1, "write": 0}}
"""

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.module import run_module
from ansible_collections.shipyard.ecs.plugins.module_utils._status.collect import StatusReader

ARGUMENT_SPEC = dict(
    cluster=dict(type="str", required=True),
    services=dict(type="list", elements="str", default=[]),
    load_balancer=dict(type="str"),
    failed_tasks_since=dict(type="int", default=60),
    events=dict(type="int", default=3),
)


def main():
    """Read the status; all logic lives in module_utils/_status/."""
    run_module(ARGUMENT_SPEC, lambda module: StatusReader.from_module(module).run_params(module.params))


if __name__ == "__main__":
    main()
