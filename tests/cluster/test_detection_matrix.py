"""The detection matrix: every check and profile → the verdict it must give on the real
local cluster. The noncompliant profile plants one misconfiguration per recommendation;
the compliant profile must come out clean (exit 0, no failures, no errors).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kubepci.catalogue import load
from tests.cluster.conftest import LocalCluster, SuiteRun, run_suite, verdicts

MANUAL_ALWAYS = {"break-glass-custody", "mfa-at-identity-provider"}
# Everything else passes on the compliant profile and fails on the noncompliant one.
EXPECTED: dict[str, dict[str, str]] = {
    check: (
        {"compliant": "manual", "noncompliant": "manual"}
        if check in MANUAL_ALWAYS
        else {"compliant": "passed", "noncompliant": "failed"}
    )
    for check in load().checks
}
OBJECT_REF = re.compile(r"^[A-Z][A-Za-z]+ \S+: ", re.MULTILINE)


@pytest.fixture(scope="module")
def suite(local_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    # --node-root / : the suite runs on the node itself, so the key-file checks are judged.
    return run_suite(
        local_cluster.kubeconfig, tmp_path_factory.mktemp("matrix"), "--node-root", "/", "-q"
    )


def test_every_check_ran(suite: SuiteRun) -> None:
    got = verdicts(suite)
    assert set(got) == set(EXPECTED), suite.stdout[-3000:]


@pytest.mark.parametrize("check_id", sorted(EXPECTED))
def test_verdict(check_id: str, suite: SuiteRun, local_cluster: LocalCluster) -> None:
    expected = EXPECTED[check_id][local_cluster.profile]
    verdict, message = verdicts(suite).get(check_id, ("missing", ""))
    assert verdict == expected, f"{check_id}: {verdict} (expected {expected})\n{message}"
    if verdict == "failed":
        # A failure names each offending object or setting as `Kind namespace/name: why`.
        assert OBJECT_REF.search(message), message


def test_exit_code(suite: SuiteRun, local_cluster: LocalCluster) -> None:
    expected = 0 if local_cluster.profile == "compliant" else 1
    assert suite.returncode == expected, suite.stdout[-3000:] + suite.stderr[-2000:]


def test_summary_line_per_item(suite: SuiteRun) -> None:
    lines = [line for line in suite.stdout.splitlines() if line.startswith("PCI 1.")]
    assert [line.split(":")[0] for line in lines] == [f"PCI 1.{i}" for i in range(1, 7)]


def test_outputs_written(suite: SuiteRun) -> None:
    assert Path(suite.outdir / "junit.xml").stat().st_size > 0
