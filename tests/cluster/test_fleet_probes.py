"""Nodes behind a firewall, proven on the real local cluster (either profile): the kubelet
checks never pass over a node that did not answer, and name it.

Three Node objects are added with the admin kubeconfig, their InternalIPs on this
machine's loopback range only (bench.fleet): one answered by a 401-answering TLS listener
of the test's own, one whose packets an iptables DROP rule swallows, one on which nothing
listens. The suite runs with a probe timeout longer than its probe deadline, so the
filtered node's probe is still waiting when the deadline passes: it is recorded as
unanswered, and the kubelet checks error naming it. The nodes and the rule are removed in
``finally``, whatever happened.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import fleet
from bench.kube import api_client
from tests.cluster.conftest import LocalCluster, SuiteRun, run_suite, verdicts

ANSWERING = fleet.FakeNode(f"{fleet.PREFIX}-node-a-test", "127.10.0.1", "answering")
FILTERED = fleet.FakeNode(f"{fleet.PREFIX}-node-f-test", "127.11.0.1", "filtered")
REFUSING = fleet.FakeNode(f"{fleet.PREFIX}-node-r-test", "127.12.0.1", "refusing")
DEADLINE_S = 3


def _say(_message: str) -> None:
    pass


@pytest.fixture(scope="module")
def run(local_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    outdir = tmp_path_factory.mktemp("fleet")
    admin = api_client(local_cluster.admin_kubeconfig, pool=4)
    assert fleet.refuses(REFUSING.address, fleet.KUBELET_PORT), "something listens there"
    fleet.remove(admin, _say)
    try:
        with fleet.Kubelets([ANSWERING.address]), fleet.firewalled():
            fleet.create(admin, [ANSWERING, FILTERED, REFUSING], threads=3)
            return run_suite(
                local_cluster.kubeconfig,
                outdir,
                f"--evidence-dir={outdir / 'evidence'}",
                f"--probe-deadline={DEADLINE_S}",
                "--probe-timeout=10",
                "--probes-at-once=8",
                "-q",
                "-k",
                "kubelet",
            )
    finally:
        fleet.remove(admin, _say)
        assert not fleet.drop_rule_present()


def _stored(run: SuiteRun, name: str) -> list[dict]:
    paths = sorted((run.outdir / "evidence" / "raw").glob(f"*/{name}.json"))
    assert paths, f"no {name} in the evidence pack"
    return list(json.loads(Path(paths[0]).read_text())["ok"])


def test_kubelet_probe_errors_naming_the_filtered_node(run: SuiteRun) -> None:
    verdict, message = verdicts(run)["kubelet-anonymous-probe"]
    assert verdict == "error", (verdict, message, run.stdout[-2000:])
    assert FILTERED.name in message
    assert f"unanswered: no answer within the {DEADLINE_S} s probe deadline" in message
    assert REFUSING.name in message  # refused: no answer from a kubelet either
    assert ANSWERING.name not in message  # it answered 401


def test_the_deadline_is_recorded_by_kind(run: SuiteRun) -> None:
    probes = {p["url"]: p for p in _stored(run, "probe-kubelet")}
    port = fleet.KUBELET_PORT
    filtered = probes[f"https://{FILTERED.address}:{port}/pods"]
    answering = probes[f"https://{ANSWERING.address}:{port}/pods"]
    refusing = probes[f"https://{REFUSING.address}:{port}/pods"]
    assert filtered["kind"] == "unanswered" and filtered["status"] is None
    assert answering["kind"] == "probe" and answering["status"] == 401
    assert refusing["kind"] == "probe" and refusing["error"] == "connection refused"


def test_no_kubelet_check_passes_over_the_filtered_node(run: SuiteRun) -> None:
    found = verdicts(run)
    # configz: the node proxy refuses loopback targets, so every fake node is named.
    verdict, message = found["kubelet-config"]
    assert verdict == "error" and FILTERED.name in message, (verdict, message)
    # Read-only port: an error naming the filtered node, unless it already fails (the
    # noncompliant kubelet serves 10255 on every address, fake nodes' included).
    verdict, message = found["kubelet-read-only-port"]
    assert verdict in ("error", "failed"), (verdict, message)
    if verdict == "error":
        assert FILTERED.name in message
