"""etcd client and peer authentication from its settings (embed/etcd.go listeners,
client/pkg/transport TLSInfo.ServerConfig and SelfCert).

Regression: the first version read --client-cert-auth=false as "open", but etcd's TLS
listener still demands a client certificate whenever --trusted-ca-file is set (seen on the
real noncompliant cluster: the live probe got 'certificate required').
"""

from __future__ import annotations

import pytest

from kubepci.analysis.flags import (
    ComponentFlags,
    etcd_client_auth_gap,
    etcd_listener_gaps,
    parse_duration,
)
from kubepci.verdict import EvidenceUnavailable

TLS = {"cert-file": "/pki/server.crt", "key-file": "/pki/server.key"}
PEER_TLS = {
    "listen-peer-urls": "https://10.0.0.1:2380",
    "peer-cert-file": "/pki/peer.crt",
    "peer-key-file": "/pki/peer.key",
    "peer-client-cert-auth": "true",
}


def etcd(**explicit: str) -> ComponentFlags:
    return ComponentFlags("etcd", "kube-system/etcd-n1", "n1", dict(explicit))


def client(**explicit: str) -> ComponentFlags:
    return etcd(**{**TLS, **PEER_TLS, **explicit})


def test_trusted_ca_alone_requires_certificates() -> None:
    flags = client(
        **{
            "client-cert-auth": "false",
            "trusted-ca-file": "/pki/ca.crt",
            "listen-client-urls": "https://10.0.0.1:2379",
        }
    )
    assert etcd_client_auth_gap(flags) == ""
    assert etcd_listener_gaps(flags) == []


def test_client_cert_auth_true_requires_certificates() -> None:
    flags = client(**{"client-cert-auth": "true", "listen-client-urls": "https://10.0.0.1:2379"})
    assert etcd_client_auth_gap(flags) == ""


def test_no_ca_and_no_client_cert_auth_is_open() -> None:
    flags = client(**{"client-cert-auth": "false", "listen-client-urls": "https://10.0.0.1:2379"})
    gap = etcd_client_auth_gap(flags)
    assert "no client certificate is required" in gap
    assert "no --trusted-ca-file" in gap


def test_defaults_are_open() -> None:
    # etcd's own defaults: plain HTTP on localhost for clients and peers.
    gaps = etcd_listener_gaps(etcd())
    assert [g.split(" ", 3)[:3] for g in gaps] == [
        ["plain-HTTP", "client", "listener"],
        ["plain-HTTP", "peer", "listener"],
    ]


def test_plain_http_url_is_open_even_with_certificates() -> None:
    flags = client(
        **{
            "client-cert-auth": "true",
            "trusted-ca-file": "/pki/ca.crt",
            "listen-client-urls": "https://127.0.0.1:2379,http://10.0.0.1:2379",
        }
    )
    assert "http://10.0.0.1:2379" in etcd_client_auth_gap(flags)


@pytest.mark.parametrize(
    ("explicit", "gap"),
    [
        ({"listen-client-urls": "unix://etcd.sock:0"}, "plain-HTTP client listener unix://"),
        (
            {"listen-client-urls": "https://a:2379", "listen-client-http-urls": "http://a:2380",
             "client-cert-auth": "true"},
            "plain-HTTP client listener http://a:2380",
        ),
        (  # auto TLS replaces the whole TLS configuration, client-cert-auth included
            {"listen-client-urls": "https://a:2379", "cert-file": "", "key-file": "",
             "auto-tls": "true", "client-cert-auth": "true", "trusted-ca-file": "/ca"},
            "uses --auto-tls",
        ),
        ({"listen-peer-urls": "http://10.0.0.1:2380"}, "plain-HTTP peer listener"),
        ({"peer-client-cert-auth": "false"}, "peer listener https://10.0.0.1:2380: no client"),
        (
            {"peer-cert-file": "", "peer-key-file": "", "peer-auto-tls": "true"},
            "peer listener https://10.0.0.1:2380 uses --peer-auto-tls",
        ),
    ],
)  # fmt: skip
def test_listener_gaps(explicit: dict[str, str], gap: str) -> None:
    base = {"listen-client-urls": "https://a:2379", "client-cert-auth": "true"}
    gaps = etcd_listener_gaps(client(**{**base, **explicit}))
    assert any(gap in g for g in gaps), gaps


def test_certificates_win_over_auto_tls() -> None:
    flags = client(**{"listen-client-urls": "https://a:2379", "auto-tls": "true",
                      "client-cert-auth": "true"})  # fmt: skip
    assert etcd_listener_gaps(flags) == []


@pytest.mark.parametrize(
    "explicit",
    [
        {"listen-client-urls": "https://a:2379", "cert-file": "", "key-file": ""},
        {"listen-client-urls": "tcp://a:2379"},
    ],
)
def test_settings_etcd_refuses(explicit: dict[str, str]) -> None:
    with pytest.raises(EvidenceUnavailable, match="etcd would refuse"):
        etcd_listener_gaps(client(**explicit))


def test_zero_duration_parses_as_zero() -> None:
    """Regression: Go accepts a bare "0" (the API server's "no maximum" for
    --service-account-max-token-expiration); it was unparseable, reported as "exceeds"."""
    assert parse_duration("0") == 0.0
    assert parse_duration("0s") == 0.0
    assert parse_duration("5") is None  # any other number needs a unit


@pytest.mark.parametrize("only", ["cert-file", "key-file"])
def test_either_certificate_setting_counts_as_tls_configured(only: str) -> None:
    """etcd refuses a TLS listener only when its TLSInfo is empty, which is neither
    --cert-file nor --key-file set (client/pkg/transport/listener.go TLSInfo.Empty)."""
    flags = client(**{"listen-client-urls": "https://a:2379", "cert-file": "", "key-file": "",
                      only: "/pki/etcd", "client-cert-auth": "true"})  # fmt: skip
    assert etcd_listener_gaps(flags) == []


@pytest.mark.parametrize(
    ("explicit", "why"),
    [
        (
            {"listen-client-urls": "https://a:2379", "cert-file": "", "key-file": ""},
            "client URL https://a:2379 is TLS but no --cert-file/--key-file is set (etcd: TLS "
            "key/cert must be provided)",
        ),
        (
            {"listen-client-urls": "tcp://a:2379"},
            "client URL tcp://a:2379: scheme must be http, https, unix or unixs",
        ),
    ],
)
def test_what_etcd_refuses_is_said(explicit: dict[str, str], why: str) -> None:
    with pytest.raises(EvidenceUnavailable) as refused:
        etcd_listener_gaps(client(**explicit))
    assert refused.value.reason == (
        f"kube-system/etcd-n1: etcd would refuse these settings ({why}), so they do not "
        "describe the running etcd"
    )
    with pytest.raises(EvidenceUnavailable) as refused:
        etcd_client_auth_gap(client(**explicit))
    assert refused.value.reason == f"kube-system/etcd-n1: etcd would refuse these settings ({why})"
