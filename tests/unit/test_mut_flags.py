"""Control-plane discovery and flag reading at the edges the main flag tests leave open.

What is tested: which pods and containers are taken for a component (each signal a pod
or container gives alone, several containers in one pod), how each occurrence and each
``ETCD_*`` variable is applied, which settings a ``$(VAR)`` the suite cannot resolve makes
unknown and how the evidence words it, and which images' flag tables are the suite's own.
Why: each of these decides whether a check judges a component, judges it with the wrong
flag table, or errors; the expected answers follow the components' own sources (cited).
"""

from __future__ import annotations

from typing import Any

import pytest

from kubepci.analysis import cmdline
from kubepci.analysis.flags import (
    component_flags,
    control_plane_flags,
    etcd_client_auth_gap,
    tables_match,
)
from kubepci.verdict import EvidenceUnavailable
from tests.unit.test_flags import IMAGES, container, flags_of, one, raw_pod

Obj = dict[str, Any]
DIGEST = "sha256:" + "ab" * 32
FROM_FIELD = {"fieldRef": {"fieldPath": "status.podIP"}}
FROM_CONFIGMAP = {"configMapKeyRef": {"name": "cp-env", "key": "v"}}
NOT_STATIC = "not a static pod (no kubernetes.io/config.mirror annotation with a Node as owner)"
KUBELET_NOTE = (
    "not resolved: set from a Secret, ConfigMap, field reference or by the kubelet itself, "
    "which the suite does not read"
)
ENV_FROM_NOTE = "the container also takes variables from envFrom sources"


# ----------------------------------------------------------------------------- discovery


@pytest.mark.parametrize(
    ("pod_name", "labels", "name", "image"),
    [
        # each signal alone; the binary (/usr/bin/backup) is never a component
        ("backup-x", None, "etcd", "registry.example/backup:1"),
        ("backup-x", {"component": "etcd"}, "main", "registry.example/backup:1"),
        ("etcd-backup-x", None, "main", "registry.example/backup:1"),
        # the image's repository is its last path component, whatever the registry path
        ("backup-x", None, "main", "registry.example/mirror/coreos/etcd:v3.6.16"),
        # ...and neither a tag nor a digest, nor both, is part of it
        ("backup-x", None, "main", f"registry.k8s.io/etcd:3.6.16-0@{DIGEST}"),
        ("backup-x", None, "main", f"registry.k8s.io/etcd@{DIGEST}"),
        ("backup-x", None, "main", "localhost:5000/etcd"),
    ],
)
def test_a_pod_resembling_etcd_by_one_signal_is_set_aside_by_name(
    pod_name: str, labels: dict[str, str] | None, name: str, image: str
) -> None:
    pod = raw_pod(
        pod_name,
        [container(["/usr/bin/backup"], name=name, image=image)],
        mirror=False,
        owner="Job",
        labels=labels,
    )
    found = control_plane_flags([pod])
    # The evidence names the pod and container and says why it is not judged as etcd.
    assert found.set_aside["etcd"] == [f"Pod kube-system/{pod_name} container {name}: {NOT_STATIC}"]
    assert found["etcd"] == []


def test_a_pod_resembling_nothing_is_not_mentioned() -> None:
    pod = raw_pod(
        "backup-x",
        [container(["/usr/bin/backup"], name="main", image="registry.example/etcd-backup:1")],
        mirror=False,
        owner="Job",
        labels={"component": "etcd-backup"},
    )
    found = control_plane_flags([pod])
    assert all(v == [] for v in found.set_aside.values())
    assert all(v == [] for v in found.unresolved.values())


def test_a_component_after_an_unrelated_container_of_the_same_pod_is_found() -> None:
    # A static pod's containers are each looked at: an exporter sidecar listed first
    # (nothing like a component) does not hide the etcd after it.
    pod = raw_pod(
        "control-plane-cp-1",
        [
            container(["/bin/exporter"], name="exporter", image="registry.example/exporter:1"),
            container(["etcd", "--name=cp-1"], name="etcd", image=IMAGES["etcd"]),
        ],
    )
    (etcd,) = control_plane_flags([pod])["etcd"]
    assert etcd.get("name") == "cp-1"


def test_a_component_after_its_own_sidecar_is_found() -> None:
    # In a pod named etcd-*, every container looks like etcd; a sidecar listed first is
    # set aside and the store after it is still judged.
    pod = raw_pod(
        "etcd-cp-1",
        [
            container(["/bin/metrics-sidecar"], name="metrics"),
            container(["etcd", "--name=cp-1"], name="etcd", image=IMAGES["etcd"]),
        ],
    )
    found = control_plane_flags([pod])
    assert [f.container for f in found["etcd"]] == ["etcd"]
    assert found.set_aside["etcd"] == [
        "Pod kube-system/etcd-cp-1 container metrics: runs metrics-sidecar, not etcd"
    ]


def test_every_component_container_of_a_pod_that_is_not_static_is_set_aside() -> None:
    pod = raw_pod(
        "all-in-one",
        [container(["kube-apiserver"], name="api"), container(["etcd"], name="store")],
        mirror=False,
        owner="ReplicaSet",
    )
    found = control_plane_flags([pod])
    assert found.set_aside["kube-apiserver"] == [
        f"Pod kube-system/all-in-one container api: {NOT_STATIC}"
    ]
    assert found.set_aside["etcd"] == [f"Pod kube-system/all-in-one container store: {NOT_STATIC}"]


@pytest.mark.parametrize("proxy", ["gateway", "grpc-proxy"])
def test_etcd_proxies_are_not_the_store(proxy: str) -> None:
    # etcdmain: `etcd gateway` and `etcd grpc-proxy` run a proxy (etcdmain/main.go
    # startEtcdOrProxyV2 is not reached), so no store settings are read from them.
    pod = raw_pod(
        "etcd-cp-1",
        [
            container(["etcd", proxy, "start"], name="proxy"),
            container(["etcd", "--name=cp-1"], name="etcd", image=IMAGES["etcd"]),
        ],
    )
    found = control_plane_flags([pod])
    assert found.set_aside["etcd"] == [
        f"Pod kube-system/etcd-cp-1 container proxy: runs etcd {proxy}, a proxy, not the store"
    ]
    assert [f.container for f in found["etcd"]] == ["etcd"]


# ----------------------------------------------------------------------------- versions


@pytest.mark.parametrize(
    ("component", "image", "server", "match"),
    [
        # the tag follows the last ":" of the last path component; a registry port is not one
        ("kube-apiserver", "registry.example:5000/kube-apiserver:v1.34.1", "v1.35.4", False),
        ("kube-apiserver", "registry.example:5000/k8s-1.34/kube-apiserver:v1.35.4", "", True),
        # no tag: the API server's version decides, not digits in the registry path
        ("kube-apiserver", "registry.example:5000/k8s-1.34/kube-apiserver", "v1.35.4", True),
        # the same minor number of another major release is another release
        ("kube-apiserver", "registry.k8s.io/kube-apiserver:v2.35.0", "", False),
        ("etcd", "registry.example/etcd:2.6.0", "v1.35.4", False),
    ],
)
def test_flag_tables_match_only_the_same_major_and_minor(
    component: str, image: str, server: str, match: bool
) -> None:
    assert tables_match(component, image, server) is match


def test_etcd_of_another_version_is_read_with_its_flags_as_written() -> None:
    flags = one(
        "etcd", "--experimental-old-knob=1", "--name=cp-1", image="quay.io/coreos/etcd:v3.5.21"
    )
    assert not flags.refused
    assert flags.explicit == {"experimental-old-knob": "1", "name": "cp-1"}
    # The note names etcd's own table version, not Kubernetes'.
    assert flags.notes[0] == (
        "flag tables are for etcd v3.6.16; this one runs another or an unknown version, so "
        "flags the tables lack are read as written"
    )


# ----------------------------------------------------------------------------- occurrences


def test_feature_gates_given_twice_are_merged() -> None:
    # component-base featuregate/feature_gate.go Set: each occurrence's pairs are applied
    # with SetFromMap on top of the earlier ones (a repeated gate keeps its last value).
    flags = one("kube-apiserver", "--feature-gates=A=true", "--feature-gates=B=false")
    assert flags.get("feature-gates") == "A=true,B=false"
    assert flags.source("feature-gates") == (
        "--feature-gates=A=true,B=false (set on pod kube-system/kube-apiserver-cp-1 as: "
        "--feature-gates=A=true --feature-gates=B=false)"
    )


def test_a_boolean_from_an_unread_variable_is_unknown_not_refused() -> None:
    # The value is not visible; it may well be "false", so this is no refusal.
    flags = one(
        "kube-apiserver",
        "--anonymous-auth=$(ANON)",
        env=[{"name": "ANON", "valueFrom": FROM_CONFIGMAP}],
    )
    assert flags.refused == []
    with pytest.raises(EvidenceUnavailable, match=r"\$\(ANON\)"):
        flags.get("anonymous-auth")


def test_help_is_a_refusal_in_words() -> None:
    assert one("kube-scheduler", "--help").refused == ["--help: prints its help and exits"]


def test_version_raw_prints_the_version() -> None:
    # component-base version/verflag/verflag.go: Set("raw") is VersionRaw, and
    # PrintAndExitIfRequested prints and exits for it.
    assert one("kube-apiserver", "--version=raw").refused == [
        "--version=raw: prints its version and exits"
    ]


# Regression: any --version value but "false" was read as printing the version, yet
# verflag.go Set parses 0/f/F/FALSE/False with strconv.ParseBool as VersionFalse, and
# etcd's Go bool flag does too, so the component runs.
@pytest.mark.parametrize("component", ["kube-apiserver", "etcd"])
@pytest.mark.parametrize("value", ["0", "f", "F", "False", "FALSE"])
def test_a_false_version_is_false_and_the_component_runs(component: str, value: str) -> None:
    assert one(component, f"--version={value}").refused == []


@pytest.mark.parametrize(
    ("component", "value", "why"),
    [
        ("kube-apiserver", "1", "prints its version and exits"),
        ("kube-apiserver", "raw", "prints its version and exits"),
        ("etcd", "T", "prints its version and exits"),
        (
            "kube-apiserver",
            "v1.35.4",
            "overrides the version the component reports, which the suite does not judge",
        ),
        ("etcd", "raw", "not a value the component accepts, so it exits"),
        ("kube-apiserver", "yes", "not a value the component accepts, so it exits"),
    ],
)
def test_any_other_version_stops_the_reading(component: str, value: str, why: str) -> None:
    assert one(component, f"--version={value}").refused == [f"--version={value}: {why}"]


def test_a_refused_command_line_still_shows_every_flag_it_sets() -> None:
    # The evidence reports the pod's command line as written even when the component
    # refuses it: a flag after the refused value is still there.
    flags = one("kube-apiserver", '--authorization-mode=No"de', "--anonymous-auth=false")
    assert flags.refused == ['--authorization-mode=No"de: not valid CSV (encoding/csv)']
    assert flags.source("anonymous-auth") == (
        "--anonymous-auth=false (set on pod kube-system/kube-apiserver-cp-1)"
    )


# ----------------------------------------------------------------------------- $(VAR)


def test_an_unread_variable_in_a_value_is_said_with_the_kubelet_note() -> None:
    flags = one(
        "kube-apiserver",
        "--token-auth-file=$(FILE)",
        env=[{"name": "FILE", "valueFrom": FROM_CONFIGMAP}],
    )
    assert flags.unresolved == {
        "token-auth-file": f"its value uses $(FILE): $(FILE) {KUBELET_NOTE}"
    }
    # The argv note is the instance's note too, so the evidence carries it.
    assert flags.evidence([])["notes"] == [f"$(FILE) {KUBELET_NOTE}"]


def test_several_unread_variables_and_env_from_are_each_said() -> None:
    flags = one(
        "kube-apiserver",
        "--token-auth-file=/$(DIR)/$(FILE)",
        envFrom=[{"configMapRef": {"name": "cp-env"}}],
    )
    assert flags.unresolved == {
        "token-auth-file": (
            f"its value uses $(DIR), $(FILE): $(DIR), $(FILE) {KUBELET_NOTE}; {ENV_FROM_NOTE}"
        )
    }
    assert flags.explicit["token-auth-file"] == "/$(DIR)/$(FILE)"


def test_an_etcd_variable_built_from_an_unread_one_is_unknown() -> None:
    # makeEnvironmentVariables expands $(POD_IP) from the variable before it, whose value
    # (a fieldRef) the suite cannot see; the argv itself has no $(VAR).
    env = [
        {"name": "POD_IP", "valueFrom": FROM_FIELD},
        {"name": "ETCD_LISTEN_CLIENT_URLS", "value": "https://$(POD_IP):2379"},
    ]
    flags = one("etcd", env=env)
    assert flags.unresolved == {
        "listen-client-urls": "its value uses $(POD_IP): a $(VAR) reference was not resolved"
    }
    assert flags.explicit["listen-client-urls"] == "https://$(POD_IP):2379"


def test_a_variable_standing_for_flags_leaves_each_note_in_the_reason() -> None:
    flags = one(
        "kube-apiserver",
        "--anonymous-auth=false",
        "$(EXTRA)",
        envFrom=[{"configMapRef": {"name": "x"}}],
    )
    with pytest.raises(EvidenceUnavailable) as unknown:
        flags.get("token-auth-file")
    assert unknown.value.reason == (
        "kube-system/kube-apiserver-cp-1: --token-auth-file cannot be read: "
        f"$(EXTRA) {KUBELET_NOTE}; {ENV_FROM_NOTE}"
    )


def test_a_variable_inside_a_value_with_an_equals_sign_is_only_that_value() -> None:
    # --feature-gates=$(GATE)=true: the $(VAR) is in the value, after the flag's "=", so it
    # cannot stand for another flag; the other settings are still known.
    flags = one("kube-apiserver", "--feature-gates=$(GATE)=true", "--anonymous-auth=false")
    assert flags.all_unknown == ""
    assert flags.get("secure-port") == "6443"
    with pytest.raises(EvidenceUnavailable, match=r"\$\(GATE\)"):
        flags.get("feature-gates")


# Regression: `--token-auth-file $(FILE)` (value as the next argument) made every other
# flag unknown, though pflag's parseLongArg takes the next argument verbatim as the value
# of a flag that needs one, so $(FILE) cannot stand for another flag.
def test_a_variable_as_the_separate_value_of_a_flag_is_only_that_value() -> None:
    flags = one("kube-apiserver", "--token-auth-file", "$(FILE)", "--anonymous-auth=false")
    assert flags.get("secure-port") == "6443"


# ----------------------------------------------------------------------------- etcd


def test_a_shadowing_variable_does_not_stop_later_ones_being_read() -> None:
    # pkg/flags SetFlagsFromEnv: every flag is set from its variable (VisitAll) before
    # verifyEnv stops etcd over the shadowed one.
    env = [
        {"name": "ETCD_CLIENT_CERT_AUTH", "value": "false"},
        {"name": "ETCD_TRUSTED_CA_FILE", "value": "/ca.crt"},
    ]
    flags = one("etcd", "--client-cert-auth=true", env=env)
    assert flags.refused == [
        "ETCD_CLIENT_CERT_AUTH in the environment shadows --client-cert-auth on the command "
        "line: etcd exits (pkg/flags verifyEnv)"
    ]
    assert flags.source("trusted-ca-file") == (
        "ETCD_TRUSTED_CA_FILE=/ca.crt in the environment of pod kube-system/etcd-cp-1"
    )


def test_every_invalid_variable_is_refused() -> None:
    # setFlagFromEnv is called for every flag even after one fails (SetFlagsFromEnv keeps
    # the error and goes on), so each bad value is one etcd reads.
    env = [
        {"name": "ETCD_AUTO_TLS", "value": "yes"},
        {"name": "ETCD_CLIENT_CERT_AUTH", "value": "maybe"},
    ]
    flags = one("etcd", env=env)
    assert flags.refused == [
        "invalid boolean 'yes' in ETCD_AUTO_TLS=yes",
        "invalid boolean 'maybe' in ETCD_CLIENT_CERT_AUTH=maybe",
    ]


# Regression: with --config-file= (empty) and ETCD_CONFIG_FILE set empty, etcd reads flags
# (etcdmain/config.go parse), and verifyEnv (pkg/flags/flag.go) exits on ETCD_CONFIG_FILE
# shadowing the set flag; the suite skipped config-file there.
def test_an_empty_settings_file_variable_shadows_an_empty_flag() -> None:
    flags = one("etcd", "--config-file=", env=[{"name": "ETCD_CONFIG_FILE", "value": ""}])
    assert flags.refused == [
        "ETCD_CONFIG_FILE in the environment shadows --config-file on the command line: etcd "
        "exits (pkg/flags verifyEnv)"
    ]


def test_client_listener_gaps_are_joined_as_sentences() -> None:
    two = flags_of("etcd", **{"listen-client-urls": "http://10.0.0.1:2379,http://127.0.0.1:2379"})
    gap = (
        "plain-HTTP client listener {}: no TLS, so no client certificate is asked for (etcd "
        "ignores any certificate settings on http:// URLs)"
    )
    assert etcd_client_auth_gap(two) == (
        gap.format("http://10.0.0.1:2379") + "; " + gap.format("http://127.0.0.1:2379")
    )


# A shorthand's value written against its letter (-v$(LEVEL)): pflag's parseSingleShortArg
# (spf13/pflag v1.0.9 flag.go) takes the rest of the argument as the value, or, when
# nothing is left, the next argument. A $(VAR) expands within its own argument
# (third_party/forked/golang/expansion/expand.go), so only a value made of nothing but
# $(VAR)s can come to nothing and take the next argument: only then is the rest unknown.
@pytest.mark.parametrize(
    ("tokens", "unknown"),
    [
        pytest.param(["-v$(LEVEL)", "--anonymous-auth=false"], True, id="-v$(LEVEL)"),
        pytest.param(["-v$(A)$(B)", "--anonymous-auth=false"], True, id="-v$(A)$(B)"),
        pytest.param(["-v2$(X)", "--anonymous-auth=false"], False, id="text before"),
        pytest.param(["-v$(X)0", "--anonymous-auth=false"], False, id="text after"),
        pytest.param(["-v$(A)0$(B)", "--anonymous-auth=false"], False, id="text between"),
        pytest.param(["-v\t$(X)", "--anonymous-auth=false"], False, id="a tab before"),
        pytest.param(["-v $(X)", "--anonymous-auth=false"], False, id="one argument, a space"),
        pytest.param(["-v=$(LEVEL)", "--anonymous-auth=false"], False, id="-v=$(LEVEL)"),
        pytest.param(["-v", "$(LEVEL)", "--anonymous-auth=false"], False, id="-v $(LEVEL)"),
        pytest.param(["--v=$(LEVEL)", "--anonymous-auth=false"], False, id="--v=$(LEVEL)"),
        pytest.param(["--v", "$(LEVEL)", "--anonymous-auth=false"], False, id="--v $(LEVEL)"),
        pytest.param(
            ["--token-auth-file", "$(A) $(B)", "--anonymous-auth=false"],
            False,
            id="a separate value with a space",
        ),
    ],
)
def test_an_attached_shorthand_value_of_only_variables_makes_every_flag_unknown(
    tokens: list[str], unknown: bool
) -> None:
    flags = one("kube-apiserver", *tokens)
    assert bool(flags.all_unknown) is unknown
    if unknown:
        # An empty $(VAR) makes -v take --anonymous-auth=false as its value.
        with pytest.raises(EvidenceUnavailable, match="not resolved"):
            flags.get("anonymous-auth")
    else:
        assert flags.get("anonymous-auth") == "false"
        assert flags.get("secure-port") == "6443"


def test_an_etcd_version_flag_of_a_v_value_is_refused_as_a_bad_bool() -> None:
    # etcd's --version is a Go bool flag (etcdmain/config.go): "v3.6.16" is no bool, so
    # etcd exits on it; only Kubernetes' verflag reads a "v" value as a version override.
    flags = one("etcd", "--version=v3.6.16")
    assert flags.refused == ["--version=v3.6.16: not a value the component accepts, so it exits"]


def test_a_flag_position_left_unresolved_without_a_note_still_makes_every_flag_unknown() -> None:
    # component_flags is public: a caller that hands it an argv with an unresolved marker
    # and no notes must still get every setting unknown, with a reason, never a default.
    image = IMAGES["kube-apiserver"]
    argv = [
        "kube-apiserver",
        "--anonymous-auth=false",
        f"{cmdline.UNRESOLVED}X{cmdline.UNRESOLVED}",
    ]
    pod = raw_pod("kube-apiserver-cp-1", [container(argv, image=image)])
    flags = component_flags("kube-apiserver", pod, pod["spec"]["containers"][0], argv, [], "")
    assert flags.all_unknown == "a flag comes from an unresolved $(VAR)"
