"""Adoption: `pip install .` into a fresh virtual environment, then run the shipped suite
from a directory outside the repository; it must report what the repository run reports."""

from __future__ import annotations

import subprocess
import venv
from pathlib import Path

import pytest

from tests.cluster.conftest import REPO, LocalCluster, SuiteRun, run_suite, verdicts


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    env = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=True).create(env)
    pip = [str(env / "bin" / "python"), "-m", "pip", "install", "-q"]
    done = subprocess.run([*pip, str(REPO)], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return env


def _run_console_script(env: Path, kubeconfig: str, outdir: Path, cwd: Path) -> SuiteRun:
    outdir.mkdir(parents=True, exist_ok=True)
    command = [
        str(env / "bin" / "kubepci"),
        "-p",
        "no:cacheprovider",
        f"--kubeconfig={kubeconfig}",
        f"--junitxml={outdir / 'junit.xml'}",
        "-q",
    ]
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=900)
    return SuiteRun(done.returncode, done.stdout, done.stderr, outdir)


def test_installed_suite_matches_repository_run(
    installed: Path, local_cluster: LocalCluster, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    from_install = _run_console_script(
        installed, local_cluster.kubeconfig, tmp_path / "a", elsewhere
    )
    from_repo = run_suite(local_cluster.kubeconfig, tmp_path / "b")
    assert from_install.returncode == from_repo.returncode, from_install.stdout[-3000:]
    installed_verdicts = {c: v for c, (v, _) in verdicts(from_install).items()}
    repo_verdicts = {c: v for c, (v, _) in verdicts(from_repo).items()}
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
