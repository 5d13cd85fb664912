#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: release_report
short_description: Write the report of a release as a self-contained HTML page and JSON
version_added: 0.1.0
description:
  - Renders the result of M(shipyard.ecs.ecs_rolling_deploy) (successful or failed) into one HTML page without
    scripts or external resources - the summary table (revision before and after, image, strategy, duration, tasks,
    targets, result per service), a timeline chart per service drawn as inline SVG (tasks running and targets healthy
    over time; deployments started, completed, failed and rolled back; ECS events) and the failure details - and writes
    the JSON it is drawn from beside it.
  - The files are named C(release-<name>-<UTC time>.html) and C(.json), so reports of successive runs do not overwrite
    each other; CI systems and AWX keep the directory as an artifact.
  - Writes on the host the task runs on (the controller, for this collection's playbooks).
author:
  - Shipyard ECS contributors (@shipyard-ecs)
options:
  path:
    description: Directory to write the report to; created when missing.
    type: path
    required: true
  name:
    description: What was released, for the title and the file names (for example the environment's name).
    type: str
    required: true
  release:
    description: The registered result of M(shipyard.ecs.ecs_rolling_deploy).
    type: dict
    required: true
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - Returns the paths it would write and writes nothing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
"""

EXAMPLES = r"""
- name: Release
  shipyard.ecs.ecs_rolling_deploy:
    cluster: flask-microservices
    services:
      - name: users
        images: {users: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/users:1.5.0"}
  register: release
  failed_when: false

- name: Write the release report
  shipyard.ecs.release_report:
    path: "{{ playbook_dir }}/../build/reports"
    name: flask-microservices
    release: "{{ release }}"
"""

RETURN = r"""
html_path:
  description: The HTML page (written, or to be written in check mode).
  returned: always
  type: str
  sample: build/reports/release-flask-microservices-20260101T120000Z.html
json_path:
  description: The JSON document beside it.
  returned: always
  type: str
  sample: build/reports/release-flask-microservices-20260101T120000Z.json
status:
  description: The release's outcome as the report shows it, V(succeeded), V(failed) or V(planned).
  returned: always
  type: str
  sample: succeeded
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.shipyard.ecs.plugins.module_utils._report.writer import write_report

ARGUMENT_SPEC = dict(
    path=dict(type="path", required=True),
    name=dict(type="str", required=True),
    release=dict(type="dict", required=True),
)


def main():
    """Render and write one report; all logic lives in module_utils/_report."""
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        written = write_report(module.params["path"], module.params["name"], module.params["release"],
                               write=not module.check_mode)
    except OSError as exc:
        module.fail_json(msg="cannot write the release report to %s: %s" % (module.params["path"], exc))
    module.exit_json(changed=not module.check_mode, **written)


if __name__ == "__main__":
    main()
