"""Run Ansible against the emulator the way a user does, and parse what it did."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any, Dict, List, Optional

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


class PlaybookResult:
    """Outcome of one ``ansible-playbook`` run (json callback)."""

    def __init__(self, rc: int, doc: Dict[str, Any], stdout: str, stderr: str) -> None:
        self.rc = rc
        self.doc = doc
        self.stdout = stdout
        self.stderr = stderr

    @property
    def stats(self) -> Dict[str, Any]:
        return self.doc.get("stats", {}).get("localhost", {})

    @property
    def changed(self) -> int:
        return self.stats.get("changed", 0)

    @property
    def failed(self) -> int:
        return self.stats.get("failures", 0) + self.stats.get("unreachable", 0)

    def tasks(self) -> List[Dict[str, Any]]:
        out = []
        for play in self.doc.get("plays", []):
            for task in play.get("tasks", []):
                res = task.get("hosts", {}).get("localhost")
                if res is not None:
                    out.append({"name": task["task"]["name"], **res})
        return out

    def task(self, name: str) -> Dict[str, Any]:
        for t in self.tasks():
            if t["name"] == name:
                return t
        raise KeyError("no task named %r; tasks: %s" % (name, [t["name"] for t in self.tasks()]))

    def changed_tasks(self) -> List[str]:
        return [t["name"] for t in self.tasks() if t.get("changed")]


class AnsibleRun:
    def __init__(self, aws: Any, workdir: str) -> None:
        self.aws = aws
        self.workdir = workdir

    def env(self, extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
        env = dict(os.environ)
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
            env.pop(name, None)
        env.update(self.aws.env())
        env.update({
            "ANSIBLE_CONFIG": os.path.join(REPO, "ansible.cfg"),
            "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
            "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "PATH": BIN + os.pathsep + env.get("PATH", ""),
        })
        env.update(extra or {})
        return env

    def playbook(
        self,
        playbook: str,
        inventory: Optional[str] = None,
        check: bool = False,
        diff: bool = False,
        extra_vars: Optional[Dict[str, Any]] = None,
        args: Optional[List[str]] = None,
        env: Optional[Dict[str, str]] = None,
        timeout: float = 600,
    ) -> PlaybookResult:
        cmd = [os.path.join(BIN, "ansible-playbook"), playbook]
        cmd += ["-i", inventory or os.path.join(REPO, "inventories", "local")]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        if extra_vars:
            cmd += ["-e", json.dumps(extra_vars)]
        cmd += args or []
        proc = subprocess.run(cmd, cwd=REPO, env=self.env(env), capture_output=True, text=True, timeout=timeout, check=False)
        try:
            doc = json.loads(proc.stdout[proc.stdout.index("{"):]) if "{" in proc.stdout else {}
        except ValueError:
            doc = {}
        return PlaybookResult(proc.returncode, doc, proc.stdout, proc.stderr)

    def module(
        self,
        name: str,
        args: Dict[str, Any],
        check: bool = False,
        diff: bool = False,
        env: Optional[Dict[str, str]] = None,
    ) -> Dict[str, Any]:
        """Run one module task on localhost; return its result dict (``rc`` of the run added)."""
        fqcn = name if "." in name else "shipyard.ecs." + name
        play = [{
            "name": "Run %s" % fqcn,
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [{"name": "module", fqcn: args, "ignore_errors": True}],
        }]
        path = os.path.join(self.workdir, "module_%s.yml" % fqcn.replace(".", "_"))
        with open(path, "w") as handle:
            yaml.safe_dump(play, handle)
        run = self.playbook(path, check=check, diff=diff, env=env)
        try:
            res = run.task("module")
        except KeyError:
            raise AssertionError("playbook did not run the module:\n%s\n%s" % (run.stdout[-4000:], run.stderr[-4000:]))
        res["_rc"] = run.rc
        return res
