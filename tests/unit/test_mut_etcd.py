"""etcd's ``--config-file`` read as etcd reads it (embed/config.go configFromFile), and the
client-certificate judgement made from it (PCI 1.1.5).

Found by ``make mutation`` (tests/mutation/): top-level keys, a true boolean, a list
value, an absent section and an empty URL list were not read by any test. The file is
the shape of etcd v3.6's own ``etcd.conf.yml.sample`` (top-level listener URLs, TLS under
``client-transport-security`` / ``peer-transport-security``).
"""

from __future__ import annotations

from typing import Any

import pytest

from kubepci.analysis import etcd
from kubepci.analysis.etcd import EtcdRefuses, file_setting
from kubepci.analysis.flags import ConfigFile, control_plane_flags, etcd_listener_gaps
from tests.builders import static_pod

Obj = dict[str, Any]

SAMPLE: Obj = {
    "name": "cp-1",
    "data-dir": "/var/lib/etcd",
    "listen-client-urls": "https://10.0.0.1:2379,https://127.0.0.1:2379",
    "listen-peer-urls": "https://10.0.0.1:2380",
    "max-request-bytes": 1572864,
    "cipher-suites": ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"],
    "client-transport-security": {
        "cert-file": "/etc/kubernetes/pki/etcd/server.crt",
        "key-file": "/etc/kubernetes/pki/etcd/server.key",
        "client-cert-auth": True,
        "trusted-ca-file": "/etc/kubernetes/pki/etcd/ca.crt",
    },
    "peer-transport-security": {
        "cert-file": "/etc/kubernetes/pki/etcd/peer.crt",
        "key-file": "/etc/kubernetes/pki/etcd/peer.key",
        "client-cert-auth": True,
        "trusted-ca-file": "/etc/kubernetes/pki/etcd/ca.crt",
    },
}


def with_changes(**sections: Any) -> Obj:
    """SAMPLE with top-level keys replaced (None removes one)."""
    doc = {k: v for k, v in SAMPLE.items() if k not in sections}
    doc.update({k: v for k, v in sections.items() if v is not None})
    return doc


@pytest.mark.parametrize(
    ("flag", "kind", "expected"),
    [
        ("listen-client-urls", "string", (True, "https://10.0.0.1:2379,https://127.0.0.1:2379")),
        ("name", "string", (True, "cp-1")),
        ("max-request-bytes", "uint", (True, "1572864")),
        ("cipher-suites", "stringSlice", (True, "TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384")),
        ("client-cert-auth", "bool", (True, "true")),
        ("peer-client-cert-auth", "bool", (True, "true")),
        ("cert-file", "string", (True, "/etc/kubernetes/pki/etcd/server.crt")),
        # Keys the sample leaves out keep etcd's default: not set in the file.
        ("auto-tls", "bool", (False, "")),
        ("listen-client-http-urls", "string", (False, "")),
    ],
)
def test_settings_of_the_sample_file(flag: str, kind: str, expected: tuple[bool, str]) -> None:
    assert file_setting(SAMPLE, flag, kind) == expected


def test_a_false_boolean_is_written_as_the_flag_would_be() -> None:
    doc = with_changes(**{"client-transport-security": {"client-cert-auth": False}})
    assert file_setting(doc, "client-cert-auth", "bool") == (True, "false")


@pytest.mark.parametrize("section", [None, {"client-transport-security": None}])
def test_without_the_tls_section_no_tls_setting_is_set(section: Obj | None) -> None:
    doc = with_changes(**{"client-transport-security": None}) if section is None else section
    for flag, kind in (("cert-file", "string"), ("client-cert-auth", "bool")):
        assert file_setting(doc, flag, kind) == (False, "")


def test_a_tls_section_that_is_no_mapping_is_refused() -> None:
    doc = with_changes(**{"client-transport-security": "/etc/kubernetes/pki/etcd/server.crt"})
    with pytest.raises(EtcdRefuses) as refused:
        file_setting(doc, "cert-file", "string")
    assert str(refused.value) == (
        "client-transport-security is not a mapping (etcd: invalid client-transport-security)"
    )


def test_a_null_value_is_not_set() -> None:
    doc = with_changes(**{"client-transport-security": {"client-cert-auth": None}}, name=None)
    assert file_setting(doc, "client-cert-auth", "bool") == (False, "")
    assert file_setting(doc, "name", "string") == (False, "")


@pytest.mark.parametrize(
    ("doc", "flag", "message"),
    [
        (
            {"client-transport-security": {"client-cert-auth": "yes"}},
            "client-cert-auth",
            "client-transport-security.client-cert-auth: 'yes' is not a boolean",
        ),
        ({"enable-pprof": "true"}, "enable-pprof", "enable-pprof: 'true' is not a boolean"),
    ],
)
def test_a_boolean_written_as_text_is_refused_naming_the_key(
    doc: Obj, flag: str, message: str
) -> None:
    with pytest.raises(EtcdRefuses) as refused:
        file_setting(doc, flag, "bool")
    assert str(refused.value) == message


def test_an_empty_url_list_keeps_the_default_but_an_empty_name_is_set() -> None:
    doc = with_changes(**{"listen-client-urls": "", "name": ""})
    assert file_setting(doc, "listen-client-urls", "string") == (False, "")
    assert file_setting(doc, "name", "string") == (True, "")


def test_a_key_written_twice_in_other_case_takes_the_last() -> None:
    doc = {"client-transport-security": {"client-cert-auth": False, "Client-Cert-Auth": True}}
    assert file_setting(doc, "client-cert-auth", "bool") == (True, "true")


# ------------------------------------------------- the judgement, through the pod's flags


def etcd_from_file(document: Obj) -> list[str]:
    pod = static_pod("etcd", flags=["--config-file=/etc/etcd/etcd.yaml"])
    (flags,) = control_plane_flags([pod], "v1.35.4")["etcd"]
    read = ConfigFile("config-file", "/etc/etcd/etcd.yaml", "/host/etc/etcd/etcd.yaml", document)
    return etcd_listener_gaps(flags.with_files({"config-file": read}))


def test_the_sample_file_requires_client_certificates_on_every_listener() -> None:
    assert etcd_from_file(SAMPLE) == []


def test_a_file_without_client_cert_auth_or_ca_leaves_each_tls_listener_open() -> None:
    tls = {"cert-file": "/s.crt", "key-file": "/s.key"}
    gaps = etcd_from_file(with_changes(**{"client-transport-security": tls}))
    assert gaps == [
        f"client listener {url}: no client certificate is required "
        "(--client-cert-auth is not true and no --trusted-ca-file)"
        for url in ("https://10.0.0.1:2379", "https://127.0.0.1:2379")
    ]


def test_env_name_follows_flag_to_env() -> None:
    assert etcd.env_name("peer-client-cert-auth") == "ETCD_PEER_CLIENT_CERT_AUTH"
