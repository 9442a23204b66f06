"""Control-plane components from static pods, and the settings they hold.

Pods are API objects passed through the snapshot's trimmer, so a test sees what a check
sees; the recorded ones are the real kube-system pods of both local profiles
(tests/data/control_plane/kube-system-pods-*.json).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from kubepci.access import trim
from kubepci.analysis import endpoints
from kubepci.analysis.flags import (
    ComponentFlags,
    binds_all_interfaces,
    control_plane_flags,
    extra_always_allow_paths,
    parse_duration,
    serves_nothing,
    tables_match,
    token_expiration_cap,
)
from kubepci.verdict import EvidenceUnavailable
from tests.builders import endpoint_slice, node, service, static_pod
from tests.support.flag_parsing import parse_flags

Obj = dict[str, Any]
DATA = Path(__file__).resolve().parents[1] / "data" / "control_plane"
IMAGES = {
    "kube-apiserver": "registry.k8s.io/kube-apiserver:v1.35.4",
    "kube-controller-manager": "registry.k8s.io/kube-controller-manager:v1.35.4",
    "kube-scheduler": "registry.k8s.io/kube-scheduler:v1.35.4",
    "etcd": "registry.k8s.io/etcd:3.6.16-0",
}


def recorded(profile: str) -> list[Obj]:
    raw = json.loads((DATA / f"kube-system-pods-{profile}.json").read_text())
    return [trim.pod(p) for p in raw["items"]]


def raw_pod(
    name: str,
    containers: list[Obj],
    ns: str = "kube-system",
    mirror: bool = True,
    owner: str | None = "Node",
    labels: dict[str, str] | None = None,
) -> Obj:
    """A pod as the API returns it, then trimmed as the snapshot keeps it."""
    meta: Obj = {"name": name, "namespace": ns, "labels": labels or {}}
    if mirror:
        meta["annotations"] = {
            "kubernetes.io/config.mirror": "f00d",
            "kubernetes.io/config.source": "file",
        }
    if owner:
        meta["ownerReferences"] = [
            {"apiVersion": "v1", "kind": owner, "name": "cp-1", "controller": True}
        ]
    return trim.pod({"metadata": meta, "spec": {"nodeName": "cp-1", "containers": containers}})


def container(command: list[str] | None, args: list[str] | None = None, **extra: Any) -> Obj:
    out: Obj = {"name": extra.pop("name", "main"), "image": extra.pop("image", "")}
    if command is not None:
        out["command"] = command
    if args is not None:
        out["args"] = args
    return {**out, **extra}


def one(component: str, *tokens: str, **extra: Any) -> ComponentFlags:
    """The single instance of ``component`` in a static pod running ``tokens``."""
    extra.setdefault("image", IMAGES[component])
    pod = raw_pod(f"{component}-cp-1", [container([component, *tokens], **extra)])
    (found,) = control_plane_flags([pod])[component]
    return found


def flags_of(component: str, **explicit: str) -> ComponentFlags:
    return ComponentFlags(component, f"kube-system/{component}-cp-1", "cp-1", dict(explicit))


# ----------------------------------------------------------------------------- discovery


class TestRecordedClusters:
    @pytest.mark.parametrize("profile", ["noncompliant", "compliant"])
    def test_one_instance_of_each_component(self, profile: str) -> None:
        found = control_plane_flags(recorded(profile), "v1.35.4")
        assert {c: [f.pod for f in found[c]] for c in found} == {
            "kube-apiserver": ["kube-system/kube-apiserver-vm"],
            "kube-controller-manager": ["kube-system/kube-controller-manager-vm"],
            "kube-scheduler": ["kube-system/kube-scheduler-vm"],
            "etcd": ["kube-system/etcd-vm"],
        }
        assert all(not f.refused and not f.unresolved for c in found for f in found[c])

    def test_etcd_backup_job_is_set_aside(self) -> None:
        found = control_plane_flags(recorded("compliant"), "v1.35.4")
        (aside,) = found.set_aside["etcd"]
        assert aside.startswith("Pod kube-system/etcd-backup-")
        assert "not a static pod" in aside
        assert [f.pod for f in found["etcd"]] == ["kube-system/etcd-vm"]

    def test_recorded_settings(self) -> None:
        noncompliant = control_plane_flags(recorded("noncompliant"), "v1.35.4")
        (api,) = noncompliant["kube-apiserver"]
        assert api.get("token-auth-file") == "/etc/kubernetes/kubepci/static-tokens.csv"
        assert api.values("authorization-mode") == ["Node", "RBAC"]
        (etcd,) = noncompliant["etcd"]
        assert (etcd.get("client-cert-auth"), etcd.get("trusted-ca-file")) == ("false", "")
        (cm,) = noncompliant["kube-controller-manager"]
        assert "/debug/pprof/*" in extra_always_allow_paths(cm)
        compliant = control_plane_flags(recorded("compliant"), "v1.35.4")
        (api,) = compliant["kube-apiserver"]
        assert api.file_paths() == {
            "authentication-config": "/etc/kubernetes/kubepci/authentication-config.yaml"
        }
        (etcd,) = compliant["etcd"]
        # kubeadm replaces its own --client-cert-auth=true with the profile's extraArg.
        assert etcd.origins["client-cert-auth"] == "--client-cert-auth=true"


@pytest.mark.parametrize(
    ("pod", "component", "where", "text"),
    [
        (  # the brief's decoy: labels and container name of etcd, busybox inside
            raw_pod(
                "etcd-backup",
                [
                    container(
                        ["/bin/sh", "-c", "sleep 1", "etcd"],
                        ["--client-cert-auth=false"],
                        name="etcd",
                    )
                ],
                mirror=False,
                owner="Job",
                labels={"component": "etcd"},
            ),
            "etcd",
            "set_aside",
            "not a static pod",
        ),
        (  # the mirror annotation alone, no Node owner: not a kubelet's mirror pod
            raw_pod("kube-apiserver-x", [container(["kube-apiserver"])], owner=None),
            "kube-apiserver",
            "set_aside",
            "not a static pod",
        ),
        (  # owned by a Node but not annotated
            raw_pod("kube-apiserver-x", [container(["kube-apiserver"])], mirror=False),
            "kube-apiserver",
            "set_aside",
            "not a static pod",
        ),
        (  # a static pod named like a component that runs something else
            raw_pod("etcd-defrag", [container(["/usr/bin/defrag"], name="etcd")]),
            "etcd",
            "set_aside",
            "runs defrag, not etcd",
        ),
        (
            raw_pod("etcd-gw", [container(["etcd", "gateway", "start"])]),
            "etcd",
            "set_aside",
            "a proxy, not the store",
        ),
        (  # the binary is the image's entrypoint, which the API does not show
            raw_pod(
                "kube-apiserver-x",
                [container(None, ["--anonymous-auth=false"], name="kube-apiserver")],
            ),
            "kube-apiserver",
            "unresolved",
            "image's entrypoint",
        ),
        (
            raw_pod(
                "sched",
                [
                    container(
                        ["sh", "-c", "exec kube-scheduler --secure-port=0"],
                        image="registry.k8s.io/kube-scheduler:v1.35.4",
                    )
                ],
            ),
            "kube-scheduler",
            "unresolved",
            "runs sh",
        ),
    ],
)
def test_only_static_pods_running_the_binary_are_components(
    pod: Obj, component: str, where: str, text: str
) -> None:
    found = control_plane_flags([pod])
    assert found[component] == []
    (entry,) = getattr(found, where)[component]
    assert text in entry


def test_found_by_command_basename_whatever_the_names() -> None:
    pod = raw_pod(
        "cm",
        [container(["/usr/local/bin/kube-controller-manager", "--secure-port=0"], name="manager")],
    )
    (cm,) = control_plane_flags([pod])["kube-controller-manager"]
    assert cm.get("secure-port") == "0"
    assert cm.container == "manager"


def test_rke2_command_and_args_split() -> None:
    pod = raw_pod(
        "kube-apiserver-server-0",
        [
            container(
                ["kube-apiserver"],
                ["--anonymous-auth=false", "--token-auth-file=/var/lib/rancher/tokens"],
            )
        ],
    )
    (api,) = control_plane_flags([pod])["kube-apiserver"]
    assert api.explicit == {"anonymous-auth": "false", "token-auth-file": "/var/lib/rancher/tokens"}


def test_other_namespaces_and_sidecars() -> None:
    elsewhere = static_pod("kube-apiserver", ns="attacker", flags=["--anonymous-auth=false"])
    sidecar = raw_pod("proxy", [container(["kube-proxy"], name="kube-proxy")])
    two = raw_pod("etcd-cp-1", [container(["etcd"]), container(["/bin/metrics-sidecar"])])
    found = control_plane_flags([elsewhere, sidecar, two])
    assert found["kube-apiserver"] == [] and len(found["etcd"]) == 1
    # The sidecar of etcd's static pod is named in the evidence, never judged as etcd.
    assert found.set_aside["etcd"] == [
        "Pod kube-system/etcd-cp-1 container main: runs metrics-sidecar, not etcd"
    ]
    assert found.set_aside["kube-apiserver"] == []


def test_one_entry_per_instance() -> None:
    found = control_plane_flags([static_pod("etcd", node="cp-1"), static_pod("etcd", node="cp-2")])
    assert [f.node for f in found["etcd"]] == ["cp-1", "cp-2"]


# ----------------------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("component", "tokens", "name", "value", "source"),
    [
        (
            "kube-apiserver",
            [],
            "anonymous-auth",
            "true",
            "--anonymous-auth not set; Kubernetes default true applies",
        ),
        (
            "kube-apiserver",
            ["--anonymous-auth=false"],
            "anonymous-auth",
            "false",
            "--anonymous-auth=false (set on pod kube-system/kube-apiserver-cp-1)",
        ),
        (
            "kube-apiserver",
            ["--anonymous-auth=F"],
            "anonymous-auth",
            "false",
            "(set on pod kube-system/kube-apiserver-cp-1 as: --anonymous-auth=F)",
        ),
        (
            "kube-apiserver",
            ["--anonymous_auth=0"],
            "anonymous-auth",
            "false",
            "as: --anonymous_auth=0",
        ),
        (
            "kube-apiserver",
            ["--anonymous-auth=false", "--anonymous-auth"],
            "anonymous-auth",
            "true",
            "",
        ),
        (
            "kube-apiserver",
            ["--token-auth-file", "/a", "--token-auth-file=/b"],
            "token-auth-file",
            "/b",
            "as: --token-auth-file /a --token-auth-file=/b",
        ),
        (
            "kube-apiserver",
            ["--token-auth-file=/a", "--token-auth-file="],
            "token-auth-file",
            "",
            "",
        ),
        (
            "kube-apiserver",
            ["--authorization-mode=Node", "--authorization-mode", "RBAC"],
            "authorization-mode",
            "Node,RBAC",
            "",
        ),
        ("kube-apiserver", [], "authorization-mode", "", "default (empty)"),
        ("kube-apiserver", [], "service-account-max-token-expiration", "0s", "default 0s"),
        ("kube-apiserver", ["-v", "4"], "v", "4", ""),
        (
            "kube-controller-manager",
            [],
            "authorization-always-allow-paths",
            "/healthz,/readyz,/livez",
            "",
        ),
        (
            "kube-controller-manager",
            [
                "--authorization-always-allow-paths=/metrics",
                "--authorization-always-allow-paths=/configz",
            ],
            "authorization-always-allow-paths",
            "/metrics,/configz",
            "",
        ),
        ("kube-scheduler", [], "secure-port", "10259", "Kubernetes default 10259"),
        ("etcd", [], "client-cert-auth", "false", "etcd default false applies"),
        ("etcd", ["-client-cert-auth"], "client-cert-auth", "true", "as: -client-cert-auth"),
        ("etcd", [], "listen-client-urls", "http://localhost:2379", ""),
    ],
)
def test_effective_setting(
    component: str, tokens: list[str], name: str, value: str, source: str
) -> None:
    flags = one(component, *tokens)
    assert not flags.refused, flags.refused
    assert flags.get(name) == value
    assert source in flags.source(name)


@pytest.mark.parametrize(
    ("component", "tokens", "refused"),
    [
        ("kube-apiserver", ["--anonymous-auth", "false"], "positional argument(s) 'false'"),
        ("kube-apiserver", ["--anonymous-auth=no"], "invalid boolean 'no'"),
        ("kube-apiserver", ["--no-such-flag=1"], "unknown flag: --no-such-flag"),
        ("kube-apiserver", ["-anonymous-auth=false"], "unknown shorthand flag: 'a'"),
        ("kube-apiserver", ["--token-auth-file"], "flag needs an argument"),
        ("kube-apiserver", ["--help"], "prints its help and exits"),
        ("kube-apiserver", ["-h"], "prints its help and exits"),
        ("kube-scheduler", ["--version"], "prints its version and exits"),
        ("kube-apiserver", ['--authorization-mode=No"de'], "not valid CSV"),
        ("kube-controller-manager", ["--config=/x"], "unknown flag: --config"),
        ("etcd", ["--client-cert-auth", "false"], "'false' is not a valid flag"),
        ("etcd", ["serve"], "'serve' is not a valid flag"),
        ("etcd", ["--help"], "prints its help and exits"),
        ("etcd", ["--client_cert_auth=true"], "flag provided but not defined"),
    ],
)
def test_command_lines_the_component_refuses(
    component: str, tokens: list[str], refused: str
) -> None:
    flags = one(component, *tokens)
    assert any(refused in r for r in flags.refused)
    assert flags.evidence([])["refused"] == list(flags.refused)  # the evidence says so too


def test_tables_of_another_version_read_unknown_flags_as_written() -> None:
    pod = raw_pod(
        "kube-apiserver-cp-1",
        [
            container(
                [
                    "kube-apiserver",
                    "--insecure-port=0",
                    "--basic-auth-file",
                    "/x",
                    "--old-bool",
                    "--anonymous-auth=false",
                ],
                image="registry.k8s.io/kube-apiserver:v1.20.0",
            )
        ],
    )
    (api,) = control_plane_flags([pod], "v1.20.0")["kube-apiserver"]
    assert not api.refused
    assert api.explicit == {
        "insecure-port": "0",
        "basic-auth-file": "/x",
        "old-bool": "true",
        "anonymous-auth": "false",
    }
    assert any("flag tables are for kube-apiserver v1.35.4" in n for n in api.notes)
    assert sum("not a flag of the known version" in n for n in api.notes) == 3


@pytest.mark.parametrize(
    ("component", "image", "server", "match"),
    [
        ("kube-apiserver", "registry.k8s.io/kube-apiserver:v1.35.4", "", True),
        ("kube-apiserver", "registry.k8s.io/kube-apiserver:v1.34.1", "v1.35.4", False),
        ("kube-apiserver", "kube-apiserver", "v1.35.2", True),
        ("kube-apiserver", "registry:5000/kube-apiserver", "", False),
        ("etcd", "registry.k8s.io/etcd:3.6.16-0", "v1.35.4", True),
        ("etcd", "quay.io/coreos/etcd:v3.5.21", "v1.35.4", False),
        ("etcd", "etcd@sha256:abc", "v1.35.4", False),
    ],
)
def test_tables_match(component: str, image: str, server: str, match: bool) -> None:
    assert tables_match(component, image, server) is match


class TestKubeletExpansion:
    def test_literal_variables_are_expanded(self) -> None:
        env = [{"name": "MODE", "value": "Node,RBAC"}, {"name": "ANON", "value": "false"}]
        flags = one(
            "kube-apiserver",
            "--authorization-mode=$(MODE)",
            "--anonymous-auth=$(ANON)",
            "--audit-log-path=/x/$$(NOT)",
            env=env,
        )
        assert flags.values("authorization-mode") == ["Node", "RBAC"]
        assert flags.get("anonymous-auth") == "false"
        assert flags.get("audit-log-path") == "/x/$(NOT)"

    def test_a_value_from_elsewhere_is_unknown(self) -> None:
        env = [{"name": "FILE", "valueFrom": {"configMapKeyRef": {"name": "c", "key": "k"}}}]
        flags = one("kube-apiserver", "--token-auth-file=$(FILE)", env=env)
        with pytest.raises(EvidenceUnavailable, match=r"\$\(FILE\)"):
            flags.get("token-auth-file")
        assert flags.explicit["token-auth-file"] == "$(FILE)"
        assert flags.get("anonymous-auth") == "true"  # other flags are still known

    # Regression: a flag given before the $(VAR) was read as given, though the $(VAR) may
    # be "--anonymous-auth=true", which pflag applies last and so wins.
    def test_a_variable_where_a_flag_may_be_makes_every_flag_unknown(self) -> None:
        flags = one("kube-apiserver", "--anonymous-auth=false", "$(EXTRA_FLAGS)")
        assert not flags.refused
        for name in ("anonymous-auth", "token-auth-file"):
            with pytest.raises(EvidenceUnavailable, match="EXTRA_FLAGS"):
                flags.get(name)

    def test_undefined_variable_is_unknown(self) -> None:
        flags = one("kube-scheduler", "--bind-address=$(POD_IP)")
        with pytest.raises(EvidenceUnavailable):
            binds_all_interfaces(flags)


# ----------------------------------------------------------------------------- etcd


class TestEtcdEnvironment:
    def test_variable_sets_an_unset_flag(self) -> None:
        env = [
            {"name": "ETCD_CLIENT_CERT_AUTH", "value": "false"},
            {"name": "ETCD_TRUSTED_CA_FILE", "value": ""},
        ]
        flags = one("etcd", "--trusted-ca-file=/ca.crt", env=env)
        assert flags.get("client-cert-auth") == "false"
        assert flags.source("client-cert-auth") == (
            "ETCD_CLIENT_CERT_AUTH=false in the environment of pod kube-system/etcd-cp-1"
        )
        # an empty variable is not read, yet it still shadows the command-line flag
        assert any("ETCD_TRUSTED_CA_FILE" in r for r in flags.refused)

    def test_variable_shadowing_a_flag_stops_etcd(self) -> None:
        env = [{"name": "ETCD_CLIENT_CERT_AUTH", "value": "true"}]
        flags = one("etcd", "--client-cert-auth=false", env=env)
        assert any("shadows --client-cert-auth" in r for r in flags.refused)

    # Regression: --cert-file was read as given, though an ETCD_CONFIG_FILE among the
    # envFrom variables makes etcd read that file and ignore its command line and
    # environment (etcdmain/config.go parse, v3.6.16 lines 168-177).
    def test_env_from_leaves_every_setting_unknown(self) -> None:
        flags = one("etcd", "--cert-file=/s.crt", envFrom=[{"configMapRef": {"name": "etcd-env"}}])
        for name in ("cert-file", "client-cert-auth"):
            with pytest.raises(EvidenceUnavailable, match="envFrom"):
                flags.get(name)

    def test_invalid_boolean_variable_stops_etcd(self) -> None:
        flags = one("etcd", env=[{"name": "ETCD_AUTO_TLS", "value": "yes"}])
        assert any("invalid boolean 'yes'" in r for r in flags.refused)


ETCD_FILE = {
    "name": "cp-1",
    "listen-client-urls": "https://10.0.0.1:2379",
    "listen-peer-urls": "https://10.0.0.1:2380",
    "Client-Transport-Security": {
        "cert-file": "/s.crt",
        "key-file": "/s.key",
        "client-cert-auth": False,
    },
    "peer-transport-security": {
        "cert-file": "/p.crt",
        "key-file": "/p.key",
        "trusted-ca-file": "/ca",
    },
}


class TestEtcdConfigFile:
    def test_unread_file_makes_every_setting_unknown(self) -> None:
        flags = one("etcd", "--config-file=/etc/etcd.yaml", "--client-cert-auth=true")
        assert flags.file_paths() == {"config-file": "/etc/etcd.yaml"}
        with pytest.raises(EvidenceUnavailable) as unread:
            flags.get("client-cert-auth")  # the flag is ignored when a file is given
        assert unread.value.reason == (
            "kube-system/etcd-cp-1: etcd takes its settings from --config-file=/etc/etcd.yaml, "
            "a file the suite cannot read (/etc/etcd.yaml is on the node and was not read; run "
            "with --node-root on the node)"
        )
        assert flags.get("config-file") == "/etc/etcd.yaml"

    def test_a_file_that_could_not_be_read_says_why(self) -> None:
        from kubepci.analysis.flags import ConfigFile

        refused = ConfigFile("config-file", "/etc/etcd.yaml", reason="permission denied")
        flags = one("etcd", "--config-file=/etc/etcd.yaml").with_files({"config-file": refused})
        with pytest.raises(EvidenceUnavailable) as unread:
            flags.get("cert-file")
        assert f"cannot read ({refused.unread}; run with --node-root" in unread.value.reason
        assert refused.unread and "/etc/etcd.yaml is on the node" not in unread.value.reason

    def test_settings_come_from_the_file(self) -> None:
        from kubepci.analysis.flags import ConfigFile

        flags = one("etcd", "--config-file=/etc/etcd.yaml", "--client-cert-auth=true").with_files(
            {
                "config-file": ConfigFile(
                    "config-file", "/etc/etcd.yaml", "/n/etc/etcd.yaml", ETCD_FILE
                )
            }
        )
        assert flags.get("client-cert-auth") == "false"  # key names match case-insensitively
        assert flags.get("cert-file") == "/s.crt"
        assert flags.get("peer-trusted-ca-file") == "/ca"
        assert flags.get("auto-tls") == "false"  # absent: etcd's default
        assert flags.get("listen-client-http-urls") == ""
        assert flags.source("client-cert-auth") == (
            "client-transport-security.client-cert-auth: false in /n/etc/etcd.yaml "
            "(--config-file on pod kube-system/etcd-cp-1)"
        )

    def test_environment_names_the_file(self) -> None:
        flags = one(
            "etcd",
            env=[
                {"name": "ETCD_CONFIG_FILE", "value": "/e.yaml"},
                {"name": "ETCD_CLIENT_CERT_AUTH", "value": "true"},
            ],
        )
        assert flags.settings_file == "/e.yaml"
        assert "client-cert-auth" not in flags.explicit  # variables are ignored with a file
        assert not flags.refused

    def test_a_file_etcd_would_refuse(self) -> None:
        from kubepci.analysis.flags import ConfigFile

        bad = {"client-transport-security": {"client-cert-auth": "yes"}}
        flags = one("etcd", "--config-file=/e").with_files(
            {"config-file": ConfigFile("config-file", "/e", "/e", bad)}
        )
        with pytest.raises(EvidenceUnavailable, match="is not a boolean"):
            flags.get("client-cert-auth")
        with pytest.raises(EvidenceUnavailable) as refused:
            flags.get("client-cert-auth")
        assert refused.value.reason == (
            "kube-system/etcd-cp-1: etcd would refuse /e: "
            "client-transport-security.client-cert-auth: 'yes' is not a boolean"
        )
        assert flags.source("client-cert-auth") == (
            "--client-cert-auth: etcd would refuse /e "
            "(client-transport-security.client-cert-auth: 'yes' is not a boolean)"
        )

    def test_each_source_in_a_file_s_words(self) -> None:
        from kubepci.analysis.flags import ConfigFile

        read = ConfigFile("config-file", "/e.yaml", "/n/e.yaml", ETCD_FILE)
        flags = one("etcd", "--config-file=/e.yaml").with_files({"config-file": read})
        # A top-level key is named bare, a TLS key by its section; absent keys take
        # etcd's default, an empty default worded as such.
        assert flags.source("listen-client-urls") == (
            "listen-client-urls: https://10.0.0.1:2379 in /n/e.yaml "
            "(--config-file on pod kube-system/etcd-cp-1)"
        )
        assert flags.source("name") == (
            "name: cp-1 in /n/e.yaml (--config-file on pod kube-system/etcd-cp-1)"
        )
        assert flags.source("peer-client-cert-auth") == (
            "peer-transport-security.client-cert-auth not in /n/e.yaml; etcd default false applies"
        )
        assert flags.source("trusted-ca-file") == (
            "client-transport-security.trusted-ca-file not in /n/e.yaml; "
            "etcd default (empty) applies"
        )
        assert flags.source("data-dir") == "data-dir not in /n/e.yaml; etcd default (empty) applies"
        assert flags.get("data-dir") == ""
        assert flags.get("quota-backend-bytes") == "0"  # absent from the file: the default
        # The file's own flag is read from the command line, not from the file.
        assert flags.source("config-file") == (
            "--config-file=/e.yaml (set on pod kube-system/etcd-cp-1)"
        )

    def test_a_file_not_read_is_named_in_each_source(self) -> None:
        flags = one("etcd", "--config-file=/e.yaml")
        assert flags.files == {}
        assert flags.source("cert-file") == "--cert-file: set by --config-file=/e.yaml (not read)"


class TestComponentFlags:
    def test_a_flag_the_component_has_not_is_an_error(self) -> None:
        scheduler = flags_of("kube-scheduler")
        with pytest.raises(KeyError, match="anonymous-auth-typo"):
            scheduler.get("anonymous-auth-typo")
        with pytest.raises(KeyError):
            scheduler.source("service-account-issuer")  # a kube-apiserver flag
        assert scheduler.get("secure-port") == "10259"
        assert scheduler.default("secure-port") == "10259"

    def test_etcd_advertises_nothing_by_default_only_when_it_listens_elsewhere(self) -> None:
        listening = flags_of("etcd", **{"listen-client-urls": "https://10.0.0.1:2379"})
        assert listening.get("advertise-client-urls") == ""
        assert listening.get("name") == "default"  # the rule is for that one flag
        assert flags_of("etcd").get("advertise-client-urls") == "http://localhost:2379"
        apiserver = flags_of("kube-apiserver", **{"listen-client-urls": "x"})
        assert apiserver.get("secure-port") == "6443"

    def test_list_items_as_written(self) -> None:
        paths = one("kube-scheduler", '--authorization-always-allow-paths="/a,b",/c')
        assert paths.values("authorization-always-allow-paths") == ["/a,b", "/c"]
        unknown = dataclasses.replace(paths, all_unknown="an unresolved $(VAR)")
        with pytest.raises(EvidenceUnavailable, match=r"an unresolved \$\(VAR\)"):
            unknown.values("authorization-always-allow-paths")
        unresolved = dataclasses.replace(
            paths, unresolved={"authorization-always-allow-paths": "$(PATHS) is not resolved"}
        )
        with pytest.raises(EvidenceUnavailable, match=r"\$\(PATHS\) is not resolved"):
            unresolved.values("authorization-always-allow-paths")

    def test_list_defaults_and_empty_lists(self) -> None:
        scheduler = flags_of("kube-scheduler")
        assert scheduler.values("authorization-always-allow-paths") == [
            "/healthz",
            "/readyz",
            "/livez",
        ]
        empty = flags_of("kube-scheduler", **{"authorization-always-allow-paths": ""})
        assert empty.values("authorization-always-allow-paths") == []
        quoted = flags_of("kube-scheduler", **{"authorization-always-allow-paths": '"/a,b",/c'})
        assert quoted.values("authorization-always-allow-paths") == ["/a,b", "/c"]

    def test_string_array_items_are_each_occurrence_whole(self) -> None:
        issuers = one(
            "kube-apiserver", "--service-account-issuer=https://a,b", "--service-account-issuer=c"
        )
        assert issuers.values("service-account-issuer") == ["https://a,b", "c"]
        assert flags_of("kube-apiserver").values("service-account-issuer") == []
        one_value = flags_of("kube-apiserver", **{"service-account-issuer": "https://a,b"})
        assert one_value.values("service-account-issuer") == ["https://a,b"]

    def test_only_list_flags_have_items(self) -> None:
        with pytest.raises(ValueError) as scalar:
            flags_of("kube-apiserver").values("secure-port")
        assert str(scalar.value) == "--secure-port of kube-apiserver is not a list flag"
        with pytest.raises(ValueError, match="--feature-gates of etcd is not"):
            flags_of("etcd").values("feature-gates")


# ----------------------------------------------------------------------------- rules


@pytest.mark.parametrize(
    ("value", "extra"),
    [
        ("/healthz,/readyz,/livez,/metrics", ["/metrics"]),
        ("healthz,livez,metrics", ["metrics"]),  # the leading / is optional
        ("/debug/pprof/*,/healthz*", ["/debug/pprof/*", "/healthz*"]),
        ("*", ["*"]),
        ("/", ["/ (the root path)"]),
        ("/livez", []),
        ("", []),
        # exactly as written: " /configz" is not "/configz" (and matches no served path)
        (" /healthz , /configz", [" /configz", " /healthz "]),
    ],
)
def test_extra_always_allow_paths(value: str, extra: list[str]) -> None:
    cm = one("kube-controller-manager", f"--authorization-always-allow-paths={value}")
    assert extra_always_allow_paths(cm) == extra


def test_only_a_trailing_star() -> None:
    cm = one("kube-controller-manager", "--authorization-always-allow-paths=/debug/*/x")
    with pytest.raises(EvidenceUnavailable, match="only a trailing"):
        extra_always_allow_paths(cm)


def test_always_allow_paths_accumulate() -> None:
    cm = one(
        "kube-scheduler",
        "--authorization-always-allow-paths=/healthz",
        "--authorization-always-allow-paths",
        "/metrics,/configz",
    )
    assert extra_always_allow_paths(cm) == ["/configz", "/metrics"]


@pytest.mark.parametrize(
    ("bind", "all_interfaces"),
    [(None, True), ("0.0.0.0", True), ("::", True), ("127.0.0.1", False), ("10.0.0.5", False)],
)
def test_binds_all_interfaces(bind: str | None, all_interfaces: bool) -> None:
    explicit = {"bind-address": bind} if bind is not None else {}
    assert binds_all_interfaces(flags_of("kube-scheduler", **explicit)) is all_interfaces


@pytest.mark.parametrize(
    ("port", "nothing"), [("0", True), ("10257", False), (None, False), ("0x0", True)]
)
def test_serves_nothing(port: str | None, nothing: bool) -> None:
    explicit = {"secure-port": port} if port is not None else {}
    assert serves_nothing(flags_of("kube-controller-manager", **explicit)) is nothing
    with pytest.raises(EvidenceUnavailable):
        serves_nothing(flags_of("kube-scheduler", **{"secure-port": "off"}))


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [
        (None, 0.0),
        ("0", 0.0),
        ("0s", 0.0),
        ("1h", 3600.0),
        ("24h0m0s", 86400.0),
        ("1h30m", 5400.0),
        ("86400s", 86400.0),
        ("4294967296s", 4294967296.0),
    ],
)
def test_token_expiration_cap(raw: str | None, seconds: float) -> None:
    explicit = {"service-account-max-token-expiration": raw} if raw is not None else {}
    assert token_expiration_cap(flags_of("kube-apiserver", **explicit)) == seconds


@pytest.mark.parametrize("raw", ["30m", "-1h", "4294967297s", "1d", "forever", "10"])
def test_token_expiration_cap_the_server_refuses(raw: str) -> None:
    flags = flags_of("kube-apiserver", **{"service-account-max-token-expiration": raw})
    with pytest.raises(EvidenceUnavailable, match="do not describe"):
        token_expiration_cap(flags)


def test_token_expiration_cap_of_an_external_signer_is_not_visible() -> None:
    flags = flags_of("kube-apiserver", **{"service-account-signing-endpoint": "/run/s.sock"})
    with pytest.raises(EvidenceUnavailable) as unseen:
        token_expiration_cap(flags)
    assert unseen.value.reason == (
        "kube-system/kube-apiserver-cp-1: no --service-account-max-token-expiration, so the "
        "external signer at /run/s.sock sets the cap, which the suite cannot see"
    )


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("30m", "is outside 1h..2^32s; kube-apiserver refuses to start with it, so these "
                "flags do not describe it"),
        ("1d", "is not a Go duration; kube-apiserver refuses it, so these flags do not "
               "describe the running server"),
    ],
)  # fmt: skip
def test_a_cap_the_server_refuses_says_why(raw: str, why: str) -> None:
    flags = flags_of("kube-apiserver", **{"service-account-max-token-expiration": raw})
    with pytest.raises(EvidenceUnavailable) as refused:
        token_expiration_cap(flags)
    assert refused.value.reason == (
        f"kube-system/kube-apiserver-cp-1: --service-account-max-token-expiration={raw} (set "
        f"on pod kube-system/kube-apiserver-cp-1) {why}"
    )


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1h", 3600.0),
        ("90m", 5400.0),
        ("1h30m0s", 5400.0),
        ("1.5h", 5400.0),
        ("500ms", 0.5),
        ("10us", 1e-5),
        ("10\u00b5s", 1e-5),
        (" 10s ", 10.0),
        ("-1h", -3600.0),
        ("0", 0.0),
        ("", None),
        ("10", None),
        ("h", None),
        ("1d", None),
        ("one hour", None),
    ],
)
def test_parse_duration(text: str, seconds: float | None) -> None:
    assert parse_duration(text) == seconds


def test_parse_flags_reads_as_the_binary_does() -> None:
    assert parse_flags(["kube-apiserver", "--feature-gates=A=true,B=false", "--profiling"]) == {
        "feature-gates": "A=true,B=false",
        "profiling": "true",
    }
    assert parse_flags(["etcd", "-client-cert-auth=false", "--v"]) == {
        "client-cert-auth": "false",
        "v": "true",
    }


# ----------------------------------------------------------------------------- endpoints


class TestEndpoints:
    def test_etcd_client_urls_prefer_advertised(self) -> None:
        etcd = flags_of(
            "etcd",
            **{
                "advertise-client-urls": "https://10.0.0.1:2379/, https://10.0.0.1:2379",
                "listen-client-urls": "https://127.0.0.1:2379,https://10.0.0.1:2379",
            },
        )
        assert endpoints.etcd_client_urls(etcd) == ["https://10.0.0.1:2379"]
        sockets = flags_of("etcd", **{"advertise-client-urls": "unix://etcdX,unixs://etcd-X/"})
        assert endpoints.etcd_client_urls(sockets) == ["unix://etcdX", "unixs://etcd-X"]

    def test_etcd_client_urls_fall_back_to_listen_then_default(self) -> None:
        etcd = flags_of(
            "etcd", **{"listen-client-urls": "https://127.0.0.1:2379,https://[::1]:2379"}
        )
        assert endpoints.etcd_client_urls(etcd) == [
            "https://127.0.0.1:2379",
            "https://[::1]:2379",
        ]
        assert endpoints.etcd_client_urls(flags_of("etcd")) == ["http://localhost:2379"]

    @pytest.mark.parametrize(
        ("url", "loopback"),
        [
            ("https://127.0.0.1:2379", True),
            ("https://127.0.0.53:2379", True),
            ("https://localhost:2379", True),
            ("https://[::1]:2379", True),
            ("https://10.0.0.1:2379", False),
            ("https://[fd00::1]:2379", False),
            ("https://etcd.example:2379", False),
            ("https://0.0.0.0:2379", False),
        ],
    )
    def test_is_loopback_url(self, url: str, loopback: bool) -> None:
        assert endpoints.is_loopback_url(url) is loopback

    def test_node_addresses(self) -> None:
        addresses = endpoints.node_addresses(
            [
                node("a", internal_ip="10.0.0.1"),
                node("b", internal_ip=None, external_ip="203.0.113.7", port=11250),
                node("c", internal_ip=None, port=None),
            ]
        )
        assert [(n.node, n.address, n.kubelet_port) for n in addresses] == [
            ("a", "10.0.0.1", 10250),
            ("b", "203.0.113.7", 11250),
            ("c", "", 10250),
        ]

    def test_dual_stack_node_uses_its_primary_internal_ip(self) -> None:
        # Regression: the last InternalIP won; the kubelet lists the primary family first.
        dual = node(
            "d", internal_ip=None, addresses=[("InternalIP", "10.0.0.4"), ("InternalIP", "fd00::4")]
        )
        (only,) = endpoints.node_addresses([dual])
        assert only.address == "10.0.0.4"

    def test_an_internal_ip_entry_without_an_address_is_no_address(self) -> None:
        # The ExternalIP is used, not a placeholder for the empty InternalIP.
        bare = node(
            "e", internal_ip=None, addresses=[("InternalIP", ""), ("ExternalIP", "203.0.113.9")]
        )
        (only,) = endpoints.node_addresses([bare])
        assert only.address == "203.0.113.9"

    def test_component_urls(self) -> None:
        nodes = endpoints.node_addresses([node("cp-1", "10.0.0.1"), node("cp-2", "fd00::2")])
        scheduler = flags_of("kube-scheduler")
        assert endpoints.component_urls(scheduler, nodes) == ["https://10.0.0.1:10259"]
        ipv6 = ComponentFlags("kube-scheduler", "kube-system/s", "cp-2", {})
        assert endpoints.component_urls(ipv6, nodes) == ["https://[fd00::2]:10259"]
        disabled = flags_of("kube-controller-manager", **{"secure-port": "0"})
        assert endpoints.component_urls(disabled, nodes) == []
        elsewhere = ComponentFlags("kube-scheduler", "kube-system/s", "gone", {})
        assert endpoints.component_urls(elsewhere, nodes) == []

    def test_services_to_probe(self) -> None:
        services = [
            service("kubernetes", "default", [{"port": 443, "name": "https"}]),
            service(
                "web", "shop", [{"port": 8080, "name": "http"}, {"port": 8443, "name": "https-api"}]
            ),
            service("grafana", "monitoring", [{"port": 3000, "appProtocol": "HTTPS"}]),
            service("dns", "kube-system", [{"port": 53, "protocol": "UDP"}, {"port": 9153}]),
            service("idle", "shop", [{"port": 80}]),
            service("down", "shop", [{"port": 80}]),
            service("ext", "shop", [{"port": 443}], kind="ExternalName"),
        ]
        slices = [
            endpoint_slice("kubernetes", "default"),
            endpoint_slice("web", "shop"),
            endpoint_slice("grafana", "monitoring"),
            endpoint_slice("dns", "kube-system"),
            endpoint_slice("down", "shop", ready=[False, False]),
            endpoint_slice("web", "elsewhere"),  # same name, other namespace
        ]
        chosen, skipped = endpoints.services_to_probe(services, slices)
        assert [(p.namespace, p.name, p.port, p.scheme) for p in chosen] == [
            ("shop", "web", 8080, "http"),
            ("shop", "web", 8443, "https"),
            ("monitoring", "grafana", 3000, "https"),
            ("kube-system", "dns", 9153, "http"),
        ]
        assert skipped == [
            "Service kube-system/dns:53: not TCP",
            "Service shop/idle: no ready endpoints",
            "Service shop/down: no ready endpoints",
            "Service shop/ext: ExternalName (no endpoints in the cluster)",
        ]
        assert chosen[1].proxy_path == "/api/v1/namespaces/shop/services/https:web:8443/proxy/"
        assert chosen[0].proxy_path == "/api/v1/namespaces/shop/services/web:8080/proxy/"
        assert chosen[0].ref == "Service shop/web"

    def test_services_after_a_skipped_one_are_still_chosen(self) -> None:
        """Port 443 alone makes a port TLS; a port without a name or protocol is TCP with
        no name (the API server defaults the protocol: SetDefaults_ServicePort)."""
        services = [
            service("ext", "shop", [{"port": 443}], kind="ExternalName"),
            service("tls", "shop", [{"port": 443}]),
        ]
        chosen, skipped = endpoints.services_to_probe(services, [endpoint_slice("tls", "shop")])
        assert [dataclasses.astuple(p) for p in chosen] == [("shop", "tls", 443, "", "https")]
        assert skipped == ["Service shop/ext: ExternalName (no endpoints in the cluster)"]


def test_an_empty_bind_address_binds_every_interface() -> None:
    from kubepci.analysis.flags import binds_all_interfaces

    # SecureServingOptions: an unset BindAddress listens on all interfaces.
    assert binds_all_interfaces(flags_of("kube-scheduler", **{"bind-address": ""}))
    assert binds_all_interfaces(flags_of("kube-scheduler", **{"bind-address": "::"}))
    assert not binds_all_interfaces(flags_of("kube-scheduler", **{"bind-address": "127.0.0.1"}))


def test_every_client_listener_gap_is_joined() -> None:
    from kubepci.analysis.flags import etcd_client_auth_gap

    two = flags_of("etcd", **{"listen-client-urls": "http://10.0.0.1:2379,http://127.0.0.1:2379"})
    gaps = etcd_client_auth_gap(two).split("; ")
    assert len(gaps) == 2 and "http://10.0.0.1:2379" in gaps[0]


FROM_CONFIGMAP = {"configMapKeyRef": {"name": "etcd-env", "key": "v"}}


class TestEtcdEnvironmentLimits:
    def test_a_settings_file_named_from_an_unread_source(self) -> None:
        flags = one("etcd", env=[{"name": "ETCD_CONFIG_FILE", "valueFrom": FROM_CONFIGMAP}])
        why = "ETCD_CONFIG_FILE is set from a source the suite does not read"
        assert flags.unresolved == {"config-file": why}
        assert flags.all_unknown == why
        assert "config-file" not in flags.explicit

    # Regression: --client-cert-auth=true was read as given, though etcd ignores its
    # command line once ETCD_CONFIG_FILE names a file (etcdmain/config.go parse).
    def test_a_settings_file_from_an_unread_source_hides_the_command_line(self) -> None:
        flags = one(
            "etcd",
            "--client-cert-auth=true",
            env=[{"name": "ETCD_CONFIG_FILE", "valueFrom": FROM_CONFIGMAP}],
        )
        with pytest.raises(EvidenceUnavailable, match="ETCD_CONFIG_FILE is set from a source"):
            flags.get("client-cert-auth")

    def test_a_settings_file_on_the_command_line_wins_over_the_environment(self) -> None:
        flags = one(
            "etcd",
            "--config-file=/c.yaml",
            env=[{"name": "ETCD_CONFIG_FILE", "valueFrom": FROM_CONFIGMAP}],
        )
        assert flags.unresolved == {} and flags.settings_file == "/c.yaml"

    def test_a_settings_file_from_the_environment_says_where_it_came_from(self) -> None:
        flags = one("etcd", env=[{"name": "ETCD_CONFIG_FILE", "value": "/e.yaml"}])
        assert flags.origins["config-file"] == "ETCD_CONFIG_FILE=/e.yaml"
        assert flags.source("config-file") == (
            "ETCD_CONFIG_FILE=/e.yaml in the environment of pod kube-system/etcd-cp-1"
        )

    def test_variables_become_settings_and_each_limit_is_said(self) -> None:
        flags = one(
            "etcd",
            "--name=cp-1",
            env=[
                {"name": "ETCD_VERSION", "value": "3.6"},
                {"name": "ETCD_NAME", "value": "other"},
                {"name": "ETCD_DATA_DIR", "valueFrom": FROM_CONFIGMAP},
                {"name": "ETCD_CLIENT_CERT_AUTH", "value": "true"},
            ],
            envFrom=[{"configMapRef": {"name": "etcd-env"}}],
        )
        assert flags.refused == [
            "ETCD_NAME in the environment shadows --name on the command line: etcd exits "
            "(pkg/flags verifyEnv)"
        ]
        assert flags.unresolved == {
            "data-dir": "ETCD_DATA_DIR is set from a source the suite does not read"
        }
        assert flags.explicit["client-cert-auth"] == "true"
        assert "version" not in flags.explicit
        assert flags.all_unknown == (
            "the container takes variables from envFrom sources the suite does not read, and "
            "etcd reads any ETCD_* variable among them as a flag"
        )
        assert flags.notes[-1] == (
            "ETCD_* variables the image itself sets are not visible through the API; only the "
            "pod's own env is read"
        )
