"""RBAC grants as stored: who is bound to which rule, through which binding and role.

A :class:`Grant` is one rule reaching one binding subject through one binding, read off
the objects without evaluating them; the anonymous-access check (PCI 1.1) lists the
grants naming anonymous callers and reports the path ``subject → binding → role → rule``
so an operator can see exactly which object to change. What a grant *allows*, and what
an identity holds through it, is :mod:`kubepci.analysis.authorizer` and
:mod:`kubepci.analysis.privilege_report`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubepci.verdict import Finding

Obj = dict[str, Any]


@dataclass(frozen=True, order=True)
class Subject:
    kind: str  # User, Group or ServiceAccount
    name: str
    namespace: str = ""

    @classmethod
    def from_json(cls, raw: Obj, binding_namespace: str) -> Subject:
        # Kind and name are required of every subject the API server stores
        # (pkg/apis/rbac/validation/validation.go ValidateRoleBindingSubject).
        kind = str(raw["kind"])
        namespace = (
            str(raw.get("namespace") or binding_namespace) if kind == "ServiceAccount" else ""
        )
        return cls(kind, str(raw["name"]), namespace)

    @property
    def ref(self) -> str:
        return (
            f"{self.kind} {self.namespace}/{self.name}"
            if self.namespace
            else f"{self.kind} {self.name}"
        )


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


class RbacGraph:
    """Every grant in the cluster, from the snapshot's RBAC lists.

    The grants are generated on each walk, not held: at 150,000 pods the cluster's
    75,000 RoleBindings are 165,000 grants (over 100 MB as objects), and a check walks
    them once or twice. A binding whose role does not exist grants nothing here; such
    latent grants are reported by :mod:`kubepci.analysis.privilege_report`.
    """

    def __init__(self, grants: Iterable[Grant]) -> None:
        self.grants = grants  # a list, or something walked afresh each time (_Grants)

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
            (str(r["metadata"]["namespace"]), str(r["metadata"]["name"])): [
                Rule.from_json(x) for x in r.get("rules") or []
            ]
            for r in roles
        }
        return cls(_Grants(cluster_rules, role_rules, _again(clusterrolebindings),
                           _again(rolebindings)))  # fmt: skip

    @classmethod
    def from_snapshot(cls, rbac: Mapping[str, Sequence[Obj]]) -> RbacGraph:
        return cls.from_objects(
            rbac["clusterroles"], rbac["clusterrolebindings"], rbac["roles"], rbac["rolebindings"]
        )

    def where(self, subject_filter: Callable[[Subject], bool]) -> Iterator[Grant]:
        return (g for g in self.grants if subject_filter(g.subject))


def _again(objects: Iterable[Obj]) -> Sequence[Obj]:
    """What can be walked more than once: a snapshot list as it is, anything else listed."""
    return objects if isinstance(objects, Sequence) else list(objects)


class _Grants:
    """The grants of the bindings, generated afresh on every walk."""

    def __init__(
        self,
        cluster_rules: dict[str, list[Rule]],
        role_rules: dict[tuple[str, str], list[Rule]],
        clusterrolebindings: Sequence[Obj],
        rolebindings: Sequence[Obj],
    ) -> None:
        self.cluster_rules, self.role_rules = cluster_rules, role_rules
        self.bindings = (("ClusterRoleBinding", clusterrolebindings), ("RoleBinding", rolebindings))

    def __iter__(self) -> Iterator[Grant]:
        for binding_kind, bindings in self.bindings:
            for binding in bindings:
                yield from self._of(binding_kind, binding)

    def _of(self, binding_kind: str, binding: Obj) -> Iterator[Grant]:
        # The API server stores every binding with a name and a roleRef naming a kind and a
        # role, and every RoleBinding and Role with a namespace
        # (pkg/apis/rbac/validation/validation.go ValidateRoleBinding): read as given.
        meta = binding["metadata"]
        namespace = str(meta["namespace"]) if binding_kind == "RoleBinding" else ""
        ref = binding["roleRef"]
        role_kind, role_name = str(ref["kind"]), str(ref["name"])
        if role_kind == "ClusterRole":
            rules = self.cluster_rules.get(role_name)
        else:
            rules = self.role_rules.get((namespace, role_name))
        for raw_subject in binding.get("subjects") or []:
            subject = Subject.from_json(raw_subject, namespace)
            for rule in rules or ():
                yield Grant(
                    subject,
                    binding_kind,
                    namespace,
                    str(meta["name"]),
                    role_kind,
                    role_name,
                    rule,
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
