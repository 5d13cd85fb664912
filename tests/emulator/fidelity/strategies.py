"""ECS-native BLUE_GREEN, CANARY and LINEAR deployments, as the ECS developer guide documents them.

A new deployment of a service whose ``deploymentConfiguration.strategy`` is one of these starts
its (green) tasks next to the running (blue) ones, registers them in the target group of each load
balancer binding that does not take production traffic now (the alternate one the first time; the
roles swap after each successful deployment) and goes through the lifecycle stages

    RECONCILE_SERVICE -> PRE_SCALE_UP -> SCALE_UP -> POST_SCALE_UP -> TEST_TRAFFIC_SHIFT ->
    POST_TEST_TRAFFIC_SHIFT -> PRODUCTION_TRAFFIC_SHIFT -> POST_PRODUCTION_TRAFFIC_SHIFT ->
    BAKE_TIME -> CLEAN_UP

moving the weights of the test and production listener rules through the ELBv2 backend (all at
once for BLUE_GREEN, ``canaryPercent`` then the rest after ``canaryBakeTimeInMinutes`` for CANARY,
``stepPercent`` steps every ``stepBakeTimeInMinutes`` for LINEAR). PAUSE lifecycle hooks hold the
deployment at their stages until ContinueServiceDeployment or their timeout. A rollback (hook action
or timeout ROLLBACK, StopServiceDeployment ROLLBACK, the circuit breaker) moves every weight back
to blue, stops the green tasks and leaves the service on its blue deployment.

AWS_LAMBDA hooks are not invoked (the emulator runs no function): they succeed at once.
"""

from __future__ import annotations

import copy
import secrets
from datetime import timedelta
from typing import Any, Dict, List, Optional, Tuple

from . import moto_records

STRATEGIES = ("ROLLING", "BLUE_GREEN", "CANARY", "LINEAR")
STAGES = ("RECONCILE_SERVICE", "PRE_SCALE_UP", "SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT",
          "POST_TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT",
          "BAKE_TIME", "CLEAN_UP")
# Stages a hook may name (API reference, DeploymentLifecycleHook.lifecycleStages).
HOOK_STAGES = ("RECONCILE_SERVICE", "PRE_SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT",
               "POST_TEST_TRAFFIC_SHIFT", "PRE_PRODUCTION_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT",
               "POST_PRODUCTION_TRAFFIC_SHIFT")
MAX_BAKE_MINUTES = 1440
# ELBv2 forward weights are integers 0..999.
WEIGHT_SCALE = 1000


class Invalid(Exception):
    """A parameter AWS refuses (InvalidParameterException)."""


def strategy_of(config: Optional[Dict[str, Any]]) -> str:
    return str((config or {}).get("strategy") or "ROLLING")


def _int_in(value: Any, low: int, high: int, name: str) -> None:
    if value is None:
        return
    if not low <= int(value) <= high:
        raise Invalid("%s must be between %d and %d." % (name, low, high))


def validate(config: Optional[Dict[str, Any]], bindings: List[Dict[str, Any]], elb: Any) -> None:
    """Refuse what CreateService/UpdateService refuse for these strategies (before any write)."""
    config = config or {}
    strategy = strategy_of(config)
    if strategy not in STRATEGIES:
        raise Invalid("Invalid deployment strategy %s. Valid values are ROLLING, BLUE_GREEN, CANARY, LINEAR." % strategy)
    _int_in(config.get("bakeTimeInMinutes"), 0, MAX_BAKE_MINUTES, "bakeTimeInMinutes")
    canary = config.get("canaryConfiguration")
    if canary is not None:
        percent = canary.get("canaryPercent")
        if percent is not None and not 0.1 <= float(percent) <= 100:
            raise Invalid("canaryPercent must be between 0.1 and 100.")
        _int_in(canary.get("canaryBakeTimeInMinutes"), 0, MAX_BAKE_MINUTES, "canaryBakeTimeInMinutes")
    linear = config.get("linearConfiguration")
    if linear is not None:
        percent = linear.get("stepPercent")
        if percent is not None and not 3 <= float(percent) <= 100:
            raise Invalid("stepPercent must be between 3 and 100.")
        _int_in(linear.get("stepBakeTimeInMinutes"), 0, MAX_BAKE_MINUTES, "stepBakeTimeInMinutes")
    if strategy == "CANARY" and (canary or {}).get("canaryPercent") is None:
        raise Invalid("canaryConfiguration.canaryPercent is required when the deployment strategy is CANARY.")
    if strategy == "LINEAR" and (linear or {}).get("stepPercent") is None:
        raise Invalid("linearConfiguration.stepPercent is required when the deployment strategy is LINEAR.")
    for hook in config.get("lifecycleHooks") or []:
        _validate_hook(hook)
    for binding in bindings:
        _validate_advanced(strategy, binding, elb)


def _validate_hook(hook: Dict[str, Any]) -> None:
    target = hook.get("targetType") or "AWS_LAMBDA"
    if target not in ("AWS_LAMBDA", "PAUSE"):
        raise Invalid("Invalid lifecycle hook targetType %s." % target)
    if target == "AWS_LAMBDA" and (not hook.get("hookTargetArn") or not hook.get("roleArn")):
        raise Invalid("hookTargetArn and roleArn are required for a lifecycle hook with targetType AWS_LAMBDA.")
    if target == "PAUSE" and hook.get("hookTargetArn"):
        raise Invalid("hookTargetArn is not supported for a lifecycle hook with targetType PAUSE.")
    stages = hook.get("lifecycleStages") or []
    if not stages:
        raise Invalid("lifecycleStages can not be empty.")
    for stage in stages:
        if stage not in HOOK_STAGES:
            raise Invalid("Invalid lifecycle stage %s." % stage)
    timeout = hook.get("timeoutConfiguration") or {}
    if timeout.get("action") is not None and timeout["action"] not in ("CONTINUE", "ROLLBACK"):
        raise Invalid("Invalid timeout action %s." % timeout["action"])


def _validate_advanced(strategy: str, binding: Dict[str, Any], elb: Any) -> None:
    advanced = binding.get("advancedConfiguration")
    if strategy == "ROLLING":
        return
    if not advanced:
        raise Invalid("advancedConfiguration is required for a load balancer of a service with the %s deployment "
                      "strategy." % strategy)
    for field in ("alternateTargetGroupArn", "productionListenerRule", "roleArn"):
        if not advanced.get(field):
            raise Invalid("advancedConfiguration.%s is required." % field)
    primary, alternate = binding.get("targetGroupArn"), advanced["alternateTargetGroupArn"]
    if alternate == primary:
        raise Invalid("The alternate target group must be different from the target group %s." % primary)
    if alternate not in elb.target_groups:
        raise Invalid("The alternate target group %s does not exist." % alternate)
    for field in ("productionListenerRule", "testListenerRule"):
        arn = advanced.get(field)
        if not arn:
            continue
        rule = find_rule(elb, arn)
        if rule is None:
            raise Invalid("The listener rule %s does not exist." % arn)
        forwarded = forward_groups(elb, rule)
        if primary not in forwarded or alternate not in forwarded:
            raise Invalid("The listener rule %s must forward to both target group %s and alternate target group %s."
                          % (arn, primary, alternate))


# ELBv2 rules ---------------------------------------------------------------------------------
def find_rule(elb: Any, arn: str) -> Any:
    for balancer in elb.load_balancers.values():
        for listener in balancer.listeners.values():
            for rule in listener.rules.values():
                if getattr(rule, "arn", None) == arn:
                    return rule
    return None


def forward_groups(elb: Any, rule: Any) -> List[str]:
    groups: List[str] = []
    for action in rule.actions:
        if action.type == "forward":
            groups.extend(elb._get_target_group_arns_from(action_data=action.data))  # pylint: disable=protected-access
    return groups


def set_actions(elb: Any, rule: Any, actions: List[Dict[str, Any]]) -> None:
    """ModifyListener for a listener's default rule, else ModifyRule (both keep LoadBalancerArns right)."""
    if getattr(rule, "is_default", False):
        elb.modify_listener(rule.listener_arn, actions=actions)
    else:
        elb.modify_rule(rule.arn, [], actions)


def set_weights(elb: Any, rule_arn: str, weights: Dict[str, int], saved: Dict[str, List[Dict[str, Any]]]) -> None:
    """Forward the rule to ``weights`` (group ARN -> weight); its first actions are kept in ``saved``."""
    rule = find_rule(elb, rule_arn)
    if rule is None:
        return
    saved.setdefault(rule_arn, [copy.deepcopy(a.data) for a in rule.actions])
    stickiness = None
    for action in rule.actions:
        if action.type == "forward":
            stickiness = (action.data.get("ForwardConfig") or {}).get("TargetGroupStickinessConfig")
    forward: Dict[str, Any] = {"TargetGroups": [{"TargetGroupArn": arn, "Weight": weight}
                                                for arn, weight in weights.items()]}
    if stickiness:
        forward["TargetGroupStickinessConfig"] = dict(stickiness)
    set_actions(elb, rule, [{"Type": "forward", "ForwardConfig": forward}])


def restore(elb: Any, saved: Dict[str, List[Dict[str, Any]]]) -> None:
    """Put back the actions the rules had before the deployment moved their weights."""
    for arn, actions in saved.items():
        rule = find_rule(elb, arn)
        if rule is not None:
            set_actions(elb, rule, copy.deepcopy(actions))
    saved.clear()


def weights_for(percent: float) -> Tuple[int, int]:
    """(blue, green) integer weights sending ``percent`` % of requests to green."""
    if percent >= 100:
        return 0, 100
    if percent <= 0:
        return 100, 0
    if float(percent).is_integer():
        return 100 - int(percent), int(percent)
    green = max(1, int(round(percent * WEIGHT_SCALE / 100.0)))
    return WEIGHT_SCALE - green, green


# the controller --------------------------------------------------------------------------------
class Hook:
    """One lifecycle hook waiting at a stage."""

    def __init__(self, spec: Dict[str, Any], now: float) -> None:
        self.target_type = spec.get("targetType") or "AWS_LAMBDA"
        self.id = ("ecs-pause-" if self.target_type == "PAUSE" else "ecs-lambda-") + secrets.token_urlsafe(32)
        self.target_arn = spec.get("hookTargetArn")
        timeout = spec.get("timeoutConfiguration") or {}
        self.timeout_action = timeout.get("action") or "ROLLBACK"
        self.timeout_minutes = int(timeout.get("timeoutInMinutes") or 60)
        self.due = now + self.timeout_minutes * 60.0
        self.expires_at = moto_records.utcnow() + timedelta(minutes=self.timeout_minutes)
        self.status = "AWAITING_ACTION" if self.target_type == "PAUSE" else "SUCCEEDED"

    def render(self) -> Dict[str, Any]:
        doc: Dict[str, Any] = {"hookId": self.id, "targetType": self.target_type, "status": self.status,
                               "expiresAt": self.expires_at.timestamp(), "timeoutAction": self.timeout_action}
        if self.target_arn:
            doc["targetArn"] = self.target_arn
        return doc


class StrategyRun:
    """The lifecycle of one BLUE_GREEN / CANARY / LINEAR deployment (green) replacing ``blue``."""

    def __init__(self, deployment: Any, blue: Any, now: float) -> None:
        self.deployment = deployment
        self.blue = blue
        service = deployment.service
        config = deployment.deployment_configuration
        self.strategy = strategy_of(config)
        self.stage_index = 0
        self.stage_entered = False
        self.hooks: List[Hook] = []
        self.wait_until: Optional[float] = None
        self.shifted = 0.0           # percent of production traffic on green now
        self.rollback: Optional[Dict[str, Any]] = None   # {"reason": ..., "startedAt": datetime}
        self.result: Optional[str] = None     # SUCCESSFUL | ROLLBACK_SUCCESSFUL | STOPPED
        self.status_reason: Optional[str] = None
        self.started = now
        self.rollback_applied = False
        self.finished_at: Optional[Any] = None
        self.saved: Dict[str, List[Dict[str, Any]]] = {}   # rule ARN -> its actions before the deployment
        # binding index -> (blue group, green group)
        self.groups: Dict[int, Tuple[str, str]] = {}
        for index, binding in enumerate(service.load_balancers):
            advanced = binding.get("advancedConfiguration") or {}
            if not advanced.get("alternateTargetGroupArn"):
                continue
            primary, alternate = binding["targetGroupArn"], advanced["alternateTargetGroupArn"]
            live = service.live_groups.get(index, primary)
            self.groups[index] = (live, alternate if live == primary else primary)

    @property
    def stage(self) -> str:
        return STAGES[min(self.stage_index, len(STAGES) - 1)]

    @property
    def finished(self) -> bool:
        return self.result is not None

    def green_group(self, index: int, binding: Dict[str, Any]) -> Optional[str]:
        pair = self.groups.get(index)
        return pair[1] if pair else binding.get("targetGroupArn")

    def status(self) -> Tuple[str, Optional[str]]:
        if self.result == "SUCCESSFUL":
            return "SUCCESSFUL", None
        if self.result == "ROLLBACK_SUCCESSFUL":
            return "ROLLBACK_SUCCESSFUL", self.status_reason
        if self.result == "STOPPED":
            return "STOPPED", self.status_reason
        if self.rollback is not None:
            return "ROLLBACK_IN_PROGRESS", self.status_reason
        return "IN_PROGRESS", None

    def next_due(self) -> Optional[float]:
        if self.finished:
            return None
        due = self.wait_until
        for hook in self.hooks:
            if hook.status == "AWAITING_ACTION" and (due is None or hook.due < due):
                due = hook.due
        return due

    # hooks ---------------------------------------------------------------------------------
    def awaiting(self) -> List[Hook]:
        return [h for h in self.hooks if h.status == "AWAITING_ACTION"]

    def answer(self, hook_id: str, action: str) -> bool:
        for hook in self.awaiting():
            if hook.id == hook_id:
                hook.status = "SUCCEEDED"
                if action == "ROLLBACK":
                    self.start_rollback("Lifecycle hook %s: rollback requested." % hook_id, "Lifecycle hook")
                return True
        return False

    def start_rollback(self, reason: str, why: str) -> None:
        if self.rollback is not None or self.finished:
            return
        self.rollback = {"reason": why, "startedAt": moto_records.utcnow()}
        self.status_reason = reason
        for hook in self.awaiting():
            hook.status = "FAILED"

    def enter_hooks(self, stage_names: Tuple[str, ...], now: float) -> None:
        specs = [h for h in self.deployment.deployment_configuration.get("lifecycleHooks") or []
                 if set(h.get("lifecycleStages") or []) & set(stage_names)]
        self.hooks = [Hook(spec, now) for spec in specs]


def hook_stages(stage: str) -> Tuple[str, ...]:
    """Hook stage names that run when the deployment is at ``stage``."""
    if stage == "PRODUCTION_TRAFFIC_SHIFT":
        return ("PRE_PRODUCTION_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT")
    return (stage,)


def production_target(run: StrategyRun, now: float) -> Optional[float]:
    """The percent of production traffic the next step moves to green, or None to wait."""
    if run.wait_until is not None and now < run.wait_until:
        return None
    config = run.deployment.deployment_configuration
    if run.strategy == "CANARY":
        canary = config.get("canaryConfiguration") or {}
        if run.shifted == 0:
            return float(canary.get("canaryPercent"))
        return 100.0
    if run.strategy == "LINEAR":
        step = float((config.get("linearConfiguration") or {}).get("stepPercent"))
        return min(100.0, run.shifted + step)
    return 100.0


def step_bake_seconds(run: StrategyRun) -> float:
    config = run.deployment.deployment_configuration
    if run.strategy == "CANARY":
        return 60.0 * int((config.get("canaryConfiguration") or {}).get("canaryBakeTimeInMinutes") or 0)
    if run.strategy == "LINEAR":
        return 60.0 * int((config.get("linearConfiguration") or {}).get("stepBakeTimeInMinutes") or 0)
    return 0.0


def shift(elb: Any, run: StrategyRun, rule_field: str, percent: float) -> None:
    blue_weight, green_weight = weights_for(percent)
    for index, (blue, green) in run.groups.items():
        advanced = run.deployment.service.load_balancers[index].get("advancedConfiguration") or {}
        if advanced.get(rule_field):
            set_weights(elb, advanced[rule_field], {blue: blue_weight, green: green_weight}, run.saved)
