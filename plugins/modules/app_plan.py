#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: app_plan
short_description: Validate an application and an environment as a whole and plan the environment
version_added: 0.2.0
description:
  - Reads the application definition (the application file, C(format) V(1)) and one environment's C(env_*) variables
    through the collection's application model, the one place where they become the options of every module and
    role; the keys are documented in C(docs/application.md).
  - Refuses every problem at once before anything is written, each naming its option path and value, with the
    nearest known key for a typo (C(services.users.contianer_port=5000) is refused as an unknown key, naming
    C(container_port)); it refuses unknown keys, wrong types, out-of-range values, dangling references (listeners' default services, routes'
    listeners, overrides of services that do not exist), duplicates, names longer than AWS allows, Fargate CPU and
    memory pairs, quotas such as rules per listener.
  - With O(read_account=true) (the default) it then checks what only the account can tell - the account itself
    (O(account_id)), the network, that every secret reference exists, that every image exists in ECR or has an
    archive to push (and the archive can be read), the certificate and hosted zone of C(env_domain) - and plans the
    whole environment from live state with batched reads, per resource V(create), V(update) (with the fields that
    differ) or V(unchanged). The load balancer's part is M(shipyard.ecs.alb_routes)' own planner. In check mode on a
    new account every resource is listed as to be created.
  - With O(context) it makes no AWS call and returns the options of M(shipyard.ecs.alb_routes),
    M(shipyard.ecs.ecs_stack) and M(shipyard.ecs.ecs_rolling_deploy) for the ids the platform created and the images
    pushed.
  - Never writes anything; always V(changed=false).
author:
  - shipyard.ecs contributors (@shipyard-ecs)
options:
  application:
    description:
      - The application file's content (C(format), C(name), C(listeners), C(services), C(smoke_checks)). A file
        without C(format) and with the earlier top-level C(app_*) keys is read as that layout, with a warning.
    type: dict
    required: true
  environment:
    description:
      - The environment's variables whose names start with C(env_) (C(env_name), C(env_network), C(env_services),
        ...), as the inventory defines them. Unknown C(env_*) variables are refused.
    type: dict
    required: true
  account_id:
    description:
      - The AWS account the inventory is for. With O(read_account) a different account of the credentials is refused.
    type: str
  read_account:
    description:
      - Check the definition against the account and plan the environment. V(false) only validates the definition
        and returns the model (day-2 playbooks).
    type: bool
    default: true
  context:
    description:
      - What AWS assigned, for rendering the modules' options without reading the account.
    type: dict
    suboptions:
      account_id:
        description: Account id.
        type: str
      vpc_id:
        description: The environment's VPC.
        type: str
      subnet_ids:
        description: Subnets of the load balancer and the tasks.
        type: list
        elements: str
      private_subnet_ids:
        description: The environment's private subnets (tasks of services with C(subnets=private)).
        type: list
        elements: str
      alb_security_group_id:
        description: The load balancer's security group.
        type: str
      task_security_group_id:
        description: The tasks' security group.
        type: str
      execution_role_arn:
        description: The task execution role.
        type: str
      task_role_arn:
        description: The task role.
        type: str
      images:
        description:
          - Image per container, pinned by digest where known, by image key - the service's name for its main
            container, C(<service>.<container>) for its further containers.
        type: dict
      certificate_arn:
        description: The HTTPS listener's certificate.
        type: str
      load_balancer_arn:
        description: The load balancer, once it exists (its alarms and the dashboard).
        type: str
      target_group_arns:
        description: Target group ARNs by target group name, once they exist (as alb_routes returns them).
        type: dict
      load_balancer_dns_name:
        description:
          - The load balancer's DNS name, once it exists; environment values that refer to
            C(${load_balancer.dns_name}) or C(${load_balancer.url}) are rendered with it.
        type: str
      advanced_configuration:
        description:
          - M(shipyard.ecs.alb_routes)' RV(shipyard.ecs.alb_routes#module:advanced_configuration), once it ran
            (by primary target group, the alternate target group and the listener rules ECS moves traffic on),
            for the blue/green, canary and linear services' load balancer bindings.
        type: dict
      infrastructure_role_arn:
        description:
          - The ECS infrastructure role ECS assumes to move listener rules in blue/green, canary and linear
            deployments (the platform role creates it when a service uses one of them).
        type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
    description: Read-only in every mode; in check mode its plan is what the run would do.
  diff_mode:
    support: none
    description: The plan lists the fields that differ per resource.
  idempotent:
    support: full
    description: Never writes.
"""

EXAMPLES = r"""
- name: Read the application definition
  ansible.builtin.include_vars:
    file: inventories/app.yml
    name: app_definition

- name: Validate the application and plan the environment
  shipyard.ecs.app_plan:
    application: "{{ app_definition }}"
    environment: "{{ dict(query('ansible.builtin.varnames', '^env_') | zip(query('ansible.builtin.vars', *query('ansible.builtin.varnames', '^env_')))) }}"
    account_id: "{{ aws_account_id }}"
  register: app

- name: Show the plan
  ansible.builtin.debug:
    msg: "{{ app.plan_lines }}"
"""

RETURN = r"""
model:
  description: The model values roles and playbooks look up.
  returned: always
  type: dict
  contains:
    name:
      description: The environment's stack name, C(<application>-<env_name>) (load balancer, cluster, topic).
      type: str
      sample: flask-microservices-production
    names:
      description:
        - Every AWS name the environment uses (target groups of the web services, log groups, families, repositories,
          roles, the EC2 capacity provider).
      type: dict
    kinds:
      description: Each service's kind (V(web), V(backend), V(worker)).
      type: dict
    load_balancer:
      description: Whether the application has a load balancer (a service is a web service).
      type: bool
    service_discovery:
      description: The Cloud Map namespace (empty when no service uses discovery) and each service's name in it.
      type: dict
    platform:
      description: The application's platform (network, EC2 capacity, secrets its execution role reads).
      type: dict
    platform_stack:
      description: The options of M(shipyard.ecs.platform_stack) (network, security groups, IAM roles) the platform role gives it.
      type: dict
    platform_names:
      description:
        - Which of C(platform_stack)'s security groups and roles are the load balancer's, the tasks', the instances',
          the execution and task roles, the infrastructure role.
      type: dict
    cluster:
      description: M(shipyard.ecs.ecs_stack)'s C(cluster) option as the platform role gives it (Fargate capacity, Container Insights, tags).
      type: dict
    logging:
      description: The logging role's variables.
      type: dict
    ecr_push:
      description:
        - The options of M(shipyard.ecs.ecr_image_push) for every ECR repository of the containers without an image
          (C(repositories), with the archive each pushes), the image tag, the repositories' settings and tags.
      type: dict
    smoke_checks:
      description: HTTP checks (scheme, host, port, path, status).
      type: list
      elements: dict
plan:
  description: Per resource, what a deploy would do.
  returned: when read_account is true and context is not given
  type: list
  elements: dict
  sample:
    - {resource: task_definition, name: shop-prod-users, action: update,
       changes: ["containers.users.environment.APP_SETTINGS: old -> new"], running: "shop-prod-users:4"}
unchanged:
  description:
    - Per part of C(deploy.yml) (V(platform), V(logging), V(services)), whether the owners' planners, run in check
      mode on the options that part gives its modules, found nothing to do (C(deploy.yml) then skips the part's module
      runs). V(services) covers the image repositories, the load balancer, the DNS record, the services, the release
      (a deployment in progress or a revision not yet marked verified is work) and the load balancer's alarms;
      V(platform) the network, security groups and IAM roles (M(shipyard.ecs.platform_stack)'s planner) and the
      cluster's settings.
    - With EC2 capacity V(platform) is always V(false) - its launch template, Auto Scaling group and instance role are
      amazon.aws modules', whose comparisons app_plan does not repeat.
  returned: when read_account is true and context is not given
  type: dict
  sample: {platform: true, logging: true, services: true}
unchanged_owners:
  description:
    - Per owner of the V(services) part, whether its planner found nothing to do (the services role then skips its
      module run) - V(ecr_image_push) (repositories and images), V(alb_routes) (the load balancer), V(route53) (the
      domain's record), V(cloudwatch_load_balancer) (the load balancer's alarms and the dashboard), V(ecs_stack) (the
      services; task definitions are the release's). An owner the services role does not run here (no repository to
      make, no load balancer, no domain with a hosted zone) is not listed.
  returned: when read_account is true and context is not given
  type: dict
  sample: {ecr_image_push: false, alb_routes: true, route53: true, cloudwatch_load_balancer: true, ecs_stack: true}
work:
  description: Per part, what its planners found to do (one line each); empty where the part is unchanged.
  returned: when read_account is true and context is not given
  type: dict
plan_lines:
  description: The plan as text, one line per resource that changes and a count.
  returned: when read_account is true and context is not given
  type: list
  elements: str
context:
  description: What the account told (account, VPC, subnets, certificate, hosted zone, images pinned by digest).
  returned: when read_account is true and context is not given
  type: dict
options:
  description:
    - The options of alb_routes (load_balancer; has_load_balancer says whether there is one), ecs_stack (cluster,
      stack_services), ecs_rolling_deploy (release_services) and cloudwatch_stack's load balancer side
      (cloudwatch_load_balancer).
    - Without O(context), the same options rendered from what the plan read, when it knows them all (every id,
      image digest and target group exists and M(shipyard.ecs.alb_routes) has nothing to change); otherwise empty
      (the services role renders them once the owners before M(shipyard.ecs.ecs_stack) ran).
  returned: when context is given, or when read_account is true (then empty where the plan does not know them all)
  type: dict
api_calls:
  description: Read calls made, per service (never a write).
  returned: when read_account is true and context is not given
  type: dict
"""

from ansible_collections.shipyard.ecs.plugins.module_utils._app.runner import AppPlan
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.module import run_module

ARGUMENT_SPEC = dict(
    application=dict(type="dict", required=True),
    environment=dict(type="dict", required=True),
    account_id=dict(type="str"),
    read_account=dict(type="bool", default=True),
    context=dict(type="dict", options=dict(
        account_id=dict(type="str"),
        vpc_id=dict(type="str"),
        subnet_ids=dict(type="list", elements="str"),
        private_subnet_ids=dict(type="list", elements="str"),
        alb_security_group_id=dict(type="str"),
        task_security_group_id=dict(type="str"),
        execution_role_arn=dict(type="str"),
        task_role_arn=dict(type="str"),
        images=dict(type="dict"),
        certificate_arn=dict(type="str"),
        load_balancer_arn=dict(type="str"),
        target_group_arns=dict(type="dict"),
        load_balancer_dns_name=dict(type="str"),
        advanced_configuration=dict(type="dict"),
        infrastructure_role_arn=dict(type="str"),
    )),
)


def main():
    """Run app_plan."""
    run_module(ARGUMENT_SPEC, lambda module: AppPlan.from_module(module).run())


if __name__ == "__main__":
    main()
