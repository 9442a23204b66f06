"""The RBAC authorizer, as kube-apiserver evaluates it, over recorded RBAC objects.

This is a transcription, not a model: each function names the Go source it follows
(Kubernetes v1.35.4), and ``tests/cluster/test_rbac_differential.py`` compares its
answers with the running API server's ``SubjectAccessReview`` on thousands of generated
cases. Where the two disagree, this module is wrong.

- ``plugin/pkg/auth/authorizer/rbac/rbac.go``: ``RuleAllows``, ``Authorize``;
- ``pkg/apis/rbac/v1/evaluation_helpers.go``: ``VerbMatches``, ``APIGroupMatches``,
  ``ResourceMatches``, ``ResourceNameMatches``, ``NonResourceURLMatches``;
- ``pkg/registry/rbac/validation/rule.go``: ``VisitRulesFor``, ``appliesToUser``,
  ``GetRoleReferenceRules``;
- ``pkg/kubeapiserver/authorizer/reload.go``: ``system:masters`` is authorised before any
  configured authorizer (``NewPrivilegedGroups``), so RBAC never sees its members.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]
ALL = "*"
SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"
MASTERS = "system:masters"
AUTHENTICATED = "system:authenticated"
UNAUTHENTICATED = "system:unauthenticated"
ANONYMOUS = "system:anonymous"
SERVICE_ACCOUNTS = "system:serviceaccounts"


def service_account_username(namespace: str, name: str) -> str:
    # k8s.io/apiserver/pkg/authentication/serviceaccount/util.go MakeUsername; its
    # MatchesUsername is exactly equality with this string.
    return f"{SERVICE_ACCOUNT_PREFIX}{namespace}:{name}"


# apimachinery/pkg/util/validation/validation.go: IsDNS1123Label (a namespace name) and
# IsDNS1123Subdomain (a ServiceAccount name).
_DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_NAMESPACE_NAME = re.compile(rf"{_DNS1123_LABEL}")
_SUBDOMAIN = re.compile(rf"{_DNS1123_LABEL}(\.{_DNS1123_LABEL})*")


def split_service_account_username(username: str) -> tuple[str, str] | None:
    """(namespace, name) of a ServiceAccount username, as SplitUsername parses it
    (k8s.io/apiserver/pkg/authentication/serviceaccount/util.go): a name whose parts are
    no valid namespace and ServiceAccount names is an ordinary user's."""
    if not username.startswith(SERVICE_ACCOUNT_PREFIX):
        return None
    parts = username[len(SERVICE_ACCOUNT_PREFIX) :].split(":")
    if len(parts) != 2:
        return None
    namespace, name = parts
    if len(namespace) > 63 or not _NAMESPACE_NAME.fullmatch(namespace):
        return None
    if len(name) > 253 or not _SUBDOMAIN.fullmatch(name):
        return None
    return namespace, name


@dataclass(frozen=True, order=True)
class Identity:
    """What an authenticator hands the authorizer: a user name and its groups."""

    user: str
    groups: tuple[str, ...] = ()

    @classmethod
    def service_account(cls, namespace: str, name: str) -> Identity:
        # serviceaccount.MakeGroupNames plus the AuthenticatedGroupAdder
        # (k8s.io/apiserver/pkg/authentication/group/authenticated_group_adder.go).
        return cls(
            service_account_username(namespace, name),
            (SERVICE_ACCOUNTS, f"{SERVICE_ACCOUNTS}:{namespace}", AUTHENTICATED),
        )

    @classmethod
    def authenticated_user(cls, name: str, groups: Iterable[str] = ()) -> Identity:
        """A user as any authenticator names it: the adder appends system:authenticated,
        except for the anonymous user or a user already in either catch-all group."""
        listed = tuple(groups)
        if name == ANONYMOUS or AUTHENTICATED in listed or UNAUTHENTICATED in listed:
            return cls(name, listed)
        return cls(name, (*listed, AUTHENTICATED))

    @classmethod
    def anonymous(cls) -> Identity:
        # k8s.io/apiserver/pkg/authentication/request/anonymous: fixed name and group.
        return cls(ANONYMOUS, (UNAUTHENTICATED,))

    def to_json(self) -> Obj:
        return {"user": self.user, "groups": list(self.groups)}


@dataclass(frozen=True, order=True)
class Request:
    """One authorization request: a resource request, or a non-resource ``path``."""

    verb: str
    group: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    path: str = ""

    @property
    def is_resource(self) -> bool:
        return not self.path

    def text(self) -> str:
        if not self.is_resource:
            return f"{self.verb} {self.path}"
        what = f"{self.resource}/{self.subresource}" if self.subresource else self.resource
        if self.group:
            what = f"{self.group}/{what}"
        named = f" {self.name!r}" if self.name else ""
        where = f" in namespace {self.namespace}" if self.namespace else " cluster-wide"
        return f"{self.verb} {what}{named}{where}"

    def to_json(self) -> Obj:
        return {k: v for k, v in self.__dict__.items() if v}


@dataclass(frozen=True)
class Rule:
    """A PolicyRule as stored; absent lists are empty, which matches nothing."""

    verbs: tuple[str, ...] = ()
    api_groups: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()
    non_resource_urls: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, raw: Obj) -> Rule:
        def strings(key: str) -> tuple[str, ...]:
            return tuple(str(v) for v in raw.get(key) or ())

        return cls(
            strings("verbs"),
            strings("apiGroups"),
            strings("resources"),
            strings("resourceNames"),
            strings("nonResourceURLs"),
        )

    def text(self) -> str:
        verbs = ",".join(self.verbs)
        if self.non_resource_urls and not self.resources:
            return f"{verbs} on {','.join(self.non_resource_urls)}"
        groups = ",".join(g or "core" for g in self.api_groups) or "no group"
        names = f" (names: {','.join(self.resource_names)})" if self.resource_names else ""
        return f"{verbs} on {groups}/{','.join(self.resources)}{names}"


def verb_matches(rule: Rule, verb: str) -> bool:
    return any(v in (ALL, verb) for v in rule.verbs)


def api_group_matches(rule: Rule, group: str) -> bool:
    return any(g in (ALL, group) for g in rule.api_groups)


def resource_matches(rule: Rule, combined: str, subresource: str) -> bool:
    for granted in rule.resources:
        if granted in (ALL, combined):
            return True
        # Only "*/<sub>" is a wildcard form; "pods/*" grants nothing beyond its spelling.
        if (
            subresource
            and len(granted) == len(subresource) + 2
            and granted.startswith("*/")
            and granted.endswith(subresource)
        ):
            return True
    return False


def resource_name_matches(rule: Rule, name: str) -> bool:
    # An empty request name (create, list, deletecollection) never matches a rule that
    # lists names: such a rule cannot grant those verbs at all.
    return not rule.resource_names or name in rule.resource_names


def non_resource_url_matches(rule: Rule, path: str) -> bool:
    for granted in rule.non_resource_urls:
        if granted in (ALL, path):
            return True
        # strings.TrimRight strips every trailing "*", not just one.
        if granted.endswith("*") and path.startswith(granted.rstrip("*")):
            return True
    return False


def rule_allows(request: Request, rule: Rule) -> bool:
    """rbac.go RuleAllows."""
    if request.is_resource:
        combined = request.resource
        if request.subresource:
            combined = f"{request.resource}/{request.subresource}"
        return (
            verb_matches(rule, request.verb)
            and api_group_matches(rule, request.group)
            and resource_matches(rule, combined, request.subresource)
            and resource_name_matches(rule, request.name)
        )
    return verb_matches(rule, request.verb) and non_resource_url_matches(rule, request.path)


@dataclass(frozen=True, order=True)
class Subject:
    """A binding subject as the API stores it (ServiceAccount namespace defaulted)."""

    kind: str
    name: str
    namespace: str = ""

    @property
    def ref(self) -> str:
        if self.namespace:
            return f"{self.kind} {self.namespace}/{self.name}"
        return f"{self.kind} {self.name}"


@dataclass(frozen=True)
class Binding:
    kind: str  # ClusterRoleBinding or RoleBinding
    namespace: str
    name: str
    role_kind: str
    role_name: str
    subjects: tuple[Subject, ...]

    @property
    def ref(self) -> str:
        if self.namespace:
            return f"{self.kind} {self.namespace}/{self.name}"
        return f"{self.kind} {self.name}"

    @property
    def role_ref(self) -> str:
        if self.role_kind == "Role":
            return f"Role {self.namespace}/{self.role_name}"
        return f"{self.role_kind} {self.role_name}"


@dataclass(frozen=True)
class Grant:
    """One rule reaching an identity through one binding: the path an auditor follows."""

    binding: Binding
    subject: Subject
    rule: Rule

    def text(self) -> str:
        scope = (
            "cluster-wide"
            if self.binding.kind == "ClusterRoleBinding"
            else f"in namespace {self.binding.namespace}"
        )
        return (
            f"{self.subject.ref} → {self.binding.ref} → {self.binding.role_ref} → "
            f"{self.rule.text()} ({scope})"
        )


def _binding(kind: str, raw: Obj) -> Binding:
    meta = raw.get("metadata") or {}
    namespace = str(meta.get("namespace") or "") if kind == "RoleBinding" else ""
    ref = raw.get("roleRef") or {}
    subjects = []
    for s in raw.get("subjects") or ():
        subject_kind = str(s.get("kind", ""))
        subject_namespace = ""
        if subject_kind == "ServiceAccount":
            # appliesToUser: an unqualified ServiceAccount is in the binding's namespace;
            # in a ClusterRoleBinding it has none and matches nobody.
            subject_namespace = str(s.get("namespace") or namespace)
        subjects.append(Subject(subject_kind, str(s.get("name", "")), subject_namespace))
    return Binding(
        kind,
        namespace,
        str(meta.get("name", "")),
        str(ref.get("kind", "")),
        str(ref.get("name", "")),
        tuple(subjects),
    )


def subject_applies(subject: Subject, identity: Identity) -> bool:
    """rule.go appliesToUser (the binding namespace is already folded into the subject)."""
    if subject.kind == "User":
        return identity.user == subject.name
    if subject.kind == "Group":
        return subject.name in identity.groups
    if subject.kind == "ServiceAccount":
        return bool(subject.namespace) and identity.user == service_account_username(
            subject.namespace, subject.name
        )
    return False


class Authorizer:
    """RBAC plus the ``system:masters`` short-circuit, over one snapshot's objects."""

    def __init__(
        self,
        clusterroles: Iterable[Obj],
        clusterrolebindings: Iterable[Obj],
        roles: Iterable[Obj],
        rolebindings: Iterable[Obj],
    ) -> None:
        self.cluster_roles: dict[str, tuple[Rule, ...]] = {}
        self.aggregated: set[str] = set()
        for r in clusterroles:
            name = str((r.get("metadata") or {}).get("name", ""))
            self.cluster_roles[name] = tuple(Rule.from_json(x) for x in r.get("rules") or ())
            if r.get("aggregationRule"):
                self.aggregated.add(name)
        self.roles: dict[tuple[str, str], tuple[Rule, ...]] = {}
        for r in roles:
            meta = r.get("metadata") or {}
            key = (str(meta.get("namespace") or ""), str(meta.get("name", "")))
            self.roles[key] = tuple(Rule.from_json(x) for x in r.get("rules") or ())
        self.bindings = [_binding("ClusterRoleBinding", b) for b in clusterrolebindings]
        self.bindings += [_binding("RoleBinding", b) for b in rolebindings]
        # Index by the names a subject can match, so finding an identity's bindings costs
        # its groups, not the number of bindings.
        self._by_user: dict[tuple[str, str], list[Binding]] = defaultdict(list)
        self._by_group: dict[tuple[str, str], list[Binding]] = defaultdict(list)
        for binding in self.bindings:
            for subject in binding.subjects:
                if subject.kind == "User":
                    self._by_user[(binding.namespace, subject.name)].append(binding)
                elif subject.kind == "Group":
                    self._by_group[(binding.namespace, subject.name)].append(binding)
                elif subject.kind == "ServiceAccount" and subject.namespace:
                    user = service_account_username(subject.namespace, subject.name)
                    self._by_user[(binding.namespace, user)].append(binding)
        self._grant_cache: dict[tuple[str, tuple[str, ...]], tuple[Grant, ...]] = {}
        self._user_namespaces: dict[str, set[str]] = defaultdict(set)
        self._group_namespaces: dict[str, set[str]] = defaultdict(set)
        for namespace, user in self._by_user:
            if namespace:
                self._user_namespaces[user].add(namespace)
        for namespace, group in self._by_group:
            if namespace:
                self._group_namespaces[group].add(namespace)

    @classmethod
    def from_snapshot(cls, rbac: Mapping[str, Sequence[Obj]]) -> Authorizer:
        return cls(
            rbac["clusterroles"], rbac["clusterrolebindings"], rbac["roles"], rbac["rolebindings"]
        )

    def role_rules(self, binding: Binding) -> tuple[Rule, ...] | None:
        """GetRoleReferenceRules: None when the role does not exist (a latent grant)."""
        if binding.role_kind == "ClusterRole":
            return self.cluster_roles.get(binding.role_name)
        if binding.role_kind == "Role":
            return self.roles.get((binding.namespace, binding.role_name))
        return None

    def bindings_for(self, identity: Identity, namespace: str) -> Iterator[Binding]:
        """VisitRulesFor's bindings: every ClusterRoleBinding, then the namespace's
        RoleBindings, whose subjects apply to the identity (each binding once)."""
        scopes = ("", namespace) if namespace else ("",)
        for scope in scopes:
            yield from self._bindings_in(identity, scope)

    def _bindings_in(self, identity: Identity, scope: str) -> Iterator[Binding]:
        seen: set[int] = set()
        candidates = list(self._by_user.get((scope, identity.user), ()))
        for group in identity.groups:
            candidates.extend(self._by_group.get((scope, group), ()))
        for binding in candidates:
            # appliesTo decides; the index only narrows the bindings it looks at.
            if id(binding) not in seen and any(
                subject_applies(s, identity) for s in binding.subjects
            ):
                seen.add(id(binding))
                yield binding

    def namespaces_for(self, identity: Identity) -> set[str]:
        """Namespaces where some RoleBinding names the identity (or one of its groups)."""
        found = set(self._user_namespaces.get(identity.user, ()))
        for group in identity.groups:
            found |= self._group_namespaces.get(group, set())
        return found

    def grants_for(self, identity: Identity, namespace: str) -> Iterator[Grant]:
        scopes = ("", namespace) if namespace else ("",)
        for scope in scopes:
            yield from self._scope_grants(identity, scope)

    def _scope_grants(self, identity: Identity, scope: str) -> tuple[Grant, ...]:
        """One scope's grants, shared by every identity the scope's bindings cannot tell
        apart. Which bindings apply, and by which subject, depends only on the identity's
        user where some binding of the scope names it, and on those of its groups that
        some binding of the scope names (a subject naming anything else never applies):
        the 37,500 ServiceAccounts of a 150,000-pod cluster share a few hundred answers.
        """
        named = (scope, identity.user) in self._by_user
        groups = tuple(g for g in identity.groups if (scope, g) in self._by_group)
        key = (scope, groups)
        found = None if named else self._grant_cache.get(key)
        if found is None:
            grants: list[Grant] = []
            for binding in self._bindings_in(identity, scope):
                rules = self.role_rules(binding)
                if not rules:
                    continue
                subject = next(s for s in binding.subjects if subject_applies(s, identity))
                grants.extend(Grant(binding, subject, rule) for rule in rules)
            found = tuple(grants)
            if not named:  # an identity a binding names by itself shares its answer with none
                self._grant_cache[key] = found
        return found

    def granting(self, identity: Identity, request: Request) -> Grant | None:
        """The first grant that allows the request, as RBAC visits them, or None."""
        # A non-resource request has no namespace (RequestInfo sets none for it), so no
        # RoleBinding is ever consulted for one.
        namespace = request.namespace if request.is_resource else ""
        for grant in self.grants_for(identity, namespace):
            if rule_allows(request, grant.rule):
                return grant
        return None

    def allows(self, identity: Identity, request: Request) -> bool:
        """What the API server answers for an RBAC-only authorization chain."""
        if MASTERS in identity.groups:
            return True
        return self.granting(identity, request) is not None

    def dangling(self) -> list[Binding]:
        """Bindings whose role does not exist: nothing now, a grant once it is created."""
        return [b for b in self.bindings if self.role_rules(b) is None]
