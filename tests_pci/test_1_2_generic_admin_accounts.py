"""PCI 1.2 — credentials are tied to individuals; generic administrator accounts are
not used, and a default account that cannot be deleted is secured for break-glass."""

from __future__ import annotations

from kubepci import check
from kubepci.analysis import admin_accounts
from kubepci.facade import Cluster


@check("generic-cluster-admin-bindings")
def test_no_generic_account_holds_cluster_admin(cluster: Cluster) -> None:
    """1.2.1 — no generic account (a shared or distribution-default user, a catch-all
    group, a default ServiceAccount) is cluster-admin equivalent, by any role or path;
    the inventory of every admin-equivalent principal is kept as evidence."""
    generic = admin_accounts.plan_generic_admins(cluster.privileges)
    cluster.conclude(generic.so_far, final=False)
    cluster.confirm(generic.then)
    cluster.conclude(admin_accounts.judge_generic_admins(generic.then))


@check("suite-identity-not-generic")
def test_audit_identity_is_individual(cluster: Cluster) -> None:
    """1.2.1 — the identity running this audit (SelfSubjectReview) is not a generic
    account or a member of system:masters."""
    cluster.conclude(admin_accounts.judge_audit_identity(cluster.identity))


@check("break-glass-custody")
def test_default_admin_credential_in_break_glass_custody(cluster: Cluster) -> None:
    """1.2.1 / 1.3.1 — the distribution's default admin credential (kubeadm's admin.conf
    and super-admin.conf, a cloud's first-user credential) is held in a secrets manager
    and used only for break-glass. Custody is outside the cluster: a person attests it."""
    cluster.conclude(admin_accounts.judge_break_glass_custody(cluster.distribution.name))
