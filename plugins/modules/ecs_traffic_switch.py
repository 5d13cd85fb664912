#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ecs_traffic_switch
short_description: Move a held blue/green deployment's production traffic, or send it back
version_added: 0.1.0
description:
  - For a service whose deployment strategy is C(BLUE_GREEN), C(CANARY) or C(LINEAR), acts on its ECS service deployment
    in progress (newest first).
  - O(to=production) answers the C(PAUSE) lifecycle hook it waits at (for example after
    C(shipyard.ecs.ecs_rolling_deploy) with O(shipyard.ecs.ecs_rolling_deploy#module:services[].test_traffic.hold=true))
    with ContinueServiceDeployment C(CONTINUE), then follows the deployment to C(SUCCESSFUL) and judges it as a release
    does - the production listener rule forwards 100 % to the target group of the new revision's tasks, all healthy.
    Later C(PAUSE) hooks are continued and the timeline says so.
  - O(to=rollback) answers the waiting hook with C(ROLLBACK), or, when no hook waits but the deployment is still in
    progress (its bake time), calls StopServiceDeployment with C(ROLLBACK); then follows it to C(ROLLBACK_SUCCESSFUL).
  - With no deployment in progress (or, for O(to=production), none waiting at a hook) nothing is changed and RV(msg) says
    why.
author:
  - shipyard.ecs contributors (@shipyard-ecs)
options:
  cluster:
    description: Cluster of the service.
    type: str
    required: true
  service:
    description: Name of the service.
    type: str
    required: true
  to:
    description: Where production traffic goes.
    type: str
    choices: [production, rollback]
    required: true
  timeout:
    description: Seconds to wait for the deployment to end after the switch.
    type: int
    default: 900
  poll_interval:
    description: Seconds between looks at the service deployment (backing off up to 15).
    type: float
    default: 5.0
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - Reports the call it would make (and the hook it would answer); makes no write call.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
"""

EXAMPLES = r"""
- name: Move production traffic to the green deployment held in test
  shipyard.ecs.ecs_traffic_switch:
    cluster: talk
    service: talk
    to: production

- name: Send it back to blue
  shipyard.ecs.ecs_traffic_switch:
    cluster: talk
    service: talk
    to: rollback
"""

RETURN = r"""
msg:
  description: What was done, or why nothing was.
  returned: always
  type: str
  sample: "nothing to switch: no deployment of talk is in progress"
service_deployment:
  description: ARN of the service deployment acted on.
  returned: when a deployment is in progress
  type: str
stage:
  description: Lifecycle stage the deployment was at before the switch.
  returned: when a deployment is in progress
  type: str
  sample: POST_TEST_TRAFFIC_SHIFT
status:
  description: Status of the service deployment at the end (C(SUCCESSFUL), C(ROLLBACK_SUCCESSFUL)).
  returned: when the switch was made
  type: str
stages:
  description: Lifecycle stages seen after the switch, in order.
  returned: when the switch was made
  type: list
  elements: str
timeline:
  description: What happened when, in seconds from the start.
  returned: when the switch was made
  type: list
  elements: dict
plan:
  description: The switch planned (what check mode reports).
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.module import run_module
from ansible_collections.shipyard.ecs.plugins.module_utils._deploy.switch import TrafficSwitch

ARGUMENT_SPEC = dict(
    cluster=dict(type="str", required=True),
    service=dict(type="str", required=True),
    to=dict(type="str", required=True, choices=["production", "rollback"]),
    timeout=dict(type="int", default=900),
    poll_interval=dict(type="float", default=5.0),
)


def main():
    """Run one switch; the logic lives in module_utils/_deploy/switch.py."""
    run_module(ARGUMENT_SPEC, lambda module: TrafficSwitch.from_module(module).run(
        module.params["cluster"], module.params["service"], module.params["to"], module.check_mode))


if __name__ == "__main__":
    main()
