"""The collection as a user gets it: the release tarball, its install, its execution environment.

Each test works on a copy of the checkout (the files git tracks plus new ones it does not
ignore, as ``make sanity`` copies them), so nothing here touches the working tree.
"""

from __future__ import annotations

import filecmp
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile

import pytest
import yaml

from integration.ansible_runner_helpers import REPO

BIN = os.path.dirname(sys.executable)
GALAXY = yaml.safe_load(open(os.path.join(REPO, "galaxy.yml")))
VERSION = GALAXY["version"]

# What a user of the collection needs, and only that (galaxy.yml's build_ignore says why).
TOP_LEVEL = {"COPYING", "README.md", "MANIFEST.json", "FILES.json", "requirements.txt", "changelogs", "docs",
             "inventories", "meta", "playbooks", "plugins", "policies", "roles"}
CHECKOUT_ONLY = ["ansible.cfg", ".ansible-lint", "pytest.ini", "Makefile", "requirements-dev.txt", ".gitignore",
                 "execution-environment.yml", "collections/", "tests/", "extensions/", "bench/", "tools/", ".ci/",
                 "inventories/local/", "examples/", "changelogs/fragments/", "build/", ".venv/", ".collections/", ".local-aws/",
                 ".cache/"]


def run(cmd, cwd, env=None, check=True, timeout=300, bin_dir=BIN):
    environment = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""), **(env or {}))
    proc = subprocess.run(cmd, cwd=cwd, env=environment, capture_output=True, text=True, timeout=timeout, check=False)
    if check:
        assert proc.returncode == 0, "%s failed (%s):\n%s\n%s" % (cmd, proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:])
    return proc


@pytest.fixture
def checkout(tmp_path):
    """A copy of the checkout, committed in a git repository of its own, with a developer's litter."""
    root = tmp_path / "shipyard.ecs"
    root.mkdir()
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        source = os.path.join(REPO, name)
        if os.path.isfile(source) and not os.path.islink(source):
            os.makedirs(os.path.dirname(str(root / name)), exist_ok=True)
            shutil.copy2(source, str(root / name))
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com"]
    run(["git", "init", "-q"], str(root))
    run(git + ["add", "-A"], str(root))
    run(git + ["commit", "-qm", "checkout"], str(root))
    # What `make setup`, `make local-aws` and test runs leave in a checkout (all git-ignored).
    for litter in (".collections/ansible_collections/shipyard/README", ".local-aws/endpoint", ".cache/ansible-tmp/x",
                   "build/test-logs/pytest.log", "plugins/modules/__pycache__/ecs_stack.cpython-311.pyc",
                   "tests/output/junit.xml", ".pytest_cache/v"):
        os.makedirs(os.path.dirname(str(root / litter)), exist_ok=True)
        (root / litter).write_text("litter\n")
    return root


def build(root, output):
    run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--force", "--output-path", str(output), "."], str(root))
    return os.path.join(str(output), "shipyard-ecs-%s.tar.gz" % VERSION)


def members(tarball):
    with tarfile.open(tarball) as archive:
        return sorted(m.name + ("/" if m.isdir() else "") for m in archive.getmembers())


def test_tarball_holds_the_collection_and_nothing_that_belongs_to_the_checkout(checkout, tmp_path):
    names = members(build(checkout, tmp_path / "out"))
    assert {n.split("/")[0] for n in names} == TOP_LEVEL
    for path in CHECKOUT_ONLY:
        assert not [n for n in names if n == path or n.startswith(path)], "%s is in the tarball" % path
    assert not [n for n in names if n.endswith(".pyc")]
    tracked = subprocess.run(["git", "ls-files"], cwd=str(checkout), capture_output=True, text=True, check=True).stdout.split()
    for wanted in ("plugins/modules/", "plugins/module_utils/", "plugins/filter/", "roles/", "playbooks/", "meta/", "docs/"):
        for name in (t for t in tracked if t.startswith(wanted)):
            assert name in names, "%s is missing from the tarball" % name
    for example in ("inventories/app.yml", "inventories/staging/group_vars/all.yml",
                    "inventories/production/group_vars/all.yml", "policies/deployer-services-policy.json"):
        assert example in names


def test_installed_tarball_documents_its_modules_from_a_fresh_collections_path(checkout, tmp_path):
    tarball = build(checkout, tmp_path / "out")
    user = tmp_path / "user"
    user.mkdir()
    # No ansible.cfg of the checkout: only the collections path the install made (amazon.aws, whose
    # doc fragments the modules extend, comes with the `ansible` package, as docs/first-deploy.md says).
    (user / "ansible.cfg").write_text("[defaults]\ncollections_path = ./collections\n")
    env = {"ANSIBLE_CONFIG": str(user / "ansible.cfg"), "ANSIBLE_HOME": str(tmp_path / "ansible-home"), "ANSIBLE_NOCOLOR": "1"}
    run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", tarball, "-p", "collections", "--no-deps"],
        str(user), env)
    installed = user / "collections" / "ansible_collections" / "shipyard" / "ecs"
    assert (installed / "MANIFEST.json").is_file() and not (installed / "ansible.cfg").exists()
    for module in ("ecs_stack", "ecs_status_info"):
        doc = run([os.path.join(BIN, "ansible-doc"), "shipyard.ecs." + module], str(user), env).stdout
        header = doc.splitlines()[0]
        assert header.startswith("> MODULE shipyard.ecs.%s" % module), header
        assert str(installed) in header, "ansible-doc read %s, not the installed collection" % header
        assert "OPTIONS" in doc and "RETURN VALUES" in doc


def test_make_release_bumps_the_version_releases_the_changelog_and_builds_the_tarball(checkout):
    major, minor, patch = (int(p) for p in VERSION.split("."))
    released = "%d.%d.%d" % (major, minor + 1, 0)
    fragments = sorted(os.listdir(str(checkout / "changelogs" / "fragments")))
    assert fragments, "no changelog fragment to release"
    proc = run(["bash", "tools/release.sh"], str(checkout), {"VERSION": released})
    assert "build/shipyard-ecs-%s.tar.gz" % released in proc.stdout
    assert yaml.safe_load((checkout / "galaxy.yml").read_text())["version"] == released
    changelog = yaml.safe_load((checkout / "changelogs" / "changelog.yaml").read_text())
    release = changelog["releases"][released]
    assert sorted(release["fragments"]) == sorted(fragments + ["release-%s.yml" % released])
    assert "cut from commit" in release["changes"]["release_summary"]
    assert os.listdir(str(checkout / "changelogs" / "fragments")) == []
    assert "v%s\n" % released in (checkout / "CHANGELOG.rst").read_text()
    ee = (checkout / "execution-environment.yml").read_text()
    assert "build/shipyard-ecs-%s.tar.gz" % released in ee and "shipyard-ecs-ee:%s" % released in ee
    assert VERSION not in ee
    names = members(str(checkout / "build" / ("shipyard-ecs-%s.tar.gz" % released)))
    assert "CHANGELOG.rst" in names and "changelogs/changelog.yaml" in names
    assert not [n for n in names if n.startswith("changelogs/fragments") or n.startswith("changelogs/.plugin-cache")]


@pytest.mark.parametrize("version, change, message", [
    ("1.0", None, "give the release's version as x.y.z"),
    ("0.0.1", None, "lower than galaxy.yml's version"),
    ("99.0.0", "README.md", "uncommitted changes"),
])
def test_make_release_refuses_before_changing_anything(checkout, version, change, message):
    if change:
        with open(str(checkout / change), "a") as handle:
            handle.write("\nedited\n")
    proc = run(["bash", "tools/release.sh"], str(checkout), {"VERSION": version}, check=False)
    assert proc.returncode == 2 and message in proc.stderr
    status = run(["git", "status", "--porcelain", "--untracked-files=no"], str(checkout)).stdout
    assert status.strip() == ("M %s" % change if change else "")


def test_execution_environment_is_pinned_and_ansible_builder_creates_its_context_from_the_tarball(checkout):
    definition = yaml.safe_load((checkout / "execution-environment.yml").read_text())
    base = definition["images"]["base_image"]["name"]
    assert re.fullmatch(r"[^:@]+:[0-9][\w.-]*", base), "base image %s is not pinned by a version tag" % base
    dependencies = definition["dependencies"]
    pins = dict(line.split("==") for line in open(os.path.join(REPO, "requirements-dev.txt")).read().split("\n")
                if "==" in line and not line.startswith("#") for line in [line.split("#")[0].strip()])
    assert dependencies["ansible_core"]["package_pip"] == "ansible-core==" + pins["ansible-core"]
    assert dependencies["ansible_runner"]["package_pip"] == "ansible-runner==" + pins["ansible-runner"]
    assert sorted(dependencies["python"]) == ["boto3==" + pins["boto3"], "botocore==" + pins["botocore"]]
    import ansible_collections  # pylint: disable=import-outside-toplevel

    site = [p for p in ansible_collections.__path__ if os.path.isdir(os.path.join(p, "amazon", "aws"))][0]
    for collection in dependencies["galaxy"]["collections"]:
        if collection.get("type") == "file":
            assert collection["name"] == "collections/shipyard-ecs-%s.tar.gz" % VERSION
            continue
        # The versions CI tests: those the `ansible` package of requirements-dev.txt installed.
        namespace, name = collection["name"].split(".")
        manifest = yaml.safe_load(open(os.path.join(site, namespace, name, "MANIFEST.json")))
        assert collection["version"] == "==" + manifest["collection_info"]["version"]

    tarball = build(checkout, checkout / "build")
    run([os.path.join(BIN, "ansible-builder"), "create", "-f", "execution-environment.yml", "--context", "context",
         "--output-filename", "Containerfile"], str(checkout))
    context = checkout / "context"
    copied = context / "_build" / "collections" / os.path.basename(tarball)
    assert filecmp.cmp(tarball, str(copied), shallow=False)
    containerfile = (context / "Containerfile").read_text()
    assert 'ARG EE_BASE_IMAGE="%s"' % base in containerfile
    assert "latest" not in containerfile
    requirements = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    assert {"name": "collections/%s" % os.path.basename(tarball), "type": "file"} in requirements["collections"]
    assert "boto3==" + pins["boto3"] in (context / "_build" / "requirements.txt").read_text()


def test_requires_ansible_is_the_ansible_core_ci_tests():
    runtime = yaml.safe_load(open(os.path.join(REPO, "meta", "runtime.yml")))
    pinned = re.search(r"^ansible-core==(\d+)\.(\d+)\.\d+", open(os.path.join(REPO, "requirements-dev.txt")).read(), re.M)
    assert runtime["requires_ansible"] == ">=%s.%s.0" % pinned.groups()


# pip's wheel cache for the fresh venvs below: a second run installs without downloading.
PIP_CACHE = os.path.join(REPO, ".cache", "pip")


def documented_requirements():
    """The packages docs/first-deploy.md tells a user to install, as its ``pip install`` line says."""
    text = open(os.path.join(REPO, "docs", "first-deploy.md")).read()
    line = re.search(r"^python -m pip install (.+)$", text, re.M)
    assert line, "docs/first-deploy.md has no `python -m pip install` line"
    return shlex.split(line.group(1))


def fresh_venv(path):
    """A new venv (no system site-packages) with only the documented requirements; its bin directory.

    ``requirements.txt`` in the tarball says what the modules need on top of ansible; the
    install must satisfy it too.
    """
    base = getattr(sys, "_base_executable", None) or sys.executable
    run([base, "-m", "venv", str(path)], str(path.parent))
    python = os.path.join(str(path), "bin", "python")
    env = {"PIP_CACHE_DIR": PIP_CACHE, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "VIRTUAL_ENV": str(path)}
    run([python, "-m", "pip", "install", "--quiet"] + documented_requirements(), str(path.parent), env, timeout=600,
        bin_dir=os.path.join(str(path), "bin"))
    requirements = [r.strip() for r in open(os.path.join(REPO, "requirements.txt")) if r.strip() and not r.startswith("#")]
    check = run([python, "-m", "pip", "install", "--dry-run", "--no-index", "--quiet"] + requirements, str(path.parent),
                env, check=False, bin_dir=os.path.join(str(path), "bin"))
    assert check.returncode == 0, "the documented install does not satisfy requirements.txt: %s" % check.stderr[-2000:]
    return os.path.join(str(path), "bin")


def test_first_deploy_documents_the_requirements_of_the_collection():
    wanted = documented_requirements()
    assert any(w.startswith("ansible==") for w in wanted), wanted
    for requirement in open(os.path.join(REPO, "requirements.txt")):
        requirement = requirement.split("#")[0].strip()
        if requirement:
            assert requirement in wanted, "%s (requirements.txt) is not in docs/first-deploy.md's install" % requirement


@pytest.mark.slow
def test_installed_tarball_deploys_to_the_local_emulated_aws_and_shows_its_status(aws, boto3_client, checkout, tmp_path):
    ssm = boto3_client("ssm")
    for name in ("DATABASE_URL", "SECRET_KEY"):
        ssm.put_parameter(Name="/flask-microservices/local/users/" + name, Value="throwaway", Type="SecureString")
    tarball = build(checkout, tmp_path / "out")
    # A user's machine: a new venv with what docs/first-deploy.md installs, and nothing of the test venv.
    venv_bin = fresh_venv(tmp_path / "venv")
    user = tmp_path / "user"
    user.mkdir()
    # A user's project as docs/first-deploy.md sets it up; the inventory is the checkout's local one.
    (user / "ansible.cfg").write_text("[defaults]\ncollections_path = ./collections\ninterpreter_python = auto_silent\n"
                                      "callback_result_format = yaml\n")
    env = dict(aws.env(), ANSIBLE_CONFIG=str(user / "ansible.cfg"), ANSIBLE_HOME=str(tmp_path / "ansible-home"),
               ANSIBLE_NOCOLOR="1", VIRTUAL_ENV=str(tmp_path / "venv"), PYTHONPATH="")
    run([os.path.join(venv_bin, "ansible-galaxy"), "collection", "install", tarball, "-p", "collections", "--no-deps"],
        str(user), env, bin_dir=venv_bin)
    inventory = os.path.join(REPO, "inventories", "local")
    # Nothing of the test venv leaks into the user's: its test tools are not importable there.
    leak = run([os.path.join(venv_bin, "python"), "-c", "import moto"], str(user), env, check=False, bin_dir=venv_bin)
    assert leak.returncode != 0, "the fresh venv imports moto: it is not fresh"
    deploy = run([os.path.join(venv_bin, "ansible-playbook"), "shipyard.ecs.deploy", "-i", inventory], str(user), env,
                 timeout=900, bin_dir=venv_bin)
    installed = str(user / "collections" / "ansible_collections" / "shipyard" / "ecs")
    # The roles ran from the installed collection, not from a checkout.
    assert "included: %s/roles/platform/tasks/cluster.yml" % installed in deploy.stdout
    deprecations = [line for line in (deploy.stdout + deploy.stderr).splitlines() if "[DEPRECATION WARNING]" in line]
    # The one README.md explains (Deprecation warnings); any other is new and needs fixing or explaining.
    assert [line for line in deprecations if "assume_role_policy_document_raw" not in line] == []
    status = run([os.path.join(venv_bin, "ansible-playbook"), "shipyard.ecs.status", "-i", inventory], str(user), env,
                 bin_dir=venv_bin).stdout
    rows = {line.split()[0]: line.split() for line in status.splitlines()
            if line.strip().split(" ")[0] in ("client", "users", "swagger") and "1/1" in line}
    assert sorted(rows) == ["client", "swagger", "users"], status[-3000:]
    assert all("COMPLETED" in row for row in rows.values())
