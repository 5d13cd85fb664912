"""ECR's registry in the emulator: the Docker Registry HTTP API v2 behind GetAuthorizationToken.

A push through it lands in moto's ECR (DescribeImages agrees), an image ECR already has can
be pulled, and what ECR refuses is refused with the registry's own error codes.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import shutil
import subprocess
import urllib.error
import urllib.parse
import urllib.request

import build_demo_images  # tools/, on sys.path through tests/integration/conftest.py
import pytest

from ansible_collections.shipyard.ecs.plugins.module_utils._ecr.archive import ImageArchive
from ansible_collections.shipyard.ecs.plugins.module_utils._ecr.push import ImagePusher
from ansible_collections.shipyard.ecs.plugins.module_utils._ecr.registry import RegistryClient, RegistryError

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def ecr(clients):
    clients.ecr.create_repository(repositoryName="shop/users")
    return clients.ecr


@pytest.fixture
def login(ecr):
    """(proxyEndpoint, user, password) as GetAuthorizationToken gives them."""
    auth = ecr.get_authorization_token()["authorizationData"][0]
    user, _sep, password = base64.b64decode(auth["authorizationToken"]).decode().partition(":")
    return auth["proxyEndpoint"], user, password


@pytest.fixture
def registry(login):
    endpoint, user, password = login
    return RegistryClient(endpoint, user, password)


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("images"))
    path = build_demo_images.build(out)["users"]
    with ImageArchive(path) as image:
        yield image


def _call(login, method, path, body=None, headers=None, auth=True):
    """One registry request with urllib: (status, headers, body), errors included."""
    endpoint, user, password = login
    request = urllib.request.Request(urllib.parse.urljoin(endpoint, path), data=body, method=method,
                                     headers=dict(headers or {}))
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def _code(body):
    return json.loads(body)["errors"][0]["code"]


def _upload(login, repository, data, digest=None):
    status, headers, _body = _call(login, "POST", "/v2/%s/blobs/uploads/" % repository, b"")
    assert status == 202
    location = headers["Location"]
    status, headers, _body = _call(login, "PATCH", location, data, {"Content-Type": "application/octet-stream"})
    assert status == 202
    query = urllib.parse.urlencode({"digest": digest or _sha(data)})
    return _call(login, "PUT", headers["Location"] + "?" + query, b"")


def test_authorization_token_names_the_emulator_as_registry_and_repository_uris_stay_aws_shaped(ecr, login, aws):
    endpoint, user, _password = login

    assert (endpoint, user) == (aws.endpoint.rstrip("/"), "AWS")
    uri = ecr.describe_repositories(repositoryNames=["shop/users"])["repositories"][0]["repositoryUri"]
    assert uri == "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/users"


def test_pushed_image_is_in_ecr_with_the_digest_of_its_manifest_bytes(ecr, registry, archive):
    manifest = archive.manifest
    pusher = ImagePusher(registry, "shop/users")

    pusher.push(manifest, ["1.0"], pusher.survey(manifest))

    image = ecr.describe_images(repositoryName="shop/users")["imageDetails"]
    assert [(i["imageDigest"], i["imageTags"], i["imageManifestMediaType"]) for i in image] == \
        [(_sha(manifest.data), ["1.0"], OCI_MANIFEST)]
    got = ecr.batch_get_image(repositoryName="shop/users", imageIds=[{"imageTag": "1.0"}])["images"][0]
    assert got["imageManifest"].encode() == manifest.data
    assert ecr.list_images(repositoryName="shop/users")["imageIds"] == [{"imageDigest": manifest.digest, "imageTag": "1.0"}]
    layers = ecr.batch_check_layer_availability(repositoryName="shop/users",
                                                layerDigests=[b.digest for b in manifest.all_blobs()])["layers"]
    assert {layer["layerAvailability"] for layer in layers} == {"AVAILABLE"}
    assert registry.manifest_digest("shop/users", "1.0") == manifest.digest
    assert pusher.survey(manifest).missing == []


def test_image_put_through_the_api_can_be_pulled(ecr, login):
    status, _headers, _body = _upload(login, "shop/users", b"{}")
    assert status == 201
    layer = gzip.compress(b"layer", mtime=0)
    assert _upload(login, "shop/users", layer)[0] == 201
    manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2, "digest": _sha(b"{}")},
                           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "size": len(layer),
                                       "digest": _sha(layer)}]})
    ecr.put_image(repositoryName="shop/users", imageManifest=manifest, imageTag="api")

    status, headers, body = _call(login, "GET", "/v2/shop/users/manifests/api", headers={"Accept": OCI_MANIFEST})

    assert (status, body, headers["Docker-Content-Digest"], headers["Content-Type"]) == \
        (200, manifest.encode(), _sha(manifest.encode()), OCI_MANIFEST)
    assert _call(login, "GET", "/v2/shop/users/blobs/%s" % _sha(layer))[2] == layer
    assert _call(login, "HEAD", "/v2/shop/users/manifests/%s" % _sha(manifest.encode()))[0] == 200


def test_requests_without_a_token_the_emulator_issued_are_refused_with_a_basic_challenge(login):
    endpoint, _user, _password = login

    anonymous = _call(login, "GET", "/v2/shop/users/tags/list", auth=False)
    forged = _call((endpoint, "AWS", "not-a-token"), "GET", "/v2/shop/users/tags/list")

    for status, headers, _body in (anonymous, forged):
        assert status == 401
        assert headers["WWW-Authenticate"].startswith('Basic realm="')
    with pytest.raises(RegistryError, match="HTTP 401"):
        RegistryClient(endpoint, "AWS", "not-a-token").manifest_digest("shop/users", "1.0")


def test_missing_blob_and_missing_manifest_are_unknown(login):
    absent = _sha(b"never pushed")

    assert _call(login, "HEAD", "/v2/shop/users/blobs/%s" % absent)[0] == 404
    status, _headers, body = _call(login, "GET", "/v2/shop/users/blobs/%s" % absent)
    assert (status, _code(body)) == (404, "BLOB_UNKNOWN")
    status, _headers, body = _call(login, "GET", "/v2/shop/users/manifests/nope")
    assert (status, _code(body)) == (404, "MANIFEST_UNKNOWN")
    status, _headers, body = _call(login, "GET", "/v2/shop/absent/tags/list")
    assert (status, _code(body)) == (404, "NAME_UNKNOWN")


def test_upload_whose_bytes_do_not_match_its_digest_is_refused_and_not_stored(ecr, login):
    status, _headers, body = _upload(login, "shop/users", b"these bytes", digest=_sha(b"other bytes"))

    assert (status, _code(body)) == (400, "DIGEST_INVALID")
    assert _call(login, "HEAD", "/v2/shop/users/blobs/%s" % _sha(b"other bytes"))[0] == 404
    assert _call(login, "HEAD", "/v2/shop/users/blobs/%s" % _sha(b"these bytes"))[0] == 404


def test_manifest_referencing_a_blob_the_repository_lacks_is_refused(ecr, login):
    manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2,
                                      "digest": _sha(b"{}")}, "layers": []}).encode()

    status, _headers, body = _call(login, "PUT", "/v2/shop/users/manifests/1", manifest, {"Content-Type": OCI_MANIFEST})

    assert (status, _code(body)) == (400, "MANIFEST_BLOB_UNKNOWN")
    assert ecr.describe_images(repositoryName="shop/users")["imageDetails"] == []


def test_immutable_tag_cannot_move_but_the_same_push_again_is_accepted(clients, login, archive):
    clients.ecr.create_repository(repositoryName="shop/frozen", imageTagMutability="IMMUTABLE")
    endpoint, user, password = login
    registry = RegistryClient(endpoint, user, password)
    pusher = ImagePusher(registry, "shop/frozen")
    manifest = archive.manifest
    pusher.push(manifest, ["1"], pusher.survey(manifest))
    other = json.loads(manifest.data)
    other["annotations"] = {"rebuilt": "yes"}
    other_data = json.dumps(other).encode()

    again = _call(login, "PUT", "/v2/shop/frozen/manifests/1", manifest.data, {"Content-Type": OCI_MANIFEST})
    moved = _call(login, "PUT", "/v2/shop/frozen/manifests/1", other_data, {"Content-Type": OCI_MANIFEST})

    assert (again[0], again[1]["Docker-Content-Digest"]) == (201, manifest.digest)
    assert moved[0] == 400 and _code(moved[2]) == "TAG_INVALID"
    assert "cannot be overwritten because the repository is immutable" in json.loads(moved[2])["errors"][0]["message"]
    assert registry.manifest_digest("shop/frozen", "1") == manifest.digest


def test_registry_calls_are_logged_as_the_ecr_actions_that_authorize_them(aws, registry, archive):
    aws.clear_calls()
    pusher = ImagePusher(registry, "shop/users")
    manifest = archive.manifest

    pusher.push(manifest, ["1.0"], pusher.survey(manifest))
    pusher.current_tags(["1.0"])

    calls = {(c["service"], c["operation"], c["write"]) for c in aws.calls()}
    assert calls == {("ecr", "BatchCheckLayerAvailability", False), ("ecr", "InitiateLayerUpload", True),
                     ("ecr", "UploadLayerPart", True), ("ecr", "CompleteLayerUpload", True),
                     ("ecr", "PutImage", True), ("ecr", "BatchGetImage", False)}


@pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo is installed by make setup")
def test_skopeo_copies_an_oci_archive_into_the_registry(ecr, login, archive):
    endpoint, user, password = login
    host = urllib.parse.urlsplit(endpoint).netloc

    subprocess.run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", "--dest-creds", "%s:%s" % (user, password),
                    "oci-archive:%s" % archive.path, "docker://%s/shop/users:skopeo" % host],
                   check=True, capture_output=True, timeout=60)

    image = ecr.describe_images(repositoryName="shop/users", imageIds=[{"imageTag": "skopeo"}])["imageDetails"][0]
    assert image["imageDigest"] == archive.manifest.digest
