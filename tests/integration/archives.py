"""Build image archives in Python for tests and benchmarks: docker save tarballs and OCI layouts.

Layers are real tar files (deterministic: fixed mtimes and owners), so the same inputs give the
same digests every time.  Sizes given as an int mean "that many random (incompressible) bytes",
generated from a seed so that two calls with the same seed build the same layer.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import random
import shutil
import tarfile
from typing import Dict, List, Optional, Sequence, Tuple, Union

Content = Union[bytes, int]
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
RANDOM_BLOCK = 1 << 20


class _RandomReader:
    """``size`` pseudo-random bytes, reproducible from ``seed``."""

    def __init__(self, size: int, seed: int) -> None:
        self.left = size
        self.rng = random.Random(seed)

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        n = min(n, RANDOM_BLOCK) if n else 0
        self.left -= n
        return self.rng.randbytes(n)


def _digest_file(path: str) -> Tuple[str, int]:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(RANDOM_BLOCK), b""):
            h.update(block)
    return "sha256:" + h.hexdigest(), os.path.getsize(path)


def write_layer(path: str, files: Dict[str, Content], seed: int = 0) -> Tuple[str, int]:
    """A layer tar at ``path`` holding ``files`` (bytes, or an int for that many random bytes)."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for i, (name, content) in enumerate(sorted(files.items())):
            info = tarfile.TarInfo(name)
            info.mtime = 0
            info.mode = 0o644
            if isinstance(content, int):
                info.size = content
                tar.addfile(info, _RandomReader(content, seed * 1000 + i))
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return _digest_file(path)


def image_config(diff_ids: Sequence[str], architecture: str = "amd64", os_name: str = "linux", cmd: Optional[List[str]] = None) -> bytes:
    """An image config naming the layers' diff ids (digests of the uncompressed tars)."""
    doc = {
        "architecture": architecture,
        "os": os_name,
        "config": {"Cmd": cmd or ["/bin/app"], "ExposedPorts": {"5000/tcp": {}}},
        "rootfs": {"type": "layers", "diff_ids": list(diff_ids)},
    }
    return json.dumps(doc, sort_keys=True).encode("utf-8")


def _add_file(tar: tarfile.TarFile, name: str, path: Optional[str] = None, data: Optional[bytes] = None) -> None:
    info = tarfile.TarInfo(name)
    info.mtime = 0
    info.mode = 0o644
    if path is not None:
        info.size = os.path.getsize(path)
        with open(path, "rb") as f:
            tar.addfile(info, f)
    else:
        info.size = len(data or b"")
        tar.addfile(info, io.BytesIO(data or b""))


def docker_save(out: str, layers: Sequence[Dict[str, Content]], repo_tags: Sequence[str] = ("app:1",),
                workdir: Optional[str] = None, seed: int = 0) -> str:
    """A legacy ``docker save`` tarball (manifest.json, <id>/layer.tar, <config>.json)."""
    workdir = workdir or os.path.dirname(os.path.abspath(out))
    paths, diff_ids = [], []
    for i, files in enumerate(layers):
        path = os.path.join(workdir, "layer-%d-%d.tar" % (seed, i))
        digest, _size = write_layer(path, files, seed=seed * 100 + i)
        paths.append(path)
        diff_ids.append(digest)
    config = image_config(diff_ids)
    config_hex = hashlib.sha256(config).hexdigest()
    layer_names = ["%s/layer.tar" % d.split(":")[1] for d in diff_ids]
    manifest = [{"Config": config_hex + ".json", "RepoTags": list(repo_tags), "Layers": layer_names}]
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, path in zip(layer_names, paths):
            _add_file(tar, name, path=path)
            _add_file(tar, name.replace("layer.tar", "VERSION"), data=b"1.0")
        _add_file(tar, config_hex + ".json", data=config)
        _add_file(tar, "manifest.json", data=json.dumps(manifest).encode("utf-8"))
    for path in paths:
        os.remove(path)
    return out


class OciLayout:
    """An OCI image layout under construction in a directory."""

    def __init__(self, root: str) -> None:
        self.root = root
        os.makedirs(os.path.join(root, "blobs", "sha256"), exist_ok=True)
        with open(os.path.join(root, "oci-layout"), "w", encoding="utf-8") as f:
            f.write('{"imageLayoutVersion":"1.0.0"}')
        self.entries: List[Dict[str, object]] = []

    def add_blob(self, data: bytes) -> Dict[str, object]:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        with open(os.path.join(self.root, "blobs", "sha256", digest.split(":")[1]), "wb") as f:
            f.write(data)
        return {"digest": digest, "size": len(data)}

    def add_image(self, layers: Sequence[Dict[str, Content]], architecture: str = "amd64", seed: int = 0) -> Dict[str, object]:
        """Gzipped layers, config and manifest as blobs; returns the manifest's descriptor."""
        descs, diff_ids = [], []
        for i, files in enumerate(layers):
            tmp = os.path.join(self.root, "tmp-layer.tar")
            diff_id, _size = write_layer(tmp, files, seed=seed * 100 + i)
            with open(tmp, "rb") as f:
                raw = f.read()
            os.remove(tmp)
            gz = gzip.compress(raw, compresslevel=1, mtime=0)
            descs.append(dict(self.add_blob(gz), mediaType=OCI_LAYER_GZIP))
            diff_ids.append(diff_id)
        config = dict(self.add_blob(image_config(diff_ids, architecture=architecture)), mediaType=OCI_CONFIG)
        manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config, "layers": descs}
        desc = dict(self.add_blob(json.dumps(manifest).encode("utf-8")), mediaType=OCI_MANIFEST)
        desc["platform"] = {"os": "linux", "architecture": architecture}
        return desc

    def add_index(self, manifests: Sequence[Dict[str, object]]) -> Dict[str, object]:
        doc = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": list(manifests)}
        return dict(self.add_blob(json.dumps(doc).encode("utf-8")), mediaType=OCI_INDEX)

    def tag(self, desc: Dict[str, object], ref: str) -> None:
        entry = {k: v for k, v in desc.items() if k != "platform"}
        entry["annotations"] = {"org.opencontainers.image.ref.name": ref}
        self.entries.append(entry)

    def finish(self, tar_path: Optional[str] = None) -> str:
        """Write index.json; with ``tar_path``, also pack the layout into a tar there."""
        with open(os.path.join(self.root, "index.json"), "w", encoding="utf-8") as f:
            json.dump({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": self.entries}, f)
        if tar_path is None:
            return self.root
        with tarfile.open(tar_path, "w") as tar:
            for name in sorted(os.listdir(self.root)):
                tar.add(os.path.join(self.root, name), arcname=name)
        shutil.rmtree(self.root)
        return tar_path


def oci_single(root: str, layers: Sequence[Dict[str, Content]], ref: str = "1", seed: int = 0) -> str:
    """An OCI layout directory with one single-platform image."""
    layout = OciLayout(root)
    layout.tag(layout.add_image(layers, seed=seed), ref)
    return layout.finish()


def oci_multiarch(root: str, architectures: Sequence[str] = ("amd64", "arm64"), ref: str = "1",
                  tar_path: Optional[str] = None, seed: int = 0) -> str:
    """An OCI layout whose one entry is an index of one image per architecture."""
    layout = OciLayout(root)
    shared = {"etc/os-release": b"ID=shipyard\n"}
    manifests = [layout.add_image([shared, {"bin/app": ("app for %s\n" % arch).encode()}], architecture=arch, seed=seed)
                 for arch in architectures]
    layout.tag(layout.add_index(manifests), ref)
    return layout.finish(tar_path)
