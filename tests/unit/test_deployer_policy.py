"""The deployer's IAM policies (policies/deployer-*-policy.json) are kept in step with the AWS calls
the collection makes.

They are customer managed policies (at most 6,144 characters each, a handful per role), one per
area: the platform (network, EC2 capacity, IAM roles), the services (ECS, load balancer, ECR,
Cloud Map), DNS and monitoring.  Taken together they are checked as one policy.

Three sources of calls, each checked against the policy's Allow statements:

* the collection's own code: every operation named in an ``AwsApi`` subclass of
  plugins/module_utils (found by reading the source, so a new call without a policy change fails);
* boto3 scripts that playbooks run with the controller's Python (``boto3.client("logs")`` then
  ``.get_log_events(``), found in the playbooks' text;
* the amazon.aws / community.aws modules the roles and playbooks use: an explicit table, written
  by reading those modules' source (``MODULE_ACTIONS``); every module that roles/ and playbooks/
  use must be in it, and only the entries of modules in use count as a need;
* actions AWS authorizes on the side of a call (``IMPLICIT_ACTIONS``): passing roles, service-linked
  roles, the registry API behind an image push, tags on creation.

And the other way round: the policy allows nothing that none of them needs.
"""

from __future__ import annotations

import ast
import fnmatch
import glob
import json
import os
import re
from typing import Any, Dict, Iterable, List, Set

import botocore.session
import yaml
from botocore import xform_name

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
POLICY_PATHS = sorted(glob.glob(os.path.join(REPO, "policies", "deployer-*-policy.json")))
# IAM's limits: a customer managed policy has at most 6,144 characters without whitespace, and a
# role has at most 10 managed policies attached by default.
MANAGED_POLICY_CHARS = 6144
MANAGED_POLICIES_PER_ROLE = 10

# botocore service name (the ``service`` attribute of an AwsApi subclass) -> IAM service prefix.
IAM_PREFIX = {
    "ecs": "ecs",
    "elbv2": "elasticloadbalancing",
    "ecr": "ecr",
    "logs": "logs",
    "application-autoscaling": "application-autoscaling",
    "servicediscovery": "servicediscovery",
    "ec2": "ec2",
    "iam": "iam",
    "ssm": "ssm",
    "secretsmanager": "secretsmanager",
    "sts": "sts",
    "cloudwatch": "cloudwatch",
    "autoscaling": "autoscaling",
    "sns": "sns",
    "acm": "acm",
    "route53": "route53",
    "resourcegroupstaggingapi": "tag",
}

_EC2_TAGS = ["ec2:DescribeTags", "ec2:CreateTags", "ec2:DeleteTags"]

# What each amazon.aws / community.aws module the roles and playbooks use calls, read from the
# module's source in amazon.aws 10.1 / community.aws 10.0 (present and absent states: teardown
# uses the same modules). Optional calls a module tolerates being denied are left out.
MODULE_ACTIONS: Dict[str, List[str]] = {
    "amazon.aws.ec2_security_group": [
        "ec2:DescribeSecurityGroups", "ec2:CreateSecurityGroup", "ec2:DeleteSecurityGroup",
        "ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress",
        "ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupEgress",
        "ec2:UpdateSecurityGroupRuleDescriptionsIngress", "ec2:UpdateSecurityGroupRuleDescriptionsEgress"] + _EC2_TAGS,
    "amazon.aws.ec2_security_group_info": ["ec2:DescribeSecurityGroups"],
    "amazon.aws.ec2_vpc_igw": [
        "ec2:DescribeInternetGateways", "ec2:DescribeVpcs", "ec2:CreateInternetGateway",
        "ec2:AttachInternetGateway", "ec2:DetachInternetGateway", "ec2:DeleteInternetGateway"] + _EC2_TAGS,
    "amazon.aws.ec2_vpc_net": [
        "ec2:DescribeVpcs", "ec2:DescribeVpcAttribute", "ec2:CreateVpc", "ec2:DeleteVpc", "ec2:ModifyVpcAttribute",
        "ec2:AssociateVpcCidrBlock", "ec2:DisassociateVpcCidrBlock", "ec2:AssociateDhcpOptions"] + _EC2_TAGS,
    "amazon.aws.ec2_vpc_net_info": ["ec2:DescribeVpcs", "ec2:DescribeVpcAttribute"],
    "amazon.aws.ec2_vpc_route_table": [
        "ec2:DescribeRouteTables", "ec2:DescribeSubnets", "ec2:DescribeInternetGateways", "ec2:CreateRouteTable",
        "ec2:DeleteRouteTable", "ec2:AssociateRouteTable", "ec2:DisassociateRouteTable", "ec2:CreateRoute",
        "ec2:DeleteRoute", "ec2:ReplaceRoute", "ec2:EnableVgwRoutePropagation"] + _EC2_TAGS,
    "amazon.aws.ec2_vpc_subnet": [
        "ec2:DescribeSubnets", "ec2:CreateSubnet", "ec2:DeleteSubnet", "ec2:ModifySubnetAttribute",
        "ec2:AssociateSubnetCidrBlock", "ec2:DisassociateSubnetCidrBlock"] + _EC2_TAGS,
    "amazon.aws.ec2_vpc_subnet_info": ["ec2:DescribeSubnets"],
    "amazon.aws.elb_application_lb_info": [
        "elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeListeners",
        "elasticloadbalancing:DescribeRules", "elasticloadbalancing:DescribeLoadBalancerAttributes",
        "elasticloadbalancing:DescribeTags"],
    # iam_type: role only.
    "amazon.aws.iam_policy": ["iam:ListRolePolicies", "iam:GetRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy"],
    # create_instance_profile defaults to true in amazon.aws 10, hence the instance-profile calls.
    "amazon.aws.iam_role": [
        "iam:GetRole", "iam:CreateRole", "iam:DeleteRole", "iam:UpdateRole", "iam:UpdateAssumeRolePolicy",
        "iam:TagRole", "iam:UntagRole", "iam:ListAttachedRolePolicies", "iam:AttachRolePolicy",
        "iam:DetachRolePolicy", "iam:ListRolePolicies", "iam:DeleteRolePolicy", "iam:ListInstanceProfilesForRole",
        "iam:GetInstanceProfile", "iam:CreateInstanceProfile", "iam:AddRoleToInstanceProfile",
        "iam:RemoveRoleFromInstanceProfile", "iam:DeleteInstanceProfile"],
    # present with hosted_zone_id (services role); get and absent by zone name (teardown: get also
    # reads the zone's name servers). Without wait (route53:GetChange) or vpc_id.
    "amazon.aws.route53": [
        "route53:ListHostedZones", "route53:GetHostedZone", "route53:ListResourceRecordSets",
        "route53:ChangeResourceRecordSets"],
    # Without load balancers, target groups, notifications, suspended processes or launch configurations
    # (the platform role's EC2 capacity); the role calls it only when the group is missing or differs.
    "amazon.aws.autoscaling_group": [
        "autoscaling:DescribeAutoScalingGroups", "autoscaling:CreateAutoScalingGroup",
        "autoscaling:UpdateAutoScalingGroup", "autoscaling:DeleteAutoScalingGroup", "autoscaling:CreateOrUpdateTags",
        "autoscaling:DeleteTags", "autoscaling:DisableMetricsCollection", "ec2:DescribeLaunchTemplates"],
    # The instances' target tracking policies (the platform role, only for policies missing or different).
    "community.aws.autoscaling_policy": [
        "autoscaling:DescribePolicies", "autoscaling:PutScalingPolicy", "autoscaling:DeletePolicy"],
    # Lifecycle hooks are described for every group found.
    "amazon.aws.autoscaling_group_info": ["autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeLifecycleHooks"],
    # The instance profile is given by ARN (by name the module lists instance profiles).
    "amazon.aws.ec2_launch_template": [
        "ec2:DescribeLaunchTemplates", "ec2:DescribeLaunchTemplateVersions", "ec2:CreateLaunchTemplate",
        "ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate", "ec2:DeleteLaunchTemplate",
        "ec2:DeleteLaunchTemplateVersions"] + _EC2_TAGS,
    "amazon.aws.iam_instance_profile": [
        "iam:GetInstanceProfile", "iam:CreateInstanceProfile", "iam:DeleteInstanceProfile",
        "iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile", "iam:TagInstanceProfile",
        "iam:UntagInstanceProfile"],
    # Lookup: one parameter by name (the ECS-optimized AMI id).
    "amazon.aws.ssm_parameter": ["ssm:GetParameter"],
    # state: absent only (teardown); shipyard.ecs.ecr_image_push creates and shapes repositories.
    "community.aws.ecs_ecr": ["ecr:DescribeRepositories", "ecr:DeleteRepository"],
    "community.aws.ecs_service_info": ["ecs:ListServices", "ecs:DescribeServices"],
    # operation: run, without tags (tags would add ecs:ListAccountSettings).
    "community.aws.ecs_task": ["ecs:ListTasks", "ecs:RunTask"],
    "community.aws.ecs_taskdefinition_info": ["ecs:DescribeTaskDefinition"],
    "community.aws.elb_target_group_info": [
        "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth",
        "elasticloadbalancing:DescribeTargetGroupAttributes", "elasticloadbalancing:DescribeTags"],
}

# Calls a module makes but gets on without when they are denied: not granted.
OPTIONAL_ACTIONS: Dict[str, str] = {
    "iam:ListAccountAliases": "amazon.aws.aws_caller_info returns no account alias when it is denied",
}

# Actions no boto3 call names but AWS checks on the deployer's behalf.
IMPLICIT_ACTIONS: Dict[str, str] = {
    "iam:PassRole": "RegisterTaskDefinition with the task and task execution roles; CreateService and UpdateService "
                    "with a load balancer's advancedConfiguration.roleArn (the ECS infrastructure role)",
    "iam:CreateServiceLinkedRole": "first cluster, load balancer or scalable target of an account",
    "ecr:BatchCheckLayerAvailability": "registry API: HEAD of a blob during a push",
    "ecr:GetDownloadUrlForLayer": "registry API: cross-repository blob mount during a promotion",
    "ecr:InitiateLayerUpload": "registry API: POST of a blob upload",
    "ecr:UploadLayerPart": "registry API: PATCH of a blob chunk",
    "ecr:CompleteLayerUpload": "registry API: PUT that completes a blob upload",
    "logs:TagResource": "CreateLogGroup with tags is also authorized as logs:TagResource",
    "ec2:RunInstances": "CreateAutoScalingGroup / UpdateAutoScalingGroup with a launch template",
    # Cloud Map's API permissions reference: what CreatePrivateDnsNamespace needs besides itself.
    "route53:CreateHostedZone": "CreatePrivateDnsNamespace creates the namespace's private hosted zone",
    "route53:GetHostedZone": "CreatePrivateDnsNamespace",
    "route53:ListHostedZonesByName": "CreatePrivateDnsNamespace",
    "ec2:DescribeVpcs": "CreatePrivateDnsNamespace checks the namespace's VPC",
    "ec2:DescribeRegions": "CreatePrivateDnsNamespace",
}


def load_policies() -> Dict[str, Dict[str, Any]]:
    """Each managed policy document by file name."""
    out = {}
    for path in POLICY_PATHS:
        with open(path) as handle:
            out[os.path.basename(path)] = json.load(handle)
    return out


def load_policy() -> Dict[str, Any]:
    """The deployer's permissions: the statements of every policy, as one document."""
    return {"Version": "2012-10-17", "Statement": [s for doc in load_policies().values() for s in doc["Statement"]]}


def _as_list(value: Any) -> List[str]:
    return [value] if isinstance(value, str) else list(value)


def allowed_patterns(policy: Dict[str, Any]) -> List[str]:
    """Every Action pattern of the policy's Allow statements."""
    return [a for s in policy["Statement"] if s["Effect"] == "Allow" for a in _as_list(s["Action"])]


def allows(policy: Dict[str, Any], action: str) -> bool:
    """True when an Allow statement's Action matches ``action`` (IAM matches case-insensitively)."""
    return any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in allowed_patterns(policy))


def _api_classes() -> Iterable[tuple]:
    for path in sorted(glob.glob(os.path.join(REPO, "plugins", "module_utils", "**", "*.py"), recursive=True)):
        with open(path) as handle:
            tree = ast.parse(handle.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and any(getattr(b, "id", None) == "AwsApi" for b in node.bases):
                service = None
                for stmt in node.body:
                    if (isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant)
                            and any(getattr(t, "id", None) == "service" for t in stmt.targets)):
                        service = stmt.value.value
                yield os.path.relpath(path, REPO), node, service


def collection_actions() -> Set[str]:
    """IAM actions of every operation named in an AwsApi subclass of plugins/module_utils.

    An operation is any string constant in the class that is one of its service's operations
    (snake case), which also finds names handed to helpers such as ``self._or_none("op")``.
    """
    session = botocore.session.get_session()
    actions = set()
    for _path, node, service in _api_classes():
        operations = {xform_name(op): op for op in session.get_service_model(service).operation_names}
        for sub in ast.walk(node):
            if isinstance(sub, ast.Constant) and isinstance(sub.value, str) and sub.value in operations:
                actions.add("%s:%s" % (IAM_PREFIX[service], operations[sub.value]))
    return actions


def _yaml_files() -> List[str]:
    files = []
    for top in ("roles", "playbooks"):
        for pattern in ("*.yml", "*.yaml"):
            files += glob.glob(os.path.join(REPO, top, "**", pattern), recursive=True)
    return sorted(files)


_JINJA_FQCN = re.compile(r"(?:\|\s*|\b(?:lookup|query|q)\(\s*['\"]|\bis\s+(?:not\s+)?)([a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*)")
_FQCN = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")


def used_fqcns() -> Set[str]:
    """FQCNs that roles/ and playbooks/ use: task keys, roles, action groups, Jinja plugins."""
    found: Set[str] = set()

    def walk(node: Any, parent_key: str = "") -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(key, str):
                    name = key[len("group/"):] if key.startswith("group/") else key
                    if _FQCN.match(name):
                        found.add(name)
                # include_role / import_role name their role under "name".
                if isinstance(key, str) and key.rsplit(".", 1)[-1] in ("include_role", "import_role") and isinstance(value, dict):
                    walk(value.get("name", ""), "role")
                walk(value, key if isinstance(key, str) else "")
        elif isinstance(node, list):
            for item in node:
                walk(item, parent_key)
        elif isinstance(node, str):
            if parent_key in ("role", "roles") and _FQCN.match(node.strip()):
                found.add(node.strip())
            found.update(_JINJA_FQCN.findall(node))

    for path in _yaml_files():
        with open(path) as handle:
            for doc in yaml.safe_load_all(handle):
                walk(doc)
    return found


_BOTO3_CLIENT = re.compile(r"boto3\.client\(\s*['\"]([a-z0-9-]+)['\"]")


def script_actions() -> Set[str]:
    """IAM actions of the boto3 calls in scripts that roles and playbooks run (``python -c``).

    A script is any YAML string that creates a boto3 client; its calls are the ``.<operation>(``
    of that client's service.
    """
    session = botocore.session.get_session()
    actions: Set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, str):
            for service in _BOTO3_CLIENT.findall(node):
                operations = {xform_name(op): op for op in session.get_service_model(service).operation_names}
                for name in re.findall(r"\.([a-z_0-9]+)\(", node):
                    if name in operations:
                        actions.add("%s:%s" % (IAM_PREFIX[service], operations[name]))

    for path in _yaml_files():
        with open(path) as handle:
            for doc in yaml.safe_load_all(handle):
                walk(doc)
    return actions


def used_aws_modules() -> Set[str]:
    return {f for f in used_fqcns() if f.split(".")[0] in ("amazon", "community") and f.split(".")[1] == "aws"}


def test_policy_is_an_iam_policy_document_with_a_sid_per_statement():
    assert all(doc["Version"] == "2012-10-17" for doc in load_policies().values())
    policy = load_policy()
    sids = [s.get("Sid") for s in policy["Statement"]]
    assert all(sid and re.match(r"^[A-Za-z0-9]+$", sid) for sid in sids), sids
    assert len(set(sids)) == len(sids), "duplicate Sid"
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow", statement["Sid"]
        assert _as_list(statement["Action"]) and _as_list(statement["Resource"]), statement["Sid"]
        assert set(statement) <= {"Sid", "Effect", "Action", "Resource", "Condition"}, statement["Sid"]


def test_the_policies_are_a_few_customer_managed_policies_each_within_its_size_limit():
    policies = load_policies()
    assert 1 < len(policies) <= MANAGED_POLICIES_PER_ROLE
    # IAM counts a managed policy's characters without whitespace.
    sizes = {name: len(json.dumps(doc, separators=(",", ":"))) for name, doc in policies.items()}
    assert {name: size for name, size in sizes.items() if size > MANAGED_POLICY_CHARS} == {}
    assert not os.path.exists(os.path.join(REPO, "policies", "deployer-iam-policy.json")), "the single inline policy is gone"


def test_cloud_map_is_allowed_with_what_creating_a_private_dns_namespace_needs():
    policy = load_policy()
    for action in ("servicediscovery:CreatePrivateDnsNamespace", "servicediscovery:GetOperation",
                   "servicediscovery:DeleteNamespace", "servicediscovery:ListInstances", "route53:CreateHostedZone"):
        assert allows(policy, action), action


def test_every_api_class_names_a_service_with_a_known_iam_prefix():
    classes = list(_api_classes())
    assert classes, "no AwsApi subclass found under plugins/module_utils"
    unknown = ["%s:%s service=%r" % (path, node.name, service) for path, node, service in classes if service not in IAM_PREFIX]
    assert unknown == []


def test_every_operation_the_collection_calls_is_allowed():
    policy = load_policy()
    actions = collection_actions()
    assert "ecs:UpdateService" in actions and "elasticloadbalancing:SetRulePriorities" in actions
    assert sorted(a for a in actions if not allows(policy, a)) == []


def test_every_call_of_the_playbooks_boto3_scripts_is_allowed():
    policy = load_policy()
    actions = script_actions()
    assert sorted(a for a in actions if not allows(policy, a)) == []


def test_the_module_table_covers_every_aws_module_the_roles_and_playbooks_use():
    assert sorted(used_aws_modules() - set(MODULE_ACTIONS)) == []


def test_every_action_of_the_aws_modules_the_roles_use_is_allowed():
    policy = load_policy()
    missing = sorted({"%s (%s)" % (a, m) for m, actions in MODULE_ACTIONS.items() for a in actions if not allows(policy, a)})
    assert missing == []


def test_every_implicit_action_is_allowed():
    policy = load_policy()
    assert sorted(a for a in IMPLICIT_ACTIONS if not allows(policy, a)) == []


def test_optional_actions_are_not_granted():
    policy = load_policy()
    assert [a for a in OPTIONAL_ACTIONS if allows(policy, a)] == []


def test_policy_has_no_wildcard_action():
    patterns = allowed_patterns(load_policy())
    assert [p for p in patterns if "*" in p or "?" in p] == []


def test_policy_allows_only_actions_something_uses():
    used_modules = used_aws_modules()
    module_actions = {a for module, actions in MODULE_ACTIONS.items() if module in used_modules for a in actions}
    needed = collection_actions() | script_actions() | module_actions | set(IMPLICIT_ACTIONS)
    needed = {a.lower() for a in needed}
    assert sorted(p for p in allowed_patterns(load_policy()) if p.lower() not in needed) == []


def test_iam_actions_apply_only_to_named_resources():
    broad = [s["Sid"] for s in load_policy()["Statement"]
             if any(a.startswith("iam:") for a in _as_list(s["Action"])) and "*" in _as_list(s["Resource"])]
    assert broad == []


def test_roles_are_passed_only_to_ecs_tasks_the_instance_role_to_ec2_and_the_infrastructure_role_to_ecs():
    statements = [s for s in load_policy()["Statement"] if "iam:PassRole" in _as_list(s["Action"])]
    assert len(statements) == 3
    assert all(_as_list(s["Action"]) == ["iam:PassRole"] for s in statements)
    by_service = {s["Condition"]["StringEquals"]["iam:PassedToService"]: s for s in statements}
    assert sorted(by_service) == ["ec2.amazonaws.com", "ecs-tasks.amazonaws.com", "ecs.amazonaws.com"]
    assert all(set(s["Condition"]) == {"StringEquals"} and len(s["Condition"]["StringEquals"]) == 1 for s in statements)
    # Only the EC2 container instances' role (the platform role's <name>-instance) goes to EC2.
    assert all(r.endswith("-instance") for r in _as_list(by_service["ec2.amazonaws.com"]["Resource"]))
    # Only the ECS infrastructure role (<name>-ecs-infrastructure, blue/green, canary, linear) goes to ECS itself.
    assert all(r.endswith("-ecs-infrastructure") for r in _as_list(by_service["ecs.amazonaws.com"]["Resource"]))


def test_only_the_task_execution_container_instance_and_ecs_infrastructure_managed_policies_can_be_attached():
    statements = [s for s in load_policy()["Statement"] if "iam:AttachRolePolicy" in _as_list(s["Action"])]
    assert [s.get("Condition") for s in statements] == [
        {"ArnEquals": {"iam:PolicyARN": ["arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
                                         "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role",
                                         "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"]}}]
