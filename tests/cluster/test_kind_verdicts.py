"""The kind provider: on a cluster made by `kind create cluster` from the same kind config,
the suite gives every check the verdict it gives on the harness cluster of that profile.

The harness verdicts are the recorded run in tests/data/packs/<profile>/results.json. Runs
only while a kind cluster is up (`make cluster-up PROVIDER=kind CONFIG=...`, or `make
kind-tests`); with the harness provider up every test here is skipped, as profile-specific
proofs are while the other profile is up. The key-file checks read the control-plane node's
filesystem through NODE_ROOT (`/proc/<pid>/root` of its container).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from kubepci.catalogue import load
from tests.cluster.conftest import LocalCluster, run_suite

REPO = Path(__file__).resolve().parents[2]
RECORDED = REPO / "tests" / "data" / "packs"
CHECKS = sorted(load().checks)


@pytest.fixture(scope="module")
def kind_cluster(local_cluster: LocalCluster) -> LocalCluster:
    if local_cluster.values.get("PROVIDER") != "kind":
        pytest.skip("the harness provider's cluster is up, not a kind cluster")
    return local_cluster


@pytest.fixture(scope="module")
def harness_verdicts(kind_cluster: LocalCluster) -> dict[str, str]:
    path = RECORDED / kind_cluster.profile / "results.json"
    if not path.is_file():
        pytest.skip(f"no recorded harness run of the {kind_cluster.profile!r} profile")
    document = json.loads(path.read_text(encoding="utf-8"))
    return {r["check_id"]: r["verdict"] for r in document["results"]}


@pytest.fixture(scope="module")
def kind_results(
    kind_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, Any]]:
    out = tmp_path_factory.mktemp("kind-verdicts")
    run = run_suite(
        kind_cluster.kubeconfig,
        out,
        f"--node-root={kind_cluster.values['NODE_ROOT']}",
        f"--evidence-dir={out / 'evidence'}",
        "-q",
    )
    path = out / "evidence" / "results.json"
    assert path.is_file(), run.stdout[-3000:] + run.stderr[-2000:]
    document = json.loads(path.read_text(encoding="utf-8"))
    return {r["check_id"]: r for r in document["results"]}


def test_nodes_are_kind_containers(kind_cluster: LocalCluster) -> None:
    """The cluster under test really is kind's: every node is a container kind labelled."""
    names = kind_cluster.values["NODES"].split(",")
    labels = subprocess.run(
        [
            "docker",
            "inspect",
            "--format",
            '{{index .Config.Labels "io.x-k8s.kind.cluster"}}',
            *names,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert labels == [kind_cluster.values["KIND_CLUSTER"]] * len(names)


def test_every_check_ran(kind_results: dict[str, dict[str, Any]]) -> None:
    assert sorted(kind_results) == CHECKS


@pytest.mark.parametrize("check_id", CHECKS)
def test_same_verdict_as_the_harness(
    check_id: str, kind_results: dict[str, dict[str, Any]], harness_verdicts: dict[str, str]
) -> None:
    result = kind_results.get(check_id, {})
    got, expected = result.get("verdict", "missing"), harness_verdicts[check_id]
    findings = [
        f"{f['kind']} {f['namespace']}/{f['name']}: {f['detail']}".replace(" /", " ")
        for f in result.get("findings", [])
    ]
    assert got == expected, (
        f"{check_id}: {got} on kind, {expected} on the harness; {result.get('reason', '')}\n"
        + "\n".join(findings)
    )
