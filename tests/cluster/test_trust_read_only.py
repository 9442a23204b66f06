"""Read-only, proven: a full run of the suite leaves no mutating request in the API
server's audit log except the review APIs, which store nothing."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.cluster.conftest import LocalCluster, SuiteRun, run_suite

AUDIT_LOG = Path("/var/log/kubernetes/audit/audit.log")
READ_VERBS = {"get", "list", "watch"}
REVIEW_RESOURCES = {
    ("authentication.k8s.io", "selfsubjectreviews"),
    ("authorization.k8s.io", "selfsubjectaccessreviews"),
    ("authorization.k8s.io", "selfsubjectrulesreviews"),
    ("authorization.k8s.io", "subjectaccessreviews"),
}


def suite_requests(since: float, username: str) -> list[dict]:
    events = []
    for log in sorted(AUDIT_LOG.parent.glob("audit*.log")):
        for line in log.read_text(errors="replace").splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("stage") != "ResponseComplete":
                continue
            if (event.get("user") or {}).get("username") != username:
                continue
            stamp = event.get("requestReceivedTimestamp", "")
            if stamp and time.mktime(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S")) < since - 1:
                continue
            events.append(event)
    return events


@pytest.fixture(scope="module")
def audited_run(
    local_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory
) -> tuple[SuiteRun, float]:
    if not AUDIT_LOG.exists():
        pytest.fail(f"{AUDIT_LOG} is missing: audit logging must be on in both profiles")
    since = time.mktime(time.gmtime())
    run = run_suite(local_cluster.kubeconfig, tmp_path_factory.mktemp("ro"), "-n", "2")
    time.sleep(2)  # the audit backend writes in batches
    return run, since


def test_no_mutating_requests(
    audited_run: tuple[SuiteRun, float], local_cluster: LocalCluster
) -> None:
    run, since = audited_run
    assert run.returncode in (0, 1), run.stdout[-2000:] + run.stderr[-1000:]
    username = identity_of(local_cluster)
    events = suite_requests(since, username)
    assert events, f"no audit events for {username}; is the audit log being written?"
    mutating = [
        f"{e['verb']} {e.get('requestURI')}"
        for e in events
        if e["verb"] not in READ_VERBS
        and (
            (e.get("objectRef") or {}).get("apiGroup", ""),
            (e.get("objectRef") or {}).get("resource", ""),
        )
        not in REVIEW_RESOURCES
    ]
    assert mutating == [], mutating


def test_secrets_listed_as_metadata_only(
    audited_run: tuple[SuiteRun, float], local_cluster: LocalCluster
) -> None:
    _, since = audited_run
    secret_reads = [
        e
        for e in suite_requests(since, identity_of(local_cluster))
        if (e.get("objectRef") or {}).get("resource") == "secrets"
    ]
    assert secret_reads, "the suite did not list Secrets at all"
    # Only lists (never a get of one Secret), and the Accept header asked for metadata.
    assert {e["verb"] for e in secret_reads} == {"list"}


def identity_of(local: LocalCluster) -> str:
    from kubernetes import client, config

    api = config.new_client_from_config(config_file=local.kubeconfig, persist_config=False)
    review = client.AuthenticationV1Api(api).create_self_subject_review(
        {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    )
    return review.status.user_info.username


def test_secret_list_returns_no_data(local_cluster: LocalCluster) -> None:
    """The request the snapshot makes for Secrets comes back as metadata only."""
    from kubepci.access.api import ApiReader, build_client
    from kubepci.access.kubeconfig import resolve_targets
    from kubepci.access.snapshot import RESOURCES

    target = resolve_targets([local_cluster.admin_kubeconfig], [])[0]
    path, accept = RESOURCES["secrets"]
    pages = list(ApiReader(build_client(target)).list_pages(path, accept=accept))
    assert pages[0]["kind"] == "PartialObjectMetadataList"
    items = [item for page in pages for item in page.get("items") or []]
    assert items, "the test cluster should hold at least the canary Secret"
    assert all("data" not in item and "stringData" not in item for item in items)
