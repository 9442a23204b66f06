"""Kubernetes' own default RBAC policy: the shipped data and the exact-match judge.

A grant is set aside only when it is exactly upstream's: these tests take every shipped
default at face value, then change one thing at a time (a subject, a verb, a resource, a
dropped resourceNames, a label-only fake) and expect the grant to be judged again.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubepci.analysis.defaults import DefaultPolicy, RoleLookup, covers, load_default_policy
from tests.builders import BOOTSTRAP, cluster_role, role, role_binding, rule
from tests.builders import cluster_role_binding as crb
from tests.builders import subject_group as group
from tests.builders import subject_sa as sa
from tests.builders import subject_user as user

Obj = dict[str, Any]
POLICY = load_default_policy("v1.35.4")
KCM = "system:kube-controller-manager"
GOMODCACHE = Path.home() / "go" / "pkg" / "mod"
DATA = resources.files("kubepci.catalogue").joinpath("default_policy")
LISTS = {"clusterroles": "ClusterRole", "clusterrolebindings": "ClusterRoleBinding",
         "roles": "Role", "rolebindings": "RoleBinding"}  # fmt: skip
SHIPPED = [
    (LISTS[key], entry)
    for origin in ("kubernetes", "kubeadm")
    for key, entries in json.loads(DATA.joinpath(f"{origin}-v1.35.json").read_text()).items()
    if key in LISTS
    for entry in entries
]
BINDINGS = [(kind, e) for kind, e in SHIPPED if kind.endswith("Binding")]
ROLES = [(kind, e) for kind, e in SHIPPED if not kind.endswith("Binding")]


def ident(case: tuple[str, Obj]) -> str:
    return f"{case[0]}/{case[1].get('namespace', '')}/{case[1]['name']}"


def live(kind: str, entry: Obj) -> Obj:
    """The API object a shipped entry stands for, labelled as the API server labels it."""
    metadata = {"name": entry["name"], "labels": BOOTSTRAP}
    metadata |= {"namespace": entry["namespace"]} if entry.get("namespace") else {}
    keep = ("rules", "aggregationRule", "roleRef", "subjects")
    return {"kind": kind, "metadata": metadata} | {k: entry[k] for k in keep if k in entry}


def roles(overrides: dict[tuple[str, str, str], list[Obj] | None] | None = None) -> RoleLookup:
    """A live-role lookup answering with the shipped default rules, ``overrides`` first."""
    shipped = {key: o.rules for key, o in POLICY.objects.items()}
    return lambda *key: (shipped | (overrides or {})).get(key)


def default_rules(kind: str, name: str, namespace: str = "") -> list[Obj]:
    found = POLICY.lookup(kind, namespace, name)
    assert found is not None
    return found.rules


def test_data_files_are_compact_sorted_and_name_their_sources() -> None:
    for origin in ("kubernetes", "kubeadm"):
        text = DATA.joinpath(f"{origin}-v1.35.json").read_text()
        doc = json.loads(text)
        assert text == json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n"
        assert (doc["version"], doc["provenance"]) == ("1.35", f"{origin} v1.35")
        assert doc["source"], "every data set names the Go files it came from"
    for _, entry in SHIPPED:
        assert not {"labels", "annotations", "metadata"} & set(entry), entry["name"]


def test_only_the_two_judged_kubeadm_grants_are_not_set_aside() -> None:
    held = {(k, e.get("namespace", ""), e["name"]) for k, e in SHIPPED if not e.get("set_aside", 1)}
    assert held == {
        ("ClusterRoleBinding", "", "kubeadm:cluster-admins"),
        ("RoleBinding", "kube-public", "kubeadm:bootstrap-signer-clusterinfo"),
        ("Role", "kube-public", "kubeadm:bootstrap-signer-clusterinfo"),
    }
    for kind, ns, name in held:
        found = POLICY.lookup(kind, ns, name)
        assert found and found.provenance == "kubeadm v1.35" and found.reason and found.source


@pytest.mark.skipif(not (GOMODCACHE / "k8s.io/kubernetes@v1.35.4").is_dir(), reason="no source")
def test_shipped_data_is_what_the_generator_makes_from_the_source() -> None:
    path = Path(__file__).parents[2] / "kubepci/catalogue/default_policy/generate.py"
    spec = importlib.util.spec_from_file_location("default_policy_generate", path)
    assert spec and spec.loader
    module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, text in module.build(GOMODCACHE).items():
        assert (path.parent / name).read_text() == text, f"{name} is stale: run generate.py"


@pytest.mark.parametrize("case", BINDINGS, ids=ident)
def test_every_shipped_binding_is_default_against_its_own_role(case: tuple[str, Obj]) -> None:
    kind, entry = case
    expected = entry.get("set_aside", True)
    assert POLICY.is_default_binding(kind, live(kind, entry), roles()) is expected


def kcm(*subjects: Any) -> Obj:
    return crb(KCM, KCM, subjects or [user(KCM)], labels=BOOTSTRAP)


def kcm_rules(*extra: Obj) -> list[Obj]:
    return default_rules("ClusterRole", KCM) + list(extra)


def r(verbs: str, resources: str = "", groups: str = "", urls: str = "", names: str = "") -> Obj:
    """A rule from space-separated lists: r("get list", "pods", names="a b")."""
    if urls:
        return rule(verbs.split(), urls=urls.split())
    return rule(
        verbs.split(), resources.split(), groups.split() or [""], names=names.split() or None
    )


EVENTS, RBAC = ["", "events.k8s.io"], "rbac.authorization.k8s.io"
JUDGED = [
    ("as shipped", kcm(), None, True),
    ("a narrower role", kcm(), kcm_rules()[:2], True),
    ("a user added", kcm(user(KCM), user("mallory")), None, False),
    ("a group added", kcm(user(KCM), group("system:authenticated")), None, False),
    ("a service account instead", kcm(sa("kcm", "kube-system")), None, False),
    ("an extra verb", kcm(), kcm_rules(rule(["create", "delete"], ["events"], EVENTS)), False),
    ("escalate", kcm(), kcm_rules(r("escalate", "clusterroles", RBAC)), False),
    ("an extra resource", kcm(), kcm_rules(r("get", "nodes")), False),
    ("an extra URL", kcm(), kcm_rules(r("get", urls="/debug/pprof/*")), False),
    # The lease rule names kube-controller-manager's own lock; unnamed, it is every lease.
    ("resourceNames dropped", kcm(), [x | {"resourceNames": None} for x in kcm_rules()], False),
    ("the role missing", kcm(), [], False),
]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "binding", "rules", "expected"), JUDGED, ids=[j[0] for j in JUDGED]
)
def test_controller_manager_binding_is_default_only_as_shipped(
    change: str, binding: Obj, rules: list[Obj] | None, expected: bool
) -> None:
    # [] stands for "the role does not exist"; the lookup answers None for it.
    overrides = {} if rules is None else {("ClusterRole", "", KCM): rules or None}
    assert POLICY.is_default_binding("ClusterRoleBinding", binding, roles(overrides)) is expected


SIGNER = "system:controller:bootstrap-signer"
CLUSTER_INFO = "kubeadm:bootstrap-signer-clusterinfo"
FAKES = [
    ("label-only binding to cluster-admin",
     crb("rbac-defaults-admin", "cluster-admin", [sa("default", "default")], labels=BOOTSTRAP)),
    ("cluster-admin with an extra subject",
     crb("cluster-admin", "cluster-admin", [group("system:masters"), sa("x", "default")])),
    ("a default name bound to another role",
     crb("system:basic-user", "cluster-admin", [group("system:authenticated")], labels=BOOTSTRAP)),
    ("kubeadm:cluster-admins as kubeadm makes it",
     crb("kubeadm:cluster-admins", "cluster-admin", [group("kubeadm:cluster-admins")])),
    ("a default RoleBinding copied elsewhere",
     role_binding(SIGNER, "default", SIGNER, [sa("bootstrap-signer", "kube-system")])),
    ("a namespace-less SA resolving to kube-public",
     role_binding(SIGNER, "kube-public", SIGNER, [sa("bootstrap-signer", None)])),
    ("kubeadm's anonymous cluster-info reader",
     role_binding(CLUSTER_INFO, "kube-public", CLUSTER_INFO, [user("system:anonymous")])),
]  # fmt: skip


@pytest.mark.parametrize(("what", "binding"), FAKES, ids=[f[0] for f in FAKES])
def test_labels_and_names_are_not_provenance(what: str, binding: Obj) -> None:
    kind = "RoleBinding" if binding["metadata"].get("namespace") else "ClusterRoleBinding"
    assert POLICY.is_default_binding(kind, binding, roles()) is False, what


def test_kubeadm_cluster_admins_is_recorded_but_not_set_aside() -> None:
    found = POLICY.lookup("ClusterRoleBinding", "", "kubeadm:cluster-admins")
    assert found is not None and not found.set_aside and "1.2.1" in found.reason
    binding = crb("kubeadm:cluster-admins", "cluster-admin", [group("kubeadm:cluster-admins")])
    ok, why = POLICY.binding_verdict("ClusterRoleBinding", binding, roles())
    assert not ok and "judged" in why


def test_subjects_and_role_refs_compare_as_the_api_defaults_them() -> None:
    # Go's kubeadm leaves apiGroup empty on its Group subjects; the API stores the RBAC group.
    bare = {"kind": "Group", "name": "system:bootstrappers:kubeadm:default-node-token"}
    binding = {"metadata": {"name": "kube-proxy", "namespace": "kube-system"},
               "roleRef": {"kind": "Role", "name": "kube-proxy"}, "subjects": [bare]}  # fmt: skip
    assert POLICY.is_default_binding("RoleBinding", binding, roles())
    other_group = binding | {"subjects": [bare | {"apiGroup": "example.com"}]}
    assert not POLICY.is_default_binding("RoleBinding", other_group, roles())
    other_ref = binding | {
        "roleRef": {"apiGroup": "example.com", "kind": "Role", "name": "kube-proxy"}
    }
    assert not POLICY.is_default_binding("RoleBinding", other_ref, roles())


@pytest.mark.parametrize("case", ROLES, ids=ident)
def test_every_shipped_role_is_default(case: tuple[str, Obj]) -> None:
    kind, entry = case
    assert POLICY.is_default_role(kind, live(kind, entry)) is entry.get("set_aside", True)


def test_roles_broadened_or_reaggregated_are_not_default() -> None:
    assert POLICY.is_default_role("ClusterRole", cluster_role(KCM, kcm_rules()))
    assert not POLICY.is_default_role(
        "ClusterRole", cluster_role(KCM, kcm_rules(rule(["*"], ["*"], ["*"])))
    )
    assert not POLICY.is_default_role("ClusterRole", cluster_role("my-admin", kcm_rules()))
    admin = cluster_role("admin", default_rules("ClusterRole", "admin"))
    assert POLICY.is_default_role("ClusterRole", admin)
    crd = cluster_role(
        "admin", [*default_rules("ClusterRole", "admin"), rule(["*"], ["widgets"], ["x.io"])]
    )
    assert not POLICY.is_default_role("ClusterRole", crd), "a CRD's rules aggregated into admin"
    selectors = {"clusterRoleSelectors": [{"matchLabels": {"team": "a"}}]}
    assert not POLICY.is_default_role("ClusterRole", admin | {"aggregationRule": selectors})
    reader = "extension-apiserver-authentication-reader"
    assert POLICY.is_default_role("Role", role(reader, "kube-system", []))
    assert not POLICY.is_default_role("Role", role(reader, "default", []))


COVERAGE = [
    ("wildcard verb", [r("*", "pods")], r("get delete", "pods"), True),
    ("wildcard resource covers subresources", [r("get", "*")], r("get", "pods/log"), True),
    ("*/scale covers a scale", [r("get", "*/scale", "apps")], r("get", "x/scale", "apps"), True),
    ("pods does not cover pods/exec", [r("get", "pods")], r("get", "pods/exec"), False),
    ("unnamed covers named", [r("get", "secrets")], r("get", "secrets", names="a"), True),
    ("named, its own", [r("get", "secrets", names="a b")], r("get", "secrets", names="b"), True),
    ("named, not others", [r("get", "secrets", names="a")], r("get", "secrets", names="c"), False),
    ("named does not cover unnamed", [r("get", "secrets", names="a")], r("get", "secrets"), False),
    ("url prefix", [r("get", urls="/healthz*")], r("get", urls="/healthz/etcd"), True),
    ("url exact only", [r("get", urls="/healthz")], r("get", urls="/healthz/etcd"), False),
    ("split over rules", [r("get", "pods"), r("list", "pods")], r("get list", "pods"), True),
    ("another group", [r("get", "pods")], r("get", "pods", "apps"), False),
    ("wildcard group", [r("get", "pods", "*")], r("get", "pods", "apps"), True),
]  # fmt: skip


@pytest.mark.parametrize(
    ("what", "owner", "rule_", "expected"), COVERAGE, ids=[c[0] for c in COVERAGE]
)
def test_coverage_follows_the_api_servers_escalation_check(
    what: str, owner: list[Obj], rule_: Obj, expected: bool
) -> None:
    assert covers(owner, [rule_]) is expected, what


PLAIN_ROLES = [e for _, e in ROLES if e["rules"] and all("*" not in x["verbs"] for x in e["rules"])]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(PLAIN_ROLES), st.data())
def test_a_subset_of_a_default_role_is_covered_a_new_verb_never(
    entry: Obj, data: st.DataObject
) -> None:
    rules = entry["rules"]
    subset = data.draw(st.lists(st.sampled_from(rules), max_size=len(rules)))
    assert covers(rules, subset)
    known = {v for x in rules for v in x["verbs"]}
    verb = data.draw(
        st.text("abcdefghijklmnopqrstuvwxyz", min_size=1).filter(lambda v: v not in known)
    )
    added = data.draw(st.sampled_from(rules)) | {"verbs": [verb]}
    assert not covers(rules, [*subset, added])


VERSIONS = [
    ("v1.35.4", "1.35", True),
    ("1.35", "1.35", True),
    ("v1.35.0+k3s1", "1.35", True),
    ("v1.36.1", "1.35", False),
    ("v2.0.0", "1.35", False),
    ("v1.20.15", "", False),
    ("garbage", "", False),
]


@pytest.mark.parametrize(("server", "used", "exact"), VERSIONS)
def test_version_selection(server: str, used: str, exact: bool) -> None:
    policy = load_default_policy(server)
    assert isinstance(policy, DefaultPolicy) and policy.note
    assert (policy.version, policy.exact) == (used, exact)
    if not used:
        assert not policy.objects and not policy.is_default_binding(
            "ClusterRoleBinding", kcm(), roles()
        )
        return
    assert used in policy.note and policy.lookup("ClusterRoleBinding", "", "cluster-admin")
    assert policy.is_default_binding("ClusterRoleBinding", kcm(), roles())
    assert exact or "nearest lower" in policy.note


# ------------------------------------------------------------- the data and the words
def test_one_object_in_two_data_sets_is_refused() -> None:
    from kubepci.analysis.defaults import _objects

    with pytest.raises(ValueError) as twice:
        _objects(["kubeadm-v1.35.json", "kubeadm-v1.35.json"])
    assert str(twice.value) == (
        "('ClusterRole', '', 'kubeadm:get-nodes') appears in two default policy data sets"
    )


def test_why_a_role_is_not_default_word_for_word() -> None:
    admin_rules = default_rules("ClusterRole", "admin")
    admin = cluster_role("admin", admin_rules)
    expressions = {
        "clusterRoleSelectors": [
            {
                "matchLabels": {"rbac.authorization.k8s.io/aggregate-to-admin": "true"},
                "matchExpressions": [{"key": "team", "operator": "Exists"}],
            }
        ]
    }
    assert POLICY.role_verdict("ClusterRole", admin | {"aggregationRule": expressions}) == (
        False,
        "its aggregationRule selects roles the default does not",
    )
    broader = cluster_role("admin", [*admin_rules, rule(["*"], ["widgets"], ["x.io"])])
    assert POLICY.role_verdict("ClusterRole", broader) == (False, "it grants more than the default")
    # A binding's name is no role's: only role kinds are looked up.
    coredns = cluster_role("system:coredns", [])
    assert POLICY.role_verdict("ClusterRoleBinding", coredns) == (
        False,
        "no default ClusterRoleBinding named 'system:coredns' in the 1.35 default policy",
    )


def test_selectors_compare_whatever_the_order_of_their_labels() -> None:
    from kubepci.analysis.defaults import _aggregation

    one = {"clusterRoleSelectors": [{"matchLabels": {"b": "1", "a": "2"}}]}
    other = {"clusterRoleSelectors": [{"matchLabels": {"a": "2", "b": "1"}}]}
    assert _aggregation(one) == _aggregation(other) == ['[{"a": "2", "b": "1"}, []]']
    assert _aggregation({"clusterRoleSelectors": []}) is None


def test_objects_read_from_a_data_set_directly() -> None:
    # load_default_policy is cached (and loaded when this module is imported): read the
    # data set again so that the reading itself is what is tested.
    from kubepci.analysis.defaults import _objects

    objects = _objects(["kubeadm-v1.35.json", "kubernetes-v1.35.json"])
    admins = objects[("ClusterRoleBinding", "", "kubeadm:cluster-admins")]
    assert (admins.provenance, admins.set_aside, admins.source) == (
        "kubeadm v1.35",
        False,
        "cmd/kubeadm/app/phases/kubeconfig/kubeconfig.go:663",
    )
    assert admins.reason.startswith("kubeadm binds cluster-admin")
    assert set(admins.body) == {"roleRef", "subjects"}
    proxy = objects[("Role", "kube-system", "kube-proxy")]
    assert (proxy.set_aside, proxy.reason, set(proxy.body)) == (True, "", {"rules"})
    admin = objects[("ClusterRole", "", "admin")]
    assert (admin.provenance, admin.set_aside, admin.reason, admin.source) == (
        "kubernetes v1.35",
        True,
        "",
        "",
    )


def test_coverage_edges_of_the_escalation_check() -> None:
    from kubepci.analysis.defaults import _resources_cover, _subject, _url_covers

    # resourceCoversAll: "*/" and everything after the first "/".
    assert _resources_cover(("*/y/z",), ("x/y/z",))
    assert not _resources_cover(("*/z",), ("x/y/z",))
    # nonResourceURLCovers trims only the trailing stars.
    assert not _url_covers("/apiX*", "/api/foo")
    assert _url_covers("/api*", "/api/foo")
    # A rule naming resourceNames covers only those names, never the unnamed request.
    assert not covers([rule(["get"], ["secrets"], names=["XXXX"])], [rule(["get"], ["secrets"])])
    assert not covers([rule(["get"], ["secrets"], names=[""])], [rule(["get"], ["secrets"])])
    # SetDefaults_Subject and the binding namespace of a ServiceAccount.
    sa_subject = {"kind": "ServiceAccount", "name": "a", "namespace": "x"}
    assert _subject(sa_subject, "y") == ("ServiceAccount", "", "a", "x")
    assert _subject({"kind": "ServiceAccount", "name": "a"}, "y") == (
        "ServiceAccount",
        "",
        "a",
        "y",
    )
    rbac = "rbac.authorization.k8s.io"
    assert _subject({"kind": "User", "name": "u"}, "y") == ("User", rbac, "u", "")
    assert _subject({"kind": "Group", "name": "g"}, "") == ("Group", rbac, "g", "")
    assert _subject({"kind": "Other", "name": "o"}, "") == ("Other", "", "o", "")
