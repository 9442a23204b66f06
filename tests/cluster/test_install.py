"""Adoption: kubepci installed the ways its documents say, each into a fresh virtual
environment, then run against the local cluster from outside the repository.

- ``python -m build`` makes an sdist and, from it, a wheel; the wheel installs and its
  console script reports what the repository run reports.
- Each nightly CI example's install line, run as written, with its pinned repository
  archive (``KUBEPCI_SOURCE``) pointed at an archive of this tree laid out as a forge
  serves one; then the example's own audit step, whose verdicts and exit code are the
  repository run's.
- The in-cluster Dockerfile's COPY set and ``pip install`` line, emulated without Docker.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest
import yaml

from tests.cluster.conftest import REPO, LocalCluster, SuiteRun, run_suite, verdicts

EXAMPLES = REPO / "examples"
GITHUB = EXAMPLES / "github-actions" / "pci-audit.yml"
GITLAB = EXAMPLES / "gitlab-ci" / ".gitlab-ci.yml"
DOCKERFILE = EXAMPLES / "in-cluster" / "Dockerfile"
VERSION = "0.1.0"
# What a forge serves for a tag: the tree under one top folder (GitHub: OWNER-REPO-TAG or
# REPO-TAG; GitLab: REPO-TAG), which pip builds like an sdist.
ARCHIVE_TOP = f"kubepci-v{VERSION}"


# ------------------------------------------------------------------ what is installed


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tree as it would be committed (tracked and new files, nothing ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    top = tmp_path_factory.mktemp("source") / ARCHIVE_TOP
    for name in filter(None, listed.split("\0")):
        path = REPO / name
        if path.is_file():
            (top / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, top / name)
    return top


@pytest.fixture(scope="module")
def archive(source: Path) -> Path:
    path = source.parent / f"{ARCHIVE_TOP}.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        tar.add(source, arcname=ARCHIVE_TOP)
    return path


@pytest.fixture(scope="module")
def dist(source: Path) -> Path:
    """``python -m build``: the sdist, then the wheel built from the unpacked sdist."""
    out = source.parent / "dist"
    done = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out


def _fresh_venv(path: Path) -> tuple[Path, dict[str, str]]:
    """A new venv, and the environment of a shell whose `python` and `pip` are its own."""
    venv.EnvBuilder(with_pip=True).create(path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "KUBECONFIG"))}
    env.pop("PYTHONPATH", None)
    env["PATH"] = f"{path / 'bin'}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}"
    env["VIRTUAL_ENV"] = str(path)
    return path, env


def _bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=1800
    )


@pytest.fixture(scope="module")
def installed(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    env_dir, env = _fresh_venv(tmp_path_factory.mktemp("wheel") / "venv")
    (wheel,) = dist.glob("*.whl")
    done = _bash(f"python -m pip install -q {shlex.quote(str(wheel))}", env_dir.parent, env)
    assert done.returncode == 0, done.stderr[-3000:]
    return env_dir


@pytest.fixture(scope="module")
def repo_run(local_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    out = tmp_path_factory.mktemp("repo-run")
    return run_suite(local_cluster.kubeconfig, out, f"--evidence-dir={out / 'evidence'}")


def _pack_verdicts(evidence: Path) -> dict[str, str]:
    results = json.loads((evidence / "results.json").read_text())["results"]
    return {r["check_id"]: r["verdict"] for r in results}


# ------------------------------------------------------------------ the wheel and sdist


def test_build_makes_a_complete_wheel_and_sdist(dist: Path) -> None:
    (wheel,) = dist.glob(f"kubepci-{VERSION}-*.whl")
    (sdist,) = dist.glob(f"kubepci-{VERSION}.tar.gz")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "kubepci/catalogue/section1.yaml" in names
    assert any(n.startswith("kubepci/catalogue/default_policy/") for n in names)
    assert len([n for n in names if re.fullmatch(r"tests_pci/test_1_\d_\w+\.py", n)]) == 6
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    points = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "kubepci = kubepci.plugin" in points and "kubepci = kubepci.cli:main" in points
    with tarfile.open(sdist) as tar:
        members = {m.name.split("/", 1)[1] for m in tar.getmembers() if "/" in m.name}
    assert {"pyproject.toml", "README.md", "tests_pci/__init__.py"} <= members


def _run_console_script(env: Path, kubeconfig: str, outdir: Path, cwd: Path) -> SuiteRun:
    outdir.mkdir(parents=True, exist_ok=True)
    command = [
        str(env / "bin" / "kubepci"),
        "-p",
        "no:cacheprovider",
        "--kubeconfig",  # as people type it: with a space
        kubeconfig,
        f"--junitxml={outdir / 'junit.xml'}",
        "-q",
    ]
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=900)
    return SuiteRun(done.returncode, done.stdout, done.stderr, outdir)


def test_installed_suite_matches_repository_run(
    installed: Path, local_cluster: LocalCluster, repo_run: SuiteRun, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    from_install = _run_console_script(
        installed, local_cluster.kubeconfig, tmp_path / "a", elsewhere
    )
    assert from_install.returncode == repo_run.returncode, from_install.stdout[-3000:]
    installed_verdicts = {c: v for c, (v, _) in verdicts(from_install).items()}
    repo_verdicts = {c: v for c, (v, _) in verdicts(repo_run).items()}
    assert installed_verdicts == repo_verdicts
    assert len(installed_verdicts) >= 30


def test_pytest_help_needs_no_cluster(installed: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [str(installed / "bin" / "python"), "-m", "pytest", "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "KUBECONFIG": "/nonexistent"},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "--kubeconfig=PATH" in done.stdout


def test_plugin_stays_passive_in_other_projects(installed: Path, tmp_path: Path) -> None:
    """Installed, the plugin loads into every pytest run; an unrelated project's tests must
    run untouched, without a kubeconfig."""
    (tmp_path / "test_other.py").write_text("def test_other():\n    assert 1 + 1 == 2\n")
    done = subprocess.run(
        [str(installed / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


# ------------------------------------------------------------------ the CI examples


def _github_job() -> dict:
    (job,) = yaml.safe_load(GITHUB.read_text())["jobs"].values()
    return job


def _github_step(name: str) -> str:
    return next(s["run"] for s in _github_job()["steps"] if s.get("name") == name)


def _gitlab_job() -> dict:
    return yaml.safe_load(GITLAB.read_text())["pci-audit"]


def _gitlab_install_and_rest() -> tuple[str, list[str]]:
    script = _gitlab_job()["script"]
    index = next(i for i, line in enumerate(script) if "pip install" in line)
    return script[index], script[index + 1 :]


def _ci_run(example: str, env: dict[str, str], workspace: Path, kubeconfig: str) -> tuple:
    """The example's audit step, as written: (kubepci's exit code, its evidence dir)."""
    out = workspace / "out" / "local"
    if example == "github-actions":
        outputs = workspace.parent / "github_output"
        run_env = {**env, "OUT": str(out), "KUBEPCI_KUBECONFIG": kubeconfig}
        run_env["GITHUB_OUTPUT"] = str(outputs)
        done = _bash(_github_step("Run kubepci"), workspace, run_env)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        (line,) = [ln for ln in outputs.read_text().splitlines() if ln.startswith("rc=")]
        return int(line.removeprefix("rc=")), out / "evidence"
    # GitLab: each script line in turn; the job ends with the first that fails.
    _, rest = _gitlab_install_and_rest()
    run_env = {**env, "CLUSTER": "LOCAL", "PCI_KUBECONFIG_LOCAL": kubeconfig}
    # The job's variables as GitLab expands them ($CLUSTER inside OUT); the source stays
    # the test's archive.
    for name, value in _gitlab_job()["variables"].items():
        if name != "KUBEPCI_SOURCE":
            run_env[name] = str(value).replace("$CLUSTER", "LOCAL")
    done = _bash("set -e\n" + "\n".join(rest), workspace, run_env)
    return done.returncode, workspace / "out" / "LOCAL" / "evidence"


@pytest.mark.parametrize("example", ["github-actions", "gitlab-ci"])
def test_ci_example_installs_as_written_and_runs(
    example: str,
    archive: Path,
    local_cluster: LocalCluster,
    repo_run: SuiteRun,
    tmp_path: Path,
) -> None:
    _, env = _fresh_venv(tmp_path / "venv")
    # The forge's archive URL, here a file: URL of the same tree laid out the same way.
    env["KUBEPCI_SOURCE"] = archive.as_uri()
    workspace = tmp_path / "workspace"  # the job's checkout: no .kubepci/waivers.yaml
    if example == "github-actions":
        line = _github_step("Install kubepci")
    else:
        line = _gitlab_install_and_rest()[0]
    done = _bash(line, workspace, env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    code, evidence = _ci_run(example, env, workspace, local_cluster.kubeconfig)
    assert code == repo_run.returncode
    repo_verdicts = {c: v for c, (v, _) in verdicts(repo_run).items()}
    assert _pack_verdicts(evidence) == repo_verdicts


# ------------------------------------------------------------------ the in-cluster image


def _dockerfile() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    return [(ln.split(None, 1)[0].upper(), ln.split(None, 1)[1]) for ln in lines]


def test_dockerfile_installs_as_written(
    source: Path, local_cluster: LocalCluster, repo_run: SuiteRun, tmp_path: Path
) -> None:
    """The image's COPY set (all the package build needs) and its pip line, emulated: the
    image's root is a folder here, the build context the tree."""
    image = tmp_path / "image"
    _, env = _fresh_venv(tmp_path / "venv")
    installed = False
    for op, argument in _dockerfile():
        if op == "ENV":
            for pair in shlex.split(argument):
                name, _, value = pair.partition("=")
                env[name] = value
        elif op == "COPY":
            *sources, dest = argument.split()
            target = image / dest.lstrip("/")
            for name in sources:
                origin = source / name
                if origin.is_dir():
                    shutil.copytree(origin, target, dirs_exist_ok=True)
                else:
                    target.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(origin, target / origin.name)
        elif op == "RUN" and "pip install" in argument:
            script = argument.replace("/tmp/", f"{image}/tmp/")
            done = _bash(script, tmp_path, env)
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
            installed = True
    assert installed
    out = tmp_path / "run"
    done = subprocess.run(
        [
            str(tmp_path / "venv" / "bin" / "kubepci"),  # the image's ENTRYPOINT
            "-p",
            "no:cacheprovider",
            f"--kubeconfig={local_cluster.kubeconfig}",
            "--check=suite-identity-not-generic",
            f"--evidence-dir={out}",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    expected = verdicts(repo_run)["suite-identity-not-generic"][0]
    assert _pack_verdicts(out) == {"suite-identity-not-generic": expected}, done.stdout[-3000:]
