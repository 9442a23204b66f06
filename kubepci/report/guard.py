"""Applies :func:`kubepci.report.redact.redact` to everything pytest itself writes.

Test reports feed the terminal, JUnit XML and pytest-html; this plugin scrubs each report
first (``tryfirst``), on xdist workers before it is serialized and again on the
controller. It also scrubs pytest-metadata's environment table and the message of a run
stopped at session start, and teaches the redactor the credentials in the kubeconfig
files, so they are hidden even where no pattern would recognise them.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import pytest

from kubepci.access.kubeconfig import IN_CLUSTER, SA_TOKEN_PATH, default_kubeconfigs
from kubepci.report.redact import (
    redact,
    redact_html,
    redact_obj,
    register_secret,
    secrets_in_kubeconfig,
)


def learn_credentials(kubeconfigs: list[str]) -> None:
    """Register every credential in the given kubeconfig files (or the in-cluster token)."""
    for raw in kubeconfigs or default_kubeconfigs(dict(os.environ)):
        if raw == IN_CLUSTER:
            with contextlib.suppress(OSError):
                register_secret(SA_TOKEN_PATH.read_text(encoding="utf-8"))
            continue
        for secret in secrets_in_kubeconfig(Path(raw).expanduser()):
            register_secret(secret)


def _scrub_extra(extra: dict[str, Any]) -> dict[str, Any]:
    content = extra.get("content")
    if not isinstance(content, str):
        return extra
    scrub = redact_html if extra.get("format_type") == "html" else redact
    return {**extra, "content": scrub(content)}


def scrub_report(report: pytest.TestReport | pytest.CollectReport) -> None:
    """Redact, in place, every text a report carries to the outputs."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        path, lineno, message = longrepr
        report.longrepr = (path, lineno, redact(str(message)))
    elif longrepr is not None:
        text = str(longrepr)
        clean = redact(text)
        if clean != text:
            # The structured traceback is lost only when it held a credential.
            report.longrepr = clean
    report.sections = [(title, redact(content)) for title, content in report.sections]
    if isinstance(report, pytest.TestReport):
        report.user_properties = [
            (name, redact(value) if isinstance(value, str) else value)
            for name, value in report.user_properties
        ]
        if isinstance(getattr(report, "wasxfail", None), str):
            report.wasxfail = redact(report.wasxfail)
    extras = getattr(report, "extras", None)
    if extras:
        setattr(report, "extras", [_scrub_extra(e) for e in extras])  # noqa: B010 (pytest-html's)
    payload = getattr(report, "kubepci", None)
    if payload:
        setattr(report, "kubepci", redact_obj(payload))  # noqa: B010 (set by kubepci.plugin)


class RedactionGuard:
    NAME = "kubepci-redaction"

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        learn_credentials(list(config.option.kubeconfig or []))
        self._scrub_metadata()

    def _scrub_metadata(self) -> None:
        # pytest-metadata fills its table in a tryfirst pytest_configure, before ours; it
        # shows in the HTML environment table and, with -v, in the terminal header.
        try:
            from pytest_metadata.plugin import metadata_key
        except ImportError:
            return
        metadata: dict[str, Any] | None = self.config.stash.get(metadata_key, None)
        if metadata:
            for key in list(metadata):
                metadata[key] = redact_obj(metadata[key], str(key))

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        scrub_report(report)

    @pytest.hookimpl(tryfirst=True)
    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        scrub_report(report)

    @pytest.hookimpl(wrapper=True)
    def pytest_sessionstart(self, session: pytest.Session):
        # A run stopped at session start prints why, which may quote a file or a server.
        try:
            return (yield)
        except pytest.exit.Exception as exc:
            exc.msg = redact(exc.msg)
            raise
        except pytest.UsageError as exc:
            raise pytest.UsageError(redact(str(exc))) from None
