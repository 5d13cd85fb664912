# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""Checks on test traffic: plain HTTP(S) requests to the URL test traffic reaches green through.

``urllib`` honours the standard ``http_proxy``/``https_proxy``/``no_proxy`` environment variables.
Each request has a short timeout and a few attempts (a target just registered may answer a
moment later); a check fails when its last attempt still gets the wrong status or body.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from typing import Any, Callable, Dict, List, Optional, Tuple

REQUEST_TIMEOUT = 5.0
ATTEMPTS = 3
RETRY_DELAY = 2.0
BODY_BYTES = 200
READ_BYTES = 65536


def fetch(url: str, headers: Dict[str, str], timeout: float) -> Tuple[int, bytes]:
    """(status, body) of a GET; an HTTP error status is an answer, not an exception."""
    request = urllib.request.Request(url, headers=dict(headers or {}), method="GET")
    opener = urllib.request.build_opener()  # ProxyHandler from the environment
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, response.read(READ_BYTES)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(READ_BYTES) if exc.fp else b""


class TrafficChecker:
    """Runs ``test_traffic.checks``; returns what failed (None when every check passed)."""

    def __init__(self, fetcher: Callable[[str, Dict[str, str], float], Tuple[int, bytes]] = fetch,
                 sleep: Callable[[float], None] = time.sleep, attempts: int = ATTEMPTS,
                 timeout: float = REQUEST_TIMEOUT, delay: float = RETRY_DELAY) -> None:
        self.fetcher = fetcher
        self.sleep = sleep
        self.attempts = attempts
        self.timeout = timeout
        self.delay = delay
        self.results: List[Dict[str, Any]] = []

    def run(self, base_url: str, headers: Dict[str, str], checks: List[Dict[str, Any]]) -> Optional[str]:
        for check in checks:
            failure = self._one(base_url, headers, check)
            self.results.append({"path": check["path"], "ok": failure is None, "failure": failure})
            if failure:
                return failure
        return None

    def _one(self, base_url: str, headers: Dict[str, str], check: Dict[str, Any]) -> Optional[str]:
        url = base_url.rstrip("/") + check["path"]
        want = int(check.get("status") or 200)
        contains = check.get("contains")
        failure = None
        for attempt in range(self.attempts):
            if attempt:
                self.sleep(self.delay)
            try:
                status, body = self.fetcher(url, headers, self.timeout)
            except (OSError, ValueError) as exc:
                failure = "GET %s: %s" % (url, exc)
                continue
            text = body.decode("utf-8", "replace")
            if status != want:
                failure = "GET %s: status %d (expected %d), body: %r" % (url, status, want, text[:BODY_BYTES])
            elif contains and contains not in text:
                failure = "GET %s: status %d but the body lacks %r, body: %r" % (url, status, contains, text[:BODY_BYTES])
            else:
                return None
        return failure
