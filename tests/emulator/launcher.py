"""Start and stop the local emulated AWS (dev tooling; not part of the built collection).

CLI (what ``make local-aws`` / ``make local-aws-stop`` / ``make demo`` use)::

    python tests/emulator/launcher.py start  [--state-dir .local-aws] [--port N]
    python tests/emulator/launcher.py stop   [--state-dir .local-aws]
    python tests/emulator/launcher.py status [--state-dir .local-aws]

``start`` runs the server in its own session, waits until it answers, and writes
``<state-dir>/endpoint`` (read by ``inventories/local``), ``<state-dir>/pid`` and
``<state-dir>/server.log``.  ``stop`` ends it by PID.  Tests use :class:`LocalAws` directly.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any, Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_STATE_DIR = os.path.join(REPO, ".local-aws")


class LocalAwsError(RuntimeError):
    pass


class LocalAws:
    """A running emulator: its endpoint, PID, and a small client for the control API."""

    def __init__(self, state_dir: str = DEFAULT_STATE_DIR) -> None:
        self.state_dir = os.path.abspath(state_dir)
        self.endpoint: Optional[str] = None
        self.pid: Optional[int] = None

    # life cycle --------------------------------------------------------------------------
    @property
    def _endpoint_file(self) -> str:
        return os.path.join(self.state_dir, "endpoint")

    @property
    def _pid_file(self) -> str:
        return os.path.join(self.state_dir, "pid")

    @property
    def log_file(self) -> str:
        return os.path.join(self.state_dir, "server.log")

    def start(self, port: int = 0, timeout: float = 60.0) -> "LocalAws":
        if self.running():
            raise LocalAwsError("already running (pid %s) at %s" % (self.pid, self.endpoint))
        os.makedirs(self.state_dir, exist_ok=True)
        for stale in (self._endpoint_file, self._pid_file):
            if os.path.exists(stale):
                os.unlink(stale)
        ready = self._endpoint_file + ".ready"
        if os.path.exists(ready):
            os.unlink(ready)
        env = dict(os.environ)
        # The server is a plain process: its own fake credentials, never the user's.
        env.update({"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
                    "MOTO_ALLOW_NONEXISTENT_REGION": "true",
                    # AWS managed policies (AmazonECSTaskExecutionRolePolicy...) exist in every account.
                    "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"})
        env.pop("AWS_PROFILE", None)
        with open(self.log_file, "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, os.path.join(HERE, "server.py"), "--port", str(port), "--ready-file", ready],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, env=env, cwd=REPO,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise LocalAwsError("emulator exited with %s; see %s" % (proc.returncode, self.log_file))
            if os.path.exists(ready):
                with open(ready) as handle:
                    endpoint = handle.read().strip()
                if self._answers(endpoint):
                    self.endpoint, self.pid = endpoint, proc.pid
                    with open(self._pid_file, "w") as handle:
                        handle.write("%d\n" % proc.pid)
                    os.replace(ready, self._endpoint_file)
                    return self
            time.sleep(0.1)
        proc.terminate()
        raise LocalAwsError("emulator did not answer within %.0fs; see %s" % (timeout, self.log_file))

    def attach(self) -> "LocalAws":
        """Use an emulator started earlier from the same state dir."""
        if not self.running():
            raise LocalAwsError("no emulator running for %s" % self.state_dir)
        return self

    def running(self) -> bool:
        try:
            with open(self._pid_file) as handle:
                pid = int(handle.read().strip())
            with open(self._endpoint_file) as handle:
                endpoint = handle.read().strip()
        except (OSError, ValueError):
            return False
        if not _alive(pid):
            return False
        self.pid, self.endpoint = pid, endpoint
        return True

    def stop(self, timeout: float = 15.0) -> bool:
        """Stop by PID; True when a server was running."""
        if not self.running():
            self._cleanup()
            return False
        pid = self.pid
        assert pid is not None
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.05)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
        self._cleanup()
        return True

    def _cleanup(self) -> None:
        for path in (self._pid_file, self._endpoint_file):
            if os.path.exists(path):
                os.unlink(path)
        self.pid = self.endpoint = None

    # control API ---------------------------------------------------------------------------
    def _answers(self, endpoint: str) -> bool:
        try:
            with urllib.request.urlopen(endpoint + "/_shipyard/health", timeout=2) as resp:
                return resp.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def control(self, method: str, path: str, body: Optional[Dict[str, Any]] = None) -> Any:
        if not self.endpoint:
            raise LocalAwsError("emulator not running")
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.endpoint + "/_shipyard/" + path.lstrip("/"), data=data, method=method)
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise LocalAwsError("%s /_shipyard/%s: %s %s" % (method, path, exc.code, exc.read().decode()))

    def reset(self) -> None:
        self.control("POST", "reset")

    def calls(self) -> List[Dict[str, Any]]:
        return self.control("GET", "calls")["calls"]

    def clear_calls(self) -> None:
        self.control("POST", "calls/reset")

    def write_calls(self) -> List[Dict[str, Any]]:
        return [c for c in self.calls() if c["write"]]

    # behaviours, time and faults (fidelity layer; see tests/emulator/README.md) -----------------
    def set_behaviour(self, image: str, kind: str = "healthy", **params: Any) -> Dict[str, Any]:
        """Say how containers of ``image`` (exact reference, or a prefix ending in ``*``) behave."""
        behaviour = dict(params, kind=kind)
        return self.control("POST", "behaviours", {"image": image, "behaviour": behaviour})["behaviour"]

    def reset_behaviours(self) -> None:
        self.control("POST", "behaviours/reset", {})

    def set_time_scale(self, scale: float) -> Dict[str, Any]:
        """AWS seconds that pass per wall-clock second from now on."""
        return self.control("POST", "time", {"scale": scale})

    def advance_time(self, seconds: float) -> Dict[str, Any]:
        """Let ``seconds`` of AWS time pass at once."""
        return self.control("POST", "time", {"advance_seconds": seconds})

    def time(self) -> Dict[str, Any]:
        """``{"scale": ..., "now": virtual seconds since reset, "default_scale": ...}``."""
        return self.control("GET", "time")

    def inject_fault(self, service: str, operation: str = "*", throttle_rate: float = 0, error_rate: float = 0,
                     latency_ms: float = 0, seed: Optional[int] = None) -> Dict[str, Any]:
        """Make calls to ``service``/``operation`` throttle, fail with 5xx, or slow down."""
        body: Dict[str, Any] = {"service": service, "operation": operation, "throttle_rate": throttle_rate,
                                "error_rate": error_rate, "latency_ms": latency_ms}
        if seed is not None:
            body["seed"] = seed
        return self.control("POST", "faults", body)["fault"]

    def clear_faults(self) -> None:
        self.control("POST", "faults/reset", {})

    def env(self) -> Dict[str, str]:
        """Environment for a process that should talk to this emulator (boto3 or Ansible)."""
        assert self.endpoint
        return {
            "SHIPYARD_LOCAL_AWS_ENDPOINT": self.endpoint,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
        }


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child (started by this very process) counts as gone.
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().split(") ", 1)[1][:1] != "Z"
    except (OSError, IndexError):
        return True


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="local emulated AWS")
    parser.add_argument("command", choices=("start", "stop", "status", "endpoint"))
    parser.add_argument("--state-dir", default=os.environ.get("SHIPYARD_LOCAL_AWS_STATE", DEFAULT_STATE_DIR))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SHIPYARD_LOCAL_AWS_PORT", "0")))
    args = parser.parse_args(argv)
    aws = LocalAws(args.state_dir)
    if args.command == "start":
        if aws.running():
            print("local AWS already running at %s (pid %s)" % (aws.endpoint, aws.pid))
            return 0
        try:
            aws.start(port=args.port)
        except LocalAwsError as exc:
            print("local AWS failed to start: %s" % exc, file=sys.stderr)
            return 1
        print("local AWS running at %s (pid %s); stop it with: make local-aws-stop" % (aws.endpoint, aws.pid))
        return 0
    if args.command == "stop":
        print("local AWS stopped" if aws.stop() else "local AWS was not running")
        return 0
    if args.command == "endpoint":
        if not aws.running():
            return 1
        print(aws.endpoint)
        return 0
    if aws.running():
        print("local AWS running at %s (pid %s)" % (aws.endpoint, aws.pid))
        return 0
    print("local AWS not running")
    return 1


if __name__ == "__main__":
    sys.exit(main())
