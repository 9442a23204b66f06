"""How a check ends (the facade's judge / not-applicable / manual / evidence-unavailable),
and the API reader's retry policy and read-only guard."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import urllib3
from kubernetes import client as k8s
from kubernetes.client.rest import RESTResponse

from kubepci import catalogue
from kubepci.access import api
from kubepci.access.api import REVIEW_PATHS, ApiReader, ApiUnavailable, Policy
from kubepci.analysis.distribution import Distribution
from kubepci.analysis.flags import DEFAULTS, ComponentFlags
from kubepci.facade import MAX_LISTED, Cluster, Settings
from kubepci.verdict import (
    EvidenceUnavailable,
    Finding,
    ManualAttestation,
    NotApplicable,
    Verdict,
)
from kubepci.waivers import Waiver

pytest_plugins = ["pytester"]

CHECK = catalogue.load().checks["service-account-privileges"]
BOT = Finding(
    "ServiceAccount", "payments", "deploy-bot", "cluster-admin equivalent", "admin-equivalent"
)
AUDITOR = Finding(
    "ServiceAccount", "kubepci", "auditor", "read secrets cluster-wide", "read-secrets"
)
AUDITOR_WAIVER = Waiver(
    CHECK.id,
    "ServiceAccount",
    "kubepci",
    "auditor",
    "read-secrets",
    "metadata-only secret listing",
    "jane.doe@example.com",
    dt.date(2099, 1, 1),
)


def session(distribution: str = "kubeadm", **control_plane: list[ComponentFlags]) -> Any:
    """Only what the facade reads: the target's id, flags found, the distribution."""
    found = {c: [] for c in DEFAULTS}
    found.update(control_plane)
    return SimpleNamespace(
        target=SimpleNamespace(id="kind-pci"),
        control_plane=found,
        config_files=lambda _component, found: found,
        distribution=Distribution(distribution),
    )


def view(waivers: list[Waiver] = (), **kwargs: Any) -> Cluster:
    return Cluster(session(**kwargs), CHECK, list(waivers), Settings())


# ----------------------------------------------------------------------------- judge


class TestJudge:
    def test_starts_as_error_until_judged(self) -> None:
        cluster = view()
        assert cluster.result.verdict is Verdict.ERROR
        assert cluster.result.cluster == "kind-pci"
        assert cluster.result.check_id == CHECK.id

    def test_no_findings_passes_with_the_reason(self) -> None:
        cluster = view()
        cluster.judge([], passed="no ServiceAccount holds escalation-grade permissions")
        assert cluster.result.verdict is Verdict.PASSED
        assert cluster.result.reason == "no ServiceAccount holds escalation-grade permissions"
        assert cluster.result.findings == []

    def test_findings_fail_listing_each_once_without_traceback(self) -> None:
        cluster = view()
        with pytest.raises(pytest.fail.Exception) as failure:
            cluster.judge([BOT, AUDITOR, BOT], passed="unused")
        assert failure.value.pytrace is False
        message = failure.value.msg
        assert message.splitlines() == [
            f"{CHECK.title}: 2 finding(s)",
            "ServiceAccount kubepci/auditor: read secrets cluster-wide [read-secrets]",
            "ServiceAccount payments/deploy-bot: cluster-admin equivalent [admin-equivalent]",
        ]
        assert cluster.result.verdict is Verdict.FAILED
        assert cluster.result.reason == "2 finding(s)"
        assert cluster.result.findings == [AUDITOR, BOT]

    def test_long_lists_are_cut_but_counted(self) -> None:
        findings = [Finding("Pod", "ns", f"p{i:03}", "token") for i in range(MAX_LISTED + 7)]
        cluster = view()
        with pytest.raises(pytest.fail.Exception) as failure:
            cluster.judge(findings, passed="unused")
        lines = failure.value.msg.splitlines()
        assert len(lines) == 1 + MAX_LISTED + 1
        assert lines[-1] == "… and 7 more (see the evidence)"
        assert len(cluster.result.findings) == MAX_LISTED + 7

    def test_all_waived_is_xfail_never_pass(self) -> None:
        cluster = view([AUDITOR_WAIVER])
        with pytest.raises(pytest.xfail.Exception) as waived:
            cluster.judge([AUDITOR], passed="unused")
        assert cluster.result.verdict is Verdict.WAIVED
        assert "waived by jane.doe@example.com until 2099-01-01" in str(waived.value)
        assert cluster.result.reason.startswith("ServiceAccount kubepci/auditor waived by")
        assert cluster.result.waived == [
            {"finding": AUDITOR.to_json(), "waiver": AUDITOR_WAIVER.to_json()}
        ]

    def test_a_waiver_does_not_cover_other_findings(self) -> None:
        cluster = view([AUDITOR_WAIVER])
        with pytest.raises(pytest.fail.Exception) as failure:
            cluster.judge([AUDITOR, BOT], passed="unused")
        assert cluster.result.verdict is Verdict.FAILED
        assert "1 finding(s)" in failure.value.msg
        assert "auditor" not in failure.value.msg
        assert [w["finding"]["name"] for w in cluster.result.waived] == ["auditor"]
        assert cluster.result.findings == [AUDITOR, BOT]

    def test_a_waiver_for_one_class_leaves_a_worse_finding_on_the_object_open(self) -> None:
        worse = Finding(
            "ServiceAccount", "kubepci", "auditor", "cluster-admin equivalent", "admin-equivalent"
        )
        cluster = view([AUDITOR_WAIVER])
        with pytest.raises(pytest.fail.Exception) as failure:
            cluster.judge([AUDITOR, worse], passed="unused")
        assert cluster.result.verdict is Verdict.FAILED
        assert failure.value.msg.splitlines()[1:] == [
            "ServiceAccount kubepci/auditor: cluster-admin equivalent [admin-equivalent]"
        ]
        assert [w["finding"]["class"] for w in cluster.result.waived] == ["read-secrets"]

    def test_a_waiver_for_another_check_does_not_apply(self) -> None:
        other = Waiver("pod-token-automount", "*", "*", "*", "*", "j", "a", dt.date(2099, 1, 1))
        cluster = view([other])
        with pytest.raises(pytest.fail.Exception):
            cluster.judge([AUDITOR], passed="unused")
        assert cluster.result.waived == []

    def test_result_to_json(self) -> None:
        cluster = view()
        cluster.evidence("Paths", ["a → b"], "rbac")
        with pytest.raises(pytest.fail.Exception):
            cluster.judge([BOT], passed="unused")
        as_json = json.loads(json.dumps(cluster.result.to_json()))
        assert as_json["verdict"] == "failed"
        assert as_json["findings"] == [BOT.to_json()]
        assert as_json["evidence"] == [{"title": "Paths", "kind": "rbac", "content": ["a → b"]}]


class TestFinding:
    def test_class_is_shown_after_the_detail_and_always_in_json(self) -> None:
        plain = Finding("Pod", "shop", "web", "token mounted")
        assert plain.line() == "Pod shop/web: token mounted"
        assert plain.to_json() == {
            "kind": "Pod",
            "namespace": "shop",
            "name": "web",
            "detail": "token mounted",
            "class": "",
        }
        assert AUDITOR.line() == (
            "ServiceAccount kubepci/auditor: read secrets cluster-wide [read-secrets]"
        )
        assert AUDITOR.ref == "ServiceAccount kubepci/auditor"
        assert AUDITOR.to_json()["class"] == "read-secrets"

    def test_json_round_trip(self) -> None:
        for finding in (AUDITOR, BOT, Finding("Node", "", "vm", "x")):
            assert Finding.from_json(json.loads(json.dumps(finding.to_json()))) == finding
        older = {"kind": "Node", "namespace": "", "name": "vm", "detail": "x"}
        assert Finding.from_json(older) == Finding("Node", "", "vm", "x", "")


class TestOtherEndings:
    def test_not_applicable(self) -> None:
        with pytest.raises(NotApplicable) as ending:
            view().not_applicable("etcd listens only on loopback")
        assert ending.value.verdict is Verdict.NOT_APPLICABLE
        assert ending.value.reason == "etcd listens only on loopback"

    def test_manual(self) -> None:
        with pytest.raises(ManualAttestation) as ending:
            view().manual("only the owner can attest custody")
        assert ending.value.verdict is Verdict.MANUAL

    def test_flags_found(self) -> None:
        flags = ComponentFlags("etcd", "kube-system/etcd-cp", "cp", {})
        assert view(etcd=[flags]).flags("etcd") == [flags]

    @pytest.mark.parametrize("managed", ["eks", "gke", "aks"])
    def test_flags_on_a_managed_control_plane_are_not_applicable(self, managed: str) -> None:
        with pytest.raises(NotApplicable, match=f"{managed.upper()} runs kube-apiserver"):
            view(distribution=managed).flags("kube-apiserver")

    def test_flags_missing_elsewhere_are_an_error_not_a_pass(self) -> None:
        with pytest.raises(EvidenceUnavailable, match="no kube-scheduler pod in kube-system"):
            view(distribution="k3s").flags("kube-scheduler")
        assert EvidenceUnavailable.verdict is Verdict.ERROR


def test_judge_in_a_real_pytest_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import datetime as dt
        from types import SimpleNamespace
        from kubepci import catalogue
        from kubepci.facade import Cluster, Settings
        from kubepci.verdict import Finding
        from kubepci.waivers import Waiver

        CHECK = catalogue.load().checks["pod-token-automount"]
        WEB = Finding("Pod", "shop", "web", "token mounted (default true)")

        def view(waivers=()):
            session = SimpleNamespace(target=SimpleNamespace(id="c"))
            return Cluster(session, CHECK, list(waivers), Settings())

        def test_fails():
            view().judge([WEB], passed="x")

        def test_waived():
            w = Waiver(CHECK.id, "Pod", "shop", "web", "*", "why", "who", dt.date(2099, 1, 1))
            view([w]).judge([WEB], passed="x")

        def test_passes():
            view().judge([], passed="x")
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1, xfailed=1, passed=1)
    result.stdout.fnmatch_lines(["*Pod shop/web: token mounted (default true)*"])
    result.stdout.no_fnmatch_line("*def test_fails*")  # pytrace=False: no source shown


# ----------------------------------------------------------------------------- ApiReader


def response(status: int, body: Any = None, headers: dict[str, str] | None = None):
    data = json.dumps(body if body is not None else {}).encode()
    raw = urllib3.HTTPResponse(
        body=data, status=status, headers=headers or {}, preload_content=True
    )
    return RESTResponse(raw)


class Script:
    """A stand-in for ApiClient.call_api answering from a list, recording each call."""

    def __init__(self, answers: list[Any]) -> None:
        self.answers: Iterator[Any] = iter(answers)
        self.calls: list[tuple[str, str]] = []

    def __call__(self, method: str, url: str, **kwargs: Any) -> Any:
        self.calls.append((method, url))
        answer = next(self.answers)
        if isinstance(answer, BaseException):
            raise answer
        return answer


def reader(
    answers: list[Any], policy: Policy | None = None
) -> tuple[ApiReader, Script, list[float]]:
    client = k8s.ApiClient(k8s.Configuration(host="https://api.example:6443"))
    script = Script(answers)
    client.call_api = script  # type: ignore[method-assign]
    waits: list[float] = []
    return ApiReader(client, policy or Policy(), sleep=waits.append), script, waits


@pytest.fixture(autouse=True)
def no_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api.random, "random", lambda: 0.0)


def refused() -> urllib3.exceptions.MaxRetryError:
    cause = urllib3.exceptions.NewConnectionError(None, "Connection refused")  # type: ignore[arg-type]
    return urllib3.exceptions.MaxRetryError(None, "/api", cause)  # type: ignore[arg-type]


class TestRetryPolicy:
    def test_retry_after_then_backoff_then_success(self) -> None:
        api_reader, script, waits = reader(
            [
                response(429, headers={"Retry-After": "3"}),
                response(503, {"message": "etcd leader changed"}),
                response(200, {"kind": "PodList", "items": []}),
            ]
        )
        assert api_reader.get_json("/api/v1/pods") == {"kind": "PodList", "items": []}
        assert waits == [3.0, 1.0]
        assert len(script.calls) == 3
        assert script.calls[0] == ("GET", "https://api.example:6443/api/v1/pods")
        assert api_reader.requests == {"GET /api/v1/pods": 1}

    def test_retry_after_header_name_is_case_insensitive(self) -> None:
        # Regression: the headers were copied into a plain dict, so a proxy's
        # lower-case "retry-after" was ignored.
        api_reader, _, waits = reader(
            [response(429, headers={"retry-after": "2"}), response(200, {})]
        )
        api_reader.get_json("/api")
        assert waits == [2.0]

    def test_forbidden_is_final_at_once(self) -> None:
        api_reader, script, waits = reader(
            [response(403, {"message": 'secrets is forbidden: User "jane" cannot list'})]
        )
        with pytest.raises(ApiUnavailable) as error:
            api_reader.get_json("/api/v1/secrets")
        assert error.value.status == 403
        assert str(error.value).startswith("403 forbidden: secrets is forbidden")
        assert (len(script.calls), waits) == (1, [])

    def test_connection_errors_are_retried_then_reported(self) -> None:
        api_reader, script, waits = reader([refused()] * 4)
        with pytest.raises(ApiUnavailable) as error:
            api_reader.get_json("/version")
        message = str(error.value)
        assert message.startswith("unreachable: ")
        assert message.endswith("(after 4 attempts)")
        assert "\n" not in message
        assert error.value.status == 0
        assert len(script.calls) == 4
        assert waits == [0.5, 1.0, 2.0]

    def test_server_errors_exhaust_the_attempts(self) -> None:
        api_reader, _, waits = reader([response(500)] * 2, Policy(attempts=2))
        with pytest.raises(ApiUnavailable, match=r"^500 server error \(after 2 attempts\)$"):
            api_reader.get_json("/api")
        assert len(waits) == 1

    def test_tls_failure_is_final_at_once(self) -> None:
        api_reader, script, _ = reader(
            [k8s.ApiException(status=0, reason="SSLError\ncertificate verify failed")]
        )
        with pytest.raises(ApiUnavailable, match=r"^TLS error: "):
            api_reader.get_json("/api")
        assert len(script.calls) == 1

    def test_waits_never_exceed_max_backoff(self, monkeypatch: pytest.MonkeyPatch) -> None:
        # Regression: jitter was added after the cap, so waits reached 125% of it.
        monkeypatch.setattr(api.random, "random", lambda: 0.999)
        policy = Policy(attempts=6, backoff=2.0, max_backoff=5.0)
        answers = [response(429, headers={"Retry-After": "60"})] * 2 + [response(503)] * 4
        api_reader, _, waits = reader(answers, policy)
        with pytest.raises(ApiUnavailable):
            api_reader.get_json("/api")
        assert len(waits) == 5
        assert all(0 < w <= policy.max_backoff for w in waits), waits

    def test_expired_continue_token_restarts_the_list_once(self) -> None:
        page = {"items": [1], "metadata": {"continue": "tok"}}
        last = {"items": [2], "metadata": {}}
        api_reader, script, _ = reader(
            [
                response(200, page),
                response(410, {"message": "continue token expired"}),
                response(200, page),
                response(200, last),
            ]
        )
        seen: list[object] = []
        for page in api_reader.list_pages("/api/v1/pods", page_size=1, on_restart=seen.clear):
            seen.extend(page["items"])
        # Regression: the abandoned pass's objects were kept, so the list held them twice.
        assert seen == [1, 2]
        urls = [url for _, url in script.calls]
        assert "continue=tok" in urls[1] and "continue" not in urls[2]


class TestReadOnly:
    @pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
    def test_writes_are_refused_before_sending(self, method: str) -> None:
        api_reader, script, _ = reader([])
        with pytest.raises(AssertionError, match=f"read-only; refusing {method}"):
            api_reader.request(method, "/api/v1/namespaces/default/pods", body={})
        assert script.calls == []

    def test_post_to_a_review_path_is_allowed(self) -> None:
        review = {"status": {"userInfo": {"username": "jane"}}}
        api_reader, script, _ = reader([response(201, review)])
        assert api_reader.review(REVIEW_PATHS[0], {"kind": "SelfSubjectReview"}) == review
        assert script.calls == [("POST", f"https://api.example:6443{REVIEW_PATHS[0]}")]


class TestTlsFailures:
    """Regression: a certificate that failed to verify was retried four times and then
    reported as "unreachable"; it is a TLS error, final on the first attempt."""

    def test_certificate_failure_is_not_retried(self) -> None:
        cause = urllib3.exceptions.SSLError(
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"
        )
        wrapped = urllib3.exceptions.MaxRetryError(None, "/version", cause)  # type: ignore[arg-type]
        api_reader, script, waits = reader([wrapped, response(200, {})])
        with pytest.raises(api.ApiUnavailable, match="TLS error: certificate verify failed"):
            api_reader.get_json("/version")
        assert len(script.calls) == 1
        assert waits == []

    def test_refused_connection_is_still_retried(self) -> None:
        api_reader, script, _ = reader([refused(), response(200, {"ok": True})])
        assert api_reader.get_json("/version") == {"ok": True}
        assert len(script.calls) == 2


def test_a_finding_serialises_every_field() -> None:
    import dataclasses

    finding = Finding("Pod", "shop", "web", "token mounted", "automount")
    fields = dataclasses.asdict(finding)
    fields["class"] = fields.pop("finding_class")  # "class" is the name waivers use
    assert finding.to_json() == fields
