"""Kubernetes' own RBAC grants, and the judge that sets a live grant aside only when it is one.

A cluster starts with the API server's bootstrap policy and, on kubeadm clusters, kubeadm's
grants. Those are not the operator's choices, so the PCI checks set them aside, but only
when the live object is *exactly* the upstream default for the server's version: the same
binding name (and namespace), the same roleRef, no subject beyond the default ones, and a
role no broader than the default role. Labels, annotations and names are never provenance:
anyone can label a binding ``kubernetes.io/bootstrapping: rbac-defaults``.

The data is generated from the Kubernetes source (``kubepci/catalogue/default_policy``,
see generate.py there); nothing here reads a cluster or the network.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from itertools import product
from types import MappingProxyType
from typing import Any, NamedTuple

Obj = dict[str, Any]
RoleLookup = Callable[[str, str, str], list[Obj] | None]
"""``(role_kind, namespace, name) -> the live role's rules``, or None when it does not exist.
The namespace is "" for a ClusterRole."""

RBAC_GROUP = "rbac.authorization.k8s.io"
BINDING_KINDS = ("ClusterRoleBinding", "RoleBinding")
ROLE_KINDS = ("ClusterRole", "Role")
_LISTS = {"clusterroles": "ClusterRole", "clusterrolebindings": "ClusterRoleBinding",
          "roles": "Role", "rolebindings": "RoleBinding"}  # fmt: skip
_DATA_FILE = re.compile(r"^(kubernetes|kubeadm)-v(\d+)\.(\d+)\.json$")
_SERVER_VERSION = re.compile(r"^v?(\d+)\.(\d+)")
_WILDCARD = "*"

Version = tuple[int, int]
Key = tuple[str, str, str]  # kind, namespace ("" when cluster-scoped), name


@dataclass(frozen=True)
class DefaultObject:
    """One role or binding of the default policy, as the generator recorded it."""

    kind: str
    namespace: str
    name: str
    provenance: str  # "kubernetes v1.35" or "kubeadm v1.35"
    set_aside: bool  # False: upstream creates it, yet a PCI check must still judge it
    reason: str  # why it is not set aside; "" when it is
    source: str  # the Go file and line kubeadm creates it at; "" for the golden files
    body: Mapping[str, Any] = field(repr=False)  # rules/aggregationRule or roleRef/subjects

    @property
    def rules(self) -> list[Obj]:
        return list(self.body.get("rules") or [])


@dataclass(frozen=True)
class DefaultPolicy:
    """The default grants for one Kubernetes minor version (possibly none)."""

    version: str  # the shipped minor judged against, "1.35"; "" when none applies
    exact: bool  # the data is for the server's own minor version
    note: str  # which data was used, worded for the report's limitations
    objects: Mapping[Key, DefaultObject] = field(repr=False)

    def lookup(self, kind: str, namespace: str, name: str) -> DefaultObject | None:
        return self.objects.get((kind, namespace if kind in ("Role", "RoleBinding") else "", name))

    def binding_verdict(self, kind: str, binding: Obj, roles: RoleLookup) -> tuple[bool, str]:
        """Whether the live binding is exactly a set-aside default, and if not, why not."""
        # A listed object always has a name, a namespaced one its namespace (the trimmer
        # keeps both: kubepci/access/trim.py _meta).
        meta = binding["metadata"]
        namespace = str(meta["namespace"]) if kind == "RoleBinding" else ""
        name = str(meta["name"])
        default = self.lookup(kind, namespace, name) if kind in BINDING_KINDS else None
        if default is None:
            return False, f"no default {kind} named {name!r} in {self._where()}"
        if not default.set_aside:
            return False, f"{default.provenance} creates it, but it is judged: {default.reason}"
        ref = _role_ref(binding.get("roleRef") or {})
        if ref != _role_ref(default.body["roleRef"]):
            return False, f"its roleRef {ref} is not the default {default.body['roleRef']}"
        allowed = {_subject(s, namespace) for s in default.body.get("subjects") or []}
        extra = [s for s in binding.get("subjects") or [] if _subject(s, namespace) not in allowed]
        if extra:
            return False, f"it binds subjects the default does not: {extra}"
        # A RoleBinding's roleRef to a Role names a Role in the binding's own namespace.
        _, role_kind, role_name = ref
        role_ns = namespace if role_kind == "Role" else ""
        default_role = self.lookup(role_kind, role_ns, role_name)
        live_rules = roles(role_kind, role_ns, role_name)
        if default_role is None or live_rules is None:
            return False, f"its {role_kind} {role_name!r} is missing"
        if not covers(default_role.rules, live_rules):
            return False, f"its {role_kind} {role_name!r} grants more than the default"
        return True, f"exactly the {default.provenance} default"

    def is_default_binding(self, kind: str, binding: Obj, roles: RoleLookup) -> bool:
        """True only when the live binding is exactly a set-aside default grant: same name
        and namespace, same roleRef, every subject a default one, and the live role's rules
        no broader than the default role's."""
        return self.binding_verdict(kind, binding, roles)[0]

    def role_verdict(self, kind: str, role: Obj) -> tuple[bool, str]:
        """Whether the live role is a set-aside default no broader than it, and why not.

        An aggregated default (admin, edit, view) holds what the aggregation controller
        computes from the default roles alone, so one that also aggregates a CRD's or a
        hand-made ``aggregate-to-*`` role's rules is not default."""
        meta = role["metadata"]  # read directly, as in binding_verdict
        namespace = str(meta["namespace"]) if kind == "Role" else ""
        name = str(meta["name"])
        default = self.lookup(kind, namespace, name) if kind in ROLE_KINDS else None
        if default is None:
            return False, f"no default {kind} named {name!r} in {self._where()}"
        if not default.set_aside:
            return False, f"{default.provenance} creates it, but it is judged: {default.reason}"
        # An aggregationRule selecting anything else would pull other roles' rules in later.
        live, shipped = (_aggregation(r.get("aggregationRule")) for r in (role, default.body))
        if live and live != shipped:
            return False, "its aggregationRule selects roles the default does not"
        if not covers(default.rules, role.get("rules") or []):
            return False, "it grants more than the default"
        return True, f"exactly the {default.provenance} default"

    def is_default_role(self, kind: str, role: Obj) -> bool:
        """True only when the live role is a set-aside default and no broader than it."""
        return self.role_verdict(kind, role)[0]

    def _where(self) -> str:
        return f"the {self.version} default policy" if self.version else "any shipped policy"


# --- coverage: a port of Covers and ruleCovers in
# k8s.io/component-helpers/auth/rbac/validation/policy_comparator.go (v0.35.4), the check the
# API server's escalation guard (pkg/registry/rbac/validation/rule.go ConfirmNoEscalation)
# applies. Each live rule is broken down to one verb on one group/resource/name (or one
# non-resource URL), and each piece must be covered by a single default rule.


class _Rule(NamedTuple):
    verbs: tuple[str, ...]
    groups: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> _Rule:
        keys = ("verbs", "apiGroups", "resources", "resourceNames", "nonResourceURLs")
        return cls(*(tuple(str(v) for v in raw.get(k) or ()) for k in keys))


def covers(owner_rules: Iterable[Mapping[str, Any]], rules: Iterable[Mapping[str, Any]]) -> bool:
    """Whether ``owner_rules`` allow everything ``rules`` allow (no escalation)."""
    owners = [_Rule.of(r) for r in owner_rules]
    return all(any(_rule_covers(o, sub) for o in owners) for r in rules for sub in _breakdown(r))


def _breakdown(raw: Mapping[str, Any]) -> Iterator[_Rule]:
    # BreakdownRule: a rule with no group, resource or verb yields nothing, as it grants
    # nothing (the authorizer needs every one of them to match).
    r = _Rule.of(raw)
    for group, resource, verb in product(r.groups, r.resources, r.verbs):
        for name in r.names or ("",):
            yield _Rule((verb,), (group,), (resource,), (name,) if name else ())
    yield from (_Rule((verb,), urls=(url,)) for url, verb in product(r.urls, r.verbs))


def _resources_cover(owner: tuple[str, ...], wanted: tuple[str, ...]) -> bool:
    # resourceCoversAll: "*" covers every resource and subresource, "*/scale" every scale.
    return _WILDCARD in owner or all(
        path in owner or ("/" in path and "*/" + path.split("/", 1)[1] in owner) for path in wanted
    )


def _url_covers(owner: str, path: str) -> bool:
    # nonResourceURLCovers: exact, or a trailing "*" covering the prefix.
    return owner == path or (owner.endswith("*") and path.startswith(owner.rstrip("*")))


def _rule_covers(owner: _Rule, sub: _Rule) -> bool:
    verbs = _WILDCARD in owner.verbs or set(sub.verbs) <= set(owner.verbs)
    groups = _WILDCARD in owner.groups or set(sub.groups) <= set(owner.groups)
    urls = all(any(_url_covers(o, path) for o in owner.urls) for path in sub.urls)
    # A default rule naming objects covers only those names; a live rule naming none covers
    # every object, so only a default rule naming none covers it.
    named = not owner.names or (bool(sub.names) and set(sub.names) <= set(owner.names))
    return verbs and groups and _resources_cover(owner.resources, sub.resources) and urls and named


# --- normalisation the way the API server stores objects


def _role_ref(ref: Mapping[str, Any]) -> tuple[str, str, str]:
    # SetDefaults_ClusterRoleBinding/RoleBinding (pkg/apis/rbac/v1/defaults.go:28-37).
    return (str(ref.get("apiGroup") or RBAC_GROUP), str(ref.get("kind")), str(ref.get("name")))


def _subject(raw: Mapping[str, Any], binding_namespace: str) -> tuple[str, str, str, str]:
    # SetDefaults_Subject (pkg/apis/rbac/v1/defaults.go:38-48): a User or Group defaults to
    # the RBAC group, a ServiceAccount to "". A ServiceAccount without a namespace in a
    # RoleBinding is the binding's own (plugin/pkg/auth/authorizer/rbac/rbac.go appliesTo).
    kind, group, name = (str(raw.get(k) or "") for k in ("kind", "apiGroup", "name"))
    if kind == "ServiceAccount":
        return kind, group, name, str(raw.get("namespace") or binding_namespace)
    return kind, group or (RBAC_GROUP if kind in ("User", "Group") else ""), name, ""


def _aggregation(raw: Any) -> list[str] | None:
    """An aggregationRule's selectors in a comparable form; None when it selects nothing."""
    selectors = [(s.get("matchLabels") or {}, s.get("matchExpressions") or []) for s in
                 (raw or {}).get("clusterRoleSelectors") or []]  # fmt: skip
    return sorted(json.dumps(s, sort_keys=True) for s in selectors) or None


# --- loading the packaged data


@cache
def _shipped() -> Mapping[Version, tuple[str, ...]]:
    """Shipped minor versions -> their data files, "kubernetes" first."""
    found: dict[Version, list[str]] = {}
    for entry in resources.files("kubepci.catalogue").joinpath("default_policy").iterdir():
        match = _DATA_FILE.match(entry.name)
        if match:
            found.setdefault((int(match[2]), int(match[3])), []).append(entry.name)
    return {v: tuple(sorted(names, reverse=True)) for v, names in found.items()}


@cache
def _read(name: str) -> Obj:
    text = resources.files("kubepci.catalogue").joinpath("default_policy", name).read_text()
    data: Obj = json.loads(text)
    return data


def _objects(names: Iterable[str]) -> Mapping[Key, DefaultObject]:
    objects: dict[Key, DefaultObject] = {}
    meta = {"name", "namespace", "set_aside", "reason", "source"}
    for doc in (_read(n) for n in names):
        for list_key, kind in _LISTS.items():
            for raw in doc.get(list_key) or []:
                key = (kind, str(raw.get("namespace") or ""), str(raw["name"]))
                if key in objects:
                    raise ValueError(f"{key} appears in two default policy data sets")
                body = MappingProxyType({k: v for k, v in raw.items() if k not in meta})
                # The Kubernetes data sets everything aside; kubeadm's says per object.
                objects[key] = DefaultObject(
                    *key, str(doc["provenance"]), bool(raw.get("set_aside", True)),
                    str(raw.get("reason") or ""), str(raw.get("source") or ""), body,
                )  # fmt: skip
    return MappingProxyType(objects)


def _text(version: Version) -> str:
    return f"{version[0]}.{version[1]}"


@cache
def load_default_policy(server_version: str) -> DefaultPolicy:
    """The default policy for the server's major.minor ("v1.35.4" -> 1.35).

    With no data for that minor, the nearest lower shipped one, ``exact=False``; older than
    every shipped one (or unreadable), an empty policy that sets nothing aside.
    """
    shipped = _shipped()
    match = _SERVER_VERSION.match(server_version.strip())
    if not match:
        note = f"server version {server_version!r} is unreadable; no grant is set aside as default"
        return DefaultPolicy("", False, note, MappingProxyType({}))
    wanted = (int(match[1]), int(match[2]))
    lower = sorted(v for v in shipped if v <= wanted)
    if not lower:
        note = (
            f"no default RBAC policy ships for Kubernetes {_text(wanted)} or earlier (oldest: "
            f"{', '.join(_text(v) for v in sorted(shipped)[:1]) or 'none'}); no grant is set "
            "aside as Kubernetes' own"
        )
        return DefaultPolicy("", False, note, MappingProxyType({}))
    chosen = lower[-1]
    objects = _objects(shipped[chosen])
    origins = ", ".join(sorted({o.provenance for o in objects.values()}))
    if chosen == wanted:
        note = f"default grants judged against the Kubernetes {_text(chosen)} policy ({origins})"
    else:
        note = (
            f"no default RBAC policy ships for Kubernetes {_text(wanted)}; judged against "
            f"{_text(chosen)}, the nearest lower version ({origins}), so defaults added since "
            "are reported as the operator's grants"
        )
    return DefaultPolicy(_text(chosen), chosen == wanted, note, objects)
