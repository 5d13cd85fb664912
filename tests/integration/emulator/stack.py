"""A small flask-microservices-like AWS stack for the emulator fidelity tests."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

CLUSTER = "demo"
USERS_PORT = 5000


class Stack:
    """Builds and inspects the reference app's AWS resources through boto3."""

    def __init__(self, aws: Any, clients: Any) -> None:
        self.aws = aws
        self.ecs = clients.ecs
        self.ec2 = clients.ec2
        self.elbv2 = clients.elbv2
        self.clients = clients
        self.subnets: List[str] = []
        self.security_group = ""
        self.vpc = ""
        self.load_balancer = ""
        self.target_group = ""

    def build(self) -> "Stack":
        self.vpc = self.ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        self.subnets = [
            self.ec2.create_subnet(VpcId=self.vpc, CidrBlock="10.0.%d.0/24" % index,
                                   AvailabilityZone="us-east-1" + zone)["Subnet"]["SubnetId"]
            for index, zone in enumerate("ab")
        ]
        self.security_group = self.ec2.create_security_group(
            GroupName="app", Description="app", VpcId=self.vpc)["GroupId"]
        self.load_balancer = self.elbv2.create_load_balancer(
            Name="app", Subnets=self.subnets, SecurityGroups=[self.security_group])["LoadBalancers"][0]["LoadBalancerArn"]
        self.target_group = self.create_target_group("users", USERS_PORT)
        self.elbv2.create_listener(LoadBalancerArn=self.load_balancer, Protocol="HTTP", Port=80,
                                   DefaultActions=[{"Type": "forward", "TargetGroupArn": self.target_group}])
        self.ecs.create_cluster(clusterName=CLUSTER)
        return self

    def create_target_group(self, name: str, port: int, target_type: str = "ip", **health: Any) -> str:
        arn = self.elbv2.create_target_group(Name=name, Protocol="HTTP", Port=port, VpcId=self.vpc,
                                             TargetType=target_type, HealthCheckPath="/ping",
                                             **health)["TargetGroups"][0]["TargetGroupArn"]
        return arn

    def task_definition(self, image: str, family: str = "users", network_mode: str = "awsvpc",
                        host_port: Optional[int] = None, **container: Any) -> str:
        mapping: Dict[str, Any] = {"containerPort": USERS_PORT}
        if host_port is not None:
            mapping["hostPort"] = host_port
        definition = dict({"name": "users", "image": image, "essential": True, "portMappings": [mapping]}, **container)
        kwargs: Dict[str, Any] = {"family": family, "networkMode": network_mode, "containerDefinitions": [definition]}
        if network_mode == "awsvpc":
            kwargs.update(requiresCompatibilities=["FARGATE"], cpu="256", memory="512")
        elif "memory" not in container and "memoryReservation" not in container:
            definition["memory"] = 256
        return self.ecs.register_task_definition(**kwargs)["taskDefinition"]["taskDefinitionArn"]

    def create_service(self, image: str = "users:1", desired: int = 2, load_balanced: bool = True,
                       name: str = "users", **extra: Any) -> Dict[str, Any]:
        kwargs: Dict[str, Any] = {
            "cluster": CLUSTER, "serviceName": name, "taskDefinition": self.task_definition(image),
            "desiredCount": desired, "launchType": "FARGATE",
            "networkConfiguration": {"awsvpcConfiguration": {"subnets": self.subnets,
                                                             "securityGroups": [self.security_group]}},
        }
        if load_balanced:
            kwargs["loadBalancers"] = [{"targetGroupArn": self.target_group, "containerName": "users",
                                        "containerPort": USERS_PORT}]
        kwargs.update(extra)
        return self.ecs.create_service(**kwargs)["service"]

    def release(self, image: str, name: str = "users") -> str:
        """Register a revision running ``image`` and roll the service to it."""
        arn = self.task_definition(image)
        self.ecs.update_service(cluster=CLUSTER, service=name, taskDefinition=arn)
        return arn

    def service(self, name: str = "users") -> Dict[str, Any]:
        return self.ecs.describe_services(cluster=CLUSTER, services=[name])["services"][0]

    def deployments(self, name: str = "users") -> List[Dict[str, Any]]:
        return self.service(name)["deployments"]

    def events(self, name: str = "users") -> List[str]:
        return [event["message"] for event in self.service(name)["events"]]

    def tasks(self, desired_status: str = "RUNNING", name: str = "users") -> List[Dict[str, Any]]:
        arns = self.ecs.list_tasks(cluster=CLUSTER, serviceName=name, desiredStatus=desired_status)["taskArns"]
        if not arns:
            return []
        return self.ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"]

    def target_health(self, target_group: Optional[str] = None, targets: Optional[List[Dict[str, Any]]] = None) -> List[Dict[str, Any]]:
        kwargs: Dict[str, Any] = {"TargetGroupArn": target_group or self.target_group}
        if targets is not None:
            kwargs["Targets"] = targets
        return self.elbv2.describe_target_health(**kwargs)["TargetHealthDescriptions"]

    def advance(self, seconds: float) -> None:
        self.aws.advance_time(seconds)

    def settle(self, limit: float = 3600, step: float = 30, name: str = "users") -> Dict[str, Any]:
        """Advance AWS time until the primary deployment leaves IN_PROGRESS and is alone."""
        spent = 0.0
        while spent < limit:
            deployments = self.deployments(name)
            if deployments[0]["rolloutState"] != "IN_PROGRESS" and len(deployments) == 1:
                return self.service(name)
            self.advance(step)
            spent += step
        raise AssertionError("service %s did not settle within %ss of AWS time: %s" % (name, limit, self.deployments(name)))
