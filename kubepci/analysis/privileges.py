"""Service account privilege paths (PCI 1.5) and certificate approval rights (PCI 1.3)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from kubepci.analysis.rbac import (
    Grant,
    RbacGraph,
    Subject,
    dangerous_permissions,
    is_cluster_admin,
    subject_is_service_account_like,
)

CONTROL_PLANE_USERS = frozenset(
    {"system:kube-controller-manager", "system:kube-scheduler", "system:apiserver"}
)


@dataclass(frozen=True)
class PrivilegeFinding:
    subject: Subject
    permission: str
    grants: tuple[Grant, ...]

    def paths(self) -> list[str]:
        return [g.path() for g in self.grants]


def is_control_plane_default(grant: Grant) -> bool:
    """Kubernetes' own bootstrap grants to the control plane's identities.

    The bootstrap policy labels its bindings; they are the control plane's own machinery
    only while their subjects stay kube-system ServiceAccounts or system:* users. A
    subject added to such a binding by hand is judged like any other.
    """
    if not grant.bootstrap:
        return False
    subject = grant.subject
    if subject.kind == "ServiceAccount":
        return subject.namespace == "kube-system"
    # system:serviceaccounts(:ns) and system:authenticated are everyone, not the control
    # plane, whatever their prefix says.
    if subject_is_service_account_like(subject):
        return False
    return subject.name.startswith("system:")


def service_account_privileges(graph: RbacGraph) -> tuple[list[PrivilegeFinding], list[Grant]]:
    """Dangerous grants to ServiceAccounts (directly or via their groups).

    Returns the findings and the control-plane default grants that were set aside.
    """
    by_key: dict[tuple[Subject, str], list[Grant]] = defaultdict(list)
    set_aside: list[Grant] = []
    approval: dict[Subject, list[Grant]] = defaultdict(list)
    signing: dict[Subject, list[Grant]] = defaultdict(list)
    for grant in graph.where(subject_is_service_account_like):
        if is_control_plane_default(grant):
            set_aside.append(grant)
            continue
        for permission in dangerous_permissions(grant):
            by_key[(grant.subject, permission)].append(grant)
        if grant.rule.is_wildcard_all:
            continue  # already summarised as one finding; approval is part of it
        if _grants_approval(grant):
            approval[grant.subject].append(grant)
        if _grants_signer_approve(grant):
            signing[grant.subject].append(grant)
    for subject in approval.keys() & signing.keys():
        key = (subject, "approve certificate signing requests")
        if key not in by_key:
            by_key[key] = approval[subject] + signing[subject]
    findings = [
        PrivilegeFinding(subject, permission, tuple(grants))
        for (subject, permission), grants in sorted(by_key.items())
    ]
    return findings, set_aside


def _grants_approval(grant: Grant) -> bool:
    # CSRs and signers are cluster-scoped: a RoleBinding grants neither right.
    return grant.cluster_wide and any(
        grant.rule.allows(v, "certificates.k8s.io", "certificatesigningrequests/approval")
        for v in ("update", "patch")
    )


def _grants_signer_approve(grant: Grant) -> bool:
    return grant.cluster_wide and grant.rule.allows("approve", "certificates.k8s.io", "signers")


def csr_approvers(graph: RbacGraph) -> tuple[list[tuple[Subject, list[Grant]]], list[Grant]]:
    """Subjects outside the control plane that can approve CSRs, through any roles.

    Approval takes two permissions that may come from different roles: update on
    certificatesigningrequests/approval and approve on a signer. Holders of cluster-admin
    are returned separately: their rights are judged under PCI 1.2.
    """
    approval: dict[Subject, list[Grant]] = defaultdict(list)
    signing: dict[Subject, list[Grant]] = defaultdict(list)
    admins: list[Grant] = []
    for grant in graph.grants:
        subject = grant.subject
        if is_control_plane_default(grant) or subject.name in CONTROL_PLANE_USERS:
            continue
        if subject.kind == "Group" and subject.name == "system:masters":
            continue
        if is_cluster_admin(grant):
            admins.append(grant)
            continue
        if _grants_approval(grant):
            approval[subject].append(grant)
        if _grants_signer_approve(grant):
            signing[subject].append(grant)
    found = [
        (subject, approval[subject] + signing[subject])
        for subject in sorted(approval.keys() & signing.keys())
    ]
    return found, admins


def csr_creators(graph: RbacGraph) -> list[Grant]:
    return [
        g
        for g in graph.grants
        if g.rule.allows("create", "certificates.k8s.io", "certificatesigningrequests")
        and not is_control_plane_default(g)
    ]
