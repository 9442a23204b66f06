"""The holders a privilege path passes through, and the identities behind subjects.

A *holder* is what rules reach: an identity (through its bindings), a role the principal
could bind (applied where the binding would be), "any rule" after an escalation, or a
group of holders (every ServiceAccount of a namespace). Keys name them in the closure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kubepci.analysis.authorizer import (
    ALL,
    ANONYMOUS,
    AUTHENTICATED,
    MASTERS,
    SERVICE_ACCOUNTS,
    UNAUTHENTICATED,
    Authorizer,
    Binding,
    Grant,
    Identity,
    Rule,
    Subject,
    split_service_account_username,
)
from kubepci.analysis.privilege_classes import CLUSTER_WIDE

BASE_ACCOUNT = "kubepci-probe-unbound"


# ------------------------------------------------------------------ holders
@dataclass(frozen=True)
class IdentityKey:
    identity: Identity


@dataclass(frozen=True)
class RoleKey:
    """A role the principal can bind, applied where the binding would be."""

    role_kind: str
    role_name: str
    role_namespace: str  # where a Role lives ("" for a ClusterRole)
    scope: str  # CLUSTER_WIDE (a ClusterRoleBinding) or the RoleBinding's namespace


@dataclass(frozen=True)
class AnyRulesKey:
    scope: str


@dataclass(frozen=True)
class GroupKey:
    """Many holders at once (every ServiceAccount of a namespace, every identity, ...)."""

    what: str
    namespace: str = ""


Key = IdentityKey | RoleKey | AnyRulesKey | GroupKey


class IdentityHolder:
    def __init__(self, authz: Authorizer, identity: Identity) -> None:
        self.authz = authz
        self.identity = identity
        self.masters = MASTERS in identity.groups
        self._cache: dict[str, list[Grant]] = {}

    def grants(self, namespace: str) -> list[Grant]:
        if namespace not in self._cache:
            self._cache[namespace] = list(self.authz.grants_for(self.identity, namespace))
        return self._cache[namespace]

    def namespaces(self) -> Iterable[str]:
        return self.authz.namespaces_for(self.identity)


class RulesHolder:
    """Rules applied in one scope, as a binding of them there would apply them."""

    def __init__(self, rules: Iterable[Rule], scope: str, source: Binding) -> None:
        self.rules = tuple(rules)
        self.scope = scope
        self.source = source
        self.masters = False

    def grants(self, namespace: str) -> list[Grant]:
        if self.scope != CLUSTER_WIDE and namespace != self.scope:
            return []
        subject = Subject("(holder)", "")
        return [Grant(self.source, subject, r) for r in self.rules]

    def namespaces(self) -> Iterable[str]:
        return [self.scope] if self.scope else []


WILDCARD_RULE = Rule((ALL,), (ALL,), (ALL,))


def principal_identity(subject: Subject) -> tuple[Subject, Identity] | None:
    """The identity the authorizer sees for a binding subject, and its canonical name."""
    if subject.kind == "ServiceAccount":
        if not subject.namespace:
            return None
        return subject, Identity.service_account(subject.namespace, subject.name)
    if subject.kind == "User":
        account = split_service_account_username(subject.name)
        if account:
            return Subject("ServiceAccount", account[1], account[0]), Identity.service_account(
                *account
            )
        if subject.name == ANONYMOUS:
            return subject, Identity.anonymous()
        return subject, Identity.authenticated_user(subject.name)
    if subject.kind == "Group":
        return subject, group_member(subject.name)
    return None


def group_member(group: str) -> Identity:
    """A member of ``group`` with only the groups membership implies."""
    if group == UNAUTHENTICATED:
        return Identity("", (group,))
    if group.startswith(f"{SERVICE_ACCOUNTS}:"):
        return Identity("", (SERVICE_ACCOUNTS, group, AUTHENTICATED))
    if group == AUTHENTICATED:
        return Identity("", (group,))
    return Identity("", (group, AUTHENTICATED))


def base_identity(identity: Identity) -> Identity:
    """The same kind of identity with nothing of its own: what it holds, everyone like
    it holds, and is reported once, under the group that gives it."""
    account = split_service_account_username(identity.user)
    if account:
        return Identity.service_account(account[0], BASE_ACCOUNT)
    if identity.user == ANONYMOUS:
        return Identity("", (UNAUTHENTICATED,))
    if identity.user:
        return Identity(BASE_ACCOUNT, tuple(g for g in identity.groups if g == AUTHENTICATED))
    implied = {AUTHENTICATED}
    ns_groups = [g for g in identity.groups if g.startswith(f"{SERVICE_ACCOUNTS}:")]
    if ns_groups:
        implied.add(SERVICE_ACCOUNTS)
    own = [g for g in identity.groups if g not in implied]
    if not own:  # system:authenticated or system:unauthenticated itself
        return Identity("", ())
    return Identity("", tuple(g for g in identity.groups if g in implied))


def label(key: Key) -> str:
    if isinstance(key, IdentityKey):
        identity = key.identity
        account = split_service_account_username(identity.user)
        if account:
            return f"ServiceAccount {account[0]}/{account[1]}"
        if identity.user:
            return f"User {identity.user}"
        return f"a member of Group {','.join(identity.groups)}"
    if isinstance(key, RoleKey):
        where = "cluster-wide" if key.scope == CLUSTER_WIDE else f"in namespace {key.scope}"
        role = (
            f"Role {key.role_namespace}/{key.role_name}"
            if key.role_kind == "Role"
            else f"ClusterRole {key.role_name}"
        )
        return f"the holder of {role} {where}"
    if isinstance(key, AnyRulesKey):
        return "any rule " + ("cluster-wide" if key.scope == CLUSTER_WIDE else f"in {key.scope}")
    return f"{key.what} {key.namespace}".strip()
