"""RBAC detection, class by class: every privilege class of the catalogue
(kubepci/catalogue/privileges.yaml) planted in several spellings and found again.

On the noncompliant profile, fixtures/noncompliant/65-privilege-classes.yaml plants each
class at least twice, one principal per variant named ``<class-id>-<n>``; PLANTED lists
the finding each variant must produce: (check, ``Kind namespace/name``, class). The suite
is run once per module, as a user would, and judged from its evidence pack's results.json,
which keeps every finding (the JUnit message lists at most 50 per check). On the compliant
profile, fixtures/compliant/26-least-privilege.yaml holds narrow grants under pci-least
that no check may name.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import pytest
from kubernetes import client, config

from kubepci import catalogue
from kubepci.catalogue import privileges
from kubepci.verdict import Finding
from tests.cluster.conftest import LocalCluster, SuiteRun, require_profile, run_suite, verdicts

SA_PRIVS = "service-account-privileges"
CSR_RIGHTS = "csr-approval-rights"
GENERIC_ADMIN = "generic-cluster-admin-bindings"
DEFAULT_SA = "default-service-account-bindings"
ANONYMOUS = "anonymous-rbac-bindings"
RBAC_CHECKS = (GENERIC_ADMIN, CSR_RIGHTS, SA_PRIVS, DEFAULT_SA, ANONYMOUS)
# Classes of findings that are not privilege classes of the catalogue.
OTHER_CLASSES = {"default-service-account"}
LEAST = "pci-least"
LEAST_ACCOUNTS = (
    "secret-reader",
    "configmap-editor",
    "low-priv",
    "token-minter",
    "impersonator",
    "delegator",
    "csr-approver",
    "workload-reader",
    "crd-writer",
)
FINDING_LINE = re.compile(r"^(?P<ref>[A-Z][A-Za-z]+ \S+): .* \[(?P<cls>[a-z0-9-]+)\]$", re.M)


# pci-rbac-a: the variants that are not cluster-admin equivalent (and their RoleBindings'
# scope); pci-rbac-c: the admin-equivalent ones and the group variants' namespace.
A, C = "pci-rbac-a", "pci-rbac-c"


def _sa(namespace: str, name: str) -> str:
    return f"ServiceAccount {namespace}/{name}"


# (check id, the principal or binding it must name, finding class), one row per finding a
# planted variant must produce. A ServiceAccount variant of a 1.3.2 class is expected
# under both csr-approval-rights and service-account-privileges. A principal that is
# cluster-admin equivalent is reported as that alone, so the client-certificate approvers
# that can also file a CSR (and so name an admin in their own certificate) are
# admin-equivalent, and keep their own class under csr-approval-rights; individual users
# and groups that are admin equivalent are in 1.2.1's inventory (INVENTORY).
PLANTED: list[tuple[str, str, str]] = [
    # admin-equivalent
    (SA_PRIVS, _sa(C, "admin-equivalent-1"), "admin-equivalent"),
    (SA_PRIVS, _sa(C, "admin-equivalent-2"), "admin-equivalent"),
    (SA_PRIVS, _sa(C, "admin-equivalent-3"), "admin-equivalent"),
    (SA_PRIVS, _sa(C, "admin-equivalent-4"), "admin-equivalent"),
    (SA_PRIVS, _sa(C, "admin-equivalent-5"), "admin-equivalent"),
    (SA_PRIVS, _sa(C, "admin-equivalent-6"), "admin-equivalent"),
    (SA_PRIVS, _sa(C, "admin-equivalent-7"), "admin-equivalent"),
    (SA_PRIVS, _sa(C, "admin-equivalent-8"), "admin-equivalent"),
    (SA_PRIVS, _sa(C, "admin-equivalent-9"), "admin-equivalent"),
    (SA_PRIVS, _sa(C, "admin-equivalent-10"), "admin-equivalent"),
    (SA_PRIVS, _sa(C, "admin-equivalent-11"), "admin-equivalent"),
    (SA_PRIVS, _sa(C, "admin-equivalent-12"), "admin-equivalent"),
    (SA_PRIVS, _sa(C, "admin-equivalent-13"), "admin-equivalent"),
    # escalate without a Role bound to it or bind: the holder can write a Role with any
    # rule but never hold it (escalation_check.go), so escalate-roles, not admin.
    (SA_PRIVS, _sa(C, "admin-equivalent-14"), "escalate-roles"),
    (SA_PRIVS, _sa(C, "admin-equivalent-15"), "admin-equivalent"),
    (SA_PRIVS, _sa(C, "admin-equivalent-16"), "admin-equivalent"),
    (SA_PRIVS, _sa(C, "admin-equivalent-17"), "admin-equivalent"),
    (SA_PRIVS, _sa(C, "admin-equivalent-18"), "admin-equivalent"),
    (SA_PRIVS, _sa(C, "admin-equivalent-19"), "admin-equivalent"),
    (SA_PRIVS, _sa(C, "admin-equivalent-20"), "admin-equivalent"),
    (SA_PRIVS, _sa(C, "admin-equivalent-21"), "admin-equivalent"),
    (SA_PRIVS, _sa(C, "admin-equivalent-22"), "admin-equivalent"),
    (SA_PRIVS, _sa(C, "admin-equivalent-23"), "admin-equivalent"),
    (SA_PRIVS, _sa(C, "admin-equivalent-24"), "escalate-roles"),
    (SA_PRIVS, _sa(C, "admin-equivalent-25"), "admin-equivalent"),
    (SA_PRIVS, _sa(C, "admin-equivalent-26"), "admin-equivalent"),
    (GENERIC_ADMIN, "Group system:serviceaccounts:pci-rbac-b", "admin-equivalent"),
    (SA_PRIVS, "Group system:serviceaccounts:pci-rbac-b", "admin-equivalent"),
    (GENERIC_ADMIN, "User admin", "admin-equivalent"),
    (GENERIC_ADMIN, _sa(C, "default"), "admin-equivalent"),
    (SA_PRIVS, _sa(C, "default"), "admin-equivalent"),
    # Approvers that cannot file a CSR of their own mint for others, not for themselves.
    (SA_PRIVS, _sa(C, "mint-client-certificates-1"), "mint-client-certificates"),
    (SA_PRIVS, _sa(C, "mint-client-certificates-2"), "mint-client-certificates"),
    # mint-client-certificates
    (CSR_RIGHTS, _sa(C, "mint-client-certificates-1"), "mint-client-certificates"),
    (CSR_RIGHTS, _sa(C, "mint-client-certificates-2"), "mint-client-certificates"),
    (CSR_RIGHTS, "Group mint-client-certificates-4", "mint-client-certificates"),
    # escalate-roles
    (SA_PRIVS, _sa(A, "escalate-roles-1"), "escalate-roles"),
    (SA_PRIVS, _sa(A, "escalate-roles-2"), "escalate-roles"),
    (SA_PRIVS, _sa(A, "escalate-roles-3"), "escalate-roles"),
    # bind-roles
    (SA_PRIVS, _sa(A, "bind-roles-1"), "bind-roles"),
    (SA_PRIVS, _sa(A, "bind-roles-2"), "bind-roles"),
    (SA_PRIVS, _sa(A, "bind-roles-3"), "bind-roles"),
    # impersonate
    (SA_PRIVS, _sa(A, "impersonate-1"), "impersonate"),
    (SA_PRIVS, _sa(A, "impersonate-2"), "impersonate"),
    (SA_PRIVS, _sa(A, "impersonate-3"), "impersonate"),
    # mint-node-credentials
    (SA_PRIVS, _sa(A, "mint-node-credentials-1"), "mint-node-credentials"),
    (CSR_RIGHTS, _sa(A, "mint-node-credentials-1"), "mint-node-credentials"),
    (SA_PRIVS, _sa(A, "mint-node-credentials-2"), "mint-node-credentials"),
    (CSR_RIGHTS, _sa(A, "mint-node-credentials-2"), "mint-node-credentials"),
    (CSR_RIGHTS, "User mint-node-credentials-3", "mint-node-credentials"),
    (CSR_RIGHTS, "Group mint-node-credentials-4", "mint-node-credentials"),
    # mint-service-account-tokens
    (SA_PRIVS, _sa(A, "mint-service-account-tokens-1"), "mint-service-account-tokens"),
    (CSR_RIGHTS, _sa(A, "mint-service-account-tokens-1"), "mint-service-account-tokens"),
    (SA_PRIVS, _sa(A, "mint-service-account-tokens-2"), "mint-service-account-tokens"),
    (CSR_RIGHTS, _sa(A, "mint-service-account-tokens-2"), "mint-service-account-tokens"),
    (CSR_RIGHTS, "User mint-service-account-tokens-3", "mint-service-account-tokens"),
    (CSR_RIGHTS, "Group mint-service-account-tokens-4", "mint-service-account-tokens"),
    # mint-token-secrets
    (SA_PRIVS, _sa(A, "mint-token-secrets-1"), "mint-token-secrets"),
    (CSR_RIGHTS, _sa(A, "mint-token-secrets-1"), "mint-token-secrets"),
    (SA_PRIVS, _sa(A, "mint-token-secrets-2"), "mint-token-secrets"),
    (CSR_RIGHTS, _sa(A, "mint-token-secrets-2"), "mint-token-secrets"),
    (CSR_RIGHTS, "User mint-token-secrets-3", "mint-token-secrets"),
    (CSR_RIGHTS, "Group mint-token-secrets-4", "mint-token-secrets"),
    # read-secrets
    (SA_PRIVS, _sa(A, "read-secrets-1"), "read-secrets"),
    (SA_PRIVS, _sa(A, "read-secrets-2"), "read-secrets"),
    (SA_PRIVS, _sa(A, "read-secrets-3"), "read-secrets"),
    # create-workloads
    (SA_PRIVS, _sa(A, "create-workloads-1"), "create-workloads"),
    (SA_PRIVS, _sa(A, "create-workloads-2"), "create-workloads"),
    (SA_PRIVS, _sa(A, "create-workloads-3"), "create-workloads"),
    (SA_PRIVS, _sa(A, "create-workloads-4"), "create-workloads"),
    # modify-pods
    (SA_PRIVS, _sa(A, "modify-pods-1"), "modify-pods"),
    (SA_PRIVS, _sa(A, "modify-pods-2"), "modify-pods"),
    (SA_PRIVS, _sa(A, "modify-pods-3"), "modify-pods"),
    # exec-into-pods
    (SA_PRIVS, _sa(A, "exec-into-pods-1"), "exec-into-pods"),
    (SA_PRIVS, _sa(A, "exec-into-pods-2"), "exec-into-pods"),
    (SA_PRIVS, _sa(A, "exec-into-pods-3"), "exec-into-pods"),
    # port-forward
    (SA_PRIVS, _sa(A, "port-forward-1"), "port-forward"),
    (SA_PRIVS, "Group system:serviceaccounts:pci-rbac-c", "port-forward"),
    (SA_PRIVS, _sa(A, "port-forward-3"), "port-forward"),
    # node-proxy
    (SA_PRIVS, _sa(A, "node-proxy-1"), "node-proxy"),
    (SA_PRIVS, _sa(A, "node-proxy-2"), "node-proxy"),
    # admission-control
    (SA_PRIVS, _sa(A, "admission-control-1"), "admission-control"),
    (SA_PRIVS, _sa(A, "admission-control-2"), "admission-control"),
    (SA_PRIVS, "Group system:serviceaccounts:pci-rbac-c", "admission-control"),
    # create-persistent-volumes
    (SA_PRIVS, _sa(A, "create-persistent-volumes-1"), "create-persistent-volumes"),
    (SA_PRIVS, "Group system:serviceaccounts:pci-rbac-c", "create-persistent-volumes"),
    (SA_PRIVS, _sa(A, "create-persistent-volumes-3"), "create-persistent-volumes"),
    # node-writes
    (SA_PRIVS, _sa(A, "node-writes-1"), "node-writes"),
    (SA_PRIVS, "Group system:serviceaccounts:pci-rbac-c", "node-writes"),
    (SA_PRIVS, _sa(A, "node-writes-3"), "node-writes"),
    # status-writes
    (SA_PRIVS, _sa(A, "status-writes-1"), "status-writes"),
    (SA_PRIVS, "Group system:serviceaccounts:pci-rbac-c", "status-writes"),
    (SA_PRIVS, _sa(A, "status-writes-3"), "status-writes"),
    # rbac-writes
    (SA_PRIVS, _sa(A, "rbac-writes-1"), "rbac-writes"),
    (SA_PRIVS, _sa(A, "rbac-writes-2"), "rbac-writes"),
    # wildcard-permissions
    (SA_PRIVS, _sa(A, "wildcard-permissions-1"), "wildcard-permissions"),
    (SA_PRIVS, _sa(A, "wildcard-permissions-2"), "wildcard-permissions"),
    (SA_PRIVS, _sa(A, "wildcard-permissions-3"), "wildcard-permissions"),
    # default-service-account
    (DEFAULT_SA, "ClusterRoleBinding pci-rbac-admin-equivalent-g1", "default-service-account"),
    (DEFAULT_SA, "RoleBinding pci-rbac-b/pci-rbac-admin-equivalent-g3", "default-service-account"),
    (
        DEFAULT_SA,
        "RoleBinding pci-rbac-a/pci-rbac-default-service-account-1",
        "default-service-account",
    ),
    (
        DEFAULT_SA,
        "RoleBinding pci-rbac-a/pci-rbac-default-service-account-2",
        "default-service-account",
    ),
    (DEFAULT_SA, "RoleBinding pci-rbac-c/pci-rbac-port-forward-2", "default-service-account"),
    (DEFAULT_SA, "ClusterRoleBinding pci-rbac-admission-control-3", "default-service-account"),
]

# Admin-equivalent principals that no check reports as a finding (individual users, and
# principals that are neither generic nor workloads) must still be in 1.2.1's inventory.
INVENTORY: list[str] = ["User mint-client-certificates-3", "Group mint-client-certificates-4"]


# ------------------------------------------------------------------ the table itself
def test_every_class_planted_at_least_twice() -> None:
    """Each class of the catalogue is planted by two distinct principals or more."""
    variants = Counter(cls for cls, _ in {(cls, ref) for _, ref, cls in PLANTED})
    thin = {c.id: variants[c.id] for c in privileges.load().classes if variants[c.id] < 2}
    assert not thin, f"classes planted fewer than twice: {thin}"


def test_planted_table_names_known_checks_and_classes() -> None:
    checks = set(catalogue.load().checks)
    classes = {c.id for c in privileges.load().classes} | OTHER_CLASSES
    assert {check for check, _, _ in PLANTED} <= checks
    assert {cls for _, _, cls in PLANTED} <= classes
    assert len(set(PLANTED)) == len(PLANTED), "duplicate rows in PLANTED"


# ------------------------------------------------------------------ the run
@pytest.fixture(scope="module")
def suite(local_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    outdir = tmp_path_factory.mktemp("privileges")
    return run_suite(
        local_cluster.kubeconfig, outdir, f"--evidence-dir={outdir / 'evidence'}", "-q"
    )


@pytest.fixture(scope="module")
def results(suite: SuiteRun) -> dict[str, dict[str, Any]]:
    """check id → its result payload, from the evidence pack's results.json."""
    path = suite.outdir / "evidence" / "results.json"
    assert path.is_file(), suite.stdout[-3000:] + suite.stderr[-2000:]
    document = json.loads(path.read_text(encoding="utf-8"))
    return {r["check_id"]: r for r in document["results"]}


def _findings(results: dict[str, dict[str, Any]], check: str) -> list[Finding]:
    return [Finding.from_json(f) for f in results.get(check, {}).get("findings", [])]


def _noncompliant(local_cluster: LocalCluster) -> None:
    require_profile(local_cluster, "noncompliant")


def _compliant(local_cluster: LocalCluster) -> None:
    require_profile(local_cluster, "compliant")


@pytest.mark.parametrize(
    ("check", "ref", "cls"), PLANTED, ids=[f"{c}:{r}:{k}" for c, r, k in PLANTED]
)
def test_planted_variant_detected(
    check: str,
    ref: str,
    cls: str,
    local_cluster: LocalCluster,
    results: dict[str, dict[str, Any]],
) -> None:
    _noncompliant(local_cluster)
    found = _findings(results, check)
    if any(f.ref == ref and f.finding_class == cls for f in found):
        return
    same_ref = [f.line() for f in found if f.ref == ref]
    verdict = results.get(check, {}).get("verdict", "missing")
    pytest.fail(
        f"{check} ({verdict}) does not report {ref} [{cls}]; "
        f"its findings for {ref}: {same_ref or 'none'}",
        pytrace=False,
    )


@pytest.mark.parametrize("check", sorted({c for c, _, _ in PLANTED}))
def test_rbac_check_fails_and_names_its_findings(
    check: str, local_cluster: LocalCluster, suite: SuiteRun, results: dict[str, dict[str, Any]]
) -> None:
    """The check fails, and each `Kind ns/name: ... [class]` line of its JUnit message is
    one of the findings results.json records."""
    _noncompliant(local_cluster)
    verdict, message = verdicts(suite).get(check, ("missing", ""))
    assert verdict == "failed", f"{check}: {verdict}\n{message[-2000:]}"
    recorded = {(f.ref, f.finding_class) for f in _findings(results, check)}
    listed = {(m["ref"], m["cls"]) for m in FINDING_LINE.finditer(message)}
    assert listed, message[-2000:]
    assert listed <= recorded, sorted(listed - recorded)


@pytest.mark.parametrize("ref", INVENTORY)
def test_admin_equivalent_in_inventory(
    ref: str, local_cluster: LocalCluster, results: dict[str, dict[str, Any]]
) -> None:
    """1.2.1 keeps every admin-equivalent principal and its path as evidence."""
    _noncompliant(local_cluster)
    inventory = {
        str(entry.get("principal"))
        for evidence in results.get(GENERIC_ADMIN, {}).get("evidence", [])
        if evidence.get("kind") == "rbac" and isinstance(evidence.get("content"), list)
        for entry in evidence["content"]
        if isinstance(entry, dict) and entry.get("class") == "admin-equivalent"
    }
    assert ref in inventory, sorted(p for p in inventory if "pci-rbac" in p or "mint" in p)


# ------------------------------------------------------------------ compliant profile
def test_no_finding_names_a_least_privilege_principal(
    local_cluster: LocalCluster, results: dict[str, dict[str, Any]]
) -> None:
    _compliant(local_cluster)
    named = [
        f"{check}: {f.line()}"
        for check in results
        for f in _findings(results, check)
        if f.namespace == LEAST or LEAST in f.name
    ]
    assert not named, "\n".join(named)


@pytest.mark.parametrize("check", RBAC_CHECKS)
def test_rbac_check_passes_on_least_privilege(
    check: str, local_cluster: LocalCluster, results: dict[str, dict[str, Any]]
) -> None:
    _compliant(local_cluster)
    result = results.get(check, {})
    lines = [f.line() for f in _findings(results, check)]
    assert result.get("verdict") == "passed", (
        f"{check}: {result.get('verdict', 'missing')} {result.get('reason', '')}\n"
        + "\n".join(lines[:50])
    )


def test_fixture_accounts_exist(local_cluster: LocalCluster) -> None:
    """The proofs above mean something only if the fixture's accounts are on the cluster
    (a missing variant is then the engine's miss, not the harness's)."""
    core = client.CoreV1Api(
        config.new_client_from_config(config_file=local_cluster.admin_kubeconfig)
    )
    if local_cluster.profile == "noncompliant":
        wanted = {
            ref.split(" ", 1)[1] for _, ref, _ in PLANTED if ref.startswith("ServiceAccount ")
        }
        namespaces = (A, C)
    else:
        wanted = {f"{LEAST}/{name}" for name in LEAST_ACCOUNTS}
        namespaces = (LEAST,)
    present = {
        f"{ns}/{sa.metadata.name}"
        for ns in namespaces
        for sa in core.list_namespaced_service_account(ns).items
    }
    assert wanted <= present, sorted(wanted - present)
