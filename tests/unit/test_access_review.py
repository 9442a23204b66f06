"""The API server's authorizer as evidence: SubjectAccessReview bodies, answers, judgements,
the authorizer chain from flags or an AuthorizationConfiguration, and the session's
reviews (deduplicated, stored, reused)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubepci import catalogue
from kubepci.access.api import REVIEW_PATHS, ApiUnavailable
from kubepci.access.cluster import REVIEWS_AT_ONCE, ClusterSession
from kubepci.access.kubeconfig import Credential, Target
from kubepci.analysis import access_review as ar
from kubepci.analysis.access_review import (
    SUBJECT_ACCESS_REVIEW,
    UNBOUND_PROBE,
    AccessAnswer,
    authorization_mode_findings,
    authorizer_chain,
    confirmations,
    permissive_authorizer_findings,
    probe_disagreements,
    review_body,
)
from kubepci.analysis.authorizer import Authorizer, Identity, Request
from kubepci.analysis.flags import ComponentFlags
from kubepci.facade import Cluster, Settings
from kubepci.verdict import EvidenceUnavailable
from tests.support.flag_parsing import parse_flags

ALICE = Identity.authenticated_user("alice", ["dev"])
READ_SECRETS = Request("get", resource="secrets", namespace="kube-system")
ALLOWED = AccessAnswer(True, reason='RBAC: allowed by ClusterRoleBinding "x"')
NO_OPINION = AccessAnswer(False)
DENIED = AccessAnswer(False, denied=True, reason="webhook said no")


# ----------------------------------------------------------------------------- bodies
class TestReviewBody:
    def test_resource_request(self) -> None:
        request = Request("get", "apps", "deployments", "scale", "prod", "web")
        assert review_body(ALICE, request) == {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {
                "user": "alice",
                "groups": ["dev", "system:authenticated"],
                "resourceAttributes": {
                    "verb": "get",
                    "resource": "deployments",
                    "namespace": "prod",
                    "group": "apps",
                    "subresource": "scale",
                    "name": "web",
                },
            },
        }

    def test_cluster_wide_core_request_sends_no_empty_attributes(self) -> None:
        body = review_body(ALICE, Request("create", group="", resource="pods"))
        assert body["spec"]["resourceAttributes"] == {"verb": "create", "resource": "pods"}

    def test_non_resource_request(self) -> None:
        body = review_body(Identity.anonymous(), Request("get", path="/metrics"))
        assert body["spec"] == {
            "user": "system:anonymous",
            "groups": ["system:unauthenticated"],
            "nonResourceAttributes": {"path": "/metrics", "verb": "get"},
        }

    def test_unbound_probe_spells_out_every_group(self) -> None:
        # SubjectAccessReview adds no groups: the probe must send what a token would carry.
        for identity, _ in UNBOUND_PROBE:
            assert identity.user == (
                "system:serviceaccount:kubepci-unbound-probe:kubepci-unbound-probe"
            )
            assert identity.groups == (
                "system:serviceaccounts",
                "system:serviceaccounts:kubepci-unbound-probe",
                "system:authenticated",
            )
        texts = {r.text() for _, r in UNBOUND_PROBE}
        assert texts == {
            "get secrets in namespace kube-system",
            "create pods in namespace kube-system",
            "impersonate groups 'system:masters' cluster-wide",
            "create rbac.authorization.k8s.io/clusterrolebindings cluster-wide",
            "get nodes/proxy cluster-wide",
        }

    def test_review_path_is_allowed_by_the_reader(self) -> None:
        assert SUBJECT_ACCESS_REVIEW in REVIEW_PATHS


class TestAnswer:
    @pytest.mark.parametrize(
        ("status", "answer"),
        [
            ({"allowed": True, "reason": "r"}, AccessAnswer(True, False, "r", "")),
            ({"allowed": False}, AccessAnswer(False)),
            ({"allowed": False, "denied": True}, AccessAnswer(False, True)),
            (
                {"allowed": False, "evaluationError": "webhook down"},
                AccessAnswer(False, False, "", "webhook down"),
            ),
            ({}, AccessAnswer(False)),
        ],
    )
    def test_from_status_and_json_round_trip(
        self, status: dict[str, Any], answer: AccessAnswer
    ) -> None:
        assert AccessAnswer.from_status(status) == answer
        assert AccessAnswer.from_json(answer.to_json()) == answer

    def test_text(self) -> None:
        assert AccessAnswer(True).text() == "allowed"
        assert AccessAnswer(False, True, "no").text() == "denied; reason: no"
        assert AccessAnswer(False, evaluation_error="boom").text() == (
            "not allowed (no authorizer had an opinion); evaluation error: boom"
        )


# ----------------------------------------------------------------------------- judgements
class TestConfirmations:
    @pytest.mark.parametrize(
        ("answer", "agrees"),
        [(ALLOWED, True), (NO_OPINION, False), (DENIED, False)],
    )
    def test_one_witness(self, answer: AccessAnswer, agrees: bool) -> None:
        lines, disagreements = confirmations([(ALICE, READ_SECRETS)], [answer])
        if agrees:
            assert lines == ["authorizer: allowed"] and disagreements == []
            return
        assert lines == disagreements and len(lines) == 1
        line = lines[0]
        assert "authorizer disagrees" in line
        assert "alice (groups: dev, system:authenticated)" in line
        assert "get secrets in namespace kube-system" in line
        assert answer.text() in line

    def test_lines_follow_the_witnesses(self) -> None:
        other = (ALICE, Request("list", resource="pods"))
        lines, disagreements = confirmations(
            [(ALICE, READ_SECRETS), other, (ALICE, READ_SECRETS)], [ALLOWED, DENIED, ALLOWED]
        )
        assert lines[0] == lines[2] == "authorizer: allowed"
        assert disagreements == [lines[1]]

    def test_answers_must_match_the_witnesses(self) -> None:
        with pytest.raises(ValueError, match="1 pairs but 0 answers"):
            confirmations([(ALICE, READ_SECRETS)], [])


class TestPermissiveAuthorizer:
    @pytest.mark.parametrize(
        ("rbac_allows", "answer", "found"),
        [
            (False, ALLOWED, True),  # the server allows what RBAC does not: another authorizer
            (True, ALLOWED, False),  # RBAC grants it (a group binding): an RBAC finding instead
            (False, NO_OPINION, False),  # as it should be
            (False, DENIED, False),
            (True, NO_OPINION, False),  # a disagreement, reported by probe_disagreements
        ],
    )
    def test_table(self, rbac_allows: bool, answer: AccessAnswer, found: bool) -> None:
        probe = UNBOUND_PROBE[:1]
        findings = permissive_authorizer_findings(probe, [rbac_allows], [answer])
        assert bool(findings) is found
        if found:
            (finding,) = findings
            assert finding.finding_class == "permissive-authorizer"
            assert finding.ref == "AuthorizerChain kube-apiserver"
            assert "get secrets in namespace kube-system" in finding.detail
            assert answer.reason in finding.detail

    def test_always_allow_server_gives_one_finding_per_request(self) -> None:
        rbac = Authorizer([], [], [], [])
        allows = [rbac.allows(i, r) for i, r in UNBOUND_PROBE]
        assert allows == [False] * len(UNBOUND_PROBE)
        findings = permissive_authorizer_findings(
            UNBOUND_PROBE, allows, [AccessAnswer(True)] * len(UNBOUND_PROBE)
        )
        assert len(set(findings)) == len(UNBOUND_PROBE)

    def test_each_request_after_one_rbac_allows_is_still_judged(self) -> None:
        """An allowed answer without a reason names none; a request RBAC allows in front of
        the others hides nothing."""
        probe = UNBOUND_PROBE[:2]
        findings = permissive_authorizer_findings(
            probe, [True, False], [ALLOWED, AccessAnswer(True)]
        )
        (finding,) = findings
        assert finding.namespace == ""
        assert finding.detail.endswith("is granting everyone")
        assert probe_disagreements(probe, [True, False], [NO_OPINION, ALLOWED]) != []
        with pytest.raises(ValueError) as misaligned:
            probe_disagreements(probe, [True], [NO_OPINION, ALLOWED])
        assert str(misaligned.value).startswith("probe_disagreements: ")
        with pytest.raises(ValueError):
            probe_disagreements(probe, [True, True], [NO_OPINION])

    def test_disagreements_on_the_probe(self) -> None:
        probe = UNBOUND_PROBE[:3]
        lines = probe_disagreements(probe, [True, True, False], [ALLOWED, NO_OPINION, NO_OPINION])
        assert len(lines) == 1 and "create pods in namespace kube-system" in lines[0]

    def test_lengths_must_match(self) -> None:
        with pytest.raises(ValueError) as misaligned:
            permissive_authorizer_findings(UNBOUND_PROBE, [False], [ALLOWED])
        assert str(misaligned.value).startswith("permissive_authorizer_findings: ")
        with pytest.raises(ValueError):
            permissive_authorizer_findings(UNBOUND_PROBE, [False] * len(UNBOUND_PROBE), [])


# ----------------------------------------------------------------------------- the chain
def apiserver(*flags: str) -> ComponentFlags:
    return ComponentFlags(
        "kube-apiserver",
        "kube-system/kube-apiserver-cp-1",
        "cp-1",
        parse_flags(["kube-apiserver", *flags]),
    )


def authz_config(*types: str, api_version: str = "apiserver.config.k8s.io/v1") -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": "AuthorizationConfiguration",
        "authorizers": [{"type": t, "name": t.lower()} for t in types],
    }


class TestAuthorizationMode:
    @pytest.mark.parametrize(
        ("flags", "config", "always_allow", "chain"),
        [
            # Go: Complete() sets [AlwaysAllow] when neither flag is given.
            ((), None, True, "AlwaysAllow"),
            (("--authorization-mode=",), None, True, "AlwaysAllow"),
            (("--authorization-mode=Node,RBAC",), None, False, "Node → RBAC"),
            (("--authorization-mode", "RBAC,AlwaysAllow"), None, True, "RBAC → AlwaysAllow"),
            (("--authorization-mode=AlwaysAllow",), None, True, "AlwaysAllow"),
            (
                ("--authorization-config=/etc/k/authz.yaml",),
                authz_config("Node", "RBAC"),
                False,
                "Node → RBAC",
            ),
            (
                ("--authorization-config=/etc/k/authz.yaml",),
                authz_config("RBAC", "AlwaysAllow", api_version="apiserver.config.k8s.io/v1beta1"),
                True,
                "RBAC → AlwaysAllow",
            ),
        ],
    )
    def test_table(
        self, flags: tuple[str, ...], config: dict[str, Any] | None, always_allow: bool, chain: str
    ) -> None:
        findings, evidence = authorization_mode_findings(apiserver(*flags), config)
        assert f"authorizer chain of kube-system/kube-apiserver-cp-1: {chain} (" in evidence[0]
        assert bool(findings) is always_allow
        if always_allow:
            (finding,) = findings
            assert finding.ref == "Pod kube-system/kube-apiserver-cp-1"
            assert finding.finding_class == "always-allow-authorizer"
            assert "AlwaysAllow is in the authorizer chain" in finding.detail

    def test_absent_flag_names_the_default(self) -> None:
        findings, evidence = authorization_mode_findings(apiserver(), None)
        assert "neither --authorization-mode nor --authorization-config is set" in evidence[0]
        assert "defaults to AlwaysAllow" in findings[0].detail

    def test_an_earlier_webhook_may_still_deny(self) -> None:
        findings, evidence = authorization_mode_findings(
            apiserver(
                "--authorization-mode=Webhook,AlwaysAllow", "--authorization-webhook-config-file=/w"
            ),
            None,
        )
        assert "unless Webhook, earlier in the chain, denies it" in findings[0].detail
        assert any(
            line.startswith("not judged: decisions made outside RBAC (Webhook") for line in evidence
        )

    def test_webhook_is_not_judged(self) -> None:
        findings, evidence = authorization_mode_findings(
            apiserver("--authorization-config=/a.yaml"), authz_config("Node", "Webhook", "RBAC")
        )
        assert findings == []
        assert any("not judged: decisions made outside RBAC (Webhook" in line for line in evidence)

    def test_no_rbac_in_the_chain(self) -> None:
        _, evidence = authorization_mode_findings(apiserver("--authorization-mode=Node,ABAC"), None)
        assert any("RBAC is not in the chain" in line for line in evidence)
        assert any("(ABAC in the chain" in line for line in evidence)

    def test_config_not_read(self) -> None:
        findings, evidence = authorization_mode_findings(
            apiserver("--authorization-config=/a.yaml"), None
        )
        assert findings == []
        assert "not judged" in evidence[0] and "--node-root" in evidence[0]

    def test_config_and_mode_are_mutually_exclusive(self) -> None:
        findings, evidence = authorization_mode_findings(
            apiserver("--authorization-config=/a.yaml", "--authorization-mode=AlwaysAllow"),
            authz_config("RBAC"),
        )
        assert findings == []
        assert "refuses to start" in evidence[0] and "--authorization-mode" in evidence[0]

    def test_config_of_another_kind(self) -> None:
        findings, evidence = authorization_mode_findings(
            apiserver("--authorization-config=/a.yaml"),
            {"apiVersion": "v1", "kind": "ConfigMap"},
        )
        assert findings == [] and "is not an apiserver.config.k8s.io" in evidence[0]

    def test_unknown_mode(self) -> None:
        _, evidence = authorization_mode_findings(apiserver("--authorization-mode=rbac"), None)
        assert any("unknown authorizer type(s) rbac" in line for line in evidence)


# ----------------------------------------------------------------------------- session
class FakeReader:
    """An ApiReader at the session boundary: answers SubjectAccessReviews from a function."""

    def __init__(self, decide: Any = None) -> None:
        self.decide = decide or (lambda spec: {"allowed": False})
        self.bodies: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0

    def review(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        assert path == SUBJECT_ACCESS_REVIEW
        with self.lock:
            self.bodies.append(body)
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            return {**body, "status": self.decide(body["spec"])}
        finally:
            with self.lock:
                self.in_flight -= 1


def session(store: Path, reader: FakeReader, node_root: str = "") -> ClusterSession:
    target = Target("t", "/dev/null", "ctx", "https://api.example:6443", "u", Credential("token"))
    made = ClusterSession(target, store, node_root=node_root)
    made._reader = reader  # type: ignore[assignment]
    return made


def secrets_only(spec: dict[str, Any]) -> dict[str, Any]:
    attributes = spec.get("resourceAttributes") or {}
    return {"allowed": attributes.get("resource") == "secrets", "reason": "fake"}


class TestSessionReviews:
    def test_body_answers_and_order(self, tmp_path: Path) -> None:
        reader = FakeReader(secrets_only)
        pairs = [(ALICE, READ_SECRETS), UNBOUND_PROBE[1]]
        answers = session(tmp_path, reader).access_reviews(pairs)
        assert answers == [AccessAnswer(True, reason="fake"), AccessAnswer(False, reason="fake")]
        assert sorted(b["spec"]["user"] for b in reader.bodies) == sorted(
            [ALICE.user, UNBOUND_PROBE[1][0].user]
        )
        assert review_body(*pairs[0]) in reader.bodies

    def test_duplicates_are_asked_once(self, tmp_path: Path) -> None:
        reader = FakeReader(secrets_only)
        pairs = [(ALICE, READ_SECRETS)] * 5 + UNBOUND_PROBE
        answers = session(tmp_path, reader).access_reviews(pairs)
        assert len(answers) == len(pairs)
        assert len(reader.bodies) == 1 + len(UNBOUND_PROBE)

    def test_stored_answers_are_reused_by_another_process(self, tmp_path: Path) -> None:
        first = FakeReader(secrets_only)
        answers = session(tmp_path, first).access_reviews(UNBOUND_PROBE)
        stored = list(tmp_path.glob("access-reviews-*.json"))
        assert len(stored) == 1
        assert stored[0].stem == f"access-reviews-{ar.pairs_digest(UNBOUND_PROBE)}"
        # A second worker (or a replay) asking the same set, in another order: no request.
        second = FakeReader(lambda spec: pytest.fail("asked the server again"))
        again = session(tmp_path, second).access_reviews(list(reversed(UNBOUND_PROBE)))
        assert again == list(reversed(answers))
        assert second.bodies == []

    def test_the_same_process_asks_nothing_twice(self, tmp_path: Path) -> None:
        reader = FakeReader(secrets_only)
        made = session(tmp_path, reader)
        made.access_reviews(UNBOUND_PROBE)
        made.access_reviews(UNBOUND_PROBE[:2])
        made.access_reviews(UNBOUND_PROBE[:2])
        assert len(reader.bodies) == len(UNBOUND_PROBE)
        # The subset is still written, from memory, so a replay finds every set asked.
        assert len(list(tmp_path.glob("access-reviews-*.json"))) == 2
        replay = session(tmp_path, FakeReader(lambda s: pytest.fail("asked")))
        assert replay.access_reviews(UNBOUND_PROBE[:2]) == made.access_reviews(UNBOUND_PROBE[:2])

    def test_only_new_pairs_are_asked(self, tmp_path: Path) -> None:
        reader = FakeReader(secrets_only)
        made = session(tmp_path, reader)
        made.access_reviews(UNBOUND_PROBE[:2])
        made.access_reviews(UNBOUND_PROBE)
        assert len(reader.bodies) == len(UNBOUND_PROBE)

    def test_few_reviews_at_once(self, tmp_path: Path) -> None:
        gate = threading.Barrier(REVIEWS_AT_ONCE, timeout=5)

        def slow(spec: dict[str, Any]) -> dict[str, Any]:
            gate.wait()  # only passes when REVIEWS_AT_ONCE are in flight together
            return {"allowed": False}

        reader = FakeReader(slow)
        pairs = [
            (Identity.authenticated_user(f"u{i}"), READ_SECRETS) for i in range(REVIEWS_AT_ONCE * 3)
        ]
        session(tmp_path, reader).access_reviews(pairs)
        assert reader.most_in_flight == REVIEWS_AT_ONCE
        assert len(reader.bodies) == len(pairs)

    def test_forbidden_is_evidence_unavailable_and_stored(self, tmp_path: Path) -> None:
        class Forbidden(FakeReader):
            def review(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
                super().review(path, body)
                raise ApiUnavailable("403 forbidden: cannot create subjectaccessreviews", 403)

        with pytest.raises(EvidenceUnavailable, match="403 forbidden") as caught:
            session(tmp_path, Forbidden()).access_reviews([(ALICE, READ_SECRETS)])
        assert "SubjectAccessReview for alice" in caught.value.reason
        # Every worker errors with the same reason, without asking again.
        with pytest.raises(EvidenceUnavailable, match="403 forbidden"):
            session(tmp_path, FakeReader(lambda s: pytest.fail("asked"))).access_reviews(
                [(ALICE, READ_SECRETS)]
            )

    def test_an_answer_without_status_is_an_error(self, tmp_path: Path) -> None:
        class NoStatus(FakeReader):
            def review(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
                return {"kind": "Status"}

        with pytest.raises(EvidenceUnavailable, match="no status"):
            session(tmp_path, NoStatus()).access_reviews([(ALICE, READ_SECRETS)])

    def test_no_pairs_no_requests(self, tmp_path: Path) -> None:
        reader = FakeReader()
        assert session(tmp_path, reader).access_reviews([]) == []
        assert reader.bodies == [] and not list(tmp_path.glob("access-reviews-*"))


# ----------------------------------------------------------------------------- facade
def facade(store: Path, reader: FakeReader, node_root: str = "") -> Cluster:
    check = catalogue.load().checks["service-account-privileges"]
    return Cluster(session(store, reader, node_root), check, [], Settings(node_root=node_root))


class TestFacade:
    def test_answers_are_recorded_as_json_evidence(self, tmp_path: Path) -> None:
        view = facade(tmp_path, FakeReader(secrets_only))
        pairs = [(ALICE, READ_SECRETS), (ALICE, READ_SECRETS)]
        assert view.access_reviews(pairs) == [AccessAnswer(True, reason="fake")] * 2
        (evidence,) = view.result.evidence
        assert evidence.title == "SubjectAccessReview answers"
        assert evidence.content[0] == {
            "identity": {"user": "alice", "groups": ["dev", "system:authenticated"]},
            "request": {"verb": "get", "resource": "secrets", "namespace": "kube-system"},
            "answer": {"allowed": True, "denied": False, "reason": "fake", "evaluation_error": ""},
        }
        assert json.loads(json.dumps(evidence.to_json())) == evidence.to_json()

    def test_authorization_config_read_under_node_root(self, tmp_path: Path) -> None:
        config = authz_config("Node", "RBAC")
        (tmp_path / "etc/k").mkdir(parents=True)
        (tmp_path / "etc/k/authz.yaml").write_text(yaml.safe_dump(config))
        view = facade(tmp_path / "store", FakeReader(), node_root=str(tmp_path))
        flags = apiserver("--authorization-config=/etc/k/authz.yaml")
        assert view.authorization_config(flags) == config
        assert view.authorization_config(apiserver("--authorization-mode=RBAC")) is None

    @pytest.mark.parametrize("node_root", ["", "missing"])
    def test_authorization_config_not_read(self, tmp_path: Path, node_root: str) -> None:
        root = str(tmp_path / node_root) if node_root else ""
        view = facade(tmp_path / "store", FakeReader(), node_root=root)
        flags = apiserver("--authorization-config=/etc/k/authz.yaml")
        assert view.authorization_config(flags) is None
        (evidence,) = view.result.evidence
        assert "not read" in evidence.title
        assert ("--node-root" if not node_root else "cannot read") in evidence.content


POD = "kube-system/kube-apiserver-cp-1"


def test_a_chain_with_every_kind_of_note_says_each() -> None:
    """AlwaysAllow after deniers, a Webhook, no RBAC and a misspelt mode: the finding and
    each evidence line, word for word."""
    flags = apiserver("--authorization-mode=AlwaysDeny,Webhook,AlwaysAllow,rbac")
    source = f"--authorization-mode=AlwaysDeny,Webhook,AlwaysAllow,rbac (set on pod {POD})"
    findings, evidence = authorization_mode_findings(flags, None)
    assert [(f.kind, f.namespace, f.name, f.detail, f.finding_class) for f in findings] == [
        (
            "Pod", "kube-system", "kube-apiserver-cp-1",
            f"AlwaysAllow is in the authorizer chain ({source}): every request is authorized, "
            "whoever makes it (unless AlwaysDeny or Webhook, earlier in the chain, denies it)",
            "always-allow-authorizer",
        )
    ]  # fmt: skip
    assert evidence == [
        f"authorizer chain of {POD}: AlwaysDeny → Webhook → AlwaysAllow → rbac ({source})",
        f"not judged: decisions made outside RBAC (Webhook in the chain of {POD}); the RBAC "
        "analysis covers what RBAC grants, the unbound-identity probe what the live chain "
        "allows",
        f"RBAC is not in the chain of {POD}: its bindings grant nothing there, and the RBAC "
        "analysis describes objects this server ignores",
        "unknown authorizer type(s) rbac: kube-apiserver refuses them (modes are case-sensitive)",
    ]


@pytest.mark.parametrize(
    ("flags", "config", "why"),
    [
        (
            ["--authorization-config=/a.yaml", "--authorization-mode=RBAC"], None,
            f"--authorization-config=/a.yaml is set together with --authorization-mode on pod "
            f"{POD}: kube-apiserver refuses to start so (the two are mutually exclusive), so "
            "these flags do not describe the running server",
        ),
        (
            ["--authorization-config=/a.yaml"], None,
            f"--authorization-config=/a.yaml (set on pod {POD}) decides the chain, and the file "
            "was not read (it is on the control-plane node: run with --node-root there)",
        ),
        (
            ["--authorization-config=/a.yaml"], {},
            "/a.yaml is not an apiserver.config.k8s.io AuthorizationConfiguration "
            "(apiVersion ?, kind ?)",
        ),
        (
            ["--authorization-config=/a.yaml"],
            {"apiVersion": "v1", "kind": "AuthorizationConfiguration"},
            "/a.yaml is not an apiserver.config.k8s.io AuthorizationConfiguration "
            "(apiVersion v1, kind AuthorizationConfiguration)",
        ),
    ],
)  # fmt: skip
def test_a_chain_that_cannot_be_known_says_why(
    flags: list[str], config: dict[str, Any] | None, why: str
) -> None:
    findings, evidence = authorization_mode_findings(apiserver(*flags), config)
    assert findings == []
    assert evidence == [
        f"authorizer chain of {POD} not judged from its configuration: {why}; the "
        "unbound-identity SubjectAccessReview probe judges the live chain"
    ]


def test_a_configuration_file_gives_the_chain_in_order() -> None:
    config = {
        "apiVersion": "apiserver.config.k8s.io/v1",
        "kind": "AuthorizationConfiguration",
        "authorizers": [{"type": "Node"}, {"type": "RBAC"}, "not a mapping", {}],
    }
    chain, source = authorizer_chain(apiserver("--authorization-config=/a.yaml"), config)
    assert chain == ["Node", "RBAC", "?", ""]
    assert source == f"authorizers[].type in /a.yaml (--authorization-config on pod {POD})"
    empty_mode = authorizer_chain(apiserver("--authorization-mode="), None)
    assert empty_mode == (
        ["AlwaysAllow"],
        f"--authorization-mode is empty on pod {POD}: kube-apiserver defaults to AlwaysAllow",
    )
    assert authorizer_chain(apiserver(), None) == (
        ["AlwaysAllow"],
        f"neither --authorization-mode nor --authorization-config is set on pod {POD}: "
        "kube-apiserver defaults to AlwaysAllow",
    )


@pytest.mark.parametrize("profile", ["compliant", "noncompliant"])
def test_review_records_are_named_as_the_live_run_named_them(profile: str) -> None:
    """Each access-reviews-<digest> record a live run stored is found again under the
    digest of its own questions: the canonical form is the store's key."""
    import json
    from pathlib import Path

    from kubepci.analysis.access_review import pairs_digest

    (raw,) = (Path(__file__).parents[1] / "data" / "packs" / profile / "raw").iterdir()
    records = sorted(raw.glob("access-reviews-*.json"))
    assert records
    for record in records:
        entries = json.loads(record.read_text())["ok"]
        pairs = [
            (
                Identity(e["identity"]["user"], tuple(e["identity"]["groups"])),
                Request(**e["request"]),
            )
            for e in entries
        ]
        assert record.stem.removeprefix("access-reviews-") == pairs_digest(pairs)


# ------------------------------------------------------------- alignment and wording
@pytest.mark.parametrize(
    ("judging", "columns", "message"),
    [
        (confirmations, ([(ALICE, READ_SECRETS)], []), "confirmations: 1 pairs but 0 answers"),
        (
            permissive_authorizer_findings,
            (UNBOUND_PROBE[:2], [False], [ALLOWED, ALLOWED]),
            "permissive_authorizer_findings: 2 pairs but 1 answers",
        ),
        (
            permissive_authorizer_findings,
            (UNBOUND_PROBE[:2], [False, False], [ALLOWED, ALLOWED, ALLOWED]),
            "permissive_authorizer_findings: 2 pairs but 3 answers",
        ),
        (
            probe_disagreements,
            (UNBOUND_PROBE[:2], [True, True, True], [ALLOWED, ALLOWED]),
            "probe_disagreements: 2 pairs but 3 answers",
        ),
        (
            probe_disagreements,
            (UNBOUND_PROBE[:2], [True, True], [ALLOWED]),
            "probe_disagreements: 2 pairs but 1 answers",
        ),
    ],
)
def test_answers_for_other_questions_are_refused_by_name(
    judging: Any, columns: tuple[Any, ...], message: str
) -> None:
    with pytest.raises(ValueError) as misaligned:
        judging(*columns)
    assert str(misaligned.value) == message


def test_the_permissive_authorizer_finding_word_for_word() -> None:
    (identity, request) = UNBOUND_PROBE[0]
    (finding,) = permissive_authorizer_findings(UNBOUND_PROBE[:1], [False], [ALLOWED])
    assert finding.detail == (
        f"a made-up identity, {ar.describe(identity, request)}, is allowed, though RBAC over "
        "the recorded bindings does not grant it: an authorizer other than RBAC (AlwaysAllow, "
        "a permissive webhook) is granting everyone; the server's reason: RBAC: allowed by "
        'ClusterRoleBinding "x"'
    )


def test_a_digest_of_names_beyond_ascii() -> None:
    # The canonical form escapes every non-ASCII character, so any name has a key.
    pair = (Identity.authenticated_user("jürgen", ["ops"]), READ_SECRETS)
    digest = ar.pairs_digest([pair])
    assert len(digest) == 64 and digest != ar.pairs_digest([(ALICE, READ_SECRETS)])


def test_every_legacy_flag_beside_a_configuration_is_named() -> None:
    flags = apiserver(
        "--authorization-config=/a.yaml",
        "--authorization-mode=RBAC",
        "--authorization-webhook-config-file=/w.yaml",
    )
    chain, why = authorizer_chain(flags, None)
    assert chain is None
    assert why.startswith(
        "--authorization-config=/a.yaml is set together with --authorization-mode, "
        "--authorization-webhook-config-file on pod"
    )


def test_an_empty_configured_chain_and_always_allow_alone() -> None:
    _, empty = authorization_mode_findings(
        apiserver("--authorization-config=/a.yaml"), authz_config()
    )
    assert empty[0] == (
        f"authorizer chain of {POD}: (empty) (authorizers[].type in /a.yaml "
        f"(--authorization-config on pod {POD}))"
    )
    (finding,), _ = authorization_mode_findings(apiserver("--authorization-mode=AlwaysAllow"), None)
    assert finding.detail == (
        f"AlwaysAllow is in the authorizer chain (--authorization-mode=AlwaysAllow (set on pod "
        f"{POD})): every request is authorized, whoever makes it"
    )


def test_several_outside_and_unknown_authorizers_are_listed() -> None:
    _, evidence = authorization_mode_findings(
        apiserver("--authorization-mode=Webhook,ABAC,RBAC,rbac,Foo"), None
    )
    assert evidence[1].startswith(
        "not judged: decisions made outside RBAC (Webhook, ABAC in the chain of"
    )
    assert evidence[-1] == (
        "unknown authorizer type(s) rbac, Foo: kube-apiserver refuses them "
        "(modes are case-sensitive)"
    )
