"""Control-plane flags from static pods (command and/or args, defaults when absent), and
the probe targets derived from them and from nodes and services."""

from __future__ import annotations

import pytest

from kubepci.analysis import endpoints
from kubepci.analysis.flags import (
    DEFAULTS,
    ComponentFlags,
    binds_all_interfaces,
    component_of,
    control_plane_flags,
    extra_always_allow_paths,
    parse_duration,
    parse_flags,
)
from tests.builders import endpoint_slice, node, pod, service, static_pod


def flags_of(component: str, **explicit: str) -> ComponentFlags:
    return ComponentFlags(
        component, f"kube-system/{component}-cp-1", "cp-1", dict(explicit), DEFAULTS[component]
    )


# ----------------------------------------------------------------------------- parse_flags


class TestParseFlags:
    def test_equals_space_and_bare_booleans(self) -> None:
        tokens = [
            "kube-apiserver",
            "--anonymous-auth=false",
            "--secure-port",
            "6443",
            "--profiling",
            "--v=2",
            "--enable-admission-plugins=NodeRestriction,PodSecurity",
        ]
        assert parse_flags(tokens) == {
            "anonymous-auth": "false",
            "secure-port": "6443",
            "profiling": "true",
            "v": "2",
            "enable-admission-plugins": "NodeRestriction,PodSecurity",
        }

    def test_value_may_contain_equals_signs(self) -> None:
        assert parse_flags(["--feature-gates=A=true,B=false"]) == {
            "feature-gates": "A=true,B=false"
        }

    def test_bare_boolean_before_another_flag(self) -> None:
        assert parse_flags(["--a", "--b", "x"]) == {"a": "true", "b": "x"}

    def test_last_occurrence_wins(self) -> None:
        assert parse_flags(["--anonymous-auth=false", "--anonymous-auth=true"]) == {
            "anonymous-auth": "true"
        }

    def test_positional_tokens_are_not_flags(self) -> None:
        assert parse_flags(["/usr/local/bin/etcd", "serve"]) == {}


# ----------------------------------------------------------------------------- components


class TestControlPlaneFlags:
    def test_kubeadm_command_form(self) -> None:
        found = control_plane_flags(
            [static_pod("kube-apiserver", flags=["--anonymous-auth=false", "--secure-port=6443"])]
        )
        (apiserver,) = found["kube-apiserver"]
        assert apiserver.pod == "kube-system/kube-apiserver-cp-1"
        assert apiserver.node == "cp-1"
        assert apiserver.get("anonymous-auth") == "false"
        assert not apiserver.is_true("anonymous-auth")
        assert found["etcd"] == []

    def test_rke2_command_and_args_split(self) -> None:
        # RKE2 runs the binary by name in command and puts every flag in args.
        rke2 = pod(
            "kube-apiserver-server-0",
            "kube-system",
            mirror=True,
            container="kube-apiserver",
            command=["kube-apiserver"],
            args=["--anonymous-auth=false", "--token-auth-file=/var/lib/rancher/tokens"],
        )
        (apiserver,) = control_plane_flags([rke2])["kube-apiserver"]
        assert apiserver.explicit == {
            "anonymous-auth": "false",
            "token-auth-file": "/var/lib/rancher/tokens",
        }

    def test_args_only_found_by_container_name(self) -> None:
        args_only = pod(
            "sched",
            "kube-system",
            mirror=True,
            container="kube-scheduler",
            args=["--bind-address=127.0.0.1"],
        )
        (scheduler,) = control_plane_flags([args_only])["kube-scheduler"]
        assert scheduler.get("bind-address") == "127.0.0.1"

    def test_found_by_command_basename_whatever_the_container_name(self) -> None:
        renamed = pod(
            "cm",
            "kube-system",
            mirror=True,
            container="manager",
            command=["/usr/local/bin/kube-controller-manager", "--secure-port=0"],
        )
        assert component_of(renamed["spec"]["containers"][0]) == "kube-controller-manager"
        (cm,) = control_plane_flags([renamed])["kube-controller-manager"]
        assert cm.get("secure-port") == "0"

    def test_only_kube_system_pods_count(self) -> None:
        lookalike = static_pod("kube-apiserver", ns="attacker", flags=["--anonymous-auth=false"])
        assert control_plane_flags([lookalike])["kube-apiserver"] == []

    def test_other_containers_are_ignored(self) -> None:
        sidecar = pod("proxy", "kube-system", container="kube-proxy", command=["kube-proxy"])
        assert all(v == [] for v in control_plane_flags([sidecar]).values())

    def test_one_entry_per_instance(self) -> None:
        found = control_plane_flags(
            [static_pod("etcd", node="cp-1"), static_pod("etcd", node="cp-2")]
        )
        assert [f.node for f in found["etcd"]] == ["cp-1", "cp-2"]


class TestDefaults:
    def test_absent_anonymous_auth_means_true(self) -> None:
        (apiserver,) = control_plane_flags([static_pod("kube-apiserver")])["kube-apiserver"]
        assert apiserver.is_true("anonymous-auth")
        assert apiserver.source("anonymous-auth") == (
            "--anonymous-auth not set; Kubernetes default true applies"
        )
        assert apiserver.get("authorization-mode") == "AlwaysAllow"
        assert apiserver.is_true("service-account-extend-token-expiration")

    def test_explicit_value_names_the_pod(self) -> None:
        apiserver = flags_of("kube-apiserver", **{"anonymous-auth": "false"})
        assert apiserver.source("anonymous-auth") == (
            "--anonymous-auth=false (set on pod kube-system/kube-apiserver-cp-1)"
        )
        evidence = apiserver.evidence(["anonymous-auth", "token-auth-file"])
        assert evidence["pod"] == "kube-system/kube-apiserver-cp-1"
        assert evidence["flags"]["token-auth-file"] == (
            "--token-auth-file not set; Kubernetes default (empty) applies"
        )

    def test_always_allow_default(self) -> None:
        scheduler = flags_of("kube-scheduler")
        assert scheduler.get("authorization-always-allow-paths") == "/healthz,/readyz,/livez"
        assert extra_always_allow_paths(scheduler) == []

    @pytest.mark.parametrize(
        ("value", "extra"),
        [
            ("/healthz,/readyz,/livez,/metrics", ["/metrics"]),
            (" /healthz , /configz ,/debug/pprof/ ", ["/configz", "/debug/pprof/"]),
            ("/livez", []),
            ("", []),
        ],
    )
    def test_extra_always_allow_paths(self, value: str, extra: list[str]) -> None:
        cm = flags_of("kube-controller-manager", **{"authorization-always-allow-paths": value})
        assert extra_always_allow_paths(cm) == extra

    @pytest.mark.parametrize(
        ("bind", "all_interfaces"),
        [(None, True), ("0.0.0.0", True), ("::", True), ("127.0.0.1", False), ("10.0.0.5", False)],
    )
    def test_binds_all_interfaces(self, bind: str | None, all_interfaces: bool) -> None:
        explicit = {"bind-address": bind} if bind is not None else {}
        assert binds_all_interfaces(flags_of("kube-scheduler", **explicit)) is all_interfaces

    @pytest.mark.parametrize("value", ["true", "True", "1", "t", " true "])
    def test_is_true_spellings(self, value: str) -> None:
        assert flags_of("etcd", **{"client-cert-auth": value}).is_true("client-cert-auth")

    def test_etcd_default_is_no_client_cert_auth(self) -> None:
        assert not flags_of("etcd").is_true("client-cert-auth")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1h", 3600.0),
        ("90m", 5400.0),
        ("1h30m0s", 5400.0),
        ("24h", 86400.0),
        ("1.5h", 5400.0),
        ("500ms", 0.5),
        ("1m500ms", 60.5),
        (" 10s ", 10.0),
        ("", None),
        ("10", None),
        ("h", None),
        ("1d", None),
        ("-1h", None),
        ("one hour", None),
    ],
)
def test_parse_duration(text: str, seconds: float | None) -> None:
    assert parse_duration(text) == seconds


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

    def test_component_urls(self) -> None:
        nodes = endpoints.node_addresses([node("cp-1", "10.0.0.1"), node("cp-2", "fd00::2")])
        scheduler = flags_of("kube-scheduler")
        assert endpoints.component_urls(scheduler, nodes) == ["https://10.0.0.1:10259"]
        ipv6 = ComponentFlags(
            "kube-scheduler", "kube-system/s", "cp-2", {}, DEFAULTS["kube-scheduler"]
        )
        assert endpoints.component_urls(ipv6, nodes) == ["https://[fd00::2]:10259"]
        disabled = flags_of("kube-controller-manager", **{"secure-port": "0"})
        assert endpoints.component_urls(disabled, nodes) == []
        elsewhere = ComponentFlags("kube-scheduler", "kube-system/s", "gone", {}, {})
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
