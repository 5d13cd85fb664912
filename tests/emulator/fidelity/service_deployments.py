"""ECS ``ListServiceDeployments`` / ``DescribeServiceDeployments`` (moto has neither).

Answered from the simulation's deployment history in the JSON protocol. A circuit-breaker
rollback is part of the failed service deployment (its ``rollback`` field and the
``ROLLBACK_*`` statuses), not a service deployment of its own, as in AWS.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, Dict, List, Optional, Tuple

from .ecs_sim import Deployment, ServiceSim, Simulation, circuit_breaker_threshold

_CREDENTIAL = re.compile(r"Credential=([^/]+)/[^/]+/([^/]+)/")
OPERATIONS = ("ListServiceDeployments", "DescribeServiceDeployments", "ContinueServiceDeployment",
              "StopServiceDeployment")


def status_of(deployment: Deployment) -> Tuple[str, Optional[str]]:
    """(status, statusReason) of a service deployment."""
    run = deployment.strategy_run
    if run is not None:
        status, reason = run.status()
        if status == "IN_PROGRESS" and deployment.status != "PRIMARY":
            return "STOPPED", "Service deployment stopped because a newer service deployment was started."
        return status, reason
    rollback = getattr(deployment, "rollback_started", None)
    if rollback is not None:
        if rollback.rollout_state == "COMPLETED":
            return "ROLLBACK_SUCCESSFUL", "Service deployment rolled back because the circuit breaker threshold was exceeded."
        if rollback.rollout_state == "FAILED":
            return "ROLLBACK_FAILED", "Service deployment rollback failed."
        return "ROLLBACK_IN_PROGRESS", "Service deployment rolling back because the circuit breaker threshold was exceeded."
    if deployment.rollout_state == "COMPLETED":
        return "SUCCESSFUL", None
    if deployment.rollout_state == "FAILED":
        return "STOPPED", "ECS deployment circuit breaker: tasks failed to start."
    if deployment.status != "PRIMARY":
        return "STOPPED", "Service deployment stopped because a newer service deployment was started."
    return "IN_PROGRESS", None


def _epoch(value: Optional[datetime]) -> Optional[float]:
    return value.timestamp() if value is not None else None


def _listed(service: ServiceSim) -> List[Deployment]:
    # Circuit-breaker rollbacks belong to the deployment they roll back.
    return [d for d in service.history if d.rollback_to is None]


def _service_arn(service: ServiceSim) -> str:
    return service.service.arn


def _cluster_arn(service: ServiceSim) -> str:
    return service.service.cluster_arn


def brief(service: ServiceSim, deployment: Deployment) -> Dict[str, Any]:
    status, reason = status_of(deployment)
    doc = {"serviceDeploymentArn": deployment.deployment_arn, "serviceArn": _service_arn(service),
           "clusterArn": _cluster_arn(service), "createdAt": _epoch(deployment.created_at),
           "startedAt": _epoch(deployment.created_at), "targetServiceRevisionArn": deployment.revision_arn,
           "status": status}
    finished = _finished(deployment)
    if finished is not None:
        doc["finishedAt"] = _epoch(finished)
    if reason:
        doc["statusReason"] = reason
    return doc


def _finished(deployment: Deployment) -> Optional[datetime]:
    if deployment.strategy_run is not None:
        return deployment.strategy_run.finished_at
    rollback = getattr(deployment, "rollback_started", None)
    if rollback is not None:
        return rollback.finished_at
    return deployment.finished_at if deployment.rollout_state == "COMPLETED" else None


def full(service: ServiceSim, deployment: Deployment) -> Dict[str, Any]:
    doc = brief(service, deployment)
    doc.pop("targetServiceRevisionArn")
    running, pending = deployment.counts()
    doc["updatedAt"] = _epoch(deployment.updated_at)
    doc["targetServiceRevision"] = {"arn": deployment.revision_arn, "requestedTaskCount": deployment.desired_count,
                                    "runningTaskCount": running, "pendingTaskCount": pending}
    sources = []
    for source_id in deployment.source_deployments:
        source = next((d for d in service.history if d.id == source_id), None)
        if source is not None:
            r, p = source.counts()
            sources.append({"arn": source.revision_arn, "requestedTaskCount": source.desired_count,
                            "runningTaskCount": r, "pendingTaskCount": p})
    doc["sourceServiceRevisions"] = sources
    doc["deploymentConfiguration"] = deployment.deployment_configuration
    doc["deploymentCircuitBreaker"] = {"status": deployment.circuit_breaker_status,
                                       "failureCount": deployment.failed_tasks,
                                       "threshold": circuit_breaker_threshold(deployment.desired_count)}
    run = deployment.strategy_run
    if run is not None:
        doc["lifecycleStage"] = run.stage
        if run.hooks:
            doc["lifecycleHookDetails"] = [hook.render() for hook in run.hooks]
        if run.rollback is not None:
            doc["rollback"] = {"reason": run.rollback["reason"], "startedAt": _epoch(run.rollback["startedAt"]),
                               "serviceRevisionArn": run.blue.revision_arn}
    rollback = getattr(deployment, "rollback_started", None)
    if rollback is not None:
        doc["rollback"] = {"reason": "Circuit Breaker", "startedAt": _epoch(rollback.created_at),
                           "serviceRevisionArn": rollback.revision_arn}
    return doc


class ServiceDeploymentsApi:
    """A before-hook answering the two operations from the simulation."""

    def __init__(self, sim: Simulation, lock: Any) -> None:
        self.sim = sim
        self.lock = lock

    def hook(self, service: str, operation: str, environ: Dict[str, Any], body: bytes) -> Optional[Tuple[int, list, bytes]]:
        if service != "ecs" or operation not in OPERATIONS:
            return None
        match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        from moto.iam.models import get_account_id_from

        account = get_account_id_from(match.group(1)) if match else "123456789012"
        region = match.group(2) if match else "us-east-1"
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            return _error(400, "SerializationException", "Request body is not JSON")
        with self.lock:
            self.sim.advance()
            if operation == "ListServiceDeployments":
                return self._list(account, region, request)
            if operation == "ContinueServiceDeployment":
                return self._continue(account, region, request)
            if operation == "StopServiceDeployment":
                return self._stop(account, region, request)
            return self._describe(account, region, request)

    def _find(self, account: str, region: str, arn: str) -> Optional[Tuple[ServiceSim, Deployment]]:
        for service in self._services(account, region):
            for deployment in _listed(service):
                if deployment.deployment_arn == arn:
                    return service, deployment
        return None

    def _continue(self, account: str, region: str, request: Dict[str, Any]) -> Tuple[int, list, bytes]:
        arn = str(request.get("serviceDeploymentArn") or "")
        action = request.get("action") or "CONTINUE"
        if action not in ("CONTINUE", "ROLLBACK"):
            return _error(400, "InvalidParameterException", "action must be CONTINUE or ROLLBACK.")
        found = self._find(account, region, arn)
        if found is None:
            return _error(400, "ServiceDeploymentNotFoundException", "The service deployment does not exist.")
        _service, deployment = found
        run = deployment.strategy_run
        if run is None or status_of(deployment)[0] != "IN_PROGRESS" or not run.awaiting():
            return _error(400, "InvalidParameterException",
                          "The service deployment %s is not waiting for a lifecycle hook action." % arn)
        if not run.answer(str(request.get("hookId") or ""), action):
            return _error(400, "InvalidParameterException",
                          "The lifecycle hook %s is not in AWAITING_ACTION status for service deployment %s."
                          % (request.get("hookId"), arn))
        self.sim.advance()
        return _ok({"serviceDeploymentArn": arn})

    def _stop(self, account: str, region: str, request: Dict[str, Any]) -> Tuple[int, list, bytes]:
        arn = str(request.get("serviceDeploymentArn") or "")
        stop_type = request.get("stopType") or "ROLLBACK"
        found = self._find(account, region, arn)
        if found is None:
            return _error(400, "ServiceDeploymentNotFoundException", "The service deployment does not exist.")
        _service, deployment = found
        if status_of(deployment)[0] not in ("PENDING", "IN_PROGRESS"):
            return _error(400, "ConflictException", "The service deployment %s is not in progress." % arn)
        run = deployment.strategy_run
        if stop_type != "ROLLBACK" or run is None:
            # The emulator rolls back BLUE_GREEN / CANARY / LINEAR deployments only.
            return _error(400, "UnsupportedFeatureException",
                          "The emulator supports StopServiceDeployment with stopType ROLLBACK for BLUE_GREEN, "
                          "CANARY and LINEAR deployments only.")
        run.start_rollback("Service deployment rolled back because StopServiceDeployment was called.", "User requested")
        self.sim.advance()
        return _ok({"serviceDeploymentArn": arn})

    def _services(self, account: str, region: str) -> List[ServiceSim]:
        return [s for key, s in self.sim.services.items() if key[0] == account and key[1] == region]

    def _list(self, account: str, region: str, request: Dict[str, Any]) -> Tuple[int, list, bytes]:
        cluster = str(request.get("cluster") or "default").rsplit("/", maxsplit=1)[-1]
        name = str(request.get("service") or "").rsplit("/", maxsplit=1)[-1]
        if not name:
            return _error(400, "InvalidParameterException", "service can not be blank.")
        matches = [s for s in self._services(account, region) if s.cluster_name == cluster and s.name == name]
        if not matches:
            return _error(400, "ServiceNotFoundException", "Service not found.")
        service = matches[-1]
        wanted = set(request.get("status") or [])
        created = request.get("createdAt") or {}
        items = []
        for deployment in _listed(service):
            doc = brief(service, deployment)
            if wanted and doc["status"] not in wanted:
                continue
            if created.get("after") is not None and doc["createdAt"] < float(created["after"]):
                continue
            if created.get("before") is not None and doc["createdAt"] > float(created["before"]):
                continue
            items.append(doc)
        start = int(request.get("nextToken") or 0)
        size = int(request.get("maxResults") or 20)
        if not 1 <= size <= 100:
            return _error(400, "InvalidParameterException", "maxResults must be between 1 and 100.")
        answer: Dict[str, Any] = {"serviceDeployments": items[start:start + size]}
        if start + size < len(items):
            answer["nextToken"] = str(start + size)
        return _ok(answer)

    def _describe(self, account: str, region: str, request: Dict[str, Any]) -> Tuple[int, list, bytes]:
        arns = request.get("serviceDeploymentArns") or []
        if not arns:
            return _error(400, "InvalidParameterException", "serviceDeploymentArns can not be empty.")
        found, failures = [], []
        index = {d.deployment_arn: (s, d) for s in self._services(account, region) for d in _listed(s)}
        for arn in arns:
            if arn in index:
                found.append(full(*index[arn]))
            else:
                failures.append({"arn": arn, "reason": "MISSING", "detail": "The service deployment does not exist."})
        return _ok({"serviceDeployments": found, "failures": failures})


def _ok(doc: Dict[str, Any]) -> Tuple[int, list, bytes]:
    data = json.dumps(doc).encode()
    return 200, [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(data)))], data


def _error(status: int, code: str, message: str) -> Tuple[int, list, bytes]:
    data = json.dumps({"__type": code, "message": message}).encode()
    return status, [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(data))),
                    ("x-amzn-ErrorType", code)], data
