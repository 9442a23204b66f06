"""The RBAC evaluator against answers the API server gave, replayed offline.

``tests/data/rbac/sar-recorded.json`` was written by the cluster tier's differential test
(``KUBEPCI_RECORD_SAR=tests/data/rbac/sar-recorded.json pytest
tests/cluster/test_rbac_differential.py``): each round holds every RBAC object of a real
v1.35.4 cluster (its default policy plus one generated batch) and (identity, request,
allowed) triples answered by ``SubjectAccessReview``. ``Authorizer`` must agree with every
one, and the recording must be sharp enough to catch seeded evaluator bugs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from kubepci.analysis import authorizer
from kubepci.analysis.authorizer import Authorizer, Identity, Request
from tests.support.rbac_cases import MUTANTS

RECORDING = Path(__file__).resolve().parents[1] / "data" / "rbac" / "sar-recorded.json"
FIELDS = ("verb", "group", "resource", "subresource", "namespace", "name", "path")


@dataclass(frozen=True)
class Round:
    tag: str
    objects: dict
    triples: list[tuple[Identity, Request, bool]]


@cache
def recording() -> tuple[dict, tuple[Round, ...]]:
    data = json.loads(RECORDING.read_text())
    assert data["format"] == 1 and tuple(data["request_fields"]) == FIELDS
    identities = [Identity(user, tuple(groups)) for user, groups in data["identities"]]
    rounds = tuple(
        Round(
            r["tag"],
            r["objects"],
            [
                (identities[i], Request(**dict(zip(FIELDS, request, strict=True))), allowed)
                for i, request, allowed in r["triples"]
            ],
        )
        for r in data["rounds"]
    )
    return data, rounds


def disagreements() -> Iterator[tuple[str, Identity, Request, bool]]:
    """Every recorded triple ``Authorizer`` answers differently, as evaluated now (so
    under whatever the test monkeypatched)."""
    for r in recording()[1]:
        authz = Authorizer.from_snapshot(r.objects)
        for identity, request, allowed in r.triples:
            if authz.allows(identity, request) != allowed:
                yield r.tag, identity, request, allowed


def test_recording_is_large_and_balanced() -> None:
    data, rounds = recording()
    triples = [t for r in rounds for t in r.triples]
    allowed = sum(a for _, _, a in triples)
    assert data["kubernetes"].startswith("v1.35.")
    assert len(triples) >= 2500
    assert len(triples) // 10 <= allowed <= len(triples) - len(triples) // 10
    # The default policy is part of every round, not only the generated objects.
    for r in rounds:
        names = {o["metadata"]["name"] for o in r.objects["clusterrolebindings"]}
        assert {"system:basic-user", "system:discovery", "cluster-admin"} <= names


def test_authorizer_agrees_with_every_recorded_answer() -> None:
    wrong = list(disagreements())
    shown = "\n".join(
        f"round {tag}: {identity.user} {list(identity.groups)}: {request.text()}: "
        f"server allowed={allowed}"
        for tag, identity, request, allowed in wrong[:20]
    )
    assert not wrong, f"{len(wrong)} recorded answers disagree:\n{shown}"


KILLABLE = [name for name in MUTANTS if not name.startswith("subject_applies")]


@pytest.mark.parametrize("mutant", KILLABLE)
def test_recording_kills_mutant(mutant: str, monkeypatch: pytest.MonkeyPatch) -> None:
    attribute, replacement = MUTANTS[mutant]
    monkeypatch.setattr(authorizer, attribute, replacement)
    assert next(disagreements(), None) is not None, f"the recording cannot tell {mutant!r}"


@pytest.mark.xfail(
    strict=True,
    reason=(
        "unobservable through the API: a ClusterRoleBinding's ServiceAccount subject must "
        "name its namespace (validation.go ValidateRoleBindingSubject, proven live by "
        "test_cluster_role_binding_service_account_needs_namespace), so no recorded object "
        "exercises the branch; and Authorizer.allows finds bindings through its subject "
        "index, calling subject_applies only to name the subject. "
        "tests/unit/test_authorizer.py catches it at the appliesToUser level."
    ),
)
def test_recording_kills_unqualified_service_account_mutant(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (mutant,) = (name for name in MUTANTS if name.startswith("subject_applies"))
    attribute, replacement = MUTANTS[mutant]
    monkeypatch.setattr(authorizer, attribute, replacement)
    assert next(disagreements(), None) is not None
