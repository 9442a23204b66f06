"""The check bodies of tests_pci: they gather through the facade, in order, and conclude.

Each runs against a session holding one profile's recorded evidence (only what the
facade reads), with one read made to fail or to differ, to show what a body itself
decides: where evidence it could not gather is a limitation rather than an error (the
kubelet configz for the read-only port, the token Secrets for the pod checks, the API
server flags for token lifetimes), that evidence judged before a failing read is kept,
and that an instance is probed only while the verdict still depends on it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from kubepci import catalogue
from kubepci.analysis.access_review import AccessAnswer
from kubepci.analysis.authorizer import Identity, Request
from kubepci.analysis.distribution import Distribution
from kubepci.analysis.endpoints import ReadOnlyTarget
from kubepci.analysis.flags import ComponentFlags
from kubepci.facade import Cluster, Settings
from kubepci.records.probes import ProbeResult
from kubepci.verdict import CheckOutcome, EvidenceUnavailable, Verdict
from tests.support.judge_evidence import Recorded, recorded
from tests_pci import test_1_1_unauthenticated_access as t11
from tests_pci import test_1_2_generic_admin_accounts as t12
from tests_pci import test_1_3_revocable_credentials as t13
from tests_pci import test_1_5_workload_credentials as t15
from tests_pci import test_1_6_mfa_external_auth as t16

CHECKS = catalogue.load().checks
Obj = dict[str, Any]


def unavailable(reason: str) -> Callable[..., Any]:
    def read(*_args: Any) -> Any:
        raise EvidenceUnavailable(reason)

    return read


class Snapshot:
    """The recorded lists, any of which can be made unreadable."""

    def __init__(self, r: Recorded, failing: dict[str, str]) -> None:
        self._r, self._failing = r, failing

    def __getattr__(self, name: str) -> list[Obj]:
        if name in self._failing:
            raise EvidenceUnavailable(self._failing[name])
        resource = {
            "service_accounts": "serviceaccounts",
            "endpoint_slices": "endpointslices",
            "token_secrets": "token-secrets",
            "csrs": "certificatesigningrequests",
        }.get(name, name)
        return self._r.items(resource)


def session(profile: str, failing: dict[str, str] | None = None, **overrides: Any) -> Any:
    r = recorded(profile)
    control_plane = {c: r.flags(c) for c in r.control_plane}
    probes_asked: list[str] = []

    def component_probes(component: str, flags: ComponentFlags) -> list[ProbeResult]:
        probes_asked.append(flags.pod)
        return r.component_probes(component)

    found = SimpleNamespace(
        target=SimpleNamespace(
            id=profile, server=r.server, user=r.target["user"], kubeconfig="/kubeconfig",
            credential=r.credential,
        ),
        snapshot=Snapshot(r, failing or {}),
        control_plane=control_plane,
        config_files=lambda _component, instances: instances,
        distribution=Distribution("kubeadm", ("recorded",)),
        node_addresses=r.node_addresses,
        kubelet_configz=lambda: r.configz,
        read_only_port_probes=lambda targets: r.probes("kubelet-read-only"),
        component_probes=component_probes,
        probes_asked=probes_asked,
        privileges=r.privileges,
        identity=r.identity,
    )  # fmt: skip
    for name, value in overrides.items():
        setattr(found, name, value)
    return found


def run(check: str, body: Callable[[Cluster], None], view: Any) -> tuple[Cluster, str]:
    """The check's result and how it ended (the verdict, or the outcome it raised)."""
    cluster = Cluster(view, CHECKS[check], [], Settings(86400, "/"))
    try:
        body(cluster)
    except pytest.fail.Exception:
        return cluster, str(cluster.result.verdict)
    except CheckOutcome as outcome:
        return cluster, f"{outcome.verdict}: {outcome.reason}"
    return cluster, str(cluster.result.verdict)


def titles(cluster: Cluster) -> list[str]:
    return [e.title for e in cluster.result.evidence]


# ------------------------------------------------------------------ 1.1.4
def test_configz_not_read_still_probes_the_default_read_only_port() -> None:
    asked: list[list[ReadOnlyTarget]] = []

    def probes(targets: list[ReadOnlyTarget]) -> list[ProbeResult]:
        asked.append(targets)
        return recorded("compliant").probes("kubelet-read-only")

    view = session(
        "compliant",
        kubelet_configz=unavailable("nodes/proxy: forbidden"),
        read_only_port_probes=probes,
    )
    _, ended = run("kubelet-read-only-port", t11.test_kubelets_do_not_serve_read_only_port, view)
    assert ended == str(Verdict.PASSED)
    ((target,),) = asked
    assert target.port == 10255 and "configz not read (nodes/proxy: forbidden)" in target.basis
    # The kubelet-config check itself cannot judge without configz: an error.
    _, config = run(
        "kubelet-config", t11.test_kubelet_configuration_disables_anonymous_access, view
    )
    assert config == f"{Verdict.ERROR}: nodes/proxy: forbidden"


def test_the_targets_are_recorded_before_the_read_only_port_is_probed() -> None:
    view = session("compliant", read_only_port_probes=unavailable("probe record missing"))
    cluster, ended = run(
        "kubelet-read-only-port", t11.test_kubelets_do_not_serve_read_only_port, view
    )
    assert ended == f"{Verdict.ERROR}: probe record missing"
    assert titles(cluster) == ["Read-only port probed on each kubelet, and why that port"]


# ------------------------------------------------------------------ 1.1.2 instances
def test_an_instance_is_probed_only_while_the_verdict_depends_on_it() -> None:
    (flags,) = recorded("compliant").flags("kube-scheduler")
    second = dataclasses.replace(flags, pod="kube-system/kube-scheduler-b")
    filtered = [
        dataclasses.replace(p, error="timed out")
        for p in recorded("compliant").component_probes("kube-scheduler")
    ]
    asked: list[str] = []

    def probes(_component: str, instance: ComponentFlags) -> list[ProbeResult]:
        asked.append(instance.pod)
        return filtered

    view = session("compliant", component_probes=probes)
    view.control_plane["kube-scheduler"] = [flags, second]
    cluster, ended = run(
        "scheduler-anonymous-probe", t11.test_scheduler_serves_nothing_anonymously, view
    )
    assert ended.startswith(f"{Verdict.ERROR}: https://192.0.2.2:10259 did not answer (timed out)")
    assert asked == ["kube-system/kube-scheduler-vm"]
    assert titles(cluster) == ["Unauthenticated requests to kube-system/kube-scheduler-vm"]


def test_every_instance_is_probed_and_judged() -> None:
    (flags,) = recorded("noncompliant").flags("kube-scheduler")
    second = dataclasses.replace(flags, pod="kube-system/kube-scheduler-b")
    view = session("noncompliant")
    view.control_plane["kube-scheduler"] = [flags, second]
    cluster, ended = run(
        "scheduler-anonymous-probe", t11.test_scheduler_serves_nothing_anonymously, view
    )
    assert ended == str(Verdict.FAILED)
    assert view.probes_asked == ["kube-system/kube-scheduler-vm", "kube-system/kube-scheduler-b"]
    assert len(titles(cluster)) == 2


def test_an_instance_without_an_address_ends_after_the_instances_before_it() -> None:
    (flags,) = recorded("compliant").flags("kube-scheduler")
    lost = dataclasses.replace(flags, pod="kube-system/kube-scheduler-b", node="gone")
    view = session("compliant")
    view.control_plane["kube-scheduler"] = [flags, lost]
    cluster, ended = run(
        "scheduler-anonymous-probe", t11.test_scheduler_serves_nothing_anonymously, view
    )
    assert (
        ended
        == f"{Verdict.ERROR}: no network address found for kube-system/kube-scheduler-b's node"
    )
    assert view.probes_asked == ["kube-system/kube-scheduler-vm"]
    assert titles(cluster) == [
        "Unauthenticated requests to kube-system/kube-scheduler-vm",
        "kube-system/kube-scheduler-vm is not reachable on the node address",
    ]


# ------------------------------------------------------------------ 1.3.4
def test_token_lifetimes_assume_the_defaults_where_the_flags_are_not_visible() -> None:
    view = session("compliant")
    view.control_plane["kube-apiserver"] = []
    view.distribution = Distribution("eks", ("eks server",))
    cluster, ended = run(
        "projected-token-expiration", t13.test_projected_tokens_within_policy, view
    )
    assert ended == str(Verdict.FAILED)  # a 3607 s token lives a year under the defaults
    (issued,) = cluster.result.evidence[0].content
    assert issued["max_seconds"] == 0 and issued["extend"] is True
    assert "managed control plane" in issued["server"]


def test_unreadable_pods_end_token_lifetimes_after_the_issuance_evidence() -> None:
    view = session("compliant", {"pods": "pods is forbidden"})
    cluster, ended = run(
        "projected-token-expiration", t13.test_projected_tokens_within_policy, view
    )
    assert ended == f"{Verdict.ERROR}: pods is forbidden"
    assert titles(cluster) == ["How the API server issues pod tokens"]


def test_legacy_tokens_listed_are_kept_when_the_secrets_list_fails() -> None:
    view = session("noncompliant", {"secrets": "secrets is forbidden"})
    cluster, ended = run(
        "legacy-service-account-tokens", t13.test_no_secret_based_service_account_tokens, view
    )
    assert ended == f"{Verdict.ERROR}: secrets is forbidden"
    assert titles(cluster) == ["Secret-based ServiceAccount tokens (metadata only)"]


# ------------------------------------------------------------------ 1.5
@pytest.mark.parametrize(
    ("check", "body", "ended"),
    [
        ("pod-token-automount", t15.test_pods_get_tokens_only_when_they_ask, str(Verdict.PASSED)),
        ("default-service-account-in-use", t15.test_no_pod_runs_as_default_service_account,
         f"{Verdict.ERROR}: token-secrets: forbidden: 1 Secret reference(s) in pods may be "
         "legacy ServiceAccount tokens"),
    ],
)  # fmt: skip
def test_token_secrets_not_listed_are_a_limitation_of_the_pod_checks(
    check: str, body: Callable[[Cluster], None], ended: str
) -> None:
    view = session("compliant", {"token_secrets": "token-secrets: forbidden"})
    assert run(check, body, view)[1] == ended


# ------------------------------------------------------------------ 1.2.1 / 1.6.1
def test_a_finding_the_authorizer_does_not_confirm_errors_after_the_inventory() -> None:
    def reviews(pairs: list[tuple[Identity, Request]]) -> list[AccessAnswer]:
        return [AccessAnswer(allowed=False, reason="no RBAC") for _ in pairs]

    view = session("noncompliant", access_reviews=reviews)
    cluster, ended = run(
        "generic-cluster-admin-bindings", t12.test_no_generic_account_holds_cluster_admin, view
    )
    assert ended.startswith(
        f"{Verdict.ERROR}: 5 finding(s) the API server's authorizer does not confirm"
    )
    assert titles(cluster)[:2] == [
        "Every cluster-admin equivalent principal and its path (system:masters members are "
        "not visible through the API)",
        "Kubernetes' default policy (set aside: exactly the upstream default)",
    ]


def test_the_distribution_is_kept_when_the_api_server_flags_cannot_be_read() -> None:
    view = session("compliant")
    view.control_plane["kube-apiserver"] = []
    view.distribution = Distribution("unknown", ("no marker",))
    cluster, ended = run(
        "external-authenticator", t16.test_api_server_trusts_external_identity_provider, view
    )
    assert ended.startswith(f"{Verdict.ERROR}: no kube-apiserver pod in kube-system")
    assert titles(cluster) == ["Distribution"]
    view.distribution = Distribution("gke", ("gke server",))
    assert run(
        "external-authenticator", t16.test_api_server_trusts_external_identity_provider, view
    )[1].startswith(f"{Verdict.MANUAL}: ")
