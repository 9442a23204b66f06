"""pytest-html hooks: title, verdict columns, and the scope / control summary / limitations.

Session-level pytest-html hooks only fire from a registered plugin object, never from a
nested conftest, so plugin.py registers this in pytest_configure. Each hook is optional:
with pytest-html absent or disabled (``-p no:html``) nothing here is called.
"""

from __future__ import annotations

from typing import Any

import pytest
from pytest_html import extras as html_extras

from kubepci.report import assessor_html, htmlparts, run
from kubepci.report.summary import label

Obj = dict[str, Any]
COLUMNS = (("verdict", "Verdict"), ("pci", "PCI item"), ("check", "Check"), ("cluster", "Cluster"))


def extras(payload: Obj) -> list[dict[str, Any]]:
    """The per-check extra for the results table, from the (redacted) payload."""
    return [html_extras.html(htmlparts.check_html(payload))]


class HtmlReport:
    NAME = "kubepci-html"

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def _auditing(self) -> bool:
        # The plugin is loaded into every pytest run; other projects' reports stay theirs.
        return bool(run.sessions(self.config) or run.results(self.config))

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_report_title(self, report: Any) -> None:
        if not self._auditing():
            return
        report.title = "kubepci — PCI container guidance Section 1 (Authentication) audit"

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        for offset, (key, title) in enumerate(COLUMNS, start=1):
            cells.insert(offset, f'<th class="sortable" data-column-type="{key}">{title}</th>')

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_row(self, report: pytest.TestReport, cells: list[str]) -> None:
        payload: Obj = getattr(report, "kubepci", None) or {}
        values = (
            (
                htmlparts.badge(payload["verdict"]),
                ", ".join(payload["pci_items"]),
                payload["check_id"],
                payload["cluster"],
            )
            if payload
            else ("", "", "", "")
        )
        for offset, ((key, _), value) in enumerate(zip(COLUMNS, values, strict=True), start=1):
            cells.insert(offset, f'<td class="col-{key}">{value}</td>')

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_summary(
        self, prefix: list[str], summary: list[str], postfix: list[str], session: pytest.Session
    ) -> None:
        if not self._auditing():
            return
        data = run.view(self.config)
        counts = [
            f"PCI {item['item']}: {label(item['verdict'])}" for item in data["control_summary"]
        ]
        prefix.extend(
            [
                htmlparts.STYLE,
                "<div class='kp'>",
                # With --baseline, what changed since is what an assessor reads first.
                assessor_html.drift_html(data.get("drift")),
                f"<p><b>{'; '.join(counts)}</b></p>",
                htmlparts.summary_html(data["control_summary"], data["clusters"]),
                htmlparts.scope_html(data["scope"]),
                htmlparts.limitations_html(data["limitations"]),
                assessor_html.register_html(data.get("waiver_register") or []),
                assessor_html.attestations_html(data.get("attestations") or []),
                "<h2>Checks</h2><p>Each row below is one check on one cluster; expand it for "
                "the recommendation it verifies, the verdict and why, the remediation and the "
                "raw evidence.</p>",
                "</div>",
            ]
        )
