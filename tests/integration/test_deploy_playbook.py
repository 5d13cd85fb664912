"""playbooks/deploy.yml against the local emulated AWS, the way a user runs it.

A deploy takes a while, so one test walks the whole life of an environment: the first deploy
under injected throttling and 5xx at -vvv (it must converge and never print a secret), the
state it leaves, a second run that changes and writes nothing, and check mode after it.
"""

import json
import os

import pytest
import yaml

from app_cases import reference_app

from integration.ansible_runner_helpers import REPO

DEPLOY = os.path.join(REPO, "playbooks", "deploy.yml")
NAME = "flask-microservices-local"
SECRET_VALUES = {
    "/flask-microservices/local/users/DATABASE_URL": "postgres://users:s3cr3t-db-pa55@db.internal:5432/users",
    "/flask-microservices/local/users/SECRET_KEY": "k3y-th4t-must-n3ver-be-pr1nted",
}


def _proxy_env(aws):
    """Ansible's environment for requests to the load balancer through the emulator's data plane."""
    return {"http_proxy": aws.endpoint, "no_proxy": "127.0.0.1,localhost"}


def ok(run):
    assert run.rc == 0, run.stdout[-4000:] + run.stderr[-4000:]
    return run


@pytest.mark.slow
def test_check_mode_on_a_fresh_account_makes_no_write_call(aws, run_playbook, boto3_client):
    for name, value in SECRET_VALUES.items():
        boto3_client("ssm").put_parameter(Name=name, Value=value, Type="SecureString")
    aws.clear_calls()
    run = ok(run_playbook(DEPLOY, check=True, diff=True))
    plan = run.task("Validate the application and plan the environment")["plan"]
    assert {e["action"] for e in plan} == {"create"}
    assert len(plan) >= 30, plan
    assert run.changed > 0, "check mode should report what it would create"
    # The target groups do not exist yet: their alarms are planned with dimensions not known yet.
    planned = run.task("shipyard.ecs.logging : Write the target group alarms and the dashboard")["plan"]
    assert {(a["action"], a["kind"]) for a in planned} == {("create", "alarm"), ("create", "dashboard")}
    assert len([a for a in planned if a["kind"] == "alarm"]) == 6
    assert aws.write_calls() == []


@pytest.mark.slow
def test_deploy_converges_under_faults_never_prints_secrets_and_a_second_run_changes_nothing(aws, run_playbook, boto3_client, tmp_path):
    ssm = boto3_client("ssm")
    for name, value in SECRET_VALUES.items():
        ssm.put_parameter(Name=name, Value=value, Type="SecureString")
    aws.inject_fault("*", "*", throttle_rate=0.10, error_rate=0.10, seed=7)

    first = run_playbook(DEPLOY, args=["-vvv"], env={"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default"})

    output = first.stdout + first.stderr
    assert first.rc == 0, output[-5000:]
    assert len([c for c in aws.calls() if c["status"] >= 400]) > 10, "the faults were not exercised"
    for value in SECRET_VALUES.values():
        assert value not in output
    aws.clear_faults()

    ecs = boto3_client("ecs")
    services = ecs.describe_services(cluster=NAME, services=["client", "users", "swagger"])["services"]
    assert {s["serviceName"]: (s["status"], s["runningCount"], s["deployments"][0]["rolloutState"]) for s in services} == {
        "client": ("ACTIVE", 1, "COMPLETED"), "users": ("ACTIVE", 1, "COMPLETED"), "swagger": ("ACTIVE", 1, "COMPLETED")}
    users_td = ecs.describe_task_definition(taskDefinition=services[1]["taskDefinition"])["taskDefinition"]
    container = users_td["containerDefinitions"][0]
    assert {s["name"] for s in container["secrets"]} == {"DATABASE_URL", "SECRET_KEY"}
    assert "DATABASE_URL" not in {e["name"] for e in container.get("environment", [])}
    # The task execution role may read exactly these parameters: the ARNs the secrets resolve to.
    policy = boto3_client("iam").get_role_policy(RoleName=NAME + "-task-execution", PolicyName="read-secrets")["PolicyDocument"]
    statements = policy if isinstance(policy, dict) else json.loads(policy)
    readable = {arn for statement in statements["Statement"] for arn in statement["Resource"]}
    assert readable == {"arn:aws:ssm:us-east-1:123456789012:parameter" + name for name in SECRET_VALUES}
    assert readable == {s["valueFrom"] for s in container["secrets"]}

    elbv2 = boto3_client("elbv2")
    alb = elbv2.describe_load_balancers(Names=[NAME])["LoadBalancers"][0]
    listeners = {lst["Port"]: lst for lst in elbv2.describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])["Listeners"]}
    assert sorted(listeners) == [80, 8080]
    rules = elbv2.describe_rules(ListenerArn=listeners[80]["ListenerArn"])["Rules"]
    paths = sorted((c.get("PathPatternConfig") or c)["Values"][0] for r in rules if not r["IsDefault"] for c in r["Conditions"] if c["Field"] == "path-pattern")
    assert paths == ["/auth/*", "/ping", "/users", "/users/*"]

    # Load balancer alarms per target group, by the ARN suffixes CloudWatch names them with.
    target_groups = elbv2.describe_target_groups(LoadBalancerArn=alb["LoadBalancerArn"])["TargetGroups"]
    alarms = {a["AlarmName"]: a for a in boto3_client("cloudwatch").describe_alarms(AlarmNamePrefix=NAME + "-")["MetricAlarms"]}
    topic = "arn:aws:sns:us-east-1:123456789012:%s-alarms" % NAME
    for tg in target_groups:
        service = tg["TargetGroupName"].split("-", 1)[1]
        dimensions = {"LoadBalancer": alb["LoadBalancerArn"].split(":loadbalancer/")[1], "TargetGroup": tg["TargetGroupArn"].split(":")[-1]}
        for kind, metric in (("unhealthy-hosts", "UnHealthyHostCount"), ("target-5xx", "HTTPCode_Target_5XX_Count")):
            alarm = alarms["%s-%s-%s" % (NAME, service, kind)]
            assert (alarm["MetricName"], {d["Name"]: d["Value"] for d in alarm["Dimensions"]}, alarm["AlarmActions"]) == (metric, dimensions, [topic])
    assert len(target_groups) == 3

    # The second run smoke-checks over HTTP (env_smoke_http), through the emulator's load balancer
    # data plane, reached as users reach a load balancer from behind a proxy (http_proxy).
    aws.clear_calls()
    second = ok(run_playbook(DEPLOY, extra_vars={"env_smoke_http": True}, env=_proxy_env(aws)))
    assert second.changed_tasks() == []
    assert aws.write_calls() == []
    # The owners' planners (run by app_plan) found nothing to do in any part: no role's module runs.
    planned = second.task("Validate the application and plan the environment")
    assert planned["unchanged"] == {"platform": True, "logging": True, "services": True}, planned["work"]
    assert planned["plan_lines"][-1] == "unchanged, not run: platform, logging, services"
    ran = [t["name"] for t in second.tasks() if not t.get("skipped")]
    assert [name for name in ran if name.startswith(("shipyard.ecs.platform :", "shipyard.ecs.services :", "shipyard.ecs.logging :"))] == [], ran
    smoke = second.task("Request the load balancer's endpoints")["results"]
    assert [(r["item"]["name"], r["status"]) for r in smoke] == [(":80/ping", 200), (":80/", 200), (":8080/", 200)]
    assert "flask-microservices/users" in smoke[0]["json"]["image"]

    check = ok(run_playbook(DEPLOY, check=True))
    assert check.changed_tasks() == []
    assert aws.write_calls() == []

    # Drift only an owner module sees (ecr_image_push: a repository's lifecycle policy; alb_routes: a target group's
    # attribute) is not skipped: the plan names it, the run corrects it.
    ecr = boto3_client("ecr")
    policy = ecr.get_lifecycle_policy(repositoryName="flask-microservices/users")["lifecyclePolicyText"]
    ecr.delete_lifecycle_policy(repositoryName="flask-microservices/users")
    users_tg = elbv2.describe_target_groups(Names=["local-users"])["TargetGroups"][0]["TargetGroupArn"]
    delay = {a["Key"]: a["Value"] for a in elbv2.describe_target_group_attributes(TargetGroupArn=users_tg)["Attributes"]}[
        "deregistration_delay.timeout_seconds"]
    elbv2.modify_target_group_attributes(TargetGroupArn=users_tg, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": str(int(delay) + 7)}])
    # And the platform's (platform_stack: a rule opened on the tasks' group; ecs_stack: the cluster's Container Insights).
    ec2 = boto3_client("ec2")
    tasks_group = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [NAME + "-tasks"]}])["SecurityGroups"][0]
    ec2.authorize_security_group_ingress(GroupId=tasks_group["GroupId"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    boto3_client("ecs").update_cluster(cluster=NAME, settings=[{"name": "containerInsights", "value": "enabled"}])
    mended = ok(run_playbook(DEPLOY))
    planned = mended.task("Validate the application and plan the environment")
    assert planned["unchanged"] == {"platform": False, "logging": True, "services": False}, planned["work"]
    assert "update security_group %s-tasks" % NAME in planned["work"]["platform"], planned["work"]
    assert any("cluster" in line for line in planned["work"]["platform"]), planned["work"]
    rules = ec2.describe_security_groups(GroupIds=[tasks_group["GroupId"]])["SecurityGroups"][0]["IpPermissions"]
    assert sorted(json.dumps(r, sort_keys=True) for r in rules) == sorted(json.dumps(r, sort_keys=True) for r in tasks_group["IpPermissions"])
    settings = boto3_client("ecs").describe_clusters(clusters=[NAME], include=["SETTINGS"])["clusters"][0]["settings"]
    assert {s["name"]: s["value"] for s in settings}["containerInsights"] == "disabled"
    assert "update ecr_repository flask-microservices/users" in planned["work"]["services"], planned["work"]
    assert any("local-users" in line for line in planned["work"]["services"]), planned["work"]
    assert json.loads(ecr.get_lifecycle_policy(repositoryName="flask-microservices/users")["lifecyclePolicyText"]) == json.loads(policy)
    assert {a["Key"]: a["Value"] for a in elbv2.describe_target_group_attributes(TargetGroupArn=users_tg)["Attributes"]}[
        "deregistration_delay.timeout_seconds"] == delay

    # Every field of the definition is deployed: change one of each kind in the application file,
    # --check --diff shows it first (and writes nothing), the deploy runs it, the next run is a no-op.
    ssm.put_parameter(Name="/flask-microservices/local/users/API_TOKEN", Value="t0ken-never-printed", Type="SecureString")
    app = reference_app()
    users = app["services"]["users"]
    users["environment"]["APP_SETTINGS"] = "project.config.StagingConfig"
    users["secrets"]["API_TOKEN"] = "users/API_TOKEN"
    users.update(cpu=512, memory=1024, command=["gunicorn", "-b", "0.0.0.0:5000", "manage:app"], stop_timeout=20,
                 container_health_check={"command": ["CMD-SHELL", "curl -f localhost:5000/ping"], "retries": 3})
    users["routes"].append({"listener": 80, "path_patterns": ["/v2/*"]})
    users["health_check"]["matcher"] = "200-299"
    app["services"]["client"]["desired_count"] = 2
    changed_app = tmp_path / "app.yml"
    changed_app.write_text(yaml.safe_dump(app))
    extra = {"app_definition_file": str(changed_app)}

    aws.clear_calls()
    preview = ok(run_playbook(DEPLOY, check=True, diff=True, extra_vars=extra))
    lines = "\n".join(preview.task("Show the plan")["msg"])
    for expected in ("containers.users.environment.APP_SETTINGS", "project.config.StagingConfig", "API_TOKEN",
                     "cpu: 256 -> 512", "memory: 512 -> 1024", "containers.users.command", "desiredCount: 1 -> 2", "/v2/*", "200-299"):
        assert expected in lines, lines
    assert aws.write_calls() == []

    # The release's users tasks pass the load balancer's health checks but answer 500 to users.
    aws.set_behaviour(container["image"], "bad_responses")
    third = ok(run_playbook(DEPLOY, extra_vars=extra))
    assert "t0ken-never-printed" not in third.stdout + third.stderr
    services = {s["serviceName"]: s for s in ecs.describe_services(cluster=NAME, services=["client", "users"])["services"]}
    assert services["client"]["desiredCount"] == 2
    td = ecs.describe_task_definition(taskDefinition=services["users"]["taskDefinition"])["taskDefinition"]
    assert td["revision"] == 2 and services["users"]["deployments"][0]["taskDefinition"] == td["taskDefinitionArn"]
    container = td["containerDefinitions"][0]
    assert (td["cpu"], td["memory"]) == ("512", "1024")
    assert {e["name"]: e["value"] for e in container["environment"]}["APP_SETTINGS"] == "project.config.StagingConfig"
    assert "API_TOKEN" in {s["name"] for s in container["secrets"]}
    assert container["command"] == ["gunicorn", "-b", "0.0.0.0:5000", "manage:app"] and container["stopTimeout"] == 20
    assert container["healthCheck"]["command"] == ["CMD-SHELL", "curl -f localhost:5000/ping"]
    rules = elbv2.describe_rules(ListenerArn=listeners[80]["ListenerArn"])["Rules"]
    assert ["/v2/*"] in [c["Values"] for r in rules for c in r["Conditions"] if c["Field"] == "path-pattern"]
    users_tg = elbv2.describe_target_groups(Names=["local-users"])["TargetGroups"][0]
    assert users_tg["Matcher"]["HttpCode"] == "200-299"

    # The health of the targets passed the release (env_smoke_http false); its smoke checks over
    # HTTP fail the play, naming the check and the answer, on a run that changes nothing.
    aws.clear_calls()
    fourth = run_playbook(DEPLOY, extra_vars=dict(extra, env_smoke_http=True, env_smoke_retries=0), env=_proxy_env(aws))
    assert fourth.rc != 0 and fourth.failed == 1
    failed_check = fourth.task("Request the load balancer's endpoints")
    failures = [(r["item"]["name"], r["status"]) for r in failed_check["results"] if r.get("failed")]
    assert failures == [(":80/ping", 500)], failed_check
    assert fourth.changed_tasks() == []
    assert aws.write_calls() == []

    # A change only the release sees (one value of one container) runs only the release: the plan found nothing to do
    # for the other owners and knew every option, so the services role neither renders nor runs them.
    users["environment"]["APP_SETTINGS"] = "project.config.ProductionConfig"
    changed_app.write_text(yaml.safe_dump(app))
    release = ok(run_playbook(DEPLOY, extra_vars=extra))
    planned = release.task("Validate the application and plan the environment")
    assert planned["unchanged"] == {"platform": True, "logging": True, "services": False}, planned["work"]
    assert planned["unchanged_owners"] == {"ecr_image_push": True, "alb_routes": True, "cloudwatch_load_balancer": True,
                                           "ecs_stack": True}, planned["work"]
    assert planned["plan_lines"][-1] == ("unchanged, not run: platform, logging, "
                                         "in services: alb_routes, cloudwatch_load_balancer, ecr_image_push, ecs_stack")
    ran = [t["name"] for t in release.tasks() if not t.get("skipped") and t["name"].startswith("shipyard.ecs.")
           and "Validating arguments" not in t["name"]]
    assert ran == ["shipyard.ecs.services : Keep the services' options", "shipyard.ecs.services : Release the services' task definitions",
                   "shipyard.ecs.services : Summarise the release"], ran
    # The release wrote its report, and its smoke check judged the targets as the release read them once it was over.
    released = release.task("shipyard.ecs.services : Release the services' task definitions")
    assert os.path.exists(released["report"]["html_path"]) and released["report"]["status"] == "succeeded"
    assert "report: " + released["report"]["html_path"] in release.task("shipyard.ecs.services : Summarise the release")["msg"]
    assert release.task("Describe the targets of the load balancer").get("skipped")
    assert sorted(released["target_health"]) == ["local-client", "local-swagger", "local-users"], released["target_health"]
    assert "local-users: healthy" in release.task("Check that every web service has targets and all are healthy")["msg"]
    services = {s["serviceName"]: s for s in ecs.describe_services(cluster=NAME, services=["users"])["services"]}
    td = ecs.describe_task_definition(taskDefinition=services["users"]["taskDefinition"])["taskDefinition"]
    assert td["revision"] == 3
    assert {e["name"]: e["value"] for e in td["containerDefinitions"][0]["environment"]}["APP_SETTINGS"] == "project.config.ProductionConfig"
    # What the role was given is what it would have rendered: the next run has nothing to do.
    aws.clear_calls()
    again = ok(run_playbook(DEPLOY, extra_vars=extra))
    assert again.task("Validate the application and plan the environment")["unchanged"] == {
        "platform": True, "logging": True, "services": True}
    assert again.changed_tasks() == [] and aws.write_calls() == []
    # Its smoke check judged the targets as the plan read them: no target group described again.
    assert again.task("Describe the targets of the load balancer").get("skipped")
    assert "local-users: healthy" in again.task("Check that every web service has targets and all are healthy")["msg"]
    # One read per target group (3 web services), all by app_plan: the smoke check's came from the release's planner's.
    operations = [c["operation"] for c in aws.calls()]
    assert (operations.count("DescribeTargetGroupAttributes"), operations.count("DescribeTargetHealth")) == (3, 3)
    # The release's planner lists the web services' running tasks (to find their targets) once for the cluster, which
    # holds fewer than a page of them, and no stopped ones.
    assert operations.count("ListTasks") == 1, operations

    # A new repository (a worker pushed from its own archive) while the load balancer has nothing to do: the options are
    # not all known before the push, so the role renders them, with the load balancer's ARNs (alb_routes runs: the
    # web services keep their target groups).
    app["services"]["worker"] = {"kind": "worker", "cpu": 256, "memory": 512, "desired_count": 1}
    changed_app.write_text(yaml.safe_dump(app))
    images = os.environ["SHIPYARD_DEMO_IMAGES"]
    services_vars = {name: {"archive": os.path.join(images, name + ".tar")} for name in ("client", "users", "swagger")}
    services_vars["worker"] = {"archive": os.path.join(images, "users.tar")}
    grown = ok(run_playbook(DEPLOY, extra_vars=dict(extra, env_services=services_vars)))
    planned = grown.task("Validate the application and plan the environment")
    assert planned["options"] == {} and planned["unchanged_owners"]["alb_routes"] is True, planned["work"]
    assert not grown.task("shipyard.ecs.services : Create the load balancer, listeners, target groups and routes").get("skipped")
    services = {s["serviceName"]: s for s in ecs.describe_services(cluster=NAME, services=["worker", "users"])["services"]}
    assert services["worker"]["status"] == "ACTIVE"
    assert services["users"]["loadBalancers"][0]["targetGroupArn"] == users_tg["TargetGroupArn"]
    assert ok(run_playbook(DEPLOY, extra_vars=dict(extra, env_services=services_vars))).changed_tasks() == []
