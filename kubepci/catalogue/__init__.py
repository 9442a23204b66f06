"""The PCI Section 1 catalogue: data, validated when it is loaded.

Checks are data first (kube-bench style): ``section1.yaml`` says which recommendation
each check verifies, its severity and remediation. The code in ``tests_pci`` binds a
test to a check id with :func:`check`; a unit test proves the two match one to one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, TypeVar

import pytest
import yaml

SEVERITIES = ("low", "medium", "high", "critical")
MANAGED = ("yes", "no", "partial")
_ITEM_ID = re.compile(r"^1\.[1-6]$")
_DSS_REF = re.compile(r"^\d+(\.\d+)+$")
_CHECK_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


class CatalogueError(ValueError):
    """The catalogue data is malformed; raised at load, never at run time."""


@dataclass(frozen=True)
class Item:
    id: str
    title: str
    threat: str
    best_practice: str
    dss: tuple[str, ...]

    @property
    def marker(self) -> str:
        """The pytest marker that selects this item: ``pci_1_5`` for item 1.5."""
        return "pci_" + self.id.replace(".", "_")


@dataclass(frozen=True)
class Recommendation:
    id: str
    item: str
    text: str


@dataclass(frozen=True)
class Check:
    id: str
    recommendations: tuple[str, ...]
    title: str
    severity: str
    evidence: str
    managed: str
    remediation: str


@dataclass(frozen=True)
class Catalogue:
    items: dict[str, Item]
    recommendations: dict[str, Recommendation]
    checks: dict[str, Check]

    def items_of(self, check_id: str) -> list[Item]:
        """The PCI items a check verifies, in catalogue order."""
        ids = {self.recommendations[r].item for r in self.checks[check_id].recommendations}
        return [item for item in self.items.values() if item.id in ids]

    def dss_of(self, check_id: str) -> list[str]:
        refs: list[str] = []
        for item in self.items_of(check_id):
            refs.extend(ref for ref in item.dss if ref not in refs)
        return refs

    def checks_of(self, recommendation_id: str) -> list[Check]:
        return [c for c in self.checks.values() if recommendation_id in c.recommendations]


def _text(entry: dict[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise CatalogueError(f"{where}: '{key}' must be a non-empty string")
    return value.strip()


def _unique(kind: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise CatalogueError(f"duplicate {kind} id {i!r}")
        seen.add(i)


def parse(document: dict[str, Any]) -> Catalogue:
    """Validate the raw YAML document and build the catalogue."""
    items: dict[str, Item] = {}
    for entry in document.get("items") or []:
        item_id = _text(entry, "id", "item")
        if not _ITEM_ID.match(item_id):
            raise CatalogueError(f"item {item_id!r}: id must be 1.1 … 1.6")
        dss = tuple(str(d) for d in entry.get("dss") or [])
        if not dss or not all(_DSS_REF.match(d) for d in dss):
            raise CatalogueError(f"item {item_id}: 'dss' must list PCI DSS requirement numbers")
        where = f"item {item_id}"
        items[item_id] = Item(
            item_id,
            _text(entry, "title", where),
            _text(entry, "threat", where),
            _text(entry, "best_practice", where),
            dss,
        )
    _unique("item", [str(e.get("id")) for e in document.get("items") or []])

    recommendations: dict[str, Recommendation] = {}
    for entry in document.get("recommendations") or []:
        rec_id = _text(entry, "id", "recommendation")
        item = _text(entry, "item", f"recommendation {rec_id}")
        if item not in items:
            raise CatalogueError(f"recommendation {rec_id}: unknown item {item!r}")
        recommendations[rec_id] = Recommendation(
            rec_id, item, _text(entry, "text", f"recommendation {rec_id}")
        )
    _unique("recommendation", [str(e.get("id")) for e in document.get("recommendations") or []])

    checks: dict[str, Check] = {}
    for entry in document.get("checks") or []:
        check_id = _text(entry, "id", "check")
        where = f"check {check_id}"
        if not _CHECK_ID.match(check_id):
            raise CatalogueError(f"{where}: id must be lower-case words joined by '-'")
        recs = tuple(entry.get("recommendations") or [])
        if not recs or any(r not in recommendations for r in recs):
            raise CatalogueError(f"{where}: 'recommendations' must name known recommendations")
        severity = _text(entry, "severity", where)
        if severity not in SEVERITIES:
            raise CatalogueError(f"{where}: severity must be one of {SEVERITIES}")
        managed = _text(entry, "managed", where)
        if managed not in MANAGED:
            raise CatalogueError(f"{where}: managed must be one of {MANAGED}")
        checks[check_id] = Check(
            check_id,
            recs,
            _text(entry, "title", where),
            severity,
            _text(entry, "evidence", where),
            managed,
            _text(entry, "remediation", where),
        )
    _unique("check", [str(e.get("id")) for e in document.get("checks") or []])

    for rec_id in recommendations:
        if not any(rec_id in c.recommendations for c in checks.values()):
            raise CatalogueError(f"recommendation {rec_id} has no check")
    return Catalogue(items, recommendations, checks)


@cache
def load() -> Catalogue:
    text = resources.files(__package__).joinpath("section1.yaml").read_text(encoding="utf-8")
    # libyaml's loader where PyYAML has it: the pure-Python one costs a tenth of a second
    # of every run's start-up on this file alone.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return parse(yaml.load(text, Loader=loader))


F = TypeVar("F", bound=Callable[..., Any])


def check(check_id: str) -> Callable[[F], F]:
    """Bind a test to its catalogue entry and mark it with its PCI item(s).

    An unknown id fails at import, so a typo can never produce an unbound test.
    """
    catalogue = load()
    if check_id not in catalogue.checks:
        raise CatalogueError(f"unknown check id {check_id!r}")

    def bind(test: F) -> F:
        marked: Any = pytest.mark.kubepci_check(check_id)(test)
        for item in catalogue.items_of(check_id):
            marked = getattr(pytest.mark, item.marker)(marked)
        return marked

    return bind
