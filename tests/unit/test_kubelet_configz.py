"""The optional nodes/proxy grant: its absence is a recorded limitation, never an error and
never a pass, and only when the API server confirms it (a SelfSubjectAccessReview).

Recorded answers (tests/data/kubelet/node-proxy-not-granted.json): the node proxy's 403 and
the review's "not allowed", for an identity holding only deploy/'s kubepci-auditor role.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubepci.access import node_proxy
from kubepci.access.api import ApiUnavailable, describe_status
from kubepci.analysis.kubelet_config import judge_configz
from kubepci.records.kubelet_configz import KUBELET_CONFIG_ROLE, NOT_GRANTED

DATA = Path(__file__).resolve().parents[1] / "data" / "kubelet"
DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "auditor-rbac.yaml"
RECORDED = json.loads((DATA / "node-proxy-not-granted.json").read_text())


def _configz(profile: str) -> dict[str, Any]:
    return {"config": json.loads((DATA / f"configz-{profile}.json").read_text())["kubeletconfig"]}


def _refused() -> dict[str, Any]:
    """A node's entry as ClusterSession.kubelet_configz records the recorded 403."""
    return dict(RECORDED["configz_error"])


class Reviews:
    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.calls = 0

    def __call__(self) -> Any:
        self.calls += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_recorded_refusal_reads_as_the_reader_reports_it() -> None:
    """The entry the session stores is what ApiReader makes of the real answer."""
    raw = RECORDED["configz_403"]
    assert describe_status(raw["status"], json.dumps(raw["body"]).encode()) == _refused()["error"]
    assert RECORDED["self_subject_access_review"]["spec"]["resourceAttributes"] == (
        node_proxy.NODE_PROXY
    )
    assert node_proxy.review_body()["spec"]["resourceAttributes"] == node_proxy.NODE_PROXY


def test_confirmed_absence_is_not_granted_asked_once() -> None:
    reviews = Reviews(RECORDED["self_subject_access_review"])
    marked = node_proxy.mark_not_granted({"a": _refused(), "b": _refused()}, reviews)
    assert reviews.calls == 1
    for entry in marked.values():
        assert entry["kind"] == NOT_GRANTED
        assert entry["review"] == {"allowed": False, "denied": False, "reason": ""}
    judgement = judge_configz(marked)
    assert judgement.errors == [] and judgement.findings == []
    assert judgement.not_granted == ["a", "b"]
    reason = judgement.not_granted_reason()
    assert KUBELET_CONFIG_ROLE in reason and "a, b" in reason
    assert "kubelet-anonymous-probe" in reason and "kubelet-read-only-port" in reason


@pytest.mark.parametrize(
    ("answer", "note"),
    [
        ({"status": {"allowed": True}}, "allows get nodes/proxy"),
        ({"status": {}}, "gave no decision"),
        ({}, "gave no decision"),
        (ApiUnavailable("403 forbidden: cannot create selfsubjectaccessreviews", 403), "failed"),
    ],
)
def test_unconfirmed_refusal_stays_an_error(answer: Any, note: str) -> None:
    """A 403 the API server does not confirm as its own (the kubelet's, say) is an error."""
    marked = node_proxy.mark_not_granted({"vm": _refused()}, Reviews(answer))
    assert "kind" not in marked["vm"]
    assert note in marked["vm"]["error"]
    judgement = judge_configz(marked)
    assert judgement.not_granted == [] and len(judgement.errors) == 1


def test_no_refusal_asks_nothing() -> None:
    reviews = Reviews(RECORDED["self_subject_access_review"])
    configz = {
        "vm": _configz("compliant"),
        "other": {"error": "502 server error: dial tcp: i/o timeout", "status": 502},
    }
    assert node_proxy.mark_not_granted(configz, reviews) == configz
    assert reviews.calls == 0


def test_findings_on_read_nodes_still_fail_beside_unread_ones() -> None:
    marked = node_proxy.mark_not_granted(
        {"read": _configz("noncompliant"), "unread": _refused()},
        Reviews(RECORDED["self_subject_access_review"]),
    )
    judgement = judge_configz(marked)
    assert judgement.not_granted == ["unread"]
    assert judgement.findings and {f.name for f in judgement.findings} == {"read"}


def test_compliant_configz_passes() -> None:
    judgement = judge_configz({"vm": _configz("compliant")})
    assert (judgement.findings, judgement.errors, judgement.not_granted) == ([], [], [])
    assert judgement.judged == ["vm"]


def test_role_file_keeps_the_grant_apart() -> None:
    """deploy/: the required role has no nodes/proxy; the optional one has only that."""
    roles = {
        d["metadata"]["name"]: d["rules"]
        for d in yaml.safe_load_all(DEPLOY.read_text())
        if d["kind"] == "ClusterRole"
    }
    assert roles[KUBELET_CONFIG_ROLE] == [
        {"apiGroups": [""], "resources": ["nodes/proxy"], "verbs": ["get"]}
    ]
    required = [r for r in roles["kubepci-auditor"] if "resources" in r]
    assert not [r for r in required if "nodes/proxy" in r["resources"]]


def test_a_long_list_of_unread_nodes_names_ten_and_counts_the_rest() -> None:
    """The manual reason names the first ten nodes the grant did not reach (in order),
    counts the rest, and says how many other nodes were read without a finding."""
    unread = {f"n{i:02}": {"kind": NOT_GRANTED, "error": "forbidden"} for i in range(12)}
    compliant = {
        "authentication": {"anonymous": {"enabled": False}},
        "authorization": {"mode": "Webhook"},
    }
    judgement = judge_configz({**unread, "read": {"config": compliant}})
    reason = judgement.not_granted_reason()
    assert (
        "configuration of n00, n01, n02, n03, n04, n05, n06, n07, n08, n09 and 2 more was "
        in reason
    )
    assert "read; read on 1 other node(s), no finding." in reason
    assert reason.endswith(
        "(port 10250) and kubelet-read-only-port (the default port 10255, assumed). Attest "
        "authentication.anonymous.enabled=false, authorization.mode=Webhook and readOnlyPort=0 "
        f"in each kubelet's configuration, or grant {KUBELET_CONFIG_ROLE}."
    )
    ten = judge_configz(dict(list(unread.items())[:10])).not_granted_reason()
    assert "n08, n09 was not read. The live" in ten


def test_every_node_read_is_judged() -> None:
    """Findings of every node are kept; anonymous left out of the configuration follows the
    kubelet's default (false: pkg/kubelet/apis/config/v1beta1/defaults.go), an absent mode
    is named as unknown."""
    opened = {
        "authentication": {"anonymous": {"enabled": True}},
        "authorization": {"mode": "Webhook"},
    }
    judgement = judge_configz({"a": {"config": opened}, "b": {"config": {"authentication": {}}}})
    assert [(f.name, f.detail) for f in judgement.findings] == [
        ("a", "kubelet authentication.anonymous.enabled=true"),
        ("b", "kubelet authorization.mode=?"),
    ]
    assert judgement.judged == ["a", "b"]
