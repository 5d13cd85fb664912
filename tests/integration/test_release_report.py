"""What a person sees of a release at default verbosity: progress while it waits, the summary at the
end, a short failure, and the HTML report (rendered in headless Chromium).

The release runs through the services role's release tasks (tasks_from: release), on a service
built with boto3 like test_ecs_rolling_deploy's; the emulator's time is slowed so that the wait
lasts long enough to measure how often progress is printed.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import struct
import subprocess
import sys
import time
import zlib

import pytest

from .ansible_runner_helpers import BIN
from . import test_ecs_rolling_deploy as rolling
from .test_ecs_rolling_deploy import IMAGE_V2, current_revision

# The fixture: service users steady on revision 1 behind a load balancer, in cluster app.
app = rolling.app

ANSIBLE_PLAYBOOK = os.path.join(BIN, "ansible-playbook")
IMAGE_V3 = "123456789012.dkr.ecr.us-east-1.amazonaws.com/users:3"
PROGRESS = re.compile(r"^\[\+\d+s\] users (release|rollback|await): ")
PLAYBOOK = """
- name: Release users
  hosts: localhost
  gather_facts: false
  vars:
    services_options: {name: app, release_services: [{name: users, images: {users: "%s"}}]}
    services_context: {subnet_ids: [subnet-1]}
    services_report_dir: "%s"
  tasks:
    - name: Release through the services role
      ansible.builtin.include_role:
        name: shipyard.ecs.services
        tasks_from: release
"""


def run_release(ansible, tmp_path, image, name):
    """ansible-playbook at default verbosity with the default callback; each output line with its wall time."""
    reports = tmp_path / "reports"
    playbook = tmp_path / ("%s.yml" % name)
    playbook.write_text(PLAYBOOK % (image, reports))
    env = ansible.env({"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default", "ANSIBLE_CALLBACK_RESULT_FORMAT": "yaml"})
    start = time.monotonic()
    proc = subprocess.Popen([ANSIBLE_PLAYBOOK, str(playbook), "-i", "localhost,", "-c", "local",
                             "-e", "ansible_python_interpreter=%s" % sys.executable], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = [(time.monotonic() - start, line.rstrip("\n")) for line in proc.stdout]
    return proc.wait(timeout=120), lines, reports


def progress_gaps(lines):
    """Seconds between consecutive progress lines of users, and from the release task's start to the first."""
    started = next(t for t, line in lines if line.startswith("TASK [shipyard.ecs.services : Release the services"))
    times = [started] + [t for t, line in lines if PROGRESS.match(line)]
    return [b - a for a, b in zip(times, times[1:])]


def png_is_not_blank(path):
    """Whether a PNG screenshot holds more than one colour (decoded with zlib: RGB or RGBA, 8 bits)."""
    data = open(path, "rb").read()
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    assert depth == 8 and colour in (2, 6), (depth, colour)
    chunks, pos = [], 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            chunks.append(data[pos + 8:pos + 8 + length])
        pos += 12 + length
    raw = zlib.decompress(b"".join(chunks))
    stride = width * (3 if colour == 2 else 4) + 1
    rows = {raw[i * stride + 1:(i + 1) * stride] for i in range(0, height, 7)}
    return len(rows) > 1


def test_a_slowed_release_prints_progress_then_the_summary_and_its_report_renders(aws, app, ansible, tmp_path):
    # AWS's default health checks, old targets draining for 60 s: about 40 s of wall time at 5x.
    app["elbv2"].modify_target_group_attributes(TargetGroupArn=app["target_group"], Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "60"}])
    aws.set_time_scale(5)
    rc, lines, reports = run_release(ansible, tmp_path, IMAGE_V2, "release")
    text = "\n".join(line for _at, line in lines)
    assert rc == 0, text[-4000:]
    assert current_revision(app).endswith("users:2")
    gaps = progress_gaps(lines)
    print("\n".join(line for _at, line in lines))
    print("release took %.0fs; progress gaps %s" % (lines[-1][0], ["%.1f" % g for g in gaps]))
    assert len(gaps) >= 3 and max(gaps) <= 15.0, gaps
    assert re.search(r"\[\+\d+s\] users release: rollout IN_PROGRESS, tasks \d/2, targets \d/\d healthy \| \(service users\)", text)
    assert "release succeeded: 1 service(s)" in text
    header = next(line for _at, line in lines if "service" in line and "revision" in line and "targets" in line)
    assert header.split()[-8:] == ["service", "revision", "image", "strategy", "duration", "tasks", "targets", "result"]
    assert re.search(r"users +users:1 -> users:2 +users:2 +rolling +[\dms]+ +2/2 +2/2 +completed", text), text[-3000:]

    html = glob.glob(str(reports / "release-app-*.html"))
    assert len(html) == 1 and os.path.exists(html[0][:-5] + ".json")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail("chromium is missing: make system-deps installs it")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars"]
    dom = subprocess.run([chromium] + flags + ["--dump-dom", "file://" + html[0]], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    assert '<table id="summary">' in dom and "<td>completed</td>" in dom
    assert dom.count('class="series series-running"') == 1 and dom.count('class="series series-healthy"') == 1
    assert 'data-event="release_update"' in dom and 'data-event="release_done"' in dom
    shot = tmp_path / "report.png"
    subprocess.run([chromium] + flags + ["--window-size=900,1100", "--screenshot=%s" % shot, "file://" + html[0]],
                   capture_output=True, timeout=60, check=True)
    assert png_is_not_blank(str(shot))
    keep = os.environ.get("SHIPYARD_REPORT_SCREENSHOT")
    if keep:
        shutil.copy(str(shot), keep)


def test_a_crash_looping_release_fails_in_few_lines_with_reason_exit_codes_and_log_lines(aws, app, ansible, tmp_path):
    aws.set_behaviour(IMAGE_V3, "crash", exit_code=3, after_seconds=5)
    aws.set_time_scale(50)
    rc, lines, reports = run_release(ansible, tmp_path, IMAGE_V3, "crash")
    text = "\n".join(line for _at, line in lines)
    assert rc != 0
    assert current_revision(app) == app["rev1"]
    first = next(i for i, (_at, line) in enumerate(lines) if line.startswith("TASK [shipyard.ecs.services : Release the services"))
    shown = [line for _at, line in lines[first:] if line.strip()]
    print("\n".join(shown))
    assert len(shown) < 40, "\n".join(shown)
    assert "release FAILED: 1 service(s)" in text
    assert re.search(r"users +users:1 -> users:2 +users:3 +rolling .* rolled_back", text), text
    assert re.search(r"users: \d stopped task\(s\) [\w, +]+:\s+EssentialContainerExited,\s+exit codes users=3", text), text
    assert re.search(r"last log lines of users \(task \w+\):", text), text
    assert "fatal: [localhost]: FAILED! => " in text and "msg: 'the release failed on users: see the summary above'" in text
    assert "stopped_tasks" not in text, "the module's whole result is not printed"
    assert glob.glob(str(reports / "release-app-*.html"))
