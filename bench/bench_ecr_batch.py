"""ecr_image_push no-op: one run with ``repositories`` against one run per repository (a loop).

Starts its own emulator (tests/emulator/launcher.py) in a temporary state directory.  For 1, 10
and 30 repositories, each with a small image archive, the repositories are created and the
images pushed once; then the same no-op is run through ansible-playbook both ways, alternating,
``--rounds`` times: one task with ``repositories``, and one task looping over the repositories
with the single-repository form (what roles/services did).  Prints median wall time, API calls
(from the emulator's call log, the registry's requests included) and module runs of each, and
the ratios.  Figures only; always exits 0.

Usage: python bench/bench_ecr_batch.py [--sizes 1,10,30] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(REPO, ".collections"), os.path.join(REPO, "tests")]

import yaml  # noqa: E402 - after the sys.path set-up above

from emulator.launcher import LocalAws  # noqa: E402 - idem
from integration.archives import docker_save  # noqa: E402 - idem

SETTINGS = {
    "image_tag_mutability": "IMMUTABLE",
    "scan_on_push": True,
    "lifecycle_rules": [{"tag_status": "untagged", "expire_days": 1}, {"tag_status": "any", "keep_last": 30}],
    "tags": {"application": "bench"},
    "image_tags": ["production-1"],
}


def archives(workdir, n):
    """One small, distinct image archive per repository."""
    return {"bench/svc-%02d" % i: docker_save(os.path.join(workdir, "svc-%02d.tar" % i),
                                              [{"app/svc.py": ("print(%d)\n" % i).encode()}], repo_tags=["svc:%d" % i])
            for i in range(n)}


def playbooks(workdir, images):
    one = dict(SETTINGS, repositories=[{"name": name, "archive": path} for name, path in sorted(images.items())])
    loop = dict(SETTINGS, name="{{ item.name }}", archive="{{ item.archive }}")
    plays = {
        "one run": [{"hosts": "localhost", "gather_facts": False,
                     "tasks": [{"name": "repositories", "shipyard.ecs.ecr_image_push": one}]}],
        "run per repository": [{"hosts": "localhost", "gather_facts": False,
                                "tasks": [{"name": "repository", "shipyard.ecs.ecr_image_push": loop,
                                           "loop": one["repositories"], "loop_control": {"label": "{{ item.name }}"}}]}],
    }
    paths = {}
    for label, play in plays.items():
        paths[label] = os.path.join(workdir, "%s.yml" % label.replace(" ", "_"))
        with open(paths[label], "w") as handle:
            yaml.safe_dump(play, handle)
    return paths


def run_playbook(aws, path):
    env = dict(os.environ, **aws.env())
    env.update(ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
           "-e", "ansible_python_interpreter=" + sys.executable, path]
    aws.clear_calls()
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - start
    doc = json.loads(proc.stdout[proc.stdout.index("{"):]) if "{" in proc.stdout else {}
    stats = doc.get("stats", {}).get("localhost", {})
    if proc.returncode:
        print(proc.stdout[-3000:], proc.stderr[-2000:])
    return elapsed, aws.calls(), stats.get("changed", "?")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10,30")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="bench-ecr-batch-")
    aws = LocalAws(workdir).start()
    try:
        print("ecr_image_push no-op through ansible-playbook (median of %d alternating rounds); per repository: "
              "IMMUTABLE tags, scan on push, 2 lifecycle rules, 1 resource tag, an archive under 1 image tag" % args.rounds)
        print("%5s  %-19s %7s %6s %7s %5s  %s" % ("repos", "form", "wall s", "calls", "writes", "runs", "calls by operation"))
        for n in (int(s) for s in args.sizes.split(",")):
            aws.reset()
            paths = playbooks(workdir, archives(workdir, n))
            run_playbook(aws, paths["one run"])
            figures = {label: [] for label in paths}
            for _round in range(args.rounds):
                for label, path in paths.items():
                    figures[label].append(run_playbook(aws, path))
            medians = {}
            for label, runs in figures.items():
                wall = statistics.median(r[0] for r in runs)
                calls = runs[-1][1]
                medians[label] = (wall, len(calls))
                counts = Counter(c["operation"] for c in calls)
                print("%5d  %-19s %7.2f %6d %7d %5d  %s%s" % (
                    n, label, wall, len(calls), sum(1 for c in calls if c["write"]), 1 if label == "one run" else n,
                    ", ".join("%s %d" % kv for kv in sorted(counts.items())),
                    "" if all(r[2] == 0 for r in runs) else "  (CHANGED?)"))
            one, per = medians["one run"], medians["run per repository"]
            print("%5d  ratio one run / run per repository: wall %.2f, API calls %.2f" % (
                n, one[0] / per[0], one[1] / max(1, per[1])))
    finally:
        aws.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
