"""Fixtures for the project's own tests against the real local cluster.

These tests never skip for want of a cluster: if none is up they fail, because a check
that was not proven on a real cluster is not done.
"""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
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


def require_profile(local: LocalCluster, profile: str) -> LocalCluster:
    """Skip a profile-specific proof while the other profile is up (one cluster at a time;
    `make cluster-tests` brings up each in turn, so every proof runs once)."""
    if local.profile != profile:
        pytest.skip(f"the {local.profile!r} profile is up, not {profile!r}")
    return local


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


def verdicts(run: SuiteRun) -> dict[str, tuple[str, str]]:
    """check id → (verdict, failure or error message), from the run's JUnit properties."""
    tree = ET.parse(run.outdir / "junit.xml")
    out: dict[str, tuple[str, str]] = {}
    for case in tree.iter("testcase"):
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        message = ""
        if problem is not None:
            message = problem.get("message", "") + "\n" + (problem.text or "")
        out[str(props["check_id"])] = (str(props["verdict"]), message)
    return out
