"""The shipped 1.3.1 / 1.6.1 checks end in the right verdict: a managed control plane is a
manual attestation, visible kube-apiserver flags are judged whatever the distribution, and
only the suite's own in-cluster ServiceAccount is spared the person's credential checks."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from kubepci import catalogue
from kubepci.access.credential import classify_user
from kubepci.access.kubeconfig import IN_CLUSTER
from kubepci.analysis.distribution import Distribution
from kubepci.analysis.flags import DEFAULTS, ComponentFlags
from kubepci.facade import Cluster, Settings
from kubepci.verdict import EvidenceUnavailable, ManualAttestation, NotApplicable, Verdict
from tests.builders import exec_user
from tests.unit.test_credential import LEGACY_CLAIMS, unsigned_jwt
from tests_pci import test_1_3_revocable_credentials as pci13
from tests_pci import test_1_6_mfa_external_auth as pci16

CHECKS = catalogue.load().checks
PERSON = {"username": "oidc:jane@example.com", "groups": ["system:authenticated"], "uid": ""}


def apiserver(*flags: str) -> ComponentFlags:
    explicit = dict(f.lstrip("-").split("=", 1) for f in flags)
    return ComponentFlags(
        "kube-apiserver",
        "kube-system/kube-apiserver-cp",
        "cp",
        explicit,
    )


def view(
    check: str,
    distribution: str = "kubeadm",
    apiservers: tuple[ComponentFlags, ...] = (),
    user: dict[str, Any] | None = None,
    kubeconfig: str = "/home/jane/.kube/config",
    identity: dict[str, Any] | None = None,
) -> Cluster:
    control_plane: dict[str, list[ComponentFlags]] = {c: [] for c in DEFAULTS}
    control_plane["kube-apiserver"] = list(apiservers)
    session = SimpleNamespace(
        target=SimpleNamespace(
            id="c",
            kubeconfig=kubeconfig,
            user="jane",
            credential=classify_user(user or exec_user()),
        ),
        control_plane=control_plane,
        config_files=lambda _component, found: found,
        distribution=Distribution(distribution, ("test",)),
        identity=identity or PERSON,
    )
    return Cluster(session, CHECKS[check], [], Settings())  # type: ignore[arg-type]


def test_managed_control_plane_is_a_manual_attestation() -> None:
    cluster = view("external-authenticator", "aks")
    with pytest.raises(ManualAttestation) as outcome:
        pci16.test_api_server_trusts_external_identity_provider(cluster)
    assert "assumed to authenticate people" in outcome.value.reason
    assert "--disable-local-accounts" in outcome.value.reason
    assert cluster.result.evidence[0].title == "Distribution"


def test_visible_flags_are_judged_whatever_the_distribution() -> None:
    cluster = view("external-authenticator", "eks", (apiserver("--anonymous-auth=false"),))
    with pytest.raises(pytest.fail.Exception):
        pci16.test_api_server_trusts_external_identity_provider(cluster)
    assert cluster.result.verdict is Verdict.FAILED
    passing = view(
        "external-authenticator",
        "gke",
        (apiserver("--authentication-config=/etc/kubernetes/authn.yaml"),),
    )
    pci16.test_api_server_trusts_external_identity_provider(passing)
    assert passing.result.verdict is Verdict.PASSED


def test_self_managed_without_visible_flags_is_an_error() -> None:
    cluster = view("external-authenticator", "unknown")
    with pytest.raises(EvidenceUnavailable, match="no kube-apiserver pod"):
        pci16.test_api_server_trusts_external_identity_provider(cluster)


def test_in_cluster_service_account_is_not_a_person() -> None:
    cluster = view(
        "kubeconfig-credential-plugin",
        kubeconfig=IN_CLUSTER,
        identity={"username": "system:serviceaccount:kubepci:auditor", "groups": []},
    )
    with pytest.raises(NotApplicable, match="workload identity"):
        pci16.test_kubeconfig_user_authenticates_through_plugin(cluster)


def test_person_holding_a_service_account_token_is_judged() -> None:
    legacy = {"token": unsigned_jwt(LEGACY_CLAIMS)}
    identity = {"username": "system:serviceaccount:payments:default", "groups": []}
    plugin = view("kubeconfig-credential-plugin", user=legacy, identity=identity)
    with pytest.raises(pytest.fail.Exception):
        pci16.test_kubeconfig_user_authenticates_through_plugin(plugin)
    assert [f.finding_class for f in plugin.result.findings] == ["service-account-token"]
    revocable = view("kubeconfig-client-certificate", user=legacy, identity=identity)
    with pytest.raises(pytest.fail.Exception):
        pci13.test_kubeconfig_user_has_no_client_certificate(revocable)
    assert [f.finding_class for f in revocable.result.findings] == ["legacy-service-account-token"]
    titles = [e.title for e in revocable.result.evidence]
    assert titles[0].startswith("Kubeconfig user credential, as client-go sends it")
    assert titles[1].startswith("Whom the API server authenticated")


def test_exec_plugin_person_passes_both() -> None:
    for check, function in (
        ("kubeconfig-client-certificate", pci13.test_kubeconfig_user_has_no_client_certificate),
        ("kubeconfig-credential-plugin", pci16.test_kubeconfig_user_authenticates_through_plugin),
    ):
        cluster = view(check)
        function(cluster)
        assert cluster.result.verdict is Verdict.PASSED, cluster.result.reason
