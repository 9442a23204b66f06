"""The whole-document gate never lets through a document the walk would change.

``redact_obj`` skips the per-string walk when ``json_text_may_need_redaction`` says the
document's JSON text cannot hold anything to redact. That is only safe if the gate is a
necessary condition of every rule: these tests generate documents from the fragments the
rules react to (credential words in any case, quotes, escaped and Unicode whitespace,
markers, letters that fold to ASCII) and require the gate to fire whenever the walk
changes something, whichever way the JSON is written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubepci.report import redact as redactor
from kubepci.report.redact import json_text_may_need_redaction, redact_obj

FRAGMENTS = [
    *("token", "TOKEN", "Tokens", "password", "passwd", "pwd", "passphrase", "Secret"),
    *("credentials", "api-key", "apiKey", "access_key", "client-key-data", "auth_key"),
    *("authorization", "Proxy-Authorization", "cookie", "x-auth-token", "private-token"),
    *("Bearer", "basic", "realm", "eyJ", "hbGciOiJSUzI1NiJ9", "-----BEGIN", " PRIVATE KEY-----"),
    *("LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JSUV2Z0lCQURBTkJna3Foa2lHOXcwQkFRRUZB",),
    *("https://", "admin", "@", ":", "=", " ", "\n", "\t", "\x0b", "\x1c", "\x85", "\xa0"),
    *('"', "'", "\\", "/", "{", "}", "[", "]", ",", ";", "&", ".", "-", "_", "1", "x"),
    *("hunter2hunter2", "abcdefgh12345678", "s3cr3t-value", "10:20", "abc=1"),
    *("true", "TRUE", "false", "no", "yes", "null", "nil", "none", "; "),
    *("/etc/x", "~", "kubelet-client-", "x-api-", "X-Auth-", "private-", "access_", "api"),
    *("client_key_data", "apikey", "-key", "=/", ": ./"),
    *("\u212a", "\u017f", "\u0130", "\u0131", "\u00e9"),  # Kelvin k, long s, dotted/dotless i
    *("to\u212aen", "\u017fecret", "pa\u017f\u017fword", "Bearer\u2028x"),
]
KNOWN = "kn0wn-credential-value"

text = st.lists(st.sampled_from(FRAGMENTS), max_size=8).map("".join)
leaf = text | st.integers() | st.booleans() | st.none()
documents = st.recursive(
    leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)


@pytest.fixture(autouse=True)
def _known_secret() -> Iterator[None]:
    redactor.register_secret(KNOWN)
    yield
    redactor.forget_secrets()


def encodings(document: Any) -> list[str]:
    return [
        json.dumps(document, ensure_ascii=False, separators=(",", ":")),
        json.dumps(document, ensure_ascii=True, separators=(",", ":")),
        json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True),
    ]


@settings(
    max_examples=3000,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(documents | st.builds(lambda d, s: [d, s + KNOWN], documents, text))
def test_the_gate_fires_whenever_the_walk_would_change_something(document: Any) -> None:
    walked = redactor._walk(document)
    if walked != document:
        for encoded in encodings(document):
            assert json_text_may_need_redaction(encoded), encoded
    assert redact_obj(document) == walked


@pytest.mark.parametrize(
    "value",
    [
        "Authorization: Bearer abcdefgh12345678",
        "--token=s3cr3t-value-1",
        "password : hunter2hunter2",
        'config {"api_key": "9f8e7d6c5b4a"}',
        "https://admin:hunter2hunter2@192.0.2.2:6443/",
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
        "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----",
        "client-key-data: LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JSUV2Z0lCQURBTkJna3Fo",
        f"the kubeconfig token {KNOWN} leaked",
        "TO\u212aEN=abcdefgh1234",  # the Kelvin sign folds to "k"
        "X-Api-Key: /abcdefgh12345",  # a header's value is hidden even when it is a path
        "cookie: true; session=abcdefgh12345",
    ],
)
def test_every_rule_is_seen_through_a_whole_pod(value: str) -> None:
    pod = {"metadata": {"name": "p", "annotations": {"note": value}}, "spec": {}}
    assert redact_obj(pod) != pod
    assert json_text_may_need_redaction(json.dumps(pod, separators=(",", ":")))


def test_a_credential_key_with_a_string_value_is_seen() -> None:
    document = {"env": [{"name": "x", "apiKey": "9f8e7d6c5b4a"}]}
    assert json_text_may_need_redaction(json.dumps(document, separators=(",", ":")))
    assert redact_obj(document) == {"env": [{"name": "x", "apiKey": redactor.MASK}]}


def trimmed_pod(index: int) -> dict[str, Any]:
    return {
        "metadata": {
            "name": f"web-{index}",
            "namespace": "payments",
            "uid": "5186eef7-7d03-4f14-a371-ced32bf77fa5",
            "creationTimestamp": "2026-11-26T10:00:00Z",
            "labels": {"app.kubernetes.io/part-of": "shop"},
        },
        "spec": {
            "automountServiceAccountToken": True,
            "serviceAccountName": "default",
            "containers": [{"name": "main", "image": "registry.example:5000/web:1.35"}],
            "volumes": [
                {
                    "name": "kube-api-access",
                    "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]},
                }
            ],
        },
    }


def test_ordinary_cluster_objects_pass_the_gate() -> None:
    """What fills a big cluster's exports must not be walked, or the gate saves nothing."""
    apiserver = {
        "command": [
            "kube-apiserver",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            "--etcd-servers=https://127.0.0.1:2379",
            "--authorization-mode=Node,RBAC",
            "--token-auth-file=/etc/kubernetes/tokens.csv",
            "--kubelet-client-key=/etc/kubernetes/pki/apiserver-kubelet-client.key",
            "--tls-private-key-file=/etc/kubernetes/pki/apiserver.key",
            "--enable-bootstrap-token-auth=true",
            "--service-account-key-file=/etc/kubernetes/pki/sa.pub",
        ]
    }
    binding = {
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "name": "view"},
        "subjects": [{"kind": "User", "name": "oidc:auditor@example.com"}],
    }
    secret = {"type": "kubernetes.io/service-account-token", "metadata": {"name": "t"}}
    finding = {
        "kind": "Pod",
        "detail": "token mounted; pod sets automountServiceAccountToken: true",
    }
    listing = {"items": [trimmed_pod(i) for i in range(3)] + [apiserver, binding, secret, finding]}
    for encoded in encodings(listing):
        assert not json_text_may_need_redaction(encoded), encoded


def test_an_unchanged_document_is_returned_as_it_is() -> None:
    listing = {"items": [trimmed_pod(i) for i in range(100)]}
    assert redact_obj(listing) is listing


def test_one_credential_in_a_long_list_is_redacted_and_the_rest_kept() -> None:
    pods = [trimmed_pod(i) for i in range(100)]
    pods[42]["metadata"]["labels"]["note"] = "password=hunter2hunter2"
    redacted = redact_obj({"items": pods})["items"]
    assert redacted[42]["metadata"]["labels"]["note"] == f"password={redactor.MASK}"
    assert redacted[41] is pods[41]  # looked at whole, not walked
    assert [p["metadata"]["name"] for p in redacted] == [p["metadata"]["name"] for p in pods]


def test_finding_lines_in_a_long_list_are_each_looked_at_whole() -> None:
    """A large cluster's evidence is many short lines ("Pod ns/x: ... token ..."); each is
    gated as a document, and only one that may hold a credential is walked."""
    lines = [
        f"Pod shop/web-{i}: automount is on but no admission-injected token" for i in range(99)
    ]
    lines.insert(7, "Pod shop/leak: --token=abcdefgh12345678")
    redacted = redact_obj({"content": lines})["content"]
    assert redacted[7] == f"Pod shop/leak: --token={redactor.MASK}"
    assert redacted[8] is lines[8]
    assert redacted[:7] == lines[:7]
    assert len(redacted) == len(lines)


def test_a_text_under_a_credential_key_is_masked_whatever_it_says() -> None:
    """The gate looks at a text alone; under a key like ``password`` the key decides."""
    assert redact_obj({"password": "hunter2hunter2"}) == {"password": redactor.MASK}
    assert redact_obj("hunter2hunter2", "password") == redactor.MASK


def test_a_value_that_is_not_json_is_walked() -> None:
    assert redact_obj({"args": ("--token=abcdefgh1234",)}) == {"args": [f"--token={redactor.MASK}"]}


def test_a_long_text_is_looked_at_whole_and_still_redacted() -> None:
    quiet = "Pod shop/web-1: token mounted; default true\n" * 100
    assert len(quiet) > redactor._LONG_TEXT
    assert redactor.redact(quiet) is quiet
    noisy = quiet + "Authorization: Bearer abcdefgh12345678\n"
    assert "abcdefgh12345678" not in redactor.redact(noisy)
