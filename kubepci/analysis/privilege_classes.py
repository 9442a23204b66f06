"""Which privilege classes (catalogue/privileges.yaml) a holder of rules has, and where.

A *holder* is anything rules reach: an identity through its bindings, a role it could
bind, or "any rule" after an escalation. Each class is a set of authorization requests,
answered by :mod:`kubepci.analysis.authorizer` exactly as the API server would; this
module only chooses the requests (names and namespaces) to ask.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from kubepci.analysis.authorizer import ALL, Grant, Request, Rule, rule_allows
from kubepci.catalogue.privileges import Alternative, PrivilegeClass, RequestTemplate

# A name no rule lists: a request for it is allowed only by rules without resourceNames,
# i.e. "for every object".
ANY_NAME = "kubepci-probe-any-name"
# A namespace no RoleBinding lives in: what is allowed there, ClusterRoleBindings allow in
# every namespace.
ANY_NAMESPACE = "kubepci-probe-any-namespace"
CLUSTER_WIDE = ""


class Holder(Protocol):
    """Rules reaching one holder, per request namespace ("" = cluster-scoped)."""

    masters: bool

    def grants(self, namespace: str) -> list[Grant]: ...

    def namespaces(self) -> Iterable[str]: ...


@dataclass(frozen=True)
class Names:
    """The object names a grant covers: every name, or the listed ones."""

    every: bool
    listed: frozenset[str] = frozenset()

    @property
    def some(self) -> bool:
        return self.every or bool(self.listed)


NO_NAMES = Names(False)
EVERY_NAME = Names(True)


@dataclass(frozen=True)
class Hit:
    """A class (or only its gain) found for a holder in one scope."""

    privilege: PrivilegeClass
    scope: str  # CLUSTER_WIDE, or the namespace it holds in
    held: bool  # False: only some names are granted; the gain follows them
    names: Names
    resource: str  # the key request's resource ("res" or "res/sub") that granted
    grants: tuple[Grant, ...]
    witness: Request

    @property
    def scope_text(self) -> str:
        return "cluster-wide" if self.scope == CLUSTER_WIDE else f"in namespace {self.scope}"


def _request(template: RequestTemplate, verb: str, resource: str, namespace: str, name: str):
    res, _, sub = resource.partition("/")
    ns = CLUSTER_WIDE if template.scope == "cluster" else namespace
    return Request(verb, template.group, res, sub, ns, name)


# Verbs whose requests on a resource itself never carry an object name (requestinfo.go:
# a create or deletecollection names no object in its path), so resourceNames can never
# grant them. On a subresource the path names the parent object (POST
# .../serviceaccounts/NAME/token, .../pods/NAME/exec): there the name counts.
NAMELESS_VERBS = frozenset({"create", "deletecollection"})


def nameless(verb: str, resource: str) -> bool:
    return verb in NAMELESS_VERBS and "/" not in resource


def _names_to_try(template: RequestTemplate, verb: str, resource: str) -> tuple[str, ...]:
    if template.names == "none" or nameless(verb, resource):
        return ("",)
    if template.names in ("unbounded", "any"):
        return (ANY_NAME,)
    return tuple(template.names)


@dataclass
class _Answer:
    names: Names = NO_NAMES
    resource: str = ""
    grants: list[Grant] = field(default_factory=list)
    witness: Request | None = None


def answer(holder: Holder, template: RequestTemplate, namespace: str) -> _Answer:
    """Every name the holder may use for the template's requests in ``namespace``.

    The template is answered for each verb and resource it lists; the first one that is
    granted for every name wins (the witness), else the names rules list are collected.
    """
    out = _Answer()
    ns = CLUSTER_WIDE if template.scope == "cluster" else namespace
    # Only rules that could match any of the template's verbs in its group matter; the
    # authorizer's own matching below decides.
    verbs = set(template.verbs)
    grants = [
        g
        for g in holder.grants(ns)
        if (ALL in g.rule.verbs or verbs.intersection(g.rule.verbs))
        and (ALL in g.rule.api_groups or template.group in g.rule.api_groups)
    ]
    if not grants and not holder.masters:
        return out  # nothing could match: most holders, for most classes
    listed: set[str] = set()
    for resource in template.resources:
        for verb in template.verbs:
            for name in _names_to_try(template, verb, resource):
                request = _request(template, verb, resource, namespace, name)
                if holder.masters:
                    return _Answer(EVERY_NAME, resource, [], request)
                grant = next((g for g in grants if rule_allows(request, g.rule)), None)
                if grant is not None:
                    return _Answer(EVERY_NAME, resource, [grant], request)
            if template.names in ("unbounded", "any") and not nameless(verb, resource):
                for g in grants:
                    for name in g.rule.resource_names:
                        request = _request(template, verb, resource, namespace, name)
                        if name not in listed and rule_allows(request, g.rule):
                            listed.add(name)
                            out.grants.append(g)
                            out.resource = out.resource or resource
                            out.witness = out.witness or request
    out.names = Names(False, frozenset(listed))
    return out


def _satisfied(template: RequestTemplate, names: Names) -> bool:
    if template.names == "unbounded":
        return names.every
    return names.some


def _wildcards(holder: Holder, privilege: PrivilegeClass) -> list[Hit]:
    """Rules with "*" verbs or resources, per scope, each with a request it allows."""
    hits: list[Hit] = []
    for namespace in [ANY_NAMESPACE, *sorted(holder.namespaces())]:
        for grant in holder.grants(namespace):
            rule = grant.rule
            # A wildcard limited to named objects is bounded by the names.
            if not (ALL in rule.verbs or ALL in rule.resources) or not rule.api_groups:
                continue
            if rule.resource_names:
                continue
            if holder.masters:
                break
            verb = "kubepci-any-verb" if ALL in rule.verbs else rule.verbs[0]
            group = "kubepci.invalid" if ALL in rule.api_groups else rule.api_groups[0]
            resource = "kubepci-any" if ALL in rule.resources else rule.resources[0]
            res, _, sub = resource.partition("/")
            witness = Request(verb, group, res, sub, namespace, ANY_NAME)
            if not rule_allows(witness, rule):
                continue
            scope = CLUSTER_WIDE if namespace == ANY_NAMESPACE else namespace
            hits.append(Hit(privilege, scope, True, EVERY_NAME, resource, (grant,), witness))
            break
        if hits and hits[0].scope == CLUSTER_WIDE:
            break
    if holder.masters:
        witness = Request("kubepci-any-verb", "kubepci.invalid", "kubepci-any", "", ANY_NAMESPACE)
        return [Hit(privilege, CLUSTER_WIDE, True, EVERY_NAME, "kubepci-any", (), witness)]
    return hits


def holder_rules(holder: Holder) -> frozenset[Rule]:
    """Every distinct rule reaching the holder, in any scope."""
    return frozenset(
        g.rule for ns in [ANY_NAMESPACE, *holder.namespaces()] for g in holder.grants(ns)
    )


def _rule_may_allow(rule: Rule, template: RequestTemplate) -> bool:
    """Could this one rule allow one of the template's requests? (A necessary condition
    of rule_allows, ignoring names and namespaces.)"""
    if not (ALL in rule.verbs or not set(rule.verbs).isdisjoint(template.verbs)):
        return False
    if not (ALL in rule.api_groups or template.group in rule.api_groups):
        return False
    for resource in template.resources:
        _, _, sub = resource.partition("/")
        if ALL in rule.resources or resource in rule.resources:
            return True
        if sub and f"*/{sub}" in rule.resources:
            return True
    return False


def may_hold(rules: frozenset[Rule], privilege: PrivilegeClass) -> bool:
    """False only when no rule could allow any request of the class: then evaluating it
    can find nothing. Every request the authorizer allows is allowed by one rule."""
    if privilege.wildcard_rules:
        return any(ALL in r.verbs or ALL in r.resources for r in rules)
    return any(
        _rule_may_allow(rule, template)
        for alt in privilege.any_of
        for template in alt.all_of
        for rule in rules
    )


def evaluate(holder: Holder, privilege: PrivilegeClass) -> list[Hit]:
    """The scopes where the holder has the class (or, via named grants, its gain)."""
    if privilege.wildcard_rules:
        return _wildcards(holder, privilege)
    hits: list[Hit] = []
    for alternative in privilege.any_of:
        hits.extend(_alternative(holder, privilege, alternative))
    return hits


def _alternative(holder: Holder, privilege: PrivilegeClass, alt: Alternative) -> list[Hit]:
    scopes = [ANY_NAMESPACE, *sorted(holder.namespaces())] if alt.namespaced else [CLUSTER_WIDE]
    hits: list[Hit] = []
    for namespace in scopes:
        key = alt.key
        key_answer = answer(holder, key, namespace)
        if not key_answer.names.some:
            continue
        grants = list(key_answer.grants)
        others_ok = True
        for template in alt.all_of:
            if template is key:
                continue
            other = answer(holder, template, namespace)
            if not _satisfied(template, other.names):
                others_ok = False
                break
            grants.extend(other.grants)
        if not others_ok or key_answer.witness is None:
            continue
        held = _satisfied(key, key_answer.names)
        if not held and privilege.gains is None:
            continue
        scope = CLUSTER_WIDE if namespace == ANY_NAMESPACE else namespace
        hits.append(
            Hit(
                privilege,
                scope,
                held,
                key_answer.names,
                key_answer.resource,
                tuple(grants),
                key_answer.witness,
            )
        )
        if held and namespace == ANY_NAMESPACE:
            break  # held in every namespace: a per-namespace repeat adds nothing
    return hits
