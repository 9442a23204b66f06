"""The catalogue is valid data, and it matches the shipped checks in tests_pci one to one."""

from __future__ import annotations

import copy
import importlib
import inspect
import pkgutil
import re
from collections import Counter
from types import FunctionType
from typing import Any

import pytest

import tests_pci
from kubepci import catalogue
from kubepci.catalogue import CatalogueError, parse


def shipped_tests() -> dict[str, FunctionType]:
    """Every test function in tests_pci, by ``module::name``."""
    found: dict[str, FunctionType] = {}
    for info in pkgutil.iter_modules(tests_pci.__path__):
        if not info.name.startswith("test_"):
            continue
        module = importlib.import_module(f"tests_pci.{info.name}")
        for name, obj in vars(module).items():
            if (
                name.startswith("test")
                and inspect.isfunction(obj)
                and obj.__module__ == module.__name__
            ):
                found[f"{info.name}::{name}"] = obj
    return found


def marks(function: FunctionType, name: str) -> list[Any]:
    return [m for m in getattr(function, "pytestmark", []) if m.name == name]


CATALOGUE = catalogue.load()
TESTS = shipped_tests()


# ----------------------------------------------------------------------------- shipped data


def test_shipped_catalogue_covers_section_1() -> None:
    assert list(CATALOGUE.items) == ["1.1", "1.2", "1.3", "1.4", "1.5", "1.6"]
    for item in CATALOGUE.items.values():
        assert any(r.item == item.id for r in CATALOGUE.recommendations.values()), item.id
        assert item.dss


def test_dss_references_match_the_guidance_table() -> None:
    # PCI DSS v4.0.1 requirements an auditor links to each item (facts.md, section 1).
    assert {i.id: list(i.dss) for i in CATALOGUE.items.values()} == {
        "1.1": ["8.2.1", "8.3.1", "7.3.3"],
        "1.2": ["8.2.1", "8.2.2", "2.2.2", "8.6.1"],
        "1.3": ["8.2.4", "8.2.5", "8.3.11"],
        "1.4": ["8.3.2", "8.6.2", "8.6.3"],
        "1.5": ["7.2.5", "7.2.5.1", "8.6.1"],
        "1.6": ["8.4.1", "8.4.2", "8.4.3", "8.5.1"],
    }


def test_every_recommendation_has_a_check() -> None:
    for rec_id in CATALOGUE.recommendations:
        assert CATALOGUE.checks_of(rec_id), rec_id


def test_items_and_dss_of_a_check_spanning_two_items() -> None:
    assert [i.id for i in CATALOGUE.items_of("break-glass-custody")] == ["1.2", "1.3"]
    assert CATALOGUE.dss_of("break-glass-custody") == [
        "8.2.1",
        "8.2.2",
        "2.2.2",
        "8.6.1",
        "8.2.4",
        "8.2.5",
        "8.3.11",
    ]


# ----------------------------------------------------------------------------- binding


def test_tests_pci_has_tests() -> None:
    assert len(TESTS) >= len(CATALOGUE.checks)


@pytest.mark.parametrize("test_id", sorted(TESTS))
def test_every_shipped_test_is_bound_to_one_known_check(test_id: str) -> None:
    bound = marks(TESTS[test_id], "kubepci_check")
    assert len(bound) == 1, f"{test_id} has {len(bound)} kubepci_check markers"
    assert bound[0].args[0] in CATALOGUE.checks


def test_every_check_is_bound_to_exactly_one_test() -> None:
    bound = Counter(
        marks(function, "kubepci_check")[0].args[0]
        for function in TESTS.values()
        if marks(function, "kubepci_check")
    )
    assert {c: n for c, n in bound.items() if n != 1} == {}
    assert set(CATALOGUE.checks) - set(bound) == set()


@pytest.mark.parametrize("test_id", sorted(TESTS))
def test_docstring_names_a_recommendation_of_its_check(test_id: str) -> None:
    function = TESTS[test_id]
    (bound,) = marks(function, "kubepci_check")
    check = CATALOGUE.checks[bound.args[0]]
    doc = inspect.getdoc(function) or ""
    named = set(re.findall(r"\b1\.[1-6]\.\d+\b", doc))
    assert named, f"{test_id} has no recommendation id in its docstring"
    assert named <= set(check.recommendations), (
        f"{test_id} names {sorted(named)}; its check verifies {list(check.recommendations)}"
    )
    assert doc.startswith(tuple(check.recommendations))


@pytest.mark.parametrize("test_id", sorted(TESTS))
def test_item_markers_follow_the_catalogue(test_id: str) -> None:
    function = TESTS[test_id]
    (bound,) = marks(function, "kubepci_check")
    expected = {item.marker for item in CATALOGUE.items_of(bound.args[0])}
    applied = {m.name for m in getattr(function, "pytestmark", []) if m.name.startswith("pci_")}
    assert applied == expected


def test_module_names_follow_their_item() -> None:
    for test_id, function in TESTS.items():
        (bound,) = marks(function, "kubepci_check")
        items = {i.id.replace(".", "_") for i in CATALOGUE.items_of(bound.args[0])}
        assert any(test_id.startswith(f"test_{i}_") for i in items), test_id


def test_binding_an_unknown_check_fails_at_import() -> None:
    with pytest.raises(CatalogueError, match="unknown check id 'nope'"):
        catalogue.check("nope")


def test_markers_are_item_markers() -> None:
    assert CATALOGUE.items["1.5"].marker == "pci_1_5"


# ----------------------------------------------------------------------------- validation


VALID: dict[str, Any] = {
    "items": [
        {
            "id": "1.1",
            "title": "t",
            "threat": "th",
            "best_practice": "bp",
            "dss": ["8.2.1", "7.3.3"],
        }
    ],
    "recommendations": [{"id": "1.1.1", "item": "1.1", "text": "do it"}],
    "checks": [
        {
            "id": "a-check",
            "recommendations": ["1.1.1"],
            "title": "t",
            "severity": "high",
            "evidence": "e",
            "managed": "yes",
            "remediation": "r",
        }
    ],
}


def test_minimal_document_parses() -> None:
    parsed = parse(copy.deepcopy(VALID))
    assert parsed.checks["a-check"].recommendations == ("1.1.1",)
    assert parsed.items["1.1"].dss == ("8.2.1", "7.3.3")


def _mutate(section: str, **changes: Any) -> dict[str, Any]:
    document = copy.deepcopy(VALID)
    entry = document[section][0]
    for key, value in changes.items():
        if value is None:
            entry.pop(key)
        else:
            entry[key] = value
    return document


def _duplicate(section: str) -> dict[str, Any]:
    document = copy.deepcopy(VALID)
    document[section].append(copy.deepcopy(document[section][0]))
    return document


MALFORMED = {
    "item id out of range": (_mutate("items", id="1.7"), "id must be 1.1"),
    "item id missing": (_mutate("items", id=None), "'id' must be a non-empty string"),
    "item without dss": (_mutate("items", dss=[]), "'dss' must list"),
    "item with a bad dss": (_mutate("items", dss=["8.x"]), "'dss' must list"),
    "item title blank": (_mutate("items", title="  "), "'title' must be a non-empty string"),
    "item threat missing": (_mutate("items", threat=None), "'threat'"),
    "item best practice not text": (_mutate("items", best_practice=3), "'best_practice'"),
    "duplicate item": (_duplicate("items"), "duplicate item id '1.1'"),
    "recommendation of unknown item": (
        _mutate("recommendations", item="1.2"),
        "unknown item '1.2'",
    ),
    "recommendation text missing": (_mutate("recommendations", text=None), "'text'"),
    "duplicate recommendation": (_duplicate("recommendations"), "duplicate recommendation"),
    "check id not kebab case": (_mutate("checks", id="A_Check"), "lower-case words"),
    "check without recommendations": (_mutate("checks", recommendations=[]), "'recommendations'"),
    "check of unknown recommendation": (
        _mutate("checks", recommendations=["1.1.9"]),
        "must name known recommendations",
    ),
    "bad severity": (_mutate("checks", severity="severe"), "severity must be one of"),
    "bad managed": (_mutate("checks", managed="maybe"), "managed must be one of"),
    "check title missing": (_mutate("checks", title=None), "'title'"),
    "check evidence missing": (_mutate("checks", evidence=""), "'evidence'"),
    "check remediation missing": (_mutate("checks", remediation=None), "'remediation'"),
    "duplicate check": (_duplicate("checks"), "duplicate check id 'a-check'"),
    "recommendation without a check": (
        {
            **copy.deepcopy(VALID),
            "recommendations": [
                *VALID["recommendations"],
                {"id": "1.1.2", "item": "1.1", "text": "x"},
            ],
        },
        "recommendation 1.1.2 has no check",
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_catalogue_is_rejected(case: str) -> None:
    document, expected = MALFORMED[case]
    with pytest.raises(CatalogueError) as error:
        parse(document)
    assert expected in str(error.value)
