"""The waiver register: every waiver with what it matched, stale and not-judged waivers,
and the terminal and HTML renderings of the register and of drift."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest

from kubepci import catalogue
from kubepci.facade import Cluster, Settings
from kubepci.report import assessor, assessor_html, waiver_register
from kubepci.report.redact import redact_obj
from kubepci.verdict import Finding
from kubepci.waivers import Waiver

Obj = dict[str, Any]
TODAY = dt.date(2026, 6, 1)
SA_CHECK = "service-account-privileges"
AUDITOR = Waiver(
    SA_CHECK,
    "ServiceAccount",
    "kubepci",
    "kubepci-auditor",
    "read-secrets",
    "metadata-only listing",
    "jane.doe@example.com",
    dt.date(2026, 6, 30),
)
GONE = Waiver(
    SA_CHECK,
    "ServiceAccount",
    "legacy",
    "*",
    "*",
    "decommissioned team",
    "raj@example.com",
    dt.date(2027, 1, 1),
)
CSR = Waiver(
    "client-certificate-csrs",
    "CertificateSigningRequest",
    "",
    "ci-*",
    "*",
    "CI signer",
    "raj@example.com",
    dt.date(2027, 1, 1),
)


def waived_payload(cluster: str, *findings: Finding) -> Obj:
    """What the facade records when a waiver covers findings (see Cluster.judge)."""
    return {
        "check_id": SA_CHECK,
        "cluster": cluster,
        "verdict": "waived",
        "findings": [f.to_json() for f in findings],
        "waived": [{"finding": f.to_json(), "waiver": AUDITOR.to_json()} for f in findings],
    }


def auditor_finding() -> Finding:
    return Finding("ServiceAccount", "kubepci", "kubepci-auditor", "list secrets", "read-secrets")


def test_each_waiver_with_its_matches_stale_and_not_judged() -> None:
    found = [
        waived_payload("prod", auditor_finding()),
        waived_payload("staging", auditor_finding()),
        {"check_id": "client-certificate-csrs", "cluster": "prod", "verdict": "error"},
    ]
    register = waiver_register.build([AUDITOR, GONE, CSR], found, TODAY)
    assert [(e["check"], e["status"]) for e in register] == [
        (SA_CHECK, "applied"),
        (SA_CHECK, "stale"),  # its check was judged and it matched nothing
        ("client-certificate-csrs", "not_judged"),  # its check errored: cannot say stale
    ]
    assert register[0]["matched"] == [
        {
            "cluster": "prod",
            "check_id": SA_CHECK,
            "finding": "ServiceAccount kubepci/kubepci-auditor",
            "class": "read-secrets",
        },
        {
            "cluster": "staging",
            "check_id": SA_CHECK,
            "finding": "ServiceAccount kubepci/kubepci-auditor",
            "class": "read-secrets",
        },
    ]
    assert register[0]["days_left"] == 29
    assert register[2]["not_judged_on"] == ["prod"] and register[2]["judged_on"] == []
    assert waiver_register.counts(register) == {
        "applied": 1,
        "stale": 1,
        "not_judged": 1,
        "expired": 0,
    }


def test_a_waiver_past_its_date_is_expired_whatever_it_matched() -> None:
    # A run that crossed the waiver's last day: loaded valid, expired when reported.
    found = [waived_payload("prod", auditor_finding())]
    [entry] = waiver_register.build([AUDITOR], found, dt.date(2026, 7, 1))
    assert entry["status"] == "expired" and entry["days_left"] == -1


def test_matches_survive_redaction_of_the_free_text() -> None:
    """Payloads are redacted; a justification that looks like a credential must not
    make the register lose what the waiver matched."""
    secretive = Waiver(
        SA_CHECK,
        "ServiceAccount",
        "kubepci",
        "kubepci-auditor",
        "read-secrets",
        "token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln was rotated",
        "jane.doe@example.com",
        dt.date(2026, 6, 30),
    )
    payload = waived_payload("prod", auditor_finding())
    payload["waived"][0]["waiver"] = secretive.to_json()
    [entry] = waiver_register.build([secretive], [redact_obj(payload)], TODAY)
    assert entry["status"] == "applied"


def test_the_register_from_a_real_judgement() -> None:
    """The facade's own waived record is what the register reads."""
    session: Any = SimpleNamespace(target=SimpleNamespace(id="prod"))
    view = Cluster(session, catalogue.load().checks[SA_CHECK], [AUDITOR], Settings())
    with pytest.raises(pytest.xfail.Exception):
        view.judge([auditor_finding()], passed="x")
    [entry] = waiver_register.build([AUDITOR], [view.result.to_json()], TODAY)
    assert entry["status"] == "applied" and len(entry["matched"]) == 1


# ------------------------------------------------------------------ terminal and HTML
def test_terminal_lines_name_what_needs_attention() -> None:
    found = [waived_payload("prod", auditor_finding())]
    register = waiver_register.build([AUDITOR, GONE], found, TODAY)
    lines = assessor.register_lines(register, [])
    assert lines[0] == (
        "waiver register: 2 waiver(s): 1 applied (1 finding(s)), 1 stale, 0 not judged, 0 expired"
    )
    assert lines[1].startswith("  stale: service-account-privileges ServiceAccount legacy/*")
    assert len(lines) == 2  # the applied one needs no line of its own


def test_register_html_lists_every_waiver_escaped() -> None:
    odd = Waiver(SA_CHECK, "ServiceAccount", "x", "<b>", "*", "a < b", "j", dt.date(2027, 1, 1))
    found = [waived_payload("prod", auditor_finding())]
    text = assessor_html.register_html(waiver_register.build([AUDITOR, odd], found, TODAY))
    assert "id='kp-waiver-register'" in text
    assert "ServiceAccount kubepci/kubepci-auditor [read-secrets]" in text
    assert "x/&lt;b&gt;" in text and "x/<b>" not in text and "a &lt; b" in text
    assert text.count("kp-v-manual") == 1  # the stale one, flagged


def test_drift_html_comes_with_new_and_resolved_rows() -> None:
    record = {
        "check_id": SA_CHECK,
        "cluster": "prod",
        "kind": "ServiceAccount",
        "namespace": "p",
        "name": "new-bot",
        "class": "admin-equivalent",
        "detail": "d",
        "waived": False,
        "baseline_judged": True,
    }
    section = {
        "baseline": {
            "path": "/evidence/2026-05-31",
            "started_utc": "2026-05-31T02:00:00Z",
            "tool_version": "0.1.0",
            "results_sha256": "ab" * 32,
        },
        "identity": "check, fingerprint, object, class",
        "counts": {
            "new": 1,
            "new_open": 1,
            "resolved": 1,
            "unchanged": 0,
            "not_reexamined": 0,
            "expired": 0,
        },
        "new": [record],
        "resolved": [{**record, "name": "old-bot"}],
        "unchanged": [],
        "not_reexamined": [],
        "expired": [],
    }
    text = assessor_html.drift_html(section)
    assert text.startswith("<h2 id='kp-drift'>")
    assert text.index("new-bot") < text.index("Resolved findings") < text.index("old-bot")
    assert assessor_html.drift_html(None) == ""
    lines = assessor.drift_lines(section)
    assert lines[0].startswith("drift against /evidence/2026-05-31")
    assert "1 new (1 not waived), 1 resolved, 0 unchanged" in lines[0]
    assert lines[1:] == [
        "  new: service-account-privileges on prod: ServiceAccount p/new-bot [admin-equivalent]",
        "  resolved: service-account-privileges on prod: ServiceAccount p/old-bot"
        " [admin-equivalent]",
    ]
