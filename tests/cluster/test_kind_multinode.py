"""The multinode kind profile: three API servers and two workers, every instance judged.

kind-configs/multinode.yaml is the compliant profile on five nodes with planted drift:
control-plane3's API server alone reads a static token file and allows 720h ServiceAccount
tokens; worker2's kubelet alone is anonymous + AlwaysAllow with its read-only port open, and
its serving key is world-readable. Each finding must name that instance and no other; every
other check keeps the compliant profile's recorded verdict, except api-server-anonymous-config,
which fails on every API server because kubeadm's token discovery (how kind joins nodes)
needs anonymous reads of kube-public/cluster-info (see the config's header).

The key-file checks see one node's filesystem per run (--node-root), so the suite runs once
with each of the first control-plane node, the clean worker and worker2 as the node root.
Skipped unless the multinode kind cluster is up (`make kind-tests`).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.conftest import LocalCluster, run_suite

REPO = Path(__file__).resolve().parents[2]
CLUSTER = "kubepci-multinode"
CONTROL_PLANES = [
    f"{CLUSTER}-control-plane",
    f"{CLUSTER}-control-plane2",
    f"{CLUSTER}-control-plane3",
]
WORKERS = [f"{CLUSTER}-worker", f"{CLUSTER}-worker2"]
DRIFTED_API_SERVER = f"kube-apiserver-{CLUSTER}-control-plane3"
LOOSE_WORKER = f"{CLUSTER}-worker2"
# Checks whose verdict differs from the compliant profile's, and the objects they must name.
DRIFT = {
    "static-token-file": {DRIFTED_API_SERVER},
    "service-account-token-lifetime": {DRIFTED_API_SERVER},
    "kubelet-config": {LOOSE_WORKER},
    "kubelet-anonymous-probe": {LOOSE_WORKER},
    "kubelet-read-only-port": {LOOSE_WORKER},
    # With the first control-plane node as --node-root, its AuthenticationConfiguration.
    "api-server-anonymous-config": {f"kube-apiserver-{CLUSTER}-control-plane"},
}
Results = dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def multinode(local_cluster: LocalCluster) -> LocalCluster:
    if local_cluster.values.get("PROVIDER") != "kind" or local_cluster.profile != "multinode":
        pytest.skip("the multinode kind cluster is not the one up")
    return local_cluster


def _node_root(container: str) -> str:
    pid = subprocess.run(
        ["docker", "inspect", "--format", "{{.State.Pid}}", container],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return f"/proc/{pid}/root"


def _results(local: LocalCluster, outdir: Path, node: str) -> Results:
    run = run_suite(
        local.kubeconfig,
        outdir,
        f"--node-root={_node_root(node)}",
        f"--evidence-dir={outdir / 'evidence'}",
        "-q",
    )
    path = outdir / "evidence" / "results.json"
    assert path.is_file(), run.stdout[-3000:] + run.stderr[-2000:]
    document = json.loads(path.read_text(encoding="utf-8"))
    return {r["check_id"]: r for r in document["results"]}


@pytest.fixture(scope="module")
def on_control_plane(multinode: LocalCluster, tmp_path_factory: pytest.TempPathFactory) -> Results:
    return _results(multinode, tmp_path_factory.mktemp("mn-cp"), CONTROL_PLANES[0])


@pytest.fixture(scope="module")
def on_loose_worker(multinode: LocalCluster, tmp_path_factory: pytest.TempPathFactory) -> Results:
    return _results(multinode, tmp_path_factory.mktemp("mn-w2"), LOOSE_WORKER)


@pytest.fixture(scope="module")
def on_clean_worker(multinode: LocalCluster, tmp_path_factory: pytest.TempPathFactory) -> Results:
    return _results(multinode, tmp_path_factory.mktemp("mn-w1"), WORKERS[0])


def _named(result: dict[str, Any]) -> set[str]:
    return {f["name"] for f in result.get("findings", [])}


def test_three_control_planes_and_two_workers(multinode: LocalCluster) -> None:
    assert multinode.values["NODES"].split(",") == CONTROL_PLANES + WORKERS


@pytest.mark.parametrize("check_id", sorted(DRIFT))
def test_drift_is_named_by_instance(check_id: str, on_control_plane: Results) -> None:
    result = on_control_plane[check_id]
    assert result["verdict"] == "failed", result["reason"]
    assert _named(result) == DRIFT[check_id]


def test_every_api_server_instance_is_judged(on_control_plane: Results) -> None:
    judged = {e["content"]["pod"] for e in on_control_plane["static-token-file"]["evidence"]}
    assert judged == {f"kube-system/kube-apiserver-{n}" for n in CONTROL_PLANES}


def test_token_lifetime_follows_the_drifted_server(on_control_plane: Results) -> None:
    """A projected token asking for 48h gets it from the one API server that allows 720h."""
    result = on_control_plane["projected-token-expiration"]
    assert result["verdict"] == "failed"
    (finding,) = result["findings"]
    assert finding["name"] == "long-projected-token"
    assert DRIFTED_API_SERVER in finding["detail"]


def test_other_checks_keep_the_compliant_verdicts(on_control_plane: Results) -> None:
    recorded = json.loads((REPO / "tests/data/packs/compliant/results.json").read_text())
    compliant = {r["check_id"]: r["verdict"] for r in recorded["results"]}
    drifted = set(DRIFT) | {"projected-token-expiration"}
    got = {c: r["verdict"] for c, r in on_control_plane.items() if c not in drifted}
    assert got == {c: v for c, v in compliant.items() if c not in drifted}


def test_world_readable_key_found_only_on_the_worker_that_has_it(
    on_loose_worker: Results, on_clean_worker: Results, on_control_plane: Results
) -> None:
    loose = on_loose_worker["key-file-permissions"]
    assert loose["verdict"] == "failed"
    assert _named(loose) == {"/var/lib/kubelet/pki/kubelet.key"}
    assert on_clean_worker["key-file-permissions"]["verdict"] == "passed"
    assert on_control_plane["key-file-permissions"]["verdict"] == "passed"


def test_a_worker_root_has_no_signing_keys_to_judge(on_clean_worker: Results) -> None:
    """Fail closed: a worker's filesystem holds no CA, so the check errors, never passes."""
    assert on_clean_worker["signing-key-permissions"]["verdict"] == "error"
