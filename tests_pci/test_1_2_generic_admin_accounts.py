"""PCI 1.2 — credentials are tied to individuals; generic administrator accounts are
not used, and a default account that cannot be deleted is secured for break-glass."""

from __future__ import annotations

from kubepci import check
from kubepci.analysis import identities
from kubepci.analysis.privilege_report import ADMIN
from kubepci.facade import Cluster
from kubepci.verdict import Finding


@check("generic-cluster-admin-bindings")
def test_no_generic_account_holds_cluster_admin(cluster: Cluster) -> None:
    """1.2.1 — no generic account (a shared or distribution-default user, a catch-all
    group, a default ServiceAccount) is cluster-admin equivalent, by any role or path;
    the inventory of every admin-equivalent principal is kept as evidence."""
    report = cluster.privileges
    admins = report.of_class(ADMIN)
    cluster.evidence(
        "Every cluster-admin equivalent principal and its path "
        "(system:masters members are not visible through the API)",
        [h.to_json() for h in admins],
        "rbac",
    )
    cluster.evidence(
        "Kubernetes' default policy (set aside: exactly the upstream default)",
        sorted({h.principal.ref for h in report.set_aside if h.privilege.id == ADMIN}),
    )
    generic = [h for h in admins if identities.generic_reason(h.principal)]
    findings = [
        Finding(
            h.principal.kind,
            h.principal.namespace,
            h.principal.name,
            f"{identities.generic_reason(h.principal)}, and is cluster-admin equivalent: "
            f"{h.path()}",
            finding_class=ADMIN,
        )
        for h in generic
    ]
    cluster.confirm(generic)
    cluster.judge(findings, passed="only individuals are cluster-admin equivalent")


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
