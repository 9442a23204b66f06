"""PCI 1.3 offline: revocable credentials. The seven checks of tests_pci judged through
replay on edited recordings of the local clusters: the kubeconfig user's credential as the
suite records it, CSRs and the API server audit log, minting rights (confirmed by the
server's recorded SubjectAccessReview answers), signing-key modes, legacy token Secrets and
token lifetimes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kubepci.access.kubeconfig import IN_CLUSTER
from tests import builders as b
from tests.support.evidence_cases import Evidence, Obj, recorded, with_flag, without_flag
from tests.unit.test_credential import LEGACY_CLAIMS, unsigned_jwt
from tests.unit.test_credential_findings import bound

pytest_plugins = ["pytester"]

REVOCABLE = "kubeconfig-client-certificate"
CSRS = "client-certificate-csrs"
MINTING = "csr-approval-rights"
AUDIT_LOG = "node-audit-log-var_log_kubernetes_audit_audit.log-2aba45dc"
CONTROLLER = "system:serviceaccount:kube-system:certificate-controller"
LIFETIME = "service-account-token-lifetime"
PROJECTED = "projected-token-expiration"
MAX = "service-account-max-token-expiration"
EXTEND = "service-account-extend-token-expiration"
APISERVER = ("Pod", "kube-system", "kube-apiserver-vm")


@pytest.fixture
def compliant(pytester: pytest.Pytester) -> Evidence:
    return Evidence(pytester, "compliant")


def confirmed_by_the_server(evidence: Evidence, check: str) -> None:
    """Record the API server's answers (allowed) to every question the check asks."""
    for questions in list(evidence.unrecorded_questions(check)):
        evidence.answer_reviews(questions)


# ------------------------------------------------------------ kubeconfig-client-certificate
@pytest.mark.parametrize(
    ("entry", "detail", "finding_class"),
    [
        (
            b.cert_data_user("jane", ["payments-devs"]),
            "client certificate CN=jane O=payments-devs: client certificates cannot be revoked",
            "client-certificate",
        ),
        (
            {"token": unsigned_jwt(LEGACY_CLAIMS)},
            "holds a legacy secret-based token of ServiceAccount payments/default (Secret "
            "payments-default-legacy-token): it never expires; it is revoked only by deleting "
            "that Secret",
            "legacy-service-account-token",
        ),
        (
            {"token": bound(7 * 86400)},
            "holds a TokenRequest token of ServiceAccount payments/payments-api, bound to no "
            "object, lives 604800s, beyond the 86400s policy; until it expires it is revoked "
            "only by deleting ServiceAccount payments/payments-api",
            "long-lived-service-account-token",
        ),
    ],
)
def test_an_unrevocable_credential_fails(
    compliant: Evidence, entry: Obj, detail: str, finding_class: str
) -> None:
    compliant.kubeconfig_user(entry)
    judged = compliant.judge(REVOCABLE)
    assert judged.failures() == [("KubeconfigUser", "", "jane", detail)]
    assert judged.classes == [finding_class]


@pytest.mark.parametrize(
    ("entry", "sent"),
    [
        (b.token_user(), "static bearer token in the kubeconfig"),
        (
            {"token": bound(3600)},
            "bearer token in the kubeconfig: a TokenRequest token of ServiceAccount "
            "payments/payments-api, bound to no object, lives 3600s",
        ),
    ],
)
def test_a_revocable_credential_passes(compliant: Evidence, entry: Obj, sent: str) -> None:
    compliant.kubeconfig_user(entry)
    judged = compliant.judge(REVOCABLE)
    assert (judged.verdict, judged.reason) == (
        "passed",
        f"the kubeconfig user sends no client certificate; it authenticates with {sent}",
    )


def test_a_user_entry_client_go_refuses_errors(compliant: Evidence) -> None:
    compliant.kubeconfig_user({"token": "a", "username": "b", "password": "c"})
    judged = compliant.judge(REVOCABLE)
    assert judged.reason == (
        "evidence unavailable: client-go refuses this user: more than one authentication "
        "method found (token and basic auth): kubectl cannot use this user entry, so what it "
        "would send cannot be judged"
    )


def test_a_service_account_behind_an_exec_plugin_errors(compliant: Evidence) -> None:
    compliant.edit(
        "identity",
        lambda record: record["ok"].update(
            username="system:serviceaccount:ci:auditor", groups=["system:serviceaccounts"]
        ),
    )
    judged = compliant.judge(REVOCABLE)
    assert judged.reason == (
        "evidence unavailable: the API server authenticates this user as ServiceAccount "
        "ci/auditor (SelfSubjectReview), through exec plugin python; that token is not in the "
        "kubeconfig, so its kind and lifetime cannot be read"
    )


def test_the_suites_own_in_cluster_account_is_not_applicable(compliant: Evidence) -> None:
    compliant.edit("target", lambda target: target.update(kubeconfig=IN_CLUSTER))
    judged = compliant.judge(REVOCABLE)
    assert judged.verdict == "not_applicable"
    assert judged.reason == (
        "running in-cluster as oidc:auditor@example.com with this pod's projected token: a "
        "workload identity, not a person's kubeconfig"
    )


# ------------------------------------------------------------ client-certificate-csrs
def issued(csr: Obj) -> Obj:
    csr["status"]["issued"] = True
    return csr


def test_client_certificates_issued_to_people_fail(compliant: Evidence) -> None:
    compliant.add(
        "certificatesigningrequests",
        issued(
            b.csr(
                "jane-laptop", "jane", ["payments-devs"], approved=True, username="kubernetes-admin"
            )
        ),
        b.csr("jane-masters", "jane", ["system:masters"]),
    )
    judged = compliant.judge(CSRS)
    assert judged.failures() == [
        (
            "CertificateSigningRequest",
            "",
            "jane-laptop",
            "approved client certificate for CN=jane O=payments-devs (signer "
            "kubernetes.io/kube-apiserver-client), requested by kubernetes-admin",
        ),
        (
            "CertificateSigningRequest",
            "",
            "jane-masters",
            "a request for CN=jane O=system:masters (signer kubernetes.io/kube-apiserver-client),"
            " a group that bypasses RBAC and cannot be revoked",
        ),
    ]
    assert judged.classes == ["client-certificate", "system-masters"]


def test_a_node_certificate_asked_for_by_a_person_fails(compliant: Evidence) -> None:
    """The noncompliant cluster's real CSR: a kubelet subject filed by jane."""
    compliant.add(
        "certificatesigningrequests",
        recorded("noncompliant", "certificatesigningrequests", "kubepci-fixture-fake-node"),
    )
    judged = compliant.judge(CSRS)
    assert judged.failures() == [
        (
            "CertificateSigningRequest",
            "",
            "kubepci-fixture-fake-node",
            "approved node client certificate for CN=system:node:fake O=system:nodes: requested "
            "by jane, neither node fake itself nor a bootstrap identity; it authenticates as "
            "that node to whoever holds the key",
        )
    ]


def test_a_denied_request_issues_nothing(compliant: Evidence) -> None:
    compliant.add(
        "certificatesigningrequests", b.csr("jane-denied", "jane", ["devs"], approved=False)
    )
    judged = compliant.judge(CSRS)
    assert judged.verdict == "passed"
    assert judged.reason.startswith(
        "no client certificate issued beyond kubelets among 2 listed client CSR(s) "
        "(kube-controller-manager's csrcleaner runs hourly"
    )


def audit_event(verb: str, name: str, user: str, subresource: str = "", at: str = "") -> Obj:
    """One CSR write as the API server audit log records it at the Metadata level."""
    ref = {"resource": "certificatesigningrequests", "name": name}
    uri = f"/apis/certificates.k8s.io/v1/certificatesigningrequests/{name}"
    if subresource:
        ref["subresource"] = subresource
        uri += f"/{subresource}"
    return {
        "objectRef": ref,
        "requestURI": uri,
        "responseStatus": {"code": 201 if verb == "create" else 200},
        "stage": "ResponseComplete",
        "stageTimestamp": at or "2026-12-01T10:00:00Z",
        "user": {"groups": ["system:authenticated"], "username": user},
        "verb": verb,
    }


def test_a_certificate_the_list_lost_is_found_in_the_audit_log(compliant: Evidence) -> None:
    """csrcleaner deleted the CSR an hour after approval; the log still shows it all."""
    events = [
        audit_event("create", "jane-old", "jane", at="2026-12-01T09:00:00Z"),
        audit_event("update", "jane-old", "kubernetes-admin", "approval"),
        audit_event("update", "jane-old", CONTROLLER, "status"),
        audit_event("delete", "jane-old", CONTROLLER, at="2026-12-01T11:00:00Z"),
    ]
    compliant.edit(AUDIT_LOG, lambda record: record["ok"]["events"].extend(events))
    judged = compliant.judge(CSRS)
    assert judged.failures() == [
        (
            "CertificateSigningRequest",
            "",
            "jane-old",
            "a certificate was most likely issued to jane, which is neither a node nor a "
            "bootstrap identity: approved, then written by a signer (from the API server audit "
            "log: filed by jane at 2026-12-01T09:00:00Z, approval written by kubernetes-admin at "
            f"2026-12-01T10:00:00Z, status written by {CONTROLLER} at 2026-12-01T10:00:00Z; "
            f"deleted by {CONTROLLER} at 2026-12-01T11:00:00Z); the Metadata-level log keeps "
            "neither signer nor subject",
        )
    ]
    assert judged.classes == ["client-certificate-in-audit-log"]


def test_csrcleaner_disabled_keeps_every_csr_listed(compliant: Evidence) -> None:
    compliant.command(
        "kube-controller-manager", lambda argv: with_flag(argv, "--controllers=*,-csrcleaner")
    )
    judged = compliant.judge(CSRS)
    assert judged.verdict == "passed"
    assert judged.reason.startswith(
        "no client certificate issued beyond kubelets among 1 listed client CSR(s) (csrcleaner "
        "is disabled on kube-system/kube-controller-manager-vm (--controllers=*,-csrcleaner): "
        "CSRs stay listed until someone deletes them); the API server audit log "
        "/var/log/kubernetes/audit/audit.log (1 file(s)) reaches back to"
    )


@pytest.mark.parametrize(
    ("change", "why_not"),
    [
        (
            lambda e: e.settings(node_root=""),
            "no --node-root given: the audit log on the control-plane node was not read",
        ),
        (
            lambda e: e.command("kube-apiserver", lambda a: without_flag(a, "audit-log-path")),
            "kube-apiserver writes no audit log file (--audit-log-path is not set)",
        ),
        (
            lambda e: e.command("kube-apiserver", lambda a: with_flag(a, "--audit-log-path=-")),
            "kube-apiserver writes its audit log to stdout (--audit-log-path=-)",
        ),
        (
            lambda e: e.edit(AUDIT_LOG, lambda r: r["ok"].update(files=[])),
            "no audit log file at /var/log/kubernetes/audit/audit.log",
        ),
    ],
)
def test_without_the_audit_log_the_pass_says_how_far_it_reaches(
    compliant: Evidence, change: Callable[[Evidence], Any], why_not: str
) -> None:
    change(compliant)
    judged = compliant.judge(CSRS)
    assert judged.verdict == "passed"
    assert judged.reason.endswith("; the API server audit log was not read (see the evidence)")
    assert judged.evidence("API server audit log not read") == why_not


# ------------------------------------------------------------ csr-approval-rights
def test_a_person_approving_client_certificates_fails(compliant: Evidence) -> None:
    compliant.add(
        "clusterroles",
        b.cluster_role(
            "csr-approver",
            [
                b.rule(
                    ["update"], ["certificatesigningrequests/approval"], ["certificates.k8s.io"]
                ),
                b.rule(
                    ["approve"],
                    ["signers"],
                    ["certificates.k8s.io"],
                    names=["kubernetes.io/kube-apiserver-client"],
                ),
            ],
        ),
    )
    compliant.add(
        "clusterrolebindings",
        b.cluster_role_binding(
            "jane-approves", "csr-approver", [b.subject_user("jane@example.com")]
        ),
    )
    confirmed_by_the_server(compliant, MINTING)
    judged = compliant.judge(MINTING)
    ((kind, namespace, name, detail),) = judged.failures()
    assert (kind, namespace, name) == ("User", "", "jane@example.com")
    assert detail.startswith(
        "approve client certificates (critical): approve client certificates cluster-wide "
        "(User jane@example.com → ClusterRoleBinding jane-approves → ClusterRole csr-approver"
    )
    assert judged.classes == ["mint-client-certificates"]


def test_a_ci_user_minting_service_account_tokens_fails(compliant: Evidence) -> None:
    compliant.add(
        "roles", b.role("token-minter", "payments", [b.rule(["create"], ["serviceaccounts/token"])])
    )
    compliant.add(
        "rolebindings",
        b.role_binding("ci-mints", "payments", "token-minter", [b.subject_user("ci-bot")]),
    )
    confirmed_by_the_server(compliant, MINTING)
    judged = compliant.judge(MINTING)
    assert judged.failures() == [
        (
            "User",
            "",
            "ci-bot",
            "request ServiceAccount tokens (critical): request ServiceAccount tokens in namespace "
            "payments (User ci-bot → RoleBinding payments/ci-mints → Role payments/token-minter → "
            "create on core/serviceaccounts/token (in namespace payments))",
        )
    ]
    assert judged.classes == ["mint-service-account-tokens"]


def test_a_cluster_admin_is_judged_by_the_admin_checks_not_here(compliant: Evidence) -> None:
    compliant.add(
        "clusterrolebindings",
        b.cluster_role_binding("jane-admin", "cluster-admin", [b.subject_user("jane@example.com")]),
    )
    judged = compliant.judge(MINTING)
    assert (judged.verdict, judged.reason) == (
        "passed",
        "only Kubernetes' own default policy can mint credentials",
    )
    minting_paths = judged.evidence("Credential-minting paths")
    assert {p["principal"] for p in minting_paths} == {"User jane@example.com"}


# ------------------------------------------------------------ signing-key-permissions
def key_file(path: str, mode: str, uid: int = 0) -> Callable[[Obj], None]:
    def edit(record: Obj) -> None:
        (key,) = [k for k in record["ok"] if k["path"] == path]
        key.update(mode=mode, uid=uid)

    return edit


def test_a_group_readable_ca_key_fails(compliant: Evidence) -> None:
    compliant.edit("node-signing-keys", key_file("/etc/kubernetes/pki/ca.key", "0o640"))
    judged = compliant.judge("signing-key-permissions")
    assert judged.failures() == [
        ("File", "", "/etc/kubernetes/pki/ca.key", "mode 0o640 lets group or others access it")
    ]


def test_a_service_account_key_owned_by_a_user_fails(compliant: Evidence) -> None:
    compliant.edit("node-signing-keys", key_file("/etc/kubernetes/pki/sa.key", "0o644", 1000))
    judged = compliant.judge("signing-key-permissions")
    assert judged.failures() == [
        (
            "File",
            "",
            "/etc/kubernetes/pki/sa.key",
            "owned by uid 1000, not root; mode 0o644 lets group or others access it",
        )
    ]


def test_signing_keys_without_a_node_root_are_manual(compliant: Evidence) -> None:
    compliant.settings(node_root="")
    judged = compliant.judge("signing-key-permissions")
    assert (judged.verdict, judged.reason) == (
        "manual",
        "pass --node-root (a control-plane node's filesystem) to inspect key files",
    )


def test_signing_keys_that_cannot_be_read_error(compliant: Evidence) -> None:
    why = "no CA or signing key under /etc/kubernetes/pki: not a control-plane node"
    compliant.fails_to_collect("node-signing-keys", why)
    judged = compliant.judge("signing-key-permissions")
    assert judged.reason == f"evidence unavailable: {why}"


# ------------------------------------------------------------ legacy-service-account-tokens
def token_secret(name: str, account: str, labels: dict[str, str]) -> Obj:
    """A kubernetes.io/service-account-token Secret as the snapshot lists it (metadata)."""
    return b.trimmed("token-secrets", b.secret_model(name, "payments", sa=account, labels=labels))


def test_a_legacy_token_in_use_fails(compliant: Evidence) -> None:
    compliant.add(
        "token-secrets",
        token_secret(
            "ci-token", "payments-api", {"kubernetes.io/legacy-token-last-used": "2026-11-30"}
        ),
    )
    judged = compliant.judge("legacy-service-account-tokens")
    assert judged.failures() == [
        (
            "Secret",
            "payments",
            "ci-token",
            "long-lived token for ServiceAccount payments/payments-api; last used 2026-11-30",
        )
    ]


def test_an_invalidated_token_still_mounted_fails_naming_the_pod(compliant: Evidence) -> None:
    compliant.add(
        "token-secrets",
        token_secret(
            "old-token", "default", {"kubernetes.io/legacy-token-invalid-since": "2026-10-01"}
        ),
    )
    mounting = b.pod("reader", "payments", sa="payments-api", automount=False)
    mounting["spec"]["volumes"] = [{"name": "tok", "secret": {"secretName": "old-token"}}]
    compliant.add("pods", mounting)
    judged = compliant.judge("legacy-service-account-tokens")
    assert judged.failures() == [
        (
            "Secret",
            "payments",
            "old-token",
            "long-lived token for ServiceAccount payments/default; no recorded use; invalidated "
            "since 2026-10-01 (pending cleanup); held by Pod payments/reader from legacy token "
            "Secret old-token (marked invalid since 2026-10-01) in volume tok (no container yet)",
        )
    ]


def test_an_opaque_copy_with_the_annotation_is_not_a_token(compliant: Evidence) -> None:
    compliant.add(
        "secrets",
        b.secret_meta(
            "copied-token", "payments", annotations={"kubernetes.io/service-account.name": "x"}
        ),
    )
    judged = compliant.judge("legacy-service-account-tokens")
    assert (judged.verdict, judged.reason) == ("passed", "no secret-based ServiceAccount tokens")
    assert "Secret payments/copied-token" in judged.evidence("Not legacy tokens")


def test_token_secrets_that_cannot_be_listed_error(compliant: Evidence) -> None:
    compliant.fails_to_collect("list-token-secrets", "cannot list token Secrets: 403 forbidden")
    judged = compliant.judge("legacy-service-account-tokens")
    assert judged.reason == "evidence unavailable: cannot list token Secrets: 403 forbidden"


# ------------------------------------------------------------ service-account-token-lifetime
def test_a_cap_over_policy_fails(compliant: Evidence) -> None:
    compliant.command("kube-apiserver", lambda argv: with_flag(argv, f"--{MAX}=48h"))
    judged = compliant.judge(LIFETIME)
    assert judged.failures() == [
        (
            *APISERVER,
            f"--{MAX}=48h (set on pod kube-system/kube-apiserver-vm): 172800s exceeds the "
            "86400s policy",
        )
    ]


def test_kubernetes_defaults_neither_cap_nor_stop_extension(compliant: Evidence) -> None:
    compliant.command("kube-apiserver", lambda argv: without_flag(without_flag(argv, MAX), EXTEND))
    judged = compliant.judge(LIFETIME)
    assert judged.failures() == [
        (
            *APISERVER,
            f"admission-injected tokens are extended to one year: --{EXTEND} not set; Kubernetes "
            "default true applies",
        ),
        (
            *APISERVER,
            f"no token lifetime cap (--{MAX} not set; Kubernetes default 0s applies): tokens "
            "may be requested for any lifetime",
        ),
    ]


def test_a_stricter_policy_fails_the_recorded_cap(compliant: Evidence) -> None:
    compliant.settings(token_lifetime_limit=1800)
    judged = compliant.judge(LIFETIME)
    assert judged.failures() == [
        (
            *APISERVER,
            f"--{MAX}=1h (set on pod kube-system/kube-apiserver-vm): 3600s exceeds the 1800s "
            "policy",
        )
    ]


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (
            "30m",
            "is outside 1h..2^32s; kube-apiserver refuses to start with it, so these flags do "
            "not describe it",
        ),
        (
            "1 day",
            "is not a Go duration; kube-apiserver refuses it, so these flags do not describe the "
            "running server",
        ),
    ],
)
def test_a_cap_the_server_would_refuse_errors(compliant: Evidence, value: str, why: str) -> None:
    compliant.command("kube-apiserver", lambda argv: with_flag(argv, f"--{MAX}={value}"))
    judged = compliant.judge(LIFETIME)
    assert judged.reason == (
        f"evidence unavailable: kube-system/kube-apiserver-vm: --{MAX}={value} (set on pod "
        f"kube-system/kube-apiserver-vm) {why}"
    )


# ------------------------------------------------------------ projected-token-expiration
LONG_TOKEN = ("Pod", "pci-tokens", "long-projected-token")


def injected_token_pod(audience: str = "") -> Obj:
    """The noncompliant cluster's payments-api pod: the admission-injected 3607 s token."""
    pod = recorded("noncompliant", "pods", "payments-api")
    pod["spec"]["serviceAccountName"] = "payments-api"
    if audience:
        pod["spec"]["volumes"][0]["projected"]["sources"][0]["serviceAccountToken"]["audience"] = (
            audience
        )
    return pod


def test_an_uncapped_server_gives_a_long_token_its_request(compliant: Evidence) -> None:
    compliant.command("kube-apiserver", lambda argv: without_flag(argv, MAX))
    judged = compliant.judge(PROJECTED)
    assert judged.failures() == [
        (
            *LONG_TOKEN,
            "projected token volume api-token asks for 172800s and gets it (kube-apiserver "
            "kube-system/kube-apiserver-vm), over the 86400s policy",
        )
    ]


def test_the_extension_makes_an_injected_token_live_a_year(compliant: Evidence) -> None:
    compliant.command("kube-apiserver", lambda argv: without_flag(without_flag(argv, MAX), EXTEND))
    compliant.add("pods", injected_token_pod())
    judged = compliant.judge(PROJECTED)
    assert (
        "Pod",
        "payments",
        "payments-api",
        "projected token volume kube-api-access-jqdk4 asks for 3607s; --"
        f"{EXTEND} makes a 3607s request for the API server's audience valid for one year "
        "(31536000s) (kube-apiserver kube-system/kube-apiserver-vm), over the 86400s policy",
    ) in judged.failures()


def test_a_token_for_another_audience_is_not_extended(compliant: Evidence) -> None:
    compliant.command(
        "kube-apiserver", lambda argv: with_flag(without_flag(argv, MAX), f"--{EXTEND}=true")
    )
    compliant.add("pods", injected_token_pod(audience="vault"))
    judged = compliant.judge(PROJECTED)
    assert [f[:3] for f in judged.failures()] == [LONG_TOKEN]
    assert not any("payments-api" in line for line in judged.evidence("Tokens the server issues"))


def test_a_managed_server_is_judged_on_kubernetes_defaults(compliant: Evidence) -> None:
    compliant.managed_by_eks()
    judged = compliant.judge(PROJECTED)
    assert judged.failures() == [
        (
            *LONG_TOKEN,
            "projected token volume api-token asks for 172800s and gets it (Kubernetes defaults "
            "assumed (EKS runs kube-apiserver in the provider's managed control plane; its "
            "flags are not visible through the API)), over the 86400s policy",
        )
    ]


def test_pods_that_cannot_be_listed_error(compliant: Evidence) -> None:
    compliant.fails_to_collect("list-pods", "cannot list pods: 403 forbidden")
    judged = compliant.judge(PROJECTED)
    assert judged.reason == "evidence unavailable: cannot list pods: 403 forbidden"
    (issuance,) = judged.evidence("How the API server issues pod tokens")
    assert issuance["server"] == "Kubernetes defaults assumed (cannot list pods: 403 forbidden)"
