"""1.3.1, 1.4.1 and 1.6.1 judged (kubepci.analysis.credentials, authenticators): the
audited person's kubeconfig credential and the API server's authenticators. Built on the
recorded credential, SelfSubjectReview and kube-apiserver pod of both local profiles,
varied by hand."""

from __future__ import annotations

import dataclasses

import pytest

from kubepci.analysis.authenticators import (
    MFA,
    distribution_evidence,
    judge_external_authenticator,
    judge_mfa_at_identity_provider,
    judge_static_token_file,
)
from kubepci.analysis.credentials import judge_plugin_credential, judge_revocable_credential
from kubepci.analysis.distribution import Distribution
from kubepci.analysis.flags import ComponentFlags
from tests.support.judge_evidence import evidence, lines, recorded, titles

COMPLIANT = recorded("compliant")
NONCOMPLIANT = recorded("noncompliant")
LIMIT = 86400
SERVICE_ACCOUNT = {
    "username": "system:serviceaccount:ci:deployer",
    "groups": ["system:serviceaccounts", "system:authenticated"],
}


def apiserver(**flags: str) -> ComponentFlags:
    return ComponentFlags(
        "kube-apiserver", "kube-system/kube-apiserver-cp", "cp", dict(flags),
    )  # fmt: skip


# ------------------------------------------------------------------ 1.3.1
def test_a_client_certificate_cannot_be_revoked() -> None:
    judgement = judge_revocable_credential(
        "kubernetes-admin", NONCOMPLIANT.credential, NONCOMPLIANT.identity, LIMIT
    )
    assert lines(judgement) == [
        "KubeconfigUser kubernetes-admin: client certificate CN=kubernetes-admin "
        "O=kubeadm:cluster-admins: client certificates cannot be revoked [client-certificate]"
    ]


def test_an_exec_plugin_is_revocable() -> None:
    judgement = judge_revocable_credential(
        "auditor", COMPLIANT.credential, COMPLIANT.identity, LIMIT
    )
    assert judgement.passed == (
        "the kubeconfig user sends no client certificate; it authenticates with exec plugin python"
    )
    assert judgement.evidence == ()  # the facade recorded the credential


def test_a_credential_kubectl_refuses_leaves_no_verdict() -> None:
    refused = dataclasses.replace(COMPLIANT.credential, refused="exec and token both set")
    for judgement in (
        judge_revocable_credential("auditor", refused, COMPLIANT.identity, LIMIT),
        judge_plugin_credential("auditor", refused, COMPLIANT.identity),
    ):
        assert judgement.unavailable == (
            "exec plugin python: kubectl cannot use this user entry, so what it would send "
            "cannot be judged"
        )


def test_a_service_account_token_outside_the_kubeconfig_leaves_no_verdict() -> None:
    judgement = judge_revocable_credential("auditor", COMPLIANT.credential, SERVICE_ACCOUNT, LIMIT)
    assert judgement.unavailable == (
        "the API server authenticates this user as ServiceAccount ci/deployer "
        "(SelfSubjectReview), through exec plugin python; that token is not in the "
        "kubeconfig, so its kind and lifetime cannot be read"
    )
    # The plugin check judges it: a shared workload identity, not the person's own.
    plugin = judge_plugin_credential("auditor", COMPLIANT.credential, SERVICE_ACCOUNT)
    assert [f.finding_class for f in plugin.findings] == ["service-account-token"]


# ------------------------------------------------------------------ 1.6.1 credential
def test_a_static_credential_is_no_plugin() -> None:
    judgement = judge_plugin_credential(
        "kubernetes-admin", NONCOMPLIANT.credential, NONCOMPLIANT.identity
    )
    assert [f.finding_class for f in judgement.findings] == ["client-certificate"]


def test_a_plugin_passes() -> None:
    judgement = judge_plugin_credential("auditor", COMPLIANT.credential, COMPLIANT.identity)
    assert judgement.passed == "authenticates through exec plugin python"


# ------------------------------------------------------------------ 1.4.1
def test_a_static_token_file_is_a_finding() -> None:
    judgement = judge_static_token_file(NONCOMPLIANT.flags("kube-apiserver"))
    assert lines(judgement) == [
        "Pod kube-system/kube-apiserver-vm: static token file in use: "
        "--token-auth-file=/etc/kubernetes/kubepci/static-tokens.csv (set on pod "
        "kube-system/kube-apiserver-vm)"
    ]
    assert titles(judgement) == ["kube-apiserver flags (kube-system/kube-apiserver-vm)"]


def test_no_token_file_passes() -> None:
    assert judge_static_token_file(COMPLIANT.flags("kube-apiserver")).passed == (
        "no --token-auth-file"
    )


def test_a_token_file_that_cannot_be_read_leaves_no_verdict() -> None:
    hidden = dataclasses.replace(apiserver(), unresolved={"token-auth-file": "from $(TOKENS)"})
    judgement = judge_static_token_file([hidden])
    assert judgement.unavailable == (
        "kube-system/kube-apiserver-cp: --token-auth-file cannot be read: from $(TOKENS)"
    )
    assert (
        judgement.evidence[0]
        .content["flags"]["token-auth-file"]
        .startswith("--token-auth-file: not known")
    )


# ------------------------------------------------------------------ 1.6.1 authenticator
KUBEADM = Distribution("kubeadm", ("kubeadm-config ConfigMap",))


def test_the_distribution_is_recorded_first() -> None:
    step = distribution_evidence(KUBEADM)
    assert evidence(step, "Distribution") == KUBEADM.to_json()
    assert not step.ends


@pytest.mark.parametrize(
    "flag",
    [
        "authentication-config",
        "oidc-issuer-url",
        "authentication-token-webhook-config-file",
    ],
)
def test_any_external_authenticator_passes(flag: str) -> None:
    judgement = judge_external_authenticator(KUBEADM, [apiserver(**{flag: "x"})])
    assert judgement.passed == "an external authenticator is configured"


def test_the_recorded_profiles() -> None:
    assert judge_external_authenticator(KUBEADM, COMPLIANT.flags("kube-apiserver")).passed
    (finding,) = judge_external_authenticator(
        KUBEADM, NONCOMPLIANT.flags("kube-apiserver")
    ).findings
    assert finding.detail == (
        "no external authenticator: none of --authentication-config, --oidc-issuer-url, "
        "--authentication-token-webhook-config-file is set"
    )


def test_a_managed_control_plane_is_for_a_person_to_attest() -> None:
    eks = Distribution("eks", ("eks.amazonaws.com server",))
    judgement = judge_external_authenticator(eks, None)
    assert judgement.manual.startswith("Amazon EKS runs the API server;")
    assert judgement.evidence == ()


def test_an_authenticator_flag_that_cannot_be_read_leaves_no_verdict() -> None:
    hidden = dataclasses.replace(apiserver(), unresolved={"oidc-issuer-url": "from $(ISSUER)"})
    judgement = judge_external_authenticator(KUBEADM, [hidden])
    assert judgement.unavailable.endswith("--oidc-issuer-url cannot be read: from $(ISSUER)")
    assert titles(judgement) == ["kube-apiserver flags (kube-system/kube-apiserver-cp)"]


def test_mfa_is_attested() -> None:
    assert judge_mfa_at_identity_provider().manual == MFA


def test_a_bound_token_is_judged_against_the_lifetime_policy() -> None:
    from kubepci.access.credential import classify_user
    from tests.unit.test_credential_findings import bound, sa_identity

    long_lived = classify_user({"token": bound(2 * LIMIT)})
    judgement = judge_revocable_credential("ci", long_lived, sa_identity(), LIMIT)
    assert [f.finding_class for f in judgement.findings] == ["long-lived-service-account-token"]
    short = classify_user({"token": bound(600)})
    assert judge_revocable_credential("ci", short, sa_identity(), LIMIT).passed.startswith(
        "the kubeconfig user sends no client certificate; it authenticates with "
    )
