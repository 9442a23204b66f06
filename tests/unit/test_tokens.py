"""Workload credentials: token automount, legacy and projected tokens, CSR identities, and
what the snapshot's trimmers keep (and, for secrets, never keep)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubepci.access import trim
from kubepci.access.api import METADATA_ONLY, ApiReader, ApiUnavailable
from kubepci.access.snapshot import RESOURCES, SharedStore, Snapshot
from kubepci.analysis import certificates, tokens
from kubepci.verdict import EvidenceUnavailable
from tests.builders import (
    KUBELET_SIGNER,
    csr,
    pod,
    pod_model,
    secret_meta,
    secret_model,
    serialize,
    service_account,
    static_pod,
    token_volume,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "tokens"


def automount_of(pod_obj: dict, *accounts: dict):
    return tokens.effective_automount(pod_obj, tokens.service_account_index(list(accounts)))


# ----------------------------------------------------------------------------- automount


class TestEffectiveAutomount:
    def test_default_is_mounted_and_not_explicit(self) -> None:
        result = automount_of(pod("web", "shop"))
        assert (result.mounted, result.explicit) == (True, False)
        assert (
            result.text() == "token mounted; neither pod nor ServiceAccount sets it; default true"
        )

    def test_service_account_without_setting_keeps_the_default(self) -> None:
        result = automount_of(pod("web", "shop"), service_account("default", "shop"))
        assert (result.mounted, result.explicit) == (True, False)

    def test_service_account_false(self) -> None:
        result = automount_of(
            pod("web", "shop", sa="web"), service_account("web", "shop", automount=False)
        )
        assert (result.mounted, result.explicit) == (False, True)
        assert result.decided_by == (
            "ServiceAccount shop/web sets automountServiceAccountToken: false"
        )

    def test_service_account_of_the_same_name_elsewhere_does_not_count(self) -> None:
        result = automount_of(
            pod("web", "shop", sa="web"), service_account("web", "other", automount=False)
        )
        assert result.mounted and not result.explicit

    def test_pod_false_wins_over_service_account_true(self) -> None:
        result = automount_of(
            pod("web", "shop", sa="web", automount=False),
            service_account("web", "shop", automount=True),
        )
        assert (result.mounted, result.explicit) == (False, True)
        assert result.decided_by == "pod sets automountServiceAccountToken: false"

    def test_pod_true_wins_over_service_account_false(self) -> None:
        result = automount_of(
            pod("op", "shop", sa="op", automount=True),
            service_account("op", "shop", automount=False),
        )
        assert (result.mounted, result.explicit) == (True, True)
        assert result.decided_by == "pod sets automountServiceAccountToken: true"

    def test_projected_token_mounted_by_hand_counts_as_a_token(self) -> None:
        result = automount_of(
            pod("web", "shop", automount=False, projected_token_seconds=600),
        )
        assert (result.mounted, result.explicit) == (True, True)
        assert result.decided_by == "projected token volume api-token mounted explicitly"

    def test_unnamed_service_account_means_default(self) -> None:
        result = automount_of(
            pod("web", "shop", sa=None), service_account("default", "shop", automount=False)
        )
        assert not result.mounted


def test_is_mirror_pod() -> None:
    assert tokens.is_mirror_pod(static_pod("kube-apiserver"))
    assert not tokens.is_mirror_pod(pod("web", "kube-system"))
    assert not tokens.is_mirror_pod(pod("web", annotations={"example.com/mirror": "x"}))


# ----------------------------------------------------------------------------- legacy tokens


class TestLegacyTokens:
    def test_recognised_from_metadata_only(self) -> None:
        secrets = [
            secret_meta("ci-token", "tools", sa="ci"),
            secret_meta("db-password", "tools", data={"password": "aHVudGVyMg=="}),
        ]
        legacy = tokens.legacy_token_secrets(secrets)
        assert [s["metadata"]["name"] for s in legacy] == ["ci-token"]

    def test_detail_without_labels(self) -> None:
        detail = tokens.legacy_token_detail(secret_meta("ci-token", "tools", sa="ci"))
        assert detail == "long-lived token for ServiceAccount tools/ci; no recorded use"

    def test_detail_with_cleanup_labels_as_evidence(self) -> None:
        secret = secret_meta(
            "ci-token",
            "tools",
            sa="ci",
            labels={
                tokens.LAST_USED_LABEL: "2025-01-31",
                tokens.INVALID_SINCE_LABEL: "2025-03-01",
                "app": "ci",
            },
        )
        assert tokens.legacy_token_detail(secret) == (
            "long-lived token for ServiceAccount tools/ci; last used 2025-01-31; "
            "invalidated since 2025-03-01 (pending cleanup)"
        )


def test_projected_token_lifetimes() -> None:
    subject = pod(
        "p",
        volumes=[token_volume("short", 600), token_volume("unset"), token_volume("long", 86401)],
    )
    assert tokens.projected_token_lifetimes(subject) == [
        ("short", 600),
        ("unset", 3600),
        ("long", 86401),
    ]
    assert tokens.projected_token_lifetimes(pod("no-volumes")) == []


# ----------------------------------------------------------------------------- CSRs


class TestCertificates:
    def test_requested_identity(self) -> None:
        identity = certificates.requested_identity(csr("c", "jane", ["system:masters", "dev"]))
        assert identity == certificates.RequestedIdentity("jane", ("system:masters", "dev"))

    def test_requested_identity_without_common_name(self) -> None:
        identity = certificates.requested_identity(csr("c", "", ["ops"]))
        assert identity == certificates.RequestedIdentity("", ("ops",))

    @pytest.mark.parametrize("request_bytes", [b"not a CSR", b""])
    def test_unparseable_request(self, request_bytes: bytes) -> None:
        assert certificates.requested_identity(csr("c", "x", request=request_bytes)) is None

    def test_request_not_base64(self) -> None:
        broken = csr("c", "x")
        broken["spec"]["request"] = "%%%"
        assert certificates.requested_identity(broken) is None

    @pytest.mark.parametrize(
        ("approved", "state"), [(True, "approved"), (False, "denied"), (None, "pending")]
    )
    def test_state(self, approved: bool | None, state: str) -> None:
        assert certificates.state(csr("c", "x", approved=approved)) == state

    def test_failed_wins_over_approved(self) -> None:
        failed = csr("c", "x", approved=True)
        failed["status"]["conditions"].append({"type": "Failed", "status": "True"})
        assert certificates.state(failed) == "failed"

    def test_is_node_identity(self) -> None:
        node = certificates.requested_identity(
            csr("n", "system:node:worker-1", ["system:nodes"], signer=KUBELET_SIGNER)
        )
        assert node is not None and certificates.is_node_identity(node)
        for cn, orgs in [
            ("system:node:worker-1", ("system:nodes", "system:masters")),
            ("system:node:worker-1", ()),
            ("jane", ("system:nodes",)),
        ]:
            assert not certificates.is_node_identity(certificates.RequestedIdentity(cn, orgs))


# ----------------------------------------------------------------------------- trimming


class TestSecretTrim:
    def test_keeps_only_allow_listed_metadata(self) -> None:
        manifest = json.dumps(
            {"apiVersion": "v1", "kind": "Secret", "data": {"password": "c3VwZXJzZWNyZXQ="}}
        )
        raw = serialize(
            secret_model(
                "ci-token",
                "tools",
                sa="ci",
                labels={tokens.LAST_USED_LABEL: "2025-01-31", "team": "payments"},
                annotations={"owner": "jane"},
                last_applied=manifest,
                data={"token": "c3VwZXJzZWNyZXQ="},
            )
        )
        assert "managedFields" in raw["metadata"]  # the builder plants what must go
        kept = trim.secret_metadata(raw)
        text = json.dumps(kept)
        assert "c3VwZXJzZWNyZXQ=" not in text
        assert "last-applied-configuration" not in text
        assert "managedFields" not in text
        assert "data" not in kept and "type" not in kept
        assert kept["metadata"]["labels"] == {tokens.LAST_USED_LABEL: "2025-01-31"}
        assert kept["metadata"]["annotations"] == {
            "kubernetes.io/service-account.name": "ci",
            "kubernetes.io/service-account.uid": "uid-tools-ci",
        }
        assert (kept["metadata"]["name"], kept["metadata"]["namespace"]) == ("ci-token", "tools")

    def test_secret_without_allow_listed_metadata_keeps_names_only(self) -> None:
        kept = secret_meta("plain", "tools", labels={"a": "b"}, annotations={"c": "d"})
        assert set(kept["metadata"]) <= {"name", "namespace", "uid"}


class TestPodTrim:
    def test_kube_system_pods_keep_command_and_args(self) -> None:
        kept = pod("x", "kube-system", command=["kube-apiserver"], args=["--v=2"])
        container = kept["spec"]["containers"][0]
        assert (container["command"], container["args"]) == (["kube-apiserver"], ["--v=2"])

    def test_mirror_pods_keep_command_and_args(self) -> None:
        kept = pod("x", "static", mirror=True, command=["etcd", "--client-cert-auth=true"])
        assert kept["spec"]["containers"][0]["command"] == ["etcd", "--client-cert-auth=true"]

    def test_application_pods_drop_command_and_args(self) -> None:
        kept = pod("x", "shop", command=["app", "--db-password=hunter2"], args=["--token=abc"])
        assert "hunter2" not in json.dumps(kept) and "abc" not in json.dumps(kept)
        assert set(kept["spec"]["containers"][0]) == {"name", "image"}

    def test_other_allow_listed_annotations_do_not_make_a_pod_static(self) -> None:
        # Regression: any kept annotation (e.g. config.source, or a kubeadm one copied
        # onto an app) kept the pod's command line, which may hold application secrets.
        kept = pod(
            "x",
            "shop",
            annotations={"kubernetes.io/config.source": "api"},
            command=["app", "--db-password=hunter2"],
        )
        assert "hunter2" not in json.dumps(kept)

    def test_spec_fields_the_checks_read(self) -> None:
        raw = serialize(pod_model("x", "shop", sa=None, automount=False, projected_token=True))
        raw["spec"]["volumes"].append({"name": "cfg", "configMap": {"name": "cfg"}})
        raw["spec"]["volumes"].append({"name": "creds", "secret": {"secretName": "db", "x": 1}})
        kept = trim.pod(raw)
        assert kept["spec"]["serviceAccountName"] == "default"
        assert kept["spec"]["automountServiceAccountToken"] is False
        assert [v["name"] for v in kept["spec"]["volumes"]] == ["api-token", "creds"]
        assert kept["spec"]["volumes"][1] == {"name": "creds", "secret": {"secretName": "db"}}
        assert "automountServiceAccountToken" not in pod("y")["spec"]

    def test_non_allow_listed_pod_annotations_dropped(self) -> None:
        kept = pod(
            "x", "shop", annotations={"kubectl.kubernetes.io/last-applied-configuration": "{}"}
        )
        assert "annotations" not in kept["metadata"]


def test_service_account_trim_keeps_secret_names_only() -> None:
    kept = service_account("ci", "tools", automount=False, secrets=["ci-token"])
    assert kept == {
        "metadata": {"name": "ci", "namespace": "tools", "uid": "uid-tools-ci"},
        "automountServiceAccountToken": False,
        "secrets": [{"name": "ci-token"}],
    }


# ----------------------------------------------------------------------------- tokens by type


class TestTokenTypeSecrets:
    def test_only_the_token_type_is_a_legacy_token(self) -> None:
        typed = trim.token_secret_metadata(serialize(secret_model("ci-token", "tools", sa="ci")))
        assert typed["type"] == tokens.SERVICE_ACCOUNT_TOKEN_TYPE
        assert tokens.service_account_token_secrets([typed]) == [typed]
        # An entry without the type (from the all-Secrets metadata list) is never one.
        assert tokens.service_account_token_secrets([secret_meta("x", sa="ci")]) == []

    def test_an_opaque_copy_with_the_annotation_is_set_aside(self) -> None:
        copy = secret_meta(
            "ci-token-copy", "tools", annotations={tokens.LEGACY_TOKEN_ANNOTATION: "ci"}
        )
        original = secret_meta("ci-token", "tools", sa="ci")
        typed = [trim.token_secret_metadata(serialize(secret_model("ci-token", "tools", sa="ci")))]
        # Privilege paths still see both: reading either yields the token.
        assert [s["metadata"]["name"] for s in tokens.legacy_token_secrets([copy, original])] == [
            "ci-token-copy",
            "ci-token",
        ]
        copies = tokens.annotated_copies([copy, original], typed)
        assert [s["metadata"]["name"] for s in copies] == ["ci-token-copy"]

    def test_recorded_copy_is_not_a_legacy_token(self) -> None:
        document = json.loads((DATA / "compliant.json").read_text())
        secrets = [trim.secret_metadata(s) for s in document["secrets_metadata"]]
        typed = [trim.token_secret_metadata(s) for s in document["token_secrets_metadata"]]
        assert tokens.service_account_token_secrets(typed) == []
        copies = tokens.annotated_copies(secrets, typed)
        assert [(s["metadata"]["namespace"], s["metadata"]["name"]) for s in copies] == [
            ("pci-tokens", "ci-bot-token-copy")
        ]


def test_should_automount_ignores_hand_projected_volumes() -> None:
    subject = pod("web", "shop", automount=False, projected_token_seconds=600)
    decision = tokens.should_automount(subject, {})
    assert (decision.mounted, decision.explicit) == (False, True)
    # effective_automount (privilege paths) still counts the projected token as mounted.
    assert automount_of(subject).mounted


RAW_CONTAINER: dict = {
    "name": "app",
    "image": "x",
    "env": [
        {"name": "PLAIN", "value": "hunter2-plain-value"},
        {"name": "FIELD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "T", "valueFrom": {"secretKeyRef": {"name": "s", "key": "token"}}},
    ],
    "envFrom": [{"configMapRef": {"name": "c"}}, {"prefix": "P_", "secretRef": {"name": "s"}}],
    "volumeMounts": [{"name": "v", "mountPath": "/v", "readOnly": True, "subPath": "a"}],
}


class TestSecretReferenceTrim:
    def test_keeps_secret_names_and_keys_never_values(self) -> None:
        raw = serialize(pod_model("x", "shop"))
        raw["spec"]["containers"] = [RAW_CONTAINER]
        raw["spec"]["initContainers"] = [{**RAW_CONTAINER, "name": "init"}]
        raw["spec"]["ephemeralContainers"] = [{**RAW_CONTAINER, "name": "debug"}]
        kept = trim.pod(raw)
        assert "hunter2-plain-value" not in json.dumps(kept)
        for field, name in (
            ("containers", "app"),
            ("initContainers", "init"),
            ("ephemeralContainers", "debug"),
        ):
            assert kept["spec"][field] == [
                {
                    "name": name,
                    "image": "x",
                    "env": [{"name": "T", "secretKeyRef": {"name": "s", "key": "token"}}],
                    "envFrom": [{"prefix": "P_", "secretRef": {"name": "s"}}],
                    "volumeMounts": [{"name": "v", "mountPath": "/v"}],
                }
            ]

    def test_secret_volumes_keep_item_keys_not_paths(self) -> None:
        raw = serialize(pod_model("x", "shop"))
        raw["spec"]["volumes"] = [
            {
                "name": "ca",
                "secret": {
                    "secretName": "s",
                    "items": [{"key": "ca.crt", "path": "ca.pem", "mode": 256}],
                    "optional": True,
                },
            },
            {
                "name": "mixed",
                "projected": {
                    "sources": [
                        {"secret": {"name": "s"}},
                        {"configMap": {"name": "c", "items": [{"key": "k", "path": "p"}]}},
                        {"downwardAPI": {"items": [{"path": "n"}]}},
                        {"clusterTrustBundle": {"path": "b"}},
                    ]
                },
            },
            {"name": "cm-only", "projected": {"sources": [{"configMap": {"name": "c"}}]}},
        ]
        assert trim.pod(raw)["spec"]["volumes"] == [
            {
                "name": "ca",
                "secret": {"secretName": "s", "items": [{"key": "ca.crt"}], "optional": True},
            },
            {
                "name": "mixed",
                "projected": {
                    "sources": [
                        {"secret": {"name": "s"}},
                        {"configMap": {"name": "c"}},
                        {"downwardAPI": {}},
                    ]
                },
            },
        ]


# ----------------------------------------------------------------------------- the typed listing


class SelectingReader:
    """Answers ApiReader.request like the API server pages a field-selected list."""

    # The real paging, over this fake's request().
    list_pages = ApiReader.list_pages

    def __init__(self, pages: list[list[dict]], fail: ApiUnavailable | None = None) -> None:
        self.pages, self.fail, self.queries = pages, fail, []

    def request(self, method: str, path: str, query: list, accept: str = "") -> tuple[int, bytes]:
        self.queries.append((method, path, list(query), accept))
        if self.fail is not None:
            raise self.fail
        index = int(dict(query).get("continue") or 0)
        more = {"continue": str(index + 1)} if index + 1 < len(self.pages) else {}
        page = {"kind": "PartialObjectMetadataList", "metadata": more, "items": self.pages[index]}
        return 200, json.dumps(page).encode()


def _typed(name: str) -> dict:
    return {
        "metadata": {
            "name": name,
            "namespace": "tools",
            "annotations": {
                tokens.LEGACY_TOKEN_ANNOTATION: "ci",
                "kubectl.kubernetes.io/last-applied-configuration": "{}",
            },
        }
    }


class TestTokenSecretListing:
    def test_listed_by_type_as_metadata_and_paginated(self, tmp_path: Path) -> None:
        reader = SelectingReader([[_typed("a")], [_typed("b")]])
        snapshot = Snapshot(lambda: reader, SharedStore(tmp_path))  # type: ignore[arg-type,return-value]
        listed = snapshot.token_secrets
        assert [s["metadata"]["name"] for s in listed] == ["a", "b"]
        assert all(s["type"] == tokens.SERVICE_ACCOUNT_TOKEN_TYPE for s in listed)
        assert "last-applied" not in json.dumps(list(listed))
        method, path, query, accept = reader.queries[1]
        assert (method, path, accept) == ("GET", "/api/v1/secrets", METADATA_ONLY)
        assert query == [
            ("fieldSelector", "type=kubernetes.io/service-account-token"),
            ("limit", 500),
            ("continue", "1"),
        ]
        assert "token-secrets" not in RESOURCES  # listed on first use, not prefetched

    def test_expired_continue_token_restarts_once(self) -> None:
        calls = []

        class Expiring(SelectingReader):
            def request(self, method, path, query, accept=""):  # type: ignore[no-untyped-def]
                calls.append(dict(query).get("continue"))
                if len(calls) == 2:
                    raise ApiUnavailable("410 gone", 410)
                return super().request(method, path, query, accept)

        restarts = []
        pages = list(
            Expiring([[_typed("a")], [_typed("b")]]).list_pages(
                "/api/v1/secrets",
                accept=METADATA_ONLY,
                on_restart=lambda: restarts.append(1),
                selector=[("fieldSelector", "type=x")],
            )
        )
        assert calls == [None, "1", None, "1"]
        assert restarts == [1] and len(pages) == 3

    def test_a_failed_list_names_secrets_and_the_selector(self, tmp_path: Path) -> None:
        reader = SelectingReader([], fail=ApiUnavailable("403 forbidden: no", 403))
        snapshot = Snapshot(lambda: reader, SharedStore(tmp_path))  # type: ignore[arg-type,return-value]
        with pytest.raises(EvidenceUnavailable) as caught:
            _ = snapshot.token_secrets
        assert str(caught.value) == (
            "cannot list secrets: 403 forbidden: no "
            "(fieldSelector type=kubernetes.io/service-account-token)"
        )
