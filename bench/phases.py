"""A passive pytest plugin (``-p bench.phases``) stamping where a run's time goes.

It records wall-clock stamps in the controller only (not in xdist workers) and writes
them, at exit, to the file named by ``KUBEPCI_BENCH_PHASES``. It changes nothing else.
"""

from __future__ import annotations

import atexit
import json
import os
import time

import pytest

STAMPS: dict[str, float] = {}
ENV = "KUBEPCI_BENCH_PHASES"
# (phase, from stamp, to stamp); "spawn" is the parent's time.time() at Popen.
PHASES = (
    ("startup", "spawn", "configured"),
    ("session start (connect, lists, workers)", "configured", "session_started"),
    ("collect + run checks", "session_started", "tests_done"),
    ("reports (HTML, JUnit, evidence)", "tests_done", "finished"),
    ("teardown + exit", "finished", "exit"),
)


def _stamp(name: str) -> None:
    STAMPS.setdefault(name, time.time())


def _controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")


def _write() -> None:
    _stamp("exit")
    path = os.environ.get(ENV)
    if path:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(STAMPS, handle)


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    if _controller(config):
        _stamp("configured")
        atexit.register(_write)


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    if _controller(session.config):
        _stamp("session_started")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_sessionfinish(session: pytest.Session):
    if _controller(session.config):
        _stamp("tests_done")
    try:
        return (yield)
    finally:
        if _controller(session.config):
            _stamp("finished")


def durations(stamps: dict[str, float]) -> dict[str, float]:
    """Seconds per phase; a phase whose stamps are missing is left out."""
    return {
        name: stamps[end] - stamps[start]
        for name, start, end in PHASES
        if start in stamps and end in stamps
    }
