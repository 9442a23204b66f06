"""The assessor sections on the terminal, and ``--fail-on-new-only``'s exit status.

Apart from :mod:`kubepci.report.assessor` because it reads the run's view, which
:mod:`kubepci.report.run` builds with that module's sections.
"""

from __future__ import annotations

from typing import Any

import pytest

from kubepci.report import run
from kubepci.report.assessor import drift_lines, exit_status, register_lines
from kubepci.verdict import Verdict

Obj = dict[str, Any]


class AssessorReport:
    """Controller-side: the terminal lines and ``--fail-on-new-only``'s exit status."""

    NAME = "kubepci-assessor"

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        # Failed reports that are not a check's "failed" verdict (an error, a crash in a
        # fixture): --fail-on-new-only never turns those into a clean exit.
        self.other_failures = 0

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not report.failed:
            return
        payload = getattr(report, "kubepci", None)
        if not payload or payload.get("verdict") != Verdict.FAILED:
            self.other_failures += 1

    def _view(self) -> Obj | None:
        if hasattr(self.config, "workerinput") or not run.results(self.config):
            return None
        return run.view(self.config)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        # Before ResultCollector's (trylast): an error verdict still turns this into 2.
        if not self.config.option.fail_on_new_only:
            return
        view = self._view()
        session.exitstatus = exit_status(
            int(session.exitstatus), view.get("drift") if view else None, self.other_failures
        )

    @pytest.hookimpl(tryfirst=True)
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        # tryfirst: the per-item verdict lines must stay the last thing kubepci prints.
        view = self._view()
        if view is None:
            return
        lines = register_lines(view["waiver_register"], view["attestations"])
        if view.get("drift"):
            lines = drift_lines(view["drift"]) + lines
        for line in lines:
            terminalreporter.write_line(f"kubepci: {line}")
