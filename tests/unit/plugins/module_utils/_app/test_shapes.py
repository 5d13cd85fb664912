"""The application model's service shapes: kinds, placement, network modes, several containers, discovery,
logging and references to deployed values, as the seed systems need them (001 to 004)."""

import copy

import pytest

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from app_cases import IMAGES, local_env, reference_app
from ansible_collections.shipyard.ecs.plugins.module_utils._app import model
from ansible_collections.shipyard.ecs.plugins.module_utils._app.runner import model_values
from ansible_collections.shipyard.ecs.plugins.module_utils._app.schema import DefinitionError
from ansible_collections.shipyard.ecs.plugins.module_utils._cloudwatch.spec import ARGUMENT_SPEC as CLOUDWATCH_SPEC
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.spec import ARGUMENT_SPEC as ECS_STACK_SPEC
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.taskdef import task_definition_from_options
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.spec import ARGUMENT_SPEC as ALB_ROUTES_SPEC

CTX = model.Context(region="us-east-1", account_id="123456789012", vpc_id="vpc-1", subnet_ids=["subnet-a", "subnet-b"],
                    private_subnet_ids=["subnet-p1", "subnet-p2"], alb_security_group_id="sg-alb",
                    task_security_group_id="sg-tasks", execution_role_arn="arn:aws:iam::123456789012:role/x-task-execution",
                    task_role_arn="arn:aws:iam::123456789012:role/x-task")
EC2_CAPACITY = {"instance_type": "t3.small", "max_size": 2}
NODE = "public.ecr.aws/docker/library/node:20"
ALB_DESC = "flask-microservices-local load balancer: listener ports open to the world"


def env_with(**changes):
    env = local_env()
    env["env_services"] = {}
    env.update(changes)
    return env


def ping_pong():
    """Seed 002: a client, and node-john linked to three more node containers on EC2 in bridge mode."""
    node = {"image": NODE, "memory_reservation": 300, "ports": [{"container_port": 3000}],
            "logging": {"group": "microservice-ping-pong-node"}}
    return {
        "format": 1, "name": "ping-pong",
        "listeners": [{"port": 80, "default_service": "client"}],
        "services": {
            "client": {"image": NODE, "placement": "ec2", "network_mode": "bridge", "container_port": 3000,
                       "memory_reservation": 300, "logging": {"group": "microservice-ping-pong-client"}},
            "node": {"image": NODE, "placement": "ec2", "network_mode": "bridge", "container_name": "node-john",
                     "container_port": 3000, "memory_reservation": 300, "links": ["node-paul", "node-george", "node-ringo"],
                     "logging": {"group": "microservice-ping-pong-node"}, "health_check": {"path": "/ping"},
                     "routes": [{"listener": 80, "path_patterns": ["/start"]}],
                     "containers": {name: copy.deepcopy(node) for name in ("node-paul", "node-george", "node-ringo")}},
        },
    }


def ecsdemo():
    """Seed 001: one backend service, found through Cloud Map, in private subnets."""
    return {
        "format": 1, "name": "ecsdemo",
        "services": {"ecsdemo-nodejs": {"kind": "backend", "image": NODE, "container_port": 3000, "cpu": 256, "memory": 512,
                                        "memory_reservation": 512, "subnets": "private",
                                        "logging": {"stream_prefix": "ecsworkshop-nodejs"},
                                        "autoscaling": {"min_capacity": 1, "max_capacity": 10, "cpu_target": 50}}},
    }


def existing_network():
    return {"vpc_tags": {"Name": "ecsworkshop-base/BaseVPC"}, "private_subnet_tags": {"aws-cdk:subnet-type": "Private"}}


def talk_service():
    """Seed 004: the talk service on EC2 with dynamic ports, its container called web, its own log group."""
    return {
        "format": 1, "name": "conference",
        "listeners": [{"port": 80, "default_service": "talk-service"}],
        "services": {"talk-service": {"image": NODE, "placement": "ec2", "network_mode": "bridge", "container_name": "web",
                                      "container_port": 8080, "container_cpu": 128, "memory_reservation": 128,
                                      "desired_count": 2, "health_check": {"path": "/health"},
                                      "logging": {"group": "talk-service-cloudwatch",
                                                  "stream_prefix": "aws-talk-service-cloudwatch"}}},
    }


def by_name(items):
    return {item["name"]: item for item in items}


def valid(spec, params):
    result = ArgumentSpecValidator(spec).validate(params)
    assert result.error_messages == [], result.error_messages
    return result.validated_parameters


# -- kinds --------------------------------------------------------------------------------------


def test_a_backend_only_application_has_no_load_balancer_and_registers_in_cloud_map():
    definition = model.load(ecsdemo(), env_with(env_network=existing_network()))
    options = definition.render(CTX)
    assert options["has_load_balancer"] is False
    assert options["load_balancer"] == {"target_groups": [], "listeners": [], "routes": []}
    service = by_name(options["stack_services"])["ecsdemo-nodejs"]
    assert "load_balancers" not in service and "health_check_grace_period" not in service
    assert service["service_discovery"] == {"name": "ecsdemo-nodejs", "dns_record_type": "A", "ttl": 60}
    assert options["cluster"]["service_discovery_namespace"] == {
        "name": "ecsdemo-local.local", "vpc": "vpc-1", "description": "ecsdemo-local: service discovery", "tags": definition.names.tags}
    # Private subnets, no public address.
    assert service["network_configuration"] == {"subnets": ["subnet-p1", "subnet-p2"], "security_groups": ["sg-tasks"],
                                                "assign_public_ip": False}
    container = service["task_definition"]["containers"][0]
    assert container["memory_reservation"] == 512
    assert container["awslogs"] == {"group": "/ecs/ecsdemo-local/ecsdemo-nodejs", "region": "us-east-1",
                                    "stream_prefix": "ecsworkshop-nodejs"}
    values = model_values(definition, "us-east-1", "123456789012")
    assert values["load_balancer"] is False and values["names"]["target_groups"] == {}
    assert values["service_discovery"] == {"namespace": "ecsdemo-local.local",
                                           "names": {"ecsdemo-nodejs": "ecsdemo-nodejs.ecsdemo-local.local"}}
    assert values["platform"]["listener_ports"] == []


def test_a_backend_service_is_reachable_from_the_tasks_on_its_port_only():
    app = reference_app()
    users = app["services"]["users"]
    for key in ("routes", "health_check"):
        del users[key]
    users["kind"] = "backend"
    rules = model.load(app, local_env()).security_group_rules()
    assert rules["tasks"] == [
        {"proto": "tcp", "from_port": 5000, "to_port": 5000, "group_name": "flask-microservices-local-tasks",
         "group_desc": "flask-microservices-local tasks: reachable only from the load balancer", "rule_desc": "tasks to users"},
        {"proto": "tcp", "from_port": 8080, "to_port": 8080, "group_name": "flask-microservices-local-alb",
         "group_desc": ALB_DESC, "rule_desc": "alb to swagger"},
        {"proto": "tcp", "from_port": 9000, "to_port": 9000, "group_name": "flask-microservices-local-alb",
         "group_desc": ALB_DESC, "rule_desc": "alb to client"}]
    assert rules["instances"] == []


def test_a_backend_service_can_turn_discovery_off_and_a_web_service_can_turn_it_on():
    app = reference_app()
    app["services"]["client"]["discovery"] = {"name": "frontend", "ttl": 10}
    app["services"]["swagger"].update(kind="backend", discovery={"enabled": False})
    for key in ("health_check",):
        del app["services"]["swagger"][key]
    app["listeners"] = [app["listeners"][0]]
    app["smoke_checks"] = app["smoke_checks"][:2]
    definition = model.load(app, local_env())
    services = by_name(definition.render(CTX)["stack_services"])
    assert services["client"]["service_discovery"] == {"name": "frontend", "dns_record_type": "A", "ttl": 10}
    assert "service_discovery" not in services["swagger"] and "load_balancers" not in services["swagger"]
    assert definition.discovery_name("client") == "frontend.flask-microservices-local.local"


def test_a_worker_has_no_port_no_target_group_and_no_discovery():
    app = reference_app()
    app["services"]["mailer"] = {"kind": "worker", "command": ["python", "-m", "mailer"]}
    env = local_env()
    env["env_services"]["mailer"] = {"image": IMAGES["users"]}
    options = model.load(app, env).render(CTX)
    mailer = by_name(options["stack_services"])["mailer"]
    assert set(mailer) & {"load_balancers", "service_discovery", "health_check_grace_period"} == set()
    container = mailer["task_definition"]["containers"][0]
    assert "port_mappings" not in container and container["command"] == ["python", "-m", "mailer"]
    assert "local-mailer" not in by_name(options["load_balancer"]["target_groups"])
    cloudwatch = model.load(app, env).cloudwatch_load_balancer(CTX)
    assert "mailer-unhealthy-hosts" not in {a["name"] for a in cloudwatch["alarms"]}


# -- placement, network modes, several containers -----------------------------------------------


def test_seed_002_four_linked_containers_on_ec2_in_bridge_mode_with_dynamic_ports():
    definition = model.load(ping_pong(), env_with(env_ec2_capacity=EC2_CAPACITY))
    options = definition.render(CTX)
    node = by_name(options["stack_services"])["node"]
    assert node["capacity_provider_strategy"] == [{"capacity_provider": "ping-pong-local-ec2", "weight": 1, "base": 0}]
    assert "launch_type" not in node and "network_configuration" not in node
    assert node["load_balancers"] == [{"target_group": "local-node-instance", "container_name": "node-john", "container_port": 3000}]
    task = node["task_definition"]
    assert (task["network_mode"], task["requires_compatibilities"]) == ("bridge", ["EC2"])
    assert "cpu" not in task and "memory" not in task
    containers = by_name(task["containers"])
    assert list(containers) == ["node-john", "node-paul", "node-george", "node-ringo"]
    assert containers["node-john"]["links"] == ["node-paul", "node-george", "node-ringo"]
    for container in containers.values():
        assert container["port_mappings"] == [{"container_port": 3000, "host_port": 0}]
        assert container["memory_reservation"] == 300 and container["essential"] is True
        assert container["awslogs"]["group"] == "microservice-ping-pong-node"
    assert {tg["name"]: tg["target_type"] for tg in options["load_balancer"]["target_groups"]} == {
        "local-client-instance": "instance", "local-node-instance": "instance"}
    # The load balancer reaches the instances on the ephemeral range; nothing opens the tasks' group.
    rules = definition.security_group_rules()
    assert rules == {"tasks": [], "instances": [{"proto": "tcp", "from_port": 32768, "to_port": 65535,
                                                 "group_name": "ping-pong-local-alb",
                                                 "group_desc": "ping-pong-local load balancer: listener ports open to the world",
                                                 "rule_desc": "alb to client, node"}]}
    # One log group per name the containers write to.
    assert [g["name"] for g in definition.cloudwatch()["log_groups"]] == ["microservice-ping-pong-client", "microservice-ping-pong-node"]
    # ecs_stack and alb_routes take these options; ECS gets what seed 002 registers by hand.
    params = valid(ECS_STACK_SPEC, {"cluster": options["cluster"], "services": options["stack_services"]})
    registered = task_definition_from_options(params["services"][1]["task_definition"], "us-east-1")
    john = registered["containerDefinitions"][0]
    assert (john["links"], john["portMappings"]) == (["node-paul", "node-george", "node-ringo"], [{"containerPort": 3000, "hostPort": 0}])
    valid(ALB_ROUTES_SPEC, {"name": "ping-pong-local", "application": "ping-pong", "subnets": CTX.subnet_ids, **options["load_balancer"]})


def test_host_mode_maps_the_container_port_on_the_instance_and_opens_it():
    app = talk_service()
    app["services"]["talk-service"]["network_mode"] = "host"
    definition = model.load(app, env_with(env_ec2_capacity=EC2_CAPACITY))
    service = definition.render(CTX)["stack_services"][0]
    assert service["task_definition"]["containers"][0]["port_mappings"] == [{"container_port": 8080, "host_port": 8080}]
    assert definition.security_group_rules()["instances"] == [
        {"proto": "tcp", "from_port": 8080, "to_port": 8080, "group_name": "conference-local-alb",
         "group_desc": "conference-local load balancer: listener ports open to the world", "rule_desc": "alb to talk-service"}]


def test_seed_004_container_name_container_sizes_and_its_own_log_group():
    definition = model.load(talk_service(), env_with(env_ec2_capacity=EC2_CAPACITY))
    service = definition.render(CTX)["stack_services"][0]
    container = service["task_definition"]["containers"][0]
    assert (container["name"], container["cpu"], container["memory_reservation"]) == ("web", 128, 128)
    assert container["awslogs"] == {"group": "talk-service-cloudwatch", "region": "us-east-1",
                                    "stream_prefix": "aws-talk-service-cloudwatch"}
    assert service["desired_count"] == 2 and service["load_balancers"][0]["container_name"] == "web"
    values = model_values(definition, "us-east-1", "123456789012")
    assert values["cloudwatch_absent"]["log_groups"] == [{"name": "talk-service-cloudwatch"}]


def test_moving_a_service_to_ec2_changes_its_placement_and_its_revision():
    app, env = reference_app(), local_env()
    env["env_ec2_capacity"] = EC2_CAPACITY
    before = by_name(model.load(app, env).render(CTX)["stack_services"])["users"]
    app["services"]["users"]["placement"] = "ec2"
    after = by_name(model.load(app, env).render(CTX)["stack_services"])["users"]
    assert before["launch_type"] == "FARGATE" and "capacity_provider_strategy" not in before
    assert after["capacity_provider_strategy"][0]["capacity_provider"] == "flask-microservices-local-ec2"
    assert after["task_definition"]["requires_compatibilities"] == ["EC2"]
    # awsvpc on EC2: the tasks keep their own addresses in the tasks' group, without public addresses.
    assert after["network_configuration"]["assign_public_ip"] is False
    # Fargate's default sizes stay as written (256/512 are in the reference application).
    assert (after["task_definition"]["cpu"], after["task_definition"]["memory"]) == ("256", "512")


def test_a_sidecar_runs_beside_the_main_container_with_its_own_image_repository():
    app, env = reference_app(), local_env()
    app["services"]["users"]["containers"] = {
        "envoy": {"essential": False, "cpu": 64, "memory": 128, "ports": [{"container_port": 9901}],
                  "depends_on": {}, "health_check": {"command": ["CMD-SHELL", "curl -f localhost:9901/ready"]}},
        "migrate": {"image": IMAGES["users"], "essential": False, "command": ["flask", "db", "upgrade"]}}
    app["services"]["users"]["depends_on"] = {"migrate": "SUCCESS"}
    env["env_services"]["users"]["containers"] = {"envoy": {"archive": "/tmp/envoy.tar"}}
    definition = model.load(app, env)
    assert definition.repository_names() == {"users.envoy": "flask-microservices/users-envoy"}
    assert definition.repositories() == [{"name": "flask-microservices/users-envoy", "archive": "/tmp/envoy.tar"}]
    task = by_name(definition.render(CTX)["stack_services"])["users"]["task_definition"]
    containers = by_name(task["containers"])
    assert list(containers) == ["users", "envoy", "migrate"]
    assert containers["users"]["depends_on"] == [{"container_name": "migrate", "condition": "SUCCESS"}]
    assert containers["envoy"]["image"] == "123456789012.dkr.ecr.us-east-1.amazonaws.com/flask-microservices/users-envoy:local"
    assert (containers["envoy"]["essential"], containers["envoy"]["cpu"], containers["envoy"]["memory"]) == (False, 64, 128)
    assert containers["envoy"]["port_mappings"] == [{"container_port": 9901}]
    assert containers["envoy"]["health_check"] == {"command": ["CMD-SHELL", "curl -f localhost:9901/ready"]}
    assert containers["migrate"]["awslogs"]["group"] == "/ecs/flask-microservices-local/users"
    pinned = dict(CTX.images, **{"users.envoy": "123456789012.dkr.ecr.us-east-1.amazonaws.com/flask-microservices/users-envoy@sha256:" + "a" * 64})
    ctx = copy.copy(CTX)
    ctx.images = pinned
    task = by_name(definition.render(ctx)["stack_services"])["users"]["task_definition"]
    assert by_name(task["containers"])["envoy"]["image"].endswith("@sha256:" + "a" * 64)
    valid(ECS_STACK_SPEC, {"cluster": {"name": "x"}, "services": [by_name(definition.render(CTX)["stack_services"])["users"]]})


def test_containers_naming_one_repository_share_its_image_and_its_one_archive():
    """Seed 002: node-john, node-paul, node-george and node-ringo run the one image microservice-ping-pong/node."""
    app = ping_pong()
    node = app["services"]["node"]
    del node["image"]
    for container in node["containers"].values():
        del container["image"]
        container["repository"] = "ping-pong/node"
    env = env_with(env_services={"node": {"archive": "/tmp/node.tar"}}, env_ec2_capacity=EC2_CAPACITY)
    definition = model.load(app, env)
    assert definition.repositories() == [{"name": "ping-pong/node", "archive": "/tmp/node.tar"}]
    assert set(definition.repository_names().values()) == {"ping-pong/node"}
    task = by_name(definition.render(CTX)["stack_services"])["node"]["task_definition"]
    assert {c["image"] for c in task["containers"]} == {"123456789012.dkr.ecr.us-east-1.amazonaws.com/ping-pong/node:local"}

    node["containers"]["node-paul"]["archive"] = "/tmp/other.tar"
    with pytest.raises(DefinitionError) as raised:
        model.load(app, env)
    assert "services.node.containers.node-paul.archive='/tmp/other.tar'" in raised.value.msg
    assert "containers sharing a repository run one image" in raised.value.msg

    del node["containers"]["node-paul"]["archive"]
    node["containers"]["node-ringo"]["image"] = NODE
    with pytest.raises(DefinitionError) as raised:
        model.load(app, env)
    assert "services.node.containers.node-ringo.repository='ping-pong/node': image and repository are exclusive" \
        in raised.value.msg
    node["containers"]["node-george"]["repository"] = "Ping-Pong/node"
    with pytest.raises(DefinitionError) as raised:
        model.load(app, env)
    assert "services.node.containers.node-george.repository='Ping-Pong/node': must match an ECR repository name" \
        in raised.value.msg


def test_ec2_tasks_may_size_their_containers_instead_of_the_task():
    app = talk_service()
    app["services"]["talk-service"]["memory"] = 1024
    app["services"]["talk-service"]["cpu"] = 512
    task = model.load(app, env_with(env_ec2_capacity=EC2_CAPACITY)).render(CTX)["stack_services"][0]["task_definition"]
    assert (task["cpu"], task["memory"]) == ("512", "1024")


# -- logging -------------------------------------------------------------------------------------


def test_other_log_drivers_take_their_options_and_get_no_log_group():
    app = talk_service()
    app["services"]["talk-service"]["logging"] = {"driver": "gelf", "options": {"gelf-address": "udp://logstash.internal:12201"}}
    app["services"]["talk-service"]["containers"] = {"splunk-forwarder": {
        "image": NODE, "essential": False, "memory": 64,
        "logging": {"driver": "splunk", "options": {"splunk-url": "https://splunk.internal:8088"},
                    "secret_options": {"splunk-token": "logging/SPLUNK_TOKEN"}}}}
    definition = model.load(app, env_with(env_ec2_capacity=EC2_CAPACITY))
    containers = by_name(definition.render(CTX)["stack_services"][0]["task_definition"]["containers"])
    assert containers["web"]["log_configuration"] == {"log_driver": "gelf", "options": {"gelf-address": "udp://logstash.internal:12201"}}
    assert "awslogs" not in containers["web"]
    assert containers["splunk-forwarder"]["log_configuration"]["secret_options"] == {
        "splunk-token": "arn:aws:ssm:us-east-1:123456789012:parameter/conference/local/logging/SPLUNK_TOKEN"}
    assert definition.cloudwatch()["log_groups"] == []
    assert "services.talk-service.containers.splunk-forwarder.logging.secret_options.splunk-token" in \
        definition.secret_references("us-east-1", "123456789012")


def test_awslogs_options_beside_group_and_prefix_go_to_the_log_configuration():
    app = reference_app()
    app["services"]["users"]["logging"] = {"options": {"mode": "non-blocking"}}
    container = by_name(model.load(app, local_env()).render(CTX)["stack_services"])["users"]["task_definition"]["containers"][0]
    assert container["log_configuration"] == {"log_driver": "awslogs", "options": {
        "mode": "non-blocking", "awslogs-group": "/ecs/flask-microservices-local/users", "awslogs-region": "us-east-1",
        "awslogs-stream-prefix": "users"}}


# -- references to deployed values --------------------------------------------------------------


def test_references_are_resolved_with_the_deployed_values():
    app = reference_app()
    app["services"]["client"]["environment"].update(REACT_APP_USERS_SERVICE_URL="${load_balancer.url}",
                                                    LB="${load_balancer.dns_name}", LITERAL="$${HOME}")
    app["services"]["users"]["discovery"] = {}
    app["services"]["swagger"]["environment"] = {"USERS": "http://${services.users.discovery_name}:5000"}
    definition = model.load(app, local_env())
    ctx = copy.copy(CTX)
    # Before the load balancer exists (check mode on a new account).
    env = by_name(definition.render(ctx)["release_services"])["client"]["definition"]["containers"][0]["environment"]
    assert env["REACT_APP_USERS_SERVICE_URL"] == "(known after apply)" and env["LITERAL"] == "${HOME}"
    ctx.load_balancer_dns_name = "flask-microservices-local-1234.us-east-1.elb.amazonaws.com"
    services = by_name(definition.render(ctx)["release_services"])
    env = services["client"]["definition"]["containers"][0]["environment"]
    assert env["REACT_APP_USERS_SERVICE_URL"] == "http://flask-microservices-local-1234.us-east-1.elb.amazonaws.com"
    assert env["LB"] == ctx.load_balancer_dns_name
    assert services["swagger"]["definition"]["containers"][0]["environment"]["USERS"] == \
        "http://users.flask-microservices-local.local:5000"


def test_with_a_domain_the_load_balancers_url_is_the_domain_over_https():
    app, env = reference_app(), local_env()
    app["services"]["client"]["environment"]["URL"] = "${load_balancer.url}"
    env["env_domain"] = "app.example.com"
    ctx = copy.copy(CTX)
    ctx.load_balancer_dns_name = "x.elb.amazonaws.com"
    container = by_name(model.load(app, env).render(ctx)["release_services"])["client"]["definition"]["containers"][0]
    assert container["environment"]["URL"] == "https://app.example.com"


# -- discovery in bridge mode, namespace --------------------------------------------------------


def test_discovery_in_bridge_mode_registers_srv_records_of_the_main_container():
    app = ping_pong()
    app["services"]["node"]["discovery"] = {"name": "node"}
    env = env_with(env_ec2_capacity=EC2_CAPACITY, env_service_discovery={"namespace": "pingpong.internal"})
    definition = model.load(app, env)
    node = by_name(definition.render(CTX)["stack_services"])["node"]
    assert node["service_discovery"] == {"name": "node", "dns_record_type": "SRV", "ttl": 60, "container_name": "node-john",
                                         "container_port": 3000}
    assert definition.render(CTX)["cluster"]["service_discovery_namespace"]["name"] == "pingpong.internal"


# -- the environment's side ----------------------------------------------------------------------


def test_instance_scaling_policies_are_target_tracking_on_the_groups_metrics():
    env = env_with(env_ec2_capacity=dict(EC2_CAPACITY, scaling_policies=[
        {"name": "cpu", "metric": "cpu", "target": 30}, {"name": "net", "metric": "network_in", "target": 5e6, "warmup": 120}]))
    capacity = model.load(talk_service(), env).platform("us-east-1", "123456789012")["ec2_capacity"]
    assert capacity["scaling_policies"] == [
        {"name": "conference-local-cpu", "metric_type": "ASGAverageCPUUtilization", "target": 30.0, "disable_scale_in": False},
        {"name": "conference-local-net", "metric_type": "ASGAverageNetworkIn", "target": 5e6, "disable_scale_in": False,
         "warmup": 120}]


def test_the_dashboard_shows_every_service_and_target_groups_of_web_services_only():
    app = reference_app()
    users = app["services"]["users"]
    for key in ("routes", "health_check"):
        del users[key]
    users["kind"] = "backend"
    definition = model.load(app, local_env())
    options = definition.cloudwatch_load_balancer(CTX)
    widgets = options["dashboards"][0]["widgets"]
    cpu = [w for w in widgets if w["properties"]["title"].startswith("CPU")][0]
    assert [m[-1] for m in cpu["properties"]["metrics"]] == ["client", "swagger", "users"]
    assert [w["properties"]["title"] for w in widgets if "targets" in w["properties"]["title"]] == [
        "client: targets and 5xx", "swagger: targets and 5xx"]
    assert {a["name"] for a in options["alarms"]} == {"client-unhealthy-hosts", "client-target-5xx", "swagger-unhealthy-hosts",
                                                      "swagger-target-5xx"}
    valid(CLOUDWATCH_SPEC, dict(options, name="flask-microservices-local"))
    values = model_values(definition, "us-east-1", "123456789012")
    assert "flask-microservices-local-users-unhealthy-hosts" not in values["names"]["alarms"]
    assert "flask-microservices-local-users-cpu-high" in values["names"]["alarms"]


def test_existing_environments_render_as_before():
    """format 1 files written before the shapes: every service web on Fargate, awsvpc, public subnets."""
    options = model.load(reference_app(), local_env()).render(CTX)
    for service in options["stack_services"]:
        assert service["launch_type"] == "FARGATE" and service["network_configuration"]["assign_public_ip"] is True
        assert service["task_definition"]["requires_compatibilities"] == ["FARGATE"]
        assert "service_discovery" not in service
    assert "service_discovery_namespace" not in options["cluster"]
    assert {tg["target_type"] for tg in options["load_balancer"]["target_groups"]} == {"ip"}
    assert model.load(reference_app(), local_env()).security_group_rules()["tasks"] == [
        {"proto": "tcp", "from_port": port, "to_port": port, "group_name": "flask-microservices-local-alb",
         "group_desc": ALB_DESC, "rule_desc": "alb to " + svc}
        for port, svc in ((5000, "users"), (8080, "swagger"), (9000, "client"))]


def test_with_ec2_capacity_as_the_default_services_are_placed_on_it_unless_they_say_fargate():
    app, env = reference_app(), local_env()
    env["env_ec2_capacity"] = dict(EC2_CAPACITY, default=True)
    app["services"]["swagger"]["placement"] = "fargate"
    services = by_name(model.load(app, env).render(CTX)["stack_services"])
    assert services["users"]["capacity_provider_strategy"][0]["capacity_provider"] == "flask-microservices-local-ec2"
    assert services["swagger"]["launch_type"] == "FARGATE"
