"""PCI 1.2 — credentials are tied to individuals; generic administrator accounts are
not used, and a default account that cannot be deleted is secured for break-glass."""

from __future__ import annotations

from kubepci import check
from kubepci.analysis import identities, privileges
from kubepci.analysis.rbac import binding_findings
from kubepci.facade import Cluster
from kubepci.verdict import Finding


@check("generic-cluster-admin-bindings")
def test_no_generic_account_holds_cluster_admin(cluster: Cluster) -> None:
    """1.2.1 — cluster-admin (or */* on everything) is bound only to subjects that name
    individuals; the inventory of every holder is kept as evidence."""
    holders = identities.cluster_admin_holders(cluster.rbac)
    cluster.evidence(
        "Every cluster-admin holder (system:masters members are not visible through the API)",
        sorted({g.path() for g in holders}),
        "rbac",
    )
    # Kubernetes' own default binding of system:masters is judged through credentials
    # (client certificates, CSRs), since RBAC cannot see or remove that group.
    generic = [
        g
        for g in holders
        if identities.generic_reason(g.subject) and not privileges.is_control_plane_default(g)
    ]
    findings = binding_findings(
        generic,
        lambda g: f"{identities.generic_reason(g.subject)}, and holds cluster-admin: {g.path()}",
    )
    cluster.judge(findings, passed="cluster-admin is bound only to individuals")


@check("suite-identity-not-generic")
def test_audit_identity_is_individual(cluster: Cluster) -> None:
    """1.2.1 — the identity running this audit (SelfSubjectReview) is not a generic
    account or a member of system:masters."""
    identity = cluster.identity
    cluster.evidence("SelfSubjectReview of the audit's credentials", identity, "objects")
    why = identities.identity_reason(identity["username"], identity["groups"])
    findings = [Finding("User", "", identity["username"], why)] if why else []
    cluster.judge(findings, passed=f"running as {identity['username']}, an individual identity")


@check("break-glass-custody")
def test_default_admin_credential_in_break_glass_custody(cluster: Cluster) -> None:
    """1.2.1 / 1.3.1 — the distribution's default admin credential (kubeadm's admin.conf
    and super-admin.conf, a cloud's first-user credential) is held in a secrets manager
    and used only for break-glass. Custody is outside the cluster: a person attests it."""
    cluster.evidence(
        "What to attest",
        f"Distribution {cluster.distribution.name}: show where the initial admin credential is "
        "stored, who can retrieve it, and the access log of its last retrievals.",
    )
    cluster.manual("custody of the break-glass credential can only be attested by its owner")
