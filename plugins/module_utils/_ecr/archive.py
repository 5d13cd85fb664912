# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""Image archives read in place: ``docker save`` tarballs and OCI image layouts (directory or tar).

Nothing is extracted from an uncompressed tar: a blob is located by its member's data offset,
so pushing a 1 GB image reads each layer once, straight from the archive.  A compressed tar is
extracted to a temporary directory first (gzip streams cannot be seeked).

An OCI layout keeps the exact manifest bytes, so the digest pushed is the digest built; a
legacy ``docker save`` tarball has no manifest, so one is written here, deterministically
(same archive, same digest, every run).
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import shutil
import tarfile
import tempfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Dict, List, Optional, Tuple

from .api import EcrError

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
REF_ANNOTATIONS = ("org.opencontainers.image.ref.name", "io.containerd.image.name")
HASH_BLOCK = 1 << 20
# Fixed forever: the compressed bytes, and so the pushed digests, must not change between runs.
GZIP_LEVEL = 1
GZIP_WBITS = 31


class ArchiveError(EcrError):
    """An image archive that cannot be read or does not hold what was asked for."""


def sha256_digest(data: bytes) -> str:
    """``sha256:<hex>`` of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Location:
    """Where a blob's bytes are: ``size`` bytes at ``offset`` of the file ``path``."""

    path: str
    offset: int
    size: int

    def open(self) -> BinaryIO:
        """The file, positioned at the blob's first byte (the caller reads ``size`` bytes)."""
        f = open(self.path, "rb")  # pylint: disable=consider-using-with
        f.seek(self.offset)
        return f

    def sha256(self) -> str:
        """Digest of the blob's bytes."""
        h = hashlib.sha256()
        with self.open() as f:
            left = self.size
            while left:
                block = f.read(min(HASH_BLOCK, left))
                if not block:
                    raise ArchiveError("%s: truncated at offset %d" % (self.path, self.offset + self.size - left))
                h.update(block)
                left -= len(block)
        return "sha256:" + h.hexdigest()


@dataclass
class Blob:
    """A config or layer blob of an image."""

    digest: str
    size: int
    media_type: str
    location: Location


@dataclass
class Manifest:
    """An image manifest or an index, with the exact bytes to push."""

    data: bytes
    media_type: str
    blobs: List[Blob] = field(default_factory=list)
    children: List["Manifest"] = field(default_factory=list)
    platform: Optional[Dict[str, Any]] = None

    @property
    def digest(self) -> str:
        return sha256_digest(self.data)

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES

    def all_blobs(self) -> List[Blob]:
        """Every blob of the image (of every platform for an index), each once, config first."""
        seen: Dict[str, Blob] = {}
        for child in self.children:
            for blob in child.all_blobs():
                seen.setdefault(blob.digest, blob)
        for blob in self.blobs:
            seen.setdefault(blob.digest, blob)
        return list(seen.values())

    def layer_count(self) -> int:
        """Layers (not configs) across platforms, each once."""
        return len([b for b in self.all_blobs() if "config" not in b.media_type])

    def platforms(self) -> List[str]:
        """``os/arch[/variant]`` of each platform of an index."""
        out = []
        for child in self.children:
            p = child.platform or {}
            out.append("/".join(x for x in (p.get("os"), p.get("architecture"), p.get("variant")) if x) or "unknown")
        return out


class _Tree:
    """Files of a directory or of an uncompressed tar, by relative path."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.members: Optional[Dict[str, Tuple[int, int]]] = None
        if os.path.isfile(path):
            self.members = {}
            links: Dict[str, str] = {}
            with tarfile.open(path, "r:") as tar:
                for m in tar:
                    name = _clean(m.name)
                    if m.isfile():
                        self.members[name] = (m.offset_data, m.size)
                    elif m.issym():
                        links[name] = posixpath.normpath(posixpath.join(posixpath.dirname(name), m.linkname))
                    elif m.islnk():
                        links[name] = _clean(m.linkname)
            for name, target in links.items():
                if target in self.members:
                    self.members[name] = self.members[target]

    def exists(self, name: str) -> bool:
        if self.members is None:
            return os.path.isfile(os.path.join(self.path, name))
        return posixpath.normpath(name) in self.members

    def locate(self, name: str) -> Location:
        if self.members is None:
            full = os.path.join(self.path, name)
            if not os.path.isfile(full):
                raise ArchiveError("%s: %s is missing" % (self.path, name))
            return Location(os.path.realpath(full), 0, os.path.getsize(full))
        key = posixpath.normpath(name)
        if key not in self.members:
            raise ArchiveError("%s: %s is missing" % (self.path, name))
        offset, size = self.members[key]
        return Location(self.path, offset, size)

    def read(self, name: str) -> bytes:
        loc = self.locate(name)
        with loc.open() as f:
            return f.read(loc.size)


def _clean(name: str) -> str:
    while name.startswith("./"):
        name = name[2:]
    return posixpath.normpath(name.lstrip("/") or ".")


def _ref_matches(ref: str, annotations: Dict[str, str]) -> bool:
    """Whether ``ref`` names the entry, spelled as the user would (``users:1``) or fully."""
    names = [annotations.get(a) for a in REF_ANNOTATIONS if annotations.get(a)]
    if ref in names:
        return True
    # docker save records "docker.io/library/users:1" for what the user calls "users:1".
    first = ref.split("/", 1)[0]
    qualified = "/" in ref and ("." in first or ":" in first or first == "localhost")
    if not qualified:
        full = ("docker.io/library/" if "/" not in ref else "docker.io/") + ref
        return full in names
    return False


def _is_gzip(path: str) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def _gzip_to(loc: Location, target: str) -> Location:
    """Gzip a layer into ``target``, deterministically (no name, no timestamp, fixed level)."""
    comp = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, GZIP_WBITS)
    with loc.open() as src, open(target, "wb") as dst:
        left = loc.size
        while left:
            block = src.read(min(HASH_BLOCK, left))
            if not block:
                raise ArchiveError("%s: truncated at offset %d" % (loc.path, loc.offset + loc.size - left))
            left -= len(block)
            dst.write(comp.compress(block))
        dst.write(comp.flush())
    return Location(target, 0, os.path.getsize(target))


def _sniff_layer(loc: Location) -> str:
    with loc.open() as f:
        head = f.read(4)
    if head[:2] == b"\x1f\x8b":
        return OCI_LAYER + "+gzip"
    if head == b"\x28\xb5\x2f\xfd":
        return OCI_LAYER + "+zstd"
    return OCI_LAYER


class ImageArchive:
    """An archive opened for pushing; ``close()`` removes any temporary extraction."""

    def __init__(self, path: str, ref: Optional[str] = None, hash_workers: int = 4, compress_layers: bool = False) -> None:
        self.path = path
        self.ref = ref
        self.hash_workers = hash_workers
        self.compress_layers = compress_layers
        self._tmp: Optional[str] = None
        if not os.path.exists(path):
            raise ArchiveError("archive %s does not exist" % path)
        root = path
        try:
            if os.path.isfile(path) and _is_gzip(path):
                self._tmp = tempfile.mkdtemp(prefix="shipyard-ecr-archive-")
                with tarfile.open(path, "r:gz") as tar:
                    tar.extractall(self._tmp, filter="data")
                root = self._tmp
            self.tree = _Tree(root)
        except (tarfile.TarError, OSError) as exc:
            self.close()
            raise ArchiveError("archive %s is not a tar file or directory I can read: %s" % (path, exc)) from exc
        if self.tree.exists("index.json") and self.tree.exists("oci-layout"):
            self.format = "oci"
            self.manifest = self._read_oci()
        elif self.tree.exists("manifest.json"):
            self.format = "docker"
            self.manifest = self._read_docker_save()
        else:
            self.close()
            raise ArchiveError("archive %s is neither an OCI image layout (index.json, oci-layout) nor a docker save "
                               "tarball (manifest.json)" % path)

    def close(self) -> None:
        """Remove the temporary extraction of a compressed archive."""
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> "ImageArchive":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # OCI layout ---------------------------------------------------------------------------
    def _json(self, name: str) -> Any:
        try:
            return json.loads(self.tree.read(name))
        except ValueError as exc:
            raise ArchiveError("%s: %s is not valid JSON: %s" % (self.path, name, exc)) from exc

    def _blob_path(self, digest: str) -> str:
        algo, _sep, hexpart = digest.partition(":")
        if algo != "sha256" or len(hexpart) != 64:
            raise ArchiveError("%s: unsupported digest %s (only sha256 is supported)" % (self.path, digest))
        return "blobs/sha256/" + hexpart

    def _read_oci(self) -> Manifest:
        index = self._json("index.json")
        entries = index.get("manifests") or []
        if not entries:
            raise ArchiveError("%s: index.json lists no manifest" % self.path)
        if self.ref is not None:
            chosen = [e for e in entries if _ref_matches(self.ref, e.get("annotations") or {})]
            if not chosen:
                raise ArchiveError("archive_ref=%r: not in %s; it holds %s" % (self.ref, self.path, self._oci_refs(entries)))
        elif len(entries) > 1:
            raise ArchiveError("%s holds %d images %s; choose one with archive_ref"
                               % (self.path, len(entries), self._oci_refs(entries)))
        else:
            chosen = entries
        return self._load_descriptor(chosen[0])

    @staticmethod
    def _oci_refs(entries: List[Dict[str, Any]]) -> List[str]:
        refs = []
        for e in entries:
            ann = e.get("annotations") or {}
            refs.append(next((ann[a] for a in reversed(REF_ANNOTATIONS) if ann.get(a)), e.get("digest")))
        return refs

    def _load_descriptor(self, desc: Dict[str, Any]) -> Manifest:
        digest = desc.get("digest", "")
        name = self._blob_path(digest)
        if not self.tree.exists(name):
            raise ArchiveError("%s: manifest %s (platform %s) is not in the archive; it was probably saved with only "
                               "some platforms" % (self.path, digest, desc.get("platform")))
        data = self.tree.read(name)
        if sha256_digest(data) != digest:
            raise ArchiveError("%s: manifest %s does not match its digest (got %s)" % (self.path, digest, sha256_digest(data)))
        doc = json.loads(data)
        media_type = doc.get("mediaType") or desc.get("mediaType") or (OCI_INDEX if "manifests" in doc else OCI_MANIFEST)
        if media_type in INDEX_TYPES:
            children = [self._load_descriptor(d) for d in doc.get("manifests") or []]
            return Manifest(data=data, media_type=media_type, children=children, platform=desc.get("platform"))
        if media_type not in MANIFEST_TYPES:
            raise ArchiveError("%s: unsupported manifest media type %s" % (self.path, media_type))
        blobs = []
        for d in [doc["config"]] + list(doc.get("layers") or []):
            if d.get("urls"):
                continue  # foreign layers live elsewhere by design; registries do not hold them
            loc = self.tree.locate(self._blob_path(d["digest"]))
            if loc.size != d["size"]:
                raise ArchiveError("%s: blob %s is %d bytes, its descriptor says %d" % (self.path, d["digest"], loc.size, d["size"]))
            blobs.append(Blob(digest=d["digest"], size=d["size"], media_type=d.get("mediaType", ""), location=loc))
        return Manifest(data=data, media_type=media_type, blobs=blobs, platform=desc.get("platform"))

    # docker save --------------------------------------------------------------------------
    def _read_docker_save(self) -> Manifest:
        entries = self._json("manifest.json")
        if not isinstance(entries, list) or not entries:
            raise ArchiveError("%s: manifest.json lists no image" % self.path)
        if self.ref is not None:
            chosen = [e for e in entries if self.ref in (e.get("RepoTags") or [])]
            if not chosen:
                raise ArchiveError("archive_ref=%r: not in %s; it holds %s"
                                   % (self.ref, self.path, [t for e in entries for t in e.get("RepoTags") or []]))
        elif len(entries) > 1:
            raise ArchiveError("%s holds %d images %s; choose one with archive_ref"
                               % (self.path, len(entries), [e.get("RepoTags") for e in entries]))
        else:
            chosen = entries
        entry = chosen[0]
        config = self.tree.locate(entry["Config"])
        layers = [self.tree.locate(p) for p in entry.get("Layers") or []]
        with ThreadPoolExecutor(max_workers=max(1, self.hash_workers)) as pool:
            types = list(pool.map(_sniff_layer, layers))
            if self.compress_layers and OCI_LAYER in types:
                if self._tmp is None:
                    self._tmp = tempfile.mkdtemp(prefix="shipyard-ecr-archive-")
                todo = [(i, loc) for i, (loc, t) in enumerate(zip(layers, types)) if t == OCI_LAYER]
                done = list(pool.map(lambda item: _gzip_to(item[1], os.path.join(self._tmp, "layer-%d.gz" % item[0])), todo))
                for (i, _loc), compressed in zip(todo, done):
                    layers[i] = compressed
                    types[i] = OCI_LAYER + "+gzip"
            digests = list(pool.map(lambda loc: loc.sha256(), [config] + layers))
        all_gzip = all(t.endswith("+gzip") for t in types)
        if all_gzip:
            # Docker's own manifest format when it can express the layers: widest support.
            media_type, config_type = DOCKER_MANIFEST, DOCKER_CONFIG
            types = [DOCKER_LAYER_GZIP] * len(types)
        else:
            media_type, config_type = OCI_MANIFEST, OCI_CONFIG
        config_blob = Blob(digests[0], config.size, config_type, config)
        layer_blobs = [Blob(d, loc.size, t, loc) for d, loc, t in zip(digests[1:], layers, types)]
        doc = {
            "schemaVersion": 2,
            "mediaType": media_type,
            "config": {"mediaType": config_type, "size": config.size, "digest": config_blob.digest},
            "layers": [{"mediaType": b.media_type, "size": b.size, "digest": b.digest} for b in layer_blobs],
        }
        data = json.dumps(doc, indent=3).encode("utf-8")
        blobs: List[Blob] = [config_blob]
        for b in layer_blobs:
            if b.digest not in [x.digest for x in blobs]:
                blobs.append(b)
        return Manifest(data=data, media_type=media_type, blobs=blobs)
