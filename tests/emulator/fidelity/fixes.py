"""Patches to moto's models where moto differs from AWS's documented behaviour.

Each fix names the AWS behaviour it restores; tests/integration/emulator/test_moto_fixes.py
has a test per fix that fails on plain moto.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any, Callable, Dict, List

_INSTALLED = {"done": False}


def install() -> None:
    """Apply every fix once per process."""
    if _INSTALLED["done"]:
        return
    _INSTALLED["done"] = True
    _ecs_task_memory()
    _ecs_cluster_capacity_providers()
    _ecs_describe_capacity_providers()
    _ecs_awsvpc_without_security_groups()
    _elbv2_duplicate_load_balancer()
    _elbv2_duplicate_listener()
    _elbv2_rule_priorities()
    _ecr_put_image()
    _ecr_image_size()
    _ecr_repositories_in_tagging_api()
    _logs_filter_by_stream_name_prefix()
    _logs_metric_filters()
    _iam_cheap_account_lookup()
    _acm_dns_validation()
    _ec2_rule_description_updates_return()
    _elbv2_target_group_load_balancers()


def patch_method(cls: Any, name: str, replacement: Callable) -> None:
    """Replace ``cls.name`` with ``replacement(original, *args, **kwargs)``."""
    original = getattr(cls, name)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return replacement(original, *args, **kwargs)

    setattr(cls, name, wrapper)


# ECS -------------------------------------------------------------------------------------------
def _ecs_task_memory() -> None:
    """A container needs ``memory`` or ``memoryReservation`` (or task-level memory), not ``memory``.

    moto rejects a container with only ``memoryReservation`` and fails ``run_task`` (HTTP 500)
    when containers rely on task-level memory, as Fargate task definitions do.
    """
    from moto.ecs import models
    from moto.ecs.exceptions import TaskDefinitionMemoryError

    def validate(memory: Any, container_definitions: List[Dict[str, Any]], requires_compatibilities: Any) -> None:
        from moto.ecs.exceptions import TaskDefinitionMissingPropertyError

        for cd in container_definitions:
            if "name" not in cd and "Name" not in cd:
                raise TaskDefinitionMissingPropertyError("name")
            if "image" not in cd and "Image" not in cd:
                raise TaskDefinitionMissingPropertyError("image")
            if memory:
                continue
            if not any(key in cd for key in ("memory", "Memory", "memoryReservation", "MemoryReservation")):
                raise TaskDefinitionMemoryError(cd.get("name", cd.get("Name")))

    def requirements(task_definition: Any) -> Dict[str, Any]:
        result: Dict[str, Any] = {"CPU": 0, "MEMORY": 0, "PORTS": [], "PORTS_UDP": []}
        for cd in task_definition.container_definitions:
            result["CPU"] += int(cd.get("cpu", cd.get("Cpu", 0)) or 0)
            memory = cd.get("memory", cd.get("Memory")) or cd.get("memoryReservation", cd.get("MemoryReservation")) or 0
            result["MEMORY"] += int(memory)
            for mapping in cd.get("portMappings", cd.get("PortMappings")) or []:
                port = mapping.get("hostPort", mapping.get("HostPort"))
                if port:
                    result["PORTS"].append(port)
        if task_definition.cpu and not result["CPU"]:
            result["CPU"] = int(task_definition.cpu)
        if task_definition.memory and (not result["MEMORY"] or int(task_definition.memory) > result["MEMORY"]):
            result["MEMORY"] = int(task_definition.memory)
        return result

    models.EC2ContainerServiceBackend._validate_container_defs = staticmethod(validate)
    models.EC2ContainerServiceBackend._calculate_task_resource_requirements = staticmethod(requirements)


def _ecs_cluster_capacity_providers() -> None:
    """AWS returns ``capacityProviders: []`` and ``defaultCapacityProviderStrategy: []``; moto omits them."""
    from moto.ecs import models

    def init(original: Callable, self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if self.capacity_providers is None:
            self.capacity_providers = []
        if self.default_capacity_provider_strategy is None:
            self.default_capacity_provider_strategy = []

    patch_method(models.Cluster, "__init__", init)


def _ecs_describe_capacity_providers() -> None:
    """Without names AWS describes every capacity provider (moto: HTTP 500)."""
    from moto.ecs import models

    def describe(original: Callable, self: Any, names: Any = None) -> Any:
        if not names:
            return list(self.capacity_providers.values()), []
        return original(self, names)

    patch_method(models.EC2ContainerServiceBackend, "describe_capacity_providers", describe)


def _ecs_awsvpc_without_security_groups() -> None:
    """``securityGroups`` is optional in an awsvpc configuration (AWS uses the VPC's default
    security group); moto answers HTTP 500 for services and tasks without it."""
    from moto.ecs import models

    def with_groups(network: Any) -> Any:
        if not isinstance(network, dict) or not isinstance(network.get("awsvpcConfiguration"), dict):
            return network
        config = network["awsvpcConfiguration"]
        if "securityGroups" in config:
            return network
        return dict(network, awsvpcConfiguration=dict(config, securityGroups=[]))

    def validate(original: Callable, self: Any, network: Any) -> Any:
        original(self, with_groups(network))
        return network

    def task_init(original: Callable, self: Any, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("networking_configuration") is not None:
            kwargs["networking_configuration"] = with_groups(kwargs["networking_configuration"])
        original(self, *args, **kwargs)

    patch_method(models.Service, "_validate_network", validate)
    patch_method(models.Task, "__init__", task_init)


# ELBv2 -----------------------------------------------------------------------------------------
def _elbv2_duplicate_load_balancer() -> None:
    """Same name again: AWS returns the existing load balancer if the settings match, else
    ``DuplicateLoadBalancerName`` (moto creates a second one)."""
    from moto.elbv2.exceptions import ELBClientError
    from moto.elbv2 import models

    def create(original: Callable, self: Any, name: str, security_groups: Any, subnet_ids: Any, *args: Any, **kwargs: Any) -> Any:
        for balancer in self.load_balancers.values():
            if balancer.name != name:
                continue
            scheme = kwargs.get("scheme") or "internet-facing"
            kind = kwargs.get("loadbalancer_type") or "application"
            existing_subnets = sorted(s.id for s in balancer.subnets)
            wanted_subnets = sorted(subnet_ids or [m.get("SubnetId") for m in kwargs.get("subnet_mappings") or []])
            if (balancer.scheme or "internet-facing") == scheme and (balancer.type or "application") == kind and existing_subnets == wanted_subnets and (
                    sorted(balancer.security_groups or []) == sorted(security_groups or [])):
                return balancer
            raise ELBClientError("DuplicateLoadBalancerName",
                                 "A load balancer with the same name '%s' exists, but with different settings" % name)
        return original(self, name, security_groups, subnet_ids, *args, **kwargs)

    patch_method(models.ELBv2Backend, "create_load_balancer", create)


def _elbv2_duplicate_listener() -> None:
    """One listener per port and load balancer: AWS answers ``DuplicateListener`` (moto accepts it)."""
    from moto.elbv2 import models
    from moto.elbv2.exceptions import DuplicateListenerError, LoadBalancerNotFoundError

    def create(original: Callable, self: Any, load_balancer_arn: str, protocol: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        balancer = self.load_balancers.get(load_balancer_arn)
        if balancer is None:
            raise LoadBalancerNotFoundError()
        if any(str(listener.port) == str(port) for listener in balancer.listeners.values()):
            raise DuplicateListenerError()
        return original(self, load_balancer_arn, protocol, port, *args, **kwargs)

    patch_method(models.ELBv2Backend, "create_listener", create)


def _elbv2_rule_priorities() -> None:
    """``set_rule_priorities`` validates the end state (so two rules can swap in one call), and
    ``describe_rules`` lists rules by priority with the default rule last (moto: creation order),
    conditions in both their forms."""
    from moto.elbv2 import models
    from moto.elbv2.exceptions import PriorityInUseError, RuleNotFoundError

    def set_priorities(_original: Callable, self: Any, rule_priorities: List[Dict[str, Any]]) -> List[Any]:
        from moto.elbv2.exceptions import DuplicatePriorityError

        priorities = [int(item["Priority"]) for item in rule_priorities]
        for priority in priorities:
            if priorities.count(priority) > 1:
                raise DuplicatePriorityError(priority)
        changes = []
        for item in rule_priorities:
            rules = self.describe_rules(listener_arn=None, rule_arns=[item["RuleArn"]])
            if not rules:
                raise RuleNotFoundError()
            changes.append((rules[0], int(item["Priority"])))
        moving = {rule.arn for rule, _priority in changes}
        for rule, priority in changes:
            listener = self.describe_listeners(None, [rule.listener_arn])[0]
            for other in listener.rules.values():
                if other.arn not in moving and str(other.priority) == str(priority):
                    raise PriorityInUseError()
        for rule, priority in changes:
            rule.priority = priority
        return [rule for rule, _priority in changes]

    def order(rule: Any) -> tuple:
        if str(rule.priority) == "default":
            return (1, 0)
        return (0, int(rule.priority))

    def describe(original: Callable, self: Any, listener_arn: Any, rule_arns: Any) -> List[Any]:
        rules = sorted(original(self, listener_arn, rule_arns), key=order)
        for rule in rules:
            for condition in getattr(rule, "conditions", None) or []:
                _mirror_condition_values(condition)
        return rules

    patch_method(models.ELBv2Backend, "set_rule_priorities", set_priorities)
    patch_method(models.ELBv2Backend, "describe_rules", describe)


def _mirror_condition_values(condition: Dict[str, Any]) -> None:
    """AWS answers path-pattern and host-header conditions with both the legacy ``Values`` and
    the ``*Config.Values`` form, whichever the rule was created with (moto: only that one)."""
    key = {"path-pattern": "PathPatternConfig", "host-header": "HostHeaderConfig"}.get(condition.get("Field", ""))
    if key is None:
        return
    if condition.get("Values") is None and (condition.get(key) or {}).get("Values") is not None:
        condition["Values"] = list(condition[key]["Values"])
    elif condition.get(key) is None and condition.get("Values") is not None:
        condition[key] = {"Values": list(condition["Values"])}


# ECR -------------------------------------------------------------------------------------------
def _ecr_put_image() -> None:
    """An image digest is the sha256 of the manifest bytes; an immutable repository refuses to
    move a tag with ``ImageTagAlreadyExistsException`` (moto: a digest of the layer digests,
    and ``ImageAlreadyExistsException``)."""
    from moto.core.exceptions import ServiceException
    from moto.ecr import models

    class ImageTagAlreadyExistsException(ServiceException):
        code = "ImageTagAlreadyExistsException"

    class InvalidParameterException(ServiceException):
        code = "InvalidParameterException"

    def put_image(original: Callable, self: Any, repository_name: str, image_manifest: str, image_tag: str,
                  image_manifest_mediatype: Any = None, digest: Any = None) -> Any:
        actual = "sha256:" + hashlib.sha256(image_manifest.encode("utf-8")).hexdigest()
        if digest and digest != actual:
            raise InvalidParameterException(
                "Invalid parameter at 'imageDigest' failed to satisfy constraint: 'The digest does not match the image manifest'")
        repository = self.repositories.get(repository_name)
        if repository is not None and image_tag and repository.is_tag_immutable():
            for image in repository.images:
                if image_tag in image.image_tags and image.get_image_digest() != actual:
                    raise ImageTagAlreadyExistsException(
                        "The image tag '%s' already exists in the '%s' repository and cannot be overwritten because "
                        "the repository is immutable." % (image_tag, repository_name))
        return original(self, repository_name, image_manifest, image_tag, image_manifest_mediatype, actual)

    patch_method(models.ECRBackend, "put_image", put_image)


def _ecr_repositories_in_tagging_api() -> None:
    """The Resource Groups Tagging API answers ECR repositories (resource type ``ecr:repository``) as it answers every
    tagged resource of the account (moto's ECR backend does not take part in it: GetResources never lists one)."""
    from moto.core.resource_tagging import TaggedResource
    from moto.ecr.models import ecr_backends
    from moto.resourcegroupstaggingapi import models as tagging

    class EcrRepositories:
        """One region's repositories, as the tagging API's backends present their resources."""

        def __init__(self, backend: Any) -> None:
            self.backend = backend

        @staticmethod
        def owns_arn(arn: str) -> bool:
            return arn.split(":")[2:3] == ["ecr"] and ":repository/" in arn

        def iter_tagged_resources(self) -> Any:
            for repository in list(self.backend.repositories.values()):
                yield TaggedResource(arn=repository.arn, tags=self.backend.tagger.get_tag_dict_for_resource(repository.arn),
                                     resource_type="ecr:repository")

        def tag_resource(self, arn: str, tags: Dict[str, str]) -> None:
            self.backend.tagger.tag_resource(arn, [{"Key": k, "Value": v} for k, v in tags.items()])

        def untag_resource(self, arn: str, tag_keys: List[str]) -> None:
            self.backend.tagger.untag_resource_using_names(arn, tag_keys)

    original = tagging.iter_taggable_backends

    def with_ecr(account_id: str, region_name: str) -> Any:
        yield from original(account_id, region_name)
        if account_id in ecr_backends and region_name in ecr_backends[account_id]:
            yield EcrRepositories(ecr_backends[account_id][region_name])

    tagging.iter_taggable_backends = with_ecr


# CloudWatch Logs -------------------------------------------------------------------------------
def _ecr_image_size() -> None:
    """``imageSizeInBytes`` is the sum of the (compressed) layers' sizes; for a manifest list or
    an OCI index, the largest of its images in the repository (moto: the config blob's size)."""
    from moto.ecr import models

    def size_of(image: Any) -> Any:
        try:
            manifest = json.loads(image.image_manifest)
        except ValueError:
            return None
        if isinstance(manifest.get("layers"), list):
            return sum(int(layer.get("size") or 0) for layer in manifest["layers"])
        children = {entry.get("digest") for entry in manifest.get("manifests") or []}
        if not children:
            return None
        backend = models.ecr_backends[image.registry_id]
        sizes = []
        for regional in list(dict.values(backend)):
            repository = regional.repositories.get(image.repository_name)
            for other in (repository.images if repository is not None else []):
                if other is not image and other.get_image_digest() in children:
                    sizes.append(size_of(other) or 0)
            if sizes:
                break
        return max(sizes) if sizes else None

    patch_method(models.Image, "get_image_size_in_bytes", lambda _original, image: size_of(image))


def _logs_filter_by_stream_name_prefix() -> None:
    """``FilterLogEvents`` with ``logStreamNamePrefix`` reads only the streams with that prefix.

    moto ignores the parameter and returns the events of every stream of the group. AWS refuses
    it together with ``logStreamNames`` (InvalidParameterException); a prefix no stream has
    gives no events.
    """
    import json

    from moto.logs import responses
    from moto.logs.exceptions import InvalidParameterException

    def filter_log_events(original: Callable, self: Any) -> str:
        prefix = self._get_param("logStreamNamePrefix")
        if not prefix:
            return original(self)
        if self._get_param("logStreamNames"):
            raise InvalidParameterException(msg="Cannot specify both logStreamNames and logStreamNamePrefix")
        group_name = self._get_param("logGroupName")
        group = self.logs_backend.groups.get(group_name)
        names = [name for name in (group.streams if group is not None else {}) if name.startswith(prefix)]
        if group is not None and not names:
            return json.dumps({"events": [], "searchedLogStreams": []})
        events, next_token, searched = self.logs_backend.filter_log_events(
            group_name, names, self._get_param("startTime"), self._get_param("endTime"), self._get_param("limit"),
            self._get_param("nextToken"), self._get_param("filterPattern"), self._get_param("interleaved", False))
        return json.dumps({"events": events, "nextToken": next_token, "searchedLogStreams": searched})

    patch_method(responses.LogsResponse, "filter_log_events", filter_log_events)


def _logs_metric_filters() -> None:
    """Metric filters as CloudWatch Logs keeps them: one per name in a group, counted, listed in pages.

    moto appends a second filter where ``PutMetricFilter`` names one that exists (AWS replaces it:
    "creates or updates"), keeps a deleted group's filters, tells every group ``metricFilterCount``
    0 and answers ``DescribeMetricFilters`` with every filter at once. AWS lists at most ``limit``
    (1 to 50, default 50) a call with a ``nextToken`` for the rest, with or without
    ``logGroupName`` (without: the region's filters, every group's).
    """
    import json

    from moto.logs import models, responses
    from moto.logs.exceptions import InvalidParameterException

    def put_metric_filter(original: Callable, self: Any, filter_name: str, filter_pattern: str, log_group_name: str,
                          metric_transformations: Any) -> None:
        self.filters.delete_filter(filter_name, log_group_name)
        original(self, filter_name, filter_pattern, log_group_name, metric_transformations)

    def delete_log_group(original: Callable, self: Any, log_group_name: str) -> None:
        original(self, log_group_name)
        self.filters.metric_filters[:] = [f for f in self.filters.metric_filters if f["logGroupName"] != log_group_name]

    def to_describe_dict(original: Callable, self: Any) -> Dict[str, Any]:
        out = original(self)
        backend = models.logs_backends[self.account_id][self.region]
        out["metricFilterCount"] = sum(1 for f in backend.filters.metric_filters if f["logGroupName"] == self.name)
        return out

    def describe_metric_filters(original: Callable, self: Any) -> str:
        limit = self._get_param("limit")
        token = self._get_param("nextToken")
        if limit is not None and not 1 <= int(limit) <= 50:
            raise InvalidParameterException(constraint="Member must have value between 1 and 50", parameter="limit",
                                            value=limit)
        if token is not None and not str(token).isdigit():
            raise InvalidParameterException(msg="The specified nextToken is invalid.")
        listed = json.loads(original(self))["metricFilters"]
        start, size = int(token or 0), int(limit or 50)
        out: Dict[str, Any] = {"metricFilters": listed[start:start + size]}
        if start + size < len(listed):
            out["nextToken"] = str(start + size)
        return json.dumps(out)

    patch_method(models.LogsBackend, "put_metric_filter", put_metric_filter)
    patch_method(models.LogsBackend, "delete_log_group", delete_log_group)
    patch_method(models.LogGroup, "to_describe_dict", to_describe_dict)
    patch_method(responses.LogsResponse, "describe_metric_filters", describe_metric_filters)


# IAM (speed, not behaviour) --------------------------------------------------------------------
def _iam_cheap_account_lookup() -> None:
    """Keep a reset cheap with AWS managed policies loaded (``MOTO_IAM_LOAD_MANAGED_POLICIES``).

    moto finds the account of every request's access key by instantiating the IAM backend of all
    five partitions, each parsing ~1,300 managed policies: seconds after each reset. A key can only
    live in a backend that exists, so only existing ones are searched, and the policy JSON is
    parsed once per process.
    """
    import json

    from moto.core import responses
    from moto.iam import models

    def get_account_id_from(access_key: str) -> str:
        for account_id, account in list(models.iam_backends.items()):
            for backend in list(dict.values(account)):
                if access_key in backend.access_keys:
                    return account_id
        return models.DEFAULT_ACCOUNT_ID

    models.get_account_id_from = get_account_id_from
    if getattr(responses, "get_account_id_from", None) is not None:
        responses.get_account_id_from = get_account_id_from

    parsed: Dict[str, Any] = {}

    def init_aws_policies(self: Any) -> List[Any]:
        if not models.load_iam_aws_managed_policies():
            return []
        if "data" not in parsed:
            parsed["data"] = json.loads(models.aws_managed_policies_data)
        return [models.AWSManagedPolicy.from_data(name, self.account_id, self.region_name, data)
                for name, data in parsed["data"].items()]

    models.IAMBackend._init_aws_policies = init_aws_policies


# ACM -------------------------------------------------------------------------------------------
def _acm_dns_validation() -> None:
    """A requested certificate stays PENDING_VALIDATION until its DNS validation records exist.

    moto issues every requested certificate ``MOTO_ACM_VALIDATION_WAIT`` (60) seconds after the
    request. AWS issues a DNS-validated certificate only once the CNAME of each of its domains
    (``DomainValidationOptions[].ResourceRecord``) resolves; here: is in a hosted zone of the
    account's Route 53.
    """
    from moto.acm import models
    from moto.route53.models import route53_backends

    def _name(value: Any) -> str:
        value = value.get("Value", "") if isinstance(value, dict) else str(value)
        return value.lower().rstrip(".")

    def validated(cert: Any) -> bool:
        account = cert.arn.split(":")[4]
        cnames = {(_name(r.name), _name(v)) for backend in route53_backends[account].values()
                  for zone in backend.zones.values() for r in zone.rrsets if r.type == "CNAME" for v in r.records}
        wanted = {(_name(o["ResourceRecord"]["Name"]), _name(o["ResourceRecord"]["Value"]))
                  for o in cert.describe()["Certificate"]["DomainValidationOptions"]}
        return wanted <= cnames

    def check(original: Callable, self: Any) -> None:
        if self.type == "AMAZON_ISSUED" and self.status == "PENDING_VALIDATION":
            if validated(self):
                self.status = "ISSUED"
            return
        original(self)

    patch_method(models.CertBundle, "check", check)


# EC2 -------------------------------------------------------------------------------------------
def _ec2_rule_description_updates_return() -> None:
    """UpdateSecurityGroupRuleDescriptionsIngress/Egress answer ``Return: true`` (EC2 API reference).

    moto answers nothing; amazon.aws.ec2_security_group reads ``Return`` and fails with KeyError
    when a rule's description changes.
    """
    from moto.core.responses import ActionResult
    from moto.ec2.responses.security_groups import SecurityGroups

    def returning(original: Callable, self: Any) -> Any:
        original(self)
        return ActionResult({"Return": True})

    for name in ("update_security_group_rule_descriptions_ingress", "update_security_group_rule_descriptions_egress"):
        patch_method(SecurityGroups, name, returning)
    _ec2_rule_description_updates_of_group_pairs()


def _ec2_rule_description_updates_of_group_pairs() -> None:
    """UpdateSecurityGroupRuleDescriptions* change the description of a rule whose source is a security group.

    moto finds the rule to update by comparing whole source groups, description included, so a rule
    from another group never matches and keeps its old description (amazon.aws.ec2_security_group
    then sees the difference again on every run).
    """
    from moto.ec2.models.security_groups import SecurityGroupBackend

    def updating(egress: bool) -> Callable:
        def replacement(original: Callable, self: Any, *args: Any, **kwargs: Any) -> Any:
            group = original(self, *args, **kwargs)
            low, high = kwargs.get("from_port"), kwargs.get("to_port")
            for pair in kwargs.get("source_groups") or []:
                if "Description" not in pair or "GroupId" not in pair:
                    continue
                for rule in group.egress_rules if egress else group.ingress_rules:
                    if rule.source_group.get("GroupId") == pair["GroupId"] and \
                            (rule.from_port, rule.to_port) == (int(low), int(high)):
                        rule.source_group["Description"] = pair["Description"]
            return group
        return replacement

    patch_method(SecurityGroupBackend, "update_security_group_rule_descriptions_ingress", updating(False))
    patch_method(SecurityGroupBackend, "update_security_group_rule_descriptions_egress", updating(True))


def _elbv2_target_group_load_balancers() -> None:
    """A target group's ``LoadBalancerArns`` are the load balancers whose listeners or rules forward to it now.

    moto adds a load balancer when a listener or rule is created and never updates the list: after
    ModifyRule or ModifyListener moves traffic to another group, the new group says no load balancer
    forwards to it (and ECS then refuses to bind it) while the old one still claims one.
    """
    from moto.elbv2.models import ELBv2Backend

    def recompute(backend: Any) -> None:
        used: Dict[str, List[str]] = {arn: [] for arn in backend.target_groups}
        for lb_arn, balancer in backend.load_balancers.items():
            for listener in balancer.listeners.values():
                actions = list(listener.default_actions)
                for rule in listener._non_default_rules.values():  # pylint: disable=protected-access
                    actions.extend(rule.actions)
                for action in actions:
                    if action.type != "forward":
                        continue
                    for arn in backend._get_target_group_arns_from(action_data=action.data):  # pylint: disable=protected-access
                        if arn in used and lb_arn not in used[arn]:
                            used[arn].append(lb_arn)
        for arn, group in backend.target_groups.items():
            group.load_balancer_arns = used[arn]

    def recomputing(original: Callable, self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        recompute(self)
        return result

    for name in ("create_rule", "modify_rule", "delete_rule", "create_listener", "modify_listener", "delete_listener",
                 "delete_load_balancer"):
        patch_method(ELBv2Backend, name, recomputing)
