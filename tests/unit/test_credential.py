"""What a kubeconfig user sends, as client-go v0.35.4 sends it: every credential, in
client-go's precedence, and nothing of any secret in the output."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from kubepci.access.credential import HEADER, TLS, classify_user
from kubepci.access.service_account_token import jwt_claims, service_account_token
from tests.builders import cert_data_user, client_certificate, exec_user

DATA = Path(__file__).resolve().parents[1] / "data" / "identity"
Obj = dict[str, Any]


def unsigned_jwt(claims: Obj) -> str:
    """A JWT with these claims and a fake signature: decodable, never valid."""

    def part(value: Obj) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'kid': 'test'})}.{part(claims)}.bm90LWEtc2lnbmF0dXJl"


def recorded_claims(name: str) -> Obj:
    return json.loads((DATA / f"claims-{name}.json").read_text())


LEGACY_CLAIMS = {
    "iss": "kubernetes/serviceaccount",
    "kubernetes.io/serviceaccount/namespace": "payments",
    "kubernetes.io/serviceaccount/secret.name": "payments-default-legacy-token",
    "kubernetes.io/serviceaccount/service-account.name": "default",
    "kubernetes.io/serviceaccount/service-account.uid": "0d7c",
    "sub": "system:serviceaccount:payments:default",
}
OIDC_CLAIMS = {"iss": "https://idp.example.com", "sub": "jane", "exp": 1796118579}


def kinds(user: Obj, base: Path = Path(".")) -> tuple[str, list[tuple[str, str]]]:
    credential = classify_user(user, base)
    return credential.kind, [(s.kind, s.channel) for s in credential.sent]


# ------------------------------------------------------------------ precedence table
# Each row: the user entry, the primary kind, and every credential sent (kind, channel).
CASES: dict[str, tuple[Obj, str, list[tuple[str, str]]]] = {
    "exec alone": (exec_user(), "exec", [("exec", HEADER)]),
    "oidc auth-provider": (
        {"auth-provider": {"name": "oidc"}},
        "auth-provider",
        [("auth-provider", HEADER)],
    ),
    "token alone": ({"token": "opaque"}, "token", [("token", HEADER)]),
    "username alone sends basic auth": (
        {"username": "admin"},
        "basic-auth",
        [("basic-auth", HEADER)],
    ),
    "password alone sends nothing": ({"password": "p"}, "none", []),
    "token wins over exec": ({**exec_user(), "token": "opaque"}, "token", [("token", HEADER)]),
    "basic auth wins over exec": (
        {**exec_user(), "username": "u", "password": "p"},
        "basic-auth",
        [("basic-auth", HEADER)],
    ),
    "a certificate silences exec": (
        {**exec_user(), **cert_data_user("jane")},
        "client-certificate",
        [("client-certificate", TLS)],
    ),
    "token and certificate are both sent": (
        {**cert_data_user("jane"), "token": "opaque"},
        "client-certificate",
        [
            ("client-certificate", TLS),
            ("token", HEADER),
        ],
    ),
    "auth-provider and certificate are both sent": (
        {**cert_data_user("jane"), "auth-provider": {"name": "oidc"}},
        "client-certificate",
        [("client-certificate", TLS), ("auth-provider", HEADER)],
    ),
    "token fills the header before the auth-provider": (
        {"auth-provider": {"name": "oidc"}, "token": "opaque"},
        "token",
        [("token", HEADER)],
    ),
    "nothing": ({}, "none", []),
    "empty values are nothing": ({"exec": None, "token": ""}, "none", []),
    # validation.go: kubectl refuses these entries outright.
    "token with basic auth": ({"token": "t", "username": "u"}, "invalid", [("token", HEADER)]),
    "token with a password": ({"token": "t", "password": "p"}, "invalid", [("token", HEADER)]),
    "exec with auth-provider": (
        {**exec_user(), "auth-provider": {"name": "oidc"}},
        "invalid",
        [("exec", HEADER)],
    ),
    "exec v1 without interactiveMode": (
        {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "kubelogin"}},
        "invalid",
        [("exec", HEADER)],
    ),
    "exec v1beta1 defaults interactiveMode": (
        {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "aws"}},
        "exec",
        [("exec", HEADER)],
    ),
    "exec without apiVersion": (
        {"exec": {"command": "kubelogin", "interactiveMode": "Never"}},
        "invalid",
        [("exec", HEADER)],
    ),
    "removed gcp auth-provider": (
        {"auth-provider": {"name": "gcp"}},
        "invalid",
        [("auth-provider", HEADER)],
    ),
    "unknown auth-provider": (
        {"auth-provider": {"name": "vault"}},
        "invalid",
        [("auth-provider", HEADER)],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_client_go_precedence(case: str) -> None:
    user, kind, sent = CASES[case]
    assert kinds(user) == (kind, sent)


def test_certificate_without_key_is_refused_and_not_sent() -> None:
    cert, _key = client_certificate("jane")
    credential = classify_user({"client-certificate-data": base64.b64encode(cert).decode()})
    assert credential.kind == "invalid"
    assert "without client-key" in credential.refused
    assert credential.tls_certificate is None
    assert any("without its key" in u for u in credential.unused)


def test_missing_key_file_is_refused_without_reading_any_key(tmp_path: Path) -> None:
    cert, _key = client_certificate("jane")
    (tmp_path / "jane.crt").write_bytes(cert)
    user = {"client-certificate": "jane.crt", "client-key": "jane.key"}
    credential = classify_user(user, tmp_path)
    assert "client-key jane.key cannot be opened" in credential.refused
    (tmp_path / "jane.key").write_text("not read by the suite", encoding="utf-8")
    credential = classify_user(user, tmp_path)
    assert credential.kind == "client-certificate"
    assert credential.certificate is not None and credential.certificate.common_name == "jane"
    assert "not read by the suite" not in json.dumps(credential.to_json())


def test_unused_material_is_reported() -> None:
    credential = classify_user({**exec_user("/opt/bin/kubelogin"), "token": "opaque"})
    assert credential.unused == (
        "exec plugin kubelogin: not run, because static credentials are set",
    )
    assert not credential.uses_plugin


def test_token_file_is_read_relative_to_the_kubeconfig_and_wins(tmp_path: Path) -> None:
    (tmp_path / "sa.token").write_text(unsigned_jwt(LEGACY_CLAIMS) + "\n", encoding="utf-8")
    credential = classify_user({"tokenFile": "sa.token", "token": "inline"}, tmp_path)
    assert credential.kind == "service-account-token"
    assert credential.header is not None and credential.header.kind == "token-file"
    assert credential.unused == ("the inline token: tokenFile is read instead",)


def test_unreadable_token_file_falls_back_to_the_inline_token(tmp_path: Path) -> None:
    credential = classify_user({"tokenFile": "gone", "token": "opaque"}, tmp_path)
    assert credential.header is not None and credential.header.kind == "token"
    assert credential.unused == ("tokenFile gone: unreadable, the inline token is sent",)
    alone = classify_user({"tokenFile": "gone"}, tmp_path)
    assert alone.kind == "token-file"
    assert "not readable here" in alone.detail


def test_impersonation_needs_as() -> None:
    credential = classify_user(
        {"token": "opaque", "as": "bob", "as-groups": ["ops"], "as-user-extra": {"scope": ["x"]}}
    )
    assert credential.impersonation is not None
    assert credential.impersonation.to_json() == {
        "user": "bob",
        "uid": "",
        "groups": ["ops"],
        "extra_keys": ["scope"],
    }
    assert credential.detail.endswith("; impersonates bob")
    ignored = classify_user({"token": "opaque", "as-groups": ["ops"]})
    assert ignored.impersonation is None
    assert ignored.unused == ("impersonation fields without 'as': client-go sends none",)


# ------------------------------------------------------------------ ServiceAccount tokens


@pytest.mark.parametrize("claims", [LEGACY_CLAIMS, recorded_claims("legacy")])
def test_legacy_service_account_token(claims: Obj) -> None:
    credential = classify_user({"token": unsigned_jwt(claims)})
    token = credential.service_account
    assert credential.kind == "service-account-token"
    assert token is not None and token.legacy
    assert (token.namespace, token.name, token.secret) == (
        "payments",
        "default",
        "payments-default-legacy-token",
    )
    assert token.lifetime is None
    assert "legacy secret-based token of ServiceAccount payments/default" in credential.detail


def test_recorded_bound_token_claims() -> None:
    claims = recorded_claims("bound-capped-1h")
    token = service_account_token(claims)
    assert token is not None and not token.legacy
    assert token.ref == "ServiceAccount payments/payments-api"
    assert token.lifetime == 3600
    assert token.bound_to == ""
    assert "bound to no object, lives 3600s" in token.describe()


def test_recorded_uncapped_bound_token_claims() -> None:
    token = service_account_token(recorded_claims("bound-48h"))
    assert token is not None and token.ref == "ServiceAccount payments/default"
    assert token.lifetime == 48 * 3600


def test_recorded_pod_bound_token_claims() -> None:
    token = service_account_token(recorded_claims("pod-bound-10m"))
    assert token is not None
    assert token.bound_to == "Pod payments/payments-api"
    assert token.lifetime == 600


def test_other_jwts_are_not_service_accounts() -> None:
    credential = classify_user({"token": unsigned_jwt(OIDC_CLAIMS)})
    assert credential.kind == "token"
    assert credential.service_account is None
    assert credential.detail == (
        "bearer token in the kubeconfig: a JWT from https://idp.example.com, expires at 1796118579"
    )


@pytest.mark.parametrize(
    "token",
    ["opaque", "a.b", "a.b.c", "e30.e30.x", unsigned_jwt({"sub": "x"}).replace(".", "", 1)],
)
def test_non_jwts_are_static_tokens(token: str) -> None:
    assert jwt_claims(token) is None or service_account_token(jwt_claims(token) or {}) is None
    assert classify_user({"token": token}).kind == "token"


def test_subject_only_service_account_jwt() -> None:
    token = service_account_token(
        {"sub": "system:serviceaccount:ci:deployer", "iss": "https://oidc.example", "exp": 9}
    )
    assert token is not None and (token.namespace, token.name) == ("ci", "deployer")


def test_no_secret_reaches_the_output(tmp_path: Path) -> None:
    secret_token = unsigned_jwt(LEGACY_CLAIMS)
    users = [
        {"token": secret_token},
        {"token": "s3cr3t-opaque-value"},
        {"username": "admin", "password": "hunter2-password"},
        {**cert_data_user("jane"), "token": "s3cr3t-opaque-value"},
    ]
    for user in users:
        credential = classify_user(user, tmp_path)
        text = json.dumps(credential.to_json()) + credential.detail
        for secret in ("s3cr3t-opaque-value", "hunter2-password", secret_token):
            assert secret not in text
        assert secret_token.split(".")[1] not in text
        assert "PRIVATE KEY" not in text


def test_redaction_keeps_the_credential_evidence() -> None:
    """The evidence holds no secret, so the report's redaction must not blank any of it."""
    from kubepci.report.redact import redact_obj

    for user in (
        {**cert_data_user("jane"), "token": unsigned_jwt(LEGACY_CLAIMS)},
        {"token": unsigned_jwt(recorded_claims("pod-bound-10m")), "as": "bob"},
        {**exec_user(), "tokenFile": "/nonexistent"},
        {"username": "admin", "password": "p"},
    ):
        evidence = classify_user(user).to_json()
        assert redact_obj(evidence) == evidence
