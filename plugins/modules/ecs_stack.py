#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ecs_stack
short_description: Shape an ECS cluster, its services and their autoscaling in one call
version_added: 0.1.0
description:
  - Creates and updates an ECS cluster (settings, capacity providers, default capacity provider strategy,
    Service Connect defaults, tags), Auto Scaling group capacity providers, any number of services, their
    Application Auto Scaling targets and target-tracking policies.
  - The CloudWatch Logs groups the containers write to are not this module's; create them first with
    M(shipyard.ecs.cloudwatch_stack) (the awslogs driver needs them before a task starts).
  - Everything is read first, batched (one describe of the cluster, services ten per call, task definitions only
    for the revisions in use), then compared with the options after normalisation, so a second run with the same
    options changes nothing and makes no write call.
  - A new service is created with its first task definition revision, registered from O(services[].task_definition)
    unless an identical ACTIVE revision of the family exists.
  - The module never changes which task definition revision an existing service runs; that is the job of
    M(shipyard.ecs.ecs_rolling_deploy). When the revision in use differs from O(services[].task_definition), the
    difference is reported in RV(drift).
  - An option left out is not managed; its current value is kept. At creation the module applies its defaults
    (one task, placement spread across availability zones for tasks on EC2 instances).
  - While Application Auto Scaling manages a service (O(services[].autoscaling) is set or a scalable target exists),
    its desired count is left to autoscaling after creation.
  - Service discovery - the module owns the AWS Cloud Map private DNS namespace of
    O(cluster.service_discovery_namespace) and a Cloud Map service per O(services[].service_discovery), in which ECS
    registers the service's tasks (C(serviceRegistries)). The namespace is created first (Cloud Map creates it
    asynchronously and the module waits for its operation), then the Cloud Map services, then the ECS services. An
    existing ECS service whose registry differs is updated. No module of amazon.aws or community.aws creates these.
  - O(state=absent) removes the listed services (their scalable targets first, then scale to zero, delete, and wait
    until they are INACTIVE), then their Cloud Map services in O(cluster.service_discovery_namespace) (once ECS has
    deregistered their tasks), with O(delete_cluster=true) the cluster and the namespace, then the listed Auto
    Scaling group capacity providers. Log groups and Auto Scaling groups are kept.
  - With the collection's action plugin (the default when the module runs on the controller), long waits print
    a progress line per service at each change of state and at least every 15 seconds, at default verbosity.
  - Every option is validated before the first write call; a failure names the option and the value.
author:
  - Shipyard ECS contributors (@shipyard-ecs)
options:
  cluster:
    description: The ECS cluster.
    type: dict
    required: true
    suboptions:
      name:
        description: Name of the cluster.
        type: str
        required: true
      container_insights:
        description: CloudWatch Container Insights setting. Left unchanged when not set.
        type: str
        choices: [enabled, disabled, enhanced]
      capacity_providers:
        description:
          - The complete list of capacity providers of the cluster (V(FARGATE), V(FARGATE_SPOT), names of Auto Scaling
            group providers). Providers of O(cluster.autoscaling_group_providers) are added.
          - Left unchanged when not set.
        type: list
        elements: str
      default_capacity_provider_strategy:
        description: Default capacity provider strategy of the cluster. Left unchanged when not set.
        type: list
        elements: dict
        suboptions:
          capacity_provider:
            description: Name of the capacity provider.
            type: str
            required: true
          weight:
            description: Relative share of tasks.
            type: int
            default: 0
          base:
            description: Minimum number of tasks on this provider.
            type: int
            default: 0
      autoscaling_group_providers:
        description:
          - Capacity providers backed by EC2 Auto Scaling groups, created or updated before the cluster uses them.
          - The Auto Scaling group of an existing provider cannot change.
          - With O(cluster.autoscaling_group_providers[].managed_termination_protection=ENABLED), the group's new
            instances are protected from scale-in first (AWS requires it; ECS then manages each instance's protection).
          - With O(state=absent), the listed providers are taken off the cluster (or the cluster is deleted, with
            O(delete_cluster=true)) and deleted, after the listed services.
        type: list
        elements: dict
        suboptions:
          name:
            description: Name of the capacity provider.
            type: str
            required: true
          auto_scaling_group_arn:
            description: ARN of the Auto Scaling group. Required with O(state=present).
            type: str
          managed_scaling:
            description: Managed scaling of the group by ECS.
            type: dict
            suboptions:
              status:
                description: Whether ECS scales the group.
                type: str
                choices: [ENABLED, DISABLED]
              target_capacity:
                description: Target utilisation of the group, in percent.
                type: int
              minimum_scaling_step_size:
                description: Fewest instances added or removed at once.
                type: int
              maximum_scaling_step_size:
                description: Most instances added or removed at once.
                type: int
              instance_warmup_period:
                description: Seconds a new instance needs before it counts.
                type: int
          managed_termination_protection:
            description: Whether ECS protects instances running tasks from scale-in.
            type: str
            choices: [ENABLED, DISABLED]
          managed_draining:
            description: Whether ECS drains instances before they terminate.
            type: str
            choices: [ENABLED, DISABLED]
          tags:
            description: Tags of the capacity provider (exactly these when set).
            type: dict
      service_connect_defaults:
        description: Service Connect defaults of the cluster.
        type: dict
        suboptions:
          namespace:
            description: Cloud Map namespace name or ARN.
            type: str
            required: true
      service_discovery_namespace:
        description:
          - The Cloud Map private DNS namespace the services' O(services[].service_discovery) register in, for example
            C(myapp-staging.local). Created when missing; its description and tags are updated in place.
          - With O(state=absent) and O(delete_cluster=true) it is deleted after the listed services' Cloud Map services;
            the module fails before any write when it holds Cloud Map services of services not listed.
        type: dict
        suboptions:
          name:
            description: The namespace's DNS domain name.
            type: str
            required: true
          vpc:
            description:
              - ID of the VPC the namespace answers in (its name and VPC cannot change).
              - Required with O(state=present); a teardown names the namespace only.
            type: str
          description:
            description: Description of the namespace.
            type: str
          tags:
            description: Tags of the namespace (exactly these when set).
            type: dict
      tags:
        description: Tags of the cluster (exactly these when set; left unchanged when not set).
        type: dict
  services:
    description: The services of the cluster this call shapes; services not listed are left alone.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the service.
        type: str
        required: true
      task_definition:
        description:
          - The task definition of the service, used to create a new service and to report drift of an existing one.
          - Required for a service that does not exist yet.
        type: dict
        suboptions:
          family:
            description: Task definition family. Defaults to the service name.
            type: str
          containers:
            description: Container definitions.
            type: list
            elements: dict
            required: true
            suboptions:
              name:
                description: Container name.
                type: str
                required: true
              image:
                description: Image reference.
                type: str
                required: true
              cpu:
                description: CPU units reserved for the container.
                type: int
              memory:
                description: Hard memory limit, MiB. Must be at least O(services[].task_definition.containers[].memory_reservation).
                type: int
              memory_reservation:
                description: Soft memory limit, MiB.
                type: int
              essential:
                description: Whether the task stops when this container stops (AWS default true).
                type: bool
              port_mappings:
                description: Port mappings.
                type: list
                elements: dict
                suboptions:
                  container_port:
                    description: Port the container listens on.
                    type: int
                    required: true
                  host_port:
                    description:
                      - Host port. With C(bridge) networking V(0) or omitted picks a dynamic port; with C(awsvpc) and
                        C(host) it must equal the container port or be omitted.
                    type: int
                  protocol:
                    description: Protocol (AWS default tcp).
                    type: str
                    choices: [tcp, udp]
                  name:
                    description: Name of the port mapping (Service Connect).
                    type: str
                  app_protocol:
                    description: Application protocol (Service Connect).
                    type: str
                    choices: [http, http2, grpc]
              environment:
                description: Environment variables, C(NAME → value). Values become strings.
                type: dict
              secrets:
                description: Secrets as environment variables, C(NAME → ARN) of a Secrets Manager secret or SSM parameter,
                  or the name of an SSM parameter.
                type: dict
              awslogs:
                description: Send the container's output to CloudWatch Logs; the log group must exist (M(shipyard.ecs.cloudwatch_stack) creates it).
                type: dict
                suboptions:
                  group:
                    description: Log group name.
                    type: str
                    required: true
                  region:
                    description: Region of the log group. Defaults to the module's region.
                    type: str
                  stream_prefix:
                    description: Log stream prefix.
                    type: str
                  mode:
                    description: Delivery mode.
                    type: str
                    choices: [blocking, non-blocking]
                  max_buffer_size:
                    description: Buffer size in C(non-blocking) mode, for example C(25m).
                    type: str
              log_configuration:
                description: Any other log driver. Mutually exclusive with O(services[].task_definition.containers[].awslogs).
                type: dict
                suboptions:
                  log_driver:
                    description: Log driver.
                    type: str
                    required: true
                  options:
                    description: Driver options.
                    type: dict
                  secret_options:
                    description: Driver options taken from secrets, C(NAME → ARN or parameter name).
                    type: dict
              health_check:
                description: Container health check.
                type: dict
                suboptions:
                  command:
                    description: Command as a list (C(CMD) or C(CMD-SHELL) first), or a string run by a shell.
                    type: raw
                    required: true
                  interval:
                    description: Seconds between checks (AWS default 30).
                    type: int
                  timeout:
                    description: Seconds before a check fails (AWS default 5).
                    type: int
                  retries:
                    description: Failures before the container is unhealthy (AWS default 3).
                    type: int
                  start_period:
                    description: Grace period in seconds before failures count.
                    type: int
              command:
                description: Command.
                type: list
                elements: str
              entry_point:
                description: Entry point.
                type: list
                elements: str
              depends_on:
                description: Containers this one waits for.
                type: list
                elements: dict
                suboptions:
                  container_name:
                    description: Another container of the task definition.
                    type: str
                    required: true
                  condition:
                    description: What to wait for.
                    type: str
                    choices: [START, COMPLETE, SUCCESS, HEALTHY]
                    default: START
              links:
                description: Links to other containers (C(bridge) networking only).
                type: list
                elements: str
              ulimits:
                description: Resource limits.
                type: list
                elements: dict
                suboptions:
                  name:
                    description: Limit name, for example C(nofile).
                    type: str
                    required: true
                  soft_limit:
                    description: Soft limit.
                    type: int
                    required: true
                  hard_limit:
                    description: Hard limit. Defaults to the soft limit.
                    type: int
              working_directory:
                description: Working directory.
                type: str
              user:
                description: User to run as.
                type: str
              mount_points:
                description: Volumes mounted into the container.
                type: list
                elements: dict
                suboptions:
                  source_volume:
                    description: Name of a volume of the task definition.
                    type: str
                    required: true
                  container_path:
                    description: Path in the container.
                    type: str
                    required: true
                  read_only:
                    description: Mount read-only.
                    type: bool
                    default: false
              docker_labels:
                description: Docker labels.
                type: dict
              stop_timeout:
                description: Seconds to wait before the container is killed.
                type: int
              readonly_root_filesystem:
                description: Read-only root file system.
                type: bool
          network_mode:
            description: Network mode (AWS default C(bridge) on Linux). Fargate requires C(awsvpc).
            type: str
            choices: [bridge, host, awsvpc, none]
          cpu:
            description: Task CPU, in units (V(256)) or as V(0.25 vCPU). Required on Fargate, in AWS's size table.
            type: str
          memory:
            description: Task memory, in MiB (V(512)) or as V(0.5 GB). Required on Fargate.
            type: str
          execution_role_arn:
            description: Role ECS uses to pull images, read secrets and write logs.
            type: str
          task_role_arn:
            description: Role the containers use.
            type: str
          requires_compatibilities:
            description: Launch types the definition must be valid for.
            type: list
            elements: str
            choices: [EC2, FARGATE, EXTERNAL]
          runtime_platform:
            description: Operating system and CPU architecture.
            type: dict
            suboptions:
              cpu_architecture:
                description: CPU architecture.
                type: str
                choices: [X86_64, ARM64]
              operating_system_family:
                description: Operating system family, for example C(LINUX).
                type: str
          volumes:
            description: Volumes of the task.
            type: list
            elements: dict
            suboptions:
              name:
                description: Volume name.
                type: str
                required: true
              host:
                description: Bind mount from the host.
                type: dict
                suboptions:
                  source_path:
                    description: Path on the host.
                    type: str
              efs_volume_configuration:
                description: Amazon EFS volume.
                type: dict
                suboptions:
                  file_system_id:
                    description: File system id.
                    type: str
                    required: true
                  root_directory:
                    description: Directory of the file system to mount (AWS default C(/)).
                    type: str
                  transit_encryption:
                    description: Encryption in transit.
                    type: str
                    choices: [ENABLED, DISABLED]
          ephemeral_storage:
            description: Ephemeral storage of a Fargate task, GiB.
            type: int
          tags:
            description: Tags of the task definition revision.
            type: dict
      desired_count:
        description:
          - Number of tasks. Defaults to V(1) (or the autoscaling minimum) at creation.
          - Ignored for an existing service while Application Auto Scaling manages it.
        type: int
      launch_type:
        description: Launch type. Mutually exclusive with O(services[].capacity_provider_strategy); cannot change in place.
        type: str
        choices: [EC2, FARGATE, EXTERNAL]
      capacity_provider_strategy:
        description: Capacity provider strategy; its providers must belong to the cluster.
        type: list
        elements: dict
        suboptions:
          capacity_provider:
            description: Name of the capacity provider.
            type: str
            required: true
          weight:
            description: Relative share of tasks.
            type: int
            default: 0
          base:
            description: Minimum number of tasks on this provider.
            type: int
            default: 0
      platform_version:
        description: Fargate platform version.
        type: str
      scheduling_strategy:
        description: C(REPLICA) (AWS default) or C(DAEMON); cannot change in place.
        type: str
        choices: [REPLICA, DAEMON]
      network_configuration:
        description: Network of C(awsvpc) tasks; required when the task definition uses C(awsvpc).
        type: dict
        suboptions:
          subnets:
            description: Subnet ids.
            type: list
            elements: str
            required: true
          security_groups:
            description: Security group ids.
            type: list
            elements: str
          assign_public_ip:
            description: Give tasks a public IP address.
            type: bool
            default: false
      load_balancers:
        description: Target groups the service registers its tasks with.
        type: list
        elements: dict
        suboptions:
          target_group:
            description: Target group name or ARN; names are resolved to ARNs.
            type: str
            required: true
          container_name:
            description: Container of the task definition that receives traffic.
            type: str
            required: true
          container_port:
            description: Container port of that container.
            type: int
            required: true
          advanced_configuration:
            description:
              - For a service whose O(services[].deployment_configuration.strategy) is V(BLUE_GREEN), V(CANARY)
                or V(LINEAR) (required there, refused with V(ROLLING)), the second target group and the listener
                rules ECS moves traffic between (ECS's C(advancedConfiguration)).
              - M(shipyard.ecs.alb_routes) creates them and returns them as RV(shipyard.ecs.alb_routes#module:advanced_configuration).
            type: dict
            suboptions:
              alternate_target_group:
                description: Name or ARN of the alternate target group, where ECS registers the new revision's tasks.
                type: str
                required: true
              production_listener_rule:
                description:
                  - ARN of the listener rule (or a listener's default rule) carrying production traffic; without
                    it ECS does not shift traffic.
                type: str
              test_listener_rule:
                description: ARN of the listener rule carrying test traffic to the new revision.
                type: str
              role_arn:
                description:
                  - ARN of the IAM role ECS assumes to change the listener rules (trusts C(ecs.amazonaws.com),
                    with the AWS managed policy C(AmazonECSInfrastructureRolePolicyForLoadBalancers)).
                type: str
                required: true
      health_check_grace_period:
        description: Seconds during which failed load balancer health checks of a new task are ignored.
        type: int
      deployment_configuration:
        description: How deployments replace tasks.
        type: dict
        suboptions:
          strategy:
            description:
              - How ECS releases a new revision. V(ROLLING) replaces tasks in place (the default when
                O(services[].deployment_configuration) is given and this is omitted); V(BLUE_GREEN) starts the new
                revision beside the old one and moves production traffic at once; V(CANARY) moves
                O(services[].deployment_configuration.canary_configuration.canary_percent) first, the rest after its
                bake time; V(LINEAR) moves traffic in equal steps.
              - A service moves between strategies in place (one UpdateService).
            type: str
            choices: [ROLLING, BLUE_GREEN, CANARY, LINEAR]
          bake_time_in_minutes:
            description:
              - Minutes both revisions keep running after production traffic has moved, before the old one is
                stopped (0..1440). Required with V(BLUE_GREEN).
            type: int
          canary_configuration:
            description: Canary steps; with V(CANARY) only.
            type: dict
            suboptions:
              canary_percent:
                description: Percent of production traffic moved first (0.1..100, a multiple of 0.1; ECS's default 5).
                type: float
              canary_bake_time_in_minutes:
                description: Minutes before the rest moves (0..1440).
                type: int
          linear_configuration:
            description: Linear steps; with V(LINEAR) only.
            type: dict
            suboptions:
              step_percent:
                description: Percent of production traffic moved at each step (3..100, a multiple of 0.1; ECS's default 10).
                type: float
              step_bake_time_in_minutes:
                description: Minutes between steps (0..1440).
                type: int
          lifecycle_hooks:
            description:
              - Hooks ECS runs at lifecycle stages of a deployment (not with V(ROLLING)). Given, the list is
                managed (an empty list removes the hooks).
              - A V(PAUSE) hook holds the deployment at its stage until C(ContinueServiceDeployment)
                (M(shipyard.ecs.ecs_rolling_deploy) runs its test-traffic checks at V(POST_TEST_TRAFFIC_SHIFT)).
            type: list
            elements: dict
            suboptions:
              target_type:
                description: V(PAUSE) waits for C(ContinueServiceDeployment); V(AWS_LAMBDA) invokes a function.
                type: str
                required: true
                choices: [PAUSE, AWS_LAMBDA]
              hook_target_arn:
                description: ARN of the Lambda function (V(AWS_LAMBDA) only).
                type: str
              role_arn:
                description: ARN of the role ECS assumes to invoke the function (V(AWS_LAMBDA) only).
                type: str
              lifecycle_stages:
                description:
                  - Stages the hook runs at, among V(RECONCILE_SERVICE), V(PRE_SCALE_UP), V(POST_SCALE_UP),
                    V(TEST_TRAFFIC_SHIFT), V(POST_TEST_TRAFFIC_SHIFT), V(PRE_PRODUCTION_TRAFFIC_SHIFT),
                    V(PRODUCTION_TRAFFIC_SHIFT), V(POST_PRODUCTION_TRAFFIC_SHIFT).
                type: list
                elements: str
                required: true
              timeout_in_minutes:
                description: Minutes ECS waits before the timeout action (1..20160; ECS's default 1440).
                type: int
              timeout_action:
                description: What ECS does when the hook times out (ECS's default V(ROLLBACK)).
                type: str
                choices: [CONTINUE, ROLLBACK]
          minimum_healthy_percent:
            description: Lower limit of running tasks during a deployment, percent of the desired count.
            type: int
          maximum_percent:
            description: Upper limit of running tasks during a deployment, percent of the desired count.
            type: int
          circuit_breaker:
            description: Deployment circuit breaker.
            type: dict
            suboptions:
              enable:
                description: Stop a failing deployment.
                type: bool
                default: true
              rollback:
                description: Roll a failed deployment back.
                type: bool
                default: true
          alarms:
            description: CloudWatch alarms that fail a deployment.
            type: dict
            suboptions:
              names:
                description: Alarm names.
                type: list
                elements: str
                required: true
              enable:
                description: Watch the alarms.
                type: bool
                default: true
              rollback:
                description: Roll back when an alarm fires.
                type: bool
                default: true
      placement_strategy:
        description:
          - Task placement strategy, in order. At creation, tasks on EC2 instances default to spreading across
            availability zones.
        type: list
        elements: dict
        suboptions:
          type:
            description: Strategy type.
            type: str
            required: true
            choices: [random, spread, binpack]
          field:
            description: Field the strategy applies to, for example C(attribute:ecs.availability-zone) or C(memory).
            type: str
      placement_constraints:
        description: Task placement constraints.
        type: list
        elements: dict
        suboptions:
          type:
            description: Constraint type.
            type: str
            required: true
            choices: [distinctInstance, memberOf]
          expression:
            description: Cluster query language expression (C(memberOf)).
            type: str
      service_registries:
        description: Cloud Map service registries (service discovery).
        type: list
        elements: dict
        suboptions:
          registry_arn:
            description: ARN of the Cloud Map service.
            type: str
            required: true
          port:
            description: Port for SRV records.
            type: int
          container_name:
            description: Container for SRV records.
            type: str
          container_port:
            description: Container port for SRV records.
            type: int
      service_discovery:
        description:
          - A Cloud Map service in O(cluster.service_discovery_namespace) that ECS registers the service's tasks in,
            found as C(<name>.<namespace>) in the VPC (C(discovery_name) of the service in RV(services)).
          - Mutually exclusive with O(services[].service_registries), which names a registry made elsewhere.
          - Only its records' TTL changes in place; another record type needs the service deleted and created again.
        type: dict
        suboptions:
          name:
            description: Name of the Cloud Map service (a DNS label). Defaults to the ECS service's name.
            type: str
          dns_record_type:
            description:
              - V(A) for tasks with their own address (network mode C(awsvpc)); V(SRV) with address and port, needed
                for network modes C(bridge) and C(host), where AWS refuses A records.
            type: str
            choices: [A, SRV]
            default: A
          ttl:
            description: Seconds resolvers cache the records.
            type: int
            default: 60
          failure_threshold:
            description:
              - The custom health check's C(FailureThreshold) (ECS reports the tasks' health), sent at creation only.
              - Cloud Map no longer supports it and applies 1, so it is not compared afterwards.
            type: int
            default: 1
          container_name:
            description: For V(SRV) records, the container whose port ECS registers.
            type: str
          container_port:
            description: For V(SRV) records, the container port ECS registers (one of the container's port mappings).
            type: int
      enable_execute_command:
        description: Allow ECS Exec into the tasks.
        type: bool
      enable_ecs_managed_tags:
        description: Let ECS tag the tasks with cluster and service names.
        type: bool
      propagate_tags:
        description: Copy tags to tasks from the service or the task definition.
        type: str
        choices: [SERVICE, TASK_DEFINITION, NONE]
      tags:
        description: Tags of the service (exactly these when set; left unchanged when not set).
        type: dict
      autoscaling:
        description:
          - Application Auto Scaling of the service's desired count. Left unchanged when not set.
          - Policies of the service that are not listed are deleted.
        type: dict
        suboptions:
          min_capacity:
            description: Fewest tasks.
            type: int
            required: true
          max_capacity:
            description: Most tasks.
            type: int
            required: true
          policies:
            description: Target-tracking policies.
            type: list
            elements: dict
            default: []
            suboptions:
              name:
                description: Policy name.
                type: str
                required: true
              metric:
                description: Average CPU or memory utilisation of the service, or ALB requests per target.
                type: str
                choices: [cpu, memory, alb_request_count]
                default: cpu
              target:
                description: Target value of the metric (percent for C(cpu) and C(memory)).
                type: float
                required: true
              scale_in_cooldown:
                description: Seconds after a scale-in before another (AWS default 300).
                type: int
              scale_out_cooldown:
                description: Seconds after a scale-out before another (AWS default 300).
                type: int
              disable_scale_in:
                description: Never scale in.
                type: bool
                default: false
              resource_label:
                description:
                  - C(app/<load-balancer>/<id>/targetgroup/<target-group>/<id>) for C(alb_request_count).
                  - Derived from the service's first target group when omitted.
                type: str
  state:
    description:
      - V(present) creates and updates; V(absent) deletes the listed services, then the listed
        O(cluster.autoscaling_group_providers).
    type: str
    choices: [present, absent]
    default: present
  delete_cluster:
    description:
      - With O(state=absent), delete the cluster too once the listed services are gone. Fails when the cluster runs
        services not listed.
    type: bool
    default: false
  wait:
    description:
      - With O(state=absent), wait until the deleted services are INACTIVE.
      - Deleting their Cloud Map services waits for them whatever this says (Cloud Map refuses to delete a service
        while tasks are registered in it), and Cloud Map operations are always followed to their end.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait.
    type: int
    default: 600
  poll_interval:
    description: Seconds between two describes while waiting.
    type: float
    default: 5.0
  progress_file:
    description:
      - A file to append the progress of long waits to, one JSON object per line at each change of what is waited for -
        C(t) (seconds since the module started), C(service), C(purpose) (V(deletion), V(namespace creation),
        V(namespace deletion), ...), C(status) (V(waiting), V(done), V(failed)), C(state), C(running), C(desired)
        and C(event) (the service's newest ECS event).
      - The collection's action plugin for this module sets it to a temporary file on the controller and prints each
        line as it comes; leave it unset.
    type: path
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
  idempotent:
    description: When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
    support: full
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Shape the cluster and the three services of the reference application
  shipyard.ecs.ecs_stack:
    cluster:
      name: flask-microservices-prod-cluster
      container_insights: enabled
    services:
      - name: flask-microservices-prod-users
        desired_count: 1
        task_definition:
          family: flask-microservices-users-prod-td
          containers:
            - name: users-service-prod
              image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/flask-microservices-users:production
              cpu: 300
              memory_reservation: 300
              port_mappings:
                - container_port: 5000
                  host_port: 0
              environment:
                APP_SETTINGS: project.config.ProductionConfig
              secrets:
                DATABASE_URL: /flask-microservices/production/database-url
                SECRET_KEY: arn:aws:secretsmanager:us-east-1:123456789012:secret:users-secret-key
              awslogs:
                group: flask-microservices-production
                stream_prefix: users
        load_balancers:
          - target_group: users-prod-tg
            container_name: users-service-prod
            container_port: 5000
        health_check_grace_period: 30
        deployment_configuration:
          minimum_healthy_percent: 50
          maximum_percent: 200
          circuit_breaker:
            enable: true
            rollback: true
        autoscaling:
          min_capacity: 1
          max_capacity: 10
          policies:
            - name: cpu50
              metric: cpu
              target: 50
              scale_in_cooldown: 30
              scale_out_cooldown: 30

- name: Remove a service and wait until it is INACTIVE
  shipyard.ecs.ecs_stack:
    cluster:
      name: flask-microservices-prod-cluster
    services:
      - name: flask-microservices-prod-swagger
    state: absent

- name: A backend service without load balancer, found as ecsdemo-nodejs.ecsdemo-staging.local
  shipyard.ecs.ecs_stack:
    cluster:
      name: ecsdemo-staging
      service_discovery_namespace:
        name: ecsdemo-staging.local
        vpc: vpc-0123456789abcdef0
    services:
      - name: ecsdemo-nodejs
        launch_type: FARGATE
        network_configuration:
          subnets: [subnet-0123456789abcdef0]
          security_groups: [sg-0123456789abcdef0]
        task_definition:
          network_mode: awsvpc
          cpu: "256"
          memory: "512"
          requires_compatibilities: [FARGATE]
          containers:
            - name: nodejs
              image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/ecsdemo-nodejs:1
              memory_reservation: 128
              port_mappings:
                - container_port: 3000
        service_discovery:
          dns_record_type: A
          ttl: 60

- name: Tear the environment down, the Cloud Map namespace with the cluster
  shipyard.ecs.ecs_stack:
    cluster:
      name: ecsdemo-staging
      service_discovery_namespace:
        name: ecsdemo-staging.local
    services:
      - name: ecsdemo-nodejs
    delete_cluster: true
    state: absent
"""

RETURN = r"""
cluster:
  description: The cluster.
  returned: always
  type: dict
  contains:
    name:
      description: Cluster name.
      type: str
    arn:
      description: Cluster ARN (null when it does not exist yet, in check mode).
      type: str
    status:
      description: Cluster status as last described.
      type: str
services:
  description:
    - The listed services by name.
    - With O(services[].service_discovery) and O(state=present), also C(discovery_name) (the DNS name the service's
      tasks are found by) and C(registry_arn) (its Cloud Map service's ARN, C((known after apply)) in check mode when
      it does not exist yet).
  returned: always
  type: dict
  sample:
    flask-microservices-prod-users:
      arn: arn:aws:ecs:us-east-1:123456789012:service/flask-microservices-prod-cluster/flask-microservices-prod-users
      status: ACTIVE
      task_definition: arn:aws:ecs:us-east-1:123456789012:task-definition/flask-microservices-users-prod-td:3
      desired_count: 1
      running_count: 1
      autoscaled: true
      drift: false
      discovery_name: flask-microservices-prod-users.flask-microservices-prod.local
      registry_arn: arn:aws:servicediscovery:us-east-1:123456789012:service/srv-abcdefghijklmnop
service_discovery_namespace:
  description:
    - The Cloud Map namespace of O(cluster.service_discovery_namespace); C((known after apply)) for the id and ARN in
      check mode when it does not exist yet, null once deleted.
  returned: when O(cluster.service_discovery_namespace) is set
  type: dict
  contains:
    name:
      description: Namespace name.
      type: str
    id:
      description: Namespace id (C(ns-...)).
      type: str
    arn:
      description: Namespace ARN.
      type: str
drift:
  description:
    - Services whose running task definition revision differs from O(services[].task_definition), with the
      differences (path, before = running revision, after = options). ecs_stack does not change the revision;
      M(shipyard.ecs.ecs_rolling_deploy) does.
  returned: always
  type: dict
  sample:
    flask-microservices-prod-users:
      task_definition: arn:aws:ecs:us-east-1:123456789012:task-definition/flask-microservices-users-prod-td:3
      differences:
        - path: containerDefinitions[0].image
          before: 123456789012.dkr.ecr.us-east-1.amazonaws.com/flask-microservices-users:1.0
          after: 123456789012.dkr.ecr.us-east-1.amazonaws.com/flask-microservices-users:1.1
plan:
  description: The actions of this run (in check mode, the actions a real run would take), with reasons and changes.
  returned: always
  type: list
  elements: dict
  sample:
    - action: update
      kind: service
      name: flask-microservices-prod-users
      reason: service settings differ
      changes:
        - path: deploymentConfiguration.minimumHealthyPercent
          before: 100
          after: 50
calls:
  description: AWS API calls of this run per service, reads and writes.
  returned: always
  type: dict
  sample:
    ecs:
      read: 2
      write: 0
"""

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.module import run_module
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.spec import ARGUMENT_SPEC
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.stack import EcsStack


def main() -> None:
    """Validate, read, plan and apply (see ``_ecs/stack.py``)."""
    run_module(ARGUMENT_SPEC, lambda module: EcsStack.from_module(module).run())


if __name__ == "__main__":
    main()
