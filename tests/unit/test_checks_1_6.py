"""PCI 1.6 offline: people authenticate through an external identity provider with MFA.
The three checks of tests_pci judged through replay on edited recordings of the local
clusters: the kube-apiserver's authenticator flags, a managed control plane, and the
kubeconfig user's credential as the suite records it (types and claims, never a secret).
"""

from __future__ import annotations

import pytest

from tests import builders as b
from tests.support.evidence_cases import Evidence, Obj, with_flag, without_flag
from tests.unit.test_credential import LEGACY_CLAIMS, unsigned_jwt

pytest_plugins = ["pytester"]

EXTERNAL = "external-authenticator"
PLUGIN = "kubeconfig-credential-plugin"
MFA = "mfa-at-identity-provider"
AUTHN_CONFIG = "authentication-config"


@pytest.fixture
def compliant(pytester: pytest.Pytester) -> Evidence:
    return Evidence(pytester, "compliant")


@pytest.fixture
def noncompliant(pytester: pytest.Pytester) -> Evidence:
    return Evidence(pytester, "noncompliant")


# ------------------------------------------------------------ external-authenticator
def test_an_api_server_trusting_no_identity_provider_fails(compliant: Evidence) -> None:
    compliant.command("kube-apiserver", lambda argv: without_flag(argv, AUTHN_CONFIG))
    judged = compliant.judge(EXTERNAL)
    assert judged.failures() == [
        (
            "Pod",
            "kube-system",
            "kube-apiserver-vm",
            "no external authenticator: none of --authentication-config, --oidc-issuer-url, "
            "--authentication-token-webhook-config-file is set",
        )
    ]


@pytest.mark.parametrize(
    "flag",
    [
        "--oidc-issuer-url=https://idp.example.com",
        "--authentication-token-webhook-config-file=/etc/kubernetes/authn-webhook.yaml",
    ],
)
def test_oidc_flags_or_a_token_webhook_pass(noncompliant: Evidence, flag: str) -> None:
    noncompliant.command("kube-apiserver", lambda argv: with_flag(argv, flag))
    judged = noncompliant.judge(EXTERNAL)
    assert (judged.verdict, judged.reason) == ("passed", "an external authenticator is configured")
    assert judged.evidence("Distribution")["name"] == "kubeadm"


def test_a_managed_control_plane_is_the_providers_iam_to_attest(compliant: Evidence) -> None:
    compliant.managed_by_eks()
    judged = compliant.judge(EXTERNAL)
    assert judged.verdict == "manual"
    assert judged.reason.startswith(
        "Amazon EKS runs the API server; the provider's IAM is assumed to authenticate people, "
        "which the Kubernetes API cannot show. Attest from the provider's configuration that "
        "the cluster's authentication mode uses IAM access entries"
    )
    distribution = judged.evidence("Distribution")
    assert (distribution["name"], distribution["managed"]) == ("eks", True)
    assert (judged.junit, judged.ret) == ("skipped", 0)


# ------------------------------------------------------------ kubeconfig-credential-plugin
@pytest.mark.parametrize(
    ("entry", "detail", "finding_class"),
    [
        (
            b.token_user(),
            "authenticates with static bearer token in the kubeconfig, a static credential",
            "static-credential",
        ),
        (
            {"username": "jane", "password": "not-a-real-password"},
            "authenticates with username and password (the API server has accepted no basic "
            "auth since v1.19), a static credential",
            "static-credential",
        ),
        ({}, "sends no credentials", "no-credential"),
        (
            {"token": unsigned_jwt(LEGACY_CLAIMS)},
            "authenticates with a legacy secret-based token of ServiceAccount payments/default "
            "(Secret payments-default-legacy-token): it never expires: a shared workload "
            "identity, not the person's own, and no MFA",
            "service-account-token",
        ),
        (
            {**b.exec_user(), **b.cert_data_user("jane", ["payments-devs"])},
            "sends client certificate CN=jane O=payments-devs, a static credential that no MFA "
            "protects",
            "client-certificate",
        ),
    ],
)
def test_a_static_or_shared_credential_fails(
    compliant: Evidence, entry: Obj, detail: str, finding_class: str
) -> None:
    compliant.kubeconfig_user(entry)
    judged = compliant.judge(PLUGIN)
    assert judged.failures() == [("KubeconfigUser", "", "jane", detail)]
    assert judged.classes == [finding_class]


def test_an_auth_provider_plugin_passes(noncompliant: Evidence) -> None:
    noncompliant.kubeconfig_user({"auth-provider": {"name": "oidc", "config": {}}})
    judged = noncompliant.judge(PLUGIN)
    assert (judged.verdict, judged.reason) == ("passed", "authenticates through auth-provider oidc")


def test_an_exec_plugin_yielding_a_service_account_fails(compliant: Evidence) -> None:
    compliant.edit(
        "identity",
        lambda record: record["ok"].update(
            username="system:serviceaccount:ci:auditor", groups=["system:serviceaccounts"]
        ),
    )
    judged = compliant.judge(PLUGIN)
    assert judged.failures() == [
        (
            "KubeconfigUser",
            "",
            "auditor@example.com",
            "authenticates as ServiceAccount ci/auditor (SelfSubjectReview) through exec plugin "
            "python: a shared workload identity, not the person's own, and no MFA",
        )
    ]


def test_a_user_entry_client_go_refuses_errors(compliant: Evidence) -> None:
    compliant.kubeconfig_user({"exec": {"command": "kubectl-oidc_login"}})
    judged = compliant.judge(PLUGIN)
    assert judged.verdict == "error"
    assert judged.reason == (
        "evidence unavailable: client-go refuses this user: an exec plugin without an "
        "apiVersion; an exec plugin with interactiveMode unset: kubectl cannot use this user "
        "entry, so what it would send cannot be judged"
    )


# ------------------------------------------------------------ mfa-at-identity-provider
def test_mfa_is_attested_whatever_the_cluster_shows(noncompliant: Evidence) -> None:
    noncompliant.managed_by_eks()
    judged = noncompliant.judge(MFA)
    assert (judged.verdict, judged.reason) == (
        "manual",
        "MFA is enforced in the identity provider's policy; attach that policy as evidence",
    )
    assert (judged.junit, judged.ret) == ("skipped", 0)


def test_mfa_needs_no_cluster_evidence(compliant: Evidence) -> None:
    compliant.fails_to_collect("list-pods", "cannot list pods: 403 forbidden")
    compliant.fails_to_collect("list-clusterrolebindings", "cannot list: 403 forbidden")
    compliant.remove("kubelet-configz")
    judged = compliant.judge(MFA)
    assert judged.verdict == "manual"
