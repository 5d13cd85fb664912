"""EC2 container instances: registration by the ECS agent, resources, placement, managed scaling.

* An EC2 instance whose user data writes ``ECS_CLUSTER=<name>`` to /etc/ecs/ecs.config (as the
  ECS-optimized AMI's agent reads it; user data is base64) registers in that cluster
  ``AGENT_REGISTER_SECONDS`` after it is first seen running, with ``registeredResources``
  CPU = 1024 per vCPU, MEMORY = the memory the OS sees (ECS Developer Guide, "Reserving Amazon ECS
  Linux container instance memory": an m4.large's 8 GiB register as 7985 MiB) minus
  ``ECS_RESERVED_MEMORY``, PORTS = the agent's reserved ports. It is deregistered (and its tasks
  stopped) when the instance stops or terminates.
* ``remainingResources``, ``runningTasksCount`` and ``pendingTasksCount`` follow the tasks placed
  on the instance (resources are held until the task is STOPPED).
* Capacity providers with managed scaling ENABLED: tasks that cannot be placed wait in
  PROVISIONING, and the Auto Scaling group's desired capacity is raised (up to its maximum) so that
  CapacityProviderReservation = M / N x 100 reaches ``targetCapacity`` (ECS Developer Guide,
  "Amazon ECS cluster auto scaling" / "Managed scaling behavior").
"""

from __future__ import annotations

import base64
import math
import re
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from . import moto_records, placement

if TYPE_CHECKING:
    from .ecs_sim import Simulation, TaskSim

AGENT_REGISTER_SECONDS = 30.0   # boot, ecs-init, agent registration
# vCPUs and installed MiB of common instance types (EC2 User Guide, instance type specifications).
INSTANCE_TYPES: Dict[str, Tuple[int, int]] = {
    "t2.micro": (1, 1024), "t2.small": (1, 2048), "t2.medium": (2, 4096), "t2.large": (2, 8192),
    "t3.nano": (2, 512), "t3.micro": (2, 1024), "t3.small": (2, 2048), "t3.medium": (2, 4096),
    "t3.large": (2, 8192), "t3.xlarge": (4, 16384), "t3.2xlarge": (8, 32768),
    "t3a.micro": (2, 1024), "t3a.small": (2, 2048), "t3a.medium": (2, 4096), "t3a.large": (2, 8192),
    "t4g.micro": (2, 1024), "t4g.small": (2, 2048), "t4g.medium": (2, 4096), "t4g.large": (2, 8192),
    "m1.small": (1, 1740), "m4.large": (2, 8192), "m4.xlarge": (4, 16384),
    "m5.large": (2, 8192), "m5.xlarge": (4, 16384), "m5.2xlarge": (8, 32768), "m5.4xlarge": (16, 65536),
    "m6i.large": (2, 8192), "m6i.xlarge": (4, 16384), "m6g.large": (2, 8192), "m6g.xlarge": (4, 16384),
    "m7i.large": (2, 8192), "m7g.large": (2, 8192),
    "c5.large": (2, 4096), "c5.xlarge": (4, 8192), "c5.2xlarge": (8, 16384),
    "c6i.large": (2, 4096), "c6g.large": (2, 4096), "c7g.large": (2, 4096),
    "r5.large": (2, 16384), "r5.xlarge": (4, 32768), "r6i.large": (2, 16384), "r6g.large": (2, 16384),
}
DEFAULT_INSTANCE_TYPE = "m1.small"   # what EC2 (and moto) launch without an instance type
# What the OS leaves of the installed memory: the guide's m4.large example, 8192 -> 7985 MiB.
OS_VISIBLE_RATIO = 7985.0 / 8192.0
AGENT_VERSION = {"agentVersion": "1.88.0", "agentHash": "f2c5ff6b", "dockerVersion": "DockerVersion: 25.0.8"}
_ECS_SETTING = re.compile(r"\b(ECS_[A-Z_]+)=([^\s'\"]+)")


def ecs_config(user_data: Optional[str]) -> Dict[str, str]:
    """The ECS_* settings a (base64) user data script writes to /etc/ecs/ecs.config."""
    if not user_data:
        return {}
    text = str(user_data)
    try:
        text = base64.b64decode(text, validate=True).decode("utf-8", "replace")
    except (ValueError, TypeError):
        pass  # moto may hold it decoded already
    if "/etc/ecs/ecs.config" not in text:
        return {}
    return dict(_ECS_SETTING.findall(text))


def registered_cpu_memory(instance_type: Optional[str], reserved_memory: int = 0) -> Tuple[int, int]:
    """(CPU units, MiB) the agent registers for an instance type."""
    vcpus, mib = INSTANCE_TYPES.get(instance_type or DEFAULT_INSTANCE_TYPE, INSTANCE_TYPES[DEFAULT_INSTANCE_TYPE])
    return vcpus * 1024, int(mib * OS_VISIBLE_RATIO) - reserved_memory


class ContainerInstanceSim:
    """One registered container instance and what the agent registered for it."""

    def __init__(self, record: Any, backend: Any, instance_type: Optional[str], reserved_memory: int) -> None:
        self.record = record
        self.backend = backend
        self.arn = record.container_instance_arn
        self.instance_id = record.ec2_instance_id
        self.cluster_name = record.cluster_name
        self.instance_type = instance_type or DEFAULT_INSTANCE_TYPE
        self.cpu, self.memory = registered_cpu_memory(self.instance_type, reserved_memory)

    @property
    def active(self) -> bool:
        return self.record.status == "ACTIVE"

    def attributes(self) -> Dict[str, str]:
        return moto_records.container_instance_attributes(self.record)


class Fleet:
    """Every container instance of the emulator and the tasks placed on them."""

    def __init__(self, sim: "Simulation") -> None:
        self.sim = sim
        self.instances: Dict[str, ContainerInstanceSim] = {}   # container instance ARN -> sim
        self.seen: Dict[str, float] = {}                        # EC2 instance id -> first seen running

    def reset(self) -> None:
        self.instances.clear()
        self.seen.clear()

    # registration ------------------------------------------------------------------------------------
    def next_due(self) -> Optional[float]:
        due = [when + AGENT_REGISTER_SECONDS for when in self.seen.values() if when is not None]
        return min(due) if due else None

    def sync(self, now: float) -> None:
        """Register instances whose agent is up, adopt ones registered through the API, drop gone ones."""
        running_ids = set()
        for account, region, instance in moto_records.ec2_instances():
            if instance.state != "running":
                continue
            running_ids.add(instance.id)
            config = ecs_config(moto_records.instance_user_data(instance))
            cluster = config.get("ECS_CLUSTER")
            if not cluster:
                continue
            backend = moto_records.ecs_backend(account, region)
            if cluster not in backend.clusters or backend.clusters[cluster].status != "ACTIVE":
                continue
            if any(ci.instance_id == instance.id for ci in self.instances.values()):
                continue
            first = self.seen.setdefault(instance.id, now)
            if first is None or now < first + AGENT_REGISTER_SECONDS:
                continue
            self.seen[instance.id] = None  # type: ignore[assignment]  # registered: nothing due
            record = moto_records.register_container_instance(backend, cluster, instance.id)
            self._adopt(record, backend, instance, int(config.get("ECS_RESERVED_MEMORY") or 0))
        # Container instances registered through RegisterContainerInstance.
        for backend, record in moto_records.container_instance_records():
            if record.container_instance_arn not in self.instances and record.status == "ACTIVE":
                self._adopt(record, backend, moto_records.ec2_instance(backend, record.ec2_instance_id), 0)
        for ci in list(self.instances.values()):
            if ci.active and moto_records.ec2_instance_running(ci.instance_id) is False:
                self._deregister(ci)
        for instance_id in [i for i in self.seen if i not in running_ids]:
            del self.seen[instance_id]

    def _adopt(self, record: Any, backend: Any, instance: Any, reserved_memory: int) -> None:
        ci = ContainerInstanceSim(record, backend, getattr(instance, "instance_type", None), reserved_memory)
        self.instances[ci.arn] = ci
        moto_records.dress_container_instance(record, ci.cpu, ci.memory, AGENT_VERSION)

    def _deregister(self, ci: ContainerInstanceSim) -> None:
        """The instance is gone: its tasks stop and the container instance is deregistered."""
        for task in self.tasks_on(ci):
            if task.live:
                self.sim._begin_stop(task, "TerminationNotice", "Host EC2 (instance %s) stopped/terminated." % ci.instance_id,
                                     failed=task.service is not None)
        moto_records.deregister_container_instance(ci.backend, ci.record)
        del self.instances[ci.arn]

    # resources ---------------------------------------------------------------------------------------
    def tasks_on(self, ci: ContainerInstanceSim) -> List["TaskSim"]:
        return [t for t in self.sim.tasks.values() if t.task.container_instance_arn == ci.arn and t.status != "STOPPED"]

    def state(self, ci: ContainerInstanceSim) -> placement.InstanceState:
        state = placement.InstanceState(arn=ci.arn, instance_id=ci.instance_id, attributes=ci.attributes(),
                                        cpu=ci.cpu, memory=ci.memory)
        for task in self.tasks_on(ci):
            needs = placement.requirements(task.task_definition)
            needs.ports = moto_records.bound_host_ports(task.task)
            state.take(needs, task.task.group or "")
        return state

    def states(self, backend: Any, cluster_name: str) -> List[placement.InstanceState]:
        return [self.state(ci) for ci in self.instances.values()
                if ci.backend is backend and ci.cluster_name == cluster_name and ci.active]

    def by_arn(self, arn: Optional[str]) -> Optional[ContainerInstanceSim]:
        return self.instances.get(arn or "")

    def render(self) -> None:
        for ci in self.instances.values():
            state = self.state(ci)
            tasks = self.tasks_on(ci)
            running = sum(1 for t in tasks if t.status == "RUNNING")
            moto_records.set_container_instance_usage(
                ci.record, ci.cpu - state.used_cpu, ci.memory - state.used_memory, sorted(state.used_ports),
                running, len(tasks) - running)

    # placement ---------------------------------------------------------------------------------------
    def place(self, backend: Any, cluster_name: str, task_definition: Any, group: str,
              constraints: Any = (), strategies: Any = None) -> placement.Decision:
        """Where a task of ``task_definition`` goes now (``Decision.instance`` None: nowhere)."""
        return placement.place(self.states(backend, cluster_name), placement.requirements(task_definition), group,
                               constraints or (), strategies)

    def waits_for_capacity(self, backend: Any, provider_name: str) -> bool:
        """Tasks of an Auto Scaling group capacity provider with managed scaling wait in PROVISIONING."""
        provider = backend.capacity_providers.get(provider_name)
        if provider is None or provider_name in ("FARGATE", "FARGATE_SPOT"):
            return False
        scaling = (provider.auto_scaling_group_provider or {}).get("managedScaling") or {}
        return scaling.get("status") == "ENABLED"

    def place_waiting(self, now: float) -> None:
        """Tasks waiting in PROVISIONING for capacity go to an instance as soon as one has room."""
        for task in [t for t in self.sim.tasks.values() if t.waiting_for_capacity and t.live]:
            placement_spec = task.service.placement if task.service is not None else ((), None)
            decision = self.place(task.task._backend, task.task.cluster_name, task.task_definition,
                                  task.task.group or "", *placement_spec)
            if decision.instance is None:
                continue
            self.sim.assign_instance(task, self.instances[decision.instance.arn], now)

    # managed scaling ---------------------------------------------------------------------------------
    def scale(self) -> None:
        """Raise the desired capacity of groups whose capacity provider has tasks waiting."""
        waiting: Dict[Tuple[int, str], List["TaskSim"]] = {}
        for task in self.sim.tasks.values():
            if task.waiting_for_capacity and task.live and task.task.capacity_provider_name:
                waiting.setdefault((id(task.task._backend), task.task.capacity_provider_name), []).append(task)
        for tasks in waiting.values():
            backend = tasks[0].task._backend
            provider = backend.capacity_providers.get(tasks[0].task.capacity_provider_name)
            if provider is None:
                continue
            details = provider.auto_scaling_group_provider or {}
            scaling = details.get("managedScaling") or {}
            if scaling.get("status") != "ENABLED":
                continue
            group = moto_records.auto_scaling_group(backend, details.get("autoScalingGroupArn") or "")
            if group is None:
                continue
            # M: the group's instances already registered plus the new ones the waiting tasks fill;
            # instances still booting count as what they will be (no second scale-out for them).
            ids = {state.instance.id for state in group.active_instances()}
            registered = sum(1 for ci in self.instances.values() if ci.active and ci.instance_id in ids)
            needed = registered + self._instances_for(tasks, group.instance_type)
            target = int(scaling.get("targetCapacity") or 100)
            step_min = int(scaling.get("minimumScalingStepSize") or 1)
            step_max = int(scaling.get("maximumScalingStepSize") or 10000)
            current = group.desired_capacity or 0
            desired = int(math.ceil(needed * 100.0 / target))
            if desired <= current:
                continue
            desired = min(max(desired, current + step_min), current + step_max, group.max_size)
            if desired > current:
                moto_records.set_desired_capacity(group, desired)

    @staticmethod
    def _instances_for(tasks: List["TaskSim"], instance_type: Optional[str]) -> int:
        """New instances of the group's type that the waiting tasks fill (first fit)."""
        cpu, memory = registered_cpu_memory(instance_type)
        bins: List[placement.InstanceState] = []
        for task in tasks:
            needs = placement.requirements(task.task_definition)
            for candidate in bins:
                if placement.refusal(candidate, needs) is None:
                    candidate.take(needs, "")
                    break
            else:
                fresh = placement.InstanceState(arn="new-%d" % len(bins), instance_id="", attributes={}, cpu=cpu,
                                                memory=memory)
                fresh.take(needs, "")
                bins.append(fresh)
        return len(bins)
