"""Push throughput of ecr_image_push's registry transport against ``skopeo copy``, side by side.

Builds a ~200 MB multi-layer image of random (incompressible) data, once as a ``docker save``
tarball (uncompressed layers) and once as an OCI layout (gzipped layers), starts Debian's
docker-registry on 127.0.0.1, and pushes each archive to fresh repositories with our transport
and with skopeo.  Prints MB/s for each and the ratio ours/skopeo.

Note on the docker-archive case: skopeo gzips uncompressed layers on their way to a registry;
by default we push layers as the archive stores them, so the bench also runs ours with
``compress_layers`` (gzip too, like for like).  Layer data is random with a fresh seed per run, so
skopeo's blob-info cache cannot skip work it did in an earlier run.  The OCI case (already-compressed layers, nothing
to recompress on either side) compares the transports alone.

Usage: python bench/bench_ecr_push.py [--mb 200] [--layers 6] [--parallel 4]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(REPO, ".collections"), os.path.join(REPO, "tests")]

# pylint: disable=wrong-import-position
from ansible_collections.shipyard.ecs.plugins.module_utils._ecr.archive import ImageArchive  # noqa: E402 (path set above)
from ansible_collections.shipyard.ecs.plugins.module_utils._ecr.push import ImagePusher  # noqa: E402 (path set above)
from ansible_collections.shipyard.ecs.plugins.module_utils._ecr.registry import RegistryClient  # noqa: E402 (path set above)
from integration.archives import OciLayout, docker_save  # noqa: E402 (path set above)
from integration.registry import LocalRegistry  # noqa: E402 (path set above)

SKOPEO = shutil.which("skopeo") or "/usr/bin/skopeo"
MB = 1000 * 1000


def layer_sizes(total_mb: int, layers: int):
    """Unequal layers, like a real image: a big base, a few medium, some small."""
    weights = [2 ** (layers - i) for i in range(layers)]
    return [max(1, total_mb * MB * w // sum(weights)) for w in weights]


def ours(registry: LocalRegistry, archive: str, parallel: int, compress: bool = False):
    repo = "bench/ours-%s" % uuid.uuid4().hex[:8]
    start = time.monotonic()
    with ImageArchive(archive, hash_workers=parallel, compress_layers=compress) as image:
        pusher = ImagePusher(RegistryClient(registry.url), repo, parallel)
        stats = pusher.survey(image.manifest)
        stats = pusher.push(image.manifest, ["bench"], stats)
    return time.monotonic() - start, stats.bytes_sent


def skopeo(registry: LocalRegistry, transport: str, archive: str):
    repo = "bench/skopeo-%s" % uuid.uuid4().hex[:8]
    start = time.monotonic()
    subprocess.run([SKOPEO, "copy", "-q", "--dest-tls-verify=false", "%s:%s" % (transport, archive),
                    "docker://%s/%s:bench" % (registry.host, repo)], check=True, timeout=1800)
    return time.monotonic() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--parallel", type=int, default=4)
    args = parser.parse_args()
    if not os.path.exists(SKOPEO) or not os.path.exists("/usr/bin/docker-registry"):
        print("skopeo or docker-registry missing: apt-get install -y skopeo docker-registry")
        return 0
    work = tempfile.mkdtemp(prefix="shipyard-bench-ecr-")
    try:
        sizes = layer_sizes(args.mb, args.layers)
        layers = [{"data/layer-%d.bin" % i: size} for i, size in enumerate(sizes)]
        t0 = time.monotonic()
        seed = int(time.time())
        tarball = docker_save(os.path.join(work, "image.tar"), layers, repo_tags=["bench:1"], workdir=work, seed=seed)
        layout = OciLayout(os.path.join(work, "oci"))
        layout.tag(layout.add_image(layers, seed=seed + 1), "1")
        oci = layout.finish()
        total = os.path.getsize(tarball)
        print("archive: %d layers, %.1f MB docker-archive (uncompressed layers); built both archives in %.1fs"
              % (len(sizes), total / MB, time.monotonic() - t0))
        # skopeo first, in a registry of its own per archive: nothing we pushed can help it.
        for label, archive, transport in (("docker-archive", tarball, "docker-archive"), ("oci layout", oci, "oci")):
            size = sum(os.path.getsize(os.path.join(d, f)) for d, _dirs, fs in os.walk(archive) for f in fs) \
                if os.path.isdir(archive) else os.path.getsize(archive)
            with LocalRegistry() as registry:
                t_skopeo = skopeo(registry, transport, archive)
                print("%-15s skopeo:              %6.1f MB/s (%.2fs)" % (label, size / MB / t_skopeo, t_skopeo))
                variants = (False, True) if transport == "docker-archive" else (False,)
                for compress in variants:
                    t_ours, sent = ours(registry, archive, args.parallel, compress)
                    name = "ours (gzip layers):" if compress else "ours:"
                    print("%-15s %-20s %6.1f MB/s (%.2fs, %.1f MB sent, parallel=%d)  ratio ours/skopeo: %.2fx"
                          % (label, name, size / MB / t_ours, t_ours, sent / MB, args.parallel, t_skopeo / t_ours))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
