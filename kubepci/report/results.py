"""Per-check result payloads and the collector that turns them into run-level outputs.

A payload is JSON-safe so it crosses pytest-xdist from workers to the controller on the
test report; every output (terminal, JUnit, HTML, evidence pack) is built from payloads.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

import pytest

from kubepci.catalogue import Catalogue, Check
from kubepci.report.redact import redact_obj
from kubepci.verdict import CheckResult, Verdict

STARTED = pytest.StashKey[dt.datetime]()


def payload(result: CheckResult, check: Check, catalogue: Catalogue) -> dict[str, Any]:
    """The JSON-safe, redacted record of one check on one cluster; every output uses it."""
    items = catalogue.items_of(check.id)
    # Redacted here, at the source: probe bodies and reasons may quote what a server said.
    return redact_obj(
        {
            **result.to_json(),
            "title": check.title,
            "severity": check.severity,
            "remediation": check.remediation,
            "evidence_source": check.evidence,
            "pci_items": [i.id for i in items],
            "recommendations": [
                {"id": r, "text": catalogue.recommendations[r].text} for r in check.recommendations
            ],
            "dss": catalogue.dss_of(check.id),
        }
    )


def junit_properties(data: dict[str, Any]) -> list[tuple[str, str]]:
    """JUnit <property> pairs; record_property-style, so they survive pytest-xdist."""
    props = [
        ("check_id", data["check_id"]),
        ("cluster", data["cluster"]),
        ("verdict", data["verdict"]),
        ("pci_item", ",".join(data["pci_items"])),
        ("recommendation", " | ".join(f"{r['id']} {r['text']}" for r in data["recommendations"])),
        ("pci_dss", ",".join(data["dss"])),
        ("severity", data["severity"]),
    ]
    attestation = data.get("attestation")
    if attestation:
        # In force (verdict "attested") or expired (verdict "manual" again): who, when, what.
        document = attestation.get("document") or {}
        props += [
            ("attestation_status", str(attestation.get("status", ""))),
            ("attested_by", str(attestation.get("attested_by", ""))),
            ("attestation_role", str(attestation.get("role", ""))),
            ("attestation_date", str(attestation.get("date", ""))),
            ("attestation_expires", str(attestation.get("expires", ""))),
            ("attestation_document", str(document.get("ref", ""))),
            ("attestation_document_sha256", str(document.get("sha256", ""))),
        ]
    return props


class ResultCollector:
    """Controller-side: gathers payloads from reports (local or from xdist workers)."""

    NAME = "kubepci-results"

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.results: list[dict[str, Any]] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, "kubepci", None)
        if data and report.when == "call":
            self.results.append(data)

    def counts_per_item(self) -> dict[str, Counter[str]]:
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for data in self.results:
            for item in data["pci_items"]:
                counts[item][data["verdict"]] += 1
        return counts

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.results:
            return
        terminalreporter.section("kubepci: PCI Section 1 verdicts per item")
        order = [v.value for v in Verdict]
        counts = self.counts_per_item()
        for item in sorted(counts):
            line = ", ".join(
                f"{counts[item][v]} {v.replace('_', ' ')}" for v in order if counts[item][v]
            )
            terminalreporter.write_line(f"PCI {item}: {line}")

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if hasattr(self.config, "workerinput"):
            return
        # Exit codes: 0 clean, 1 findings, 2 evidence could not be collected (incomplete).
        if any(r["verdict"] == Verdict.ERROR for r in self.results) and session.exitstatus in (
            0,
            1,
        ):
            session.exitstatus = 2
