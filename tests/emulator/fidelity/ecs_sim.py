"""ECS services, deployments and tasks that progress on the virtual clock, as AWS documents.

moto creates one deployment per service and never changes it, launches no task and registers
no target. Here a service owns deployments (PRIMARY first, older ones ACTIVE) and tasks that
go PROVISIONING -> PENDING -> RUNNING -> (DEACTIVATING) -> STOPPING -> DEPROVISIONING -> STOPPED.
The ECS rolling update scheduler keeps (running + pending) tasks at or below
``maximumPercent`` and healthy tasks at or above ``minimumHealthyPercent`` of the desired
count; the deployment circuit breaker counts failed tasks per deployment and rolls back to the
last completed deployment. Container images behave as the control API says (``behaviours``).

Durations below are AWS seconds on the virtual clock; timestamps are wall-clock times.
"""

from __future__ import annotations

import copy
import math
import random
import uuid
from typing import Any, Dict, List, Optional, Tuple

from . import images, moto_records, strategies, task_logs
from .behaviours import Behaviours, ImageBehaviour, strategy
from .clock import VirtualClock
from .cloud_map import EcsRegistrations
from .container_instances import Fleet
from .containers import TaskContainers
from .placement import SERVICE_DEFAULT_STRATEGY
from .targets import TargetHealth

PROVISIONING_SECONDS = 5.0    # ENI attachment (awsvpc) / agent hand-off
PENDING_SECONDS = 10.0        # image pull and container start
STOPPING_SECONDS = 2.0        # SIGTERM to exit
DEPROVISIONING_SECONDS = 3.0  # ENI detachment
ONE_OFF_DEFAULT_RUN_SECONDS = 5.0
MAX_EVENTS = 100              # AWS returns the 100 most recent service events
MAX_STOPPED_TASKS = 1000      # per cluster; AWS keeps stopped tasks at least an hour
FARGATE_PLATFORM_VERSION = "1.4.0"
CIRCUIT_BREAKER_MIN, CIRCUIT_BREAKER_MAX = 3, 200
# Service throttle logic: after launches whose tasks went PENDING -> STOPPED, the scheduler waits
# longer and longer before the next launch, at most 27 minutes (AWS's documented maximum).
THROTTLE_FIRST_DELAY, THROTTLE_MAX_DELAY = 15.0, 27 * 60.0
THROTTLE_EVENT_AFTER = 2      # failed launches in a row before "unable to consistently start"

LIVE = ("PROVISIONING", "PENDING", "ACTIVATING", "RUNNING")


def _now_wall() -> Any:
    return moto_records.utcnow()


def circuit_breaker_threshold(desired_count: int) -> int:
    """AWS: 0.5 x desired count, rounded up, at least 3 and at most 200 failed tasks."""
    return min(max(CIRCUIT_BREAKER_MIN, int(math.ceil(0.5 * desired_count))), CIRCUIT_BREAKER_MAX)


def _deployment_id() -> str:
    return "ecs-svc/%d" % random.randint(10 ** 18, 10 ** 19 - 1)


class TaskSim:
    """Life cycle of one task (service task or one-off)."""

    def __init__(self, task: Any, service: Optional["ServiceSim"], deployment: Optional["Deployment"],
                 behaviour: ImageBehaviour, now: float, task_definition: Any, instance: Any = None,
                 availability_zone: Optional[str] = None, waiting_for_capacity: bool = False) -> None:
        self.task = task
        # The container instance the task runs on (EC2; None: Fargate, or not placed yet) and its zone.
        self.instance = instance
        self.availability_zone = availability_zone
        # A capacity provider task that no instance has room for yet: PROVISIONING until one has.
        self.waiting_for_capacity = waiting_for_capacity
        # Cloud Map services (registry ARNs) the task is registered in.
        self.registered_in: List[str] = []
        self.service = service
        self.deployment = deployment
        self.behaviour = behaviour
        self.task_definition = task_definition
        self.status = "PROVISIONING"
        self.due: Optional[float] = None if waiting_for_capacity else now + PROVISIONING_SECONDS
        self.running_since: Optional[float] = None
        self.targets: List[Tuple[Any, Dict[str, Any]]] = []
        self.counted_failure = False
        # The service's launch round this task belongs to (service throttle logic).
        self.launch_round = service.launch_rounds if service is not None else 0
        # The containers' start order, health and exits (None until the images are pulled), and
        # when one of them may start or exit next once the task runs.
        self.containers: Optional[TaskContainers] = None
        self.container_due: Optional[float] = None
        # Container health checks: when the task's health status changes next, and to what.
        self.health_due: Optional[float] = None
        self.health_next: Optional[str] = None

    @property
    def live(self) -> bool:
        return self.task.desired_status == "RUNNING" and self.status in LIVE

    @property
    def short_id(self) -> str:
        return self.task.id

    @property
    def instance_id(self) -> Optional[str]:
        return self.instance.instance_id if self.instance is not None else None


class Deployment:
    """One ECS deployment of a service (rolling update controller)."""

    def __init__(self, service: "ServiceSim", task_definition: str, desired_count: int, reason: Optional[str] = None) -> None:
        self.id = _deployment_id()
        self.service = service
        self.status = "PRIMARY"
        self.task_definition = task_definition
        self.desired_count = desired_count
        self.rollout_state = "IN_PROGRESS"
        self.rollout_state_reason = reason or "ECS deployment %s in progress." % self.id
        self.failed_tasks = 0
        self.created_at = self.updated_at = _now_wall()
        self.finished_at: Optional[Any] = None
        self.launch_type = service.launch_type
        self.capacity_provider_strategy = service.capacity_provider_strategy
        self.network_configuration = service.network_configuration
        self.platform_version = service.platform_version
        self.tasks: List[TaskSim] = []
        self.rollback_to: Optional[str] = None
        # The deployment the circuit breaker started to roll this one back.
        self.rollback_started: Optional["Deployment"] = None
        self.source_deployments: List[str] = []
        self.circuit_breaker_status = "MONITORING" if service.circuit_breaker["enable"] else "DISABLED"
        # What this deployment runs with; later UpdateService calls change the service's, not this.
        self.deployment_configuration = copy.deepcopy(service.deployment_configuration)
        self.deployment_arn = "arn:aws:ecs:%s:%s:service-deployment/%s/%s/%s" % (
            service.region, service.account_id, service.cluster_name, service.name, uuid.uuid4().hex[:22])
        self.revision_arn = "arn:aws:ecs:%s:%s:service-revision/%s/%s/%d" % (
            service.region, service.account_id, service.cluster_name, service.name, random.randint(10 ** 18, 10 ** 19 - 1))
        self.stopped = False
        # BLUE_GREEN / CANARY / LINEAR: the lifecycle of this deployment (None: rolling update).
        self.strategy_run: Optional[strategies.StrategyRun] = None

    def live_tasks(self) -> List[TaskSim]:
        return [t for t in self.tasks if t.live]

    def counts(self) -> Tuple[int, int]:
        running = sum(1 for t in self.tasks if t.live and t.status == "RUNNING")
        pending = sum(1 for t in self.tasks if t.live and t.status != "RUNNING")
        return running, pending

    def render(self) -> Dict[str, Any]:
        running, pending = self.counts()
        doc: Dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "taskDefinition": self.task_definition,
            "desiredCount": self.desired_count,
            "pendingCount": pending,
            "runningCount": running,
            "failedTasks": self.failed_tasks,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "rolloutState": self.rollout_state,
            "rolloutStateReason": self.rollout_state_reason,
        }
        if self.capacity_provider_strategy:
            doc["capacityProviderStrategy"] = self.capacity_provider_strategy
        elif self.launch_type:
            doc["launchType"] = self.launch_type
        if self.service.fargate:
            doc["platformVersion"] = FARGATE_PLATFORM_VERSION
            doc["platformFamily"] = "Linux"
        if self.network_configuration:
            doc["networkConfiguration"] = self.network_configuration
        return doc


class ServiceSim:
    """The scheduler's view of one ECS service."""

    def __init__(self, sim: "Simulation", service: Any, backend: Any, params: Dict[str, Any]) -> None:
        self.sim = sim
        self.service = service
        self.backend = backend
        self.name = service.name
        self.cluster_name = service.cluster_name
        self.region = service.region_name
        self.account_id = backend.account_id
        self.launch_type = params.get("launchType")
        self.capacity_provider_strategy = params.get("capacityProviderStrategy") or None
        if not self.launch_type and not self.capacity_provider_strategy:
            cluster = backend.clusters.get(self.cluster_name)
            default = getattr(cluster, "default_capacity_provider_strategy", None) if cluster else None
            if default:
                self.capacity_provider_strategy = default
            else:
                self.launch_type = "EC2"
        self.network_configuration = params.get("networkConfiguration") or None
        self.platform_version = params.get("platformVersion")
        self.load_balancers = params.get("loadBalancers") or []
        self.service_registries = params.get("serviceRegistries") or []
        # (constraints, strategies) for EC2 placement; AWS's default strategy when none is given.
        self.placement: Tuple[List[Dict[str, Any]], List[Dict[str, Any]]] = (
            params.get("placementConstraints") or [],
            params.get("placementStrategy") or list(SERVICE_DEFAULT_STRATEGY))
        self.deployment_configuration = normalise_deployment_configuration(params.get("deploymentConfiguration"))
        self.grace_period = int(params.get("healthCheckGracePeriodSeconds") or 0)
        self.deployments: List[Deployment] = []
        self.history: List[Deployment] = []
        self.events: List[Dict[str, Any]] = []
        self.last_completed: Optional[Deployment] = None
        self.steady = False
        self.unplaceable_reported: Any = False
        self.deleted = False
        self.created_at = _now_wall()
        # (verb, target group ARN) -> targets, flushed as one event per step like AWS does.
        self.pending_events: Dict[Tuple[str, str], int] = {}
        # Service throttle logic: launch rounds so far, failed rounds in a row, the last failed
        # round counted, and when the scheduler may launch again (None: now).
        self.launch_rounds = 0
        self.failed_rounds = 0
        self.last_failed_round = -1
        self.launch_at: Optional[float] = None
        # Load balancer binding index -> the target group taking production traffic (after a
        # blue/green deployment: the alternate one until the next).
        self.live_groups: Dict[int, str] = {}

    def failed_to_start(self, task: "TaskSim", now: float) -> None:
        """A task of this service went from PENDING to STOPPED: back off the next launch."""
        if task.launch_round <= self.last_failed_round:
            return
        self.last_failed_round = task.launch_round
        self.failed_rounds += 1
        delay = min(THROTTLE_FIRST_DELAY * 2 ** (self.failed_rounds - 1), THROTTLE_MAX_DELAY)
        self.launch_at = now + delay
        if self.failed_rounds == THROTTLE_EVENT_AFTER:
            self.event("is unable to consistently start tasks successfully.")

    def started(self) -> None:
        """A task reached RUNNING: launches are no longer throttled."""
        self.failed_rounds = 0
        self.launch_at = None

    def launch_allowed(self, now: float) -> bool:
        if self.launch_at is not None and now < self.launch_at:
            return False
        self.launch_at = None
        return True

    def flush_events(self) -> None:
        for (verb, arn), count in sorted(self.pending_events.items()):
            self.event("%s %d targets in (target-group %s)" % (verb, count, arn))
        self.pending_events.clear()

    @property
    def fargate(self) -> bool:
        if self.launch_type:
            return self.launch_type == "FARGATE"
        return bool(self.capacity_provider_strategy) and all(
            item.get("capacityProvider") in ("FARGATE", "FARGATE_SPOT") for item in self.capacity_provider_strategy)

    @property
    def circuit_breaker(self) -> Dict[str, bool]:
        breaker = self.deployment_configuration.get("deploymentCircuitBreaker") or {}
        return {"enable": bool(breaker.get("enable")), "rollback": bool(breaker.get("rollback"))}

    @property
    def primary(self) -> Deployment:
        return self.deployments[0]

    def event(self, message: str) -> None:
        self.events.insert(0, {"id": str(uuid.uuid4()), "createdAt": _now_wall(), "message": "(service %s) %s" % (self.name, message)})
        del self.events[MAX_EVENTS:]

    def new_deployment(self, task_definition: str, reason: Optional[str] = None) -> Deployment:
        if not self.deployments or self.deployments[0].task_definition != task_definition:
            # A new task definition returns a throttled service to normal operation at once.
            self.started()
        deployment = Deployment(self, task_definition, self.service.desired_count, reason)
        deployment.source_deployments = [d.id for d in self.deployments]
        if strategies.strategy_of(deployment.deployment_configuration) != "ROLLING" and self.deployments \
                and reason is None:
            deployment.strategy_run = strategies.StrategyRun(deployment, self.deployments[0], self.sim.time())
        for older in self.deployments:
            older.status = "ACTIVE"
            older.updated_at = _now_wall()
        self.deployments.insert(0, deployment)
        self.history.insert(0, deployment)
        self.steady = False
        return deployment

    def all_tasks(self) -> List[TaskSim]:
        return [t for d in self.deployments for t in d.tasks]

    def render(self) -> None:
        service = self.service
        primary = self.primary if self.deployments else None
        if primary is not None:
            primary.desired_count = service.desired_count
            service.task_definition = primary.task_definition
        for older in self.deployments[1:]:
            older.desired_count = len(older.live_tasks())
        service.deployments = [d.render() for d in self.deployments]
        service.events = list(self.events)
        running = pending = 0
        for deployment in self.deployments:
            r, p = deployment.counts()
            running += r
            pending += p
        service.running_count = running
        service.pending_count = pending
        service.deployment_configuration = self.deployment_configuration
        service.health_check_grace_period_seconds = self.grace_period
        service.created_at = self.created_at
        service.launch_type = self.launch_type
        service.capacity_provider_strategy = self.capacity_provider_strategy
        if self.fargate:
            service.platform_version = FARGATE_PLATFORM_VERSION if not self.platform_version or self.platform_version == "LATEST" else self.platform_version
            service.platform_family = "Linux"


def normalise_deployment_configuration(config: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """AWS's defaults for a REPLICA service with the ECS deployment controller."""
    result: Dict[str, Any] = {
        "deploymentCircuitBreaker": {"enable": False, "rollback": False},
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
    }
    for key, value in (config or {}).items():
        if value is not None:
            result[key] = value
    return result


class Simulation:
    """All simulated services and tasks of the emulator process."""

    def __init__(self, clock: VirtualClock, behaviours: Behaviours) -> None:
        self.clock = clock
        self.behaviours = behaviours
        self.targets = TargetHealth(self.time)
        self.targets.probe = self._probe
        self.services: Dict[Tuple[str, str, str, str], ServiceSim] = {}
        self.tasks: Dict[str, TaskSim] = {}
        self.fleet = Fleet(self)
        self.registrations = EcsRegistrations()
        self._now: Optional[float] = None

    # time ------------------------------------------------------------------------------------
    def time(self) -> float:
        """Virtual now (the step being applied while advancing, else the clock)."""
        return self._now if self._now is not None else self.clock.now()

    def reset(self) -> None:
        self.services.clear()
        self.tasks.clear()
        self.targets.reset()
        self.fleet.reset()
        self._now = None

    def advance(self) -> None:
        """Apply every transition due up to the clock's now, in time order."""
        target = self.clock.now()
        for _event in range(20000):
            due = self._next_due()
            if due is None or due > target:
                break
            self._now = max(due, self._now or 0.0)
            self._step()
        self._now = target
        try:
            self._step()
        finally:
            self._now = None

    def _next_due(self) -> Optional[float]:
        due = self.targets.next_due()
        when = self.fleet.next_due()
        if when is not None and (due is None or when < due):
            due = when
        for task in self.tasks.values():
            for when in (task.due, task.health_due, task.container_due):
                if when is not None and (due is None or when < due):
                    due = when
        for service in self.services.values():
            when = service.launch_at
            if when is not None and (due is None or when < due):
                due = when
            run = service.deployments[0].strategy_run if service.deployments else None
            when = run.next_due() if run is not None else None
            if when is not None and (due is None or when < due):
                due = when
        return due

    def _step(self) -> None:
        now = self.time()
        self.fleet.sync(now)
        self.fleet.place_waiting(now)
        for task in list(self.tasks.values()):
            while task.due is not None and task.due <= now:
                self._task_transition(task)
            if task.health_due is not None and task.health_due <= now:
                self._health_transition(task)
            if task.container_due is not None and task.container_due <= now:
                task.container_due = None
                if task.live and task.status == "RUNNING":
                    self._containers_step(task, task.task, now)
        for group, target in self.targets.step(now):
            self._target_changed(group, target)
        for service in list(self.services.values()):
            service.flush_events()
            self._schedule(service)
            service.flush_events()
            service.render()
        self.fleet.scale()
        self.fleet.render()
        self._refresh_clusters()

    # tasks -------------------------------------------------------------------------------------
    def behaviour_of(self, task_definition: Any) -> ImageBehaviour:
        """First non-healthy behaviour among the essential containers' images."""
        for container in task_definition.container_definitions:
            if container.get("essential", True) is False:
                continue
            behaviour = self.behaviours.for_image(container.get("image"))
            if behaviour["kind"] != "healthy":
                return strategy(behaviour, container.get("image"))
        return ImageBehaviour()

    def adopt_task(self, task: Any, task_definition: Any, service: Optional[ServiceSim],
                   deployment: Optional[Deployment], instance: Any = None,
                   availability_zone: Optional[str] = None) -> TaskSim:
        """Take over the life cycle of a moto task just created (on ``instance``, or waiting for one)."""
        waiting = instance is None and bool(task.capacity_provider_name) and \
            task.capacity_provider_name not in ("FARGATE", "FARGATE_SPOT") and not task.platform_version
        sim = TaskSim(task, service, deployment, self.behaviour_of(task_definition), self.time(), task_definition,
                      instance, availability_zone, waiting_for_capacity=waiting)
        moto_records.dress_task(task, task_definition, self, availability_zone)
        moto_records.set_task_status(task, "PROVISIONING")
        self.tasks[task.task_arn] = sim
        if deployment is not None:
            deployment.tasks.append(sim)
        return sim

    def assign_instance(self, sim: TaskSim, instance: Any, now: float) -> None:
        """A task that waited for capacity is placed: its provisioning starts now."""
        sim.waiting_for_capacity = False
        sim.instance = instance
        moto_records.place_task(sim.task, sim.task_definition, instance.arn, self)
        sim.availability_zone = moto_records.task_zone(sim.task, instance)
        sim.task.availability_zone = sim.availability_zone or sim.task.availability_zone
        sim.due = now + PROVISIONING_SECONDS

    def _task_transition(self, sim: TaskSim) -> None:
        """Apply the task's transition that is due: one method per status, in TASK_STEPS."""
        step = self.TASK_STEPS.get(sim.status)
        if step is None:
            sim.due = None
            return
        step(self, sim, sim.task, sim.due or self.time())

    def _after_provisioning(self, sim: TaskSim, task: Any, due: float) -> None:
        """ENI attached: PENDING (image pull and container start)."""
        sim.status = "PENDING"
        moto_records.set_task_status(task, "PENDING")
        task.pull_started_at = _now_wall()
        sim.due = due + sim.behaviour.pending_seconds(PENDING_SECONDS)

    def _after_pending(self, sim: TaskSim, task: Any, due: float) -> None:
        """Images pulled (or STOPPED when an image or the log group fails); containers start in
        dependency order; RUNNING once every essential container runs."""
        if sim.containers is None:
            if not self._pull(sim, task):
                return
            sim.containers = TaskContainers(sim.task_definition, self.behaviours.for_image)
            task.pull_stopped_at = _now_wall()
        self._containers_step(sim, task, due)

    def _containers_step(self, sim: TaskSim, task: Any, due: float) -> None:
        """Start the containers whose conditions hold, record the non-essential ones that exited."""
        assert sim.containers is not None
        started, exited, failure = sim.containers.step(due)
        by_name = {c["name"]: c for c in task.containers}
        for run in started:
            container = by_name[run.name]
            container["lastStatus"] = "RUNNING"
            container["imageDigest"] = images.digest_of(container.get("image"))
            # Fargate: "<task id>-<number>"; a container instance: Docker's 64-hex container id.
            container["runtimeId"] = ("%s-%010d" % (task.id, random.randint(0, 10 ** 10 - 1))
                                      if task.platform_version else uuid.uuid4().hex + uuid.uuid4().hex)
            task_logs.write(task, sim.task_definition, {run.name: _start_lines(run.definition)})
        for run in exited:
            container = by_name[run.name]
            container["lastStatus"] = "STOPPED"
            container["exitCode"] = run.exit_code
            task_logs.write(task, sim.task_definition, {run.name: _exit_lines(run.exit_code or 0)})
        if failure:
            sim.container_due = None
            self._begin_stop(sim, "TaskFailedToStart", failure, failed=True)
            return
        if sim.status == "PENDING":
            if sim.containers.essential_running():
                self._task_running(sim, task, due)
            else:
                sim.due = sim.containers.next_due(due)
                return
        sim.container_due = sim.containers.next_due(due)

    def _pull(self, sim: TaskSim, task: Any) -> bool:
        """Pull the images and create the log streams; False: the task failed to start."""
        reason = sim.behaviour.pull_failure()
        if reason:
            self._begin_stop(sim, "TaskFailedToStart", reason, failed=True, container_reason=reason,
                             image=sim.behaviour.image)
            return False
        for container in sim.task_definition.container_definitions:
            reason = images.pull_failure(container.get("image"))
            if reason:
                self._begin_stop(sim, "TaskFailedToStart", reason, failed=True, container_reason=reason,
                                 image=container.get("image"))
                return False
        failure = task_logs.start_failure(task, sim.task_definition)
        if failure:
            self._begin_stop(sim, "TaskFailedToStart", failure, failed=True)
            return False
        return True

    def _task_running(self, sim: TaskSim, task: Any, due: float) -> None:
        """Every essential container runs: the task is RUNNING."""
        sim.status = "RUNNING"
        sim.running_since = due
        if sim.service is not None:
            sim.service.started()
        task.started_at = _now_wall()
        task.connectivity = "CONNECTED"
        task.connectivity_at = _now_wall()
        moto_records.set_task_status(task, "RUNNING")
        run = sim.behaviour.runs_for(ONE_OFF_DEFAULT_RUN_SECONDS if sim.service is None else None)
        sim.due = None if run is None else due + run
        checks = _health_checks(sim.task_definition)
        if checks:
            self._schedule_health(sim, due, checks)
        if sim.service is not None and sim.service.load_balancers:
            self._register_targets(sim)
        if sim.service is not None and sim.service.service_registries:
            self.registrations.register(sim, False if checks else None)

    def _after_running(self, sim: TaskSim, task: Any, due: float) -> None:
        """An essential container exited by itself."""
        code = sim.behaviour.exit_code()
        task_logs.write(task, sim.task_definition, {"*": _exit_lines(code)})
        self._begin_stop(sim, "EssentialContainerExited", "Essential container in task exited",
                         failed=sim.service is not None, exit_code=code)

    def _after_deactivating(self, sim: TaskSim, task: Any, due: float) -> None:
        """Targets drained: SIGTERM."""
        sim.status = "STOPPING"
        moto_records.set_task_status(task, "STOPPING")
        task.stopping_at = task.stopping_at or _now_wall()
        sim.due = due + STOPPING_SECONDS

    def _after_stopping(self, sim: TaskSim, task: Any, due: float) -> None:
        """Containers stopped: DEPROVISIONING."""
        sim.status = "DEPROVISIONING"
        moto_records.set_task_status(task, "DEPROVISIONING")
        task.execution_stopped_at = _now_wall()
        for container in task.containers:
            if container["lastStatus"] != "STOPPED":
                container["lastStatus"] = "STOPPED"
                if container.get("exitCode") is None and container.get("runtimeId"):
                    # SIGTERM from the scheduler or the user: the process exits 0 or 143.
                    container["exitCode"] = 0
        sim.due = due + DEPROVISIONING_SECONDS

    def _after_deprovisioning(self, sim: TaskSim, task: Any, due: float) -> None:
        """ENI detached: STOPPED."""
        sim.status = "STOPPED"
        sim.due = None
        moto_records.set_task_status(task, "STOPPED")
        task.stopped_at = _now_wall()
        moto_records.release_eni(task)
        self._forget_old_stopped(task.cluster_name)

    TASK_STEPS: Dict[str, Any] = {
        "PROVISIONING": _after_provisioning,
        "PENDING": _after_pending,
        "RUNNING": _after_running,
        "DEACTIVATING": _after_deactivating,
        "STOPPING": _after_stopping,
        "DEPROVISIONING": _after_deprovisioning,
    }

    def _schedule_health(self, sim: TaskSim, running_at: float, checks: Dict[str, Dict[str, Any]]) -> None:
        """Docker's first check runs one interval after start; failures count after startPeriod."""
        healthy = sim.behaviour.answers_health_checks()
        check = max(checks.values(), key=lambda c: int(c.get("interval") or 30))
        interval = int(check.get("interval") or 30)
        if healthy:
            sim.health_due, sim.health_next = running_at + interval, "HEALTHY"
        else:
            retries = int(check.get("retries") or 3)
            sim.health_due = running_at + max(int(check.get("startPeriod") or 0), interval) + interval * (retries - 1)
            sim.health_next = "UNHEALTHY"

    def _health_transition(self, sim: TaskSim) -> None:
        status, sim.health_due, sim.health_next = sim.health_next, None, None
        if sim.status != "RUNNING" or not sim.live or status is None:
            return
        sim.task.health_status = status
        checks = _health_checks(sim.task_definition)
        for container in sim.task.containers:
            if container["name"] in checks:
                container["healthStatus"] = status
        self.registrations.health_changed(sim, status)

    def _begin_stop(self, sim: TaskSim, stop_code: str, reason: str, failed: bool = False, exit_code: Optional[int] = None,
                    container_reason: Optional[str] = None, image: Optional[str] = None) -> None:
        """Desired status STOPPED: drain targets (if healthy stop), then stop."""
        task = sim.task
        if task.desired_status == "STOPPED" and sim.status not in LIVE:
            return
        was_running = sim.status == "RUNNING"
        task.desired_status = "STOPPED"
        task.stop_code = stop_code
        task.stopped_reason = reason
        task.stopping_at = _now_wall()
        for container in task.containers:
            if exit_code is not None and container.get("essential", True):
                container["exitCode"] = exit_code
                container["lastStatus"] = "STOPPED"
            if container_reason and (image is None or container["image"] == image):
                container["reason"] = container_reason
                container["lastStatus"] = "STOPPED"
        if sim.registered_in:
            self.registrations.deregister(sim)
        if stop_code == "TaskFailedToStart" and sim.service is not None:
            sim.service.failed_to_start(sim, self.time())
        if failed and sim.deployment is not None and not sim.counted_failure:
            sim.counted_failure = True
            sim.deployment.failed_tasks += 1
            sim.deployment.updated_at = _now_wall()
        if was_running and stop_code in ("ServiceSchedulerInitiated", "UserInitiated"):
            task_logs.write(task, sim.task_definition, {"*": ["Received SIGTERM, shutting down gracefully"]})
        now = self.time()
        drain = 0.0
        if sim.targets:
            drain = self._deregister_targets(sim)
        if was_running and drain > 0 and stop_code == "ServiceSchedulerInitiated" and exit_code is None:
            # The scheduler waits for the load balancer to drain connections first.
            sim.status = "DEACTIVATING"
            moto_records.set_task_status(task, "DEACTIVATING")
            sim.due = now + drain
        else:
            sim.status = "STOPPING"
            moto_records.set_task_status(task, "STOPPING")
            sim.due = now + (STOPPING_SECONDS if was_running else 0.0)

    def stop_by_user(self, sim: TaskSim, reason: str) -> None:
        self._begin_stop(sim, "UserInitiated", reason or "Task stopped by user")

    def _forget_old_stopped(self, cluster_name: str) -> None:
        stopped = [arn for arn, sim in self.tasks.items() if sim.status == "STOPPED" and sim.task.cluster_name == cluster_name]
        for arn in stopped[:-MAX_STOPPED_TASKS] if len(stopped) > MAX_STOPPED_TASKS else []:
            sim = self.tasks.pop(arn)
            moto_records.forget_task(sim.task)
            if sim.deployment is not None and sim in sim.deployment.tasks:
                sim.deployment.tasks.remove(sim)

    # targets -----------------------------------------------------------------------------------
    def _probe(self, _group: Any, target: Any) -> bool:
        # An address and port come back to a new task once the old one has stopped (ENIs are
        # reused in small subnets): the target is the newest task holding them, never a stopped one.
        for sim in reversed(list(self.tasks.values())):
            if sim.status == "STOPPED":
                continue
            for _tg, spec in sim.targets:
                if spec["Id"] == target.id and int(spec["Port"]) == target.port:
                    return sim.status == "RUNNING" and sim.behaviour.answers_health_checks()
        if target.id.startswith("i-"):
            return bool(moto_records.ec2_instance_running(target.id))
        return False

    def _register_targets(self, sim: TaskSim) -> None:
        service = sim.service
        assert service is not None
        registered: Dict[str, int] = {}
        run = sim.deployment.strategy_run if sim.deployment is not None else None
        for index, binding in enumerate(service.load_balancers):
            arn = run.green_group(index, binding) if run is not None else \
                service.live_groups.get(index, binding.get("targetGroupArn"))
            group = moto_records.target_group(service.account_id, service.region, arn)
            if group is None:
                continue
            spec = _target_for(sim, group, binding)
            if spec is None:
                continue
            self.targets.register(group, [spec])
            sim.targets.append((group, spec))
            registered[group.arn] = registered.get(group.arn, 0) + 1
        for arn, count in registered.items():
            service.pending_events.setdefault(("registered", arn), 0)
            service.pending_events[("registered", arn)] += count

    def _deregister_targets(self, sim: TaskSim) -> float:
        service = sim.service
        longest = 0.0
        by_group: Dict[str, int] = {}
        for group, spec in sim.targets:
            if (spec["Id"], int(spec["Port"])) not in self.targets.table(group):
                continue
            self.targets.deregister(group, [spec])
            delay = float(group.attributes.get("deregistration_delay.timeout_seconds", 300))
            longest = max(longest, delay)
            by_group[group.arn] = by_group.get(group.arn, 0) + 1
        if service is not None:
            for arn, count in by_group.items():
                service.pending_events.setdefault(("deregistered", arn), 0)
                service.pending_events[("deregistered", arn)] += count
        return longest

    def _target_changed(self, group: Any, target: Any) -> None:
        if target.state != "unhealthy":
            return
        for sim in self.tasks.values():
            if sim.service is None or not sim.live:
                continue
            for tg, spec in sim.targets:
                if tg is group and spec["Id"] == target.id and int(spec["Port"]) == target.port:
                    sim.service.event("(port %s) is unhealthy in (target-group %s) due to (reason %s)."
                                      % (spec["Port"], group.arn, target.description))

    def _task_healthy(self, sim: TaskSim) -> bool:
        if sim.status != "RUNNING" or not sim.live:
            return False
        if _health_checks(sim.task_definition) and sim.task.health_status != "HEALTHY":
            return False
        for group, spec in sim.targets:
            target = self.targets.table(group).get((spec["Id"], int(spec["Port"])))
            if target is None or target.state != "healthy":
                return False
        return True

    def _task_failed_health(self, sim: TaskSim, now: float) -> Optional[Any]:
        """The target group whose health check the task failed, once the grace period is over."""
        if sim.status != "RUNNING" or sim.service is None:
            return None
        if sim.running_since is not None and now < sim.running_since + sim.service.grace_period:
            return None
        for group, spec in sim.targets:
            target = self.targets.table(group).get((spec["Id"], int(spec["Port"])))
            if target is not None and target.state == "unhealthy":
                return group
        return None

    # the service scheduler ------------------------------------------------------------------------
    def _schedule(self, service: ServiceSim) -> None:
        if not service.deployments:
            return
        now = self.time()
        # 1. Replace tasks that failed their container or ELB health checks (ELB: after the
        #    grace period).
        for sim in service.all_tasks():
            if sim.live and sim.task.health_status == "UNHEALTHY":
                self._begin_stop(sim, "ServiceSchedulerInitiated", "Task failed container health checks", failed=True)
                service.event("has stopped 1 running tasks: (task %s)." % sim.short_id)
            if sim.live:
                group = self._task_failed_health(sim, now)
                if group is not None:
                    self._begin_stop(sim, "ServiceSchedulerInitiated",
                                     "Task failed ELB health checks in (target-group %s)" % group.arn, failed=True)
                    service.event("has stopped 1 running tasks: (task %s)." % sim.short_id)
        if service.deleted:
            stopping = [t for t in service.all_tasks() if t.live]
            for sim in stopping:
                self._begin_stop(sim, "ServiceSchedulerInitiated", "Service deleted")
            if service.service.status == "DRAINING" and all(t.status == "STOPPED" for t in service.all_tasks()):
                service.service.status = "INACTIVE"
            return
        self._strategy_housekeeping(service, now)
        primary = service.primary
        run = primary.strategy_run
        if run is not None and not run.finished and not run.rollback_applied:
            self._strategy_step(service, run, now)
            if service.primary is primary:
                return
            primary = service.primary
        self._circuit_breaker(service)
        primary = service.primary
        desired = service.service.desired_count
        config = service.deployment_configuration
        max_total = int(math.floor(desired * int(config.get("maximumPercent", 200)) / 100.0))
        min_healthy = int(math.ceil(desired * int(config.get("minimumHealthyPercent", 100)) / 100.0))
        old_live = [t for d in service.deployments[1:] for t in d.live_tasks()]
        primary_live = primary.live_tasks()

        # 2. Scale the primary down if it has more tasks than desired (newest first).
        if len(primary_live) > desired:
            extra = sorted(primary_live, key=lambda t: (t.status == "RUNNING", t.running_since or 0))[: len(primary_live) - desired]
            draining = [t for t in extra if t.targets]
            for sim in extra:
                self._begin_stop(sim, "ServiceSchedulerInitiated", "Scaling activity initiated by (deployment %s)" % primary.id)
            if draining:
                service.event("has begun draining connections on %d tasks." % len(draining))
            if extra:
                service.event("has stopped %d running tasks: %s." % (len(extra), " ".join("(task %s)" % t.short_id for t in extra)))
            primary_live = primary.live_tasks()

        # 3. Stop old tasks the healthy count allows; unhealthy/pending old tasks go first.
        healthy = sum(1 for t in primary_live + old_live if self._task_healthy(t))
        stoppable = []
        for sim in sorted(old_live, key=self._task_healthy):
            if not self._task_healthy(sim):
                stoppable.append(sim)
            elif healthy - 1 >= min_healthy or healthy - 1 >= desired:
                healthy -= 1
                stoppable.append(sim)
        if stoppable:
            draining = [t for t in stoppable if t.targets]
            for sim in stoppable:
                self._begin_stop(sim, "ServiceSchedulerInitiated", "Scaling activity initiated by (deployment %s)" % primary.id)
            if draining:
                service.event("has begun draining connections on %d tasks." % len(draining))
            service.event("has stopped %d running tasks: %s." % (len(stoppable), " ".join("(task %s)" % t.short_id for t in stoppable)))
            old_live = [t for d in service.deployments[1:] for t in d.live_tasks()]

        # 4. Start primary tasks within maximumPercent; a deployment the circuit breaker
        #    failed (without a rollback to go to) launches no more tasks.
        if not (primary.rollout_state == "FAILED" and service.circuit_breaker["enable"]) \
                and service.launch_allowed(now):
            # Tasks still draining connections count against maximumPercent until they stop.
            occupying = [t for d in service.deployments for t in d.tasks if t.live or t.status == "DEACTIVATING"]
            room = min(desired - len(primary_live), max_total - len(occupying))
            if room > 0:
                service.launch_rounds += 1
                started = self._launch(service, primary, room)
                if started:
                    service.event("has started %d tasks: %s." % (len(started), " ".join("(task %s)" % t.short_id for t in started)))

        # 5. Drop deployments that have no task left; complete the primary.
        for older in list(service.deployments[1:]):
            # A deployment stays listed until its last task has stopped.
            if not any(t.status != "STOPPED" for t in older.tasks):
                older.status = "INACTIVE"
                older.finished_at = older.finished_at or _now_wall()
                service.deployments.remove(older)
        primary = service.primary
        running_healthy = sum(1 for t in primary.live_tasks() if self._task_healthy(t))
        settled = (len(service.deployments) == 1 and running_healthy == desired
                   and len(primary.live_tasks()) == desired)
        if primary.rollout_state == "IN_PROGRESS" and settled:
            primary.rollout_state = "COMPLETED"
            primary.rollout_state_reason = "ECS deployment %s completed." % primary.id
            primary.updated_at = primary.finished_at = _now_wall()
            if primary.circuit_breaker_status == "MONITORING":
                primary.circuit_breaker_status = "MONITORING_COMPLETE"
            service.last_completed = primary
            service.event("(deployment %s) deployment completed." % primary.id)
        if settled and not service.steady and primary.rollout_state == "COMPLETED":
            service.steady = True
            service.event("has reached a steady state.")
        elif not settled:
            service.steady = False

    # BLUE_GREEN / CANARY / LINEAR (strategies.py) -------------------------------------------------
    def _elb(self, service: ServiceSim) -> Any:
        from moto.elbv2.models import elbv2_backends

        return elbv2_backends[service.account_id][service.region]

    def _strategy_housekeeping(self, service: ServiceSim, now: float) -> None:
        """A rolled-back deployment is ROLLBACK_SUCCESSFUL once its green tasks have stopped."""
        for deployment in service.history[:5]:
            run = deployment.strategy_run
            if run is None or not run.rollback_applied or run.finished:
                continue
            if all(t.status == "STOPPED" for t in deployment.tasks):
                run.result = "ROLLBACK_SUCCESSFUL"
                run.finished_at = deployment.finished_at = _now_wall()

    def _strategy_step(self, service: ServiceSim, run: "strategies.StrategyRun", now: float) -> None:
        green = run.deployment
        desired = service.service.desired_count
        if run.rollback is None and service.circuit_breaker["enable"] and \
                green.failed_tasks >= circuit_breaker_threshold(desired):
            green.circuit_breaker_status = "TRIGGERED"
            if not service.circuit_breaker["rollback"]:
                # Without rollback the deployment fails where it is (traffic as it was, blue running).
                run.result = "STOPPED"
                run.status_reason = "ECS deployment circuit breaker: tasks failed to start."
                green.rollout_state, green.rollout_state_reason = "FAILED", run.status_reason
                green.updated_at = green.finished_at = run.finished_at = _now_wall()
                service.event("(deployment %s) deployment failed: tasks failed to start." % green.id)
                return
            run.start_rollback("Service deployment rolled back because the circuit breaker threshold was exceeded.",
                               "Circuit Breaker")
        for hook in run.awaiting():
            if now >= hook.due:
                hook.status = "TIMED_OUT"
                if hook.timeout_action == "ROLLBACK":
                    run.start_rollback("Service deployment rolled back because lifecycle hook %s timed out." % hook.id,
                                       "Lifecycle hook timeout")
        if run.rollback is not None:
            self._strategy_rollback(service, run)
            return
        for _stage in range(len(strategies.STAGES) + 1):
            if run.stage_index >= strategies.STAGES.index("SCALE_UP"):
                self._strategy_scale_green(service, run, now)
            if not run.stage_entered:
                run.stage_entered = True
                run.enter_hooks(strategies.hook_stages(run.stage), now)
                green.updated_at = _now_wall()
            if run.awaiting():
                return
            if not self._strategy_stage_done(service, run, now):
                return
            run.stage_index += 1
            run.stage_entered = False
            run.wait_until = None
            if run.stage_index >= len(strategies.STAGES):
                self._strategy_complete(service, run)
                return

    def _strategy_scale_green(self, service: ServiceSim, run: "strategies.StrategyRun", now: float) -> None:
        green = run.deployment
        missing = service.service.desired_count - len(green.live_tasks())
        if missing > 0 and service.launch_allowed(now):
            service.launch_rounds += 1
            started = self._launch(service, green, missing)
            if started:
                service.event("has started %d tasks: %s." % (len(started), " ".join("(task %s)" % t.short_id for t in started)))

    def _strategy_stage_done(self, service: ServiceSim, run: "strategies.StrategyRun", now: float) -> bool:
        stage, green, elb = run.stage, run.deployment, self._elb(service)
        desired = service.service.desired_count
        if stage == "SCALE_UP":
            live = green.live_tasks()
            return len(live) == desired and all(self._task_healthy(t) for t in live)
        if stage == "TEST_TRAFFIC_SHIFT":
            strategies.shift(elb, run, "testListenerRule", 100.0)
            return True
        if stage == "PRODUCTION_TRAFFIC_SHIFT":
            target = strategies.production_target(run, now)
            if target is None:
                return False
            strategies.shift(elb, run, "productionListenerRule", target)
            run.shifted = target
            if target >= 100:
                return True
            run.wait_until = now + strategies.step_bake_seconds(run)
            return False
        if stage == "BAKE_TIME":
            if run.wait_until is None:
                run.wait_until = now + 60.0 * int(green.deployment_configuration.get("bakeTimeInMinutes") or 0)
            return now >= run.wait_until
        if stage == "CLEAN_UP":
            blue_live = [t for d in service.deployments[1:] for t in d.live_tasks()]
            if blue_live:
                draining = [t for t in blue_live if t.targets]
                for sim in blue_live:
                    self._begin_stop(sim, "ServiceSchedulerInitiated", "Scaling activity initiated by (deployment %s)" % green.id)
                if draining:
                    service.event("has begun draining connections on %d tasks." % len(draining))
                service.event("has stopped %d running tasks: %s." % (len(blue_live), " ".join("(task %s)" % t.short_id for t in blue_live)))
            return all(t.status == "STOPPED" for d in service.deployments[1:] for t in d.tasks)
        return True

    def _strategy_complete(self, service: ServiceSim, run: "strategies.StrategyRun") -> None:
        green = run.deployment
        for older in list(service.deployments[1:]):
            older.status = "INACTIVE"
            older.finished_at = older.finished_at or _now_wall()
            service.deployments.remove(older)
        for index, (_blue, green_group) in run.groups.items():
            service.live_groups[index] = green_group
        green.rollout_state = "COMPLETED"
        green.rollout_state_reason = "ECS deployment %s completed." % green.id
        green.updated_at = green.finished_at = run.finished_at = _now_wall()
        if green.circuit_breaker_status == "MONITORING":
            green.circuit_breaker_status = "MONITORING_COMPLETE"
        run.result = "SUCCESSFUL"
        service.last_completed = green
        service.event("(deployment %s) deployment completed." % green.id)

    def _strategy_rollback(self, service: ServiceSim, run: "strategies.StrategyRun") -> None:
        """Every weight back to blue, green tasks stopped, the service back on its blue deployment."""
        if run.rollback_applied:
            return
        run.rollback_applied = True
        green, blue = run.deployment, run.blue
        strategies.restore(self._elb(service), run.saved)
        live = green.live_tasks()
        for sim in live:
            self._begin_stop(sim, "ServiceSchedulerInitiated", "Scaling activity initiated by (deployment %s)" % blue.id)
        if live:
            service.event("has stopped %d running tasks: %s." % (len(live), " ".join("(task %s)" % t.short_id for t in live)))
        green.rollout_state = "FAILED"
        green.rollout_state_reason = run.status_reason or "Service deployment rolled back."
        green.updated_at = _now_wall()
        service.event("(deployment %s) deployment failed: %s" % (green.id, green.rollout_state_reason))
        service.event("rolling back to deployment %s." % blue.id)
        if blue in service.deployments:
            service.deployments.remove(blue)
        service.deployments.insert(0, blue)
        blue.status, green.status = "PRIMARY", "ACTIVE"
        blue.updated_at = _now_wall()
        service.service.task_definition = blue.task_definition

    def _circuit_breaker(self, service: ServiceSim) -> None:
        primary = service.primary
        breaker = service.circuit_breaker
        if not breaker["enable"] or primary.rollout_state != "IN_PROGRESS":
            return
        if primary.failed_tasks < circuit_breaker_threshold(service.service.desired_count):
            return
        primary.rollout_state = "FAILED"
        primary.rollout_state_reason = "ECS deployment circuit breaker: tasks failed to start."
        primary.updated_at = primary.finished_at = _now_wall()
        primary.circuit_breaker_status = "TRIGGERED"
        service.event("(deployment %s) deployment failed: tasks failed to start." % primary.id)
        previous = service.last_completed
        if breaker["rollback"] and previous is not None and previous.task_definition:
            service.event("rolling back to deployment %s." % previous.id)
            rollback = service.new_deployment(
                previous.task_definition,
                "ECS deployment circuit breaker: rolling back to deploymentId %s." % previous.id)
            rollback.rollback_to = previous.id
            primary.rollback_started = rollback
            service.service.task_definition = previous.task_definition

    def _launch(self, service: ServiceSim, deployment: Deployment, count: int) -> List[TaskSim]:
        try:
            return moto_records.launch_service_tasks(self, service, deployment, count)
        except moto_records.Unplaceable as exc:
            if service.unplaceable_reported != str(exc):
                # AWS omits a duplicate event until the cause is resolved (or six hours pass).
                service.unplaceable_reported = str(exc)
                reason = str(exc)
                if reason.startswith("No Container Instances"):
                    reason = "Reason: " + reason
                service.event("was unable to place a task because no container instance met all of its requirements. "
                              "%s For more information, see the Troubleshooting section of the Amazon ECS "
                              "Developer Guide." % reason)
            return []

    def _refresh_clusters(self) -> None:
        counts: Dict[Tuple[int, str], List[Any]] = {}
        for sim in self.tasks.values():
            entry = counts.setdefault((id(sim.task._backend), sim.task.cluster_name), [sim.task, 0, 0])
            if sim.live and sim.status == "RUNNING":
                entry[1] += 1
            elif sim.live:
                entry[2] += 1
        for task, running, pending in counts.values():
            moto_records.set_cluster_counts(task, running, pending)


def _health_checks(task_definition: Any) -> Dict[str, Dict[str, Any]]:
    """Container name -> healthCheck, for the essential containers that have one."""
    return {c.get("name"): c["healthCheck"] for c in task_definition.container_definitions
            if c.get("healthCheck") and c.get("essential", True) is not False}


def _exit_lines(code: int) -> List[str]:
    if code:
        return ["Traceback (most recent call last):", '  File "/app/manage.py", line 12, in <module>',
                "RuntimeError: fatal error, exiting with code %d" % code]
    return ["Done."]


def _start_lines(container: Dict[str, Any]) -> List[str]:
    lines = ["Starting %s (%s)" % (container.get("name"), container.get("image"))]
    for mapping in container.get("portMappings") or []:
        lines.append("Listening on 0.0.0.0:%s" % mapping.get("containerPort"))
    return lines


def _target_for(sim: TaskSim, group: Any, binding: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The (Id, Port) ECS registers for a task: ENI IP : containerPort, or instance : hostPort."""
    container_name = binding.get("containerName")
    container_port = int(binding.get("containerPort") or 0)
    if group.target_type == "ip":
        for attachment in getattr(sim.task, "attachments", []) or []:
            for detail in attachment.get("details", []):
                if detail.get("name") == "privateIPv4Address":
                    return {"Id": detail["value"], "Port": container_port}
        return None
    instance_id = sim.instance_id
    if not instance_id:
        return None
    for container in sim.task.containers:
        if container["name"] != container_name:
            continue
        for bound in container.get("networkBindings", []):
            if int(bound.get("containerPort", -1)) == container_port:
                return {"Id": instance_id, "Port": int(bound["hostPort"])}
    return None
