"""Privilege holdings as findings: one per principal and class, named as the operator
looks it up (the ServiceAccount, user or group), carrying its path and class."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from kubepci.analysis.privilege_paths import Holding
from kubepci.analysis.privilege_report import ADMIN
from kubepci.verdict import Finding


def summarised(holdings: Iterable[Holding]) -> list[Holding]:
    """A principal that is admin-equivalent is reported as that alone: every other class
    follows from it, and repeating them buries the one that matters."""
    by_principal: dict[object, list[Holding]] = defaultdict(list)
    for holding in holdings:
        by_principal[holding.principal].append(holding)
    out: list[Holding] = []
    for found in by_principal.values():
        admin = [h for h in found if h.privilege.id == ADMIN]
        out.extend(admin or found)
    return out


def finding(holding: Holding) -> Finding:
    p = holding.principal
    detail = f"{holding.privilege.title} ({holding.privilege.severity}): {holding.path()}"
    return Finding(p.kind, p.namespace, p.name, detail, finding_class=holding.privilege.id)
