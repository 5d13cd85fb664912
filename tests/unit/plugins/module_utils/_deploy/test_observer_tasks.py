"""How the observer lists the tasks of the services it follows: once per cluster when the cluster's tasks fit in one
page of ListTasks, per service otherwise."""

from __future__ import annotations

from ansible_collections.shipyard.ecs.plugins.module_utils._deploy.readiness import Track
from ansible_collections.shipyard.ecs.plugins.module_utils._deploy.watcher import Observer
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.api import EcsApi
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.api import Elbv2Api

CLUSTER = "shop"
TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/%s/0123456789abcdef"


def task_arn(service, index):
    return "arn:aws:ecs:us-east-1:123456789012:task/%s/%s%03d" % (CLUSTER, service, index)


class Cluster:
    """A cluster's ECS and ELBv2 answers: services (name -> running tasks, behind a load balancer or not) and tasks
    of other services (``foreign``); every call recorded with its parameters."""

    def __init__(self, services, foreign=0, stopped=None):
        self.services = services
        self.foreign = foreign
        self.stopped = stopped or {}
        self.calls = []

    def _service(self, name):
        count, balanced = self.services[name]
        return {"serviceName": name, "serviceArn": "arn:aws:ecs:us-east-1:123456789012:service/%s/%s" % (CLUSTER, name),
                "desiredCount": count, "runningCount": count, "taskDefinition": "td/%s:1" % name,
                "loadBalancers": [{"targetGroupArn": TG % name, "containerName": name, "containerPort": 80}] if balanced else [],
                "deployments": [{"id": "ecs-svc/%s" % name, "status": "PRIMARY", "taskDefinition": "td/%s:1" % name,
                                 "desiredCount": count, "runningCount": count, "rolloutState": "COMPLETED"}]}

    def _tasks(self, status):
        out = {}
        for name, (count, _balanced) in self.services.items():
            number = self.stopped.get(name, 0) if status == "STOPPED" else count
            for index in range(number):
                out[task_arn(name, index)] = {"taskArn": task_arn(name, index), "group": "service:%s" % name,
                                              "startedBy": "ecs-svc/%s" % name, "desiredStatus": status,
                                              "lastStatus": status, "taskDefinitionArn": "td/%s:1" % name}
        if status == "RUNNING":
            for index in range(self.foreign):
                arn = task_arn("batch", index)
                out[arn] = {"taskArn": arn, "group": "family:batch", "desiredStatus": "RUNNING", "lastStatus": "RUNNING"}
        return out

    # ECS
    def describe_services(self, cluster, services, include=None):
        self.calls.append(("describe_services", {}))
        return {"services": [self._service(n) for n in services], "failures": []}

    def list_tasks(self, cluster, desiredStatus="RUNNING", serviceName=None, maxResults=100, nextToken=None):
        self.calls.append(("list_tasks", {"serviceName": serviceName, "desiredStatus": desiredStatus}))
        arns = sorted(a for a, t in self._tasks(desiredStatus).items()
                      if serviceName is None or t["group"] == "service:%s" % serviceName)
        start = int(nextToken or 0)
        page = arns[start:start + maxResults]
        return {"taskArns": page, "nextToken": str(start + maxResults)} if start + maxResults < len(arns) else {"taskArns": page}

    def describe_tasks(self, cluster, tasks):
        self.calls.append(("describe_tasks", {"count": len(tasks)}))
        every = dict(self._tasks("RUNNING"), **self._tasks("STOPPED"))
        return {"tasks": [every[a] for a in tasks if a in every], "failures": []}

    # ELBv2
    def describe_target_health(self, TargetGroupArn):
        self.calls.append(("describe_target_health", {}))
        return {"TargetHealthDescriptions": []}

    def listed(self):
        return [kwargs for op, kwargs in self.calls if op == "list_tasks"]


def observe(cluster, names, stopped=False):
    observer = Observer(EcsApi(cluster), Elbv2Api(cluster))
    return observer.observe([Track(cluster=CLUSTER, service=name, revision="td/%s:1" % name) for name in names], stopped=stopped)


def running(observations, name):
    return sorted(t["taskArn"] for t in observations[(CLUSTER, name)].running_tasks)


def test_services_of_one_cluster_have_their_tasks_listed_once_and_told_apart_by_group():
    cluster = Cluster({"users": (2, True), "orders": (3, True), "worker": (1, False)}, foreign=4)
    seen = observe(cluster, ["users", "orders", "worker"])
    assert cluster.listed() == [{"serviceName": None, "desiredStatus": "RUNNING"}]
    assert running(seen, "users") == [task_arn("users", 0), task_arn("users", 1)]
    assert running(seen, "orders") == [task_arn("orders", i) for i in range(3)]
    # A service without a load balancer is judged on its counts: no tasks of its own are looked at.
    assert running(seen, "worker") == []


def test_stopped_tasks_are_listed_once_for_the_cluster_too():
    cluster = Cluster({"users": (2, True), "orders": (1, True)}, stopped={"orders": 2})
    seen = observe(cluster, ["users", "orders"], stopped=True)
    assert sorted(kw["desiredStatus"] for kw in cluster.listed()) == ["RUNNING", "STOPPED"]
    assert all(kw["serviceName"] is None for kw in cluster.listed())
    assert sorted(t["taskArn"] for t in seen[(CLUSTER, "orders")].stopped_tasks) == [task_arn("orders", 0), task_arn("orders", 1)]
    assert seen[(CLUSTER, "users")].stopped_tasks == []


def test_a_cluster_of_more_than_a_page_of_tasks_has_its_services_listed_one_by_one():
    cluster = Cluster({"users": (2, True), "orders": (3, True)}, foreign=150)
    seen = observe(cluster, ["users", "orders"])
    listed = cluster.listed()
    # One page told the cluster is busy; then each service, several at once (in any order).
    assert listed[0] == {"serviceName": None, "desiredStatus": "RUNNING"}
    assert sorted(kw["serviceName"] for kw in listed[1:]) == ["orders", "users"]
    assert running(seen, "orders") == [task_arn("orders", i) for i in range(3)]
    # The other services' tasks are not described.
    assert [kw["count"] for op, kw in cluster.calls if op == "describe_tasks"] == [5]


def test_a_lone_service_is_listed_on_its_own():
    cluster = Cluster({"users": (2, True)}, foreign=3)
    seen = observe(cluster, ["users"])
    assert cluster.listed() == [{"serviceName": "users", "desiredStatus": "RUNNING"}]
    assert running(seen, "users") == [task_arn("users", 0), task_arn("users", 1)]
