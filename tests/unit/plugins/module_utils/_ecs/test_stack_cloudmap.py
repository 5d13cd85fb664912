"""ecs_stack's Cloud Map namespace and services against moto in-process."""

import copy

import boto3
import pytest
from moto import mock_aws

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.waiter import Waiter
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.api import AppAutoscalingApi, EcsApi, EcsError
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.lookups import NamespaceReader
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.stack import EcsStack
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.api import Elbv2Api

REGION = "us-east-1"
CLUSTER = "ecsdemo-staging"
NAMESPACE = "ecsdemo-staging.local"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ecsdemo-nodejs:1"
CLIENTS = {}


def client(name):
    if name not in CLIENTS:
        CLIENTS[name] = boto3.client(name, region_name=REGION)
    return CLIENTS[name]


class Apis:
    def __init__(self):
        self.ecs = EcsApi(client("ecs"))
        self.aas = AppAutoscalingApi(client("application-autoscaling"))
        self.tgs = Elbv2Api(client("elbv2"))
        self.ns = NamespaceReader(client("servicediscovery"))

    def writes(self):
        out = {}
        for api in (self.ecs, self.aas, self.tgs, self.ns):
            out.update(api.write_calls)
        return out


def run(p, check=False):
    apis = Apis()
    stack = EcsStack(p, apis.ecs, apis.aas, apis.tgs, apis.ns, region=REGION, check_mode=check,
                     waiter=Waiter(timeout=5, interval=0.01))
    return stack.run(), apis


@pytest.fixture
def vpc():
    with mock_aws():
        ec2 = client("ec2")
        vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
        yield {"vpc": vpc_id, "subnet": subnet}


def backend(subnet, **discovery):
    """Seed 001's backend: awsvpc on Fargate, no load balancer, found through Cloud Map (A records)."""
    return {"name": "ecsdemo-nodejs", "desired_count": 1, "launch_type": "FARGATE",
            "network_configuration": {"subnets": [subnet]},
            "task_definition": {"family": "ecsdemo-nodejs", "network_mode": "awsvpc", "cpu": "256", "memory": "512",
                                "requires_compatibilities": ["FARGATE"],
                                "containers": [{"name": "nodejs", "image": IMAGE, "memory_reservation": 128,
                                                "port_mappings": [{"container_port": 3000}]}]},
            "service_discovery": dict({"dns_record_type": "A", "ttl": 60, "failure_threshold": 1}, **discovery)}


def bridge(**discovery):
    """A bridge-mode service on EC2 with dynamic host ports: SRV records name the port."""
    return {"name": "pingpong", "desired_count": 1, "launch_type": "EC2",
            "task_definition": {"family": "pingpong", "containers": [{
                "name": "node-john", "image": IMAGE, "memory": 128,
                "port_mappings": [{"container_port": 8080, "host_port": 0}]}]},
            "service_discovery": dict({"dns_record_type": "SRV", "ttl": 30, "failure_threshold": 1,
                                       "container_name": "node-john", "container_port": 8080}, **discovery)}


def params(net, services, **namespace):
    ns = {"name": NAMESPACE, "vpc": net["vpc"]}
    ns.update(namespace)
    return {"cluster": {"name": CLUSTER, "service_discovery_namespace": ns}, "services": services, "state": "present"}


def namespaces():
    return [n for n in client("servicediscovery").list_namespaces()["Namespaces"] if n["Name"] == NAMESPACE]


def test_first_run_creates_the_namespace_its_services_and_ecs_services_registered_in_them(vpc):
    result, apis = run(params(vpc, [backend(vpc["subnet"]), bridge()]))
    kinds = [(a.verb, a.kind, a.name) for a in result.plan.actions]
    assert kinds.index(("create", "service_discovery_namespace", NAMESPACE)) < kinds.index(
        ("create", "service_discovery_service", "ecsdemo-nodejs")) < kinds.index(("create", "service", "ecsdemo-nodejs"))
    [namespace] = namespaces()
    assert namespace["Type"] == "DNS_PRIVATE"
    services = {s["Name"]: s for s in client("servicediscovery").list_services()["Services"]}
    assert services["ecsdemo-nodejs"]["DnsConfig"]["DnsRecords"] == [{"Type": "A", "TTL": 60}]
    assert services["pingpong"]["DnsConfig"]["DnsRecords"] == [{"Type": "SRV", "TTL": 30}]
    described = {s["serviceName"]: s for s in client("ecs").describe_services(
        cluster=CLUSTER, services=["ecsdemo-nodejs", "pingpong"])["services"]}
    assert described["ecsdemo-nodejs"]["serviceRegistries"] == [{"registryArn": services["ecsdemo-nodejs"]["Arn"]}]
    assert described["pingpong"]["serviceRegistries"] == [{"registryArn": services["pingpong"]["Arn"],
                                                           "containerName": "node-john", "containerPort": 8080}]
    assert result.data["services"]["ecsdemo-nodejs"]["discovery_name"] == "ecsdemo-nodejs." + NAMESPACE
    assert result.data["services"]["ecsdemo-nodejs"]["registry_arn"] == services["ecsdemo-nodejs"]["Arn"]
    assert result.data["service_discovery_namespace"] == {"name": NAMESPACE, "id": namespace["Id"], "arn": namespace["Arn"]}
    assert apis.ns.write_calls == {"create_private_dns_namespace": 1, "create_service": 2}


def test_second_run_writes_nothing_and_reads_cloud_map_in_two_calls(vpc):
    p = params(vpc, [backend(vpc["subnet"]), bridge()])
    run(p)
    result, apis = run(p)
    assert not result.changed, result.plan.to_list()
    assert apis.writes() == {}
    assert apis.ns.read_calls == {"list_namespaces": 1, "list_services": 1}
    assert result.data["services"]["pingpong"]["discovery_name"] == "pingpong." + NAMESPACE


def test_check_mode_on_a_new_account_shows_the_plan_with_unknown_ids_and_writes_nothing(vpc):
    result, apis = run(params(vpc, [backend(vpc["subnet"])]), check=True)
    assert apis.writes() == {}
    assert namespaces() == []
    diff = result.plan.diff()["after"]
    assert diff["service_discovery_namespace/" + NAMESPACE]["id"] == "(known after apply)"
    assert diff["service_discovery_service/ecsdemo-nodejs"]["arn"] == "(known after apply)"
    assert diff["service/ecsdemo-nodejs"]["serviceRegistries"] == [{"registryArn": "(known after apply)"}]
    assert result.data["service_discovery_namespace"]["id"] == "(known after apply)"
    assert result.data["services"]["ecsdemo-nodejs"]["registry_arn"] == "(known after apply)"


def test_ttl_and_description_drift_are_updates_shown_in_the_diff(vpc):
    run(params(vpc, [backend(vpc["subnet"])], description="first"))
    result, apis = run(params(vpc, [backend(vpc["subnet"], ttl=10)], description="second"))
    updates = {(a.kind, a.name): a for a in result.plan.actions}
    assert set(updates) == {("service_discovery_namespace", NAMESPACE), ("service_discovery_service", "ecsdemo-nodejs")}
    assert updates[("service_discovery_service", "ecsdemo-nodejs")].changes == [{"path": "ttl", "before": 60, "after": 10}]
    assert result.plan.diff()["before"]["service_discovery_namespace/" + NAMESPACE] == {"description": "first"}
    assert apis.ns.write_calls == {"update_private_dns_namespace": 1, "update_service": 1}
    services = {s["Name"]: s for s in client("servicediscovery").list_services()["Services"]}
    assert services["ecsdemo-nodejs"]["DnsConfig"]["DnsRecords"] == [{"Type": "A", "TTL": 10}]
    again, apis = run(params(vpc, [backend(vpc["subnet"], ttl=10)], description="second"))
    assert not again.changed and apis.writes() == {}


def test_an_existing_service_gaining_discovery_is_updated_with_its_new_registry(vpc):
    plain = backend(vpc["subnet"])
    del plain["service_discovery"]
    run(params(vpc, [plain]))
    result, apis = run(params(vpc, [backend(vpc["subnet"])]))
    assert [(a.verb, a.kind) for a in result.plan.actions] == [("create", "service_discovery_service"),
                                                               ("update", "service")]
    arn = client("servicediscovery").list_services()["Services"][0]["Arn"]
    described = client("ecs").describe_services(cluster=CLUSTER, services=["ecsdemo-nodejs"])["services"][0]
    assert described["serviceRegistries"] == [{"registryArn": arn}]
    assert apis.ecs.write_calls == {"update_service": 1}
    again, apis = run(params(vpc, [backend(vpc["subnet"])]))
    assert not again.changed and apis.writes() == {}


@pytest.mark.parametrize("change,option", [
    (lambda p: p["cluster"].pop("service_discovery_namespace"), "services[0].service_discovery"),
    (lambda p: p["services"][0].update(service_registries=[{"registry_arn": "arn:x"}]), "services[0].service_registries"),
    (lambda p: p["services"][1]["service_discovery"].update(container_name=None), "services[1].service_discovery.container_name"),
    (lambda p: p["services"][1]["service_discovery"].update(dns_record_type="A", container_name=None,
                                                            container_port=None),
     "services[1].service_discovery.dns_record_type"),
    (lambda p: p["services"][1]["service_discovery"].update(container_port=9999), "services[1].service_discovery.container_port"),
    (lambda p: p["services"][0]["service_discovery"].update(name="bad name"), "services[0].service_discovery.name"),
    (lambda p: p["cluster"]["service_discovery_namespace"].update(name="-bad-.local"), "cluster.service_discovery_namespace.name"),
    (lambda p: p["cluster"]["service_discovery_namespace"].update(vpc=None), "cluster.service_discovery_namespace.vpc"),
    (lambda p: p["services"][1]["service_discovery"].update(name="ecsdemo-nodejs"), "services[1].service_discovery.name"),
])
def test_bad_discovery_options_fail_naming_the_option_before_any_write(vpc, change, option):
    p = copy.deepcopy(params(vpc, [backend(vpc["subnet"]), bridge()]))
    change(p)
    apis = Apis()
    with pytest.raises(ValidationError) as info:
        EcsStack(p, apis.ecs, apis.aas, apis.tgs, apis.ns, region=REGION).run()
    assert info.value.option == option
    assert apis.writes() == {}


def test_a_changed_record_type_fails_before_any_write(vpc):
    run(params(vpc, [backend(vpc["subnet"])]))
    apis = Apis()
    srv = backend(vpc["subnet"], dns_record_type="SRV", container_name="nodejs", container_port=3000)
    with pytest.raises(EcsError, match="record type of Cloud Map service ecsdemo-nodejs cannot change in place"):
        EcsStack(params(vpc, [srv]), apis.ecs, apis.aas, apis.tgs, apis.ns, region=REGION).run()
    assert apis.writes() == {}


def absent(net, names, delete_cluster=False):
    return {"cluster": {"name": CLUSTER, "service_discovery_namespace": {"name": NAMESPACE}},
            "services": [{"name": n} for n in names], "state": "absent", "delete_cluster": delete_cluster}


def test_teardown_deletes_ecs_services_then_their_cloud_map_services_then_the_namespace(vpc):
    run(params(vpc, [backend(vpc["subnet"]), bridge()]))
    result, apis = run(absent(vpc, ["ecsdemo-nodejs", "pingpong"], delete_cluster=True))
    kinds = [(a.verb, a.kind) for a in result.plan.actions]
    assert kinds == [("delete", "service"), ("delete", "service"),
                     ("delete", "service_discovery_service"), ("delete", "service_discovery_service"),
                     ("delete", "cluster"), ("delete", "service_discovery_namespace")]
    assert namespaces() == []
    assert client("servicediscovery").list_services()["Services"] == []
    assert result.data["service_discovery_namespace"] == {"name": NAMESPACE, "id": None, "arn": None}
    again, apis = run(absent(vpc, ["ecsdemo-nodejs", "pingpong"], delete_cluster=True))
    assert not again.changed and apis.writes() == {}


def test_teardown_of_one_service_keeps_the_namespace_and_the_others(vpc):
    run(params(vpc, [backend(vpc["subnet"]), bridge()]))
    result = run(absent(vpc, ["pingpong"]))[0]
    assert [(a.verb, a.kind, a.name) for a in result.plan.actions] == [
        ("delete", "service", "pingpong"), ("delete", "service_discovery_service", "pingpong")]
    assert [s["Name"] for s in client("servicediscovery").list_services()["Services"]] == ["ecsdemo-nodejs"]
    assert len(namespaces()) == 1


def test_the_namespace_is_kept_while_it_has_services_not_listed(vpc):
    run(params(vpc, [backend(vpc["subnet"]), bridge()]))
    client("servicediscovery").create_service(Name="someone-elses", NamespaceId=namespaces()[0]["Id"])
    apis = Apis()
    with pytest.raises(EcsError, match=r"still has Cloud Map services not listed here \(someone-elses\)"):
        EcsStack(absent(vpc, ["ecsdemo-nodejs", "pingpong"], delete_cluster=True), apis.ecs, apis.aas, apis.tgs, apis.ns,
                 region=REGION).run()
    assert apis.writes() == {}
