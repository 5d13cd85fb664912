# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""One place where every AWS call goes through: retries, error translation, call accounting.

Each area defines a subclass of :class:`AwsApi` for one AWS service with one small method per
API operation (``describe_services``, ``create_rule``, ...).  Those methods call
:meth:`AwsApi.call` (or :meth:`AwsApi.paginate`), which

* retries throttling, 5xx and connection errors with capped, jittered exponential backoff;
* turns a ``botocore`` ``ClientError`` into the area's exception, naming the operation;
* counts calls per operation and tells reads from writes, so a module can prove that a
  no-op run made no write call and check mode never writes.

Reads AWS offers no batch form of (a target group's attributes, a repository's lifecycle policy,
a task definition...) are made for several resources at once with :func:`read_each`: a run's
cost in time then grows with the slowest of a few calls, not with their sum.
"""

from __future__ import annotations

import copy
import json
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Type, TypeVar

try:
    from botocore.exceptions import (
        ClientError,
        ConnectionClosedError,
        EndpointConnectionError,
        ReadTimeoutError,
    )
except ImportError:  # pragma: no cover - reported by AnsibleAWSModule
    ClientError = ConnectionClosedError = EndpointConnectionError = ReadTimeoutError = None  # type: ignore

from .errors import AwsApiError

THROTTLING_CODES = frozenset(
    (
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "SlowDown",
        "EC2ThrottledException",
        "PriorRequestNotComplete",
    )
)
TRANSIENT_CODES = frozenset(
    ("ServiceUnavailable", "ServiceUnavailableException", "InternalFailure", "InternalError",
     "InternalServerError", "ServerException", "RequestTimeout", "RequestTimeoutException")
)
# How many reads :func:`read_each` makes at once: well under the request rates AWS throttles
# describe calls at (ECS, ELBv2 and ECR allow bursts of 20 to 100 per second), enough to hide the
# latency of one call behind the others.
READ_WORKERS = 8

T = TypeVar("T")
R = TypeVar("R")

READ_PREFIXES = ("describe_", "list_", "get_", "batch_get_", "batch_check_")
# Reads whose names do not follow AWS's Describe/List/Get convention.
READ_OPERATIONS = frozenset(("filter_log_events",))


def chunks(items: List[Any], size: int) -> Iterator[List[Any]]:
    """``items`` in slices of at most ``size`` (the batch size an AWS API accepts)."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def read_each(read: Callable[[T], R], items: Iterable[T], workers: int = READ_WORKERS) -> List[R]:
    """``[read(item) for item in items]``, up to ``workers`` at a time: for reads AWS has no batch
    form of, one per resource. Results come in the items' order; when reads fail, the failure of
    the first failing item (in the items' order) is raised, as a loop would, once every read has
    ended. ``read`` must only read: nothing it does may depend on another item's read."""
    todo = list(items)
    if workers < 2 or len(todo) < 2:
        return [read(item) for item in todo]
    with ThreadPoolExecutor(max_workers=min(workers, len(todo))) as pool:
        futures = [pool.submit(read, item) for item in todo]
        return [future.result() for future in futures]


def is_read_operation(operation: str) -> bool:
    """True for operations that never change AWS state (AWS's naming convention, and the few reads named otherwise)."""
    return operation.startswith(READ_PREFIXES) or operation in READ_OPERATIONS


def error_code(exc: BaseException) -> Optional[str]:
    """The AWS error code of a ``ClientError``, else None."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return response.get("Error", {}).get("Code")
    return None


def error_message(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return response.get("Error", {}).get("Message") or str(exc)
    return str(exc)


def http_status(exc: BaseException) -> Optional[int]:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return None


class RetryPolicy:
    """Capped exponential backoff with full jitter (AWS's recommended scheme)."""

    def __init__(
        self,
        max_attempts: int = 8,
        base_delay: float = 0.25,
        max_delay: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.sleep = sleep
        self.rand = rand

    def delay(self, attempt: int) -> float:
        """Delay before retry number ``attempt`` (1-based)."""
        cap = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return cap * (0.5 + self.rand() / 2)

    def is_retryable(self, exc: BaseException) -> bool:
        if ClientError is not None and isinstance(exc, ClientError):
            code = error_code(exc)
            if code in THROTTLING_CODES or code in TRANSIENT_CODES:
                return True
            status = http_status(exc)
            return status is not None and (status >= 500 or status == 429)
        retryable = tuple(c for c in (ConnectionClosedError, EndpointConnectionError, ReadTimeoutError) if c)
        return bool(retryable) and isinstance(exc, retryable)


class AwsApi:
    """Base of the per-service API wrappers.

    ``client`` is a boto3 client (or anything with the same methods, such as a stub in tests).
    Subclasses set ``error`` to their area's exception type.
    """

    error: Type[AwsApiError] = AwsApiError
    service: str = ""

    def __init__(self, client: Any, retry: Optional[RetryPolicy] = None) -> None:
        self.client = client
        self.retry = retry or RetryPolicy()
        self.calls: Counter = Counter()
        self.retries: Counter = Counter()
        # read_each calls one API wrapper from several threads: the counts stay exact.
        self._count_lock = threading.Lock()

    # accounting ------------------------------------------------------------------------------
    @property
    def write_calls(self) -> Dict[str, int]:
        return {op: n for op, n in self.calls.items() if not is_read_operation(op)}

    @property
    def read_calls(self) -> Dict[str, int]:
        return {op: n for op, n in self.calls.items() if is_read_operation(op)}

    # calls -----------------------------------------------------------------------------------
    def call(self, operation: str, **kwargs: Any) -> Dict[str, Any]:
        """Call ``operation`` (snake_case boto3 name) with retries; translate errors."""
        if isinstance(self.client, ReadOnceClient):
            answered = self.client.answered(operation, kwargs)
            if answered is not None:
                return answered
        method = getattr(self.client, operation)
        attempt = 0
        while True:
            attempt += 1
            with self._count_lock:
                self.calls[operation] += 1
            try:
                return method(**kwargs)
            except Exception as exc:  # pylint: disable=broad-except
                if attempt < self.retry.max_attempts and self.retry.is_retryable(exc):
                    with self._count_lock:
                        self.retries[operation] += 1
                    self.retry.sleep(self.retry.delay(attempt))
                    continue
                raise self.translate(operation, exc) from exc

    def paginate(self, operation: str, result_key: str, **kwargs: Any) -> List[Any]:
        """Every item of ``result_key`` across pages of ``operation`` (NextToken / Marker)."""
        return list(self.iter_pages(operation, result_key, **kwargs))

    def iter_pages(self, operation: str, result_key: str, **kwargs: Any) -> Iterator[Any]:
        token_in, token_out = self._token_names(operation)
        params = dict(kwargs)
        while True:
            page = self.call(operation, **params)
            yield from page.get(result_key, []) or []
            token = page.get(token_out)
            if not token:
                return
            params[token_in] = token

    @staticmethod
    def _token_names(operation: str):
        # ELBv2, IAM and autoscaling (query APIs) page with Marker/NextMarker; JSON APIs with
        # nextToken or NextToken.  Subclasses override when a service differs.
        return ("NextToken", "NextToken")

    def translate(self, operation: str, exc: BaseException) -> AwsApiError:
        """The area's exception for a failed call, naming the operation and AWS's words."""
        code = error_code(exc)
        if code:
            msg = "%s failed: %s: %s" % (operation, code, error_message(exc))
        else:
            msg = "%s failed: %s" % (operation, exc)
        return self.error(msg, operation=operation, code=code)


class ReadOnceClient:
    """A boto3 client whose reads are made once per run: the same read (operation and parameters) asked
    again is answered from the first answer, for a caller that reads the whole environment to plan it
    (app_plan runs several owners' planners over the same resources in check mode). Answers are copies:
    a caller may change what it got. A write forgets every answer. Nothing outlives the run: the
    cache is made per run, never stored.

    ``cache`` is shared by the clients of one run (keyed by ``service``, the name the client was asked
    for). Nothing here touches the client before a call is sent through it: a lazily made client
    (``_aws.module.LazyClient``) stays unmade, its service model unloaded, while no read needs it."""

    def __init__(self, client: Any, cache: Dict[Any, Any], service: str) -> None:
        self._client = client
        self._cache = cache
        self._service = service
        self._operations: Optional[frozenset] = None

    def _api_operations(self) -> frozenset:
        if self._operations is None:
            meta = getattr(self._client, "meta", None)
            self._operations = frozenset(getattr(meta, "method_to_api_mapping", {}) or {})
        return self._operations

    def _key(self, operation: str, kwargs: Dict[str, Any]) -> Any:
        return (self._service, operation, json.dumps(kwargs, sort_keys=True, default=str))

    def answered(self, operation: str, kwargs: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """A copy of the answer this run already had to the same read, else None."""
        if not is_read_operation(operation):
            return None
        found = self._cache.get(self._key(operation, kwargs))
        return copy.deepcopy(found) if found is not None else None

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name not in self._api_operations():
            return attr
        if not is_read_operation(name):
            def write(**kwargs: Any) -> Any:
                self._cache.clear()
                return attr(**kwargs)
            return write

        def read(**kwargs: Any) -> Any:
            answer = attr(**kwargs)
            self._cache[self._key(name, kwargs)] = copy.deepcopy(answer)
            return answer
        return read


def read_once(client: Callable[[str], Any]) -> Callable[[str], Any]:
    """A client factory like ``client`` whose clients share one run's answers (see :class:`ReadOnceClient`).

    One client per service: the wrappers that read a service share it (boto3 clients are thread-safe), so a
    run makes each client, and loads each service model, once at most."""
    cache: Dict[Any, Any] = {}
    clients: Dict[str, ReadOnceClient] = {}

    def make(service: str) -> Any:
        if service not in clients:
            clients[service] = ReadOnceClient(client(service), cache, service)
        return clients[service]
    return make


def combined_calls(apis: List[AwsApi]) -> Dict[str, Dict[str, int]]:
    """Per-service read/write call counts of several API wrappers, for a module's result."""
    out: Dict[str, Dict[str, int]] = {}
    for api in apis:
        name = api.service or type(api).__name__
        entry = out.setdefault(name, {"read": 0, "write": 0})
        entry["read"] += sum(api.read_calls.values())
        entry["write"] += sum(api.write_calls.values())
    return out
