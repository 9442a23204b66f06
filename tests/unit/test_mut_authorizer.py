"""Non-resource URL grants as kube-apiserver matches them (pkg/apis/rbac/v1
evaluation_helpers.go NonResourceURLMatches: ``strings.TrimRight(ruleURL, "*")``).

Found by ``make mutation`` (tests/mutation/): no grant ended in a letter before its star,
so trimming more than stars went unnoticed. ``/logs/nodeX*`` (kube-apiserver serves its
host's /var/log under /logs/) must not widen to every path under ``/logs/node``.

Also: a binding whose role does not exist is latent, not granting (pkg/registry/rbac/
validation/rule.go GetRoleReferenceRules returns an error, VisitRulesFor visits no rule),
and only such bindings are reported as dangling.
"""

from __future__ import annotations

import pytest

from kubepci.analysis.authorizer import Authorizer, Rule, non_resource_url_matches
from tests.builders import (
    cluster_role,
    cluster_role_binding,
    rbac_lists,
    role,
    role_binding,
    rule,
    subject_user,
)

GRANT = Rule(verbs=("get",), non_resource_urls=("/logs/nodeX*",))


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/logs/nodeX", True),
        ("/logs/nodeX/kubelet.log", True),
        ("/logs/nodeXX", True),
        ("/logs/node", False),
        ("/logs/node1/kubelet.log", False),
        ("/logs/nodex", False),  # paths are case-sensitive
    ],
)
def test_only_trailing_stars_are_trimmed(path: str, allowed: bool) -> None:
    assert non_resource_url_matches(GRANT, path) is allowed


def test_every_trailing_star_is_trimmed() -> None:
    rule = Rule(verbs=("get",), non_resource_urls=("/metrics**",))
    assert non_resource_url_matches(rule, "/metrics/cadvisor")
    assert not non_resource_url_matches(rule, "/metric")


def test_only_bindings_whose_role_is_missing_are_dangling() -> None:
    # GetRoleReferenceRules finds the ClusterRole and the Role in the binding's namespace;
    # a Role of the same name in another namespace does not exist for the binding.
    jane = [subject_user("jane")]
    authz = Authorizer.from_snapshot(
        rbac_lists(
            cluster_role("present", [rule(["get"], ["pods"])]),
            role("present-role", "payments", [rule(["get"], ["pods"])]),
            cluster_role_binding("bound", "present", jane),
            cluster_role_binding("latent", "absent", jane),
            role_binding("bound-role", "payments", "present-role", jane),
            role_binding("elsewhere", "web", "present-role", jane),
        )
    )
    assert sorted(b.name for b in authz.dangling()) == ["elsewhere", "latent"]
