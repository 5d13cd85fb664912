"""Write the demo's container images as OCI image layout tars, without a container engine.

    python tools/build_demo_images.py [--out DIR] [--app FILE]

One image per service of the application definition (``inventories/app.yml``), written to
``build/demo-images/<service>.tar``: an OCI image layout (``oci-layout``, ``index.json``,
``blobs/sha256/...``) holding one linux/amd64 manifest, its config and one small gzip layer with
a text file naming the service.  Every byte is deterministic (fixed owners, modes and mtimes,
gzip without name or timestamp), so the digests are the same on every machine and every run and
a re-deploy pushes nothing.  An archive already present with the same bytes is left alone.

These are placeholders the local emulated AWS can run (it never executes an image); ``make
demo``, Molecule and the integration tests push them with ``shipyard.ecs.ecr_image_push``.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile
from typing import Dict, List, Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(ROOT, "build", "demo-images")
DEFAULT_APP = os.path.join(ROOT, "inventories", "app.yml")
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
# 2000-01-01T00:00:00Z: fixed, and not the epoch (some tools treat 0 as "unset").
MTIME = 946684800
CREATED = "2000-01-01T00:00:00Z"


def _json(doc: object) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _tar(files: List[Tuple[str, bytes]], directories: List[str] = ()) -> bytes:
    """An uncompressed tar of ``files`` (and ``directories``), in the order given, every header fixed."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name in directories:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, MTIME
            tar.addfile(info)
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, MTIME
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _gzip(data: bytes) -> bytes:
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, compresslevel=9, mtime=0) as gz:
        gz.write(data)
    return out.getvalue()


def image_layout(service: str, port: Optional[int]) -> bytes:
    """The OCI layout tar of ``service``'s demo image (same input, same bytes)."""
    text = ("shipyard.ecs demo image for the %s service\n" % service).encode("utf-8")
    layer_tar = _tar([("srv/%s/SERVICE" % service, text)], directories=["srv/", "srv/%s/" % service])
    layer = _gzip(layer_tar)
    container: Dict[str, object] = {
        "Cmd": ["/bin/sh", "-c", "cat /srv/%s/SERVICE" % service],
        "Labels": {"org.opencontainers.image.title": service},
        "WorkingDir": "/srv/%s" % service,
    }
    if port:
        container["ExposedPorts"] = {"%d/tcp" % port: {}}
    config = _json({
        "architecture": "amd64",
        "os": "linux",
        "created": CREATED,
        "config": container,
        "rootfs": {"type": "layers", "diff_ids": [_digest(layer_tar)]},
        "history": [{"created": CREATED, "created_by": "tools/build_demo_images.py"}],
    })
    manifest = _json({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": _digest(config), "size": len(config)},
        "layers": [{"mediaType": OCI_LAYER_GZIP, "digest": _digest(layer), "size": len(layer)}],
    })
    index = _json({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [{
            "mediaType": OCI_MANIFEST, "digest": _digest(manifest), "size": len(manifest),
            "platform": {"architecture": "amd64", "os": "linux"},
            "annotations": {"org.opencontainers.image.ref.name": "%s:demo" % service},
        }],
    })
    blobs = sorted((_digest(b), b) for b in (layer, config, manifest))
    files = [("oci-layout", _json({"imageLayoutVersion": "1.0.0"})), ("index.json", index)]
    files += [("blobs/sha256/" + digest.split(":", 1)[1], data) for digest, data in blobs]
    return _tar(files, directories=["blobs/", "blobs/sha256/"])


def services_of(app_file: str) -> Dict[str, Optional[int]]:
    """Service name -> container port, from the application definition."""
    import yaml  # in the venv (ansible needs it); imported late so --help works anywhere

    sys.path.insert(0, os.path.join(ROOT, ".collections"))
    from ansible_collections.shipyard.ecs.plugins.module_utils._app.model import migrate

    with open(app_file, encoding="utf-8") as handle:
        app, _warnings = migrate(yaml.safe_load(handle) or {})
    return {name: (spec or {}).get("container_port") for name, spec in (app.get("services") or {}).items()}


def write_if_changed(path: str, data: bytes) -> bool:
    """Write ``data`` to ``path`` atomically unless it already holds exactly that; True if written."""
    try:
        with open(path, "rb") as handle:
            if handle.read() == data:
                return False
    except FileNotFoundError:
        pass
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)
    return True


def build(out_dir: str = DEFAULT_OUT, app_file: str = DEFAULT_APP) -> Dict[str, str]:
    """Write every service's archive into ``out_dir``; service -> archive path."""
    os.makedirs(out_dir, exist_ok=True)
    written = {}
    for service, port in sorted(services_of(app_file).items()):
        path = os.path.join(out_dir, "%s.tar" % service)
        write_if_changed(path, image_layout(service, port))
        written[service] = path
    return written


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--out", default=DEFAULT_OUT, help="directory for <service>.tar (default: %(default)s)")
    parser.add_argument("--app", default=DEFAULT_APP, help="application definition (default: %(default)s)")
    args = parser.parse_args(argv)
    build(args.out, args.app)
    return 0


if __name__ == "__main__":
    sys.exit(main())
