"""Token verdicts as Kubernetes delivers tokens (PCI 1.3.4, 1.5.1, 1.5.2), on the real cluster.

Noncompliant profile (fixtures/noncompliant/76-token-credentials.yaml): pods that set
automountServiceAccountToken: false and still hold a ServiceAccount credential, by a
legacy token Secret read through env secretKeyRef, through envFrom in an init container,
mounted as a volume (the default account's, by a pod of its own account), or by a
projected token written in the spec; plus an Opaque copy of a token Secret that kept the
service-account annotation, which is no legacy token. Compliant profile
(fixtures/compliant/76-token-credentials.yaml): a pod asks for a two-day projected token
under the server's one-hour cap, and the same Opaque copy.

The suite runs once per module, as a user would, and is judged from its evidence pack's
results.json. The token-lifetime model is also compared with the API server itself: a
TokenRequest bound to each fixture pod, asked as the kubelet asks, of which only
exp - iat is read (the token is never printed or kept).
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from kubernetes import client, config

from kubepci.access import trim
from kubepci.access.api import METADATA_ONLY, ApiReader, build_client
from kubepci.access.kubeconfig import resolve_targets
from kubepci.analysis import token_lifetime as tl
from kubepci.analysis.flags import control_plane_flags
from kubepci.verdict import Finding
from tests.cluster.conftest import LocalCluster, SuiteRun, require_profile, run_suite

AUTOMOUNT = "pod-token-automount"
DEFAULT_IN_USE = "default-service-account-in-use"
LEGACY = "legacy-service-account-tokens"
LIFETIME = "projected-token-expiration"
TOKEN_CHECKS = (AUTOMOUNT, DEFAULT_IN_USE, LEGACY, LIFETIME)
NS = "pci-tokens"
FIXTURE_NAMESPACES = ("payments", NS)

# (check, the object it must name, words its detail must hold).
PLANTED: list[tuple[str, str, str]] = [
    (
        DEFAULT_IN_USE,
        f"Pod {NS}/legacy-token-env",
        f"runs as the default ServiceAccount and holds ServiceAccount {NS}/ci-bot credential "
        "from legacy token Secret ci-bot-legacy-token key token in env CI_TOKEN of container app",
    ),
    (
        DEFAULT_IN_USE,
        f"Pod {NS}/legacy-token-envfrom",
        f"ServiceAccount {NS}/ci-bot credential from legacy token Secret ci-bot-legacy-token "
        "in env CI_token (envFrom) of init container fetch",
    ),
    (
        DEFAULT_IN_USE,
        f"Pod {NS}/legacy-token-volume",
        f"runs as ServiceAccount {NS}/token-mounter but holds the default account's "
        f"ServiceAccount {NS}/default credential from legacy token Secret default-legacy-token "
        "in volume api (container app)",
    ),
    (
        DEFAULT_IN_USE,
        f"Pod {NS}/projected-token-no-automount",
        f"ServiceAccount {NS}/default credential in projected volume api-token (container app)",
    ),
    (DEFAULT_IN_USE, "Pod payments/payments-api", "credential in the admission-injected volume"),
    (
        AUTOMOUNT,
        "Pod payments/payments-api",
        "neither pod nor ServiceAccount sets it; default true",
    ),
    (
        LEGACY,
        f"Secret {NS}/ci-bot-legacy-token",
        f"long-lived token for ServiceAccount {NS}/ci-bot",
    ),
    (LEGACY, f"Secret {NS}/ci-bot-legacy-token", f"Pod {NS}/legacy-token-env from legacy token"),
    (LEGACY, f"Secret {NS}/ci-bot-legacy-token", f"Pod {NS}/legacy-token-envfrom from legacy"),
    (LEGACY, f"Secret {NS}/default-legacy-token", f"held by Pod {NS}/legacy-token-volume"),
    (LEGACY, "Secret payments/payments-default-legacy-token", "ServiceAccount payments/default"),
    (
        LIFETIME,
        "Pod payments/payments-api",
        "asks for 3607s; --service-account-extend-token-expiration makes a 3607s request for "
        "the API server's audience valid for one year (31536000s)",
    ),
    (LIFETIME, "Pod payments/report-exporter", "asks for 172800s and gets it"),
]
# (check, object) pairs that must NOT be findings on the noncompliant profile.
NOT_FLAGGED: list[tuple[str, str]] = [
    (LEGACY, f"Secret {NS}/ci-bot-token-copy"),  # Opaque: not a legacy token
    # Written in the pod spec: explicit requests (1.5.2 and 1.3.4 judge them).
    (AUTOMOUNT, f"Pod {NS}/legacy-token-env"),
    (AUTOMOUNT, f"Pod {NS}/legacy-token-envfrom"),
    (AUTOMOUNT, f"Pod {NS}/legacy-token-volume"),
    (AUTOMOUNT, f"Pod {NS}/projected-token-no-automount"),
    (AUTOMOUNT, "Pod payments/report-exporter"),
    (LIFETIME, f"Pod {NS}/projected-token-no-automount"),  # 3600 s, as asked
]


@pytest.fixture(scope="module")
def suite(local_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    outdir = tmp_path_factory.mktemp("tokens")
    return run_suite(
        local_cluster.kubeconfig, outdir, f"--evidence-dir={outdir / 'evidence'}", "-q"
    )


@pytest.fixture(scope="module")
def results(suite: SuiteRun) -> dict[str, dict[str, Any]]:
    path = suite.outdir / "evidence" / "results.json"
    assert path.is_file(), suite.stdout[-3000:] + suite.stderr[-2000:]
    document = json.loads(path.read_text(encoding="utf-8"))
    return {r["check_id"]: r for r in document["results"]}


def _findings(results: dict[str, dict[str, Any]], check: str) -> list[Finding]:
    return [Finding.from_json(f) for f in results.get(check, {}).get("findings", [])]


def _evidence(results: dict[str, dict[str, Any]], check: str, title: str) -> Any:
    for item in results.get(check, {}).get("evidence", []):
        if item["title"] == title:
            return item["content"]
    pytest.fail(f"{check} records no evidence titled {title!r}", pytrace=False)


# ------------------------------------------------------------------ noncompliant profile
@pytest.mark.parametrize(
    ("check", "ref", "words"), PLANTED, ids=[f"{c}:{r}" for c, r, _ in PLANTED]
)
def test_planted_credential_detected(
    check: str, ref: str, words: str, local_cluster: LocalCluster, results: dict[str, Any]
) -> None:
    require_profile(local_cluster, "noncompliant")
    found = [f for f in _findings(results, check) if f.ref == ref]
    assert found, f"{check} ({results.get(check, {}).get('verdict')}) does not name {ref}"
    assert any(words in f.detail for f in found), [f.detail for f in found]


@pytest.mark.parametrize(("check", "ref"), NOT_FLAGGED, ids=[f"{c}:{r}" for c, r in NOT_FLAGGED])
def test_not_flagged(
    check: str, ref: str, local_cluster: LocalCluster, results: dict[str, Any]
) -> None:
    require_profile(local_cluster, "noncompliant")
    named = [f.line() for f in _findings(results, check) if f.ref == ref]
    assert not named, named


def test_copy_is_recorded_as_set_aside(
    local_cluster: LocalCluster, results: dict[str, Any]
) -> None:
    title = "Not legacy tokens: Secrets of another type with the service-account annotation"
    assert f"Secret {NS}/ci-bot-token-copy" in _evidence(results, LEGACY, title)


# ------------------------------------------------------------------ compliant profile
@pytest.mark.parametrize("check", TOKEN_CHECKS)
def test_token_check_passes_on_compliant(
    check: str, local_cluster: LocalCluster, results: dict[str, Any]
) -> None:
    require_profile(local_cluster, "compliant")
    result = results.get(check, {})
    lines = [f.line() for f in _findings(results, check)]
    assert result.get("verdict") == "passed", f"{check}: {result.get('verdict')} {lines[:20]}"


def test_a_two_day_request_under_a_one_hour_cap_is_judged_at_an_hour(
    local_cluster: LocalCluster, results: dict[str, Any]
) -> None:
    require_profile(local_cluster, "compliant")
    changed = _evidence(
        results, LIFETIME, "Tokens the server issues for another lifetime than asked"
    )
    assert (
        f"Pod {NS}/long-projected-token: projected token volume api-token asks for 172800s; "
        "--service-account-max-token-expiration shortens it to 3600s "
        "(kube-apiserver kube-system/kube-apiserver-vm)"
    ) in changed
    asked = _evidence(results, AUTOMOUNT, "Pods that hold a credential because they ask for it")
    assert any(line.startswith(f"Pod {NS}/long-projected-token: ") for line in asked), asked


# ------------------------------------------------------------------ the server as oracle
def _lifetime_of(jwt: str) -> int:
    payload = jwt.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return int(claims["exp"]) - int(claims["iat"])


def test_model_agrees_with_the_servers_token_requests(local_cluster: LocalCluster) -> None:
    """For every projected token of the fixture pods (and both sides of the cap and of the
    3607 s marker), the lifetime the server issues is the one the suite judges."""
    api = config.new_client_from_config(local_cluster.admin_kubeconfig)
    core = client.CoreV1Api(api)
    system = api.sanitize_for_serialization(core.list_namespaced_pod("kube-system").items)
    trimmed = [trim.pod(p) for p in system]
    issuances = [
        tl.TokenIssuance.from_flags(f) for f in control_plane_flags(trimmed)["kube-apiserver"]
    ]
    assert issuances, "no kube-apiserver mirror pod found"
    asked: list[tuple[dict[str, Any], tl.ProjectedToken]] = []
    for ns in FIXTURE_NAMESPACES:
        for raw in api.sanitize_for_serialization(core.list_namespaced_pod(ns).items):
            asked += [(raw, t) for t in tl.projected_tokens(trim.pod(raw))]
    assert asked, "no fixture pod holds a projected token"
    probe_pod = asked[0][0]
    asked += [
        (probe_pod, tl.ProjectedToken("probe", seconds, audience))
        for seconds, audience in ((600, ""), (3607, ""), (3607, "vault"), (7200, ""), (172800, ""))
    ]
    disagreements = []
    for raw, token in asked:
        meta = raw["metadata"]
        request = client.AuthenticationV1TokenRequest(
            spec=client.V1TokenRequestSpec(
                audiences=[token.audience] if token.audience else [],
                expiration_seconds=token.requested,
                bound_object_ref=client.V1BoundObjectReference(
                    api_version="v1", kind="Pod", name=meta["name"], uid=meta["uid"]
                ),
            )
        )
        answer = core.create_namespaced_service_account_token(
            raw["spec"]["serviceAccountName"], meta["namespace"], request
        )
        issued = _lifetime_of(answer.status.token)
        modelled = tl.longest_lifetime(token, issuances)
        if issued != modelled.effective:
            disagreements.append(
                f"{meta['namespace']}/{meta['name']} {token}: server {issued}s, "
                f"model {modelled.effective}s ({modelled.why})"
            )
    assert not disagreements, "\n".join(disagreements)


def test_fixture_objects_exist(local_cluster: LocalCluster) -> None:
    """The proofs above mean something only if the fixture's objects are on the cluster."""
    core = client.CoreV1Api(config.new_client_from_config(local_cluster.admin_kubeconfig))
    pods = {p.metadata.name for p in core.list_namespaced_pod(NS).items}
    target = resolve_targets([local_cluster.admin_kubeconfig], [])[0]
    pages = ApiReader(build_client(target)).list_pages(
        f"/api/v1/namespaces/{NS}/secrets", accept=METADATA_ONLY
    )
    secrets = {item["metadata"]["name"] for page in pages for item in page.get("items") or []}
    if local_cluster.profile == "noncompliant":
        expected_pods = {
            "legacy-token-env",
            "legacy-token-envfrom",
            "legacy-token-volume",
            "projected-token-no-automount",
        }
        expected_secrets = {"ci-bot-legacy-token", "default-legacy-token", "ci-bot-token-copy"}
    else:
        expected_pods, expected_secrets = {"long-projected-token"}, {"ci-bot-token-copy"}
    assert expected_pods <= pods and expected_secrets <= secrets, (pods, secrets)
