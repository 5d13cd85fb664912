# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""The plan of a whole environment, read from the account before the first write.

``EnvironmentPlanner.run()`` checks what only the account can tell (the account itself, the
network, secrets, images, archives, the certificate and the hosted zone), reporting every
problem with its option path, and lists per resource what a deploy would do: ``create``,
``update`` (with the fields that differ), or ``unchanged``.  Every read is batched; nothing is
written.  The load balancer's part is alb_routes' own planner, run on the same options.
"""

from __future__ import annotations

import json
import os
from typing import Any, Callable, Dict, List, Optional, Tuple

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.shipyard.ecs.plugins.module_utils._app.api import AcmApi, AutoScalingPolicyApi, Route53Api
from ansible_collections.shipyard.ecs.plugins.module_utils._app.model import UNKNOWN, Context, Definition, partition_of
from ansible_collections.shipyard.ecs.plugins.module_utils._app.schema import MISSING, Problems
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import AwsApi, read_each
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._cloudwatch import api as cloudwatch_api
from ansible_collections.shipyard.ecs.plugins.module_utils._cloudwatch.runner import CloudWatchStack
from ansible_collections.shipyard.ecs.plugins.module_utils._cloudwatch.spec import ARGUMENT_SPEC as CLOUDWATCH_STACK_SPEC
from ansible_collections.shipyard.ecs.plugins.module_utils._cloudwatch.state import Apis as CloudWatchApis
from ansible_collections.shipyard.ecs.plugins.module_utils._deploy.options import ReleaseOptions
from ansible_collections.shipyard.ecs.plugins.module_utils._deploy.planner import NOOP
from ansible_collections.shipyard.ecs.plugins.module_utils._deploy.runner import ReleaseRunner
from ansible_collections.shipyard.ecs.plugins.module_utils._deploy.spec import ARGUMENT_SPEC as RELEASE_SPEC
from ansible_collections.shipyard.ecs.plugins.module_utils._ecr.api import EcrApi, EcrTaggingApi
from ansible_collections.shipyard.ecs.plugins.module_utils._ecr.batch import EcrBatchPush
from ansible_collections.shipyard.ecs.plugins.module_utils._ecr.archive import ArchiveError, ImageArchive
from ansible_collections.shipyard.ecs.plugins.module_utils._ecr.push import plan_tags
from ansible_collections.shipyard.ecs.plugins.module_utils._ecr.repository import describe_repositories
from ansible_collections.shipyard.ecs.plugins.module_utils._ecr.spec import ARGUMENT_SPEC as ECR_PUSH_SPEC
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.api import AppAutoscalingApi, AutoScalingApi, EcsApi
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.lookups import NamespaceReader
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.spec import ARGUMENT_SPEC as ECS_STACK_SPEC
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.stack import EcsStack
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.taskdef import task_definition_changes, task_definition_from_options
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.api import Elbv2Api, health_states
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.runner import AlbRoutes
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.spec import ARGUMENT_SPEC as ALB_ROUTES_SPEC
from ansible_collections.shipyard.ecs.plugins.module_utils._platform.api import PlatformEc2Api, PlatformIamApi
from ansible_collections.shipyard.ecs.plugins.module_utils._platform.spec import ARGUMENT_SPEC as PLATFORM_STACK_SPEC
from ansible_collections.shipyard.ecs.plugins.module_utils._platform.stack import PlatformStack
from ansible_collections.shipyard.ecs.plugins.module_utils._secrets.api import SecretsManagerApi, SsmApi, StsApi
from ansible_collections.shipyard.ecs.plugins.module_utils._secrets.refs import check_secret_references

ECR_IMAGE_IDS_BATCH = 100
CREATE, UPDATE, UNCHANGED = "create", "update", "unchanged"
# The parts of deploy.yml a no-op skips: each role's resources, planned by the owners' own planners.
PARTS = ("platform", "logging", "services")


class Apis:
    """The API wrappers the planner reads through (boto3 clients from a factory)."""

    def __init__(self, client: Callable[[str], Any]) -> None:
        self.sts = StsApi(client("sts"))
        self.ssm = SsmApi(client("ssm"))
        self.secretsmanager = SecretsManagerApi(client("secretsmanager"))
        self.ec2 = PlatformEc2Api(client("ec2"))
        self.iam = PlatformIamApi(client("iam"))
        self.acm = AcmApi(client("acm"))
        self.route53 = Route53Api(client("route53"))
        self.ecr = EcrApi(client("ecr"))
        self.ecr_tagging = EcrTaggingApi(client("resourcegroupstaggingapi"))
        self.ecs = EcsApi(client("ecs"))
        self.elbv2 = Elbv2Api(client("elbv2"))
        self.app_autoscaling = AppAutoscalingApi(client("application-autoscaling"))
        self.auto_scaling = AutoScalingApi(client("autoscaling"))
        self.scaling_policies = AutoScalingPolicyApi(client("autoscaling"))
        self.namespaces = NamespaceReader(client("servicediscovery"))
        self.cloudwatch = CloudWatchApis(cloudwatch_api.CloudWatchApi(client("cloudwatch")), cloudwatch_api.LogsApi(client("logs")),
                                         cloudwatch_api.SnsApi(client("sns")), self.sts,
                                         cloudwatch_api.TaggingApi(client("resourcegroupstaggingapi")), self.elbv2)

    def all(self) -> List[AwsApi]:
        own = [api for api in vars(self).values() if isinstance(api, AwsApi)]
        return own + [api for api in self.cloudwatch.all() if not any(api is mine for mine in own)]


def entry(resource: str, name: str, action: str, changes: Optional[List[str]] = None, **extra: Any) -> Dict[str, Any]:
    out = {"resource": resource, "name": name, "action": action}
    if changes:
        out["changes"] = changes
    out.update(extra)
    return out


def _short(value: Any) -> str:
    text = "-" if value is None else str(value)
    return text if len(text) <= 120 else text[:117] + "..."


class EnvironmentPlanner:
    """Check the definition against the account and plan every resource of the environment."""

    def __init__(self, definition: Definition, apis: Apis, region: str, account_id: Optional[str] = None) -> None:
        self.d = definition
        self.apis = apis
        self.region = region
        self.account_hint = account_id or ""
        self.entries: List[Dict[str, Any]] = []
        self.warnings: List[str] = list(definition.warnings)
        self._repositories_found: Optional[Dict[str, Dict[str, Any]]] = None
        self._digests: Dict[Tuple[str, str], Optional[str]] = {}
        self._archive_digests: Dict[str, Optional[str]] = {}
        self._cluster_active: Optional[bool] = None
        # What each part's planners found to do (entries not unchanged, and what the plan lines do not show).
        self._work: Dict[str, List[str]] = {part: [] for part in PARTS}
        # Whether each owner of the services part found nothing to do.
        self._unchanged_owners: Dict[str, bool] = {}

    # -- the whole run ---------------------------------------------------------------------

    def run(self) -> Dict[str, Any]:
        problems = Problems()
        account = self.apis.sts.account_id()
        if self.account_hint and self.account_hint != account:
            problems.add("aws_account_id", self.account_hint, "the credentials are of account %s: wrong inventory or "
                         "wrong credentials" % account)
        ctx = Context(region=self.region, account_id=account)
        self._check_secrets(ctx, problems)
        platform = self._platform(ctx, problems)
        images = self._images(ctx, problems)
        certificate_arn, zone_id = self._https(problems)
        problems.raise_if_any()

        names = self.d.names
        ctx.vpc_id = platform["vpc_id"] or UNKNOWN
        ctx.subnet_ids = platform["subnet_ids"]
        if self.d.environment["env_network"]["create"]:
            # Subnets still to create stand for themselves, one per zone (so that the load balancer's planner sees as
            # many zones as it will get).
            ctx.subnet_ids = [r["id"] for r in platform["resources"] if r["kind"] == "subnet"]
        ctx.private_subnet_ids = platform["private_subnet_ids"]
        ctx.images = images
        ctx.certificate_arn = certificate_arn
        groups = platform["security_groups"]
        ctx.alb_security_group_id = groups.get(names.security_groups["alb"], UNKNOWN)
        ctx.task_security_group_id = groups.get(names.security_groups["tasks"], UNKNOWN)
        roles = platform["roles"]
        ctx.execution_role_arn = roles.get(names.execution_role, UNKNOWN)
        ctx.task_role_arn = roles.get(names.task_role, UNKNOWN)
        ctx.infrastructure_role_arn = roles.get(names.ecs_infrastructure_role, UNKNOWN)
        rendered = self.d.render(ctx)
        scaling_policies = self._scaling_policies(ctx)
        self._cluster_settings()
        # The network's entries come before start: they belong to the platform too.
        self._part("platform", 0)
        start = len(self.entries)
        self._cloudwatch(self.d.cloudwatch())
        self._part("logging", start)
        start = len(self.entries)
        # An owner is recorded where the services role would run it (repositories to make, a load balancer, a domain).
        mark = self._owner("ecr_image_push", start, self._repositories) if self.d.repositories() else start
        load_balancer: Dict[str, Any] = {}
        if self.d.has_load_balancer:
            mark = self._owner("alb_routes", mark, lambda: load_balancer.update(self._load_balancer(ctx, rendered)))
        ctx.load_balancer_arn = load_balancer.get("load_balancer", {}).get("arn", "")
        ctx.target_group_arns = load_balancer.get("target_groups", {})
        ctx.load_balancer_dns_name = load_balancer.get("load_balancer", {}).get("dns_name", "")
        ctx.advanced_configuration = load_balancer.get("advanced_configuration", {})
        if zone_id and self.d.environment["env_domain"]:
            mark = self._owner("route53", mark, lambda: self._dns_record(zone_id, load_balancer.get("load_balancer", {})))
        mark = self._owner("cloudwatch_load_balancer", mark, lambda: self._cloudwatch(self.d.cloudwatch_load_balancer(ctx)))
        # Environment values that name the load balancer's DNS name are rendered with it once it is known.
        rendered = self.d.render(ctx)
        self._services(ctx, rendered)
        # The task definitions' entries are the release's (ecs_rolling_deploy registers the revisions), the rest ecs_stack's.
        self._unchanged_owners["ecs_stack"] = all(e["action"] == UNCHANGED for e in self.entries[mark:] if e["resource"] != "task_definition")
        self._part("services", start)
        if not self._work["services"]:
            self._release_decisions(rendered)
        # The smoke check after a skipped services role judges the targets as this run read them (the release's planner
        # read the same target groups: no second call).
        target_health = self._target_health(load_balancer.get("target_groups", {})) if not self._work["services"] else {}
        described = load_balancer.get("load_balancer", {})
        return {
            "context": {"region": self.region, "account_id": account, "partition": partition_of(self.region),
                        "vpc_id": ctx.vpc_id, "subnet_ids": ctx.subnet_ids, "private_subnet_ids": ctx.private_subnet_ids,
                        "certificate_arn": certificate_arn,
                        "hosted_zone_id": zone_id, "images": images,
                        # The EC2 capacity's scaling policies that are missing or differ (the platform role writes them).
                        "scaling_policies_to_write": scaling_policies,
                        # The load balancer as alb_routes describes it (what the checks after a skipped services role use).
                        "load_balancer": {k: described[k] for k in ("arn", "dns_name", "canonical_hosted_zone_id") if k in described},
                        # With nothing to do in the services part: each web service's target groups' targets' states.
                        "target_health": target_health,
                        # What the platform role reports, as platform_stack's planner read it (what the services role is
                        # given when the platform role is skipped).
                        "platform": {"vpc_id": ctx.vpc_id, "subnet_ids": ctx.subnet_ids, "private_subnet_ids": ctx.private_subnet_ids,
                                     "alb_security_group_id": groups.get(names.security_groups["alb"], ""),
                                     "task_security_group_id": ctx.task_security_group_id,
                                     "execution_role_arn": ctx.execution_role_arn, "task_role_arn": ctx.task_role_arn,
                                     "infrastructure_role_arn": roles.get(names.ecs_infrastructure_role, "")}},
            "plan": self.entries,
            # Per part of deploy.yml, whether its owners' planners found nothing to do: the part's module runs are
            # skipped.
            "unchanged": {part: not self._work[part] for part in PARTS},
            "work": {part: self._work[part] for part in PARTS},
            # Per owner of the services part, whether its planner found nothing to do (its module run is skipped), and the
            # options the services role would render once the owners before ecs_stack ran, when the plan already knows them
            # all (every id, image digest and target group exists; the load balancer's owner has nothing to change): the
            # role then renders nothing again.
            "unchanged_owners": dict(self._unchanged_owners),
            "options": rendered if self._complete(rendered) else {},
            "warnings": self.warnings,
        }

    # -- checks ----------------------------------------------------------------------------

    def _check_secrets(self, ctx: Context, problems: Problems) -> None:
        references = self.d.secret_references(ctx.region, ctx.account_id)
        try:
            unchecked = check_secret_references(references, self.apis.ssm, self.apis.secretsmanager, self.apis.sts, self.region)
        except ValidationError as exc:
            problems.add(exc.option, exc.value, exc.reason)
            return
        for ref in unchecked:
            self.warnings.append("secret %s is in another account or region: not checked" % ref)

    def _platform(self, ctx: Context, problems: Problems) -> Dict[str, Any]:
        """platform_stack's own planner, in check mode, on the options the platform role gives it: the network (found or
        created), the security groups and the IAM roles, with the ids it read (unknown ones: what is still to create)."""
        options = self.d.platform_stack(self.region, ctx.account_id)
        try:
            entries, outcome = self._owner_plan(PLATFORM_STACK_SPEC, options, "platform",
                                                lambda p: PlatformStack(self.apis.ec2, self.apis.iam, p, check_mode=True))
        except ValidationError as exc:
            # The network is the environment's env_network: its problems name the inventory's key.
            problems.add("env_" + exc.option if exc.option.startswith("network") else exc.option, exc.value, exc.reason)
            return {}
        planned = {(e["resource"], e["name"]): e for e in entries}
        existing = not self.d.environment["env_network"]["create"]
        for resource in outcome.data["resources"]:
            key = (resource["kind"], resource["name"])
            if key in planned:
                self.entries.append(planned.pop(key))
            elif existing and resource["kind"] == "vpc":
                self.entries.append(entry("vpc", resource["name"], UNCHANGED, ["existing: not managed"]))
            else:
                self.entries.append(entry(resource["kind"], resource["name"], UNCHANGED, id=resource["id"]))
        self.warnings.extend(outcome.warnings)
        return outcome.data

    def _images(self, ctx: Context, problems: Problems) -> Dict[str, str]:
        """Each container's image (by image key), pinned by digest where ECR already holds it."""
        out: Dict[str, str] = {}
        by_name = {repo["name"]: repo for repo in self.d.repositories()}
        repos = {key: by_name[name] for key, name in self.d.repository_names().items()}
        tag = self.d.environment["env_image_tag"]
        existing = self._describe_repositories([r["name"] for r in repos.values()])
        # The tag's digest in each existing repository: ECR answers for one repository a call, so several at once.
        unread = sorted({r["name"] for r in repos.values() if r["name"] in existing and (r["name"], tag) not in self._digests})
        for name, digest in zip(unread, read_each(lambda name: self._read_digest(name, tag), unread)):
            self._digests[(name, tag)] = digest
        for key, _svc, spec, where in self.d.image_keys():
            if key not in repos:
                out[key] = spec["image"]
                continue
            repo = repos[key]
            pushing = None
            if "archive" in repo:
                pushing = self._check_archive(self.d.image_where(key, "archive"), repo["archive"], problems)
                self._archive_digests[repo["name"]] = pushing
            found = existing.get(repo["name"])
            digest = self._digest(repo["name"], tag) if found else None
            if found and pushing:
                # ecr_image_push puts the archive's image under the tag (moving the tag if it names another):
                # the services run that digest, whatever the tag names now. An immutable tag naming another
                # image is refused here, as ecr_image_push would refuse it, before anything is written.
                immutable = self.d.environment["env_image_tag_mutability"] == "IMMUTABLE"
                try:
                    plan_tags(found["repositoryUri"], pushing, {tag: digest}, immutable, "push %s" % pushing)
                except ValidationError as exc:
                    problems.add(self.d.image_where(key, "archive"), repo["archive"], exc.reason)
                out[key] = "%s@%s" % (found["repositoryUri"], pushing)
            elif digest:
                out[key] = "%s@%s" % (found["repositoryUri"], digest)
            elif "archive" not in repo:
                problems.add(where, MISSING, "no image %s:%s in ECR and no archive to push: push it first "
                             "(docs/ci.md), set env_image_tag, or give image or archive" % (repo["name"], tag))
        return out

    def _describe_repositories(self, names: List[str]) -> Dict[str, Dict[str, Any]]:
        """The repositories among ``names`` that exist, by name (batched, as ecr_image_push reads them; read once)."""
        if self._repositories_found is None:
            self._repositories_found = describe_repositories(self.apis.ecr, names) if names else {}
        return self._repositories_found

    def _read_digest(self, repository: str, tag: str) -> Optional[str]:
        images = self.apis.ecr.batch_get_image(repository, [{"imageTag": tag}]).get("images") or []
        return images[0]["imageId"].get("imageDigest") if images else None

    def _digest(self, repository: str, tag: str) -> Optional[str]:
        """The tag's digest, asked once per repository and tag (containers may share a repository)."""
        if (repository, tag) not in self._digests:
            self._digests[(repository, tag)] = self._read_digest(repository, tag)
        return self._digests[(repository, tag)]

    def _check_archive(self, where: str, path: str, problems: Problems) -> Optional[str]:
        """The digest of the image ``path`` holds, as ecr_image_push pushes it (its defaults); None if unreadable."""
        if not os.path.exists(path):
            problems.add(where, path, "no such file")
            return None
        try:
            with ImageArchive(path) as archive:
                return archive.manifest.digest
        except ArchiveError as exc:
            problems.add(where, path, exc.msg)
            return None

    def _https(self, problems: Problems) -> Tuple[str, str]:
        env = self.d.environment
        domain = env["env_domain"]
        if not domain:
            return "", ""
        zone_id = ""
        if env["env_hosted_zone"]:
            zone = env["env_hosted_zone"].rstrip(".").lower()
            if not (domain == zone or domain.endswith("." + zone)):
                problems.add("env_hosted_zone", env["env_hosted_zone"], "env_domain=%s is not in this zone" % domain)
            else:
                zones = [z for z in self.apis.route53.hosted_zones_named(zone) if not z.get("Config", {}).get("PrivateZone")]
                if len(zones) != 1:
                    problems.add("env_hosted_zone", env["env_hosted_zone"], "%d public Route 53 zones have this name; "
                                 "expected exactly one" % len(zones))
                else:
                    zone_id = zones[0]["Id"].split("/")[-1]
        names = [domain, "*." + domain.split(".", 1)[-1]]
        if env["env_certificate_arn"]:
            cert = self.apis.acm.describe_certificate(env["env_certificate_arn"])
            if cert is None:
                problems.add("env_certificate_arn", env["env_certificate_arn"], "no such certificate in %s" % self.region)
            elif cert.get("Status") != "ISSUED":
                problems.add("env_certificate_arn", env["env_certificate_arn"], "its status is %s, not ISSUED" % cert.get("Status"))
            elif not set(names) & set([cert.get("DomainName")] + list(cert.get("SubjectAlternativeNames") or [])):
                problems.add("env_certificate_arn", env["env_certificate_arn"], "it covers %s, not env_domain=%s" % (
                    ", ".join([cert.get("DomainName")] + list(cert.get("SubjectAlternativeNames") or [])), domain))
            return env["env_certificate_arn"], zone_id
        matches = []
        for summary in self.apis.acm.list_certificates(["ISSUED"]):
            covered = set([summary.get("DomainName")] + list(summary.get("SubjectAlternativeNameSummaries") or []))
            if covered & set(names):
                matches.append(summary)
        if not matches:
            problems.add("env_domain", domain, "no ISSUED ACM certificate in %s covers it (as %s): request or import one, "
                         "or name one with env_certificate_arn" % (self.region, " or ".join(names)))
            return "", zone_id
        # Of several (a renewed one imported beside the old one), the one valid the longest.
        best = sorted(matches, key=lambda c: str(c.get("NotAfter") or ""))[-1]
        return best["CertificateArn"], zone_id

    # -- the plan of each resource ------------------------------------------------------------

    def _scaling_policies(self, ctx: Context) -> List[str]:
        """The Auto Scaling group's target-tracking policies: the names of those to create or update."""
        policies = self.d.platform(self.region, ctx.account_id)["ec2_capacity"].get("scaling_policies", [])
        if not policies:
            return []
        group = self.d.names.stack
        found = {p["PolicyName"]: p for p in self.apis.scaling_policies.describe_policies(group, [p["name"] for p in policies])}
        out = []
        for policy in policies:
            current = found.get(policy["name"])
            wanted = {"metric": policy["metric_type"], "target": float(policy["target"]), "disable_scale_in": policy["disable_scale_in"],
                      "warmup": policy.get("warmup")}
            if current is None:
                self.entries.append(entry("asg_policy", policy["name"], CREATE, ["%s target %s" % (wanted["metric"], wanted["target"])]))
                out.append(policy["name"])
                continue
            config = current.get("TargetTrackingConfiguration") or {}
            have = {"metric": (config.get("PredefinedMetricSpecification") or {}).get("PredefinedMetricType"),
                    "target": config.get("TargetValue"), "disable_scale_in": bool(config.get("DisableScaleIn")),
                    "warmup": current.get("EstimatedInstanceWarmup") if policy.get("warmup") is not None else None}
            changes = ["%s: %s -> %s" % (key, have[key], wanted[key]) for key in sorted(wanted) if have[key] != wanted[key]]
            if current.get("PolicyType") != "TargetTrackingScaling":
                changes.insert(0, "policy type: %s -> TargetTrackingScaling" % current.get("PolicyType"))
            self.entries.append(entry("asg_policy", policy["name"], UPDATE if changes else UNCHANGED, changes))
            if changes:
                out.append(policy["name"])
        return out

    def _cluster(self) -> bool:
        """Whether the cluster exists (read once)."""
        if self._cluster_active is None:
            name = self.d.names.stack
            clusters = [c for c in self.apis.ecs.describe_clusters([name]).get("clusters", []) if c.get("status") == "ACTIVE"]
            self._cluster_active = bool(clusters)
        return self._cluster_active

    def _cluster_settings(self) -> None:
        """The cluster's settings by ecs_stack's own planner, in check mode, on the options the platform role gives it.
        With EC2 capacity, the capacity provider and what it stands on (instance role and profile, launch template, Auto
        Scaling group) are amazon.aws modules', whose comparisons the plan does not make: that part always runs."""
        name = self.d.names.stack
        if not self._cluster():
            self.entries.append(entry("ecs_cluster", name, CREATE))
            return
        if self.d.environment["env_ec2_capacity"]:
            self.entries.append(entry("ecs_cluster", name, UNCHANGED))
            self._work["platform"].append("EC2 capacity (amazon.aws modules): always run")
            return
        apis = self.apis
        entries, _outcome = self._owner_plan(
            ECS_STACK_SPEC, {"cluster": self.d.cluster_settings()}, "cluster",
            lambda p: EcsStack(p, apis.ecs, apis.app_autoscaling, apis.elbv2, apis.namespaces, region=self.region, check_mode=True,
                               secrets=(apis.ssm, apis.secretsmanager, apis.sts), auto_scaling=apis.auto_scaling))
        self.entries.extend(entries or [entry("ecs_cluster", name, UNCHANGED)])

    def _owner(self, owner: str, start: int, plan: Callable[[], Any]) -> int:
        """Run ``plan`` (an owner's part of the plan, adding entries from ``start`` on); record whether the owner has
        nothing to do; where the next owner's entries start."""
        plan()
        self._unchanged_owners[owner] = all(e["action"] == UNCHANGED for e in self.entries[start:])
        return len(self.entries)

    def _complete(self, rendered: Dict[str, Any]) -> bool:
        """Whether ``rendered`` is what the services role's render gives after ecr_image_push and alb_routes ran: nothing
        in it is still to be created (ids, image digests of repositories that exist) and alb_routes changes nothing."""
        if not self._unchanged_owners.get("alb_routes", True):
            return False
        if any(e["resource"] == "ecr_repository" and e["action"] == CREATE for e in self.entries):
            return False
        return UNKNOWN not in json.dumps(rendered, sort_keys=True, default=str)

    def _target_health(self, arns: Dict[str, str]) -> Dict[str, List[str]]:
        """The state of each target of each web service's target groups (that exist), by target group name."""
        names = sorted({name for groups in self.d.serving_target_groups().values() for name in groups if arns.get(name)})
        return {name: health_states(self.apis.elbv2.describe_target_health(arns[name])) for name in names}

    def _part(self, part: str, start: int) -> None:
        """The entries from ``start`` on are ``part``'s: those not unchanged are its work."""
        self._work[part].extend("%s %s %s" % (e["action"], e["resource"], e["name"])
                                for e in self.entries[start:] if e["action"] != UNCHANGED)

    def _repositories(self) -> None:
        """Each repository (its settings by ecr_image_push's own planner), and the image of its archive under the tag:
        pushed where the tag names another digest."""
        tag = self.d.environment["env_image_tag"]
        existing = self._describe_repositories([r["name"] for r in self.d.repositories()])
        settings = self._repository_settings([r["name"] for r in self.d.repositories() if r["name"] in existing])
        for repo in self.d.repositories():
            exists = repo["name"] in existing
            changes = settings.get(repo["name"], [])
            self.entries.append(entry("ecr_repository", repo["name"], CREATE if not exists else UPDATE if changes else UNCHANGED,
                                      changes))
            if "archive" not in repo:
                continue
            name = "%s:%s" % (repo["name"], tag)
            pushing = self._archive_digests.get(repo["name"])
            current = self._digest(repo["name"], tag) if exists else None
            if current and current == pushing:
                self.entries.append(entry("ecr_image", name, UNCHANGED, ["%s: %s" % (repo["archive"], pushing)]))
            elif current:
                self.entries.append(entry("ecr_image", name, UPDATE, ["push %s; tag: %s -> %s" % (
                    repo["archive"], _short(current), _short(pushing))]))
            else:
                self.entries.append(entry("ecr_image", name, CREATE, ["push %s (%s)" % (repo["archive"], _short(pushing))]))

    def _repository_settings(self, names: List[str]) -> Dict[str, List[str]]:
        """What ecr_image_push's planner, in check mode, would change in the settings, policies and tags of the existing
        repositories ``names`` (the images are planned above, from the archives' own digests), by repository."""
        if not names:
            return {}
        options = dict(self.d.ecr_push())
        # The settings only: no image source or tag, so the planner neither opens archives nor asks the registry.
        options.pop("image_tags")
        options["repositories"] = [{"name": name} for name in names]
        entries, _outcome = self._owner_plan(ECR_PUSH_SPEC, options, "repositories", lambda p: EcrBatchPush(
            p, lambda: self.apis.ecr, check_mode=True, tagging_factory=lambda: self.apis.ecr_tagging))
        out: Dict[str, List[str]] = {}
        for item in entries:
            out.setdefault(item["name"], []).extend("%s: %s" % (item["resource"].replace("_", " "), change)
                                                    for change in item.get("changes") or [item["action"]])
        return out

    def _dns_record(self, zone_id: str, load_balancer: Dict[str, Any]) -> None:
        """The domain's alias record to the load balancer (amazon.aws.route53 writes it, overwriting what differs)."""
        domain = self.d.environment["env_domain"]
        if not (zone_id and domain):
            return
        name = domain.rstrip(".").lower() + "."
        if not load_balancer.get("dns_name") or load_balancer.get("dns_name") == UNKNOWN:
            self.entries.append(entry("dns_record", name, CREATE, ["A alias to the load balancer (known after apply)"]))
            return
        wanted = {"DNSName": load_balancer["dns_name"].lower() + ".",
                  "HostedZoneId": str(load_balancer.get("canonical_hosted_zone_id", "")).upper(),
                  "EvaluateTargetHealth": False}
        record = self.apis.route53.record(zone_id, name, "A")
        if record is None:
            self.entries.append(entry("dns_record", name, CREATE, ["A alias to %s" % wanted["DNSName"]]))
            return
        have = record.get("AliasTarget") or {}
        have = {"DNSName": str(have.get("DNSName", "")).lower(), "HostedZoneId": have.get("HostedZoneId"),
                "EvaluateTargetHealth": have.get("EvaluateTargetHealth")}
        changes = ["alias %s: %s -> %s" % (key, have[key], wanted[key]) for key in sorted(wanted) if have[key] != wanted[key]]
        if not record.get("AliasTarget"):
            values = ",".join(r.get("Value", "") for r in record.get("ResourceRecords") or [])
            changes = ["A %s -> alias to %s" % (values, wanted["DNSName"])]
        self.entries.append(entry("dns_record", name, UPDATE if changes else UNCHANGED, changes))

    def _release_decisions(self, rendered: Dict[str, Any]) -> None:
        """ecs_rolling_deploy's own planner, in check mode, on the options the services role gives it: a service whose
        deployment is still in progress (the release awaits it) or whose revision no release marked as verified (the
        release marks it) is work for the services role, though no resource differs."""
        services = rendered["release_services"]
        if not services:
            return
        params = {"cluster": rendered["name"], "services": services, "timeout": self.d.environment["env_release_timeout"]}
        apis = self.apis

        def runner(validated: Dict[str, Any]) -> ReleaseRunner:
            options = ReleaseOptions.from_params(validated, check_mode=True, region=self.region)
            return ReleaseRunner(options, apis.ecs, apis.elbv2, secrets=(apis.ssm, apis.secretsmanager, apis.sts), region=self.region)

        entries, outcome = self._owner_plan(RELEASE_SPEC, params, "release", runner)
        self._work["services"].extend("%s %s %s" % (e["action"], e["resource"], e["name"]) for e in entries)
        self._work["services"].extend("%s %s" % (svc["action"], svc["name"]) for svc in outcome.data["services"]
                                      if svc["action"] != NOOP)

    def _cloudwatch(self, options: Dict[str, Any]) -> None:
        """cloudwatch_stack's own planner, in check mode, on the options the logging role gives it."""
        params = dict(options, name=self.d.names.stack, tags=self.d.names.tags)
        entries, _outcome = self._owner_plan(CLOUDWATCH_STACK_SPEC, params, "cloudwatch",
                                             lambda p: CloudWatchStack(self.apis.cloudwatch, p, self.region, check_mode=True))
        self.entries.extend(entries)

    def _load_balancer(self, ctx: Context, rendered: Dict[str, Any]) -> Dict[str, Any]:
        """alb_routes' own planner, in check mode, on the options the services role gives it; its report."""
        lb = rendered["load_balancer"]
        params = {"name": rendered["name"], "application": rendered["application"], "subnets": ctx.subnet_ids,
                  "security_groups": [ctx.alb_security_group_id], "tags": rendered["tags"],
                  "target_groups": lb["target_groups"], "listeners": lb["listeners"], "routes": lb["routes"]}
        entries, outcome = self._owner_plan(ALB_ROUTES_SPEC, params, "load_balancer",
                                            lambda p: AlbRoutes(self.apis.elbv2, p, check_mode=True))
        self.entries.extend(entries)
        planned = {(e["resource"], e["name"]) for e in entries}
        if ("load_balancer", rendered["name"]) not in planned:
            self.entries.append(entry("load_balancer", rendered["name"], UNCHANGED))
        for group in lb["target_groups"]:
            if ("target_group", group["name"]) not in planned:
                self.entries.append(entry("target_group", group["name"], UNCHANGED))
        return outcome.data

    @staticmethod
    def _owner_plan(spec: Dict[str, Any], params: Dict[str, Any], what: str, runner: Any) -> Tuple[List[Dict[str, Any]], Any]:
        """Run an owner module's runner in check mode on ``params`` (its spec's defaults filled in): its plan as
        entries, and its result."""
        result = ArgumentSpecValidator(spec).validate(params)
        if result.error_messages:
            raise ValidationError(what, params, "; ".join(result.error_messages))
        outcome = runner(result.validated_parameters).run()
        out = []
        for action in outcome.plan.actions:
            changes = [c if isinstance(c, str) else "%s: %s -> %s" % (
                c.get("field", c.get("path", "")), _short(c.get("before")), _short(c.get("after"))) for c in action.changes]
            if action.reason and not changes:
                changes = [action.reason]
            out.append(entry(action.kind, action.name, action.verb, changes))
        return out, outcome

    def _services(self, ctx: Context, rendered: Dict[str, Any]) -> None:
        """ecs_stack's own planner, in check mode, where the cluster and what the services refer to exist;
        otherwise (a new environment) every service (and the Cloud Map namespace) is to be created."""
        wanted = {svc["name"]: svc for svc in rendered["stack_services"]}
        known = UNKNOWN not in (ctx.task_security_group_id, ctx.execution_role_arn, ctx.task_role_arn, ctx.vpc_id) and \
            not any(UNKNOWN in subnet for subnet in ctx.subnet_ids)
        # Target groups alb_routes is to create are taken as created (ecs_stack's check mode does so).
        if not (self._cluster() and known):
            namespace = rendered["cluster"].get("service_discovery_namespace")
            if namespace:
                self.entries.append(entry("cloud_map_namespace", namespace["name"], CREATE, ["private DNS namespace in %s"
                                                                                             % namespace["vpc"]]))
            for name in sorted(wanted):
                if "service_discovery" in wanted[name]:
                    found = wanted[name]["service_discovery"]
                    self.entries.append(entry("cloud_map_service", "%s.%s" % (found["name"], namespace["name"]), CREATE,
                                              ["%s records, TTL %d s" % (found["dns_record_type"], found["ttl"])]))
                self.entries.append(entry("service", name, CREATE, _first_revision(wanted[name])))
            return
        apis = self.apis
        entries, outcome = self._owner_plan(
            ECS_STACK_SPEC, {"cluster": rendered["cluster"], "services": rendered["stack_services"]}, "services",
            lambda p: EcsStack(p, apis.ecs, apis.app_autoscaling, apis.elbv2, apis.namespaces, region=self.region, check_mode=True,
                               secrets=(apis.ssm, apis.secretsmanager, apis.sts), auto_scaling=apis.auto_scaling))
        self.entries.extend(entries)
        planned = {e["name"] for e in entries if e["resource"] == "service"}
        for name in sorted(wanted):
            described = outcome.data["services"].get(name) or {}
            if name not in planned:
                self.entries.append(entry("service", name, UNCHANGED))
            if described.get("status") == "ACTIVE" and described.get("task_definition"):
                self._release(name, wanted[name], {"taskDefinition": described["task_definition"]})

    def _release(self, name: str, spec: Dict[str, Any], current: Dict[str, Any]) -> None:
        """The revision the release would register: the fields that differ from what the service runs."""
        described = self.apis.ecs.describe_task_definition(current["taskDefinition"])
        desired = task_definition_from_options(spec["task_definition"], self.region)
        changes = ["%s: %s -> %s" % (c["path"], _short(c["before"]), _short(c["after"]))
                   for c in task_definition_changes(described.get("taskDefinition", described), desired)]
        revision = current["taskDefinition"].rsplit("/", 1)[-1]
        if changes and name in self.d.services:
            changes.append(release_line(self.d.release(name)))
        self.entries.append(entry("task_definition", spec["task_definition"]["family"], UPDATE if changes else UNCHANGED,
                                  changes, running=revision))


def release_line(release: Dict[str, Any]) -> str:
    """How a new revision of the service will be released, in one plan line."""
    def number(value: Any) -> str:
        return "%g" % value if isinstance(value, (int, float)) else str(value)

    strategy = release["strategy"]
    if strategy == "rolling":
        return "release: rolling (ECS replaces the tasks in place)"
    checks = ", ".join("GET %s -> %s" % (c["path"], c["status"]) for c in release["checks"])
    steps = {"blue_green": "then all production traffic at once",
             "canary": "then %s %% of production traffic for %s, then the rest" % (
                 number(release["canary"].get("percent", "ECS's default")),
                 "%s min" % release["canary"]["bake_minutes"] if "bake_minutes" in release["canary"] else "ECS's default time"),
             "linear": "then production traffic in steps of %s %%, %s apart" % (
                 number(release["linear"].get("step_percent", "ECS's default")),
                 "%s min" % release["linear"]["step_bake_minutes"] if "step_bake_minutes" in release["linear"] else "ECS's default time")}
    checked = "checks on test traffic (%s)" % checks if checks else "no checks"
    line = "release: %s: green beside blue, %s, %s" % (strategy, checked, steps[strategy])
    if release["hold"]:
        line += "; held in test for switch.yml"
    return line + "; blue kept %d min" % release["bake_minutes"]


def _first_revision(spec: Dict[str, Any]) -> List[str]:
    """What creating a service brings: its count, first revision and autoscaling."""
    definition = spec["task_definition"]
    out = ["desired count %d, first revision of %s" % (spec["desired_count"], definition["family"])]
    placement = ("capacity provider %s" % ", ".join(s["capacity_provider"] for s in spec["capacity_provider_strategy"])
                 if spec.get("capacity_provider_strategy") else "launch type %s" % spec.get("launch_type"))
    names = ", ".join(c["name"] for c in definition["containers"])
    out.append("%s, network mode %s, containers %s" % (placement, definition["network_mode"], names))
    if spec.get("load_balancers"):
        out.append("behind target group %s" % ", ".join(lb["target_group"] for lb in spec["load_balancers"]))
    if "autoscaling" in spec:
        scaling = spec["autoscaling"]
        out.append("autoscaling %d..%d tasks, %s" % (scaling["min_capacity"], scaling["max_capacity"], ", ".join(
            "%s target %s" % (policy["metric"], policy["target"]) for policy in scaling["policies"])))
    return out


def plan_lines(entries: List[Dict[str, Any]], show_unchanged: bool = False) -> List[str]:
    """The plan as a person reads it: one line per resource, changed fields indented under it."""
    width = max([len(e["resource"]) for e in entries] + [8])
    lines = []
    for item in entries:
        if item["action"] == UNCHANGED and not show_unchanged:
            continue
        lines.append("%-9s %-*s %s" % (item["action"], width, item["resource"], item["name"]))
        lines.extend("          %s" % change for change in item.get("changes", []))
    counts: Dict[str, int] = {}
    for item in entries:
        counts[item["action"]] = counts.get(item["action"], 0) + 1
    summary = ["%d to %s" % (n, verb) if verb != UNCHANGED else "%d unchanged" % n for verb, n in sorted(counts.items())]
    lines.append("plan: %s" % ", ".join(summary))
    return lines
