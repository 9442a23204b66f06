"""The API server's authorizer as evidence, on the real cluster: SubjectAccessReviews made
through a ClusterSession agree with the RBAC evaluator over the recorded RBAC lists, the
unbound identity is refused everything risky, the auditor role alone may ask, and the
live kube-apiserver's authorizer chain is read from its flags."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from kubepci.access.cluster import ClusterSession
from kubepci.access.kubeconfig import resolve_targets
from kubepci.analysis.access_review import (
    UNBOUND_PROBE,
    authorization_mode_findings,
    confirmations,
    permissive_authorizer_findings,
    probe_disagreements,
)
from kubepci.analysis.authorizer import Authorizer, Identity, Request
from kubepci.verdict import EvidenceUnavailable
from tests.cluster.conftest import REPO, LocalCluster
from tests.support import identities

AUDITOR_RBAC = REPO / "deploy" / "auditor-rbac.yaml"
# Granted by the default bootstrap policy on every cluster, so known to be allowed:
# system:discovery gives every authenticated user /version; the system:kube-scheduler
# ClusterRoleBinding gives that user list pods.
KNOWN_ALLOWED = [
    (Identity.authenticated_user("kubepci-known-user"), Request("get", path="/version")),
    (
        Identity.authenticated_user("system:kube-scheduler"),
        Request("list", resource="pods", namespace="default"),
    ),
]


def session_for(kubeconfig: str, store: Path) -> ClusterSession:
    return ClusterSession(resolve_targets([kubeconfig], [])[0], store)


@pytest.fixture(scope="module")
def admin_session(
    local_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory
) -> ClusterSession:
    return session_for(local_cluster.admin_kubeconfig, tmp_path_factory.mktemp("sar-admin"))


@pytest.fixture(scope="module")
def evaluator(admin_session: ClusterSession) -> Authorizer:
    return Authorizer.from_snapshot(admin_session.snapshot.rbac())


def test_unbound_identity_is_refused_every_risky_request(
    admin_session: ClusterSession, evaluator: Authorizer
) -> None:
    answers = admin_session.access_reviews(UNBOUND_PROBE)
    assert [a.allowed for a in answers] == [False] * len(UNBOUND_PROBE), answers
    # RBAC is the only authorizer that could grant here, and it says no too: no finding,
    # no disagreement.
    allows = [evaluator.allows(i, r) for i, r in UNBOUND_PROBE]
    assert allows == [False] * len(UNBOUND_PROBE)
    assert permissive_authorizer_findings(UNBOUND_PROBE, allows, answers) == []
    assert probe_disagreements(UNBOUND_PROBE, allows, answers) == []


def test_known_allowed_pairs_are_confirmed(
    admin_session: ClusterSession, evaluator: Authorizer
) -> None:
    assert all(evaluator.allows(i, r) for i, r in KNOWN_ALLOWED)
    answers = admin_session.access_reviews(KNOWN_ALLOWED)
    assert all(a.allowed for a in answers), answers
    assert all(a.reason.startswith("RBAC: allowed by ClusterRoleBinding") for a in answers)
    lines, disagreements = confirmations(KNOWN_ALLOWED, answers)
    assert lines == ["authorizer: allowed"] * len(KNOWN_ALLOWED)
    assert disagreements == []


def test_answers_are_stored_and_reused(
    local_cluster: LocalCluster, admin_session: ClusterSession
) -> None:
    first = admin_session.access_reviews(UNBOUND_PROBE + KNOWN_ALLOWED)
    # A second session on the same store (another xdist worker, a replay) sends nothing.
    other = ClusterSession(admin_session.target, admin_session.store.directory)
    again = other.access_reviews(list(reversed(UNBOUND_PROBE + KNOWN_ALLOWED)))
    assert again == list(reversed(first))
    assert other._reader is None  # never built a client: no request at all


def test_live_authorizer_chain_from_flags(admin_session: ClusterSession) -> None:
    (flags,) = admin_session.control_plane["kube-apiserver"]
    findings, evidence = authorization_mode_findings(flags, None)
    assert findings == [], findings
    assert "Node → RBAC" in evidence[0], evidence


@pytest.fixture(scope="module")
def auditor_session(
    local_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ClusterSession]:
    tmp = tmp_path_factory.mktemp("sar-auditor")
    # The role as deploy/auditor-rbac.yaml has it now, not as the cluster's bring-up applied it.
    (role,) = [
        d
        for d in yaml.safe_load_all(AUDITOR_RBAC.read_text())
        if d["kind"] == "ClusterRole" and d["metadata"]["name"] == "kubepci-auditor"
    ]
    try:
        auditor = identities.service_account_identity(
            local_cluster.admin_kubeconfig,
            "sar-auditor",
            [],
            tmp / "kubeconfig",
            rules=role["rules"],
        )
        yield session_for(str(auditor.kubeconfig), tmp / "store")
    finally:
        identities.remove(local_cluster.admin_kubeconfig)


def test_auditor_role_alone_may_ask(
    auditor_session: ClusterSession, admin_session: ClusterSession
) -> None:
    pairs = UNBOUND_PROBE + KNOWN_ALLOWED
    as_auditor = auditor_session.access_reviews(pairs)
    as_admin = admin_session.access_reviews(pairs)
    # The decision, not the reason: an allowed review names the first binding the
    # authorizer happened to visit, and the order of its cache is not stable.
    assert [(a.allowed, a.denied) for a in as_auditor] == [(a.allowed, a.denied) for a in as_admin]
    assert auditor_session.reader().requests == {
        "POST /apis/authorization.k8s.io/v1/subjectaccessreviews": len(pairs)
    }


def test_an_identity_without_the_grant_gets_the_servers_reason(
    local_cluster: LocalCluster, tmp_path: Path
) -> None:
    try:
        bare = identities.service_account_identity(
            local_cluster.admin_kubeconfig, "sar-bare", [], tmp_path / "kubeconfig"
        )
        with pytest.raises(EvidenceUnavailable) as caught:
            session_for(str(bare.kubeconfig), tmp_path / "store").access_reviews(UNBOUND_PROBE)
    finally:
        identities.remove(local_cluster.admin_kubeconfig)
    assert "403 forbidden" in caught.value.reason
    assert "subjectaccessreviews" in caught.value.reason
