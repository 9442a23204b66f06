"""etcd client authentication from flags.

Regression: the first version read --client-cert-auth=false as "open", but etcd's TLS
listener still demands a client certificate whenever --trusted-ca-file is set (seen on the
real noncompliant cluster: the live probe got 'certificate required').
"""

from __future__ import annotations

from kubepci.analysis.flags import DEFAULTS, ComponentFlags, etcd_client_auth_gap


def etcd(**explicit: str) -> ComponentFlags:
    return ComponentFlags("etcd", "kube-system/etcd-n1", "n1", dict(explicit), DEFAULTS["etcd"])


def test_trusted_ca_alone_requires_certificates() -> None:
    flags = etcd(
        **{
            "client-cert-auth": "false",
            "trusted-ca-file": "/pki/ca.crt",
            "listen-client-urls": "https://10.0.0.1:2379",
        }
    )
    assert etcd_client_auth_gap(flags) == ""


def test_client_cert_auth_true_requires_certificates() -> None:
    flags = etcd(**{"client-cert-auth": "true", "listen-client-urls": "https://10.0.0.1:2379"})
    assert etcd_client_auth_gap(flags) == ""


def test_no_ca_and_no_client_cert_auth_is_open() -> None:
    flags = etcd(**{"client-cert-auth": "false", "listen-client-urls": "https://10.0.0.1:2379"})
    gap = etcd_client_auth_gap(flags)
    assert "no client certificate is required" in gap
    assert "--trusted-ca-file not set" in gap


def test_defaults_are_open() -> None:
    # etcd's own defaults: plain HTTP on localhost, no client certificates.
    assert "plain-HTTP" in etcd_client_auth_gap(etcd())


def test_plain_http_url_is_open_even_with_certificates() -> None:
    flags = etcd(
        **{
            "client-cert-auth": "true",
            "trusted-ca-file": "/pki/ca.crt",
            "listen-client-urls": "https://127.0.0.1:2379,http://10.0.0.1:2379",
        }
    )
    assert "http://10.0.0.1:2379" in etcd_client_auth_gap(flags)


def test_zero_duration_parses_as_zero() -> None:
    """Regression: Go accepts a bare "0" (the API server's "no maximum" for
    --service-account-max-token-expiration); it was unparseable, reported as "exceeds"."""
    from kubepci.analysis.flags import parse_duration

    assert parse_duration("0") == 0.0
    assert parse_duration("0s") == 0.0
    assert parse_duration("5") is None  # any other number needs a unit
