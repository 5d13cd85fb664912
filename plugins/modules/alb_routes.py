#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: alb_routes
short_description: Application Load Balancer, listeners, target groups and listener rules
version_added: 0.1.0
description:
  - Owns an Application Load Balancer, its listeners, its target groups and its listener rules.
  - Rules are identified by their listener and their normalised conditions, never by priority.
    Without an explicit O(routes[].priority), priorities follow specificity (more conditions
    first, exact before wildcard, longer before shorter) and stay stable across runs.
  - Changes are applied in an order that never hits C(PriorityInUse) and never leaves a routed
    path without its rule, new and modified rules first, then one C(set_rule_priorities) per
    listener, then deletions.
  - Everything the module creates is tagged C(shipyard:application=<application>) and
    C(shipyard:managed-by=shipyard.ecs). O(purge) and O(state=absent) only remove what carries
    this application's tag, so several applications can share one load balancer.
  - Targets are never registered nor deregistered (ECS does that). Security groups are not
    created here; pass their ids.
  - "ECS-native blue/green, canary and linear deployments: O(target_groups[].alternate) creates a
    second target group with the same settings, and a route or a listener's default action with
    O(routes[].ecs_traffic) (or O(listeners[].default_action.ecs_traffic)) forwards to both the
    target group and its alternate. During a deployment ECS moves the weights of these forwards
    between the two (100/0, 90/10, ... 0/100, and after a blue/green deployment the previous
    alternate serves production). From their creation on, the module takes the weights AWS holds
    as the desired ones: a run before, during or after a deployment reports no change and makes
    no write call unless the set of target groups, the conditions, stickiness or tags differ,
    and when it does write such a rule it writes back the weights it found. C(--diff) never shows
    weights of these rules as a difference."
  - A rule that replaces an ECS-managed rule (its conditions changed) starts from the weights of
    the rule of the same role it replaces, never sending traffic back to a drained target group.
  - The result's RV(advanced_configuration) gives, per target group pair, the ARNs ECS's
    C(loadBalancers[].advancedConfiguration) takes; for a listener's default action, the listener
    rule is the listener's default rule.
author:
  - shipyard.ecs contributors (@shipyard-ecs)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
  idempotent:
    description: When run twice in a row outside check mode with the same arguments, the second invocation indicates no change.
    support: full
options:
  name:
    description:
      - Name of the load balancer (1 to 32 letters, digits and hyphens).
    type: str
    required: true
  application:
    description:
      - The application these resources belong to; the value of the C(shipyard:application) ownership tag.
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates; V(absent) deletes this application's rules, listeners and target
        groups, and the load balancer when it belongs to this application and carries nothing of other owners.
    type: str
    choices: [present, absent]
    default: present
  scheme:
    description:
      - Scheme of the load balancer. AWS cannot change it once created.
    type: str
    choices: [internet-facing, internal]
    default: internet-facing
  subnets:
    description:
      - Subnet ids, in at least two Availability Zones. Needed to create the load balancer.
    type: list
    elements: str
  security_groups:
    description:
      - Security group ids of the load balancer (not managed by this module).
    type: list
    elements: str
  ip_address_type:
    description:
      - IP address type of the load balancer.
    type: str
    choices: [ipv4, dualstack]
    default: ipv4
  attributes:
    description:
      - Load balancer attributes. Attributes not given are left as they are.
    type: dict
    suboptions:
      idle_timeout:
        description: Idle timeout in seconds (1 to 4000).
        type: int
      http2:
        description: Whether HTTP/2 is enabled.
        type: bool
      deletion_protection:
        description: Whether deletion protection is enabled.
        type: bool
      drop_invalid_header_fields:
        description: Whether HTTP headers with invalid names are dropped.
        type: bool
      access_logs:
        description: Access logs to S3.
        type: dict
        suboptions:
          enabled:
            description: Whether access logs are on.
            type: bool
            default: true
          bucket:
            description: S3 bucket name.
            type: str
          prefix:
            description: Prefix of the log objects in the bucket.
            type: str
  tags:
    description:
      - Tags of the load balancer, besides the ownership tags. Other tags are removed.
    type: dict
  listeners:
    description:
      - Listeners this application owns, identified by port.
    type: list
    elements: dict
    suboptions:
      port:
        description: Port of the listener.
        type: int
        required: true
      protocol:
        description: Protocol of the listener.
        type: str
        choices: [HTTP, HTTPS]
        default: HTTP
      certificates:
        description:
          - ACM certificate ARNs; the first is the default certificate. Needed for HTTPS.
        type: list
        elements: str
      ssl_policy:
        description: Security policy of an HTTPS listener; when not given, the one in place (or AWS's default) stays.
        type: str
      default_action:
        description:
          - What the listener does with requests no rule matches. Give one of O(listeners[].default_action.target_group),
            O(listeners[].default_action.forward), O(listeners[].default_action.redirect) or
            O(listeners[].default_action.fixed_response). Defaults to a fixed 404 response.
        type: dict
        suboptions:
          target_group:
            description: Forward to this target group.
            type: str
          forward:
            description: Forward to weighted target groups.
            type: dict
            suboptions:
              target_groups:
                description: Target groups (1 to 5) and their weights.
                type: list
                elements: dict
                required: true
                suboptions:
                  name:
                    description: Name of the target group.
                    type: str
                    required: true
                  weight:
                    description: Weight, 0 to 999.
                    type: int
                    default: 1
              stickiness:
                description: Target group stickiness.
                type: dict
                suboptions:
                  enabled:
                    description: Whether stickiness is on.
                    type: bool
                    default: false
                  duration:
                    description: Duration in seconds (1 to 604800); 3600 when not given.
                    type: int
          redirect:
            description: Redirect; fields not given keep the request's value.
            type: dict
            suboptions:
              protocol:
                description: C(HTTP), C(HTTPS) or C(#{protocol}).
                type: str
              port:
                description: Port or C(#{port}).
                type: str
              host:
                description: Host or C(#{host}).
                type: str
              path:
                description: Path (starting with C(/)) or C(/#{path}).
                type: str
              query:
                description: Query or C(#{query}).
                type: str
              status_code:
                description: Redirect status code.
                type: str
                choices: [HTTP_301, HTTP_302]
                default: HTTP_301
          fixed_response:
            description: A fixed response.
            type: dict
            suboptions:
              status_code:
                description: HTTP status code, 2XX, 4XX or 5XX.
                type: str
                required: true
              content_type:
                description: Content type.
                type: str
                choices: [text/plain, text/css, text/html, application/javascript, application/json]
                default: text/plain
              message_body:
                description: Body, up to 1024 characters.
                type: str
          ecs_traffic:
            description:
              - The weights of this forward are ECS's, which moves them during blue/green, canary and linear
                deployments; V(production) makes the listener's default rule the service's production listener
                rule, V(test) its test listener rule (for example on a second listener port, for test traffic).
              - With O(listeners[].default_action.target_group), forwards to that target group and its partner
                (O(target_groups[].alternate)), all the weight on the target group named when the listener is
                created; with O(listeners[].default_action.forward), to its two target groups, which must be a
                pair or have the same port, protocol, target type and health check.
              - Redirects and fixed responses cannot be ECS's.
            type: str
            choices: [production, test]
      tags:
        description: Tags of the listener, besides the ownership tags.
        type: dict
  target_groups:
    description:
      - Target groups this application owns, identified by name. Their targets are left to ECS.
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the target group (1 to 32 letters, digits and hyphens).
        type: str
        required: true
      alternate:
        description:
          - Also create the target group's alternate, for ECS-native blue/green, canary and linear
            deployments; it takes every setting of this one (port, protocol, target type, VPC, health
            check, attributes, tags) and the tag C(shipyard:alternate-of=<name>).
          - Named O(target_groups[].alternate_name), or the name with C(-alt) appended (the name cut so
            that the result has at most 32 characters).
          - Every route and default action that forwards to either target group of the pair needs
            O(routes[].ecs_traffic), since ECS drains one of them after each deployment.
        type: bool
        default: false
      alternate_name:
        description:
          - Name of the alternate target group; implies O(target_groups[].alternate).
        type: str
      port:
        description: Port the targets receive traffic on. AWS cannot change it in place.
        type: int
        required: true
      protocol:
        description: Protocol to the targets. AWS cannot change it in place.
        type: str
        choices: [HTTP, HTTPS]
        default: HTTP
      target_type:
        description: V(ip) for awsvpc tasks (Fargate), V(instance) for bridge or host networking. AWS cannot change it in place.
        type: str
        choices: [ip, instance]
        default: ip
      vpc_id:
        description: VPC of the target group; the load balancer's VPC when not given.
        type: str
      health_check:
        description: Health check; fields not given take AWS's defaults.
        type: dict
        suboptions:
          enabled:
            description: Whether health checks are on (default true).
            type: bool
          path:
            description: Path (default C(/)).
            type: str
          port:
            description: Port, or C(traffic-port) (the default).
            type: str
          protocol:
            description: Protocol (default the target group's protocol).
            type: str
            choices: [HTTP, HTTPS]
          interval:
            description: Seconds between checks, 5 to 300 (default 30).
            type: int
          timeout:
            description: Seconds before a check fails, 2 to 120, less than the interval (default 5).
            type: int
          healthy_threshold:
            description: Consecutive successes before a target is healthy, 2 to 10 (default 5).
            type: int
          unhealthy_threshold:
            description: Consecutive failures before a target is unhealthy, 2 to 10 (default 2).
            type: int
          matcher:
            description: Success codes, for example C(200), C(200,202) or C(200-299) (default C(200)).
            type: str
      deregistration_delay:
        description: Seconds to drain a deregistering target, 0 to 3600 (default 300).
        type: int
      slow_start:
        description: Slow start in seconds, 0 (off, the default) or 30 to 900.
        type: int
      stickiness:
        description: Stickiness of the target group (off by default).
        type: dict
        suboptions:
          enabled:
            description: Whether stickiness is on.
            type: bool
            default: false
          type:
            description: Kind of cookie.
            type: str
            choices: [lb_cookie, app_cookie]
            default: lb_cookie
          duration:
            description: Cookie duration in seconds (default 86400).
            type: int
          cookie_name:
            description: Name of the application cookie, for O(target_groups[].stickiness.type=app_cookie).
            type: str
      tags:
        description: Tags of the target group, besides the ownership tags.
        type: dict
  routes:
    description:
      - Listener rules. A route is identified by its listener and its conditions; give one action
        (O(routes[].target_group), O(routes[].forward), O(routes[].redirect) or O(routes[].fixed_response)).
      - Values within a condition are alternatives (any may match); conditions all have to match.
        AWS allows up to three values per condition and five in all per rule.
    type: list
    elements: dict
    suboptions:
      listener:
        description: Port of the listener, declared in O(listeners) or already on the load balancer.
        type: int
        required: true
      path_patterns:
        description: Path patterns, case-sensitive, with C(*) and C(?) wildcards.
        type: list
        elements: str
      host_headers:
        description: Host names, case-insensitive, with C(*) and C(?) wildcards.
        type: list
        elements: str
      http_headers:
        description: HTTP header conditions, one per header name.
        type: list
        elements: dict
        suboptions:
          name:
            description: Header name.
            type: str
            required: true
          values:
            description: Values (case-insensitive, wildcards allowed).
            type: list
            elements: str
            required: true
      methods:
        description: HTTP request methods, for example C(GET).
        type: list
        elements: str
      query_strings:
        description: Query string key/value pairs (one condition, any pair may match).
        type: list
        elements: dict
        suboptions:
          key:
            description: Key; any key when not given.
            type: str
          value:
            description: Value.
            type: str
            required: true
      source_ips:
        description: Client IP addresses or CIDR blocks.
        type: list
        elements: str
      target_group:
        description: Forward to this target group.
        type: str
      forward:
        description: Forward to weighted target groups.
        type: dict
        suboptions:
          target_groups:
            description: Target groups (1 to 5) and their weights.
            type: list
            elements: dict
            required: true
            suboptions:
              name:
                description: Name of the target group.
                type: str
                required: true
              weight:
                description: Weight, 0 to 999.
                type: int
                default: 1
          stickiness:
            description: Target group stickiness.
            type: dict
            suboptions:
              enabled:
                description: Whether stickiness is on.
                type: bool
                default: false
              duration:
                description: Duration in seconds (1 to 604800); 3600 when not given.
                type: int
      redirect:
        description: Redirect; fields not given keep the request's value.
        type: dict
        suboptions:
          protocol:
            description: C(HTTP), C(HTTPS) or C(#{protocol}).
            type: str
          port:
            description: Port or C(#{port}).
            type: str
          host:
            description: Host or C(#{host}).
            type: str
          path:
            description: Path (starting with C(/)) or C(/#{path}).
            type: str
          query:
            description: Query or C(#{query}).
            type: str
          status_code:
            description: Redirect status code.
            type: str
            choices: [HTTP_301, HTTP_302]
            default: HTTP_301
      fixed_response:
        description: A fixed response.
        type: dict
        suboptions:
          status_code:
            description: HTTP status code, 2XX, 4XX or 5XX.
            type: str
            required: true
          content_type:
            description: Content type.
            type: str
            choices: [text/plain, text/css, text/html, application/javascript, application/json]
            default: text/plain
          message_body:
            description: Body, up to 1024 characters.
            type: str
      ecs_traffic:
        description:
          - The weights of this rule's forward are ECS's, which moves them during blue/green, canary and linear
            deployments; V(production) makes the rule the service's production listener rule, V(test) its test
            listener rule (for example with an O(routes[].http_headers) condition, for test traffic). One of
            each per target group pair.
          - With O(routes[].target_group), forwards to that target group and its partner
            (O(target_groups[].alternate)), all the weight on the target group named when the rule is created
            (or the weights of the rule of the same role it replaces); with O(routes[].forward), to its two
            target groups, which must be a pair or have the same port, protocol, target type and health check.
          - Redirects and fixed responses cannot be ECS's.
        type: str
        choices: [production, test]
      priority:
        description:
          - Explicit priority (1 to 50000). Without it, the module picks one from the route's specificity
            and keeps it stable across runs.
        type: int
  purge:
    description:
      - Delete rules, listeners and target groups of this application that are no longer declared.
        Resources of other applications or not created by this module are never touched.
    type: bool
    default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Route the flask-microservices app (client, users, swagger) through one ALB
  shipyard.ecs.alb_routes:
    name: flask-microservices
    application: flask-microservices
    subnets: "{{ platform_public_subnet_ids }}"
    security_groups: ["{{ platform_alb_security_group_id }}"]
    attributes:
      idle_timeout: 60
      drop_invalid_header_fields: true
    listeners:
      - port: 80
        default_action:
          target_group: client
    target_groups:
      - name: client
        port: 9000
        health_check: {path: /}
      - name: users
        port: 5000
        health_check: {path: /ping, matcher: "200"}
        deregistration_delay: 30
      - name: swagger
        port: 8080
    routes:
      - listener: 80
        path_patterns: [/auth/*, /users, /users/*]
        target_group: users
      - listener: 80
        path_patterns: [/ping]
        target_group: users
      - listener: 80
        path_patterns: [/swagger, /swagger/*]
        target_group: swagger

- name: HTTPS with an HTTP to HTTPS redirect and a weighted canary
  shipyard.ecs.alb_routes:
    name: shop
    application: shop
    subnets: [subnet-0a1, subnet-0b2]
    security_groups: [sg-0123]
    listeners:
      - port: 80
        default_action:
          redirect: {protocol: HTTPS, port: "443"}
      - port: 443
        protocol: HTTPS
        certificates: [arn:aws:acm:eu-west-1:123456789012:certificate/abcd]
        default_action:
          fixed_response: {status_code: "404", message_body: not found}
    target_groups:
      - {name: api-blue, port: 8000}
      - {name: api-green, port: 8000}
    routes:
      - listener: 443
        host_headers: [api.example.com]
        forward:
          target_groups:
            - {name: api-blue, weight: 90}
            - {name: api-green, weight: 10}

# A shared ALB: the platform owns the load balancer and its listener; each application adds
# its own target groups and routes.  Purge and state=absent of one application never touch the
# other's rules.
- name: Platform - the shared load balancer and listener
  shipyard.ecs.alb_routes:
    name: shared
    application: platform
    subnets: [subnet-0a1, subnet-0b2]
    security_groups: [sg-0123]
    listeners:
      - port: 80
        default_action:
          fixed_response: {status_code: "404"}

- name: Team billing - routes on the shared listener
  shipyard.ecs.alb_routes:
    name: shared
    application: billing
    target_groups:
      - {name: billing, port: 8080, health_check: {path: /health}}
    routes:
      - listener: 80
        host_headers: [billing.example.com]
        target_group: billing

# ECS-native blue/green (or canary, linear): users gets an alternate target group (users-alt);
# ECS moves the weights of the production rule and of the test rule (requests with the header
# X-Shipyard-Test: 1) between users and users-alt. Pass advanced_configuration.users to the
# service's load balancer (ecs_stack).
- name: Route users through rules whose weights ECS moves
  shipyard.ecs.alb_routes:
    name: flask-microservices
    application: flask-microservices
    subnets: "{{ platform_public_subnet_ids }}"
    listeners:
      - port: 80
    target_groups:
      - name: users
        port: 5000
        health_check: {path: /ping}
        alternate: true
    routes:
      - listener: 80
        path_patterns: [/auth/*, /users/*, /ping]
        target_group: users
        ecs_traffic: production
      - listener: 80
        path_patterns: [/auth/*, /users/*, /ping]
        http_headers: [{name: X-Shipyard-Test, values: ["1"]}]
        target_group: users
        ecs_traffic: test
  register: routes

- name: Remove team billing's routes and target groups from the shared load balancer
  shipyard.ecs.alb_routes:
    name: shared
    application: billing
    state: absent
"""

RETURN = r"""
load_balancer:
  description: The load balancer; in check mode, values not known before creation read C((known after apply)).
  returned: state=present
  type: dict
  contains:
    arn:
      description: ARN.
      type: str
    name:
      description: Name.
      type: str
    dns_name:
      description: DNS name.
      type: str
    canonical_hosted_zone_id:
      description: Route 53 hosted zone id of the load balancer, for alias records.
      type: str
    vpc_id:
      description: VPC id.
      type: str
    scheme:
      description: Scheme.
      type: str
    ip_address_type:
      description: IP address type.
      type: str
    subnets:
      description: Subnet ids.
      type: list
      elements: str
    security_groups:
      description: Security group ids.
      type: list
      elements: str
  sample:
    arn: arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/flask/50dc6c495c0c9188
    dns_name: flask-1234567890.us-east-1.elb.amazonaws.com
    canonical_hosted_zone_id: Z35SXDOTRQ7X7K
listeners:
  description:
    - Listeners declared or routed to, with the ARN of their default rule (C(default_rule_arn)) and the
      C(ecs_traffic) of their default action (null when not ECS's).
  returned: always
  type: list
  elements: dict
  sample:
    - port: 80
      protocol: HTTP
      arn: "arn:aws:elasticloadbalancing:...:listener/app/flask/50dc/0467"
      default_rule_arn: "arn:aws:elasticloadbalancing:...:listener-rule/app/flask/50dc/0467/0001"
      ecs_traffic: null
      owner: flask
target_groups:
  description: Declared target groups and their alternates, name to ARN.
  returned: always
  type: dict
  sample: {users: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/users/73e2d6bc24d8a067"}
advanced_configuration:
  description:
    - Per target group pair, keyed by the primary target group's name, what ECS's
      C(loadBalancers[].advancedConfiguration) takes (C(alternateTargetGroupArn),
      C(productionListenerRule), C(testListenerRule)) besides the primary's ARN (C(targetGroupArn)).
      The pair never changes; which of the two serves production after a deployment is ECS's business.
    - A listener rule is null when no route or default action has that O(routes[].ecs_traffic).
  returned: always
  type: dict
  sample:
    users:
      target_group: users
      target_group_arn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/users/73e2d6bc24d8a067"
      alternate_target_group: users-alt
      alternate_target_group_arn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/users-alt/5e1a9c0e7f3a2b11"
      production_listener_rule: "arn:aws:elasticloadbalancing:...:listener-rule/app/flask/50dc/0467/9683"
      test_listener_rule: "arn:aws:elasticloadbalancing:...:listener-rule/app/flask/50dc/0467/9684"
rules:
  description: This application's rules after the run, by listener and priority.
  returned: always
  type: list
  elements: dict
  sample:
    - listener: 80
      priority: 10
      arn: "arn:aws:elasticloadbalancing:...:listener-rule/app/flask/50dc/0467/9683"
      name: 80 path=/ping
      conditions: {path_patterns: [/ping]}
      target_groups: [users]
      action: forward
      ecs_traffic: null
plan:
  description: The planned (check mode) or applied actions, each with a reason.
  returned: always
  type: list
  elements: dict
  sample: [{action: create, kind: rule, name: 80 path=/ping, reason: no rule with these conditions}]
check_mode_prediction:
  description: True when the values are a prediction (check mode).
  returned: state=present
  type: bool
api_calls:
  description: Read and write API calls made, per service.
  returned: always
  type: dict
  sample: {elbv2: {read: 7, write: 0}}
"""

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.module import run_module
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.runner import AlbRoutes
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.spec import ARGUMENT_SPEC


def main():
    """Run alb_routes."""
    run_module(ARGUMENT_SPEC, lambda module: AlbRoutes.from_module(module).run())


if __name__ == "__main__":
    main()
