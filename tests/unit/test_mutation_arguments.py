"""The survivors argued in tests/mutation/equivalent.yaml still name code that exists.

``make mutation`` matches an argument to a survivor by function and mutated line; an
argument whose function was renamed or removed would silently stop matching. This keeps
the file honest without running mutmut, and checks the driver's reading of mutmut's names.
"""

from __future__ import annotations

import importlib
import inspect

import pytest
import yaml

from tests.mutation.__main__ import EQUIVALENT, Module, changed_line

ENTRIES = yaml.safe_load(EQUIVALENT.read_text())


def _function(mangled: str) -> object:
    """The function mutmut's mangled name stands for: ``pkg.mod.x_f`` or ``pkg.mod.xǁCǁm``."""
    module_name, _, name = mangled.rpartition(".")
    module = importlib.import_module(module_name)
    if name.startswith("xǁ"):
        _, klass, method = name.split("ǁ")
        return getattr(getattr(module, klass), method)
    return getattr(module, name.removeprefix("x_"))


@pytest.mark.parametrize(
    # ASCII ids: mutmut 3.8 cannot select again a test whose id pytest had to escape.
    "entry",
    ENTRIES["equivalent"],
    ids=lambda e: e["function"].rpartition(".")[2].replace("ǁ", "."),
)
def test_each_argued_survivor_names_a_function_that_exists(entry: dict[str, object]) -> None:
    function = _function(str(entry["function"]))
    assert inspect.isfunction(function)
    assert str(entry["why"]).strip()
    lines = entry["mutated"] if isinstance(entry["mutated"], list) else [entry["mutated"]]
    assert all(isinstance(line, str) and line.strip() for line in lines)


def test_every_exclusion_is_argued() -> None:
    assert ENTRIES["excluded"]
    assert all(str(why).strip() for why in ENTRIES["excluded"].values())


def test_mutant_names_are_read_as_mutmut_writes_them() -> None:
    judge = Module("kubepci/facade.py", ("xǁClusterǁjudge",))
    assert judge.selects("kubepci.facade.xǁClusterǁjudge__mutmut_12")
    assert not judge.selects("kubepci.facade.xǁClusterǁflags__mutmut_1")
    assert judge.patterns() == ["kubepci.facade.xǁClusterǁjudge__mutmut_*"]
    whole = Module("kubepci/analysis/etcd.py")
    assert whole.selects("kubepci.analysis.etcd.x__text__mutmut_3")
    assert whole.patterns() == ["kubepci.analysis.etcd.*"]


def test_the_mutated_line_is_the_added_side_of_the_diff() -> None:
    diff = (
        ' def _text(value):\n-    return "true" if value else "false"\n'
        '+    return "TRUE" if value else "false"\n'
    )
    assert changed_line(diff) == 'return "TRUE" if value else "false"'


def test_a_mutant_that_only_deletes_is_named_by_the_deleted_line() -> None:
    diff = "     return AnonymousAuth(\n         True,\n-        False,\n         how=how,\n"
    assert changed_line(diff) == "deleted: False,"


def test_timeouts_are_counted_as_kills_and_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    import tests.mutation.__main__ as driver

    codes = {"m.f__mutmut_2": -24, "m.f__mutmut_1": 1, "m.f__mutmut_10": 36, "m.f__mutmut_3": 0}
    monkeypatch.setattr(driver, "results", lambda module: codes)
    got = driver.tally(Module("m.py"))
    assert got.timeouts == ["m.f__mutmut_2", "m.f__mutmut_10"]
    assert got.survivors == ["m.f__mutmut_3"]
    assert got.score == 3 / 4
