"""Who holds which privilege class, with Kubernetes' own default grants set apart.

A grant is Kubernetes' own only when it is exactly the upstream default policy for the
server's version (``kubepci.analysis.defaults``): a holding is set aside when the
principal would hold the class with nothing but those default bindings. Everything
beyond the default, however it is labelled or named, is judged like any other grant.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubepci.analysis import defaults
from kubepci.analysis.authorizer import (
    AUTHENTICATED,
    SERVICE_ACCOUNTS,
    UNAUTHENTICATED,
    Authorizer,
    Binding,
    Subject,
    split_service_account_username,
)
from kubepci.analysis.privilege_paths import Holding, PrivilegeGraph
from kubepci.analysis.workloads import Workloads
from kubepci.catalogue.privileges import PrivilegeCatalogue
from kubepci.catalogue.privileges import load as load_catalogue

Obj = dict[str, Any]
ADMIN = "admin-equivalent"
WORKLOAD_GROUPS = (SERVICE_ACCOUNTS, AUTHENTICATED, UNAUTHENTICATED)


@dataclass
class PrivilegeReport:
    holdings: list[Holding]  # beyond Kubernetes' default policy
    set_aside: list[Holding]  # what the default policy alone gives
    dangling: list[Binding]  # bindings whose role does not exist (latent grants)
    default_bindings: list[str]  # bindings recognised as exactly the default policy
    beyond_default: list[Binding] = field(default_factory=list)  # every other binding
    limitations: list[str] = field(default_factory=list)
    authorizer: Authorizer | None = None  # the evaluator the holdings came from

    def of_class(self, *class_ids: str) -> list[Holding]:
        return [h for h in self.holdings if h.privilege.id in class_ids]

    def admins(self) -> set[Subject]:
        return {h.principal for h in self.holdings if h.privilege.id == ADMIN}

    def direct_admins(self) -> set[Subject]:
        """Principals whose own rules grant everything (not through a path)."""
        return {h.principal for h in self.holdings if h.privilege.id == ADMIN and len(h.hops) == 1}


def is_workload_principal(subject: Subject) -> bool:
    """ServiceAccounts, and the groups every ServiceAccount (or every caller) is in."""
    if subject.kind == "ServiceAccount":
        return True
    return subject.kind == "Group" and (
        subject.name in WORKLOAD_GROUPS or subject.name.startswith(f"{SERVICE_ACCOUNTS}:")
    )


def _role_lookup(rbac: Mapping[str, Sequence[Obj]]):
    cluster = {str(r["metadata"]["name"]): r.get("rules") or [] for r in rbac["clusterroles"]}
    namespaced = {
        (str(r["metadata"].get("namespace", "")), str(r["metadata"]["name"])): r.get("rules") or []
        for r in rbac["roles"]
    }

    def lookup(kind: str, namespace: str, name: str) -> list[Obj] | None:
        if kind == "ClusterRole":
            return cluster.get(name)
        return namespaced.get((namespace, name))

    return lookup


def analyse(
    rbac: Mapping[str, Sequence[Obj]],
    workloads: Workloads,
    server_version: str,
    catalogue: PrivilegeCatalogue | None = None,
) -> PrivilegeReport:
    catalogue = catalogue or load_catalogue()
    policy = defaults.load_default_policy(server_version)
    lookup = _role_lookup(rbac)
    default_crbs = [
        b
        for b in rbac["clusterrolebindings"]
        if policy.is_default_binding("ClusterRoleBinding", b, lookup)
    ]
    default_rbs = [
        b for b in rbac["rolebindings"] if policy.is_default_binding("RoleBinding", b, lookup)
    ]
    authz = Authorizer.from_snapshot(rbac)
    everything = PrivilegeGraph(authz, workloads, catalogue).holdings()
    only_defaults = PrivilegeGraph(
        Authorizer(rbac["clusterroles"], default_crbs, rbac["roles"], default_rbs),
        workloads,
        catalogue,
    ).holdings()
    by_default = {(h.principal, h.privilege.id) for h in only_defaults}
    default_refs = {
        (b.kind, b.namespace, b.name)
        for b in Authorizer([], default_crbs, [], default_rbs).bindings
    }
    holdings, set_aside = [], []
    for holding in everything:
        if (holding.principal, holding.privilege.id) in by_default or _consequence(
            holding, default_refs
        ):
            set_aside.append(holding)
        else:
            holdings.append(holding)
    names = [f"ClusterRoleBinding {b['metadata']['name']}" for b in default_crbs]
    names += [
        f"RoleBinding {b['metadata'].get('namespace')}/{b['metadata']['name']}" for b in default_rbs
    ]
    limitations = [policy.note] if policy.note else []
    beyond = [b for b in authz.bindings if (b.kind, b.namespace, b.name) not in default_refs]
    return PrivilegeReport(
        holdings, set_aside, authz.dangling(), sorted(names), beyond, limitations, authz
    )


def _consequence(holding: Holding, default_refs: set[tuple[str, str, str]]) -> bool:
    """A default grant that reaches an identity someone over-privileged: the finding is
    that identity's (reported under its own name), not the Kubernetes component's whose
    default policy lets it act as every ServiceAccount."""
    if len(holding.hops) < 2:
        return False
    first = holding.hops[0].hit.grants
    return bool(first) and all(
        (g.binding.kind, g.binding.namespace, g.binding.name) in default_refs for g in first
    )


def reaches_default_account(subject: Subject) -> str:
    """Why a binding subject reaches some namespace's default ServiceAccount ('' if not).

    The subject forms follow rule.go appliesToUser: a ServiceAccount subject, a User
    spelled as the account's username, or a group every ServiceAccount is in.
    """
    if subject.kind == "ServiceAccount" and subject.name == "default":
        return f"names the default ServiceAccount of {subject.namespace or 'no namespace'}"
    if subject.kind == "User":
        account = split_service_account_username(subject.name)
        if account and account[1] == "default":
            return f"names the default ServiceAccount of {account[0]} by its username"
    if subject.kind == "Group" and (
        subject.name in (SERVICE_ACCOUNTS, AUTHENTICATED)
        or subject.name.startswith(f"{SERVICE_ACCOUNTS}:")
    ):
        return f"Group {subject.name} includes default ServiceAccounts"
    return ""


def latent_risk(binding: Binding) -> str:
    """Why a binding to a role that does not exist yet is a finding ('' if it is not):
    whoever creates the role grants it, at once, to a catch-all or default subject."""
    for subject in binding.subjects:
        why = reaches_default_account(subject)
        if why or (subject.kind == "Group" and subject.name in (UNAUTHENTICATED, "system:masters")):
            return why or f"names Group {subject.name}"
        if subject.kind == "User" and subject.name == "system:anonymous":
            return "names User system:anonymous"
    return ""
