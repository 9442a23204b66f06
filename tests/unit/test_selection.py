"""Choosing checks by catalogue id: ``--check ID`` (validated) and ``-k ID``.

The subprocess runs audit a kubeconfig whose server cannot be reached, so each selected
check errors (exit 2) and results.json says which ran; an unknown id stops the run
(exit 4) before any cluster is contacted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from kubepci import catalogue, selection
from tests.unit.test_invocation import DEAD_KUBECONFIG

PYTEST = str(Path(sys.executable).parent / "pytest")
KNOWN = set(catalogue.load().checks)
SELECTIONS = {
    "-k": ["-k", "client-certificate-csrs"],
    "-k expression": ["-k", "kubelet-config or etcd-anonymous-probe"],
    "--check": ["--check", "kubelet-config", "--check=service-anonymous-probe"],
    "--check and -k": ["--check", "kubelet-config", "-k", "not kubelet-config"],
    "unknown --check": ["--check", "kubelet"],
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, str, dict]]:
    root = tmp_path_factory.mktemp("selection")
    kubeconfig = root / "config"
    kubeconfig.write_text(DEAD_KUBECONFIG)

    def run(name: str) -> tuple[int, str, dict]:
        out = root / name.replace(" ", "_")
        done = subprocess.run(
            [
                PYTEST,
                "-p",
                "no:cacheprovider",
                f"--kubeconfig={kubeconfig}",
                f"--evidence-dir={out}",
                *SELECTIONS[name],
            ],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=300,
        )
        results = out / "results.json"
        return (
            done.returncode,
            done.stdout + done.stderr,
            json.loads(results.read_text()) if results.exists() else {},
        )

    with ThreadPoolExecutor(3) as pool:
        futures = {name: pool.submit(run, name) for name in SELECTIONS}
        return {name: future.result() for name, future in futures.items()}


def _ran(results: dict) -> set[str]:
    return {r["check_id"] for r in results["results"]}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("-k", {"client-certificate-csrs"}),
        ("-k expression", {"kubelet-config", "etcd-anonymous-probe"}),
        ("--check", {"kubelet-config", "service-anonymous-probe"}),
        ("--check and -k", set()),
    ],
)
def test_selected_by_catalogue_id(runs, name: str, expected: set[str]) -> None:
    code, output, results = runs[name]
    if not expected:
        assert code == 5, output[-2000:]  # pytest: no tests ran
        return
    assert code == 2, output[-2000:]
    assert _ran(results) == expected
    # The pack says what was left out, so a partial run never reads as a whole audit.
    (not_run,) = [x for x in results["limitations"] if x["kind"] == "not_run"]
    for check_id in KNOWN - expected:
        assert check_id in not_run["reason"]


def test_unknown_check_stops_before_any_contact(runs) -> None:
    code, output, results = runs["unknown --check"]
    assert code == 4, output[-2000:]
    assert "--check kubelet: no such check in the catalogue" in output
    assert "kubelet-anonymous-probe, kubelet-config, kubelet-read-only-port" in output
    assert "connecting to" not in output
    assert results == {}


def test_near_matches() -> None:
    assert selection.near("kublet-confg", KNOWN) == ["kubelet-config"]
    assert selection.near("csr", KNOWN) == ["client-certificate-csrs", "csr-approval-rights"]
    assert selection.near("zzz", KNOWN) == []
    with pytest.raises(pytest.UsageError, match="the checks are: anonymous-rbac-bindings, "):
        selection.validate(["zzz"], KNOWN)
    assert selection.validate(["kubelet-config", "kubelet-config"], KNOWN) == {"kubelet-config"}
