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
test_judge_recorded.py. Outside a mutation run this does nothing.
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


def _forget_cached_properties(value: Any) -> None:
    for klass in type(value).__mro__:
        for name, attribute in vars(klass).items():
            if isinstance(attribute, functools.cached_property):
                vars(value).pop(name, None)


def _mutating() -> bool:
    return "__mutmut_" in os.environ.get("MUTANT_UNDER_TEST", "")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    stats = Path("mutmut-stats.json")  # mutmut runs the tests from ./mutants
    if not _mutating() or not stats.exists():
        return
    durations = json.loads(stats.read_text()).get("duration_by_test", {})
    items.sort(key=lambda item: durations.get(item.nodeid, 0.0))
    left_out = [i for i in items if i.nodeid.startswith(WHOLE_SUITE_REPLAYS)]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [i for i in items if not i.nodeid.startswith(WHOLE_SUITE_REPLAYS)]


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
