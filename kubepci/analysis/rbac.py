"""RBAC privilege paths: who is granted what, through which binding, role and rule.

A :class:`Grant` is one rule reaching one subject through one binding. Checks ask the
graph for grants matching a subject and a permission and report the path
``subject → binding → role → rule`` as evidence, so an operator can see exactly which
object to change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from kubepci.verdict import Finding

Obj = dict[str, Any]

BOOTSTRAP_LABEL = ("kubernetes.io/bootstrapping", "rbac-defaults")
WILDCARD = "*"


@dataclass(frozen=True, order=True)
class Subject:
    kind: str  # User, Group or ServiceAccount
    name: str
    namespace: str = ""

    @classmethod
    def from_json(cls, raw: Obj, binding_namespace: str) -> Subject:
        kind = str(raw.get("kind", ""))
        namespace = (
            str(raw.get("namespace") or binding_namespace) if kind == "ServiceAccount" else ""
        )
        return cls(kind, str(raw.get("name", "")), namespace)

    @property
    def ref(self) -> str:
        return (
            f"{self.kind} {self.namespace}/{self.name}"
            if self.namespace
            else f"{self.kind} {self.name}"
        )

    @property
    def username(self) -> str:
        """The name the authenticator gives this subject (ServiceAccounts are prefixed)."""
        if self.kind == "ServiceAccount":
            return f"system:serviceaccount:{self.namespace}:{self.name}"
        return self.name


@dataclass(frozen=True)
class Rule:
    verbs: tuple[str, ...]
    api_groups: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()
    non_resource_urls: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, raw: Obj) -> Rule:
        def t(key: str) -> tuple[str, ...]:
            return tuple(str(v) for v in raw.get(key) or [])

        return cls(
            t("verbs"), t("apiGroups"), t("resources"), t("resourceNames"), t("nonResourceURLs")
        )

    def text(self) -> str:
        verbs = ",".join(self.verbs)
        if self.non_resource_urls:
            return f"{verbs} on {','.join(self.non_resource_urls)}"
        groups = ",".join(g or "core" for g in self.api_groups) or "core"
        names = f" (names: {','.join(self.resource_names)})" if self.resource_names else ""
        return f"{verbs} on {groups}/{','.join(self.resources)}{names}"

    def _verb(self, verb: str) -> bool:
        return WILDCARD in self.verbs or verb in self.verbs

    def allows(self, verb: str, group: str, resource: str, name: str = "") -> bool:
        """Does this rule allow ``verb`` on ``group``/``resource`` (``res/sub`` = subresource)?"""
        if self.non_resource_urls or not self._verb(verb):
            return False
        if WILDCARD not in self.api_groups and group not in self.api_groups:
            return False
        if self.resource_names and name and name not in self.resource_names:
            return False
        # As the authorizer matches (pkg/apis/rbac/v1 ResourceMatches): "*", the exact
        # resource, or "*/sub"; "res/*" is no wildcard there and grants nothing.
        _, _, sub = resource.partition("/")
        for granted in self.resources:
            if granted in (WILDCARD, resource):
                return True
            if sub and granted == f"*/{sub}":
                return True
        return False

    def allows_url(self, verb: str, url: str) -> bool:
        if not self._verb(verb):
            return False
        for granted in self.non_resource_urls:
            if granted in (WILDCARD, url):
                return True
            if granted.endswith("*") and url.startswith(granted[:-1]):
                return True
        return False

    @property
    def is_wildcard_all(self) -> bool:
        return (
            WILDCARD in self.verbs
            and WILDCARD in self.api_groups
            and WILDCARD in self.resources
            and not self.resource_names
        )


@dataclass(frozen=True)
class Grant:
    """One rule reaching one subject: the privilege path an auditor follows."""

    subject: Subject
    binding_kind: str
    binding_namespace: str
    binding_name: str
    role_kind: str
    role_name: str
    rule: Rule
    bootstrap: bool = False

    @property
    def cluster_wide(self) -> bool:
        """Granted everywhere, and so also over cluster-scoped resources.

        The authorizer applies a RoleBinding only to requests in its namespace, and a
        request for a cluster-scoped resource (nodes, CSRs, signers, users, groups) has
        none; so only ClusterRoleBindings reach them, whatever rule the role holds.
        """
        return self.binding_kind == "ClusterRoleBinding"

    @property
    def binding_ref(self) -> str:
        if self.binding_namespace:
            return f"{self.binding_kind} {self.binding_namespace}/{self.binding_name}"
        return f"{self.binding_kind} {self.binding_name}"

    @property
    def role_ref(self) -> str:
        if self.role_kind == "Role":
            return f"Role {self.binding_namespace}/{self.role_name}"
        return f"ClusterRole {self.role_name}"

    def path(self) -> str:
        scope = "cluster-wide" if self.cluster_wide else f"in namespace {self.binding_namespace}"
        return (
            f"{self.subject.ref} → {self.binding_ref} → {self.role_ref} → "
            f"{self.rule.text()} ({scope})"
        )


@dataclass(frozen=True)
class DanglingRef:
    """A binding whose role does not exist: no grant now, but one appears if it is created."""

    binding_ref: str
    role_ref: str


class RbacGraph:
    """Every grant in the cluster, built once from the snapshot's RBAC lists."""

    def __init__(self, grants: list[Grant], dangling: list[DanglingRef]) -> None:
        self.grants = grants
        self.dangling = dangling

    @classmethod
    def from_objects(
        cls,
        clusterroles: Iterable[Obj],
        clusterrolebindings: Iterable[Obj],
        roles: Iterable[Obj],
        rolebindings: Iterable[Obj],
    ) -> RbacGraph:
        # Aggregated ClusterRoles already carry their aggregated rules (the controller
        # writes them), so a role's rules are read as stored.
        cluster_rules = {
            str(r["metadata"]["name"]): [Rule.from_json(x) for x in r.get("rules") or []]
            for r in clusterroles
        }
        role_rules = {
            (str(r["metadata"].get("namespace", "")), str(r["metadata"]["name"])): [
                Rule.from_json(x) for x in r.get("rules") or []
            ]
            for r in roles
        }
        grants: list[Grant] = []
        dangling: list[DanglingRef] = []
        bindings = [("ClusterRoleBinding", b) for b in clusterrolebindings]
        bindings += [("RoleBinding", b) for b in rolebindings]
        for binding_kind, binding in bindings:
            meta = binding.get("metadata") or {}
            namespace = str(meta.get("namespace", "")) if binding_kind == "RoleBinding" else ""
            ref = binding.get("roleRef") or {}
            role_kind, role_name = str(ref.get("kind", "")), str(ref.get("name", ""))
            if role_kind == "ClusterRole":
                rules = cluster_rules.get(role_name)
            else:
                rules = role_rules.get((namespace, role_name))
            labels = meta.get("labels") or {}
            bootstrap = labels.get(BOOTSTRAP_LABEL[0]) == BOOTSTRAP_LABEL[1]
            binding_ref = (
                f"{binding_kind} {namespace}/{meta.get('name')}"
                if namespace
                else f"{binding_kind} {meta.get('name')}"
            )
            if rules is None:
                role_ref = (
                    f"Role {namespace}/{role_name}"
                    if role_kind == "Role"
                    else f"ClusterRole {role_name}"
                )
                dangling.append(DanglingRef(binding_ref, role_ref))
                continue
            for raw_subject in binding.get("subjects") or []:
                subject = Subject.from_json(raw_subject, namespace)
                for rule in rules:
                    grants.append(
                        Grant(
                            subject,
                            binding_kind,
                            namespace,
                            str(meta.get("name", "")),
                            role_kind,
                            role_name,
                            rule,
                            bootstrap,
                        )
                    )
        return cls(grants, dangling)

    @classmethod
    def from_snapshot(cls, rbac: dict[str, list[Obj]]) -> RbacGraph:
        return cls.from_objects(
            rbac["clusterroles"], rbac["clusterrolebindings"], rbac["roles"], rbac["rolebindings"]
        )

    def where(self, subject_filter: Any = None, rule_filter: Any = None) -> Iterator[Grant]:
        for grant in self.grants:
            if subject_filter is not None and not subject_filter(grant.subject):
                continue
            if rule_filter is not None and not rule_filter(grant.rule):
                continue
            yield grant


def is_cluster_admin(grant: Grant) -> bool:
    """cluster-admin itself, or any rule equivalent to it (``*`` verbs on ``*``/``*``)."""
    if (
        grant.role_kind == "ClusterRole"
        and grant.role_name == "cluster-admin"
        and grant.cluster_wide
    ):
        return True
    return grant.cluster_wide and grant.rule.is_wildcard_all


# Permissions that let a workload identity take over the cluster or other identities.
# Each entry: (label, predicate over a grant). Scope matters: reading secrets in one
# namespace is not the same finding as reading them everywhere.
def dangerous_permissions(grant: Grant) -> list[str]:
    rule = grant.rule
    found: list[str] = []
    if is_cluster_admin(grant):
        found.append("cluster-admin equivalent")
    elif rule.is_wildcard_all:
        found.append("all verbs on all resources in the namespace")
    else:
        if WILDCARD in rule.verbs and rule.resources:
            found.append("wildcard verbs")
        if WILDCARD in rule.resources or (WILDCARD in rule.api_groups and rule.resources):
            found.append("wildcard resources")
    # Escalating a ClusterRole means updating a cluster-scoped object, which a RoleBinding
    # cannot authorise; binding one is checked in the new binding's namespace, so it can.
    escalatable = ("roles", "clusterroles") if grant.cluster_wide else ("roles",)
    for verb, resources in (("escalate", escalatable), ("bind", ("roles", "clusterroles"))):
        if any(rule.allows(verb, "rbac.authorization.k8s.io", r) for r in resources):
            found.append(f"{verb} on roles")
    # Users, groups and uids are cluster-scoped; a ServiceAccount is impersonated in its
    # namespace, so a RoleBinding can grant that.
    impersonable = [("", "serviceaccounts")]
    if grant.cluster_wide:
        impersonable += [("", "users"), ("", "groups"), ("authentication.k8s.io", "uids")]
    if any(rule.allows("impersonate", g, r) for g, r in impersonable):
        found.append("impersonate")
    if grant.cluster_wide and any(rule.allows(v, "", "secrets") for v in ("get", "list", "watch")):
        found.append("read secrets cluster-wide")
    if grant.cluster_wide and any(rule.allows(v, "", "nodes/proxy") for v in ("get", "create")):
        found.append("nodes/proxy (kubelet API)")
    if grant.cluster_wide and rule.allows("create", "", "pods"):
        found.append("create pods cluster-wide")
    if grant.cluster_wide and can_approve_csr(rule):
        found.append("approve certificate signing requests")
    if rule.allows("create", "", "serviceaccounts/token"):
        found.append("create service account tokens")
    # A wildcard rule trivially matches every specific label; keep the summary short.
    if found and found[0] in (
        "cluster-admin equivalent",
        "all verbs on all resources in the namespace",
    ):
        return found[:1]
    return found


def can_approve_csr(rule: Rule) -> bool:
    """Approval needs update on the approval subresource and approve on a signer."""
    approval = any(
        rule.allows(v, "certificates.k8s.io", "certificatesigningrequests/approval")
        for v in ("update", "patch")
    )
    return approval and rule.allows("approve", "certificates.k8s.io", "signers")


def subject_is_service_account_like(subject: Subject) -> bool:
    """ServiceAccounts, and the groups every ServiceAccount belongs to."""
    if subject.kind == "ServiceAccount":
        return True
    return subject.kind == "Group" and (
        subject.name in ("system:serviceaccounts", "system:authenticated")
        or subject.name.startswith("system:serviceaccounts:")
    )


def binding_findings(grants: Iterable[Grant], detail: Callable[[Grant], str]) -> list[Finding]:
    """One finding per binding and subject, named after the binding an operator edits.

    A role's several rules reach a subject through the same binding; reporting each rule
    would list the same object again and again.
    """
    found: dict[tuple[str, str, str, Subject], Finding] = {}
    for grant in grants:
        key = (grant.binding_kind, grant.binding_namespace, grant.binding_name, grant.subject)
        if key not in found:
            found[key] = Finding(
                grant.binding_kind, grant.binding_namespace, grant.binding_name, detail(grant)
            )
    return list(found.values())
