"""Where a privilege class is found, and the requests that prove it (``privilege_classes``).

The engine asks the RBAC authorizer (``kubepci.analysis.authorizer``) the requests of a
class, in the scopes a holder's bindings reach; these cases pin the choices it makes
around those questions, each against what Kubernetes v1.35.4 answers:

- a cluster-scoped request carries no namespace, so only ClusterRoleBindings can allow it
  (``k8s.io/apiserver/pkg/endpoints/request/requestinfo.go`` sets no namespace for a
  cluster-scoped path; ``pkg/registry/rbac/validation/rule.go`` VisitRulesFor visits
  RoleBindings only for a non-empty namespace);
- a create names no object (requestinfo.go: the path of a POST ends at the collection),
  so a create's witness carries no name;
- what a ClusterRoleBinding allows, it allows in every namespace; a RoleBinding only in
  its own: a class held cluster-wide is reported once, one held only in a namespace is
  reported there, and a grant limited by resourceNames is a gain, not the class;
- ``may_hold`` is a filter: it may say False only where no rule could allow any request
  of the class (``pkg/apis/rbac/v1/evaluation_helpers.go`` VerbMatches, APIGroupMatches,
  ResourceMatches);
- ``system:masters`` is authorised before RBAC (``pkg/kubeapiserver/authorizer/
  reload.go``): its holdings come from no grant.
"""

from __future__ import annotations

from typing import Any

import pytest

from kubepci.analysis.authorizer import (
    ALL,
    MASTERS,
    Authorizer,
    Identity,
    Request,
    Rule,
    rule_allows,
)
from kubepci.analysis.principals import IdentityHolder
from kubepci.analysis.privilege_classes import (
    ANY_NAME,
    ANY_NAMESPACE,
    CLUSTER_WIDE,
    EVERY_NAME,
    Hit,
    Names,
    answer,
    evaluate,
    may_hold,
)
from kubepci.catalogue.privileges import Alternative, PrivilegeClass, RequestTemplate
from kubepci.catalogue.privileges import load as load_catalogue
from tests.builders import (
    RBAC_GROUP,
    cluster_role,
    cluster_role_binding,
    rbac_lists,
    role,
    role_binding,
    rule,
    subject_sa,
)

Obj = dict[str, Any]
NS = "payments"
TEAM = "team"
BOT = Identity.service_account(NS, "bot")
CATALOGUE = load_catalogue()


# ----------------------------------------------------------------------------- helpers


def holder(*objects: Obj, identity: Identity = BOT) -> IdentityHolder:
    return IdentityHolder(Authorizer.from_snapshot(rbac_lists(*objects)), identity)


def cluster_wide(name: str, rules: list[Obj]) -> list[Obj]:
    """The rules, granted to the bot by a ClusterRoleBinding."""
    return [cluster_role(name, rules), cluster_role_binding(name, name, [subject_sa("bot", NS)])]


def in_namespace(name: str, namespace: str, rules: list[Obj]) -> list[Obj]:
    """The rules, granted to the bot by a Role and RoleBinding in ``namespace``."""
    return [
        role(name, namespace, rules),
        role_binding(name, namespace, name, [subject_sa("bot", NS)]),
    ]


def template(
    verbs: tuple[str, ...],
    resources: tuple[str, ...],
    scope: str = "namespace",
    names: Any = "unbounded",
    group: str = "",
) -> RequestTemplate:
    return RequestTemplate(verbs=verbs, group=group, resources=resources, scope=scope, names=names)


def klass(*all_of: RequestTemplate, gains: str | None = None) -> PrivilegeClass:
    """A class of one alternative, as catalogue/privileges.yaml would write it."""
    return PrivilegeClass(
        id="test-class",
        title="test class",
        severity="high",
        recommendation="1.5.3",
        rationale="a class for the test",
        references=("test",),
        gains=gains,
        any_of=(Alternative(all_of=all_of),),
    )


def scopes(hits: list[Hit]) -> list[tuple[str, bool]]:
    return [(h.scope, h.held) for h in hits]


# A harmless RoleBinding in TEAM: it gives the holder a namespace to be judged in.
SOMEWHERE = in_namespace("viewer", TEAM, [rule(["get"], ["configmaps"])])
READ_CONFIGMAPS = template(("get",), ("configmaps",))


# ------------------------------------------------------------ scopes of _alternative


def test_a_cluster_scoped_class_named_for_some_users_is_a_gain_reported_once() -> None:
    # impersonate on users is cluster-scoped: a ClusterRoleBinding's named grant reaches
    # every request for those users, whatever namespaces the holder is also bound in.
    # Reporting it again per namespace would invent scopes a cluster-scoped request has not.
    h = holder(
        *SOMEWHERE,
        *cluster_wide("imp", [rule(["impersonate"], ["users"], names=["alice"])]),
    )
    hits = evaluate(h, CATALOGUE.get("impersonate"))
    assert scopes(hits) == [(CLUSTER_WIDE, False)]
    assert hits[0].names == Names(False, frozenset({"alice"}))


def test_a_class_held_cluster_wide_is_not_repeated_in_the_holders_namespaces() -> None:
    h = holder(*SOMEWHERE, *cluster_wide("reader", [rule(["get"], ["configmaps"])]))
    assert scopes(evaluate(h, klass(READ_CONFIGMAPS))) == [(CLUSTER_WIDE, True)]


def test_requests_allowed_in_different_scopes_make_the_class_only_where_all_are() -> None:
    # escalate on roles cluster-wide, but update on roles only in TEAM: the holder can
    # escalate a Role only where it can also write it (escalation_check.go asks escalate
    # on the object the write names), so the class is held in TEAM, not everywhere.
    h = holder(
        *cluster_wide("esc", [rule(["escalate"], ["roles"], [RBAC_GROUP])]),
        *in_namespace("writer", TEAM, [rule(["update"], ["roles"], [RBAC_GROUP])]),
    )
    assert scopes(evaluate(h, CATALOGUE.get("escalate-roles"))) == [(TEAM, True)]


def test_a_named_grant_everywhere_does_not_hide_a_full_grant_in_one_namespace() -> None:
    # A class without a gain: the named grant cluster-wide is nothing, the RoleBinding
    # for every name makes the class in its namespace.
    h = holder(
        *cluster_wide("one", [rule(["get"], ["configmaps"], names=["one"])]),
        *in_namespace("all", TEAM, [rule(["get"], ["configmaps"])]),
    )
    assert scopes(evaluate(h, klass(READ_CONFIGMAPS))) == [(TEAM, True)]


def test_a_named_grant_everywhere_and_a_full_grant_in_a_namespace_are_both_reported() -> None:
    # With a gain, the named grant gains its names in every namespace, and the full grant
    # holds the class in TEAM: two hits, the first one not the class itself.
    h = holder(
        *cluster_wide("one", [rule(["get"], ["configmaps"], names=["one"])]),
        *in_namespace("all", TEAM, [rule(["get"], ["configmaps"])]),
    )
    hits = evaluate(h, klass(READ_CONFIGMAPS, gains="service-accounts"))
    assert scopes(hits) == [(CLUSTER_WIDE, False), (TEAM, True)]
    assert hits[0].held is False
    assert hits[0].names == Names(False, frozenset({"one"}))
    assert hits[1].names == EVERY_NAME


# ---------------------------------------------------------------- requests of answer

CREATE_CLUSTERROLES = template(
    ("create",), ("clusterroles",), scope="cluster", names="any", group=RBAC_GROUP
)


def test_a_create_is_witnessed_without_an_object_name() -> None:
    # requestinfo.go: a POST to a collection names no object, so the request the
    # authorizer sees for a create has Name "" (and a rule listing names never allows it).
    h = holder(*in_namespace("maker", TEAM, [rule(["create"], ["configmaps"])]))
    found = answer(h, template(("create",), ("configmaps",), names="any"), TEAM)
    assert found.names == EVERY_NAME
    assert found.witness is not None
    assert found.witness.name == ""
    assert rule_allows(found.witness, found.grants[0].rule)


def test_a_cluster_scoped_request_is_asked_without_a_namespace() -> None:
    h = holder(
        *SOMEWHERE, *cluster_wide("maker", [rule(["create"], ["clusterroles"], [RBAC_GROUP])])
    )
    found = answer(h, CREATE_CLUSTERROLES, TEAM)
    assert found.names == EVERY_NAME
    assert found.witness == Request("create", RBAC_GROUP, "clusterroles", "", CLUSTER_WIDE, "")


def test_a_rolebinding_never_allows_a_cluster_scoped_request() -> None:
    # VisitRulesFor (rule.go) visits RoleBindings only for a request's namespace, and a
    # cluster-scoped request has none: the Role's rule on clusterroles allows nothing.
    h = holder(*in_namespace("maker", TEAM, [rule(["create"], ["clusterroles"], [RBAC_GROUP])]))
    found = answer(h, CREATE_CLUSTERROLES, TEAM)
    assert not found.names.some
    assert found.witness is None


def masters_holder() -> IdentityHolder:
    return holder(identity=Identity.authenticated_user("root", [MASTERS]))


@pytest.mark.parametrize(
    "privilege",
    [c for c in CATALOGUE.classes if not c.wildcard_rules],
    ids=lambda c: c.id,
)
def test_system_masters_holds_every_class_through_its_key_request(
    privilege: PrivilegeClass,
) -> None:
    # reload.go authorises system:masters before RBAC: every request of every class is
    # allowed, by no grant; the hit names the key request's resource that proves it.
    hits = evaluate(masters_holder(), privilege)
    assert hits, privilege.id
    for hit, alt in zip(hits, privilege.any_of, strict=False):
        assert hit.held and hit.names == EVERY_NAME
        assert hit.grants == ()
        assert hit.resource in alt.key.resources
        assert hit.witness.resource == hit.resource.partition("/")[0]


# ---------------------------------------------------------------- wildcards, masters

WILD = CATALOGUE.get("wildcard-permissions")


def test_system_masters_holds_wildcards_as_a_cluster_admin_binding_does() -> None:
    # A member of system:masters may do what "*" verbs on "*" resources in "*" groups
    # allow cluster-wide, with no grant to show for it: the hit is the one such a
    # ClusterRoleBinding gives, proven by the same invented request.
    admin = holder(*cluster_wide("admin", [rule(["*"], ["*"], ["*"])]))
    (bound,) = evaluate(admin, WILD)
    (master,) = evaluate(masters_holder(), WILD)
    assert (master.scope, master.held, master.names, master.resource) == (
        bound.scope,
        bound.held,
        bound.names,
        bound.resource,
    )
    assert (master.scope, master.names, master.resource) == (
        CLUSTER_WIDE,
        EVERY_NAME,
        "kubepci-any",
    )
    assert master.grants == ()
    w, b = master.witness, bound.witness
    assert (w.verb, w.group, w.resource, w.subresource, w.namespace) == (
        b.verb,
        b.group,
        b.resource,
        b.subresource,
        b.namespace,
    )
    assert (w.verb, w.group, w.resource, w.subresource, w.namespace) == (
        "kubepci-any-verb",
        "kubepci.invalid",
        "kubepci-any",
        "",
        ANY_NAMESPACE,
    )
    assert master.witness.text() == (
        "kubepci-any-verb kubepci.invalid/kubepci-any in namespace " + ANY_NAMESPACE
    )


# ------------------------------------------------------------------------- may_hold

TEMPLATE = template(("get",), ("secrets", "pods/exec"), names="any")


def allowed_somewhere(r: Rule, t: RequestTemplate) -> bool:
    """What the authorizer says: does the rule allow any request of the template?"""
    return any(
        rule_allows(Request(verb, t.group, *t.split(res), NS, name), r)
        for verb in t.verbs
        for res in t.resources
        for name in (ANY_NAME, "", *r.resource_names)
    )


@pytest.mark.parametrize(
    ("r", "expected"),
    [
        pytest.param(Rule(("list",), ("",), ("secrets",)), False, id="another verb"),
        pytest.param(Rule(("get",), ("apps",), ("secrets",)), False, id="another group"),
        pytest.param(Rule(("get",), ("",), ("configmaps",)), False, id="another resource"),
        # ResourceMatches: "*/secrets" is the subresource "secrets" of any resource, never
        # the resource secrets itself.
        pytest.param(Rule(("get",), ("",), ("*/secrets",)), False, id="*/sub is no resource"),
        pytest.param(Rule(("get",), ("",), ("pods",)), False, id="the parent, not its sub"),
        pytest.param(Rule(("get",), ("",), ("*/exec",)), True, id="*/sub of any resource"),
        pytest.param(Rule(("get",), ("",), ("pods/exec",)), True, id="the subresource"),
        pytest.param(Rule((ALL,), (ALL,), ("secrets",)), True, id="wildcard verb and group"),
        pytest.param(Rule(("get",), ("",), (ALL,)), True, id="wildcard resource"),
        pytest.param(Rule(("get",), ("",), ("secrets",), ("one",)), True, id="named"),
    ],
)
def test_may_hold_is_false_only_where_the_authorizer_allows_nothing(
    r: Rule, expected: bool
) -> None:
    assert allowed_somewhere(r, TEMPLATE) is expected
    assert may_hold(frozenset({r}), klass(TEMPLATE)) is expected


# ------------------------------------------------------------- wildcards, bound rules


def test_a_wildcard_on_a_subresource_is_proven_by_a_request_for_it() -> None:
    # requestinfo.go splits .../pods/NAME/exec into Resource "pods", Subresource "exec";
    # the witness is that request, for a name no rule lists: the rule allows every object.
    (hit,) = evaluate(holder(*cluster_wide("wild", [rule(["*"], ["pods/exec"])])), WILD)
    assert (hit.scope, hit.held, hit.names, hit.resource) == (
        CLUSTER_WIDE,
        True,
        EVERY_NAME,
        "pods/exec",
    )
    w = hit.witness
    assert (w.resource, w.subresource, w.name) == ("pods", "exec", ANY_NAME)
    assert rule_allows(w, hit.grants[0].rule)


def test_a_wildcard_rule_no_request_can_match_does_not_stop_the_search() -> None:
    # "pods/" is stored as written, but no request has it as its resource: requestinfo.go
    # drops empty path segments, so the combined resource is "pods" and ResourceMatches
    # finds nothing. The role's next rule is the wildcard that counts.
    h = holder(*cluster_wide("wild", [rule(["*"], ["pods/"]), rule(["*"], ["configmaps"])]))
    (hit,) = evaluate(h, WILD)
    assert hit.resource == "configmaps"


def test_a_rule_with_no_wildcard_beside_a_bounded_wildcard_holds_no_wildcard() -> None:
    # The holder's only wildcard is bounded by a name; "get secrets" beside it has no "*"
    # in its verbs or resources, so it is no wildcard rule however it is placed.
    rules = [rule(["get"], ["secrets"]), rule(["*"], ["configmaps"], names=["x"])]
    assert evaluate(holder(*cluster_wide("mixed", rules)), WILD) == []


def test_wildcards_bound_in_two_namespaces_are_reported_in_each() -> None:
    h = holder(
        *in_namespace("wild-a", TEAM, [rule(["*"], ["configmaps"])]),
        *in_namespace("wild-b", "team-b", [rule(["*"], ["configmaps"])]),
    )
    assert scopes(evaluate(h, WILD)) == [(TEAM, True), ("team-b", True)]


def test_a_wildcard_held_cluster_wide_is_not_repeated_in_the_holders_namespaces() -> None:
    h = holder(*SOMEWHERE, *cluster_wide("wild", [rule(["*"], ["configmaps"])]))
    assert scopes(evaluate(h, WILD)) == [(CLUSTER_WIDE, True)]
