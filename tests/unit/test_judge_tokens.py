"""1.3.4, 1.5.1 and 1.5.2 judged (kubepci.analysis.legacy_tokens, pod_tokens,
token_lifetime): legacy token Secrets, the credentials pods hold, and token lifetimes.
Built on the recorded pods, ServiceAccounts, Secrets and kube-apiserver pod of both local
profiles, varied by hand (token Secrets not listable, the pods list not readable, a cap
the server would refuse)."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from kubepci.analysis.flags import ComponentFlags
from kubepci.analysis.judgement import Gathered
from kubepci.analysis.legacy_tokens import annotated_copies, judge_legacy_tokens, listed_tokens
from kubepci.analysis.pod_tokens import (
    held_credentials,
    judge_default_account_use,
    judge_pod_token_automount,
)
from kubepci.analysis.token_lifetime import (
    issuances,
    judge_projected_tokens,
    judge_token_lifetime_cap,
)
from tests.support.judge_evidence import evidence, lines, recorded, titles

COMPLIANT = recorded("compliant")
NONCOMPLIANT = recorded("noncompliant")
LIMIT = 86400
Obj = dict[str, Any]


def apiserver(**flags: str) -> ComponentFlags:
    return ComponentFlags(
        "kube-apiserver", "kube-system/kube-apiserver-cp", "cp", dict(flags),
    )  # fmt: skip


def gathered(r: Any) -> tuple[list[Obj], list[Obj], Gathered[list[Obj]]]:
    return r.items("serviceaccounts"), r.items("pods"), Gathered(r.items("token-secrets"))


NOT_LISTED: Gathered[list[Obj]] = Gathered([], "secrets is forbidden")


# ------------------------------------------------------------------ 1.3.4 legacy tokens
def test_legacy_tokens_are_findings_with_the_pods_that_hold_them() -> None:
    r = NONCOMPLIANT
    step = listed_tokens(r.items("token-secrets"))
    assert len(evidence(step, "Secret-based ServiceAccount tokens (metadata only)")) == 4
    judgement = judge_legacy_tokens(
        r.items("token-secrets"), r.items("serviceaccounts"), r.items("pods")
    )
    assert len(judgement.findings) == 4
    held = {f.name: f.detail for f in judgement.findings}
    assert held["default-legacy-token"].endswith(
        "; held by Pod pci-tokens/legacy-token-volume from legacy token Secret "
        "default-legacy-token in volume api (container app)"
    )
    assert held["payments-default-legacy-token"] == (
        "long-lived token for ServiceAccount payments/default; no recorded use"
    )


def test_no_legacy_token_passes() -> None:
    r = COMPLIANT
    judgement = judge_legacy_tokens(
        r.items("token-secrets"), r.items("serviceaccounts"), r.items("pods")
    )
    assert judgement.passed == "no secret-based ServiceAccount tokens"


def test_annotated_copies_are_set_aside_by_name() -> None:
    copies = annotated_copies(NONCOMPLIANT.items("secrets"), NONCOMPLIANT.items("token-secrets"))
    assert evidence(
        copies, "Not legacy tokens: Secrets of another type with the service-account annotation"
    ) == ["Secret pci-tokens/ci-bot-token-copy"]
    assert annotated_copies([], NONCOMPLIANT.items("token-secrets")).evidence == ()


def test_only_the_token_type_makes_a_legacy_token() -> None:
    opaque = copy.deepcopy(NONCOMPLIANT.items("token-secrets")[0])
    opaque["type"] = "Opaque"
    assert (
        evidence(listed_tokens([opaque]), "Secret-based ServiceAccount tokens (metadata only)")
        == []
    )


# ------------------------------------------------------------------ 1.5.1 automount
def test_an_unrequested_token_is_a_finding() -> None:
    judgement = judge_pod_token_automount(*gathered(NONCOMPLIANT))
    assert lines(judgement) == [
        "Pod payments/payments-api: ServiceAccount payments/default credential in the "
        "admission-injected volume kube-api-access-jqdk4 (container httpd); neither pod nor "
        "ServiceAccount sets it; default true"
    ]
    asked = evidence(judgement, "Pods that hold a credential because they ask for it")
    assert any(line.startswith("Pod pci-tokens/legacy-token-env: ") for line in asked)


def test_pods_that_ask_for_their_tokens_pass() -> None:
    judgement = judge_pod_token_automount(*gathered(COMPLIANT))
    assert judgement.passed == "every credential a pod holds was explicitly requested"


def test_unlisted_token_secrets_are_a_limitation_of_the_automount_check() -> None:
    accounts, pods, _ = gathered(COMPLIANT)
    judgement = judge_pod_token_automount(accounts, pods, NOT_LISTED)
    assert judgement.passed  # a Secret a pod names is an explicit request either way
    assert evidence(judgement, "Limitation").startswith(
        "legacy token Secrets could not be listed (secrets is forbidden)"
    )


def reading_other_keys() -> Obj:
    """A pod that mounts only the ca.crt of a token Secret: no credential, a note."""
    return {
        "metadata": {"name": "ca-reader", "namespace": "pci-tokens"},
        "spec": {
            "serviceAccountName": "ci-bot",
            "automountServiceAccountToken": False,
            "volumes": [
                {"name": "ca", "secret": {"secretName": "ci-bot-legacy-token",
                                          "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            ],
            "containers": [{"name": "app", "volumeMounts": [{"name": "ca", "mountPath": "/ca"}]}],
        },
    }  # fmt: skip


def test_settings_that_deliver_no_credential_are_noted() -> None:
    accounts, _, secrets = gathered(NONCOMPLIANT)
    for judge in (judge_pod_token_automount, judge_default_account_use):
        judgement = judge(accounts, [reading_other_keys()], secrets)
        assert evidence(judgement, "Settings that deliver no credential") == [
            "Pod pci-tokens/ca-reader: volume ca projects only other keys of Secret "
            "ci-bot-legacy-token"
        ]
        assert judgement.findings == ()


def test_mirror_pods_are_left_out() -> None:
    mirror = reading_other_keys()
    mirror["metadata"]["annotations"] = {"kubernetes.io/config.mirror": "abc"}
    accounts, _, secrets = gathered(NONCOMPLIANT)
    assert held_credentials(accounts, [mirror], secrets) == []


# ------------------------------------------------------------------ 1.5.2 default account
def test_pods_using_a_default_account_are_findings() -> None:
    judgement = judge_default_account_use(*gathered(NONCOMPLIANT))
    assert len(judgement.findings) == 5
    assert "Pod pci-tokens/legacy-token-volume" in {f.ref for f in judgement.findings}


def test_no_pod_on_a_default_account_passes() -> None:
    judgement = judge_default_account_use(*gathered(COMPLIANT))
    assert judgement.passed == "no pod uses a default ServiceAccount's credential"
    assert judgement.evidence == ()


def test_unlisted_token_secrets_leave_unresolved_references_unjudged() -> None:
    accounts, pods, _ = gathered(COMPLIANT)
    judgement = judge_default_account_use(accounts, pods, NOT_LISTED)
    assert judgement.unavailable == (
        "secrets is forbidden: 1 Secret reference(s) in pods may be legacy ServiceAccount tokens"
    )
    assert titles(judgement) == ["Secret references not resolved"]
    (unresolved,) = evidence(judgement, "Secret references not resolved")
    assert " names " in unresolved


def test_unlisted_token_secrets_matter_only_where_a_pod_names_a_secret() -> None:
    from tests import builders as b

    pods = [b.pod("web", ns="shop", sa="web", automount=False)]
    judgement = judge_default_account_use([], pods, NOT_LISTED)
    assert judgement.passed == "no pod uses a default ServiceAccount's credential"
    assert "Secret references not resolved" not in titles(judgement)


def test_a_finding_outweighs_unresolved_references() -> None:
    accounts, pods, _ = gathered(NONCOMPLIANT)
    judgement = judge_default_account_use(accounts, pods, NOT_LISTED)
    assert len(judgement.findings) == 2 and judgement.unavailable == ""
    assert "Secret references not resolved" in titles(judgement)


# ------------------------------------------------------------------ 1.3.4 lifetimes
def test_no_cap_and_the_one_year_extension_are_findings() -> None:
    judgement = judge_token_lifetime_cap(NONCOMPLIANT.flags("kube-apiserver"), LIMIT)
    assert [f.detail.split(":")[0] for f in sorted(judgement.findings)] == [
        "admission-injected tokens are extended to one year",
        "no token lifetime cap (--service-account-max-token-expiration not set; Kubernetes "
        "default 0s applies)",
    ]


def test_a_cap_within_policy_passes() -> None:
    judgement = judge_token_lifetime_cap(COMPLIANT.flags("kube-apiserver"), LIMIT)
    assert judgement.passed == "token lifetimes capped within 86400s"
    assert titles(judgement) == ["kube-apiserver flags (kube-system/kube-apiserver-vm)"]


def test_a_cap_over_policy_is_a_finding() -> None:
    flags = apiserver(**{
        "service-account-max-token-expiration": "48h",
        "service-account-extend-token-expiration": "false",
    })  # fmt: skip
    assert lines(judge_token_lifetime_cap([flags], LIMIT)) == [
        "Pod kube-system/kube-apiserver-cp: --service-account-max-token-expiration=48h (set on "
        "pod kube-system/kube-apiserver-cp): 172800s exceeds the 86400s policy"
    ]


def test_a_cap_the_server_refuses_leaves_no_verdict() -> None:
    judgement = judge_token_lifetime_cap(
        [apiserver(**{"service-account-max-token-expiration": "10m"})], LIMIT
    )
    assert "is outside 1h..2^32s" in judgement.unavailable
    assert len(judgement.evidence) == 1


def test_projected_tokens_live_as_the_server_issues_them() -> None:
    judgement = judge_projected_tokens(
        Gathered(NONCOMPLIANT.flags("kube-apiserver")), Gathered(NONCOMPLIANT.items("pods")), LIMIT
    )
    assert [f.ref for f in sorted(judgement.findings)] == [
        "Pod payments/payments-api",
        "Pod payments/report-exporter",
        "Pod pci-rbac-b/admin-workload",
    ]
    assert titles(judgement) == [
        "How the API server issues pod tokens",
        "Policy",
        "Tokens the server issues for another lifetime than asked",
    ]
    assert evidence(judgement, "Policy") == "longest acceptable token lifetime: 86400s"


def test_a_capped_server_shortens_long_requests() -> None:
    judgement = judge_projected_tokens(
        Gathered(COMPLIANT.flags("kube-apiserver")), Gathered(COMPLIANT.items("pods")), LIMIT
    )
    assert judgement.passed == "every projected token lives at most 86400s"
    assert evidence(judgement, "Tokens the server issues for another lifetime than asked") == [
        "Pod pci-tokens/long-projected-token: projected token volume api-token asks for "
        "172800s; --service-account-max-token-expiration shortens it to 3600s (kube-apiserver "
        "kube-system/kube-apiserver-vm)"
    ]


def test_unread_flags_assume_the_servers_defaults() -> None:
    (issued,) = issuances(Gathered([], "managed control plane"))
    assert issued.max_seconds == 0 and issued.extend
    assert issued.source == "Kubernetes defaults assumed (managed control plane)"


def test_flags_the_server_refuses_assume_its_defaults() -> None:
    hidden = dataclasses.replace(
        apiserver(), unresolved={"service-account-max-token-expiration": "from $(MAX)"}
    )
    (issued,) = issuances(Gathered([hidden]))
    assert "--service-account-max-token-expiration cannot be read" in issued.source


def test_unreadable_pods_leave_no_verdict_after_the_issuance_evidence() -> None:
    judgement = judge_projected_tokens(
        Gathered([], "pods: forbidden"), Gathered([], "pods: forbidden"), LIMIT
    )
    assert judgement.unavailable == "pods: forbidden"
    assert titles(judgement) == ["How the API server issues pod tokens"]


def test_a_token_at_the_limit_passes_and_each_longer_one_is_named() -> None:
    """The policy is a maximum: a token living exactly LIMIT seconds passes; a pod holding
    several longer ones has one finding naming each."""
    from tests import builders as b

    server = [apiserver(**{"service-account-extend-token-expiration": "false"})]
    at_limit = b.pod("edge", ns="shop", volumes=[b.token_volume("day", LIMIT)])
    judged = judge_projected_tokens(Gathered(server), Gathered([at_limit]), LIMIT)
    assert judged.passed == "every projected token lives at most 86400s"
    volumes = [b.token_volume("two-days", 2 * LIMIT), b.token_volume("week", 7 * LIMIT)]
    longer = b.pod("batch", ns="shop", volumes=volumes)
    (finding,) = judge_projected_tokens(Gathered(server), Gathered([longer]), LIMIT).findings
    assert (finding.namespace, finding.name) == ("shop", "batch")
    assert finding.detail.count(", over the 86400s policy") == 2
    assert "over the 86400s policy; projected token volume week" in finding.detail


def test_a_cap_at_the_limit_passes() -> None:
    flags = apiserver(**{
        "service-account-max-token-expiration": "24h",
        "service-account-extend-token-expiration": "false",
    })  # fmt: skip
    assert judge_token_lifetime_cap([flags], LIMIT).passed == "token lifetimes capped within 86400s"


def test_every_unrequested_and_every_asked_for_credential_is_joined() -> None:
    import copy

    from tests import builders as b
    from tests.support.evidence_cases import recorded as recorded_pod

    payments = recorded_pod("noncompliant", "pods", "payments-api")
    (plugin,) = [v for v in payments["spec"]["volumes"] if v["name"].startswith("kube-api-access-")]
    twice = copy.deepcopy(plugin) | {"name": "kube-api-access-again"}
    held = b.pod("twice", ns="shop", volumes=[plugin, twice])
    asked = b.pod(
        "asks", ns="shop", automount=False, volumes=[b.token_volume("a", 600), b.token_volume("b")]
    )
    judgement = judge_pod_token_automount([], [held, asked], NOT_LISTED)
    (finding,) = judgement.findings
    assert finding.detail.count("; ServiceAccount shop/default credential in the admission") == 1
    (line,) = evidence(judgement, "Pods that hold a credential because they ask for it")
    assert line.startswith("Pod shop/asks: ServiceAccount shop/default credential in projected")
    assert "written in the pod spec; ServiceAccount shop/default credential in projected" in line
    assert evidence(judgement, "Limitation") == (
        "legacy token Secrets could not be listed (secrets is forbidden); a Secret a pod names "
        "is an explicit request either way, so the verdict does not depend on them"
    )
