"""A real OCI registry for tests: Debian's ``docker-registry`` on 127.0.0.1, started and stopped by PID.

Each instance gets a free port, a temporary storage directory and a generated config; plain
HTTP, deletes enabled, and either no auth or HTTP basic auth for one user (``USERNAME`` /
``PASSWORD``, as ECR's registry uses basic auth).  ``stop()`` ends exactly the process ``start()`` started.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from typing import Optional

BINARY = "/usr/bin/docker-registry"
USERNAME = "shipyard"
PASSWORD = "s3cret"
# bcrypt (cost 4) of PASSWORD, computed once: the registry's htpasswd file accepts only bcrypt.
PASSWORD_BCRYPT = "$2b$04$EQZkoIMEGQBml4X7yYdSPuSVsO.G03bwf870IMJya3rcCx8F9CuMG"
AUTH = """auth:
  htpasswd:
    realm: shipyard-tests
    path: {htpasswd}
"""
CONFIG = """version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:{port}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalRegistry:
    """One docker-registry process and its storage."""

    def __init__(self, workdir: Optional[str] = None, basic_auth: bool = False) -> None:
        self.workdir = workdir or tempfile.mkdtemp(prefix="shipyard-registry-")
        self.basic_auth = basic_auth
        self.port: Optional[int] = None
        self.proc: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        return "http://127.0.0.1:%d" % self.port

    @property
    def host(self) -> str:
        return "127.0.0.1:%d" % self.port

    def start(self, timeout: float = 20.0) -> "LocalRegistry":
        storage = os.path.join(self.workdir, "storage")
        os.makedirs(storage, exist_ok=True)
        self.port = free_port()
        config = os.path.join(self.workdir, "config.yml")
        with open(config, "w", encoding="utf-8") as f:
            f.write(CONFIG.format(storage=storage, port=self.port))
            if self.basic_auth:
                htpasswd = os.path.join(self.workdir, "htpasswd")
                with open(htpasswd, "w", encoding="utf-8") as pw:
                    pw.write("%s:%s\n" % (USERNAME, PASSWORD_BCRYPT))
                f.write(AUTH.format(htpasswd=htpasswd))
        log = open(os.path.join(self.workdir, "registry.log"), "ab")  # pylint: disable=consider-using-with
        self.proc = subprocess.Popen([BINARY, "serve", config], stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("docker-registry exited with %s; see %s/registry.log" % (self.proc.returncode, self.workdir))
            try:
                with urllib.request.urlopen(self.url + "/v2/", timeout=1) as resp:
                    if resp.status == 200:
                        return self
            except urllib.error.HTTPError as exc:
                if exc.code == 401 and self.basic_auth:
                    return self
                time.sleep(0.05)
            except (urllib.error.URLError, OSError):
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("docker-registry did not answer on %s within %ss" % (self.url, timeout))

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.proc = None
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "LocalRegistry":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
