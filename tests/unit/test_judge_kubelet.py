"""1.1.4 judged (kubepci.analysis.kubelet_access): kubelets answering without credentials,
their read-only port, and their configz. Built on the recorded answers and configz of both
local profiles, varied by hand (a kubelet answering 403, 200, 404 or nothing; configz with
anonymous on, an error, the nodes/proxy grant absent)."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest

from kubepci.analysis.endpoints import NodeAddress, ReadOnlyTarget
from kubepci.analysis.kubelet_access import (
    configz_not_read,
    judge_kubelet_config,
    judge_kubelet_probes,
    judge_read_only_probes,
    node_of,
    plan_read_only_probes,
)
from kubepci.records.kubelet_configz import NOT_GRANTED
from kubepci.records.probes import ProbeResult
from tests.support.judge_evidence import evidence, lines, recorded, titles

COMPLIANT = recorded("compliant")
NONCOMPLIANT = recorded("noncompliant")
NODES = COMPLIANT.node_addresses  # vm at 192.0.2.2
KUBELET = "https://192.0.2.2:10250/pods"


def kubelet(status: int | None, error: str = "") -> list[ProbeResult]:
    (probe,) = COMPLIANT.probes("kubelet")
    return [dataclasses.replace(probe, status=status, error=error)]


# ------------------------------------------------------------------ port 10250
def test_401_is_the_only_good_answer() -> None:
    judgement = judge_kubelet_probes(COMPLIANT.probes("kubelet"), NODES)
    assert judgement.findings == ()
    assert judgement.passed == "every kubelet answered 401 without credentials"
    assert titles(judgement) == ["Unauthenticated requests to each kubelet"]


@pytest.mark.parametrize(
    ("status", "detail"),
    [
        (403, "403: anonymous authentication is enabled (requests become system:anonymous; "
              "only authorization stops them)"),
        (200, "200: serves the kubelet API to anyone without credentials (critical)"),
        (404, "unexpected answer 404 to an unauthenticated GET /pods"),
        (299, "299: serves the kubelet API to anyone without credentials (critical)"),
        (300, "unexpected answer 300 to an unauthenticated GET /pods"),
    ],
)  # fmt: skip
def test_any_other_answer_is_a_finding_on_the_node(status: int, detail: str) -> None:
    assert lines(judge_kubelet_probes(kubelet(status), NODES)) == [
        f"Node vm: kubelet 192.0.2.2:10250 {detail}"
    ]


def test_the_recorded_open_kubelet_is_critical() -> None:
    (finding,) = judge_kubelet_probes(NONCOMPLIANT.probes("kubelet"), NODES).findings
    assert finding.detail.endswith("(critical)")


def test_a_kubelet_that_did_not_answer_leaves_no_verdict() -> None:
    judgement = judge_kubelet_probes(kubelet(None, "timed out"), NODES)
    assert judgement.unavailable == f"vm: GET {KUBELET} → no answer (timed out)"
    assert titles(judgement) == ["Unauthenticated requests to each kubelet"]


def test_no_node_to_probe_leaves_no_verdict() -> None:
    judgement = judge_kubelet_probes([], NODES)
    assert judgement.unavailable == "no node has an address to probe"
    assert judgement.evidence == ()


def test_a_host_no_node_has_is_named_by_itself() -> None:
    assert node_of(KUBELET, NODES) == "vm"
    assert node_of("https://198.51.100.1:10250/pods", NODES) == "198.51.100.1"


# ------------------------------------------------------------------ read-only port
def test_the_port_configz_gives_is_probed() -> None:
    plan = plan_read_only_probes(NONCOMPLIANT.node_addresses, NONCOMPLIANT.configz)
    assert [t.url for t in plan.then] == ["http://192.0.2.2:10255/pods"]
    assert evidence(plan.so_far, "Read-only port probed on each kubelet, and why that port") == [
        "vm: http://192.0.2.2:10255/pods (configz readOnlyPort=10255)"
    ]
    judgement = judge_read_only_probes(plan.then, NONCOMPLIANT.probes("kubelet-read-only"))
    assert lines(judgement) == [
        "Node vm: read-only port 10255 answered 200 to GET http://192.0.2.2:10255/pods "
        "without credentials (configz readOnlyPort=10255)"
    ]


def test_a_refused_default_port_passes() -> None:
    plan = plan_read_only_probes(NODES, COMPLIANT.configz)
    (target,) = plan.then
    assert target.basis.startswith("configz readOnlyPort is 0 (disabled)")
    judgement = judge_read_only_probes(plan.then, COMPLIANT.probes("kubelet-read-only"))
    assert judgement.passed == "the read-only port (10255) refused connections on every node"
    assert titles(judgement) == ["Plain HTTP requests to each kubelet's read-only port"]


def test_configz_not_read_assumes_the_default_port_on_every_node() -> None:
    configz = configz_not_read(NODES, "nodes/proxy forbidden")
    assert configz == {"vm": {"error": "nodes/proxy forbidden"}}
    (target,) = plan_read_only_probes(NODES, configz).then
    assert target.port == 10255
    assert "configz not read (nodes/proxy forbidden)" in target.basis


def test_no_node_with_an_address_leaves_nothing_to_probe() -> None:
    plan = plan_read_only_probes([NodeAddress("vm", "", 10250)], COMPLIANT.configz)
    assert plan.so_far.unavailable == "no node has an address to probe"
    assert plan.then == [] and plan.so_far.evidence == ()


TARGET = ReadOnlyTarget("vm", "192.0.2.2", 10255, "configz readOnlyPort=10255")


def read_only(status: int | None, error: str = "") -> list[ProbeResult]:
    return [ProbeResult("GET", TARGET.url, status, error)]


def test_a_filtered_read_only_port_leaves_no_verdict() -> None:
    judgement = judge_read_only_probes([TARGET], read_only(None, "timed out"))
    assert judgement.unavailable == (
        f"vm: GET {TARGET.url} → no answer (timed out) (configz readOnlyPort=10255)"
    )


def test_an_answer_of_any_status_is_a_finding_and_outweighs_an_unclear_one() -> None:
    other = ReadOnlyTarget("w1", "192.0.2.3", 10255, "assumed")
    probes = [*read_only(404), ProbeResult("GET", other.url, None, "connection reset")]
    judgement = judge_read_only_probes([TARGET, other], probes)
    assert [f.name for f in judgement.findings] == ["vm"]
    assert "answered 404" in judgement.findings[0].detail


# ------------------------------------------------------------------ configz
def test_the_recorded_noncompliant_configuration_has_three_findings() -> None:
    judgement = judge_kubelet_config(NONCOMPLIANT.configz)
    assert lines(judgement) == [
        "Node vm: kubelet authentication.anonymous.enabled=true",
        "Node vm: kubelet authorization.mode=AlwaysAllow",
        "Node vm: kubelet readOnlyPort=10255",
    ]
    assert evidence(judgement, "Kubelet authentication settings (configz)") == (
        NONCOMPLIANT.configz
    )


def test_the_recorded_compliant_configuration_passes() -> None:
    judgement = judge_kubelet_config(COMPLIANT.configz)
    assert judgement.passed == "every kubelet: anonymous off, Webhook authorization, no 10255"


def configz(change: Any) -> dict[str, Any]:
    config = copy.deepcopy(COMPLIANT.configz)
    change(config["vm"]["config"])
    return config


def test_a_missing_authorization_mode_is_named() -> None:
    judgement = judge_kubelet_config(configz(lambda c: c.pop("authorization")))
    assert lines(judgement) == ["Node vm: kubelet authorization.mode=?"]


def test_anonymous_enabled_alone_is_a_finding() -> None:
    judgement = judge_kubelet_config(
        configz(lambda c: c["authentication"].update(anonymous={"enabled": True}))
    )
    assert lines(judgement) == ["Node vm: kubelet authentication.anonymous.enabled=true"]


def test_an_unread_configz_leaves_no_verdict() -> None:
    judgement = judge_kubelet_config({"w1": {"error": "timed out"}, **COMPLIANT.configz})
    assert judgement.unavailable == "cannot read kubelet configz: w1: timed out"
    assert titles(judgement) == ["Kubelet authentication settings (configz)"]


def test_no_node_leaves_no_verdict() -> None:
    assert judge_kubelet_config({}).unavailable == "no nodes to read kubelet configuration from"


NOT_GRANTED_ENTRY = {"error": "403 forbidden", "status": 403, "kind": NOT_GRANTED}


def test_without_the_nodes_proxy_grant_it_is_for_a_person_to_attest() -> None:
    judgement = judge_kubelet_config({"vm": NOT_GRANTED_ENTRY})
    assert judgement.manual.startswith("nodes/proxy get is not granted to the audit's identity")
    assert "the kubelet configuration of vm was not read" in judgement.manual


def test_a_finding_on_another_node_is_not_hidden_by_a_missing_grant() -> None:
    judgement = judge_kubelet_config({"w1": NOT_GRANTED_ENTRY, **NONCOMPLIANT.configz})
    assert judgement.manual == ""
    assert len(judgement.findings) == 3


def test_kubelets_that_could_not_be_asked_leave_no_pass() -> None:
    """A node without an address was never asked: it is named, and only a finding
    elsewhere can decide the check without it."""
    unaddressed = [*NODES, NodeAddress("b-node", "", 10250), NodeAddress("a-node", "", 10250)]
    judgement = judge_kubelet_probes(kubelet(401), unaddressed)
    assert judgement.unavailable == "no address to probe the kubelet of node(s) a-node, b-node"
    assert lines(judge_kubelet_probes(kubelet(200), unaddressed)) == [
        "Node vm: kubelet 192.0.2.2:10250 200: serves the kubelet API to anyone without "
        "credentials (critical)"
    ]


def test_every_silent_kubelet_is_named() -> None:
    other = NodeAddress("n2", "192.0.2.3", 10250)
    probes = [*kubelet(None, "timed out"), *kubelet(None, "connection reset")]
    probes[1] = dataclasses.replace(probes[1], url=probes[1].url.replace("192.0.2.2", "192.0.2.3"))
    reason = judge_kubelet_probes(probes, [*NODES, other]).unavailable
    assert reason == f"vm: {probes[0].line()}; n2: {probes[1].line()}"


def test_read_only_ports_of_nodes_not_probed_leave_no_pass() -> None:
    plan = plan_read_only_probes(NODES, COMPLIANT.configz)
    probes = COMPLIANT.probes("kubelet-read-only")
    judgement = judge_read_only_probes(plan.then, probes, ["vm", "z-node", "b-node"])
    assert judgement.unavailable == "no address to probe the kubelet of node(s) b-node, z-node"


def test_read_only_ports_that_did_not_tell_are_each_named() -> None:
    (target,) = plan_read_only_probes(NODES, COMPLIANT.configz).then
    other = dataclasses.replace(target, node="n2", address="192.0.2.3")
    probes = [ProbeResult("GET", t.url, None, "timed out") for t in (target, other)]
    reason = judge_read_only_probes([target, other], probes).unavailable
    assert reason == "; ".join(
        f"{t.node}: {p.line()} ({t.basis})" for t, p in zip((target, other), probes, strict=True)
    )
    with pytest.raises(ValueError):  # a probe missing for a target is never taken as a pass
        judge_read_only_probes([target, other], probes[:1])


def test_read_only_targets_of_every_node_whatever_comes_before() -> None:
    """A node without an address, one whose configz is missing, one with readOnlyPort 1:
    each is taken in turn; port 1 is a port like any other."""
    from kubepci.analysis.endpoints import read_only_targets

    nodes = [
        NodeAddress("no-address", "", 10250),
        NodeAddress("unread", "192.0.2.3", 10250),
        NodeAddress("one", "192.0.2.4", 10250),
    ]
    targets = read_only_targets(nodes, {"one": {"config": {"readOnlyPort": 1}}})
    assert [(t.node, t.port) for t in targets] == [("unread", 10255), ("one", 1)]
    assert targets[0].basis == (
        "configz not read (no configz entry for the node): the configured port is unknown, "
        "so the default 10255 is assumed"
    )
    (why,) = read_only_targets(nodes[1:2], {"unread": {"kind": "other"}})
    assert why.basis.startswith("configz not read (unknown reason)")
