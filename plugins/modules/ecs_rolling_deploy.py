#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ecs_rolling_deploy
short_description: Release new revisions of ECS services safely
version_added: 0.1.0
description:
  - Releases one or several ECS services as one release. For each service it renders the task definition revision to run,
    either the whole definition given in O(services[].definition) or the one the service runs plus the requested changes
    (images, environment, secrets, container definition keys), and registers it only when it differs from the revision
    the service runs (compared normalised, with the defaults AWS fills in); an identical revision already registered in
    the family is reused. Check and diff modes show every field that differs.
  - A service already COMPLETED on the desired revision, with every task running and every target healthy, is left alone
    (V(changed=false), no write call). A service whose rollout to the desired revision is still in progress is waited for.
  - An optional migration runs as a one-off task on the new revision before any service is updated; a non-zero exit code
    of an essential container, or a task that fails to start, stops the release.
  - Services are updated in parallel (or in ordered groups, see O(services[].order)) and the module follows the deployment
    it started on each, not the service as a whole. A release succeeds only when each of those deployments is COMPLETED
    (or, without rollout state, is the only deployment), runs the new revision with as many running tasks as desired, and
    every target of its tasks is healthy in every target group of the service.
  - It fails when a deployment FAILED, was replaced or rolled back by ECS (never reported as success), when
    O(max_failed_tasks) tasks of it stopped, when a target stayed unhealthy for O(unhealthy_timeout) seconds, or on
    O(timeout).
  - On failure it rolls back (unless O(rollback=false)), waiting for the ECS circuit breaker's rollback when one is under
    way, otherwise returning each service to the last revision it had COMPLETED on before the release. It always fails
    after a rollback, with the failed service, the reasons and exit codes of stopped tasks, recent service events, the
    failed tasks' last log lines from CloudWatch Logs, the state each service ended in and a timeline.
  - After a verified success it tags each released revision (C(shipyard.ecs:released-at)), which lets
    O(services[].task_definition=previous) find the last released revision, and deregisters old revisions when
    O(keep_revisions) is set. A revision a service already runs (or rolls out to) without that tag - left by a release
    that was killed after updating the service, or a service's first revision - is tagged once verified
    (action V(mark_released), V(changed=true) once); a run killed at any point converges when run again.
  - While it waits, the task prints a progress line per service (deployment state, tasks running/desired, targets
    healthy/total, the newest ECS event) at each change and at least every 15 seconds, at default verbosity. Under
    C(async) with C(poll) greater than 0 (AWX job templates, CI) it does the same; the module runs as an async job and
    the task prints its progress until the job ends. With C(poll=0) nothing waits for the job, so nothing is printed
    (the result's RV(progress) holds every sample). Progress lines need the module to run on the controller
    (C(connection=local), as the collection's inventories do) and a stdout callback that is not JSON.
  - With O(one_off_task) and no O(services), it runs a command once (C(python manage.py seed_db)) as a one-off task in the
    revision a service runs now, with the service's network and capacity, waits for it to stop and fails unless every
    essential container exited 0, reporting the exit codes, the stop reason and the task's last log lines. It registers
    no revision and updates no service.
author:
  - shipyard.ecs contributors (@shipyard-ecs)
options:
  cluster:
    description:
      - Name or ARN of the cluster of the services (each service may name its own with O(services[].cluster)).
    type: str
    required: true
  services:
    description:
      - The services of the release. Each runs O(services[].definition) when given; otherwise it keeps its current task
        definition except for the changes given.
      - Required unless O(one_off_task) is given; the two are mutually exclusive.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - Name of the service.
        type: str
        required: true
      cluster:
        description:
          - Cluster of this service, when it is not O(cluster).
        type: str
      images:
        description:
          - Image per container, as a mapping of container name to image URI (preferably pinned by digest,
            C(repo@sha256:...)). A plain string sets the image of a single-container task definition.
        type: raw
      environment:
        description:
          - Environment variables to set per container, as a mapping of container name to a mapping of variable names to
            values. A null value removes the variable; variables not named are kept.
        type: dict
      secrets:
        description:
          - Secrets to set per container, as a mapping of container name to a mapping of variable names to the
            C(valueFrom) ARN or parameter name. A null value removes the secret.
        type: dict
      container_definitions:
        description:
          - Container definition keys (camelCase, as in the ECS API) to set per container, as a mapping of container name
            to a mapping of keys to values, merged into the current container definition. A null value removes the key.
        type: dict
      task_definition:
        description:
          - Run this existing revision (ARN or C(family:revision)) instead of rendering one. Mutually exclusive with the
            changes above.
          - V(previous) means the revision the service last ran well on before its current one, that is the last
            COMPLETED deployment when a rollout is under way or failed, else the newest revision a release of this
            module verified other than the current one.
        type: str
      definition:
        description:
          - The whole task definition the service must run, in exactly the format of
            O(shipyard.ecs.ecs_stack#module:services[].task_definition) (the same dict can be given to both modules).
            The family defaults to the service name, the region of C(awslogs) to the module's region.
          - The revision the service runs is compared with it after both are normalised with the defaults AWS fills in
            (secrets by reference, never by value; the order of containers, variables, secrets and port mappings does not
            matter; tags are not compared). When they are equal, nothing is registered. Otherwise an identical ACTIVE
            revision among the newest five of the family is reused, or exactly one revision is registered, with the tags
            given here; the service is then released to it as with any other change.
          - Validated before any AWS call as M(shipyard.ecs.ecs_stack) validates it, and before any write call against
            the service (its load balancer's container and port, Fargate compatibility, network mode) and the account
            (every secret must exist).
          - Mutually exclusive with O(services[].images), O(services[].environment), O(services[].secrets),
            O(services[].container_definitions) and O(services[].task_definition).
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
                description: Hard memory limit, MiB. Must be at least O(services[].definition.containers[].memory_reservation).
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
                description: Send the container's output to CloudWatch Logs, to an existing log group.
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
                description: Any other log driver. Mutually exclusive with O(services[].definition.containers[].awslogs).
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
      order:
        description:
          - Services are released in groups of equal O(services[].order), lowest first; a group starts once the previous
            one succeeded. Services of a group roll out in parallel.
        type: int
        default: 0
      test_traffic:
        description:
          - Checks on test traffic for a service whose deployment strategy (as ECS reports it) is C(BLUE_GREEN),
            C(CANARY) or C(LINEAR). Refused for a rolling service.
          - The release follows the ServiceDeployment its update started through its lifecycle stages. When it waits
            at a C(PAUSE) lifecycle hook at C(POST_TEST_TRAFFIC_SHIFT), the checks run, then the module calls
            ContinueServiceDeployment with C(CONTINUE), or C(ROLLBACK) when a check fails (the failure names the check,
            its status and the first bytes of the body).
          - Required when the service has C(PAUSE) lifecycle hooks, so a release never leaves a deployment waiting
            silently; the release refuses to start without it. C(PAUSE) hooks at stages without checks (see
            O(services[].test_traffic.pause_after_steps)) are continued, and the timeline says so.
          - In check mode no hook is answered.
        type: dict
        suboptions:
          url:
            description:
              - Base URL test traffic reaches the new tasks through, C(http://<load balancer DNS>:<test listener port>),
                or the production listener's URL when the test rule matches a header. Required unless
                O(services[].test_traffic.reachable=false).
              - Requests honour the C(http_proxy), C(https_proxy) and C(no_proxy) environment variables.
            type: str
          headers:
            description: Headers sent with each check request (the test rule's header condition).
            type: dict
          checks:
            description: GET requests to O(services[].test_traffic.url) plus C(path); each has a short timeout and three attempts.
            type: list
            elements: dict
            suboptions:
              path:
                description: Path starting with C(/).
                type: str
                required: true
              status:
                description: Expected HTTP status.
                type: int
                default: 200
              contains:
                description: Text the response body must contain.
                type: str
          reachable:
            description:
              - V(false) when the load balancer cannot be reached from where Ansible runs; the check is then that every
                task of the new revision is a healthy target in the service's target group pair.
            type: bool
            default: true
          pause_after_steps:
            description:
              - Canary and linear deployments - also run the checks at C(PAUSE) hooks at C(PRE_PRODUCTION_TRAFFIC_SHIFT)
                (ECS invokes it before every traffic shift step) and C(POST_PRODUCTION_TRAFFIC_SHIFT).
            type: bool
            default: false
          hold:
            description:
              - Run the checks at C(POST_TEST_TRAFFIC_SHIFT), then leave the deployment waiting in test traffic (the hook
                unanswered until its timeout). The service's status is V(held_in_test_traffic) (not a failure, changed);
                move production traffic with M(shipyard.ecs.ecs_traffic_switch) or C(playbooks/switch.yml).
            type: bool
            default: false
  migration:
    description:
      - A one-off task to run on the new revision of one service before any service is updated (database migrations).
      - It runs with the service's network configuration and launch type or capacity provider strategy. It is not run
        when no service needs a deployment, nor in check mode.
    type: dict
    suboptions:
      service:
        description:
          - The service (one of O(services)) whose new revision runs the command.
        type: str
        required: true
      command:
        description:
          - The command, as a list of arguments, overriding the container's.
        type: list
        elements: str
        required: true
      container:
        description:
          - Container that runs the command. Defaults to the first essential container.
        type: str
      timeout:
        description:
          - Seconds to wait for the task to stop.
        type: int
        default: 600
  one_off_task:
    description:
      - A command to run once, on its own, as a one-off task in the task definition revision O(one_off_task.service) runs
        now (its C(taskDefinition)), with the service's network configuration and launch type or capacity provider
        strategy. Give it without O(services) and without O(migration).
      - The module waits for the task to stop and fails unless every essential container exited 0; the failure names the
        exit codes and the stop reason, and returns the last O(log_lines) log lines of each container that logs with
        C(awslogs) and a stream prefix.
      - Always reports V(changed=true) (a task ran); in check mode it reports the task it would run and starts nothing.
    type: dict
    suboptions:
      service:
        description:
          - The service whose current revision runs the command, in O(cluster).
        type: str
        required: true
      command:
        description:
          - The command, as a list of arguments, overriding the container's.
        type: list
        elements: str
        required: true
      container:
        description:
          - Container that runs the command. Defaults to the container named like the service, else the first essential
            container.
        type: str
      timeout:
        description:
          - Seconds to wait for the task to stop. A task still running then is left running and the module fails.
        type: int
        default: 600
  force_new_deployment:
    description:
      - Start a deployment even of services that already run the desired revision.
    type: bool
    default: false
  wait:
    description:
      - Wait for each deployment to complete, and roll back on failure. With V(false) the module returns once the services
        were updated; nothing is verified, rolled back or cleaned up then.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for the deployments of a group (and, separately, for a rollback) before failing.
    type: int
    default: 900
  poll_interval:
    description:
      - Seconds between two looks at the deployments; the interval grows by a quarter after each look up to
        O(max_poll_interval).
    type: float
    default: 5.0
  max_poll_interval:
    description:
      - Cap of the poll interval, in seconds.
    type: float
    default: 15.0
  wait_for_drain:
    description:
      - Also wait until the tasks of older deployments are gone before calling a deployment done.
    type: bool
    default: false
  max_failed_tasks:
    description:
      - Fail a deployment as soon as this many of its tasks failed (failure to start, essential container exit, stopped
        for failing ELB or container health checks), often well before the ECS circuit breaker would. Tasks stopped by
        scale-in, by a user or by a Spot interruption do not count. V(0) disables the check.
    type: int
    default: 3
  unhealthy_timeout:
    description:
      - Fail a deployment when a target of one of its tasks stays C(unhealthy) for this many seconds. V(0) disables the
        check.
    type: int
    default: 120
  rollback:
    description:
      - Roll back on failure. The module fails either way.
    type: bool
    default: true
  rollback_scope:
    description:
      - V(release) returns every service whose deployment this release started to its previous revision when any fails;
        V(service) only the services that failed.
    type: str
    choices: [release, service]
    default: release
  keep_revisions:
    description:
      - After a verified success, deregister the ACTIVE revisions of each released family beyond the newest
        O(keep_revisions) that no service of the released clusters uses. Omit to keep every revision.
    type: int
  log_lines:
    description:
      - How many last log lines of failed tasks (and of the migration) to return, read from CloudWatch Logs for containers
        that log with C(awslogs) and a stream prefix.
    type: int
    default: 20
  report_dir:
    description:
      - Directory to write the release's report to (created when missing), as M(shipyard.ecs.release_report) writes it
        from the registered result - a self-contained HTML page C(release-<report_name>-<UTC time>.html) and the JSON
        beside it - also for a failed release; RV(report) gives the paths. Written on the host the module runs on (the
        controller, for this collection's playbooks), saving the playbook a task.
      - Not in check mode, not with O(one_off_task), and not for options refused before the release began. A report that
        cannot be written is a warning, not a failure.
    type: path
  report_name:
    description: What was released, for the report's title and file names. Defaults to O(cluster).
    type: str
  progress_file:
    description:
      - A file to append the release's progress to while it waits, one JSON object per line and per look at a service -
        C(t) (seconds since the start), C(service), C(purpose) (V(release), V(await), V(rollback), V(migration)),
        C(status), C(rollout), C(running), C(desired), C(healthy), C(targets) and C(event) (the service's newest ECS
        event).
      - The collection's action plugin for this module sets it to a temporary file on the controller and prints each
        line as it comes, so that a long wait shows its progress at default verbosity. Give it yourself only to follow
        the progress by other means; the action plugin then leaves the file to you.
    type: path
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - Reports which services would be released, the revision each would register (or reuse) with every field that
        differs, and the service updates it would start; makes no write call and runs no migration.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
notes:
  - The module changes only which revision a service runs; the shape of services belongs to C(shipyard.ecs.ecs_stack).
  - Revisions are never deregistered while a service of the released clusters uses them.
  - Idempotent for releases (a second run with the same input changes nothing); O(one_off_task) runs its command every
    time.
"""

EXAMPLES = r"""
- name: Release new images of two services as one release
  shipyard.ecs.ecs_rolling_deploy:
    cluster: flask-microservices
    services:
      - name: users
        images:
          users: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/users@sha256:4f1c..."
        environment:
          users:
            APP_SETTINGS: project.config.ProductionConfig
      - name: client
        images: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/client@sha256:9ab2..."
    max_failed_tasks: 2
    unhealthy_timeout: 90
    keep_revisions: 10

- name: Release the whole task definition of a service (the dict ecs_stack gets as services[].task_definition)
  shipyard.ecs.ecs_rolling_deploy:
    cluster: flask-microservices
    services:
      - name: users
        definition:
          family: users
          network_mode: awsvpc
          requires_compatibilities: [FARGATE]
          cpu: "512"
          memory: "1024"
          execution_role_arn: arn:aws:iam::123456789012:role/flask-microservices-execution
          containers:
            - name: users
              image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/users@sha256:4f1c..."
              port_mappings: [{container_port: 5000}]
              environment:
                APP_SETTINGS: project.config.ProductionConfig
              secrets:
                DATABASE_URL: arn:aws:ssm:eu-west-1:123456789012:parameter/flask-microservices/database-url
              awslogs: {group: /ecs/users, stream_prefix: users}
              health_check: {command: "curl -f http://localhost:5000/ping || exit 1"}

- name: Migrate the database on the new revision, then release users before client
  shipyard.ecs.ecs_rolling_deploy:
    cluster: flask-microservices
    migration:
      service: users
      command: ["python", "manage.py", "recreate_db"]
    services:
      - name: users
        images: {users: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/users:1.4.0"}
        order: 1
      - name: client
        images: {client: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/client:1.4.0"}
        order: 2
    rollback_scope: release

- name: Release as an async job polled every 5 seconds (AWX, CI), printing its progress meanwhile
  shipyard.ecs.ecs_rolling_deploy:
    cluster: flask-microservices
    services:
      - name: users
        images: {users: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/users:1.4.1"}
    timeout: 1200
  async: 1500
  poll: 5

- name: Release in the background while the play goes on (no progress lines; the result has the samples)
  shipyard.ecs.ecs_rolling_deploy:
    cluster: flask-microservices
    services:
      - name: users
        images: {users: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/users:1.4.1"}
    timeout: 1200
  async: 1500
  poll: 0
  register: release_job

- name: Wait for the release, reporting every 15 seconds
  ansible.builtin.async_status:
    jid: "{{ release_job.ansible_job_id }}"
  register: release
  until: release.finished
  retries: 100
  delay: 15

- name: Show what would be released, without changing anything
  shipyard.ecs.ecs_rolling_deploy:
    cluster: flask-microservices
    services:
      - name: users
        images: {users: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/users:1.5.0"}
  check_mode: true
  diff: true

- name: Seed the database with a one-off task in the revision users runs now, failing unless it exits 0
  shipyard.ecs.ecs_rolling_deploy:
    cluster: flask-microservices
    one_off_task:
      service: users
      command: ["python", "manage.py", "seed_db"]
      timeout: 300
  register: seed

- name: Release a blue/green service, check it on the test listener, then let ECS move production traffic
  shipyard.ecs.ecs_rolling_deploy:
    cluster: talk
    services:
      - name: talk
        images: {talk: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/talk:2.1.0"}
        test_traffic:
          url: "http://talk-alb-123.eu-west-1.elb.amazonaws.com:8080"
          checks:
            - path: /health
            - path: /
              contains: "2.1.0"

- name: Put a service back on the revision it last ran well on
  shipyard.ecs.ecs_rolling_deploy:
    cluster: flask-microservices
    services:
      - name: users
        task_definition: previous
"""

RETURN = r"""
services:
  description: One entry per service of the release, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Service name.
      type: str
      sample: users
    action:
      description: V(noop) (already completed on the desired revision), V(await) (a rollout to it was under way) or V(deploy).
      type: str
      sample: deploy
    reason:
      description: Why the planner chose that action.
      type: str
      sample: "runs arn:aws:ecs:eu-west-1:123456789012:task-definition/users:4, release wants a new revision of users"
    revision_before:
      description: Task definition the service's PRIMARY deployment ran before the release.
      type: str
    previous_good_revision:
      description: The revision the service had last completed a deployment on before the release (the rollback target).
      type: str
    revision:
      description: Task definition the release put the service on (null in check mode when it is still to be registered).
      type: str
    registered:
      description: Whether the release registered (in check mode, would register) a new revision for the service.
      type: bool
    reused_revision:
      description: Whether an existing identical revision was reused rather than registering a duplicate.
      type: bool
    task_definition_changes:
      description:
        - Differences between the current and the desired task definition, as C(path), C(before), C(after), after both
          were normalised. Paths use the words of O(services[].definition) with containers keyed by name, for example
          C(containers.users.environment.APP_SETTINGS), C(containers.users.memory_reservation) or C(cpu); secrets show
          their references (C(valueFrom)), never values.
      type: list
      elements: dict
      sample: [{"path": "containers.users.environment.APP_SETTINGS", "before": "project.config.DevelopmentConfig",
                "after": "project.config.ProductionConfig"}, {"path": "cpu", "before": "256", "after": "512"}]
    changed_fields:
      description: The paths of RV(services[].task_definition_changes), the fields of the task definition that differ.
      type: list
      elements: str
      sample: ["containers.users.environment.APP_SETTINGS", "cpu"]
    deployment_id:
      description: The deployment the release started (or awaited) and followed.
      type: str
      sample: ecs-svc/1234567890123456789
    image:
      description: The image of the service's own container (named like the service, else the first essential one) in RV(services[].revision).
      type: str
    strategy:
      description: The service's deployment strategy, in lower case (V(rolling) unless the service says otherwise).
      type: str
    duration:
      description: Seconds from the service's update (or the start of awaiting its rollout) to its last event.
      type: float
    tasks:
      description: Tasks C(running) and C(desired) as last seen.
      type: dict
    targets:
      description: Targets C(healthy) and C(total) of the deployment's tasks as last seen (services behind a load balancer).
      type: dict
    status:
      description: >-
        V(unchanged), V(completed), V(started) (O(wait=false)), V(in_progress), V(failed), V(rolled_back),
        V(rollback_failed), V(replaced), V(not_awaited), V(not_started), V(held_in_test_traffic) (see
        O(services[].test_traffic.hold)) or V(planned) (check mode).
      type: str
      sample: completed
held:
  description:
    - Services left waiting in test traffic (O(services[].test_traffic.hold)), with their ServiceDeployment and what to
      run next.
  returned: when a service was held
  type: list
  elements: dict
plan:
  description: The planned actions (register, run_task, update, mark_released) with their reasons; what check mode reports.
  returned: always
  type: list
  elements: dict
migration:
  description: The migration task, its exit codes per container, stop code and reason, and its last log lines.
  returned: when a migration ran (or would run, in check mode)
  type: dict
  sample: {"task_arn": "arn:aws:ecs:...:task/flask/0f3c...", "exit_codes": {"users": 0}, "log_lines": {"users": ["done"]}}
task:
  description:
    - The one-off task of O(one_off_task) - its service, revision, container, command, C(task_arn), C(exit_codes) per
      container, C(stop_code), C(stopped_reason) and C(log_lines) (the last lines per container) - and its C(status),
      V(succeeded) or, in check mode, V(would run).
    - On failure the same fields are returned under C(task) with the failure message.
  returned: when O(one_off_task) is given
  type: dict
  sample: {"service": "users", "command": ["python", "manage.py", "seed_db"], "container": "users", "status": "succeeded",
           "task_arn": "arn:aws:ecs:...:task/flask/0f3c...", "exit_codes": {"users": 0}, "log_lines": {"users": ["seeded"]}}
timeline:
  description: What happened when, in seconds since the start of the run.
  returned: always
  type: list
  elements: dict
  sample: [{"t": 0.4, "event": "release_update", "service": "users", "deployment": "ecs-svc/123"}]
deregistered:
  description: Revisions deregistered by the cleanup (O(keep_revisions)).
  returned: always
  type: list
  elements: str
report:
  description: The release report written to O(report_dir) - C(html_path), C(json_path) and C(status).
  returned: when O(report_dir) is given and the report was written
  type: dict
  sample: {"html_path": "build/reports/release-app-20260101T120000Z.html", "json_path": "build/reports/release-app-20260101T120000Z.json",
           "status": "succeeded"}
target_health:
  description:
    - Target group name -> the state of each of its targets (V(healthy), V(initial), V(unhealthy), V(draining)...), read
      once the release is over, for every target group of the released services (for ECS-native strategies also the
      alternate group). A smoke check judges it instead of describing the target groups again.
  returned: success, not in check mode and not with O(one_off_task)
  type: dict
  sample: {"local-users": ["healthy", "healthy"], "local-client": ["healthy"]}
api_calls:
  description: Read and write API calls made, per AWS service.
  returned: always
  type: dict
  sample: {"ecs": {"read": 12, "write": 2}, "elbv2": {"read": 4, "write": 0}}
failures:
  description: >-
    On failure, per failed service - the reason and its kind (V(deployment_failed), V(rolled_back_by_ecs), V(replaced),
    V(tasks_failed), V(targets_unhealthy), V(timeout)), the stopped tasks with reasons and exit codes, recent service
    events and the last log lines of failed tasks.
  returned: failure
  type: list
  elements: dict
summary:
  description:
    - The release in a few lines - an aligned table with one row per service (revision before and after, image as
      repository, tag and short digest, strategy, duration, tasks running/desired, targets healthy/total, result) and, on
      failure, the reason in one line, the stopped tasks with their exit codes and stop reasons and the last log lines of
      the failing container. Print it instead of the whole result.
  returned: always (also on failure)
  type: list
  elements: str
  sample: ["release succeeded: 1 service(s)", "service  revision             image                  strategy  duration  tasks  targets  result",
           "users    users:4 -> users:5  users@0123456789ab     rolling   1m05s     2/2    2/2      completed"]
release_failed:
  description:
    - Whether the release failed. A playbook that registers the result with C(failed_when) false, to print
      RV(summary) rather than the whole result, fails on it afterwards (a result without it failed before the release
      began, for example on an invalid option).
  returned: always (also on failure)
  type: bool
progress:
  description: Every progress sample, as written to O(progress_file) (the release report draws its chart from them).
  returned: always (also on failure)
  type: list
  elements: dict
  sample: [{"t": 12.5, "service": "users", "purpose": "release", "status": "waiting", "rollout": "IN_PROGRESS",
            "running": 1, "desired": 2, "healthy": 1, "targets": 2, "event": "(service users) has started 1 tasks"}]
state_left:
  description: On failure, the state each service ended in (PRIMARY revision, rollout state, running and desired counts).
  returned: failure
  type: list
  elements: dict
"""

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.module import run_module
from ansible_collections.shipyard.ecs.plugins.module_utils._deploy.reported import run_release
from ansible_collections.shipyard.ecs.plugins.module_utils._deploy.spec import ARGUMENT_SPEC


def main():
    """Run one release; all logic lives in module_utils/_deploy."""
    run_module(ARGUMENT_SPEC, run_release)


if __name__ == "__main__":
    main()
