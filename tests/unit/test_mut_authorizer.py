"""Non-resource URL grants as kube-apiserver matches them (pkg/apis/rbac/v1
evaluation_helpers.go NonResourceURLMatches: ``strings.TrimRight(ruleURL, "*")``).

Found by ``make mutation`` (tests/mutation/): no grant ended in a letter before its star,
so trimming more than stars went unnoticed. ``/logs/nodeX*`` (kube-apiserver serves its
host's /var/log under /logs/) must not widen to every path under ``/logs/node``.
"""

from __future__ import annotations

import pytest

from kubepci.analysis.authorizer import Rule, non_resource_url_matches

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
