"""Fixtures for the project's own tests against the real local cluster.

These tests never skip for want of a cluster: if none is up they fail, because a check
that was not proven on a real cluster is not done.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness import cluster_state

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class LocalCluster:
    profile: str
    kubeconfig: str
    admin_kubeconfig: str
    node_ip: str
    values: dict[str, str]


@pytest.fixture(scope="session")
def local_cluster() -> LocalCluster:
    values = cluster_state.read()
    if not values.get("KUBECONFIG"):
        pytest.fail(
            "no local cluster is up: run `make cluster-up CONFIG=kind-configs/<profile>.yaml`",
            pytrace=False,
        )
    return LocalCluster(
        values.get("PROFILE", ""),
        values["KUBECONFIG"],
        values.get("ADMIN_KUBECONFIG", "/etc/kubernetes/admin.conf"),
        values.get("NODE_IP", ""),
        values,
    )


@dataclass(frozen=True)
class SuiteRun:
    returncode: int
    stdout: str
    stderr: str
    outdir: Path


def run_suite(kubeconfig: str, outdir: Path, *extra: str, cwd: Path = REPO) -> SuiteRun:
    """Run the shipped suite as a user would, in a subprocess, with all outputs."""
    outdir.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "--pyargs",
        "tests_pci",
        "-p",
        "no:cacheprovider",
        "--kubeconfig",
        kubeconfig,
        f"--junitxml={outdir / 'junit.xml'}",
        *extra,
    ]
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=900)
    return SuiteRun(done.returncode, done.stdout, done.stderr, outdir)
