"""Random but valid RBAC objects, and (identity, request) probes aimed at them.

Used by ``tests/cluster/test_rbac_differential.py``, which applies the objects to the
local cluster and compares :class:`kubepci.analysis.authorizer.Authorizer` with the API
server's ``SubjectAccessReview``, and by the offline tests, which replay what it recorded.

Every draw goes through a :class:`Chooser`, so one generator serves two masters:

- hypothesis (:func:`rbac_cases`, :func:`probe_pairs`): offline property tests, with
  shrinking;
- a seeded ``random.Random`` (:class:`RandomChooser`): the cluster test's batch, which must
  be large (thousands of probes) and reproducible from one seed, neither of which a single
  hypothesis example is good at (the first example hypothesis tries is the simplest one,
  and an example's size is capped).

Objects are valid as ``pkg/apis/rbac/validation/validation.go`` (v1.35.4) states it:
non-resource rules only in ClusterRoles and never mixed with resources; resource rules
with at least one apiGroup and resource; a ClusterRoleBinding's ServiceAccount subject
always names its namespace (``ValidateRoleBindingSubject``). Everything namespaced lives
in :data:`NAMESPACES`, and every object name starts with :data:`PREFIX`. No identity is a
node (``system:node:*`` / ``system:nodes``): the Node authorizer answers for those.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from hypothesis import strategies as st

from kubepci.analysis import authorizer
from kubepci.analysis.authorizer import Identity, Request

Obj = dict[str, Any]
T = TypeVar("T")

PREFIX = "kubepci-diff-"
NAMESPACES = ("kubepci-diff-a", "kubepci-diff-b", "kubepci-diff-c")
LABELS = {"app.kubernetes.io/managed-by": "kubepci-diff"}
RBAC_GROUP = "rbac.authorization.k8s.io"
MADE_UP_VERB = "kubepci-frobnicate"
MADE_UP_GROUP = "kubepci-diff.example.com"
MADE_UP_RESOURCE = "kubepci-widgets"

# ------------------------------------------------------------------------------ rule pools

RULE_VERBS = (
    "*",
    "get",
    "list",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "watch",
    "escalate",
    "bind",
    "impersonate",
    "approve",
    MADE_UP_VERB,
)
RULE_GROUPS = (
    "",
    "*",
    "apps",
    RBAC_GROUP,
    "certificates.k8s.io",
    "authentication.k8s.io",
    MADE_UP_GROUP,
)
RULE_RESOURCES = (
    "*",
    "pods",
    "pods/exec",
    "pods/*",
    "*/status",
    "*/exec",
    "secrets",
    "serviceaccounts/token",
    "nodes/proxy",
    "users",
    "groups",
    "clusterroles",
    "signers",
    MADE_UP_RESOURCE,
)
RESOURCE_NAMES = ("kubepci-diff-n1", "kubepci-diff-n2", "default")
NON_RESOURCE_URLS = (
    "*",
    "/healthz",
    "/api/*",
    "/api**",
    "/metrics",
    "/logs/*",
    "/logs**",
    "/apis/x",
)
NON_RESOURCE_VERBS = ("*", "get", "post", "put", "delete", "head")
# Real ClusterRoles of the default policy a generated binding may reference (aggregated
# ones among them, so their controller-filled rules are part of the case).
DEFAULT_CLUSTER_ROLES = ("view", "edit", "admin", "system:basic-user")

# --------------------------------------------------------------------------- subject pools

SA_NAMES = ("kubepci-diff-sa1", "kubepci-diff-sa2", "kubepci-diff-ghost", "default")
SUBJECT_USERS = (
    "kubepci-diff-alice",
    "kubepci-diff-bob",
    "kubepci-diff-dave",
    "kubepci-diff-nobody",
    "system:anonymous",
    # User subjects spelled as ServiceAccount usernames: RBAC compares names only.
    authorizer.service_account_username(NAMESPACES[0], "kubepci-diff-sa1"),
    authorizer.service_account_username(NAMESPACES[1], "kubepci-diff-ghost"),
)
SUBJECT_GROUPS = (
    "system:authenticated",
    "system:serviceaccounts",
    *(f"system:serviceaccounts:{ns}" for ns in NAMESPACES),
    "system:unauthenticated",
    "system:masters",
    "kubepci-diff-devs",
    "kubepci-diff-ops",
    "kubepci-diff-empty",
)

# -------------------------------------------------------------------------- probe pools

REQUEST_VERBS = (*RULE_VERBS[1:], "*")
REQUEST_GROUPS = (*(g for g in RULE_GROUPS if g != "*"), "authorization.k8s.io", "*")
REQUEST_RESOURCES = (
    "pods",
    "secrets",
    "serviceaccounts",
    "nodes",
    "users",
    "groups",
    "clusterroles",
    "roles",
    "signers",
    "configmaps",
    "deployments",
    MADE_UP_RESOURCE,
    "*",
)
REQUEST_SUBRESOURCES = ("exec", "status", "log", "token", "proxy", "*")
REQUEST_NAMES = (*RESOURCE_NAMES, "kubepci-diff-other")
REQUEST_NAMESPACES = (*NAMESPACES, "")
PATHS = (
    "/healthz",
    "/healthz/etcd",
    "/api",
    "/api/",
    "/api/v1",
    "/apis",
    "/apis/x",
    "/metrics",
    "/logs",
    "/logs/x",
    "/livez",
    "/version",
)
PATH_VERBS = ("get", "post", "put", "delete", "head", "patch")


def identities() -> tuple[Identity, ...]:
    """Who is probed, with the groups their authenticator would give them."""
    return (
        *(
            Identity.service_account(ns, name)
            for ns in NAMESPACES
            for name in ("kubepci-diff-sa1", "kubepci-diff-sa2")
        ),
        Identity.authenticated_user("kubepci-diff-alice", ["kubepci-diff-devs"]),
        Identity.authenticated_user("kubepci-diff-bob", ["kubepci-diff-devs", "kubepci-diff-ops"]),
        Identity.authenticated_user("kubepci-diff-dave", ["kubepci-diff-ops"]),
        Identity.authenticated_user("kubepci-diff-carol"),  # named by no subject
        # A user whose name is a ServiceAccount's, without a ServiceAccount's groups.
        Identity(
            authorizer.service_account_username(NAMESPACES[1], "kubepci-diff-ghost"),
            ("system:authenticated",),
        ),
        Identity("kubepci-diff-nogroups", ()),
        Identity.anonymous(),
        Identity("kubepci-diff-root", ("system:masters", "system:authenticated")),
    )


IDENTITIES = identities()
# Relative weights, in IDENTITIES order: members of system:masters are always allowed, so
# they are probed rarely.
IDENTITY_WEIGHTS = (3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 3, 1)

# ------------------------------------------------------------------------------- choosers


class Chooser(Protocol):
    def pick(self, options: Sequence[T]) -> T: ...

    def number(self, low: int, high: int) -> int: ...

    def chance(self, percent: int) -> bool: ...


class RandomChooser:
    def __init__(self, rnd: random.Random) -> None:
        self.rnd = rnd

    def pick(self, options: Sequence[T]) -> T:
        return options[self.rnd.randrange(len(options))]

    def number(self, low: int, high: int) -> int:
        return self.rnd.randint(low, high)

    def chance(self, percent: int) -> bool:
        return self.rnd.randrange(100) < percent


class DrawChooser:
    """Draws through hypothesis; every choice shrinks towards the first option, the low
    number, and "no"."""

    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw

    def pick(self, options: Sequence[T]) -> T:
        return self.draw(st.sampled_from(options))

    def number(self, low: int, high: int) -> int:
        return self.draw(st.integers(low, high))

    def chance(self, percent: int) -> bool:
        return self.draw(st.integers(0, 99)) >= 100 - percent


def weighted(ch: Chooser, options: Sequence[T], weights: Sequence[int]) -> T:
    point = ch.number(0, sum(weights) - 1)
    for option, weight in zip(options, weights, strict=True):
        if point < weight:
            return option
        point -= weight
    raise AssertionError("unreachable")


def some(ch: Chooser, options: Sequence[T], low: int, high: int) -> list[T]:
    """Between ``low`` and ``high`` distinct options, in draw order (fewer on repeats)."""
    out: list[T] = []
    for _ in range(ch.number(low, high)):
        value = ch.pick(options)
        if value not in out:
            out.append(value)
    return out


# -------------------------------------------------------------------------------- objects


def resource_rule(ch: Chooser) -> Obj:
    rule: Obj = {
        "verbs": some(ch, RULE_VERBS, 1, 3),
        "apiGroups": some(ch, RULE_GROUPS, 1, 2),
        "resources": some(ch, RULE_RESOURCES, 1, 3),
    }
    if ch.chance(25):
        rule["resourceNames"] = some(ch, RESOURCE_NAMES, 1, 2)
    return rule


def non_resource_rule(ch: Chooser) -> Obj:
    return {
        "verbs": some(ch, NON_RESOURCE_VERBS, 1, 2),
        "nonResourceURLs": some(ch, NON_RESOURCE_URLS, 1, 2),
    }


def _meta(name: str, namespace: str = "") -> Obj:
    meta: Obj = {"name": name, "labels": dict(LABELS)}
    if namespace:
        meta["namespace"] = namespace
    return meta


def cluster_role(ch: Chooser, name: str) -> Obj:
    rules = [
        non_resource_rule(ch) if ch.chance(35) else resource_rule(ch)
        for _ in range(ch.number(1, 3))
    ]
    return {
        "apiVersion": f"{RBAC_GROUP}/v1",
        "kind": "ClusterRole",
        "metadata": _meta(name),
        "rules": rules,
    }


# The forms evaluators get wrong: subresource wildcards that are not wildcards, and
# trailing "*" runs in non-resource URLs (strings.TrimRight strips all of them).
EDGE_RESOURCES = ("pods/*", "*/status", "*/exec", "pods/exec", "serviceaccounts/token")
EDGE_URLS = ("/api**", "/logs**", "/api/*", "/logs/*", "/metrics")


def edge_cluster_role(ch: Chooser, name: str) -> Obj:
    """A ClusterRole made of the edge forms only; each case binds one cluster-wide, so
    every recording exercises them whatever else the draw did."""
    resources: Obj = {
        "verbs": some(ch, RULE_VERBS, 1, 3),
        "apiGroups": some(ch, RULE_GROUPS, 1, 2),
        "resources": some(ch, EDGE_RESOURCES, 1, 2),
    }
    if ch.chance(25):
        resources["resourceNames"] = some(ch, RESOURCE_NAMES, 1, 2)
    urls = {
        "verbs": some(ch, NON_RESOURCE_VERBS, 1, 2),
        "nonResourceURLs": some(ch, EDGE_URLS, 1, 2),
    }
    return {
        "apiVersion": f"{RBAC_GROUP}/v1",
        "kind": "ClusterRole",
        "metadata": _meta(name),
        "rules": [resources, urls],
    }


def role(ch: Chooser, name: str, namespace: str) -> Obj:
    return {
        "apiVersion": f"{RBAC_GROUP}/v1",
        "kind": "Role",
        "metadata": _meta(name, namespace),
        "rules": [resource_rule(ch) for _ in range(ch.number(1, 3))],
    }


def subject(ch: Chooser, namespaced: bool) -> Obj:
    kind = weighted(ch, ("User", "Group", "ServiceAccount"), (3, 3, 4))
    if kind == "User":
        return {"kind": "User", "apiGroup": RBAC_GROUP, "name": ch.pick(SUBJECT_USERS)}
    if kind == "Group":
        return {"kind": "Group", "apiGroup": RBAC_GROUP, "name": ch.pick(SUBJECT_GROUPS)}
    out: Obj = {"kind": "ServiceAccount", "name": ch.pick(SA_NAMES)}
    # Unqualified only in a RoleBinding: the API requires a ClusterRoleBinding's
    # ServiceAccount subject to name its namespace.
    if not namespaced or ch.chance(50):
        out["namespace"] = ch.pick(NAMESPACES)
    return out


def _binding(
    kind: str, name: str, namespace: str, role_kind: str, role_name: str, subjects: list[Obj]
) -> Obj:
    return {
        "apiVersion": f"{RBAC_GROUP}/v1",
        "kind": kind,
        "metadata": _meta(name, namespace),
        "roleRef": {"apiGroup": RBAC_GROUP, "kind": role_kind, "name": role_name},
        "subjects": subjects,
    }


@dataclass
class Case:
    """One batch of objects to apply, all named ``kubepci-diff-<tag>-…``."""

    tag: str
    cluster_roles: list[Obj] = field(default_factory=list)
    roles: list[Obj] = field(default_factory=list)
    cluster_role_bindings: list[Obj] = field(default_factory=list)
    role_bindings: list[Obj] = field(default_factory=list)

    def objects(self) -> list[Obj]:
        return [*self.cluster_roles, *self.roles, *self.cluster_role_bindings, *self.role_bindings]

    def lists(self) -> tuple[list[Obj], list[Obj], list[Obj], list[Obj]]:
        """In ``Authorizer``'s argument order."""
        return self.cluster_roles, self.cluster_role_bindings, self.roles, self.role_bindings


def generate_case(ch: Chooser, tag: str) -> Case:
    case = Case(tag)
    base = f"{PREFIX}{tag}"
    case.cluster_roles.append(edge_cluster_role(ch, f"{base}-cr0"))
    for i in range(1, ch.number(5, 7)):
        case.cluster_roles.append(cluster_role(ch, f"{base}-cr{i}"))
    for i in range(ch.number(5, 8)):
        case.roles.append(role(ch, f"{base}-role{i}", ch.pick(NAMESPACES)))
    cluster_role_names = [r["metadata"]["name"] for r in case.cluster_roles]

    def cluster_role_ref() -> str:
        which = weighted(ch, ("generated", "default", "missing"), (13, 4, 2))
        if which == "generated":
            return ch.pick(cluster_role_names)
        if which == "default":
            return ch.pick(DEFAULT_CLUSTER_ROLES)
        return f"{base}-missing-cr{ch.number(0, 2)}"

    for i in range(ch.number(5, 7)):
        subjects = [subject(ch, namespaced=False) for _ in range(ch.number(1, 3))]
        case.cluster_role_bindings.append(
            _binding(
                "ClusterRoleBinding",
                f"{base}-crb{i}",
                "",
                "ClusterRole",
                case.cluster_roles[0]["metadata"]["name"] if i == 0 else cluster_role_ref(),
                subjects,
            )
        )
    for i in range(ch.number(9, 12)):
        namespace = ch.pick(NAMESPACES)
        local = [
            r["metadata"]["name"] for r in case.roles if r["metadata"]["namespace"] == namespace
        ]
        which = weighted(
            ch, ("role", "other-ns-role", "missing-role", "cluster-role"), (9, 1, 2, 8)
        )
        if which == "role" and local:
            role_kind, role_name = "Role", ch.pick(local)
        elif which in ("role", "other-ns-role"):
            # A Role of another namespace: the binding's own namespace has none of that
            # name (unless by chance), so it resolves to nothing.
            role_kind = "Role"
            role_name = ch.pick([r["metadata"]["name"] for r in case.roles])
        elif which == "missing-role":
            role_kind, role_name = "Role", f"{base}-missing-role{ch.number(0, 2)}"
        else:
            role_kind, role_name = "ClusterRole", cluster_role_ref()
        subjects = [subject(ch, namespaced=True) for _ in range(ch.number(1, 3))]
        case.role_bindings.append(
            _binding("RoleBinding", f"{base}-rb{i}", namespace, role_kind, role_name, subjects)
        )
    return case


# ---------------------------------------------------------------------------------- world


@dataclass
class World:
    """The objects as the server holds them, indexed only as far as aiming probes needs.

    Deliberately independent of ``Authorizer``: probes are aimed with this, answered by
    the server, and only then compared with the evaluator under test.
    """

    cluster_roles: dict[str, list[Obj]]
    roles: dict[tuple[str, str], list[Obj]]
    bindings: list[tuple[str, str, Obj]]  # (kind, namespace, object)

    @classmethod
    def from_lists(
        cls,
        clusterroles: Sequence[Obj],
        clusterrolebindings: Sequence[Obj],
        roles: Sequence[Obj],
        rolebindings: Sequence[Obj],
    ) -> World:
        return cls(
            {r["metadata"]["name"]: list(r.get("rules") or ()) for r in clusterroles},
            {
                (r["metadata"]["namespace"], r["metadata"]["name"]): list(r.get("rules") or ())
                for r in roles
            },
            [("ClusterRoleBinding", "", b) for b in clusterrolebindings]
            + [("RoleBinding", b["metadata"]["namespace"], b) for b in rolebindings],
        )

    def rules_of(self, kind: str, namespace: str, binding: Obj) -> list[Obj]:
        ref = binding.get("roleRef") or {}
        if ref.get("kind") == "ClusterRole":
            return self.cluster_roles.get(ref.get("name", ""), [])
        if kind == "RoleBinding" and ref.get("kind") == "Role":
            return self.roles.get((namespace, ref.get("name", "")), [])
        return []

    def generated(self) -> list[tuple[str, str, Obj]]:
        return [b for b in self.bindings if b[2]["metadata"]["name"].startswith(PREFIX)]


def names_identity(kind: str, namespace: str, binding: Obj, identity: Identity) -> bool:
    """Whether a subject of the binding names the identity (for aiming probes only)."""
    for s in binding.get("subjects") or ():
        if s.get("kind") == "User" and s.get("name") == identity.user:
            return True
        if s.get("kind") == "Group" and s.get("name") in identity.groups:
            return True
        if s.get("kind") == "ServiceAccount":
            ns = s.get("namespace") or (namespace if kind == "RoleBinding" else "")
            if ns and identity.user == f"system:serviceaccount:{ns}:{s.get('name')}":
                return True
    return False


# --------------------------------------------------------------------------------- probes


def _resource_of(ch: Chooser, granted: str) -> tuple[str, str]:
    """(resource, subresource) a request would use to hit a rule's resource entry."""
    if granted == "*":
        return ch.pick(REQUEST_RESOURCES), ch.pick(REQUEST_SUBRESOURCES) if ch.chance(30) else ""
    parent, _, sub = granted.partition("/")
    if parent == "*":
        parent = ch.pick(REQUEST_RESOURCES)
    if sub == "*":
        sub = ch.pick(REQUEST_SUBRESOURCES)
    return parent, sub


def _aimed(ch: Chooser, rule: Obj, namespace: str) -> Request:
    verb = ch.pick(rule["verbs"])
    if rule.get("nonResourceURLs"):
        if verb == "*":
            verb = ch.pick(PATH_VERBS)
        url = ch.pick(rule["nonResourceURLs"])
        if url == "*":
            path = ch.pick(PATHS)
        elif url.endswith("*"):
            path = url.rstrip("*") + ch.pick(("", "", "x", "/v1", "s/x"))
        else:
            path = url
        return Request(verb, path=path)
    if verb == "*":
        verb = ch.pick(REQUEST_VERBS)
    group = ch.pick(rule.get("apiGroups") or [""])
    if group == "*":
        group = ch.pick(REQUEST_GROUPS)
    resource, sub = _resource_of(ch, ch.pick(rule.get("resources") or ["pods"]))
    names = rule.get("resourceNames") or ()
    if names and ch.chance(65):
        name = ch.pick(names)
    elif ch.chance(40):
        name = ch.pick(REQUEST_NAMES)
    else:
        name = ""
    return Request(verb, group, resource, sub, namespace, name)


def _random_request(ch: Chooser) -> Request:
    if ch.chance(15):
        return Request(ch.pick(PATH_VERBS), path=ch.pick(PATHS))
    return Request(
        ch.pick(REQUEST_VERBS),
        ch.pick(REQUEST_GROUPS),
        ch.pick(REQUEST_RESOURCES),
        ch.pick(REQUEST_SUBRESOURCES) if ch.chance(30) else "",
        ch.pick(REQUEST_NAMESPACES),
        ch.pick(REQUEST_NAMES) if ch.chance(40) else "",
    )


def _perturb(ch: Chooser, identity: Identity, request: Request) -> tuple[Identity, Request]:
    """Change one thing, so probes land just beside what a rule grants."""
    if not request.is_resource:
        if ch.chance(50):
            return weighted(ch, IDENTITIES, IDENTITY_WEIGHTS), request
        return identity, dataclasses.replace(request, path=ch.pick(PATHS))
    what = ch.number(0, 6)
    change: dict[str, str] = {}
    if what == 0:
        return weighted(ch, IDENTITIES, IDENTITY_WEIGHTS), request
    if what == 1:
        change["verb"] = ch.pick(REQUEST_VERBS)
    elif what == 2:
        change["group"] = ch.pick(REQUEST_GROUPS)
    elif what == 3:
        change["resource"] = ch.pick(REQUEST_RESOURCES)
    elif what == 4:
        change["subresource"] = "" if request.subresource else ch.pick(REQUEST_SUBRESOURCES)
    elif what == 5:
        change["name"] = ch.pick(("", *REQUEST_NAMES))
    else:
        change["namespace"] = ch.pick(REQUEST_NAMESPACES)
    return identity, dataclasses.replace(request, **change)


def probe(ch: Chooser, world: World) -> tuple[Identity, Request]:
    """One (identity, request): mostly aimed at a rule some binding grants, to the
    identity it names or to another, sometimes nudged off it, sometimes random."""
    identity = weighted(ch, IDENTITIES, IDENTITY_WEIGHTS)
    mode = ch.number(0, 99)
    if mode < 15:
        return identity, _random_request(ch)
    if mode < 70:
        candidates = [b for b in world.bindings if names_identity(*b, identity)]
    else:
        candidates = world.generated()
    candidates = [b for b in candidates if world.rules_of(*b)] or world.generated()
    if not candidates:
        return identity, _random_request(ch)
    kind, namespace, binding = ch.pick(candidates)
    rules = world.rules_of(kind, namespace, binding)
    if not rules:
        return identity, _random_request(ch)
    local = kind == "RoleBinding" and ch.chance(80)
    where = namespace if local else ch.pick(REQUEST_NAMESPACES)
    request = _aimed(ch, ch.pick(rules), where)
    if ch.chance(30):
        return _perturb(ch, identity, request)
    return identity, request


def probes(ch: Chooser, world: World, count: int) -> list[tuple[Identity, Request]]:
    """``count`` distinct probes (fewer only if the space is exhausted; bounded)."""
    seen: set[tuple[Identity, Request]] = set()
    out: list[tuple[Identity, Request]] = []
    for _ in range(count * 10):
        if len(out) >= count:
            break
        pair = probe(ch, world)
        if pair not in seen:
            seen.add(pair)
            out.append(pair)
    return out


# ---------------------------------------------------------------------------- strategies


@st.composite
def rbac_cases(draw: st.DrawFn, tag: str = "h") -> Case:
    """A batch of valid objects, as :func:`generate_case` makes them."""
    return generate_case(DrawChooser(draw), tag)


@st.composite
def probe_pairs(draw: st.DrawFn, world: World) -> tuple[Identity, Request]:
    """One probe aimed at ``world``."""
    return probe(DrawChooser(draw), world)


@st.composite
def cases_with_probes(
    draw: st.DrawFn, count: int = 20
) -> tuple[Case, list[tuple[Identity, Request]]]:
    case = draw(rbac_cases())
    world = World.from_lists(*case.lists())
    ch = DrawChooser(draw)
    return case, [probe(ch, world) for _ in range(count)]


# ------------------------------------------------------------------------------- mutants
#
# Seeded evaluator bugs: each is (attribute of kubepci.analysis.authorizer, replacement).
# The recorded oracle answers and the unit tables must each disagree with every mutant.

_resource_matches = authorizer.resource_matches
_subject_applies = authorizer.subject_applies
_binding_from_json = authorizer._binding


def _names_ignored(rule: authorizer.Rule, name: str) -> bool:
    return True


def _sub_star_is_wildcard(rule: authorizer.Rule, combined: str, subresource: str) -> bool:
    if _resource_matches(rule, combined, subresource):
        return True
    return bool(subresource) and any(
        g.endswith("/*") and combined.startswith(g[:-1]) for g in rule.resources
    )


def _one_star_stripped(rule: authorizer.Rule, path: str) -> bool:
    for granted in rule.non_resource_urls:
        if granted in (authorizer.ALL, path):
            return True
        if granted.endswith("*") and path.startswith(granted[:-1]):
            return True
    return False


def _unqualified_sa_defaulted(subject: authorizer.Subject, identity: Identity) -> bool:
    # A ServiceAccount subject with no namespace (only a ClusterRoleBinding's can have
    # none, once the RoleBinding's namespace is folded in) matched in any namespace.
    if subject.kind == "ServiceAccount" and not subject.namespace:
        split = authorizer.split_service_account_username(identity.user)
        return split is not None and split[1] == subject.name
    return _subject_applies(subject, identity)


def _rolebinding_sa_not_defaulted(kind: str, raw: Obj) -> authorizer.Binding:
    # The converse: a RoleBinding's unqualified ServiceAccount is not taken to be in the
    # binding's namespace (appliesToUser's saNamespace := namespace).
    binding = _binding_from_json(kind, raw)
    subjects = tuple(
        dataclasses.replace(s, namespace="")
        if s.kind == "ServiceAccount" and not dict(r).get("namespace")
        else s
        for s, r in zip(binding.subjects, raw.get("subjects") or (), strict=True)
    )
    return dataclasses.replace(binding, subjects=subjects)


MUTANTS: dict[str, tuple[str, Callable[..., Any]]] = {
    "resource_name_matches ignores names": ("resource_name_matches", _names_ignored),
    "resource_matches treats pods/* as a wildcard": ("resource_matches", _sub_star_is_wildcard),
    "non_resource_url_matches strips one trailing *": (
        "non_resource_url_matches",
        _one_star_stripped,
    ),
    "subject_applies defaults a ClusterRoleBinding's unqualified ServiceAccount": (
        "subject_applies",
        _unqualified_sa_defaulted,
    ),
    "RoleBinding's unqualified ServiceAccount not defaulted to its namespace": (
        "_binding",
        _rolebinding_sa_not_defaulted,
    ),
}
