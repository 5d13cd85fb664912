"""Cloud Map as its API Reference describes it, and ECS registering a service's tasks in it
("Use service discovery to connect Amazon ECS services with DNS names"). Each test fails on plain
moto: moto deletes services with instances and namespaces with services, duplicates re-registered
instances, ignores AWS_INIT_HEALTH_STATUS, and ECS there never registers a task."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from integration.emulator.stack import CLUSTER, USERS_PORT


@pytest.fixture
def cloud_map(stack, aws):
    # DiscoverInstances is served on the data-servicediscovery. host prefix on AWS: here the one endpoint.
    session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1")
    return session.client("servicediscovery", endpoint_url=aws.endpoint, config=Config(inject_host_prefix=False))


def _namespace(cloud_map, stack, name="internal.local"):
    operation = cloud_map.create_private_dns_namespace(Name=name, Vpc=stack.vpc)["OperationId"]
    namespace_id = cloud_map.get_operation(OperationId=operation)["Operation"]["Targets"]["NAMESPACE"]
    return namespace_id


def _service(cloud_map, namespace_id, name="users", record="A", custom_health=True):
    kwargs = {"Name": name, "NamespaceId": namespace_id,
              "DnsConfig": {"RoutingPolicy": "MULTIVALUE", "DnsRecords": [{"Type": record, "TTL": 10}]}}
    if custom_health:
        kwargs["HealthCheckCustomConfig"] = {"FailureThreshold": 1}
    return cloud_map.create_service(**kwargs)["Service"]


def _instances(cloud_map, service_id):
    return {i["Id"]: i["Attributes"] for i in cloud_map.list_instances(ServiceId=service_id)["Instances"]}


# Cloud Map itself ----------------------------------------------------------------------------------------
def test_service_with_registered_instances_cannot_be_deleted(cloud_map, stack):
    service = _service(cloud_map, _namespace(cloud_map, stack))
    cloud_map.register_instance(ServiceId=service["Id"], InstanceId="i1", Attributes={"AWS_INSTANCE_IPV4": "10.0.0.9"})

    with pytest.raises(ClientError) as error:
        cloud_map.delete_service(Id=service["Id"])
    assert error.value.response["Error"]["Code"] == "ResourceInUse"

    cloud_map.deregister_instance(ServiceId=service["Id"], InstanceId="i1")
    cloud_map.delete_service(Id=service["Id"])
    with pytest.raises(ClientError) as error:
        cloud_map.delete_service(Id=service["Id"])
    assert error.value.response["Error"]["Code"] == "ServiceNotFound"


def test_namespace_with_services_cannot_be_deleted(cloud_map, stack):
    namespace_id = _namespace(cloud_map, stack)
    service = _service(cloud_map, namespace_id)

    with pytest.raises(ClientError) as error:
        cloud_map.delete_namespace(Id=namespace_id)
    assert error.value.response["Error"]["Code"] == "ResourceInUse"

    cloud_map.delete_service(Id=service["Id"])
    cloud_map.delete_namespace(Id=namespace_id)
    assert cloud_map.list_namespaces()["Namespaces"] == []


def test_registering_an_instance_id_again_updates_it(cloud_map, stack):
    service = _service(cloud_map, _namespace(cloud_map, stack))
    cloud_map.register_instance(ServiceId=service["Id"], InstanceId="i1", Attributes={"AWS_INSTANCE_IPV4": "10.0.0.9"})
    cloud_map.register_instance(ServiceId=service["Id"], InstanceId="i1", Attributes={"AWS_INSTANCE_IPV4": "10.0.0.10"})

    [instance] = cloud_map.list_instances(ServiceId=service["Id"])["Instances"]
    assert instance["Id"] == "i1" and instance["Attributes"] == {"AWS_INSTANCE_IPV4": "10.0.0.10"}


def test_custom_health_starts_as_aws_init_health_status_says(cloud_map, stack):
    service = _service(cloud_map, _namespace(cloud_map, stack))
    cloud_map.register_instance(ServiceId=service["Id"], InstanceId="i1", Attributes={
        "AWS_INSTANCE_IPV4": "10.0.0.9", "AWS_INIT_HEALTH_STATUS": "UNHEALTHY"})

    assert cloud_map.get_instances_health_status(ServiceId=service["Id"])["Status"] == {"i1": "UNHEALTHY"}
    cloud_map.update_instance_custom_health_status(ServiceId=service["Id"], InstanceId="i1", Status="HEALTHY")
    assert cloud_map.get_instances_health_status(ServiceId=service["Id"])["Status"] == {"i1": "HEALTHY"}


def test_custom_health_status_needs_a_custom_health_check(cloud_map, stack):
    service = _service(cloud_map, _namespace(cloud_map, stack), custom_health=False)
    cloud_map.register_instance(ServiceId=service["Id"], InstanceId="i1", Attributes={"AWS_INSTANCE_IPV4": "10.0.0.9"})

    with pytest.raises(ClientError) as error:
        cloud_map.update_instance_custom_health_status(ServiceId=service["Id"], InstanceId="i1", Status="HEALTHY")
    assert error.value.response["Error"]["Code"] == "CustomHealthNotFound"


# ECS registering tasks --------------------------------------------------------------------------------------
def test_running_fargate_tasks_are_registered_with_their_eni_address_and_ecs_attributes(cloud_map, stack):
    service = _service(cloud_map, _namespace(cloud_map, stack))
    stack.create_service(name="users", load_balanced=False, serviceRegistries=[{"registryArn": service["Arn"]}])
    stack.advance(10)
    assert _instances(cloud_map, service["Id"]) == {}        # PENDING tasks are not registered yet

    stack.advance(10)
    tasks = {t["taskArn"].split("/")[-1]: t for t in stack.tasks()}
    instances = _instances(cloud_map, service["Id"])
    assert len(tasks) == 2 and set(instances) == set(tasks)
    for task_id, attributes in instances.items():
        task = tasks[task_id]
        assert attributes == {
            "AWS_INSTANCE_IPV4": task["containers"][0]["networkInterfaces"][0]["privateIpv4Address"],
            "AVAILABILITY_ZONE": task["availabilityZone"], "REGION": "us-east-1",
            "ECS_CLUSTER_NAME": CLUSTER, "ECS_SERVICE_NAME": "users", "ECS_TASK_DEFINITION_FAMILY": "users",
            "AWS_INIT_HEALTH_STATUS": "HEALTHY"}
    discovered = cloud_map.discover_instances(NamespaceName="internal.local", ServiceName="users")["Instances"]
    assert {i["InstanceId"] for i in discovered} == set(tasks)


def test_stopped_tasks_are_deregistered(cloud_map, stack):
    service = _service(cloud_map, _namespace(cloud_map, stack))
    stack.create_service(name="users", load_balanced=False, serviceRegistries=[{"registryArn": service["Arn"]}])
    stack.advance(20)
    first = stack.tasks()[0]["taskArn"]

    stack.ecs.stop_task(cluster=CLUSTER, task=first)
    assert first.split("/")[-1] not in _instances(cloud_map, service["Id"])
    stack.ecs.update_service(cluster=CLUSTER, service="users", desiredCount=0)
    stack.advance(30)
    assert _instances(cloud_map, service["Id"]) == {}
    stack.ecs.delete_service(cluster=CLUSTER, service="users")
    cloud_map.delete_service(Id=service["Id"])


def test_bridge_task_registers_its_instance_address_and_host_port_for_srv(cloud_map, stack):
    service = _service(cloud_map, _namespace(cloud_map, stack), record="SRV")
    image = stack.ec2.describe_images()["Images"][0]["ImageId"]
    # RunInstances' UserData is base64-encoded by the SDK.
    user_data = "#!/bin/bash\necho ECS_CLUSTER=%s >> /etc/ecs/ecs.config\n" % CLUSTER
    [instance] = stack.ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.small",
                                         SubnetId=stack.subnets[0], UserData=user_data)["Instances"]
    td = stack.task_definition("users:1", family="users-bridge", network_mode="bridge", host_port=0)
    stack.ecs.create_service(cluster=CLUSTER, serviceName="users", taskDefinition=td, desiredCount=1, launchType="EC2",
                             serviceRegistries=[{"registryArn": service["Arn"], "containerName": "users",
                                                 "containerPort": USERS_PORT}])
    stack.advance(31)   # the agent registers the instance
    stack.advance(20)

    [task] = stack.tasks()
    [attributes] = _instances(cloud_map, service["Id"]).values()
    assert attributes["AWS_INSTANCE_IPV4"] == instance["PrivateIpAddress"]
    assert attributes["AWS_INSTANCE_PORT"] == str(task["containers"][0]["networkBindings"][0]["hostPort"])


def test_container_health_is_reported_as_custom_health(cloud_map, stack):
    service = _service(cloud_map, _namespace(cloud_map, stack))
    td = stack.task_definition("users:1", healthCheck={"command": ["CMD", "true"], "interval": 10})
    stack.ecs.create_service(cluster=CLUSTER, serviceName="users", taskDefinition=td, desiredCount=1,
                             launchType="FARGATE", serviceRegistries=[{"registryArn": service["Arn"]}],
                             networkConfiguration={"awsvpcConfiguration": {"subnets": stack.subnets}})
    stack.advance(16)

    statuses = cloud_map.get_instances_health_status(ServiceId=service["Id"])["Status"]
    assert list(statuses.values()) == ["UNHEALTHY"]
    stack.advance(10)
    statuses = cloud_map.get_instances_health_status(ServiceId=service["Id"])["Status"]
    assert list(statuses.values()) == ["HEALTHY"]
