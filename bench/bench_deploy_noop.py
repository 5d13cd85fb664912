"""No-op deploy figures (not pass/fail): playbooks/deploy.yml against a peer playbook of amazon.aws modules.

For each size (number of services) an application of N identical services is generated, deployed to
its own local emulated AWS (tests/emulator/launcher.py) by playbooks/deploy.yml and by the peer playbook
bench/peer/deploy.yml (amazon.aws / community.aws modules, one task per resource, the same resources);
then the no-op re-runs of both are timed, alternating ours and the peer's, and the medians printed:
wall time, API calls (the emulator's call log) and module runs (bench/callback_plugins/module_runs.py,
enabled for these runs only), with the ratios against issue 14's targets. Also: the first deploy's
wall time of ours, and a one-image release's playbook overhead (wall time minus the time
ecs_rolling_deploy spent waiting on ECS, from its timeline) at the smallest size.

    .venv/bin/python bench/bench_deploy_noop.py [--services 3,10,30] [--repeat 3] [--no-release] [--latency-ms 30]

``--latency-ms`` adds that much to every answer of the emulator (its fault injection), the round trip of
an API call to AWS from a runner in the same region: the local emulator answers in about a millisecond, so
without it a run's reads cost only their CPU, and reads made several at once gain little on two cores.

A full run (3, 10, 30 services, 3 repeats) takes tens of minutes; ``--services 3 --repeat 1`` a few.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BIN = os.path.dirname(sys.executable)
sys.path[:0] = [os.path.join(REPO, "tests"), os.path.join(REPO, "tools")]

# pylint: disable=wrong-import-position
from emulator.launcher import LocalAws  # noqa: E402 - path set above
import build_demo_images  # noqa: E402 - path set above

APP_NAME = "bench"
PEER_NAME = "bench-peer"
# Issue 14's targets.
TARGETS = {"ratio_small": (3, 0.25), "ratio_large": (30, 0.1), "growth_seconds": 0.1, "growth_calls": 1.0,
           "first_deploy_seconds": 45.0, "release_overhead_seconds": 5.0}


# the application under test ----------------------------------------------------------------------
def app_document(services: int, versioned: bool) -> Dict[str, Any]:
    """The application file of ``services`` services, in today's layout or the versioned one (format: 1)."""
    names = ["svc%02d" % i for i in range(1, services + 1)]
    specs = {
        name: {"container_port": 8000 + i, "health_check": {"path": "/"}, "cpu": 256, "memory": 512, "desired_count": 1,
               "routes": [{"listener": 80, "path_patterns": ["/%s/*" % name]}]}
        for i, name in enumerate(names, start=1)
    }
    listeners = [{"port": 80, "default_service": names[0]}]
    if versioned:
        return {"format": 1, "name": APP_NAME, "listeners": listeners, "services": specs, "smoke_checks": []}
    return {"app_name": APP_NAME, "app_listeners": listeners, "app_services": specs, "app_smoke_checks": []}


def checkout_uses_versioned_app_file() -> bool:
    with open(os.path.join(REPO, "inventories", "app.yml"), encoding="utf-8") as handle:
        return "format" in (yaml.safe_load(handle) or {})


def peer_vars(doc: Dict[str, Any], local: Dict[str, Any]) -> Dict[str, Any]:
    """The peer playbook's variables for the same services (what its user writes in group_vars)."""
    specs = doc.get("services") or doc.get("app_services")
    listeners = doc.get("listeners") or doc.get("app_listeners")
    prefix = "peer"
    services = [{"name": name, "container_port": spec["container_port"], "health_check_path": spec["health_check"]["path"],
                 "cpu": spec["cpu"], "memory": spec["memory"], "desired_count": spec["desired_count"]}
                for name, spec in sorted(specs.items())]
    alb_listeners = []
    for listener in listeners:
        rules = []
        for name, spec in sorted(specs.items()):
            for route in spec.get("routes") or []:
                if route["listener"] == listener["port"]:
                    rules.append({"Conditions": [{"Field": "path-pattern", "Values": route["path_patterns"]}],
                                  "Priority": str(len(rules) + 1),
                                  "Actions": [{"Type": "forward", "TargetGroupName": "%s-%s" % (prefix, name)}]})
        alb_listeners.append({"Protocol": "HTTP", "Port": listener["port"],
                              "DefaultActions": [{"Type": "forward",
                                                  "TargetGroupName": "%s-%s" % (prefix, listener["default_service"])}],
                              "Rules": rules})
    return {
        "peer_name": PEER_NAME,
        "peer_target_group_prefix": prefix,
        # Its own VPC beside ours in the same account.
        "peer_network": {"cidr": "10.30.0.0/16", "public_subnets": [{"cidr": "10.30.0.0/24", "az": "us-east-1a"},
                                                                    {"cidr": "10.30.1.0/24", "az": "us-east-1b"}]},
        "peer_log_retention_days": local.get("env_log_retention_days", 30),
        "peer_image_tag": local.get("env_image_tag", "latest"),
        "peer_services": services,
        "peer_alb_listeners": alb_listeners,
    }


class Environment:
    """One size: its emulator, generated application, inventory and the peer's variables."""

    def __init__(self, services: int, archive: str, workdir: str) -> None:
        self.services = services
        self.workdir = os.path.join(workdir, "n%02d" % services)
        os.makedirs(self.workdir)
        self.aws = LocalAws(os.path.join(self.workdir, "aws"))
        self.doc = app_document(services, checkout_uses_versioned_app_file())
        self.app_file = os.path.join(self.workdir, "app.yml")
        self._dump(self.app_file, self.doc)
        # A copy of inventories/local whose services all push the same archive.
        self.inventory = os.path.join(self.workdir, "inventory")
        os.makedirs(os.path.join(self.inventory, "group_vars"))
        shutil.copy(os.path.join(REPO, "inventories", "local", "hosts.yml"), self.inventory)
        with open(os.path.join(REPO, "inventories", "local", "group_vars", "all.yml"), encoding="utf-8") as handle:
            self.local = yaml.safe_load(handle)
        self.local["env_services"] = {name: {"archive": archive} for name in self.service_names}
        self._dump(os.path.join(self.inventory, "group_vars", "all.yml"), self.local)
        self.peer_file = os.path.join(self.workdir, "peer-vars.yml")
        self._dump(self.peer_file, peer_vars(self.doc, self.local))
        self.runs = 0

    @property
    def service_names(self) -> List[str]:
        return sorted(self.doc.get("services") or self.doc.get("app_services"))

    @staticmethod
    def _dump(path: str, doc: Dict[str, Any]) -> None:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("---\n")
            yaml.safe_dump(doc, handle, sort_keys=False, default_flow_style=False)

    def env(self, counts_file: str) -> Dict[str, str]:
        env = dict(os.environ)
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "ANSIBLE_CALLBACKS_ENABLED",
                     "ANSIBLE_CALLBACK_WHITELIST", "ANSIBLE_STDOUT_CALLBACK"):
            env.pop(name, None)
        env.update(self.aws.env())
        env.update({
            "ANSIBLE_CONFIG": os.path.join(REPO, "ansible.cfg"),
            "ANSIBLE_CALLBACK_PLUGINS": os.path.join(HERE, "callback_plugins"),
            "ANSIBLE_CALLBACKS_ENABLED": "module_runs",
            "SHIPYARD_BENCH_COUNTS_FILE": counts_file,
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "PATH": BIN + os.pathsep + env.get("PATH", ""),
        })
        return env

    def push_peer_images(self) -> None:
        """What the peer's user does in CI before deploying (docker push): the image in each of the peer's
        repositories, under its tag. Not timed; without it the peer's tasks cannot pull their images."""
        peer = peer_vars(self.doc, self.local)
        repositories = [{"name": "%s/%s" % (PEER_NAME, svc["name"]), "archive": self.local["env_services"][svc["name"]]["archive"]}
                        for svc in peer["peer_services"]]
        cmd = [os.path.join(BIN, "ansible"), "localhost", "-i", self.inventory, "-m", "shipyard.ecs.ecr_image_push",
               "-a", json.dumps({"repositories": repositories, "image_tags": [peer["peer_image_tag"]], "region": self.local["aws_region"],
                                 "endpoint_url": self.aws.endpoint})]
        env = self.env(os.path.join(self.workdir, "peer-push.json"))
        env.pop("ANSIBLE_CALLBACKS_ENABLED")
        proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=900, check=False)
        if proc.returncode != 0:
            raise RuntimeError("pushing the peer's images failed (rc %d):\n%s" % (proc.returncode, (proc.stdout + proc.stderr)[-3000:]))

    def run(self, who: str, label: str, extra: Optional[List[str]] = None) -> Dict[str, Any]:
        """One playbook run of ``who`` (ours / peer): wall seconds, API calls, module runs, changed tasks."""
        self.runs += 1
        stem = os.path.join(self.workdir, "%02d-%s-%s" % (self.runs, who, label))
        if who == "ours":
            cmd = [os.path.join(BIN, "ansible-playbook"), os.path.join(REPO, "playbooks", "deploy.yml"),
                   "-i", self.inventory, "-e", "app_definition_file=%s" % self.app_file]
        else:
            cmd = [os.path.join(BIN, "ansible-playbook"), os.path.join(HERE, "peer", "deploy.yml"),
                   "-i", self.inventory, "-e", "@%s" % self.peer_file]
        cmd += extra or []
        self.aws.clear_calls()
        start = time.monotonic()
        with open(stem + ".log", "w", encoding="utf-8") as log:
            proc = subprocess.run(cmd, cwd=REPO, env=self.env(stem + ".json"), stdout=log, stderr=subprocess.STDOUT,
                                  timeout=3600, check=False)
        seconds = time.monotonic() - start
        calls = self.aws.calls()
        with open(stem + ".log", encoding="utf-8") as log:
            output = log.read()
        if proc.returncode != 0:
            raise RuntimeError("%s %s run failed (rc %d), see %s.log:\n%s" % (who, label, proc.returncode, stem, output[-3000:]))
        with open(stem + ".json", encoding="utf-8") as handle:
            counts = json.load(handle)
        changed = re.search(r"localhost\s*:.*?changed=(\d+)", output)
        return {"seconds": seconds, "calls": len(calls), "writes": sum(1 for c in calls if c["write"]),
                "write_ops": sorted({"%s:%s" % (c["service"], c["operation"]) for c in calls if c["write"]}),
                "module_runs": counts["module_runs"], "by_role": counts["by_role"],
                "changed": int(changed.group(1)) if changed else -1, "counts": counts}


# figures ---------------------------------------------------------------------------------------
def measure(size: int, archive: str, workdir: str, repeat: int, release: bool, latency_ms: float = 0) -> Dict[str, Any]:
    env = Environment(size, archive, workdir)
    env.aws.start()
    try:
        if latency_ms:
            env.aws.inject_fault("*", latency_ms=latency_ms)
        first = env.run("ours", "first-deploy")
        print("  %2d services: first deploy, ours %.1fs (%d API calls, %d module runs)" % (
            size, first["seconds"], first["calls"], first["module_runs"]), flush=True)
        env.push_peer_images()
        peer_first = env.run("peer", "create", ["-e", "peer_create=true"])
        print("  %2d services: first deploy, peer %.1fs (%d API calls, %d module runs)" % (
            size, peer_first["seconds"], peer_first["calls"], peer_first["module_runs"]), flush=True)
        ours, peer = [], []
        for index in range(repeat):
            ours.append(env.run("ours", "noop%d" % index))
            peer.append(env.run("peer", "noop%d" % index))
            print("  %2d services: no-op %d/%d: ours %.1fs %d calls (%d writes) %d runs %d changed; "
                  "peer %.1fs %d calls (%d writes) %d runs %d changed" % (
                      size, index + 1, repeat, ours[-1]["seconds"], ours[-1]["calls"], ours[-1]["writes"],
                      ours[-1]["module_runs"], ours[-1]["changed"], peer[-1]["seconds"], peer[-1]["calls"],
                      peer[-1]["writes"], peer[-1]["module_runs"], peer[-1]["changed"]), flush=True)
        for who, runs in (("ours", ours), ("peer", peer)):
            if runs[-1]["write_ops"]:
                print("  %2d services: %s no-op writes: %s" % (size, who, ", ".join(runs[-1]["write_ops"])))
        print("  %2d services: our module runs by role: %s; load average %.1f" % (
            size, ", ".join("%s %d" % item for item in sorted(ours[-1]["by_role"].items())), os.getloadavg()[0]))
        result = {"size": size, "first": first, "peer_first": peer_first, "ours": ours, "peer": peer}
        if release:
            try:
                result["release"] = one_image_release(env)
            except RuntimeError as exc:
                # The no-op figures stand without it.
                print("  %2d services: the one-image release failed: %s" % (size, exc), flush=True)
        return result
    finally:
        env.aws.stop()


def one_image_release(env: Environment) -> Dict[str, Any]:
    """A deploy that releases a new image to one service: its wall time, and that minus ECS's rollout."""
    service = env.service_names[0]
    archive = os.path.join(env.workdir, "release.tar")
    with open(archive, "wb") as handle:
        handle.write(build_demo_images.image_layout("%s-release" % service, 8001))
    services = {name: dict(spec) for name, spec in env.local["env_services"].items()}
    services[service]["archive"] = archive
    overrides = os.path.join(env.workdir, "release-vars.yml")
    env._dump(overrides, {"env_image_tag": "release-1", "env_services": services})  # pylint: disable=protected-access
    run = env.run("ours", "release", ["-e", "@%s" % overrides])
    waited = 0.0
    for entry in run["counts"]["timelines"]:
        times = [event["t"] for event in entry["timeline"]]
        updates = [event["t"] for event in entry["timeline"] if str(event.get("event", "")).endswith("_update")]
        if updates:
            waited += max(times) - min(updates)
    deploy_task = sum(t["seconds"] for t in run["counts"]["tasks"] if t["action"].endswith("ecs_rolling_deploy"))
    return {"seconds": run["seconds"], "waited": waited, "overhead": run["seconds"] - waited,
            "deploy_task": deploy_task, "calls": run["calls"], "module_runs": run["module_runs"]}


def median(runs: List[Dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def report(results: List[Dict[str, Any]], repeat: int) -> None:
    print("\n== no-op re-run of deploy.yml against the peer playbook (medians of %d, alternating runs)" % repeat)
    print("| services | ours | peer | ratio | target | our API calls | peer's | our module runs | peer's |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    targets = dict([TARGETS["ratio_small"], TARGETS["ratio_large"]])
    for res in results:
        ours, peer = median(res["ours"], "seconds"), median(res["peer"], "seconds")
        target = targets.get(res["size"])
        print("| %d | %.1f s | %.1f s | %.2f | %s | %d | %d | %d | %d |" % (
            res["size"], ours, peer, ours / peer, "<= %.2f" % target if target else "-",
            median(res["ours"], "calls"), median(res["peer"], "calls"),
            median(res["ours"], "module_runs"), median(res["peer"], "module_runs")))
    if len(results) > 1:
        low, high = results[0], results[-1]
        span = float(high["size"] - low["size"])
        print("\n== growth per added service (%d -> %d services)" % (low["size"], high["size"]))
        for who in ("ours", "peer"):
            seconds = (median(high[who], "seconds") - median(low[who], "seconds")) / span
            calls = (median(high[who], "calls") - median(low[who], "calls")) / span
            runs = (median(high[who], "module_runs") - median(low[who], "module_runs")) / span
            goal = " (targets <= %.1f s, <= %.0f call, 0 module runs)" % (
                TARGETS["growth_seconds"], TARGETS["growth_calls"]) if who == "ours" else ""
            print("  %-4s: %+.3f s, %+.1f API calls, %+.2f module runs per service%s" % (who, seconds, calls, runs, goal))
    print("\n== first deploy (ours; target at 3 services <= %.0f s)" % TARGETS["first_deploy_seconds"])
    for res in results:
        print("  %2d services: ours %.1f s, peer %.1f s" % (res["size"], res["first"]["seconds"], res["peer_first"]["seconds"]))
    for res in results:
        rel = res.get("release")
        if rel:
            print("\n== one-image release at %d services (target: overhead < %.0f s)" % (
                res["size"], TARGETS["release_overhead_seconds"]))
            print("  wall %.1f s, ecs_rolling_deploy waiting on ECS %.1f s (the task %.1f s) -> playbook overhead %.1f s; "
                  "%d API calls, %d module runs" % (rel["seconds"], rel["waited"], rel["deploy_task"], rel["overhead"],
                                                    rel["calls"], rel["module_runs"]))


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--services", default="3,10,30", help="sizes, comma-separated (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=3, help="no-op runs of each per size (default: %(default)s)")
    parser.add_argument("--no-release", dest="release", action="store_false",
                        help="skip the one-image release at the smallest size")
    parser.add_argument("--latency-ms", type=float, default=0.0,
                        help="added to every API call's answer, as AWS's round trip (default: %(default)s)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, counts) and print it")
    args = parser.parse_args(argv)
    sizes = sorted({int(s) for s in args.services.split(",") if s.strip()})
    if not sizes or min(sizes) < 1 or args.repeat < 1:
        parser.error("--services needs sizes >= 1 and --repeat >= 1")
    images = os.path.join(REPO, "build", "demo-images")
    subprocess.run([sys.executable, os.path.join(REPO, "tools", "build_demo_images.py"), "--out", images], check=True)
    archives = sorted(os.path.join(images, f) for f in os.listdir(images) if f.endswith(".tar"))
    if not archives:
        parser.error("tools/build_demo_images.py wrote no image archive to %s" % images)
    archive = archives[0]
    workdir = tempfile.mkdtemp(prefix="shipyard-bench-noop-")
    # Figures are only comparable on a quiet machine: the load is printed with them.
    print("== deploy.yml no-op against the peer playbook: %s services, %d repeats, image %s%s%s; load average %.1f on %d CPUs" % (
        ", ".join(str(s) for s in sizes), args.repeat, os.path.basename(archive),
        ", app file format: 1" if checkout_uses_versioned_app_file() else "",
        ", %g ms added to every API call" % args.latency_ms if args.latency_ms else "", os.getloadavg()[0], os.cpu_count() or 1),
        flush=True)
    try:
        results = []
        for size in sizes:
            results.append(measure(size, archive, workdir, args.repeat, args.release and size == sizes[0], args.latency_ms))
            with open(os.path.join(workdir, "results.json"), "w", encoding="utf-8") as handle:
                json.dump(results, handle, indent=1, default=str)
        report(results, args.repeat)
    finally:
        if args.keep:
            print("work directory: %s" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
