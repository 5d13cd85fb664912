"""ECR's registry: the Docker Registry HTTP API v2 on the emulator's port, backed by moto's ECR.

moto answers ECR's API but has no registry, so nothing could be pushed or pulled.  This serves
``/v2/`` the way ECR's registry does, for what clients (``ecr_image_push``, skopeo) use:

* auth: HTTP Basic ``AWS:<password>`` with a password from ``GetAuthorizationToken`` (which this
  module answers: ``proxyEndpoint`` is the emulator's own URL, the token is valid 12 hours and
  names the registry, i.e. account and region, the requests go to); none or an unknown one is
  ``401`` with ``WWW-Authenticate: Basic realm=...``, an expired one ``403 DENIED``;
* blobs: ``HEAD``/``GET``, uploads (``POST``, chunked ``PATCH``, ``PUT ?digest=``, monolithic
  ``POST ?digest=``, ``GET`` status, ``DELETE``), checked against their digest
  (``DIGEST_INVALID``); a cross-repository mount starts a plain upload (``202``), as ECR does
  unless the registry's ``BLOB_MOUNTING`` setting is enabled;
* manifests: ``PUT`` records the image in moto's ECR (digest = sha256 of the bytes, media type,
  tag), so ``DescribeImages``, ``BatchGetImage`` and ``ListImages`` show it; ``GET``/``HEAD`` by
  tag or digest serve any image of the repository, also one created with ``PutImage``; blobs a
  manifest references must be in the repository (``MANIFEST_BLOB_UNKNOWN``); an immutable tag
  cannot move (``TAG_INVALID``, with ECR's message);
* ``tags/list``.

Blobs the repository holds are recorded in moto's ``Repository.layers`` (what
``BatchCheckLayerAvailability`` reads); their bytes are kept in memory, once per digest.  Calls
are logged under service ``ecr`` with the IAM action ECR authorizes them with (``PutImage``,
``InitiateLayerUpload``, ``UploadLayerPart``, ``CompleteLayerUpload``,
``BatchCheckLayerAvailability``, ``BatchGetImage``, ``GetDownloadUrlForLayer``, ``ListImages``).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import json
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import parse_qs

Answer = Tuple[int, List[Tuple[str, str]], bytes]

TOKEN_SECONDS = 12 * 3600
SERVICE = "ecr"
MANIFEST_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
)
INDEX_TYPES = MANIFEST_TYPES[1], MANIFEST_TYPES[3]
DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")
TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_REASONS = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 400: "Bad Request",
            401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
            416: "Requested Range Not Satisfiable"}
# (pattern, {method: operation}); the first pattern that matches the path wins.
_ROUTES = [
    (re.compile(r"^/v2/?$"), {"GET": "GET /v2/", "HEAD": "GET /v2/"}, "ping"),
    (re.compile(r"^/v2/(?P<name>.+)/blobs/uploads/?$"), {"POST": "InitiateLayerUpload"}, "start_upload"),
    (re.compile(r"^/v2/(?P<name>.+)/blobs/uploads/(?P<upload>[^/]+)$"),
     {"PATCH": "UploadLayerPart", "PUT": "CompleteLayerUpload", "GET": "GET upload", "DELETE": "DELETE upload"}, "upload"),
    (re.compile(r"^/v2/(?P<name>.+)/blobs/(?P<digest>[^/]+)$"),
     {"HEAD": "BatchCheckLayerAvailability", "GET": "GetDownloadUrlForLayer"}, "blob"),
    (re.compile(r"^/v2/(?P<name>.+)/manifests/(?P<reference>[^/]+)$"),
     {"HEAD": "BatchGetImage", "GET": "BatchGetImage", "PUT": "PutImage"}, "manifest"),
    (re.compile(r"^/v2/(?P<name>.+)/tags/list$"), {"GET": "ListImages"}, "tags"),
]


class RegistryError(Exception):
    """A registry error answer: HTTP status, the distribution spec's code, message, detail."""

    def __init__(self, status: int, code: str, message: str, detail: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail


@dataclass
class Upload:
    """A blob upload in progress."""

    registry_id: str
    region: str
    repository: str
    data: bytearray = field(default_factory=bytearray)


@dataclass
class Request:
    """What a handler needs of a request."""

    method: str
    path: str
    query: Dict[str, List[str]]
    headers: Dict[str, str]
    body: bytes
    registry_id: str = ""
    region: str = ""

    def arg(self, name: str) -> Optional[str]:
        values = self.query.get(name)
        return values[0] if values else None


def is_registry_request(environ: Dict[str, Any]) -> bool:
    """A registry call: under ``/v2/`` and not SigV4-signed (AWS APIs with /v2/ paths are)."""
    path = environ.get("PATH_INFO", "")
    return (path == "/v2" or path.startswith("/v2/")) and not environ.get("HTTP_AUTHORIZATION", "").startswith("AWS4-")


def operation_of(method: str, path: str) -> str:
    """The IAM action ECR authorizes a registry call with (or ``METHOD path`` when none)."""
    for pattern, operations, _handler in _ROUTES:
        if pattern.match(path):
            return operations.get(method, "%s %s" % (method, path))
    return "%s %s" % (method, path)


def _error_body(code: str, message: str, detail: Any = None) -> bytes:
    error: Dict[str, Any] = {"code": code, "message": message}
    if detail is not None:
        error["detail"] = detail
    return json.dumps({"errors": [error]}).encode()


def _answer(status: int, headers: List[Tuple[str, str]], body: bytes = b"", head: bool = False,
            length: Optional[int] = None) -> Answer:
    headers = list(headers) + [("Docker-Distribution-API-Version", "registry/2.0"),
                               ("Content-Length", str(len(body) if length is None else length))]
    return status, headers, b"" if head else body


class Registry:
    """The registry of every account and region of the emulator (one per process)."""

    def __init__(self, lock: Any, faults: Any = None) -> None:
        self.lock = lock
        # The control API's injected faults apply to registry calls under their ECR action names.
        self.faults = faults
        self._tokens: Dict[str, Tuple[str, str, float]] = {}  # password -> (registry id, region, expiry)
        self._blobs: Dict[str, bytes] = {}
        self._uploads: Dict[str, Upload] = {}
        self._own = threading.Lock()

    # wiring ------------------------------------------------------------------------------------
    def install(self, app: Any, server: Any) -> None:
        """Answer ``/v2/`` before anything else (moto never sees it; the registry draws injected
        faults itself), name its calls in the call log, forget everything on reset, and issue
        tokens for it."""
        app.before_hooks.insert(0, self.hook)
        app.reset_hooks.append(self.reset)
        server.IDENTIFIERS.append(self.identify)
        self._patch_authorization_token()

    def reset(self) -> None:
        with self._own:
            self._tokens.clear()
            self._blobs.clear()
            self._uploads.clear()

    @staticmethod
    def identify(environ: Dict[str, Any]) -> Optional[Tuple[str, str]]:
        """``(service, operation)`` of a registry call for the call log; None for anything else."""
        if not is_registry_request(environ):
            return None
        return SERVICE, operation_of(environ.get("REQUEST_METHOD", "GET").upper(), environ.get("PATH_INFO", ""))

    def _patch_authorization_token(self) -> None:
        """``GetAuthorizationToken`` names this registry (the emulator's URL) and a token it checks.

        On AWS ``proxyEndpoint`` is ``https://<account>.dkr.ecr.<region>.amazonaws.com``; here the
        registry lives where the request came in. The token still names one account and region."""
        from moto.core.responses import ActionResult
        from moto.ecr.responses import ECRResponse

        registry = self

        def get_authorization_token(response: Any) -> Any:
            registry_ids = response._get_param("registryIds") or [response.current_account]
            host = response.headers.get("Host") or "127.0.0.1"
            data = []
            for registry_id in registry_ids:
                password, expires = registry.issue_token(registry_id, response.region)
                data.append({
                    "authorizationToken": base64.b64encode(("AWS:%s" % password).encode("ascii")).decode("ascii"),
                    "expiresAt": datetime.datetime.fromtimestamp(expires, datetime.timezone.utc),
                    "proxyEndpoint": "http://%s" % host,
                })
            return ActionResult({"authorizationData": data})

        ECRResponse.get_authorization_token = get_authorization_token

    def issue_token(self, registry_id: str, region: str, seconds: float = TOKEN_SECONDS) -> Tuple[str, float]:
        """A new password for ``AWS:<password>`` on ``registry_id``'s registry in ``region``."""
        password = base64.b64encode(secrets.token_bytes(96)).decode("ascii")
        expires = time.time() + seconds
        with self._own:
            self._tokens[password] = (registry_id, region, expires)
        return password, expires

    # dispatch ----------------------------------------------------------------------------------
    def hook(self, _service: str, _operation: str, environ: Dict[str, Any], body: bytes) -> Optional[Answer]:
        """``EmulatorApp.before_hooks`` entry: answers every registry call."""
        if not is_registry_request(environ):
            return None
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        request = Request(environ.get("REQUEST_METHOD", "GET").upper(), environ.get("PATH_INFO", ""),
                          parse_qs(environ.get("QUERY_STRING", "")), headers, body)
        head = request.method == "HEAD"
        try:
            self._inject_fault(request)
            self._authorize(request, environ)
            for pattern, operations, handler in _ROUTES:
                match = pattern.match(request.path)
                if match:
                    if request.method not in operations:
                        raise RegistryError(405, "UNSUPPORTED", "The operation is unsupported.")
                    with self.lock:
                        return getattr(self, "_" + handler)(request, **match.groupdict())
            raise RegistryError(404, "NOT_FOUND", "Not Found")
        except RegistryError as exc:
            extra: List[Tuple[str, str]] = [("Content-Type", "application/json; charset=utf-8")]
            if exc.status == 401:
                extra.append(("WWW-Authenticate", 'Basic realm="http://%s/",service="ecr.amazonaws.com"'
                              % environ.get("HTTP_HOST", "127.0.0.1")))
            body = _error_body(exc.code, exc.message, exc.detail)
            return _answer(exc.status, extra, body, head=head)

    def _inject_fault(self, request: Request) -> None:
        if self.faults is None:
            return
        outcome = self.faults.decide(SERVICE, operation_of(request.method, request.path))
        if outcome == "throttle":
            raise RegistryError(429, "TOOMANYREQUESTS", "Rate exceeded")
        if outcome == "error":
            raise RegistryError(503, "UNAVAILABLE", "Service is unavailable, please try again later")

    def _authorize(self, request: Request, environ: Dict[str, Any]) -> None:
        scheme, _sep, value = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "basic":
            raise RegistryError(401, "UNAUTHORIZED", "Not Authorized")
        try:
            user, _sep, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise RegistryError(401, "UNAUTHORIZED", "Not Authorized") from exc
        with self._own:
            issued = self._tokens.get(password)
        if user != "AWS" or issued is None:
            raise RegistryError(401, "UNAUTHORIZED", "Not Authorized")
        registry_id, region, expires = issued
        if time.time() >= expires:
            raise RegistryError(403, "DENIED", "Your authorization token has expired. Reauthenticate and try again.")
        request.registry_id, request.region = registry_id, region

    # moto's ECR --------------------------------------------------------------------------------
    @staticmethod
    def _repository(request: Request, name: str) -> Any:
        from moto.ecr.models import ecr_backends

        repository = ecr_backends[request.registry_id][request.region].repositories.get(name)
        if repository is None or repository.registry_id != request.registry_id:
            raise RegistryError(404, "NAME_UNKNOWN", "The repository with name '%s' does not exist in the registry "
                                "with id '%s'" % (name, request.registry_id))
        return repository

    @staticmethod
    def _image(repository: Any, reference: str) -> Any:
        if reference.startswith("sha256:"):
            found = [i for i in repository.images if i.get_image_digest() == reference]
        else:
            found = [i for i in repository.images if reference in i.image_tags]
        return found[0] if found else None

    @staticmethod
    def _digest_of(value: Optional[str]) -> str:
        if not value or not DIGEST.match(value):
            raise RegistryError(400, "DIGEST_INVALID", "provided digest did not match uploaded content",
                                {"digest": value})
        return value

    # handlers (called under the emulator's lock) -----------------------------------------------
    def _ping(self, request: Request) -> Answer:
        return _answer(200, [("Content-Type", "application/json; charset=utf-8")], b"{}", head=request.method == "HEAD")

    def _blob(self, request: Request, name: str, digest: str) -> Answer:
        repository = self._repository(request, name)
        head = request.method == "HEAD"
        size = repository.layers.get(digest)
        data = self._blobs.get(digest)
        if size is None or (not head and data is None):
            raise RegistryError(404, "BLOB_UNKNOWN", "blob unknown to registry", {"digest": digest})
        headers = [("Docker-Content-Digest", digest), ("Content-Type", "application/octet-stream")]
        return _answer(200, headers, data or b"", head=head, length=size)

    def _start_upload(self, request: Request, name: str) -> Answer:
        repository = self._repository(request, name)
        digest = request.arg("digest")
        if digest is not None:
            # Monolithic upload: the whole blob in the POST.
            return self._store(request, repository, name, self._digest_of(digest), request.body)
        upload_id = str(uuid.uuid4())
        with self._own:
            self._uploads[upload_id] = Upload(request.registry_id, request.region, name)
        return self._upload_answer(202, name, upload_id, 0)

    def _find_upload(self, request: Request, name: str, upload_id: str) -> Upload:
        with self._own:
            upload = self._uploads.get(upload_id)
        where = (request.registry_id, request.region, name)
        if upload is None or (upload.registry_id, upload.region, upload.repository) != where:
            raise RegistryError(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry", {"upload": upload_id})
        return upload

    @staticmethod
    def _upload_answer(status: int, name: str, upload_id: str, size: int) -> Answer:
        return _answer(status, [("Location", "/v2/%s/blobs/uploads/%s" % (name, upload_id)),
                                ("Range", "0-%d" % max(size - 1, 0)), ("Docker-Upload-UUID", upload_id)])

    def _upload(self, request: Request, name: str, upload: str) -> Answer:
        repository = self._repository(request, name)
        state = self._find_upload(request, name, upload)
        if request.method == "GET":
            return self._upload_answer(204, name, upload, len(state.data))
        if request.method == "DELETE":
            with self._own:
                self._uploads.pop(upload, None)
            return _answer(204, [])
        content_range = request.headers.get("content-range")
        if content_range:
            match = re.match(r"^(?:bytes )?(\d+)-(\d+)$", content_range.strip())
            if not match or int(match.group(1)) != len(state.data) or \
                    int(match.group(2)) - int(match.group(1)) + 1 != len(request.body):
                raise RegistryError(416, "BLOB_UPLOAD_INVALID", "blob upload invalid",
                                    {"Content-Range": content_range, "received": len(state.data)})
        state.data += request.body
        if request.method == "PATCH":
            return self._upload_answer(202, name, upload, len(state.data))
        digest = self._digest_of(request.arg("digest"))
        with self._own:
            self._uploads.pop(upload, None)
        return self._store(request, repository, name, digest, bytes(state.data))

    def _store(self, request: Request, repository: Any, name: str, digest: str, data: bytes) -> Answer:
        actual = "sha256:" + hashlib.sha256(data).hexdigest()
        if actual != digest:
            raise RegistryError(400, "DIGEST_INVALID", "provided digest did not match uploaded content",
                                {"digest": digest, "actual": actual})
        with self._own:
            self._blobs.setdefault(digest, data)
        repository.layers[digest] = len(data)
        return _answer(201, [("Location", "/v2/%s/blobs/%s" % (name, digest)), ("Docker-Content-Digest", digest)])

    def _manifest(self, request: Request, name: str, reference: str) -> Answer:
        repository = self._repository(request, name)
        if request.method == "PUT":
            return self._put_manifest(request, repository, name, reference)
        image = self._image(repository, reference)
        if image is None:
            raise RegistryError(404, "MANIFEST_UNKNOWN", "Requested image not found",
                                {"repository": name, "reference": reference})
        data = image.image_manifest.encode("utf-8")
        media_type = image.image_manifest_media_type or json.loads(data).get("mediaType") or MANIFEST_TYPES[0]
        headers = [("Content-Type", media_type), ("Docker-Content-Digest", image.get_image_digest())]
        return _answer(200, headers, data, head=request.method == "HEAD")

    def _put_manifest(self, request: Request, repository: Any, name: str, reference: str) -> Answer:
        data = request.body
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        by_digest = reference.startswith("sha256:")
        if by_digest and reference != digest:
            raise RegistryError(400, "DIGEST_INVALID", "provided digest did not match uploaded content",
                                {"reference": reference, "actual": digest})
        if not by_digest and not TAG.match(reference):
            raise RegistryError(400, "TAG_INVALID", "manifest tag did not match URI", {"tag": reference})
        try:
            text = data.decode("utf-8")
            doc = json.loads(text)
        except (UnicodeDecodeError, ValueError) as exc:
            raise RegistryError(400, "MANIFEST_INVALID", "manifest invalid", str(exc)) from exc
        content_type = (request.headers.get("content-type") or "").split(";", 1)[0].strip()
        declared = doc.get("mediaType") if isinstance(doc, dict) else None
        if not isinstance(doc, dict) or (declared and content_type and declared != content_type
                                         and content_type != "application/json"):
            raise RegistryError(400, "MANIFEST_INVALID", "manifest invalid",
                                "mediaType %r does not match Content-Type %r" % (declared, content_type))
        media_type = declared or content_type
        if media_type not in MANIFEST_TYPES:
            raise RegistryError(400, "MANIFEST_INVALID", "manifest invalid",
                                "unsupported manifest media type %r" % (media_type,))
        self._check_references(repository, doc, media_type)
        tag = None if by_digest else reference
        current = self._image(repository, reference)
        if tag is not None and current is not None and current.get_image_digest() != digest and \
                repository.is_tag_immutable():
            raise RegistryError(400, "TAG_INVALID", "The image tag '%s' already exists in the '%s' repository and "
                                "cannot be overwritten because the repository is immutable." % (tag, name))
        if current is None or current.get_image_digest() != digest:
            existing = self._image(repository, digest)
            if existing is None or tag is not None:
                from moto.ecr.models import ecr_backends

                backend = ecr_backends[request.registry_id][request.region]
                backend.put_image(name, text, tag, media_type, digest)
        return _answer(201, [("Location", "/v2/%s/manifests/%s" % (name, digest)), ("Docker-Content-Digest", digest)])

    def _check_references(self, repository: Any, doc: Dict[str, Any], media_type: str) -> None:
        if media_type in INDEX_TYPES:
            for child in doc.get("manifests") or []:
                if self._image(repository, child.get("digest", "")) is None:
                    raise RegistryError(400, "MANIFEST_BLOB_UNKNOWN", "blob unknown to registry",
                                        {"digest": child.get("digest")})
            return
        descriptors = ([doc["config"]] if isinstance(doc.get("config"), dict) else []) + list(doc.get("layers") or [])
        for descriptor in descriptors:
            if descriptor.get("urls"):
                continue  # foreign layers: not held by registries
            if descriptor.get("digest") not in repository.layers:
                raise RegistryError(400, "MANIFEST_BLOB_UNKNOWN", "blob unknown to registry",
                                    {"digest": descriptor.get("digest")})

    def _tags(self, request: Request, name: str) -> Answer:
        repository = self._repository(request, name)
        tags = sorted({t for image in repository.images for t in image.image_tags})
        body = json.dumps({"name": name, "tags": tags}).encode()
        return _answer(200, [("Content-Type", "application/json; charset=utf-8")], body)


def install(app: Any, server: Any, lock: Any, faults: Any = None) -> Registry:
    """Serve the registry on ``app``; returns it."""
    registry = Registry(lock, faults)
    registry.install(app, server)
    return registry
