"""CSRs the list no longer shows, judged from the API server audit log (PCI 1.3.2).

Found by ``make mutation`` (tests/mutation/): which audit events count (the stage, the
response code at both ends of 2xx), a CSR still listed ahead of others in the log, a
denial recorded as the approval's condition, and the evidence lines of the recorded
noncompliant cluster were never asserted in full. The events are the recorded ones
(tests/data/identity/noncompliant/audit-csr-writes.json, audit.k8s.io/v1 at the Metadata
level) or, where the fixtures plant nothing, shaped like them.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from kubepci.analysis import csr_history
from tests.unit.test_certificates import CONTROLLER, LISTED, issued_to

Obj = dict[str, Any]
RECORDED = json.loads(
    (
        Path(__file__).parents[1] / "data" / "identity" / "noncompliant" / "audit-csr-writes.json"
    ).read_text()
)
SIGNER_SA = "system:serviceaccount:kube-system:certificate-controller"


def judged(events: list[Obj], listed: set[str] | None = None) -> csr_history.HistoryJudgement:
    lives, _unnamed = csr_history.lifecycles(events)
    return csr_history.judge(lives, listed or set())


def test_the_recorded_noncompliant_log_says_what_happened_to_each_csr() -> None:
    history = judged(RECORDED)
    assert history.judged == [
        "kubepci-fixture-fake-node: finding (from the API server audit log: filed by jane at "
        "2026-12-01T10:26:26.854277Z, approval written by kubernetes-super-admin at "
        f"2026-12-01T10:26:26.951559Z, status written by {SIGNER_SA} at "
        "2026-12-01T10:26:26.961973Z; no longer listed)",
        "kubepci-fixture-jane: finding (from the API server audit log: filed by "
        "kubernetes-super-admin at 2026-12-01T10:26:27.548015Z, approval written by "
        "kubernetes-super-admin at 2026-12-01T10:26:27.629667Z, status written by "
        f"{SIGNER_SA} at 2026-12-01T10:26:27.636827Z; no longer listed)",
        "kubepci-fixture-masters: approval written, no certificate (from the API server audit "
        "log: filed by kubernetes-super-admin at 2026-12-01T10:26:27.799848Z, approval "
        "written by kubernetes-super-admin at 2026-12-01T10:26:27.927594Z; no longer listed)",
    ]
    assert history.kubelet_assumed == [
        "csr-924fd: auto-approved by the certificate-controller (kubelet client requests "
        "only; filer not in the log) (from the API server audit log: approval written by "
        f"{SIGNER_SA} at 2026-12-01T10:26:15.683807Z, status written by {SIGNER_SA} at "
        "2026-12-01T10:26:15.689607Z; no longer listed)"
    ]


def test_a_csr_still_listed_is_left_to_the_list_and_the_others_are_judged() -> None:
    # csr-924fd comes first in the log: setting it aside must not end the judgement.
    history = judged(RECORDED, listed={"csr-924fd"})
    assert history.kubelet_assumed == []
    assert [line.split(":")[0] for line in history.judged] == [
        "kubepci-fixture-fake-node",
        "kubepci-fixture-jane",
        "kubepci-fixture-masters",
    ]


def test_a_deleted_csr_is_judged_though_a_listed_one_has_its_name() -> None:
    history = judged(issued_to("reused", "jane"), listed={"reused"})
    (line,) = history.judged
    assert line.endswith(f"deleted by {CONTROLLER} at 2026-12-01T09:30:00Z)")


def _filing_of_jane() -> list[Obj]:
    return issued_to("jane-cert", "jane", ("system:authenticated",))


@pytest.mark.parametrize(
    ("change", "counts"),
    [
        ({}, True),
        ({"stage": "ResponseStarted"}, False),
        ({"stage": "RequestReceived"}, False),
        ({"stage": None}, True),  # no stage written: a completed request
        ({"responseStatus": {"code": 201}}, True),
        ({"responseStatus": {"code": 299}}, True),
        ({"responseStatus": {"code": 300}}, False),
        ({"responseStatus": {"code": 199}}, False),
        ({"responseStatus": {"code": 409}}, False),
        ({"responseStatus": {}}, False),
        ({"responseStatus": None}, False),
        ({"requestURI": None}, True),
    ],
)
def test_which_approvals_count(change: Obj, counts: bool) -> None:
    events = copy.deepcopy(_filing_of_jane())
    approval = events[1]
    for key, value in change.items():
        if value is None:
            approval.pop(key, None)
        else:
            approval[key] = value
    found = bool(judged(events).findings)
    assert found is counts


def test_an_approval_that_records_a_denial_grants_nothing() -> None:
    events = _filing_of_jane()
    events[1]["requestObject"] = {"status": {"conditions": [{"type": "Denied"}]}}
    history = judged(events)
    assert history.findings == []
    assert history.judged[0].startswith("jane-cert: approval written, no certificate")


def test_an_approval_that_records_approved_is_a_grant() -> None:
    events = _filing_of_jane()
    events[1]["requestObject"] = {"status": {"conditions": [{"type": "Approved"}]}}
    (finding,) = judged(events).findings
    assert finding.name == "jane-cert"


def test_a_request_level_log_names_the_csr_and_says_finding() -> None:
    node_csr, _ = LISTED["fake node filed by a person"]
    spec = {k: node_csr["spec"][k] for k in ("request", "signerName", "usages")}
    events = issued_to("full", "jane", ("system:authenticated",))
    events[0]["requestObject"] = {"metadata": {"name": "full"}, "spec": spec}
    history = judged(events)
    (finding,) = history.findings
    assert finding.name == "full"
    (line,) = history.judged
    assert line.startswith("full: finding (from the API server audit log: filed by jane at ")


def test_a_request_level_log_of_a_kubelet_renewal_says_no_finding() -> None:
    own, _ = LISTED["kubelet renewing its own certificate"]
    spec = {k: own["spec"][k] for k in ("request", "signerName", "usages")}
    events = issued_to("own", "system:node:n1", ("system:nodes", "system:authenticated"))
    events[0]["requestObject"] = {"metadata": {"name": "own"}, "spec": spec}
    history = judged(events)
    assert history.findings == []
    (line,) = history.judged
    assert line.startswith(
        "own: no finding (from the API server audit log: filed by system:node:n1"
    )


def _event(verb: str, name: str = "", sub: str = "", **extra: Any) -> Obj:
    """An audit.k8s.io/v1 event of a successful CSR write, as the API server logs it."""
    event: Obj = {
        "stage": "ResponseComplete",
        "verb": verb,
        "objectRef": {"resource": "certificatesigningrequests", "name": name, "subresource": sub},
        "responseStatus": {"code": 201 if verb == "create" else 200},
        "user": {"username": "jane", "groups": ["dev", "system:authenticated"]},
        "stageTimestamp": f"t-{verb}-{name}-{sub}",
    }
    event.update(extra)
    return event


def test_lifecycles_follow_each_csr_through_the_log() -> None:
    """Every kind of write, in log order: events of other resources and writes that are
    no lifecycle step are passed over; a name comes from the request body when the
    objectRef has none; a create without any name is an unnamed filing; the request
    received time stands in for a missing stage time; approvals accumulate their
    conditions; a CSR filed again under its name starts a new lifecycle."""
    admin = {"username": "admin", "groups": ["system:masters"]}
    signer = {"username": SIGNER_SA, "groups": []}
    spec = {"request": "LS0t", "signerName": "kubernetes.io/kube-apiserver-client"}
    events = [
        {**_event("create", "a"), "objectRef": {"resource": "pods", "name": "a"}},
        {k: v for k, v in _event("create", "a").items() if k != "stageTimestamp"}
        | {"requestReceivedTimestamp": "received-a"},
        _event("create", requestObject={"metadata": {"name": "b"}, "spec": spec}),
        _event("create", requestObject={"metadata": {"generateName": "csr-"}}),
        _event("patch", "a", "approval", user=admin,
               requestObject={"status": {"conditions": [{"type": "Approved"}]}}),
        _event("update", "a", "approval", user=admin,
               requestObject={"status": {"conditions": [{"type": "Denied"}]}}),
        _event("patch", "a", "status", user=signer),
        _event("update", "a"),  # a write of the object itself: no lifecycle step
        _event("delete", "b", user=admin),
        _event("create", "a", user=admin),
    ]  # fmt: skip
    lives, unnamed = csr_history.lifecycles(events)
    jane = ("dev", "system:authenticated")
    assert unnamed == [csr_history.Write("t-create--", "jane")]
    assert lives == [
        csr_history.Lifecycle(
            "b",
            csr_history.Write("t-create--", "jane"),
            jane,
            {**spec, "username": "jane", "groups": list(jane)},
            deleted=csr_history.Write("t-delete-b-", "admin"),
        ),
        csr_history.Lifecycle(
            "a",
            csr_history.Write("received-a", "jane"),
            jane,
            approvals=[
                csr_history.Write("t-patch-a-approval", "admin"),
                csr_history.Write("t-update-a-approval", "admin"),
            ],
            decisions=["Approved", "Denied"],
            signed=[csr_history.Write("t-patch-a-status", SIGNER_SA)],
        ),
        csr_history.Lifecycle("a", csr_history.Write("t-create-a-", "admin"), ("system:masters",)),
    ]


def test_judge_weighs_every_csr_the_log_shows() -> None:
    """Each lifecycle is judged whatever came before it in the list: a CSR still listed,
    a request that is no client request, several requests with findings, a node's
    filing, a person's approved and signed CSR, an approval alone."""
    from tests.unit.test_certificates import request

    W = csr_history.Write
    masters = request("root", ["system:masters"])["spec"]
    serving = request("web", usages=["server auth"], signer="kubernetes.io/kubelet-serving")["spec"]
    lives = [
        csr_history.Lifecycle("still-listed", W("t0", "jane")),
        csr_history.Lifecycle("serving", W("t1", "jane"), spec=serving),
        csr_history.Lifecycle("root-1", W("t2", "jane"), spec=masters),
        csr_history.Lifecycle("root-2", W("t3", "jane"), spec=masters),
        csr_history.Lifecycle("node", W("t4", "system:node:n1"), ("system:nodes",)),
        csr_history.Lifecycle(
            "person", W("t5", "bob"), ("dev",), approvals=[W("t6", "admin")],
            signed=[W("t7", SIGNER_SA)],
        ),
        csr_history.Lifecycle("nothing"),
        csr_history.Lifecycle("auto", approvals=[W("t8", SIGNER_SA)]),
    ]  # fmt: skip
    out = csr_history.judge(lives, {"still-listed"})
    assert [f.name for f in out.findings] == ["root-1", "root-2", "person"]
    person = out.findings[-1]
    assert (person.kind, person.namespace) == ("CertificateSigningRequest", "")
    assert person.detail == (
        "a certificate was most likely issued to bob, which is neither a node nor a bootstrap "
        "identity: approved, then written by a signer (from the API server audit log: filed "
        f"by bob at t5, approval written by admin at t6, status written by {SIGNER_SA} at t7; "
        "no longer listed); the Metadata-level log keeps neither signer nor subject"
    )
    assert out.kubelet_assumed == [
        "node: filed by node or bootstrap identity system:node:n1 (from the API server audit "
        "log: filed by system:node:n1 at t4; no longer listed)",
        "auto: auto-approved by the certificate-controller (kubelet client requests only; "
        f"filer not in the log) (from the API server audit log: approval written by {SIGNER_SA} "
        "at t8; no longer listed)",
    ]
    assert [line.split(":")[0] for line in out.judged] == ["root-1", "root-2", "person"]
