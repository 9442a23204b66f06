"""Privilege paths to their end: what every principal can do, directly or by becoming
someone else.

A grant that lets a subject run code as, obtain the token of, impersonate, or bind the
role of another identity gives it that identity's privileges too. The analysis is a
closure over holders (identities, bindable roles, "any rule"; kubepci.analysis.principals),
computed once per snapshot; a class found anywhere along a path is the principal's, with
the path as evidence. No namespace is special by name: kube-system is as dangerous as what
lives in it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from kubepci.analysis.authorizer import (
    MASTERS,
    Authorizer,
    Binding,
    Identity,
    Request,
    Rule,
    Subject,
    split_service_account_username,
)
from kubepci.analysis.principals import (
    WILDCARD_RULE,
    AnyRulesKey,
    GroupKey,
    IdentityHolder,
    IdentityKey,
    Key,
    RoleKey,
    RulesHolder,
    base_identity,
    group_member,
    label,
    principal_identity,
)
from kubepci.analysis.privilege_classes import (
    ANY_NAMESPACE,
    CLUSTER_WIDE,
    Hit,
    answer,
    evaluate,
    holder_rules,
    may_hold,
)
from kubepci.analysis.workloads import Workloads
from kubepci.catalogue.privileges import PrivilegeCatalogue, PrivilegeClass

Obj = dict[str, Any]
RBAC_GROUP = "rbac.authorization.k8s.io"
MAX_ROUNDS = 10_000


# ------------------------------------------------------------------ results
@dataclass(frozen=True)
class Hop:
    """One step: the holder, what it is allowed, and whom that makes it (or the class)."""

    holder: str
    hit: Hit
    becomes: str  # "" on the last hop

    def text(self) -> str:
        texts = list(dict.fromkeys(g.text() for g in self.hit.grants))
        granted = "; ".join(texts[:2]) or "system:masters"
        step = f"{self.hit.privilege.title} {self.hit.scope_text} ({granted})"
        return f"{step} ⇒ acts as {self.becomes}" if self.becomes else step


@dataclass(frozen=True)
class Holding:
    """A principal holds a privilege class, by this path."""

    principal: Subject
    identity: Identity
    privilege: PrivilegeClass
    hops: tuple[Hop, ...]
    default: bool  # Kubernetes' own default policy gives it (set aside)

    @property
    def witness(self) -> tuple[Identity, Request]:
        """One request the authorizer must allow for this identity if the path is real."""
        return self.identity, self.hops[0].hit.witness

    @property
    def scope_text(self) -> str:
        return self.hops[-1].hit.scope_text if len(self.hops) == 1 else "through a path"

    def path(self) -> str:
        return " → ".join(h.text() for h in self.hops)

    def to_json(self) -> Obj:
        return {
            "principal": self.principal.ref,
            "class": self.privilege.id,
            "severity": self.privilege.severity,
            "path": [h.text() for h in self.hops],
            "witness": {
                "identity": self.identity.to_json(),
                "request": self.hops[0].hit.witness.to_json(),
            },
            "default_policy": self.default,
        }


class PrivilegeGraph:
    """The closure of privilege classes over every principal of one RBAC snapshot."""

    def __init__(
        self,
        authz: Authorizer,
        workloads: Workloads,
        catalogue: PrivilegeCatalogue,
    ) -> None:
        self.authz = authz
        # Holders reached by the same rules (most ServiceAccounts) share which classes
        # they could hold at all.
        self.relevant: dict[frozenset[Rule], list[PrivilegeClass]] = {}
        self.workloads = workloads
        self.catalogue = catalogue
        self.direct: dict[Key, list[Hit]] = {}
        self.edges: dict[Key, list[tuple[Hit | None, Key]]] = {}
        self.held: dict[Key, dict[str, tuple[Hit, Key | None]]] = defaultdict(dict)
        self.principals: dict[Subject, Identity] = {}
        for binding in authz.bindings:
            for subject in binding.subjects:
                found = principal_identity(subject)
                if found:
                    self.principals.setdefault(*found)
        roots: list[Key] = [IdentityKey(i) for i in self.principals.values()]
        roots += [IdentityKey(base_identity(i)) for i in self.principals.values()]
        self._explore(roots)
        self._close()

    # -------------------------------------------------------------- exploration
    def _holder(self, key: Key):
        if isinstance(key, IdentityKey):
            return IdentityHolder(self.authz, key.identity)
        if isinstance(key, RoleKey):
            rules = (
                self.authz.cluster_roles.get(key.role_name, ())
                if key.role_kind == "ClusterRole"
                else self.authz.roles.get((key.role_namespace, key.role_name), ())
            )
            source = Binding(
                "ClusterRoleBinding" if key.scope == CLUSTER_WIDE else "RoleBinding",
                key.scope,
                "(one it may create)",
                key.role_kind,
                key.role_name,
                (),
            )
            return RulesHolder(rules, key.scope, source)
        assert isinstance(key, AnyRulesKey)
        holder = RulesHolder(
            (WILDCARD_RULE,),
            key.scope,
            Binding("RoleBinding", key.scope, "(escalated)", "", "", ()),
        )
        holder.masters = key.scope == CLUSTER_WIDE
        return holder

    def _explore(self, roots: list[Key]) -> None:
        pending = list(roots)
        while pending:
            key = pending.pop()
            if key in self.edges:
                continue
            if isinstance(key, GroupKey):
                self.direct[key] = []
                self.edges[key] = [(None, k) for k in self._members(key)]
            else:
                holder = self._holder(key)
                hits = self._hits(key, holder)
                self.direct[key] = [h for h in hits if h.held]
                self.edges[key] = [
                    (h, target)
                    for h in hits
                    if h.privilege.gains and self._gain_allowed(holder, h)
                    for target in self._gains(h, key, holder)
                ]
            pending.extend(t for _, t in self.edges[key] if t not in self.edges)

    def _hits(self, key: Key, holder: Any) -> list[Hit]:
        """Every class the holder has (or whose gain its named grants follow)."""
        if holder.masters:
            classes = list(self.catalogue.classes)
        else:
            rules = holder_rules(holder)
            if rules not in self.relevant:
                self.relevant[rules] = [c for c in self.catalogue.classes if may_hold(rules, c)]
            classes = self.relevant[rules]
        return [h for c in classes for h in evaluate(holder, c)]

    def _members(self, group: GroupKey) -> list[Key]:
        w = self.workloads
        if group.what == "service-accounts":
            return [
                IdentityKey(Identity.service_account(ns, n))
                for ns, n in w.service_accounts_in(group.namespace)
            ]
        if group.what == "pod-service-accounts":
            return [
                IdentityKey(Identity.service_account(ns, n))
                for ns, n in w.pod_service_accounts(group.namespace)
            ]
        if group.what == "token-secret-service-accounts":
            return [
                IdentityKey(Identity.service_account(ns, n))
                for ns, n in w.token_secret_accounts(group.namespace)
            ]
        if group.what == "impersonable-service-accounts":
            return [
                IdentityKey(Identity.service_account(ns, n))
                for ns, n in self._impersonable(group.namespace)
            ]
        if group.what == "users":
            return [IdentityKey(i) for s, i in self.principals.items() if s.kind == "User"]
        if group.what == "identities":
            return [IdentityKey(i) for i in self.principals.values() if MASTERS not in i.groups]
        if group.what == "roles":
            keys: list[Key] = [
                RoleKey("ClusterRole", name, "", group.namespace)
                for name in self.authz.cluster_roles
            ]
            keys += [
                RoleKey("Role", name, ns, group.namespace)
                for ns, name in self.authz.roles
                if ns == group.namespace
            ]
            return keys
        raise ValueError(group.what)

    def _gain_allowed(self, holder: Any, hit: Hit) -> bool:
        namespace = hit.scope or ANY_NAMESPACE
        for template in hit.privilege.gain_requires:
            if not answer(holder, template, namespace).names.some:
                return False
        return True

    def _escalated(self, hit: Hit, key: Key, holder: Any) -> list[Key]:
        """escalate lets the holder write any rule into a role it may update; that gives
        it any rule only where such a role is bound to it (escalation_check.go checks the
        escalate verb, the binding still decides who holds the role)."""
        if not isinstance(key, IdentityKey):
            return []
        cluster = hit.resource == "clusterroles"
        found: list[Key] = []
        scopes = ["", *sorted(holder.namespaces())]
        for ns in scopes:
            for binding in self.authz.bindings_for(key.identity, ns):
                if ns and binding.kind != "RoleBinding":
                    continue
                if cluster != (binding.role_kind == "ClusterRole"):
                    continue
                if not cluster and binding.namespace != hit.scope:
                    continue
                name = binding.role_name
                if not (hit.names.every or name in hit.names.listed):
                    continue
                role_ns = "" if cluster else binding.namespace
                update = [
                    Request(v, RBAC_GROUP, hit.resource, "", role_ns, name)
                    for v in ("update", "patch")
                ]
                if any(self.authz.allows(key.identity, r) for r in update):
                    found.append(AnyRulesKey(binding.namespace))
        return found

    @cached_property
    def _named_accounts(self) -> dict[str, set[tuple[str, str]]]:
        """ServiceAccounts bindings name, by namespace: asked once per namespace."""
        named: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for s in self.principals:
            if s.kind == "ServiceAccount":
                named[s.namespace].add((s.namespace, s.name))
        return named

    def _impersonable(self, scope: str) -> list[tuple[str, str]]:
        """ServiceAccounts of the scope: objects, and names bindings grant to."""
        if scope:
            named = set(self._named_accounts.get(scope, ()))
        else:
            named = set().union(*self._named_accounts.values())
        return sorted(named | set(self.workloads.service_accounts_in(scope)))

    def _gains(self, hit: Hit, key: Key, holder: Any) -> list[Key]:
        gain, scope, names = hit.privilege.gains, hit.scope, hit.names
        every, listed = names.every, sorted(names.listed)
        w = self.workloads
        if gain in ("service-accounts", "pod-service-accounts", "token-secret-service-accounts"):
            if every:
                return [GroupKey(gain, scope)]
            if gain == "service-accounts":
                pairs = [(ns, n) for ns, n in w.service_accounts_in(scope) if n in listed]
            elif gain == "pod-service-accounts":
                # A name limits nodes for the node proxy and pods for everything else.
                on_nodes = hit.resource.startswith("nodes")
                pairs = w.pod_service_accounts(
                    scope, pods=() if on_nodes else listed, nodes=listed if on_nodes else ()
                )
            else:
                pairs = w.token_secret_accounts(scope, secrets=listed)
            return [IdentityKey(Identity.service_account(ns, n)) for ns, n in pairs]
        if gain == "identities":
            return self._impersonated(hit)
        if gain == "any-identity-except-masters":
            return [GroupKey("identities")]
        if gain == "bound-roles":
            if every:
                return [GroupKey("roles", scope)]
            keys: list[Key] = []
            for name in listed:
                if hit.resource == "clusterroles" and name in self.authz.cluster_roles:
                    keys.append(RoleKey("ClusterRole", name, "", scope))
                if hit.resource == "roles" and (scope, name) in self.authz.roles:
                    keys.append(RoleKey("Role", name, scope, scope))
            return keys
        if gain == "any-rules":
            return self._escalated(hit, key, holder)
        return []

    def _impersonated(self, hit: Hit) -> list[Key]:
        """Impersonation (k8s.io/apiserver/pkg/endpoints/filters/impersonation.go): a
        user or ServiceAccount name, or a group; uids and extras name nobody."""
        every, listed = hit.names.every, sorted(hit.names.listed)
        if hit.resource == "users":
            if every:
                return [GroupKey("users")]
            keys: list[Key] = []
            for name in listed:
                # A user name of the ServiceAccount form is checked against
                # serviceaccounts, not users: this grant cannot impersonate it.
                if split_service_account_username(name):
                    continue
                found = principal_identity(Subject("User", name))
                if found:
                    keys.append(IdentityKey(found[1]))
            return keys
        if hit.resource == "groups":
            if every:
                return [IdentityKey(group_member(MASTERS))]
            return [IdentityKey(group_member(g)) for g in listed]
        if hit.resource == "serviceaccounts":
            # Impersonation never looks the account up: a name bindings grant to is
            # enough, object or not.
            if every:
                return [GroupKey("impersonable-service-accounts", hit.scope)]
            namespaces = (
                [hit.scope]
                if hit.scope
                else sorted({ns for ns, _ in self._impersonable(CLUSTER_WIDE)})
            )
            return [
                IdentityKey(Identity.service_account(ns, n)) for ns in namespaces for n in listed
            ]
        return []

    # -------------------------------------------------------------- closure
    def _close(self) -> None:
        for key, hits in self.direct.items():
            for hit in hits:
                self.held[key].setdefault(hit.privilege.id, (hit, None))
        for _ in range(MAX_ROUNDS):
            changed = False
            for key, edges in self.edges.items():
                mine = self.held[key]
                for edge_hit, target in edges:
                    for class_id, how in list(self.held.get(target, {}).items()):
                        if class_id not in mine:
                            mine[class_id] = (edge_hit or how[0], target)
                            changed = True
            if not changed:
                return
        raise RuntimeError("privilege closure did not converge")  # pragma: no cover

    def hops(self, key: Key, class_id: str) -> tuple[Hop, ...]:
        out: list[Hop] = []
        seen: set[Key] = set()
        while key not in seen:
            seen.add(key)
            hit, target = self.held[key][class_id]
            if target is None:
                out.append(Hop(label(key), hit, ""))
                break
            # A group of holders is a step of the same hop: name the member reached. Each
            # entry was recorded once its target already held the class, so the chain ends.
            while isinstance(target, GroupKey) and target not in seen:
                seen.add(target)
                member = self.held[target][class_id][1]
                if member is None:
                    break
                target = member
            out.append(Hop(label(key), hit, label(target)))
            if isinstance(target, GroupKey):
                break
            key = target
        return tuple(out)

    def holdings(self) -> list[Holding]:
        """Every (principal, class) held beyond what the principal's kind holds anyway."""
        found: list[Holding] = []
        for subject, identity in sorted(self.principals.items()):
            key = IdentityKey(identity)
            base = self.held.get(IdentityKey(base_identity(identity)), {})
            for class_id in sorted(self.held.get(key, {})):
                if class_id in base:
                    continue
                privilege = self.catalogue.get(class_id)
                found.append(Holding(subject, identity, privilege, self.hops(key, class_id), False))
        return found
