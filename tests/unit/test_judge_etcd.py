"""1.1.5 judged (kubepci.analysis.etcd_access): etcd's listeners demand client
certificates, and a client without one is refused. Built on the recorded etcd pods and
probes of both local profiles, varied by hand (etcd answering 200 or 404, a handshake
refused for the certificate, a timeout, a refused connection)."""

from __future__ import annotations

import dataclasses

import pytest

from kubepci.analysis.etcd_access import (
    judge_etcd_client_cert_auth,
    judge_etcd_probes,
    plan_etcd_probes,
)
from kubepci.analysis.flags import ComponentFlags
from kubepci.records.probes import ProbeResult
from tests.support.judge_evidence import lines, recorded, titles

COMPLIANT = recorded("compliant")
NONCOMPLIANT = recorded("noncompliant")
URL = "https://192.0.2.2:2379/version"


def etcd(pod: str = "kube-system/etcd-cp", **flags: str) -> ComponentFlags:
    return ComponentFlags("etcd", pod, "cp", dict(flags))


def answer(status: int | None, error: str = "") -> ProbeResult:
    return ProbeResult("GET", URL, status, error)


# ------------------------------------------------------------------ listeners
def test_listeners_without_client_certificates_are_findings() -> None:
    judgement = judge_etcd_client_cert_auth(NONCOMPLIANT.flags("etcd"))
    assert len(judgement.findings) == 2
    assert all(f.ref == "Pod kube-system/etcd-vm" for f in judgement.findings)
    assert all(f.detail.startswith("etcd ") for f in judgement.findings)
    assert titles(judgement) == ["etcd settings (kube-system/etcd-vm)"]


def test_listeners_demanding_client_certificates_pass() -> None:
    judgement = judge_etcd_client_cert_auth(COMPLIANT.flags("etcd"))
    assert judgement.passed == "every etcd listener requires a client certificate"


def test_settings_etcd_refuses_leave_no_verdict() -> None:
    refused = etcd(**{"listen-client-urls": "https://192.0.2.2:2379"})  # TLS, no cert files
    judgement = judge_etcd_client_cert_auth([refused])
    assert judgement.unavailable.startswith("kube-system/etcd-cp: etcd would refuse these settings")
    assert titles(judgement) == ["etcd settings (kube-system/etcd-cp)"]


def test_every_etcd_member_is_judged() -> None:
    """A member with open listeners fails the check even when a later member is closed."""
    (opened,) = NONCOMPLIANT.flags("etcd")
    (closed,) = COMPLIANT.flags("etcd")
    judgement = judge_etcd_client_cert_auth([opened, closed])
    assert {f.ref for f in judgement.findings} == {"Pod kube-system/etcd-vm"}
    assert len(judgement.findings) == 2
    assert titles(judgement) == ["etcd settings (kube-system/etcd-vm)"] * 2


# ------------------------------------------------------------------ where to probe
def test_the_advertised_network_url_is_probed() -> None:
    plan = plan_etcd_probes(COMPLIANT.flags("etcd"))
    assert plan.then == ["https://192.0.2.2:2379"]
    assert not plan.so_far.ends and plan.so_far.evidence == ()


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        ({"advertise-client-urls": "https://127.0.0.1:2379,https://localhost:2379/"},
         "https://127.0.0.1:2379, https://localhost:2379"),
        ({"advertise-client-urls": ",", "listen-client-urls": ","}, "no URLs"),
    ],
)  # fmt: skip
def test_etcd_on_loopback_only_is_not_probed(flags: dict[str, str], named: str) -> None:
    plan = plan_etcd_probes([etcd(**flags)])
    assert plan.so_far.not_applicable == (
        f"etcd listens only on loopback ({named}); not reachable from the network"
    )
    assert plan.then == []


def test_a_url_that_cannot_be_read_leaves_no_verdict() -> None:
    hidden = dataclasses.replace(etcd(), unresolved={"advertise-client-urls": "from $(IP)"})
    plan = plan_etcd_probes([hidden])
    assert plan.so_far.unavailable == (
        "kube-system/etcd-cp: --advertise-client-urls cannot be read: from $(IP)"
    )


# ------------------------------------------------------------------ answers
@pytest.mark.parametrize("status", [200, 404, 401])
def test_an_http_answer_below_500_is_a_finding(status: int) -> None:
    assert lines(judge_etcd_probes([answer(status)])) == [
        f"Etcd 192.0.2.2:2379: answered {status} to a client without a certificate"
    ]


def test_the_recorded_open_etcd_is_a_finding() -> None:
    assert len(judge_etcd_probes(NONCOMPLIANT.probes("etcd")).findings) == 1


@pytest.mark.parametrize(
    "error", ["certificate required", "remote error: tls: bad certificate", "handshake failure"]
)
def test_a_handshake_refused_for_the_certificate_passes(error: str) -> None:
    judgement = judge_etcd_probes([answer(None, error)])
    assert judgement.passed == "every etcd client URL refused a client without a certificate"
    assert titles(judgement) == ["Requests to etcd without a client certificate"]


@pytest.mark.parametrize("error", ["timed out", "connection refused"])
def test_any_other_silence_leaves_no_verdict(error: str) -> None:
    judgement = judge_etcd_probes([answer(None, error)])
    assert judgement.unavailable == f"GET {URL} → no answer ({error})"


def test_a_finding_outweighs_an_unclear_url() -> None:
    other = ProbeResult("GET", "https://192.0.2.3:2379/version", None, "timed out")
    judgement = judge_etcd_probes([answer(200), other])
    assert [f.name for f in judgement.findings] == ["192.0.2.2:2379"]


def test_a_server_error_still_means_no_certificate_was_demanded() -> None:
    # Any HTTP answer comes after a completed handshake: etcd took a client without a
    # certificate, whatever the status (a 5xx passed before: a bug the replay cases found).
    judgement = judge_etcd_probes([answer(500), answer(503)])
    assert [f.detail for f in judgement.findings] == [
        "answered 500 to a client without a certificate",
        "answered 503 to a client without a certificate",
    ]
