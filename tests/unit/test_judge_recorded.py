"""Every check's judging functions, on the recorded evidence of both local profiles, give
the verdict, reason and findings the suite gave on the live cluster.

Each chain below hands the judging functions what the check body gathers through the
facade, in the same steps (plan, the facade's next request, judge). The facade's own
requests that record evidence (the authorizer's confirmation, the audit log read) are
taken as they went on the cluster: confirmed, and read as recorded. Expected values are
the run's results.json (``expected-results.json``: verdict, reason, findings, and the
titles of the evidence, of which the judging functions' are a subsequence).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import TypeVar

import pytest

from kubepci import jsonio
from kubepci.access.auditlog import AuditLogRead
from kubepci.analysis import (
    admin_accounts,
    api_server_access,
    authenticators,
    certificate_issuance,
    component_access,
    credentials,
    etcd_access,
    keyfiles,
    kubelet_access,
    legacy_tokens,
    minting_rights,
    pod_tokens,
    service_access,
    token_lifetime,
    workload_privileges,
)
from kubepci.analysis.judgement import Gathered, Judgement, Plan
from kubepci.verdict import Evidence
from tests.support.judge_evidence import (
    DATA,
    PROFILES,
    Obj,
    Recorded,
    findings_json,
    pack_results,
    recorded,
    recorded_pack,
    titles,
    verdict,
)

LIMIT = 86400
T = TypeVar("T")


def steps(*judgements: Judgement) -> Judgement:
    """Steps concluded one after another, as Cluster.conclude records them."""
    *before, last = judgements
    for step in before:
        assert not step.ends and not step.findings and not step.passed, step
    evidence = tuple(e for j in judgements for e in j.evidence)
    return Judgement(
        last.findings, last.passed, evidence, last.unavailable, last.not_applicable, last.manual
    )


def planned(plan: Plan[T], judge: Callable[[T], Judgement]) -> Judgement:
    return steps(plan.so_far, judge(plan.then))


def _component_probe(r: Recorded, component: str) -> Judgement:
    (flags,) = r.flags(component)
    probes = r.component_probes(component)
    return steps(
        component_access.plan_instance_probe(flags, r.node_addresses),
        component_access.judge_instance_answers(flags, r.node_addresses, probes),
        component_access.judge_component_probes(component, [probes]),
    )


def _anonymous_config(r: Recorded) -> Judgement:
    plan = api_server_access.plan_anonymous_config(r.flags("kube-apiserver"))
    return steps(
        plan.so_far,
        api_server_access.judge_anonymous_config(plan.then, r.probes("api-server"), r.server),
    )


def _read_only_port(r: Recorded) -> Judgement:
    plan = kubelet_access.plan_read_only_probes(r.node_addresses, r.configz)
    return steps(
        plan.so_far,
        kubelet_access.judge_read_only_probes(plan.then, r.probes("kubelet-read-only")),
    )


def _etcd_probe(r: Recorded) -> Judgement:
    plan = etcd_access.plan_etcd_probes(r.flags("etcd"))
    assert [p.url for p in r.probes("etcd")] == [u + "/version" for u in plan.then]
    return steps(plan.so_far, etcd_access.judge_etcd_probes(r.probes("etcd")))


def _services(r: Recorded) -> Judgement:
    plan = service_access.plan_service_probes(r.items("services"), r.items("endpointslices"))
    return steps(plan.so_far, service_access.judge_service_probes(plan.then, r.service_probes()))


def _client_certificates(r: Recorded) -> Judgement:
    csrs = r.items("certificatesigningrequests")
    retention = certificate_issuance.plan_retention(r.flags("kube-controller-manager"))
    log = AuditLogRead.from_record(r.audit_log_record())
    return steps(
        certificate_issuance.listed_csrs(csrs),
        retention.so_far,
        certificate_issuance.judge_client_certificates(csrs, retention.then, log),
    )


def _legacy_tokens(r: Recorded) -> Judgement:
    token_secrets = r.items("token-secrets")
    return steps(
        legacy_tokens.listed_tokens(token_secrets),
        legacy_tokens.annotated_copies(r.items("secrets"), token_secrets),
        legacy_tokens.judge_legacy_tokens(
            token_secrets, r.items("serviceaccounts"), r.items("pods")
        ),
    )


def _service_account_privileges(r: Recorded) -> Judgement:
    plan = workload_privileges.plan_service_account_privileges(r.privileges)
    return steps(
        plan.so_far,
        workload_privileges.judge_service_account_privileges(plan.then, r.privileges.dangling, []),
    )


def _external_authenticator(r: Recorded) -> Judgement:
    return steps(
        authenticators.distribution_evidence(r.distribution),
        authenticators.judge_external_authenticator(r.distribution, r.flags("kube-apiserver")),
    )


CHAINS: dict[str, Callable[[Recorded], Judgement]] = {
    "api-server-anonymous-probe": lambda r: api_server_access.judge_api_server_probes(
        r.probes("api-server")
    ),
    "api-server-anonymous-config": _anonymous_config,
    "anonymous-rbac-bindings": lambda r: api_server_access.judge_anonymous_rbac(r.rbac_graph),
    "controller-manager-always-allow-paths": lambda r: component_access.judge_always_allow_paths(
        "kube-controller-manager", r.flags("kube-controller-manager")
    ),
    "scheduler-always-allow-paths": lambda r: component_access.judge_always_allow_paths(
        "kube-scheduler", r.flags("kube-scheduler")
    ),
    "controller-manager-anonymous-probe": lambda r: _component_probe(r, "kube-controller-manager"),
    "scheduler-anonymous-probe": lambda r: _component_probe(r, "kube-scheduler"),
    "kubelet-anonymous-probe": lambda r: kubelet_access.judge_kubelet_probes(
        r.probes("kubelet"), r.node_addresses
    ),
    "kubelet-read-only-port": _read_only_port,
    "kubelet-config": lambda r: kubelet_access.judge_kubelet_config(r.configz),
    "etcd-client-cert-auth": lambda r: etcd_access.judge_etcd_client_cert_auth(r.flags("etcd")),
    "etcd-anonymous-probe": _etcd_probe,
    "service-anonymous-probe": _services,
    "generic-cluster-admin-bindings": lambda r: planned(
        admin_accounts.plan_generic_admins(r.privileges),
        admin_accounts.judge_generic_admins,
    ),
    "suite-identity-not-generic": lambda r: admin_accounts.judge_audit_identity(r.identity),
    "break-glass-custody": lambda r: admin_accounts.judge_break_glass_custody("kubeadm"),
    "kubeconfig-client-certificate": lambda r: credentials.judge_revocable_credential(
        r.target["user"], r.credential, r.identity, LIMIT
    ),
    "client-certificate-csrs": _client_certificates,
    "csr-approval-rights": lambda r: planned(
        minting_rights.plan_minting_rights(r.privileges),
        minting_rights.judge_minting_rights,
    ),
    "signing-key-permissions": lambda r: steps(
        keyfiles.plan_key_inspection("/", "a control-plane node's filesystem", "key files"),
        keyfiles.judge_signing_keys(r.key_files("signing")),
    ),
    "legacy-service-account-tokens": _legacy_tokens,
    "service-account-token-lifetime": lambda r: token_lifetime.judge_token_lifetime_cap(
        r.flags("kube-apiserver"), LIMIT
    ),
    "projected-token-expiration": lambda r: token_lifetime.judge_projected_tokens(
        Gathered(r.flags("kube-apiserver")), Gathered(r.items("pods")), LIMIT
    ),
    "static-token-file": lambda r: authenticators.judge_static_token_file(
        r.flags("kube-apiserver")
    ),
    "key-file-permissions": lambda r: steps(
        keyfiles.plan_key_inspection("/", "a node's filesystem", "private key files"),
        keyfiles.judge_private_keys(r.key_files("private")),
    ),
    "pod-token-automount": lambda r: pod_tokens.judge_pod_token_automount(
        r.items("serviceaccounts"), r.items("pods"), Gathered(r.items("token-secrets"))
    ),
    "default-service-account-in-use": lambda r: pod_tokens.judge_default_account_use(
        r.items("serviceaccounts"), r.items("pods"), Gathered(r.items("token-secrets"))
    ),
    "default-service-account-bindings": lambda r: (
        workload_privileges.judge_default_account_bindings(r.privileges.beyond_default)
    ),
    "service-account-privileges": _service_account_privileges,
    "external-authenticator": _external_authenticator,
    "kubeconfig-credential-plugin": lambda r: credentials.judge_plugin_credential(
        r.target["user"], r.credential, r.identity
    ),
    "mfa-at-identity-provider": lambda r: authenticators.judge_mfa_at_identity_provider(),
}


def expected(profile: str) -> dict[str, dict[str, object]]:
    raw: dict[str, dict[str, object]] = json.loads(
        (DATA / profile / "expected-results.json").read_text()
    )
    return raw


def is_subsequence(part: list[str], whole: list[str]) -> bool:
    rest = iter(whole)
    return all(title in rest for title in part)


def test_every_check_has_a_chain() -> None:
    assert set(CHAINS) == set(expected("noncompliant")) == set(expected("compliant"))
    assert len(CHAINS) == 32


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("check_id", sorted(CHAINS))
def test_recorded_evidence_is_judged_as_on_the_cluster(profile: str, check_id: str) -> None:
    want = expected(profile)[check_id]
    judgement = CHAINS[check_id](recorded(profile))
    assert verdict(judgement) == (want["verdict"], want["reason"])
    found = findings_json(judgement)
    digest = hashlib.sha256(json.dumps(found, sort_keys=True).encode()).hexdigest()
    assert digest == want["findings_sha256"], found[:5]
    if "findings" in want:
        assert found == want["findings"]
    titles_recorded = want["evidence"]
    assert isinstance(titles_recorded, list)
    assert is_subsequence(titles(judgement), titles_recorded), titles(judgement)


def filed(item: Evidence | Obj) -> tuple[str, str, str]:
    """A piece of evidence as results.json files it: title, kind, content (the suite's own
    JSON encoder, which refuses what JSON cannot hold)."""
    data = item.to_json() if isinstance(item, Evidence) else item
    return data["title"], data["kind"], jsonio.dumps(data["content"])


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("check_id", sorted(CHAINS))
def test_the_evidence_is_what_the_live_run_filed(profile: str, check_id: str) -> None:
    """Every piece of evidence the judging functions record (title, kind and content) is
    the one the suite filed for that check on the live cluster, in the same order: the
    recorded pack's results.json, judged again here from the pack's own raw store. (Five
    checks record all their evidence through the facade: for them there is none here.)"""
    judgement = CHAINS[check_id](recorded_pack(profile))
    live = [filed(e) for e in pack_results(profile)[check_id]["evidence"]]
    mine = [filed(e) for e in judgement.evidence]
    rest = iter(live)
    missing = [m for m in mine if m not in rest]
    assert not missing, [(m[0], m[2][:200]) for m in missing]
