"""Generic and shared identities (PCI 1.2), and who holds cluster-admin."""

from __future__ import annotations

from kubepci.analysis.authorizer import Subject

# Identities that name no individual: distribution defaults and catch-all groups.
GENERIC_USERS = frozenset(
    {
        "admin",
        "administrator",
        "root",
        "kubernetes-admin",
        "kubernetes-super-admin",
        "kube-admin",
        "kubeadmin",
        "cluster-admin",
        "clusteradmin",
        "clusterAdmin",
        "clusterUser",
        "masterclient",
        "superuser",
        "system:admin",
        "default",
    }
)
GENERIC_GROUPS = frozenset(
    {
        "system:masters",
        "kubeadm:cluster-admins",
        "system:authenticated",
        "system:unauthenticated",
        "system:serviceaccounts",
    }
)


def generic_reason(subject: Subject) -> str:
    """Why a binding subject is generic, or '' when it can name an individual."""
    if subject.kind == "User" and subject.name in GENERIC_USERS:
        return f"user {subject.name!r} is a shared or distribution-default account"
    if subject.kind == "Group" and subject.name in GENERIC_GROUPS:
        return f"group {subject.name!r} is not a set of named individuals"
    if subject.kind == "Group" and subject.name.startswith("system:serviceaccounts:"):
        return f"group {subject.name!r} is every ServiceAccount of a namespace"
    if subject.kind == "ServiceAccount" and subject.name == "default":
        return "a namespace's default ServiceAccount is used by every pod that names no other"
    return ""


def identity_reason(username: str, groups: list[str]) -> str:
    """Why the identity running the audit is generic, or ''."""
    if "system:masters" in groups:
        return "member of system:masters, which bypasses RBAC and cannot be revoked"
    if username in GENERIC_USERS:
        return f"user {username!r} is a shared or distribution-default account"
    # The authenticator puts every caller in system:authenticated and every ServiceAccount
    # in system:serviceaccounts: membership says nothing about who the identity is.
    automatic = {"system:authenticated", "system:serviceaccounts"}
    generic_groups = sorted(set(groups) & (GENERIC_GROUPS - automatic))
    if generic_groups:
        return f"authenticates through generic group(s) {', '.join(generic_groups)}"
    if username.endswith(":default") and username.startswith("system:serviceaccount:"):
        return "a namespace's default ServiceAccount"
    return ""
