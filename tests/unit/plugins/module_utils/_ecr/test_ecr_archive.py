"""Image archives read in place: docker save tarballs and OCI layouts, single and multi-arch."""

import gzip
import io
import json
import os
import tarfile

import pytest

from ansible_collections.shipyard.ecs.plugins.module_utils._ecr.archive import (
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_LAYER,
    OCI_MANIFEST,
    ArchiveError,
    ImageArchive,
    sha256_digest,
)
from integration.archives import OciLayout, docker_save, oci_multiarch, oci_single

LAYERS = [{"etc/os-release": b"ID=shipyard\n"}, {"app/users.py": b"print('users')\n"}, {"app/data.bin": 4096}]


def test_docker_save_tarball_lists_config_and_every_layer(tmp_path):
    path = docker_save(str(tmp_path / "users.tar"), LAYERS, repo_tags=["users:1"])
    with ImageArchive(path) as archive:
        doc = json.loads(archive.manifest.data)
        assert archive.format == "docker"
        assert len(doc["layers"]) == 3
        assert [b.digest for b in archive.manifest.blobs] == [doc["config"]["digest"]] + [l["digest"] for l in doc["layers"]]


def test_docker_save_layer_digests_are_the_sha256_of_the_layer_bytes(tmp_path):
    path = docker_save(str(tmp_path / "users.tar"), LAYERS)
    with ImageArchive(path) as archive:
        for blob in archive.manifest.blobs:
            with blob.location.open() as f:
                assert sha256_digest(f.read(blob.size)) == blob.digest


def test_uncompressed_docker_save_layers_are_pushed_as_an_oci_manifest(tmp_path):
    path = docker_save(str(tmp_path / "users.tar"), LAYERS)
    with ImageArchive(path) as archive:
        assert archive.manifest.media_type == OCI_MANIFEST
        assert {b.media_type for b in archive.manifest.blobs[1:]} == {OCI_LAYER}


def test_gzipped_docker_save_layers_are_pushed_as_a_docker_manifest(tmp_path):
    path = str(tmp_path / "users.tar")
    docker_save(path, LAYERS)
    gz_path = str(tmp_path / "gz.tar")
    with tarfile.open(path) as src, tarfile.open(gz_path, "w") as dst:
        for member in src:
            data = src.extractfile(member).read()
            if member.name.endswith("layer.tar"):
                data = gzip.compress(data, mtime=0)
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    with ImageArchive(gz_path) as archive:
        assert archive.manifest.media_type == DOCKER_MANIFEST


def test_docker_save_manifest_is_the_same_bytes_every_time(tmp_path):
    path = docker_save(str(tmp_path / "users.tar"), LAYERS)
    with ImageArchive(path) as first, ImageArchive(path) as second:
        assert first.manifest.digest == second.manifest.digest


def test_archive_with_two_images_needs_archive_ref(tmp_path):
    path = str(tmp_path / "two.tar")
    docker_save(path, LAYERS, repo_tags=["users:1"])
    with tarfile.open(path) as tar:
        entry = json.loads(tar.extractfile("manifest.json").read())[0]
    os.makedirs(tmp_path / "x")
    with tarfile.open(path) as tar:
        tar.extractall(tmp_path / "x", filter="data")
    manifest = [entry, dict(entry, RepoTags=["client:1"])]
    (tmp_path / "x" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ArchiveError) as err:
        ImageArchive(str(tmp_path / "x"))
    assert "archive_ref" in str(err.value)
    with ImageArchive(str(tmp_path / "x"), ref="client:1") as archive:
        assert archive.manifest.layer_count() == 3


def test_unknown_archive_ref_lists_what_the_archive_holds(tmp_path):
    path = docker_save(str(tmp_path / "users.tar"), LAYERS, repo_tags=["users:1"])
    with pytest.raises(ArchiveError) as err:
        ImageArchive(path, ref="users:2")
    assert "users:1" in str(err.value)


def test_oci_layout_directory_keeps_the_exact_manifest_bytes(tmp_path):
    root = oci_single(str(tmp_path / "oci"), LAYERS)
    index = json.loads((tmp_path / "oci" / "index.json").read_text())
    with ImageArchive(root) as archive:
        assert archive.format == "oci"
        assert archive.manifest.digest == index["manifests"][0]["digest"]
        assert archive.manifest.layer_count() == 3


def test_oci_layout_in_a_tar_reads_the_same_as_the_directory(tmp_path):
    directory = oci_single(str(tmp_path / "a"), LAYERS)
    layout = OciLayout(str(tmp_path / "b"))
    layout.tag(layout.add_image(LAYERS), "1")
    tar_path = layout.finish(str(tmp_path / "b.tar"))
    with ImageArchive(directory) as d, ImageArchive(tar_path) as t:
        assert d.manifest.digest == t.manifest.digest
        assert [b.digest for b in d.manifest.blobs] == [b.digest for b in t.manifest.blobs]


def test_gzipped_oci_tar_is_extracted_and_cleaned_up(tmp_path):
    directory = oci_single(str(tmp_path / "a"), LAYERS)
    tgz = str(tmp_path / "a.tar.gz")
    with tarfile.open(tgz, "w:gz") as tar:
        for name in os.listdir(directory):
            tar.add(os.path.join(directory, name), arcname=name)
    archive = ImageArchive(tgz)
    extracted = archive.manifest.blobs[0].location.path
    assert os.path.exists(extracted)
    archive.close()
    assert not os.path.exists(extracted)


def test_multiarch_index_lists_each_platform_and_shares_common_layers(tmp_path):
    root = oci_multiarch(str(tmp_path / "oci"), architectures=("amd64", "arm64"))
    with ImageArchive(root) as archive:
        assert archive.manifest.media_type == OCI_INDEX
        assert archive.manifest.platforms() == ["linux/amd64", "linux/arm64"]
        # two platforms x two layers, one of them identical on both
        assert archive.manifest.layer_count() == 3


def test_index_whose_platform_manifest_is_missing_is_a_clear_error(tmp_path):
    root = oci_multiarch(str(tmp_path / "oci"))
    index = json.loads((tmp_path / "oci" / "index.json").read_text())
    top = json.loads((tmp_path / "oci" / "blobs" / "sha256" / index["manifests"][0]["digest"][7:]).read_bytes())
    os.remove(tmp_path / "oci" / "blobs" / "sha256" / top["manifests"][1]["digest"][7:])
    with pytest.raises(ArchiveError) as err:
        ImageArchive(root)
    assert "not in the archive" in str(err.value)


def test_tampered_manifest_blob_is_refused(tmp_path):
    root = oci_single(str(tmp_path / "oci"), LAYERS)
    index = json.loads((tmp_path / "oci" / "index.json").read_text())
    blob = tmp_path / "oci" / "blobs" / "sha256" / index["manifests"][0]["digest"][7:]
    blob.write_bytes(blob.read_bytes().replace(b'"schemaVersion": 2', b'"schemaVersion":  2'))
    with pytest.raises(ArchiveError) as err:
        ImageArchive(root)
    assert "does not match its digest" in str(err.value)


def test_path_that_is_not_an_archive_is_a_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ArchiveError) as err:
        ImageArchive(str(tmp_path / "empty"))
    assert "neither an OCI image layout" in str(err.value)


def test_missing_archive_is_a_clear_error(tmp_path):
    with pytest.raises(ArchiveError) as err:
        ImageArchive(str(tmp_path / "nope.tar"))
    assert "does not exist" in str(err.value)


def test_archive_ref_matches_the_short_name_docker_save_records_in_full(tmp_path):
    layout = OciLayout(str(tmp_path / "oci"))
    users = layout.add_image(LAYERS, seed=1)
    client = layout.add_image(LAYERS[:1], seed=2)
    for desc, name in ((users, "users:1"), (client, "client:1")):
        entry = {k: v for k, v in desc.items() if k != "platform"}
        entry["annotations"] = {"io.containerd.image.name": "docker.io/library/" + name,
                                "org.opencontainers.image.ref.name": name.split(":")[1]}
        layout.entries.append(entry)
    root = layout.finish()
    with ImageArchive(root, ref="client:1") as archive:
        assert archive.manifest.digest == client["digest"]


def test_compress_layers_gzips_uncompressed_layers_into_a_docker_manifest(tmp_path):
    path = docker_save(str(tmp_path / "users.tar"), LAYERS)
    with ImageArchive(path) as plain, ImageArchive(path, compress_layers=True) as packed:
        assert packed.manifest.media_type == DOCKER_MANIFEST
        for raw, gz in zip(plain.manifest.blobs[1:], packed.manifest.blobs[1:]):
            with raw.location.open() as f_raw, gz.location.open() as f_gz:
                assert gzip.decompress(f_gz.read(gz.size)) == f_raw.read(raw.size)


def test_compressed_layers_have_the_same_digests_every_run(tmp_path):
    path = docker_save(str(tmp_path / "users.tar"), LAYERS)
    with ImageArchive(path, compress_layers=True) as first, ImageArchive(path, compress_layers=True) as second:
        assert first.manifest.digest == second.manifest.digest


def test_compress_layers_leaves_an_oci_layout_untouched(tmp_path):
    root = oci_single(str(tmp_path / "oci"), LAYERS)
    with ImageArchive(root) as plain, ImageArchive(root, compress_layers=True) as asked:
        assert plain.manifest.digest == asked.manifest.digest
