"""The unit tier under ``make mutation`` (tests/mutation/).

mutmut runs each mutant in a process forked from one that has already run the tests
unmutated. Whatever that process memoised (``functools.cache`` in kubepci, the recorded
evidence of tests/support with its cached analyses) holds what the original code
computed, so a mutant behind a memo would never run and would survive for no reason.
Each test session of a mutant therefore starts with every memo forgotten, and runs its
tests quickest first (by the durations mutmut recorded), so that a mutant a quick test
kills is not first run through the slow ones. The whole-suite replays of the recorded
packs are left out of a mutant's run: they reach some 300 functions and cost 45 s a
surviving mutant, and the same recorded evidence is judged check by check, faster, in
test_judge_recorded.py. So are the tests of the plumbing around the judging (invocation,
redaction, signing, probe concurrency, the service proxy's resend, JSON I/O, xdist
placement, the bench, the examples): they reach the analysis only by running the whole
suite, at up to 24 s a test, or time real sockets. The replays of single checks
(test_checks_1_*.py) run only for a mutant no other test reaches. Leaving tests out can
only lower the score, never raise it. Outside a mutation run this does nothing.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

WHOLE_SUITE_REPLAYS = ("tests/unit/test_replay.py::test_replay_reproduces_every_result",)
PLUMBING = tuple(
    f"tests/unit/test_{name}.py"
    for name in (
        "invocation",
        "redact_gate",
        "redact_fast_path",
        "report_redact",
        "pack_signing",
        "probe_concurrency",
        "service_proxy",
        "replay_fleet",
        "jsonio",
        "xdist_auto",
        "examples",
        "bench_auditlog",
        "bench_axes",
        "bench_estate",
        "bench_route",
        "bench_table",
    )
)
LEFT_OUT = (*WHOLE_SUITE_REPLAYS, *PLUMBING)
CHECK_REPLAYS = "tests/unit/test_checks_1_"


def _forget_cached_properties(value: Any) -> None:
    for klass in type(value).__mro__:
        for name, attribute in vars(klass).items():
            if isinstance(attribute, functools.cached_property):
                vars(value).pop(name, None)


def _mutating() -> bool:
    return "__mutmut_" in os.environ.get("MUTANT_UNDER_TEST", "")


def _under_mutmut() -> bool:
    """Any run of mutmut's (stats, the clean run, the forced failure, a mutant): mutmut
    sets the variable for all of them, so the tests left out are left out of each."""
    return "MUTANT_UNDER_TEST" in os.environ


_DURATIONS: dict[str, float] = {}


def _durations() -> dict[str, float]:
    """mutmut's recorded test durations, read once in the process mutmut forks from (the
    clean run reads them), not once per mutant. (A plain dict: pytest_sessionstart below
    clears every functools cache of tests.)"""
    stats = Path("mutmut-stats.json")  # mutmut runs the tests from ./mutants
    if not _DURATIONS and stats.exists():
        _DURATIONS.update(json.loads(stats.read_text()).get("duration_by_test", {}))
    return _DURATIONS


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not _under_mutmut():
        return
    left_out = [i for i in items if i.nodeid.startswith(LEFT_OUT)]
    if _mutating():
        items.sort(key=lambda item: _durations().get(item.nodeid, 0.0))
        # A mutant that quicker tests also reach is judged by them alone: the replays of
        # whole checks (a pytester session each, up to a second) are run only for mutants
        # nothing else reaches. At some 150 replays a surviving RBAC mutant, they would
        # otherwise be most of the run.
        kept = [i for i in items if not i.nodeid.startswith(LEFT_OUT)]
        if any(not i.nodeid.startswith(CHECK_REPLAYS) for i in kept):
            left_out += [i for i in kept if i.nodeid.startswith(CHECK_REPLAYS)]
    else:
        _durations()
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        dropped = {id(i) for i in left_out}
        items[:] = [i for i in items if id(i) not in dropped]


def pytest_sessionstart(session: pytest.Session) -> None:
    if not _mutating():
        return
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] not in ("kubepci", "tests") or module is None:
            continue
        for value in list(vars(module).values()):
            clear = getattr(value, "cache_clear", None)
            if callable(clear):
                clear()
            if name.startswith("tests.") and hasattr(value, "__dict__"):
                _forget_cached_properties(value)
    evidence = sys.modules.get("tests.support.judge_evidence")
    for recorded in getattr(evidence, "_RECORDED", {}).values():
        _forget_cached_properties(recorded)
