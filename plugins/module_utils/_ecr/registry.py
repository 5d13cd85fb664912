# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""A registry HTTP API v2 client on the standard library (ECR's registry, or any other).

Only what a push needs: HEAD manifests and blobs, cross-repository mounts, chunked blob
uploads that hash what they send (the digest is checked before the upload is committed),
manifest PUTs whose digest is checked against the registry's answer.  One keep-alive
connection per thread; parallel uploads use one thread each.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import re
import ssl
import threading
import urllib.parse
from typing import Any, Callable, Dict, Optional, Tuple

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import RetryPolicy

from .api import EcrError
from .archive import Blob, sha256_digest

MANIFEST_ACCEPT = ", ".join((
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
))
DEFAULT_CHUNK_SIZE = 64 * 1024 * 1024
SEND_BLOCK = 1024 * 1024
RETRYABLE_STATUS = (429, 500, 502, 503, 504)


class RegistryError(EcrError):
    """The registry refused or failed a request."""


class _Body:
    """``length`` bytes of ``f``, hashed as http.client reads them."""

    def __init__(self, f: Any, length: int, hasher: Any) -> None:
        self.f = f
        self.left = length
        self.hasher = hasher

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        size = self.left if size is None or size < 0 else min(size, self.left)
        data = self.f.read(size)
        if not data:
            raise RegistryError("blob source ended %d bytes early" % self.left)
        self.left -= len(data)
        self.hasher.update(data)
        return data


class _Chunk:
    """One chunk's body; a retry rewinds the file and restarts the hash from the chunk's start."""

    def __init__(self, f: Any, offset: int, length: int, base: Any) -> None:
        self.f = f
        self.offset = offset
        self.length = length
        self.base = base
        self.body = _Body(f, length, base.copy())

    def rewind(self) -> "_Body":
        self.f.seek(self.offset)
        self.body = _Body(self.f, self.length, self.base.copy())
        return self.body


def _challenge(header: str) -> Tuple[str, Dict[str, str]]:
    scheme, _sep, rest = header.partition(" ")
    params = dict(re.findall(r'(\w+)="([^"]*)"', rest))
    return scheme.lower(), params


class RegistryClient:
    """Talks to one registry; ``base_url`` such as ``https://123.dkr.ecr.eu-west-1.amazonaws.com``."""

    def __init__(
        self,
        base_url: str,
        username: Optional[str] = None,
        password: Optional[str] = None,
        validate_certs: bool = True,
        timeout: float = 300.0,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        retry: Optional[RetryPolicy] = None,
    ) -> None:
        # Throttling and 5xx of the registry are retried like the AWS APIs' (capped, jittered backoff).
        self.retry = retry or RetryPolicy()
        parsed = urllib.parse.urlsplit(base_url if "://" in base_url else "https://" + base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise RegistryError("registry_url=%r: expected http(s)://host[:port]" % base_url)
        self.scheme = parsed.scheme
        self.netloc = parsed.netloc
        self.username = username
        self.password = password
        self.validate_certs = validate_certs
        self.timeout = timeout
        self.chunk_size = chunk_size
        self._basic = None
        if username is not None:
            raw = ("%s:%s" % (username, password or "")).encode("utf-8")
            self._basic = "Basic " + base64.b64encode(raw).decode("ascii")
        self._auth = self._basic
        self._tokens: Dict[str, str] = {}
        self._local = threading.local()
        self._lock = threading.Lock()
        self.requests = 0
        self.writes = 0

    @property
    def host(self) -> str:
        """``host[:port]`` as it appears in image references."""
        return self.netloc

    # connections --------------------------------------------------------------------------
    def _connection(self, scheme: str, netloc: str) -> http.client.HTTPConnection:
        pool = getattr(self._local, "pool", None)
        if pool is None:
            pool = self._local.pool = {}
        conn = pool.get((scheme, netloc))
        if conn is None:
            if scheme == "https":
                ctx = ssl.create_default_context()
                if not self.validate_certs:
                    ctx.check_hostname = False
                    ctx.verify_mode = ssl.CERT_NONE
                conn = http.client.HTTPSConnection(netloc, timeout=self.timeout, context=ctx, blocksize=SEND_BLOCK)
            else:
                conn = http.client.HTTPConnection(netloc, timeout=self.timeout, blocksize=SEND_BLOCK)
            pool[(scheme, netloc)] = conn
        return conn

    def _drop(self, scheme: str, netloc: str) -> None:
        conn = self._local.pool.pop((scheme, netloc), None)
        if conn is not None:
            conn.close()

    def _absolute(self, url: str) -> Tuple[str, str, str]:
        parts = urllib.parse.urlsplit(url)
        scheme = parts.scheme or self.scheme
        netloc = parts.netloc or self.netloc
        path = parts.path + ("?" + parts.query if parts.query else "")
        return scheme, netloc, path

    def request(
        self,
        method: str,
        url: str,
        body: Any = None,
        headers: Optional[Dict[str, str]] = None,
        scope: Optional[str] = None,
        rewind: Optional[Callable[[], Any]] = None,
    ) -> Tuple[int, http.client.HTTPMessage, bytes]:
        """One request with auth; retries stale keep-alive connections, 401 challenges and 5xx.

        ``rewind`` returns a fresh body for a retry when ``body`` is a stream.
        """
        scheme, netloc, path = self._absolute(url)
        attempt = 0
        while True:
            attempt += 1
            hdrs = dict(headers or {})
            auth = self._tokens.get(scope or "") or self._auth
            if auth and netloc == self.netloc:
                hdrs["Authorization"] = auth
            conn = self._connection(scheme, netloc)
            with self._lock:
                self.requests += 1
                if method not in ("GET", "HEAD"):
                    self.writes += 1
            try:
                conn.request(method, path, body=body, headers=hdrs)
                resp = conn.getresponse()
                data = resp.read()
            except (http.client.HTTPException, ConnectionError, TimeoutError, OSError) as exc:
                self._drop(scheme, netloc)
                if attempt < self.retry.max_attempts and (body is None or isinstance(body, bytes) or rewind is not None):
                    if rewind is not None and not isinstance(body, (bytes, type(None))):
                        body = rewind()
                    self.retry.sleep(self.retry.delay(attempt))
                    continue
                raise RegistryError("%s %s://%s%s failed: %s" % (method, scheme, netloc, path, exc)) from exc
            if resp.status == 401 and attempt < 3 and self._authenticate(resp.headers.get("WWW-Authenticate", ""), scope):
                if rewind is not None and not isinstance(body, (bytes, type(None))):
                    body = rewind()
                continue
            if resp.status in RETRYABLE_STATUS and attempt < self.retry.max_attempts and \
                    (body is None or isinstance(body, bytes) or rewind is not None):
                if rewind is not None and not isinstance(body, (bytes, type(None))):
                    body = rewind()
                self.retry.sleep(self.retry.delay(attempt))
                continue
            return resp.status, resp.headers, data

    def _authenticate(self, header: str, scope: Optional[str]) -> bool:
        """Answer a Bearer challenge (token service) or a Basic one; False when we cannot."""
        scheme, params = _challenge(header)
        if scheme == "basic":
            return False
        if scheme != "bearer" or "realm" in params and not params["realm"]:
            return False
        query = {k: v for k, v in params.items() if k in ("service", "scope")}
        url = params["realm"] + ("&" if "?" in params["realm"] else "?") + urllib.parse.urlencode(query)
        t_scheme, t_netloc, t_path = self._absolute(url)
        conn = self._connection(t_scheme, t_netloc)
        hdrs = {"Authorization": self._basic} if self._basic else {}
        try:
            conn.request("GET", t_path, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
        except (http.client.HTTPException, OSError) as exc:
            self._drop(t_scheme, t_netloc)
            raise RegistryError("token request to %s failed: %s" % (params["realm"], exc)) from exc
        if resp.status != 200:
            raise RegistryError("token service %s refused us (%d): %s" % (params["realm"], resp.status, data[:300]))
        doc = json.loads(data)
        token = doc.get("token") or doc.get("access_token")
        if not token:
            return False
        self._tokens[scope or ""] = "Bearer " + token
        return True

    @staticmethod
    def _error(what: str, status: int, data: bytes) -> RegistryError:
        detail = data[:500].decode("utf-8", "replace")
        code = None
        try:
            errors = json.loads(data).get("errors") or []
            if errors:
                code = errors[0].get("code")
                detail = "; ".join("%s: %s" % (e.get("code"), e.get("message")) for e in errors)
        except (ValueError, AttributeError):
            pass
        if status == 401:
            detail += " (the registry refused our credentials: check registry_username and registry_password, or the " \
                      "ECR authorization token's account and region)"
        return RegistryError("%s: HTTP %d: %s" % (what, status, detail), code=code)

    # reads --------------------------------------------------------------------------------
    def manifest_digest(self, repo: str, reference: str) -> Optional[str]:
        """The digest ``reference`` (tag or digest) resolves to in ``repo``; None when absent."""
        url = "/v2/%s/manifests/%s" % (repo, reference)
        status, headers, _body = self.request("HEAD", url, headers={"Accept": MANIFEST_ACCEPT}, scope=repo)
        if status == 404:
            return None
        if status != 200:
            raise self._error("HEAD manifest %s:%s" % (repo, reference), status, b"")
        digest = headers.get("Docker-Content-Digest")
        if digest:
            return digest
        # The header is optional in the distribution spec: hash the manifest instead.
        status, headers, data = self.request("GET", url, headers={"Accept": MANIFEST_ACCEPT}, scope=repo)
        if status != 200:
            raise self._error("GET manifest %s:%s" % (repo, reference), status, data)
        return sha256_digest(data)

    def blob_exists(self, repo: str, digest: str) -> bool:
        """Whether ``repo`` already has the blob (HEAD; redirects to storage count as yes)."""
        status, _headers, data = self.request("HEAD", "/v2/%s/blobs/%s" % (repo, digest), scope=repo)
        if status in (200, 307, 302):
            return True
        if status == 404:
            return False
        raise self._error("HEAD blob %s in %s" % (digest, repo), status, data)

    # writes -------------------------------------------------------------------------------
    def mount_blob(self, repo: str, digest: str, from_repo: str) -> bool:
        """Cross-repository mount; True when the registry linked the blob without an upload."""
        query = urllib.parse.urlencode({"mount": digest, "from": from_repo})
        status, headers, data = self.request("POST", "/v2/%s/blobs/uploads/?%s" % (repo, query), body=b"",
                                             headers={"Content-Length": "0"}, scope=repo)
        if status == 201:
            return True
        if status == 202:
            # The registry started a plain upload instead; give it back rather than leave it open.
            location = headers.get("Location")
            if location:
                self.request("DELETE", location, scope=repo)
            return False
        raise self._error("mount %s from %s into %s" % (digest, from_repo, repo), status, data)

    def upload_blob(self, repo: str, blob: Blob) -> int:
        """Upload ``blob`` in chunks, verifying its digest; returns the bytes sent."""
        status, headers, data = self.request("POST", "/v2/%s/blobs/uploads/" % repo, body=b"",
                                             headers={"Content-Length": "0"}, scope=repo)
        if status != 202 or not headers.get("Location"):
            raise self._error("start upload of %s to %s" % (blob.digest, repo), status, data)
        location = headers["Location"]
        hasher = hashlib.sha256()
        sent = 0
        with blob.location.open() as f:
            while sent < blob.size:
                start, length = sent, min(self.chunk_size, blob.size - sent)
                chunk = _Chunk(f, blob.location.offset + start, length, hasher)
                status, headers, data = self.request(
                    "PATCH", location, body=chunk.body, scope=repo, rewind=chunk.rewind,
                    headers={"Content-Type": "application/octet-stream", "Content-Length": str(length),
                             "Content-Range": "%d-%d" % (start, start + length - 1)})
                if status != 202:
                    self.request("DELETE", location, scope=repo)
                    raise self._error("upload chunk %d-%d of %s to %s" % (start, start + length - 1, blob.digest, repo),
                                      status, data)
                hasher = chunk.body.hasher
                location = headers.get("Location") or location
                sent += length
        actual = "sha256:" + hasher.hexdigest()
        if actual != blob.digest:
            self.request("DELETE", location, scope=repo)
            raise RegistryError("blob %s: its bytes hash to %s; the archive is corrupt (upload cancelled)" % (blob.digest, actual))
        sep = "&" if "?" in location else "?"
        status, headers, data = self.request("PUT", location + sep + urllib.parse.urlencode({"digest": blob.digest}),
                                             body=b"", headers={"Content-Length": "0"}, scope=repo)
        if status not in (201, 204):
            raise self._error("commit upload of %s to %s" % (blob.digest, repo), status, data)
        got = headers.get("Docker-Content-Digest")
        if got and got != blob.digest:
            raise RegistryError("registry stored blob %s as %s" % (blob.digest, got))
        return sent

    def put_manifest(self, repo: str, reference: str, data: bytes, media_type: str) -> str:
        """PUT a manifest under a tag or its digest; returns the digest, checked against ours."""
        digest = sha256_digest(data)
        status, headers, body = self.request("PUT", "/v2/%s/manifests/%s" % (repo, reference), body=data,
                                             headers={"Content-Type": media_type}, scope=repo)
        if status not in (200, 201):
            raise self._error("PUT manifest %s:%s" % (repo, reference), status, body)
        got = headers.get("Docker-Content-Digest")
        if got and got != digest:
            raise RegistryError("registry stored manifest %s:%s as %s, expected %s (sha256 of the bytes sent)"
                                % (repo, reference, got, digest))
        return digest
