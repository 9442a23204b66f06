"""Every path by which a pod holds a ServiceAccount credential (kubepci.analysis.pod_credentials).

Most cases are real API objects recorded from the local cluster (tests/data/tokens/, made
by record.py there): pods the ServiceAccount admission plugin admitted in a server-side dry
run, and the fixtures' pods and Secrets. Hand cases cover what a recording cannot show,
such as a ServiceAccount changed after its pods were admitted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kubepci.access import trim
from kubepci.analysis import pod_credentials as pc
from kubepci.analysis import tokens
from tests.builders import pod, service_account, token_volume

DATA = Path(__file__).resolve().parents[1] / "data" / "tokens"
RECORDINGS = sorted(DATA.glob("*.json"))
COMPLIANT = json.loads((DATA / "compliant.json").read_text())
Obj = dict[str, Any]


def admitted(variant: str, namespace: str = "default") -> Obj:
    """A recorded dry-run admission, trimmed like the snapshot trims a listed pod."""
    raw = json.loads(json.dumps(COMPLIANT["admitted"][variant]))
    raw["metadata"]["namespace"] = namespace
    return trim.pod(raw)


def credentials(
    pod_obj: Obj, *accounts: Obj, secrets: pc.TokenSecrets | None = None
) -> pc.PodCredentials:
    index = tokens.service_account_index(list(accounts))
    return pc.pod_credentials(pod_obj, index, secrets if secrets is not None else NO_SECRETS)


NO_SECRETS = pc.TokenSecrets({})
SECRET_T = pc.TokenSecrets({("default", "t"): "ci"})


def kinds(result: pc.PodCredentials) -> list[tuple[str, bool]]:
    return [(d.via, d.explicit) for d in result.deliveries]


# ----------------------------------------------------------------------- admission, recorded
@pytest.mark.parametrize(
    ("variant", "expected"),
    [
        ("automount-default", [(pc.AUTOMOUNT, False)]),
        ("automount-pod-true", [(pc.AUTOMOUNT, True)]),
        ("automount-pod-false", []),
        ("automount-false-hand-projected", [(pc.PROJECTED_TOKEN, True)]),
        # The plugin skips a container that mounts its own volume at the token path, and
        # adds no volume when no container needs it.
        ("own-volume-at-token-path", []),
        ("init-container-gets-the-token", [(pc.AUTOMOUNT, False)]),
        # A volume already named kube-api-access-* is used as it is: written by hand.
        ("volume-named-like-the-plugins", [(pc.PROJECTED_TOKEN, True)]),
        ("secret-references", []),  # no token Secret named t exists here
    ],
)
def test_admitted_pods(variant: str, expected: list[tuple[str, bool]]) -> None:
    result = credentials(admitted(variant), service_account("default", "default"))
    assert kinds(result) == expected
    assert all(d.account == "default/default" for d in result.deliveries)


def test_the_plugins_volume_names_the_decision_and_where_it_is_mounted() -> None:
    result = credentials(admitted("automount-default"))
    (delivery,) = result.deliveries
    assert delivery.volume.startswith(pc.INJECTED_VOLUME_PREFIX)
    assert delivery.text() == (
        f"ServiceAccount default/default credential in the admission-injected volume "
        f"{delivery.volume} (container app); neither pod nor ServiceAccount sets it; default true"
    )
    explicit = credentials(admitted("automount-pod-true")).deliveries[0]
    assert explicit.how.endswith("; pod sets automountServiceAccountToken: true")


def test_init_container_mount_is_named() -> None:
    (delivery,) = credentials(admitted("init-container-gets-the-token")).deliveries
    assert "(init container init)" in delivery.how


def test_no_volume_although_automount_is_on_is_a_note_not_a_credential() -> None:
    result = credentials(admitted("own-volume-at-token-path"))
    assert result.deliveries == ()
    assert result.automount.mounted
    assert "did not add one" in result.notes[0]


def test_service_account_set_false_after_admission_still_leaves_an_unrequested_token() -> None:
    result = credentials(
        admitted("automount-default"), service_account("default", "default", automount=False)
    )
    (delivery,) = result.deliveries
    assert (delivery.via, delivery.explicit) == (pc.AUTOMOUNT, False)
    assert delivery.how.endswith(
        "ServiceAccount default/default sets automountServiceAccountToken: false now, "
        "but the pod was admitted before that"
    )
    assert result.unrequested() == [delivery]


def test_service_account_true_makes_the_plugins_token_explicit() -> None:
    result = credentials(
        admitted("automount-default"), service_account("default", "default", automount=True)
    )
    assert kinds(result) == [(pc.AUTOMOUNT, True)]


def test_the_plugins_shape_in_a_pod_that_turns_automount_off_was_written_by_hand() -> None:
    raw = json.loads(json.dumps(COMPLIANT["admitted"]["automount-default"]))
    raw["spec"]["automountServiceAccountToken"] = False
    raw["metadata"]["namespace"] = "default"
    assert kinds(credentials(trim.pod(raw))) == [(pc.PROJECTED_TOKEN, True)]


# ----------------------------------------------------------------------- legacy token Secrets
def test_every_secret_reference_to_a_token_secret() -> None:
    result = credentials(admitted("secret-references"), secrets=SECRET_T)
    assert [(d.via, d.account, d.explicit) for d in result.deliveries] == [
        (pc.SECRET_VOLUME, "default/ci", True),  # volume whole: every key
        (pc.SECRET_VOLUME, "default/ci", True),  # volume mixed: a projected secret source
        (pc.ENV, "default/ci", True),  # env CI_TOKEN: key token
        (pc.ENV_FROM, "default/ci", True),  # envFrom in the init container
    ]
    hows = [d.how for d in result.deliveries]
    assert hows == [
        "from legacy token Secret t in volume whole (container app)",
        "from legacy token Secret t projected into volume mixed (no container yet)",
        "from legacy token Secret t key token in env CI_TOKEN of container app",
        "from legacy token Secret t in env CI_token (envFrom) of init container init",
    ]
    # Volume ca projects only ca.crt and env CA reads only ca.crt: no credential.
    assert result.notes == (
        "volume ca projects only other keys of Secret t",
        "container app reads only key ca.crt of Secret t",
    )


def test_secret_references_unresolved_without_the_token_secret_listing() -> None:
    result = pc.pod_credentials(admitted("secret-references"), {}, None)
    assert result.deliveries == ()
    assert len(result.unresolved) == 4
    assert result.unresolved[0] == "Secret default/t (in volume whole (container app))"


def test_invalidated_token_secret_is_still_held_and_says_so() -> None:
    secrets = pc.TokenSecrets({("default", "t"): "ci"}, {("default", "t"): "2026-01-01"})
    result = credentials(admitted("secret-references"), secrets=secrets)
    assert "Secret t (marked invalid since 2026-01-01)" in result.deliveries[0].how


def test_token_secrets_from_the_typed_listing() -> None:
    listed = [
        {
            "metadata": {
                "name": "ci-token",
                "namespace": "tools",
                "annotations": {tokens.LEGACY_TOKEN_ANNOTATION: "ci"},
                "labels": {tokens.INVALID_SINCE_LABEL: "2026-02-01"},
            },
            "type": tokens.SERVICE_ACCOUNT_TOKEN_TYPE,
        }
    ]
    secrets = pc.TokenSecrets.from_listing(listed)
    assert secrets.accounts == {("tools", "ci-token"): "ci"}
    assert secrets.invalid_since == {("tools", "ci-token"): "2026-02-01"}


# ----------------------------------------------------------------------- the default account
class TestDefaultAccount:
    def test_runs_as_default_with_another_accounts_token(self) -> None:
        result = credentials(admitted("secret-references"), secrets=SECRET_T)
        detail = result.default_account_detail()
        assert detail.startswith(
            "runs as the default ServiceAccount and holds ServiceAccount default/ci credential"
        )

    def test_runs_as_default_without_credentials(self) -> None:
        assert credentials(admitted("automount-pod-false")).default_account_detail() == ""

    def test_own_account_holding_the_default_accounts_legacy_token(self) -> None:
        raw = json.loads(json.dumps(COMPLIANT["admitted"]["secret-references"]))
        raw["metadata"]["namespace"] = "default"
        raw["spec"]["serviceAccountName"] = "web"
        secrets = pc.TokenSecrets({("default", "t"): "default"})
        detail = credentials(trim.pod(raw), secrets=secrets).default_account_detail()
        assert detail.startswith(
            "runs as ServiceAccount default/web but holds the default account's "
            "ServiceAccount default/default credential from legacy token Secret t"
        )

    def test_own_account_with_its_own_token(self) -> None:
        subject = pod("web", "shop", sa="web", automount=False, projected_token_seconds=600)
        assert credentials(subject).default_account_detail() == ""


# ----------------------------------------------------------------------- recorded fixtures
@pytest.mark.parametrize("recording", RECORDINGS, ids=lambda p: p.stem)
def test_fixture_pods_hold_what_the_profile_says(recording: Path) -> None:
    document = json.loads(recording.read_text())
    accounts = tokens.service_account_index(
        [trim.service_account(a) for a in document["serviceaccounts"]]
    )
    typed = [trim.token_secret_metadata(s) for s in document["token_secrets_metadata"]]
    secrets = pc.TokenSecrets.from_listing(tokens.service_account_token_secrets(typed))
    held = {
        f"{p['metadata']['namespace']}/{p['metadata']['name']}": pc.pod_credentials(
            trim.pod(p), accounts, secrets
        )
        for p in document["pods"]
    }
    expected = EXPECTED_FIXTURE_CREDENTIALS[document["profile"]]
    assert {ref: kinds(h) for ref, h in held.items() if ref in expected} == expected
    detail = {ref: h.default_account_detail() for ref, h in held.items()}
    flagged = sorted(ref for ref, d in detail.items() if d)
    assert flagged == EXPECTED_DEFAULT_ACCOUNT_USE[document["profile"]]


EXPECTED_FIXTURE_CREDENTIALS: dict[str, dict[str, list[tuple[str, bool]]]] = {
    "compliant": {
        "payments/payments-api": [],
        "pci-tokens/long-projected-token": [(pc.PROJECTED_TOKEN, True)],
    },
    "noncompliant": {
        "payments/payments-api": [(pc.AUTOMOUNT, False)],
        "payments/report-exporter": [(pc.PROJECTED_TOKEN, True)],
        "pci-tokens/legacy-token-env": [(pc.ENV, True)],
        "pci-tokens/legacy-token-envfrom": [(pc.ENV_FROM, True)],
        "pci-tokens/legacy-token-volume": [(pc.SECRET_VOLUME, True)],
        "pci-tokens/projected-token-no-automount": [(pc.PROJECTED_TOKEN, True)],
    },
}
EXPECTED_DEFAULT_ACCOUNT_USE = {
    "compliant": [],
    "noncompliant": [
        "payments/payments-api",
        "pci-tokens/legacy-token-env",
        "pci-tokens/legacy-token-envfrom",
        "pci-tokens/legacy-token-volume",
        "pci-tokens/projected-token-no-automount",
    ],
}


def test_consumers_of_token_secrets() -> None:
    result = credentials(admitted("secret-references"), secrets=SECRET_T)
    consumers = pc.token_secret_consumers([result])
    assert list(consumers) == [("default", "t")]
    assert consumers[("default", "t")][2] == (
        "Pod default/secret-references from legacy token Secret t key token in env CI_TOKEN "
        "of container app"
    )


def test_hand_projected_volume_from_the_builders() -> None:
    subject = pod("p", "shop", sa="p", automount=False, volumes=[token_volume("t", 600)])
    (delivery,) = credentials(subject).deliveries
    assert delivery.text() == (
        "ServiceAccount shop/p credential in projected volume t (no container yet), "
        "written in the pod spec"
    )


def test_every_default_credential_a_pod_holds_is_named() -> None:
    """The 1.5.2 detail names each delivery, whether the pod runs as default or borrows
    the default account's tokens while running as another."""
    from kubepci.analysis.pod_credentials import Delivery, PodCredentials

    mounted = Delivery("automount", "shop/default", False, "in the admission-injected volume")
    env = Delivery("env", "shop/default", True, "in env TOKEN (container app)")
    runs_as_default = PodCredentials("shop", "web", "default", None, (mounted, env))  # type: ignore[arg-type]
    assert runs_as_default.default_account_detail() == (
        "runs as the default ServiceAccount and holds ServiceAccount shop/default credential "
        "in the admission-injected volume; ServiceAccount shop/default credential in env "
        "TOKEN (container app)"
    )
    borrows = PodCredentials("shop", "api", "api", None, (mounted, env))  # type: ignore[arg-type]
    assert borrows.default_account_detail().endswith(
        "but holds the default account's ServiceAccount shop/default credential in the "
        "admission-injected volume; ServiceAccount shop/default credential in env TOKEN "
        "(container app)"
    )


def test_only_the_admission_plugins_own_volume_counts_as_injected() -> None:
    """admission.go TokenVolumeSource: the generated name, one token of 3607 s for the API
    server's audience, the kube-root-ca.crt ConfigMap and the namespace (downward API). A
    volume differing in any of these is the pod's own request."""
    import copy

    from kubepci.analysis.pod_credentials import _is_injected
    from tests.support.evidence_cases import recorded

    pod = recorded("noncompliant", "pods", "payments-api")
    (injected,) = [v for v in pod["spec"]["volumes"] if v["name"].startswith("kube-api-access-")]
    assert _is_injected(injected)

    def varied(change: Callable[[Obj], None]) -> bool:
        volume = copy.deepcopy(injected)
        change(volume)
        return _is_injected(volume)

    def sources(volume: Obj) -> list[Obj]:
        return list(volume["projected"]["sources"])

    def token(volume: Obj) -> Obj:
        (found,) = [s["serviceAccountToken"] for s in sources(volume) if "serviceAccountToken" in s]
        return dict(found)

    def set_token(key: str, value: object) -> Callable[[Obj], None]:
        def change(volume: Obj) -> None:
            for s in volume["projected"]["sources"]:
                if "serviceAccountToken" in s:
                    s["serviceAccountToken"][key] = value

        return change

    assert token(injected)["expirationSeconds"] == 3607
    assert not varied(lambda v: v.update(name="api-access"))
    # (A volume always has a name: ValidateVolumes requires it, and it is read directly.)
    assert not varied(set_token("audience", "vault"))
    assert not varied(set_token("expirationSeconds", 3600))
    assert not varied(set_token("expirationSeconds", None))  # unset: the server's 1 h
    assert not varied(
        lambda v: v["projected"].update(sources=[s for s in sources(v) if "downwardAPI" not in s])
    )
    assert not varied(
        lambda v: v["projected"].update(sources=[s for s in sources(v) if "configMap" not in s])
    )
    assert not varied(
        lambda v: v["projected"].update(
            sources=[
                *sources(v),
                {"serviceAccountToken": {"path": "t2", "expirationSeconds": 3607}},
            ]
        )
    )


def test_where_a_volume_is_mounted_names_every_kind_of_container() -> None:
    from kubepci.analysis.pod_credentials import _mounted_in

    def mounting(name: str) -> Obj:
        return {"name": name, "volumeMounts": [{"name": "token", "mountPath": "/t"}]}

    spec = {
        "containers": [mounting("app"), {"name": "idle"}],
        "initContainers": [mounting("setup")],
        "ephemeralContainers": [mounting("debug")],
    }
    assert _mounted_in(spec, "token") == (
        "container app, init container setup, ephemeral container debug"
    )
    assert _mounted_in(spec, "other") == "no container yet"


def _trimmed_pod(spec: Obj, **meta: Any) -> Obj:
    raw = {"metadata": {"name": "p", "namespace": "default", **meta}, "spec": spec}
    return trim.pod(raw)


def test_a_token_secret_read_whole_into_the_environment_is_named_with_its_prefix() -> None:
    container = {"name": "app", "envFrom": [{"prefix": "APP_", "secretRef": {"name": "t"}},
                                            {"configMapRef": {"name": "settings"}}]}  # fmt: skip
    found = credentials(_trimmed_pod({"containers": [container]}), secrets=SECRET_T)
    assert [(d.via, d.account, d.how) for d in found.deliveries if d.via == pc.ENV_FROM] == [
        (
            pc.ENV_FROM,
            "default/ci",
            "from legacy token Secret t in env APP_token (envFrom) of container app",
        )
    ]


def test_a_control_plane_pods_variables_are_no_credential() -> None:
    """A mirror pod keeps its variables and ConfigMap environment for its flags; neither is
    a Secret (the ServiceAccount admission plugin refuses mirror pods that name one)."""
    container = {"name": "etcd", "command": ["etcd"], "env": [{"name": "ETCD_NAME", "value": "a"}],
                 "envFrom": [{"configMapRef": {"name": "etcd-env"}}]}  # fmt: skip
    annotations = {"kubernetes.io/config.mirror": "x", "kubernetes.io/config.source": "file"}
    pod = _trimmed_pod(
        {"containers": [container], "nodeName": "cp"},
        namespace="kube-system",
        annotations=annotations,
        ownerReferences=[{"kind": "Node", "name": "cp"}],
    )
    assert credentials(pod).deliveries == ()


def test_automount_asked_for_without_the_injected_volume_is_noted() -> None:
    pod = _trimmed_pod({"containers": [{"name": "app"}], "automountServiceAccountToken": True})
    found = credentials(pod)
    assert found.service_account == "default"  # none named: the admission plugin's default
    assert found.notes == (
        "automount is on but no admission-injected token volume is in the pod: the "
        "ServiceAccount admission plugin did not add one (disabled, or every container mounts "
        "its own volume at /var/run/secrets/kubernetes.io/serviceaccount)",
    )


def test_a_token_after_other_sources_of_a_projected_volume_is_found() -> None:
    volume = {"name": "mixed", "projected": {"sources": [
        {"configMap": {"name": "ca"}},
        {"serviceAccountToken": {"path": "token", "expirationSeconds": 600}},
    ]}}  # fmt: skip
    pod = _trimmed_pod({"containers": [{"name": "app"}], "volumes": [volume],
                        "automountServiceAccountToken": False})  # fmt: skip
    (delivery,) = credentials(pod).deliveries
    assert (delivery.via, delivery.volume) == (pc.PROJECTED_TOKEN, "mixed")
    assert delivery.how == "in projected volume mixed (no container yet), written in the pod spec"


def test_each_delivery_names_its_volume_and_the_environment_none() -> None:
    result = credentials(admitted("secret-references"), secrets=SECRET_T)
    assert [d.volume for d in result.deliveries] == ["whole", "mixed", "", ""]
    assert [d.secret for d in result.deliveries] == ["t", "t", "t", "t"]


def test_a_secret_after_variables_of_other_kinds_is_found() -> None:
    """The environment is read to its end: a token Secret after plain variables and after a
    ConfigMap is still a credential (a mirror pod's are skipped the same way, one by one)."""
    container = {
        "name": "app",
        "env": [
            {"name": "MODE", "value": "x"},
            {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "t", "key": "token"}}},
        ],
        "envFrom": [{"configMapRef": {"name": "settings"}}, {"secretRef": {"name": "t"}}],
    }
    found = credentials(_trimmed_pod({"containers": [container]}), secrets=SECRET_T)
    assert [d.via for d in found.deliveries] == [pc.ENV, pc.ENV_FROM]


def test_a_pod_without_an_account_name_runs_as_default() -> None:
    found = credentials(_trimmed_pod({"containers": [{"name": "app"}]}))
    assert (found.service_account, found.namespace) == ("default", "default")
