"""The RBAC evaluator, case by case against the Go it transcribes (Kubernetes v1.35.4).

Each case names the Go function whose behaviour it pins:

- ``pkg/apis/rbac/v1/evaluation_helpers.go``: VerbMatches, APIGroupMatches,
  ResourceMatches, ResourceNameMatches, NonResourceURLMatches;
- ``plugin/pkg/auth/authorizer/rbac/rbac.go``: RuleAllows;
- ``pkg/registry/rbac/validation/rule.go``: appliesToUser, VisitRulesFor,
  GetRoleReferenceRules;
- ``pkg/kubeapiserver/authorizer/reload.go``: NewPrivilegedGroups (system:masters).

Every function is called through the module, so a monkeypatched mutant is what runs:
``test_table_kills_mutant`` proves each seeded bug in ``tests/support/rbac_cases.py``
flips at least one case. The recorded server answers (``test_authorizer_recorded.py``)
and the live differential test (``tests/cluster/test_rbac_differential.py``) prove the
same semantics against the API server itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from kubepci.analysis import authorizer
from kubepci.analysis.authorizer import Identity, Request, Rule, Subject
from tests.support import rbac_cases as rc

Obj = dict[str, Any]
G = "rbac.authorization.k8s.io"
NS, OTHER = "payments", "web"
SA = Identity.service_account(NS, "bot")
SA_OTHER_NS = Identity.service_account(OTHER, "bot")
ALICE = Identity.authenticated_user("alice", ["devs"])


def rule(verbs=("get",), groups=("",), resources=("pods",), names=(), urls=()) -> Rule:
    raw: Obj = {"verbs": list(verbs)}
    if urls:
        raw["nonResourceURLs"] = list(urls)
    else:
        raw |= {"apiGroups": list(groups), "resources": list(resources)}
    if names:
        raw["resourceNames"] = list(names)
    return Rule.from_json(raw)


def _cluster_role(name: str, *rules: Obj) -> Obj:
    return {"metadata": {"name": name}, "rules": list(rules)}


def _role(namespace: str, name: str, *rules: Obj) -> Obj:
    return {"metadata": {"name": name, "namespace": namespace}, "rules": list(rules)}


def _binding(name: str, kind: str, role: str, *subjects: Obj, namespace: str = "") -> Obj:
    meta: Obj = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {
        "metadata": meta,
        "roleRef": {"apiGroup": G, "kind": kind, "name": role},
        "subjects": list(subjects),
    }


def user(name: str) -> Obj:
    return {"kind": "User", "apiGroup": G, "name": name}


def group(name: str) -> Obj:
    return {"kind": "Group", "apiGroup": G, "name": name}


def sa(name: str, namespace: str | None = None) -> Obj:
    out: Obj = {"kind": "ServiceAccount", "name": name}
    if namespace is not None:
        out["namespace"] = namespace
    return out


PODS = {"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}
HEALTHZ = {"verbs": ["get"], "nonResourceURLs": ["/healthz"]}
GET_PODS = Request("get", "", "pods", namespace=NS)


def allows(
    identity: Identity,
    request: Request,
    clusterroles: Sequence[Obj] = (),
    clusterrolebindings: Sequence[Obj] = (),
    roles: Sequence[Obj] = (),
    rolebindings: Sequence[Obj] = (),
) -> bool:
    authz = authorizer.Authorizer(clusterroles, clusterrolebindings, roles, rolebindings)
    return authz.allows(identity, request)


@dataclass(frozen=True)
class Case:
    go: str
    what: str
    check: Callable[[], bool]
    expected: bool


def _rule_cases() -> list[Case]:
    a = authorizer
    vm, gm, rm, nm, um = (
        "VerbMatches",
        "APIGroupMatches",
        "ResourceMatches",
        "ResourceNameMatches",
        "NonResourceURLMatches",
    )
    return [
        Case(vm, "listed verb", lambda: a.verb_matches(rule(["get"]), "get"), True),
        Case(vm, "* is any verb", lambda: a.verb_matches(rule(["*"]), rc.MADE_UP_VERB), True),
        Case(vm, "other verb", lambda: a.verb_matches(rule(["get"]), "list"), False),
        Case(vm, "case-sensitive", lambda: a.verb_matches(rule(["GET"]), "get"), False),
        Case(vm, "no verbs", lambda: a.verb_matches(Rule(), "get"), False),
        Case(gm, "core group", lambda: a.api_group_matches(rule(groups=[""]), ""), True),
        Case(gm, "core is not apps", lambda: a.api_group_matches(rule(groups=[""]), "apps"), False),
        Case(gm, "* is any group", lambda: a.api_group_matches(rule(groups=["*"]), "x.io"), True),
        Case(
            gm,
            "no prefix match",
            lambda: a.api_group_matches(rule(groups=["apps"]), "apps.x"),
            False,
        ),
        Case(
            rm,
            "* is any resource",
            lambda: a.resource_matches(rule(resources=["*"]), "pods", ""),
            True,
        ),
        Case(
            rm,
            "* covers subresources",
            lambda: a.resource_matches(rule(resources=["*"]), "pods/exec", "exec"),
            True,
        ),
        Case(
            rm,
            "parent does not grant subresource",
            lambda: a.resource_matches(rule(resources=["pods"]), "pods/exec", "exec"),
            False,
        ),
        Case(
            rm,
            "subresource does not grant parent",
            lambda: a.resource_matches(rule(resources=["pods/exec"]), "pods", ""),
            False,
        ),
        Case(
            rm,
            "pods/* is no wildcard",
            lambda: a.resource_matches(rule(resources=["pods/*"]), "pods/exec", "exec"),
            False,
        ),
        Case(
            rm,
            "pods/* grants the literal subresource *",
            lambda: a.resource_matches(rule(resources=["pods/*"]), "pods/*", "*"),
            True,
        ),
        Case(
            rm,
            "*/status is any resource's status",
            lambda: a.resource_matches(
                rule(resources=["*/status"]), "deployments/status", "status"
            ),
            True,
        ),
        Case(
            rm,
            "*/status needs a subresource",
            lambda: a.resource_matches(rule(resources=["*/status"]), "deployments", ""),
            False,
        ),
        Case(
            rm,
            "*/exec is not status",
            lambda: a.resource_matches(rule(resources=["*/exec"]), "pods/status", "status"),
            False,
        ),
        Case(
            rm,
            "*/status by length, not suffix",
            lambda: a.resource_matches(rule(resources=["*/status"]), "pods/xstatus", "xstatus"),
            False,
        ),
        Case(
            rm,
            "no globbing",
            lambda: a.resource_matches(rule(resources=["pods*"]), "pods", ""),
            False,
        ),
        Case(nm, "no names: any name", lambda: a.resource_name_matches(rule(), "x"), True),
        Case(nm, "no names: no name", lambda: a.resource_name_matches(rule(), ""), True),
        Case(nm, "listed name", lambda: a.resource_name_matches(rule(names=["n1"]), "n1"), True),
        Case(nm, "other name", lambda: a.resource_name_matches(rule(names=["n1"]), "n2"), False),
        Case(
            nm,
            "named rule never grants unnamed (list/create)",
            lambda: a.resource_name_matches(rule(names=["n1"]), ""),
            False,
        ),
        Case(
            nm,
            "an empty listed name matches no name",
            lambda: a.resource_name_matches(rule(names=[""]), ""),
            True,
        ),
        Case(
            um, "* is any path", lambda: a.non_resource_url_matches(rule(urls=["*"]), "/x/y"), True
        ),
        Case(
            um,
            "exact",
            lambda: a.non_resource_url_matches(rule(urls=["/healthz"]), "/healthz"),
            True,
        ),
        Case(
            um,
            "exact is not prefix",
            lambda: a.non_resource_url_matches(rule(urls=["/healthz"]), "/healthz/etcd"),
            False,
        ),
        Case(
            um,
            "/api/* covers below",
            lambda: a.non_resource_url_matches(rule(urls=["/api/*"]), "/api/v1"),
            True,
        ),
        Case(
            um,
            "/api/* is not /api",
            lambda: a.non_resource_url_matches(rule(urls=["/api/*"]), "/api"),
            False,
        ),
        Case(
            um,
            "TrimRight strips every *: /api** covers /api",
            lambda: a.non_resource_url_matches(rule(urls=["/api**"]), "/api"),
            True,
        ),
        Case(
            um,
            "/api** covers /apis/x",
            lambda: a.non_resource_url_matches(rule(urls=["/api**"]), "/apis/x"),
            True,
        ),
        Case(
            um,
            "/api/** covers /api/",
            lambda: a.non_resource_url_matches(rule(urls=["/api/**"]), "/api/"),
            True,
        ),
        Case(
            um,
            "* only at the end",
            lambda: a.non_resource_url_matches(rule(urls=["/a*b"]), "/a-b"),
            False,
        ),
        Case(
            "RuleAllows",
            "resource rule, non-resource request",
            lambda: a.rule_allows(Request("get", path="/healthz"), rule(resources=["*"])),
            False,
        ),
        Case(
            "RuleAllows",
            "non-resource rule, resource request",
            lambda: a.rule_allows(GET_PODS, rule(urls=["*"])),
            False,
        ),
        Case("RuleAllows", "everything matches", lambda: a.rule_allows(GET_PODS, rule()), True),
        Case(
            "RuleAllows",
            "all but the name",
            lambda: a.rule_allows(Request("get", "", "pods", "", NS, "p"), rule(names=["q"])),
            False,
        ),
        Case(
            "RuleAllows",
            "subresource joined with /",
            lambda: a.rule_allows(
                Request("create", "", "pods", "exec", NS), rule(["create"], resources=["pods/exec"])
            ),
            True,
        ),
    ]


def _subject_cases() -> list[Case]:
    a = authorizer
    au = "appliesToUser"
    return [
        Case(au, "User by name", lambda: a.subject_applies(Subject("User", "alice"), ALICE), True),
        Case(
            au,
            "User is not a group",
            lambda: a.subject_applies(Subject("User", "devs"), ALICE),
            False,
        ),
        Case(
            au,
            "Group by membership",
            lambda: a.subject_applies(Subject("Group", "devs"), ALICE),
            True,
        ),
        Case(
            au,
            "Group is not a user",
            lambda: a.subject_applies(Subject("Group", "alice"), ALICE),
            False,
        ),
        Case(
            au,
            "ServiceAccount with namespace",
            lambda: a.subject_applies(Subject("ServiceAccount", "bot", NS), SA),
            True,
        ),
        Case(
            au,
            "ServiceAccount of another namespace",
            lambda: a.subject_applies(Subject("ServiceAccount", "bot", NS), SA_OTHER_NS),
            False,
        ),
        Case(
            au,
            "ServiceAccount without namespace (a ClusterRoleBinding's) matches nobody",
            lambda: a.subject_applies(Subject("ServiceAccount", "bot"), SA),
            False,
        ),
        Case(
            au,
            "MatchesUsername compares the name only, not the groups",
            lambda: a.subject_applies(
                Subject("ServiceAccount", "bot", NS), Identity(f"system:serviceaccount:{NS}:bot")
            ),
            True,
        ),
        Case(
            au,
            "User spelled as a ServiceAccount username",
            lambda: a.subject_applies(Subject("User", f"system:serviceaccount:{NS}:bot"), SA),
            True,
        ),
        Case(
            au, "unknown kind", lambda: a.subject_applies(Subject("Robot", "alice"), ALICE), False
        ),
    ]


def _visit_cases() -> list[Case]:
    vr, rr = "VisitRulesFor", "GetRoleReferenceRules"
    pods_cr = [_cluster_role("pods", PODS)]
    pods_role = [_role(NS, "pods", PODS)]

    def crb(*subjects: Obj, role: str = "pods") -> list[Obj]:
        return [_binding("b", "ClusterRole", role, *subjects)]

    def rb(kind: str, *subjects: Obj, namespace: str = NS, role: str = "pods") -> list[Obj]:
        return [_binding("b", kind, role, *subjects, namespace=namespace)]

    return [
        Case(
            vr,
            "ClusterRoleBinding grants in any namespace",
            lambda: allows(ALICE, GET_PODS, pods_cr, crb(user("alice"))),
            True,
        ),
        Case(
            vr,
            "ClusterRoleBinding grants cluster-wide",
            lambda: allows(ALICE, Request("get", "", "pods"), pods_cr, crb(user("alice"))),
            True,
        ),
        Case(
            vr,
            "RoleBinding grants in its namespace",
            lambda: allows(
                ALICE, GET_PODS, roles=pods_role, rolebindings=rb("Role", user("alice"))
            ),
            True,
        ),
        Case(
            vr,
            "RoleBinding grants nothing in another namespace",
            lambda: allows(
                ALICE,
                Request("get", "", "pods", namespace=OTHER),
                pods_cr,
                rolebindings=rb("ClusterRole", user("alice")),
            ),
            False,
        ),
        Case(
            vr,
            "RoleBinding grants nothing cluster-wide",
            lambda: allows(
                ALICE,
                Request("get", "", "pods"),
                pods_cr,
                rolebindings=rb("ClusterRole", user("alice")),
            ),
            False,
        ),
        Case(
            vr,
            "RoleBinding to a ClusterRole grants in the binding's namespace",
            lambda: allows(ALICE, GET_PODS, pods_cr, rolebindings=rb("ClusterRole", user("alice"))),
            True,
        ),
        Case(
            vr,
            "RoleBinding's unqualified ServiceAccount is in the binding's namespace",
            lambda: allows(SA, GET_PODS, pods_cr, rolebindings=rb("ClusterRole", sa("bot"))),
            True,
        ),
        Case(
            vr,
            "... and not the same name in another namespace",
            lambda: allows(
                SA_OTHER_NS,
                Request("get", "", "pods", namespace=NS),
                pods_cr,
                rolebindings=rb("ClusterRole", sa("bot")),
            ),
            False,
        ),
        Case(
            vr,
            "RoleBinding's ServiceAccount of another namespace",
            lambda: allows(
                SA_OTHER_NS, GET_PODS, pods_cr, rolebindings=rb("ClusterRole", sa("bot", OTHER))
            ),
            True,
        ),
        Case(
            vr,
            "ClusterRoleBinding's unqualified ServiceAccount (the API rejects it)",
            lambda: allows(SA, GET_PODS, pods_cr, crb(sa("bot"))),
            False,
        ),
        Case(
            vr,
            "RoleBinding never grants a non-resource URL (no namespace)",
            lambda: allows(
                ALICE,
                Request("get", path="/healthz"),
                [_cluster_role("pods", HEALTHZ)],
                rolebindings=rb("ClusterRole", user("alice")),
            ),
            False,
        ),
        Case(
            vr,
            "ClusterRoleBinding grants a non-resource URL",
            lambda: allows(
                Identity.anonymous(),
                Request("get", path="/healthz"),
                [_cluster_role("pods", HEALTHZ)],
                crb(group("system:unauthenticated")),
            ),
            True,
        ),
        Case(
            vr,
            "any one subject of the binding",
            lambda: allows(ALICE, GET_PODS, pods_cr, crb(user("bob"), group("devs"))),
            True,
        ),
        Case(
            rr,
            "RoleBinding to a missing Role",
            lambda: allows(ALICE, GET_PODS, rolebindings=rb("Role", user("alice"))),
            False,
        ),
        Case(
            rr,
            "RoleBinding to a Role of another namespace",
            lambda: allows(
                ALICE,
                Request("get", "", "pods", namespace=OTHER),
                roles=pods_role,
                rolebindings=rb("Role", user("alice"), namespace=OTHER),
            ),
            False,
        ),
        Case(
            rr,
            "ClusterRoleBinding to a missing ClusterRole",
            lambda: allows(ALICE, GET_PODS, [], crb(user("alice"))),
            False,
        ),
        Case(
            rr,
            "unsupported roleRef kind",
            lambda: allows(ALICE, GET_PODS, pods_cr, rolebindings=rb("Thing", user("alice"))),
            False,
        ),
        Case(
            "NewPrivilegedGroups",
            "system:masters needs no binding",
            lambda: allows(Identity("root", ("system:masters",)), GET_PODS),
            True,
        ),
        Case(
            "NewPrivilegedGroups",
            "the group, not a user of that name",
            lambda: allows(Identity("system:masters", ()), GET_PODS),
            False,
        ),
    ]


CASES = _rule_cases() + _subject_cases() + _visit_cases()


def _failures() -> list[Case]:
    return [c for c in CASES if c.check() is not c.expected]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.go}: {c.what}")
def test_go_semantics(case: Case) -> None:
    assert case.check() is case.expected


@pytest.mark.parametrize("mutant", list(rc.MUTANTS))
def test_table_kills_mutant(mutant: str, monkeypatch: pytest.MonkeyPatch) -> None:
    attribute, replacement = rc.MUTANTS[mutant]
    monkeypatch.setattr(authorizer, attribute, replacement)
    assert _failures(), f"no case tells {mutant!r} from the Go semantics"


# ------------------------------------------------- VisitRulesFor, transcribed naively


def _applies_to_user(identity: Identity, subject: Obj, namespace: str) -> bool:
    """rule.go appliesToUser, with its namespace argument."""
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "User":
        return identity.user == name
    if kind == "Group":
        return name in identity.groups
    if kind == "ServiceAccount":
        sa_namespace = subject.get("namespace") or namespace
        return (
            bool(sa_namespace) and identity.user == f"system:serviceaccount:{sa_namespace}:{name}"
        )
    return False


def reference_allows(case: rc.Case, identity: Identity, request: Request) -> bool:
    """The privileged-groups authorizer, then VisitRulesFor over plain lists, in Go's
    order: no index, no pre-folded namespaces."""
    if "system:masters" in identity.groups:
        return True
    cluster_roles = {r["metadata"]["name"]: r["rules"] for r in case.cluster_roles}
    roles = {(r["metadata"]["namespace"], r["metadata"]["name"]): r["rules"] for r in case.roles}

    def rules_for(ref: Obj, namespace: str) -> list[Obj]:
        if ref["kind"] == "ClusterRole":
            return cluster_roles.get(ref["name"], [])
        if ref["kind"] == "Role":
            return roles.get((namespace, ref["name"]), [])
        return []

    visits = [(b, "") for b in case.cluster_role_bindings]
    if request.namespace:
        visits += [
            (b, request.namespace)
            for b in case.role_bindings
            if b["metadata"]["namespace"] == request.namespace
        ]
    for binding, namespace in visits:
        if not any(_applies_to_user(identity, s, namespace) for s in binding["subjects"]):
            continue
        for raw in rules_for(binding["roleRef"], namespace):
            if authorizer.rule_allows(request, Rule.from_json(raw)):
                return True
    return False


@settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(rc.cases_with_probes(count=25))
def test_index_agrees_with_go_order_visit(drawn: tuple[rc.Case, list]) -> None:
    case, probes = drawn
    authz = authorizer.Authorizer(*case.lists())
    for identity, request in probes:
        assert authz.allows(identity, request) == reference_allows(case, identity, request), (
            identity,
            request,
        )


@pytest.mark.parametrize(
    ("name", "groups", "expected"),
    [
        # AuthenticatedGroupAdder (k8s.io/apiserver/pkg/authentication/group/
        # authenticated_group_adder.go) leaves a user alone who already carries either
        # catch-all group, and never adds system:authenticated to the anonymous user.
        ("alice", ["devs"], ("devs", "system:authenticated")),
        ("alice", ["system:authenticated", "devs"], ("system:authenticated", "devs")),
        ("alice", ["devs", "system:unauthenticated"], ("devs", "system:unauthenticated")),
        ("system:anonymous", ["devs"], ("devs",)),
        ("system:anonymous", [], ()),
    ],
)
def test_the_authenticated_group_is_added_as_the_adder_adds_it(
    name: str, groups: list[str], expected: tuple[str, ...]
) -> None:
    assert Identity.authenticated_user(name, groups) == Identity(name, expected)
