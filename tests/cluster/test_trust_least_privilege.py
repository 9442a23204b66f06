"""Least privilege: the whole suite, run with only the roles in deploy/auditor-rbac.yaml,
gives the same verdicts as with an administrator and meets no permission error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster.conftest import LocalCluster, SuiteRun, run_suite, verdicts
from tests.support import identities

AUDITOR_ROLES = ["kubepci-auditor", "kubepci-auditor-kubelet-config"]
# These judge the identity running the audit, so they differ by design between identities.
ABOUT_THE_IDENTITY = {
    "suite-identity-not-generic",
    "kubeconfig-client-certificate",
    "kubeconfig-credential-plugin",
}


@pytest.fixture(scope="module")
def runs(
    local_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[SuiteRun, SuiteRun]]:
    tmp = tmp_path_factory.mktemp("least-privilege")
    admin = run_suite(local_cluster.admin_kubeconfig, tmp / "admin")
    if local_cluster.profile == "compliant":
        # The compliant profile's own identity already holds only the auditor roles.
        auditor_kubeconfig = Path(local_cluster.kubeconfig)
        yield admin, run_suite(str(auditor_kubeconfig), tmp / "auditor")
        return
    try:
        auditor = identities.service_account_identity(
            local_cluster.admin_kubeconfig, "least-privilege", AUDITOR_ROLES, tmp / "sa.kubeconfig"
        )
        yield admin, run_suite(str(auditor.kubeconfig), tmp / "auditor")
    finally:
        identities.remove(local_cluster.admin_kubeconfig)


def test_auditor_meets_no_permission_error(runs: tuple[SuiteRun, SuiteRun]) -> None:
    _, auditor = runs
    errors = {c: m for c, (v, m) in verdicts(auditor).items() if v == "error"}
    assert errors == {}, errors


def test_same_verdicts_as_admin(runs: tuple[SuiteRun, SuiteRun]) -> None:
    admin, auditor = runs
    as_admin, as_auditor = verdicts(admin), verdicts(auditor)
    assert set(as_admin) == set(as_auditor)
    differ = {
        check: (as_admin[check][0], as_auditor[check][0])
        for check in as_admin
        if check not in ABOUT_THE_IDENTITY and as_admin[check][0] != as_auditor[check][0]
    }
    assert differ == {}, differ


def test_auditor_role_grants_no_writes() -> None:
    import yaml

    documents = yaml.safe_load_all(
        (Path(__file__).resolve().parents[2] / "deploy/auditor-rbac.yaml").read_text()
    )
    review_apis = {
        "selfsubjectreviews",
        "selfsubjectaccessreviews",
        "selfsubjectrulesreviews",
        "subjectaccessreviews",
    }
    for document in documents:
        if document["kind"] != "ClusterRole":
            continue
        for rule in document["rules"]:
            verbs = set(rule["verbs"])
            if verbs - {"get", "list"}:
                assert verbs == {"create"} and set(rule["resources"]) <= review_apis, rule
