"""Outputs: per-check payloads, the terminal summary, JUnit properties, evidence pack, HTML."""

from __future__ import annotations

import pytest


def register(config: pytest.Config) -> None:
    """Register the output plugins (redaction guard, HTML report, evidence pack, and the
    assessor's terminal lines: drift, waiver register, attestations).

    Called from kubepci.plugin's pytest_configure: pytest-html's session-level hooks only
    reach plugin objects registered with the plugin manager, not nested conftests.
    """
    # Imported here so importing kubepci.report.results stays light and acyclic.
    from kubepci.report.assessor_report import AssessorReport
    from kubepci.report.guard import RedactionGuard
    from kubepci.report.htmlreport import HtmlReport
    from kubepci.report.pack import EvidencePack

    for plugin in (
        RedactionGuard(config),
        HtmlReport(config),
        EvidencePack(config),
        AssessorReport(config),
    ):
        config.pluginmanager.register(plugin, plugin.NAME)
