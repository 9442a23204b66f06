"""Kubelet read-only port targets (1.1.4): the port each kubelet's configz gives, or the
default with the assumption said, and what an answer on it means.

configz is the v1beta1 KubeletConfiguration (cmd/kubelet/app/server.go, setConfigz), whose
``readOnlyPort`` is ``omitempty`` (k8s.io/kubelet config/v1beta1/types.go): the recorded
compliant kubelet (tests/data/kubelet/) has no such field at all.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubepci.access.probes import ProbeResult
from kubepci.analysis import endpoints
from kubepci.analysis.endpoints import NodeAddress, ReadOnlyTarget

DATA = Path(__file__).resolve().parents[1] / "data" / "kubelet"
NODE = NodeAddress("vm", "192.0.2.2", 10250)


def recorded(profile: str) -> dict[str, dict]:
    raw = json.loads((DATA / f"configz-{profile}.json").read_text())
    return {raw["node"]: {"config": raw["kubeletconfig"]}}


def test_recorded_noncompliant_kubelet_is_probed_on_its_configured_port() -> None:
    [target] = endpoints.read_only_targets([NODE], recorded("noncompliant"))
    assert (target.port, target.url) == (10255, "http://192.0.2.2:10255/pods")
    assert target.basis == "configz readOnlyPort=10255"


def test_recorded_compliant_kubelet_omits_the_field_and_the_default_confirms() -> None:
    [target] = endpoints.read_only_targets([NODE], recorded("compliant"))
    assert target.port == endpoints.DEFAULT_READ_ONLY_PORT
    assert "readOnlyPort is 0 (disabled)" in target.basis and "to confirm" in target.basis


@pytest.mark.parametrize(
    ("entry", "address", "port", "basis"),
    [
        ({"config": {"readOnlyPort": 10266}}, "192.0.2.2", 10266, "configz readOnlyPort=10266"),
        ({"config": {"readOnlyPort": 0}}, "192.0.2.2", 10255, "readOnlyPort is 0"),
        ({"config": {}}, "192.0.2.2", 10255, "readOnlyPort is 0"),
        (
            {"config": {"readOnlyPort": 10255, "address": "198.51.100.7"}},
            "198.51.100.7",
            10255,
            "bound to 198.51.100.7",
        ),
        (
            {"config": {"readOnlyPort": 10255, "address": "127.0.0.1"}},
            "192.0.2.2",
            10255,
            "bound to 127.0.0.1",
        ),
        ({"config": {"readOnlyPort": 10255, "address": "::"}}, "192.0.2.2", 10255, "=10255"),
        (
            {"error": "403 forbidden: nodes/proxy"},
            "192.0.2.2",
            10255,
            "configz not read (403 forbidden: nodes/proxy): the configured port is unknown, "
            "so the default 10255 is assumed",
        ),
        ({}, "192.0.2.2", 10255, "no configz entry for the node"),
    ],
)
def test_read_only_targets(entry: dict, address: str, port: int, basis: str) -> None:
    [target] = endpoints.read_only_targets([NODE], {"vm": entry} if entry else {})
    assert (target.address, target.port) == (address, port)
    assert basis in target.basis


def test_nodes_without_an_address_are_not_targets() -> None:
    assert endpoints.read_only_targets([NodeAddress("x", "", 10250)], {}) == []


def test_ipv6_node_url() -> None:
    [target] = endpoints.read_only_targets(
        [NodeAddress("v6", "fd00::2", 10250)], {"v6": {"config": {"readOnlyPort": 10255}}}
    )
    assert target.url == "http://[fd00::2]:10255/pods"


def probe(url: str, status: int | None, error: str = "") -> ProbeResult:
    return ProbeResult("GET", url, status, error)


def test_read_only_port_findings() -> None:
    targets = [
        ReadOnlyTarget("a", "10.0.0.1", 10266, "configz readOnlyPort=10266"),
        ReadOnlyTarget("b", "10.0.0.2", 10255, "configz readOnlyPort is 0 (disabled)"),
        ReadOnlyTarget("c", "10.0.0.3", 10255, "configz not read (x): assumed"),
        ReadOnlyTarget("d", "10.0.0.4", 10255, "configz not read (x): assumed"),
    ]
    probes = [
        probe(targets[0].url, 200),
        probe(targets[1].url, None, "connection refused"),
        probe(targets[2].url, 404),  # any HTTP answer: the port serves without credentials
        probe(targets[3].url, None, "timed out"),
    ]
    findings, unclear = endpoints.read_only_port_findings(targets, probes)
    assert [(f.name, f.detail.split(" to GET")[0]) for f in findings] == [
        ("a", "read-only port 10266 answered 200"),
        ("c", "read-only port 10255 answered 404"),
    ]
    assert findings[0].detail.startswith(
        f"read-only port 10266 answered 200 to GET {targets[0].url}"
    )
    assert "(configz readOnlyPort=10266)" in findings[0].detail
    assert unclear == [
        f"d: GET {targets[3].url} → no answer (timed out) (configz not read (x): assumed)"
    ]


def test_read_only_finding_survives_redaction() -> None:
    from kubepci.report.redact import redact

    target = ReadOnlyTarget("vm", "192.0.2.2", 10255, "configz readOnlyPort=10255")
    [finding], _ = endpoints.read_only_port_findings([target], [probe(target.url, 200)])
    assert redact(finding.line()) == finding.line()
