"""The one redaction function, and the guard that applies it to every pytest report."""

from __future__ import annotations

import base64
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from kubepci import catalogue
from kubepci.report import redact as redaction
from kubepci.report.guard import learn_credentials, scrub_report
from kubepci.report.redact import (
    MASK,
    redact,
    redact_argv,
    redact_html,
    redact_obj,
    register_secret,
    secrets_in_kubeconfig,
)
from kubepci.report.results import junit_properties, payload
from kubepci.verdict import CheckResult, Evidence, Finding, Verdict

PEM_KEY = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
    "-----END RSA PRIVATE KEY-----\n"
)
JWT = (
    "eyJhbGciOiJSUzI1NiIsImtpZCI6ImFiYyJ9.eyJpc3MiOiJrdWJlcm5ldGVzIiwic3ViIjoic3lzdGVtIn0"
    ".c2lnbmF0dXJlLXBhcnQtb2YtdGhlLXRva2Vu"
)


@pytest.fixture(autouse=True)
def _clean_registry() -> Iterator[None]:
    redaction.forget_secrets()
    yield
    redaction.forget_secrets()


# ------------------------------------------------------------------ what must disappear
@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("kubectl --token=s3cr3t-bearer-value get pods", "s3cr3t-bearer-value"),
        ("Authorization: Bearer abc.def-ghi_jkl", "abc.def-ghi_jkl"),
        ('{"authorization": "Basic dXNlcjpwYXNzd29yZA=="}', "dXNlcjpwYXNzd29yZA"),
        ("GET https://admin:hunter22@10.0.0.1:6443/api", "hunter22"),
        ("url?access_token=abcdef123456&watch=1", "abcdef123456"),
        ("password=correct-horse-battery", "correct-horse-battery"),
        ('{"client-secret": "oidc-client-s3cret"}', "oidc-client-s3cret"),
        ("password: Sup3rS3cret!", "Sup3rS3cret"),
        ("client_secret: s3cr3t-value", "s3cr3t-value"),
        ("  client-secret: s3cr3t-value", "s3cr3t-value"),
        ("apiKey: AKIA1234567890", "AKIA1234567890"),
        ("Cookie: session=0123456789abcdef", "0123456789abcdef"),
        ("Authorization: 0123456789abcdef0123", "0123456789abcdef0123"),
        (f"body: {JWT} trailing", "eyJhbGciOiJSUzI1NiIs"),
        (f"token {JWT}", "c2lnbmF0dXJlLXBhcnQ"),
        (PEM_KEY, "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMx"),
        ("-----BEGIN EC PRIVATE KEY----- MHcCAQEEIIrY truncated excerpt", "MHcCAQEEIIrY"),
        (
            "client-key-data: " + base64.b64encode(PEM_KEY.encode()).decode(),
            base64.b64encode(PEM_KEY.encode()).decode()[:40],
        ),
    ],
)
def test_credentials_are_redacted(text: str, secret: str) -> None:
    out = redact(text)
    assert secret not in out
    assert MASK in out


# ------------------------------------------------------------------ what must stay: evidence
@pytest.mark.parametrize(
    "text",
    [
        "--token-auth-file=/etc/kubernetes/kubepci/static-tokens.csv (set on pod kube-system/x)",
        "--service-account-max-token-expiration=24h",
        "--service-account-extend-token-expiration=true",
        "pod sets automountServiceAccountToken: false",
        "kubernetes.io/legacy-token-last-used=2026-01-01",
        "cannot load credentials: Invalid kube-config file",
        'www-authenticate: Basic realm="kubernetes-master"',
        "HTTP Basic authentication is enabled on port 10250",
        "static bearer token in the kubeconfig",
        "ServiceAccount payments/default → ClusterRoleBinding x → ClusterRole cluster-admin",
        "credentials_sent: none",
        "GET https://192.0.2.2:6443/api/v1/secrets → 403",
        "--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics",
        "Scheduler allows only the default paths without authorization: 1 finding(s)",
        "Secret payments/payments-default-legacy-token: secret-based token for ServiceAccount",
        "Secret payments/db-password: mounted by 3 pods",
        "ClusterRoleBinding legacy-token: grants get on core/secrets",
        "",
    ],
)
def test_evidence_is_left_alone(text: str) -> None:
    assert redact(text) == text


def test_a_csr_request_is_public_evidence_but_a_key_is_not() -> None:
    csr = base64.b64encode(
        b"-----BEGIN CERTIFICATE REQUEST-----\nMIICWjCCAUICAQAwFTETMBEGA1UEAwwKa3ViZS1hZG1pbg\n"
        b"-----END CERTIFICATE REQUEST-----\n"
    ).decode()
    assert redact(csr) == csr
    key = base64.b64encode(PEM_KEY.encode()).decode()
    assert redact(key) == MASK


def test_redaction_is_idempotent() -> None:
    text = f"Authorization: Bearer {JWT}; password=x1y2z3w4; {PEM_KEY}"
    once = redact(text)
    assert redact(once) == once


def test_known_credentials_are_redacted_literally() -> None:
    # Looks like nothing: only the registry can know it is a credential.
    register_secret("plain-looking-value-42")
    register_secret("short")  # too short to replace literally without mangling evidence
    assert redact("x plain-looking-value-42 y") == f"x {MASK} y"
    assert redact("kubernetes-short-name") == "kubernetes-short-name"


def test_structures_redact_by_key_and_by_content() -> None:
    data = {
        "headers": {"authorization": "Bearer zzz", "content-type": "application/json"},
        "token": "abc-123-def",
        "automountServiceAccountToken": True,
        "tokenExpirationSeconds": 3600,
        "secrets": [{"name": "default-token-abcde"}],
        "body_excerpt": f"id_token={JWT}",
        "nested": [{"password": "pw-0001"}],
    }
    out = redact_obj(data)
    assert out["headers"] == {"authorization": MASK, "content-type": "application/json"}
    assert out["token"] == MASK
    assert out["automountServiceAccountToken"] is True
    assert out["tokenExpirationSeconds"] == 3600
    assert out["secrets"] == [{"name": "default-token-abcde"}]
    assert JWT not in out["body_excerpt"]
    assert out["nested"] == [{"password": MASK}]


def test_command_line() -> None:
    argv = [
        "pytest",
        "--pyargs",
        "tests_pci",
        "--kubeconfig=/home/me/.kube/config",
        "--token=abc123abc",
        "--password",
        "hunter2hunter2",
        "--metadata",
        "api_token",
        "val-0001",
        "-k",
        "token",
        "--token-lifetime-limit",
        "24h",
    ]
    assert redact_argv(argv) == [
        "pytest",
        "--pyargs",
        "tests_pci",
        "--kubeconfig=/home/me/.kube/config",
        f"--token={MASK}",
        "--password",
        MASK,
        "--metadata",
        "api_token",
        MASK,
        "-k",
        "token",
        "--token-lifetime-limit",
        "24h",
    ]


# ------------------------------------------------------------------ kubeconfig credentials
def _kubeconfig(tmp_path: Path) -> Path:
    token_file = tmp_path / "token"
    token_file.write_text("file-held-token-value-77\n")
    key = base64.b64encode(PEM_KEY.encode()).decode()
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "a",
        "clusters": [{"name": "c", "cluster": {"server": "https://192.0.2.1:6443"}}],
        "contexts": [{"name": "a", "context": {"cluster": "c", "user": "static"}}],
        "users": [
            {"name": "static", "user": {"token": "static-kubeconfig-token-01"}},
            {"name": "basic", "user": {"username": "admin", "password": "basic-password-02"}},
            {
                "name": "cert",
                "user": {"client-certificate-data": "Y2VydA==", "client-key-data": key},
            },
            {"name": "file", "user": {"tokenFile": str(token_file)}},
            {
                "name": "oidc",
                "user": {
                    "auth-provider": {
                        "name": "oidc",
                        "config": {"id-token": "oidc-id-token-03", "client-secret": "cs-000004"},
                    }
                },
            },
            {
                "name": "exec",
                "user": {
                    "exec": {
                        "command": "aws",
                        "env": [
                            {"name": "AWS_SECRET_ACCESS_KEY", "value": "exec-env-secret-05"},
                            {"name": "AWS_REGION", "value": "eu-west-1-region"},
                        ],
                    }
                },
            },
        ],
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(document))
    return path


def test_every_credential_in_a_kubeconfig_is_found(tmp_path: Path) -> None:
    found = set(secrets_in_kubeconfig(_kubeconfig(tmp_path)))
    for value in (
        "static-kubeconfig-token-01",
        "basic-password-02",
        "file-held-token-value-77",
        "oidc-id-token-03",
        "cs-000004",
        "exec-env-secret-05",
    ):
        assert value in found
    assert PEM_KEY in found or PEM_KEY.strip() in {f.strip() for f in found}
    assert "eu-west-1-region" not in found
    assert "Y2VydA==" not in found  # a certificate is public


def test_learned_credentials_are_redacted_everywhere(tmp_path: Path) -> None:
    learn_credentials([str(_kubeconfig(tmp_path))])
    assert redact("leak: static-kubeconfig-token-01 and cs-000004") == f"leak: {MASK} and {MASK}"


def test_unreadable_kubeconfig_yields_nothing(tmp_path: Path) -> None:
    assert secrets_in_kubeconfig(tmp_path / "missing") == []
    bad = tmp_path / "bad"
    bad.write_text(": not yaml : [")
    assert secrets_in_kubeconfig(bad) == []


# ------------------------------------------------------------------ applied to the outputs
def _result(body: str) -> CheckResult:
    return CheckResult(
        "api-server-anonymous-probe",
        "ctx",
        Verdict.FAILED,
        reason=f"server said {body}",
        findings=[Finding("Pod", "kube-system", "kube-apiserver-x", f"answered: {body}")],
        evidence=[
            Evidence(
                "Unauthenticated requests",
                [
                    {
                        "method": "GET",
                        "url": "https://u:pw-123456@192.0.2.2:6443/api",
                        "status": 200,
                        "error": "",
                        "headers": {"set-cookie": "session=abcdef"},
                        "body_excerpt": body,
                        "credentials_sent": "none",
                    }
                ],
                "probe",
            )
        ],
    )


def test_payload_is_redacted_at_the_source() -> None:
    cat = catalogue.load()
    check = cat.checks["api-server-anonymous-probe"]
    data = payload(_result(f"Bearer {JWT}"), check, cat)
    text = repr(data) + repr(junit_properties(data))
    assert JWT[:20] not in text
    assert "pw-123456" not in text
    assert "session=abcdef" not in text
    assert data["findings"][0]["name"] == "kube-apiserver-x"


def test_guard_scrubs_every_part_of_a_report() -> None:
    report = pytest.TestReport(
        nodeid="t::x",
        location=("t", 1, "x"),
        keywords={},
        outcome="failed",
        longrepr="failed: password=open-sesame-1",
        when="call",
        sections=[("Captured stdout call", f"Authorization: Bearer {JWT}")],
        user_properties=[("recommendation", "--token=prop-token-1"), ("n", 3)],
    )
    report.extras = [{"format_type": "html", "content": "<p>token=extra-token-1</p>"}]  # type: ignore[attr-defined]
    report.kubepci = {"reason": "secret: s3cret-999"}  # type: ignore[attr-defined]
    scrub_report(report)
    dumped = repr(report.__dict__)
    for leaked in ("open-sesame-1", JWT[:20], "prop-token-1", "extra-token-1", "s3cret-999"):
        assert leaked not in dumped
    assert ("n", 3) in report.user_properties


def test_guard_keeps_skip_locations() -> None:
    report = pytest.TestReport(
        nodeid="t::x",
        location=("t", 1, "x"),
        keywords={},
        outcome="skipped",
        longrepr=("t.py", 3, "manual: token=skip-token-123"),
        when="call",
    )
    scrub_report(report)
    assert report.longrepr == ("t.py", 3, f"manual: token={MASK}")


# ------------------------------------------------------------------ HTML extras
def test_html_evidence_keeps_its_markup_and_its_harmless_values() -> None:
    """Bug: patterns over raw markup read "...Token: true</li><li>Pod" as one credential
    and replaced it up to the next space, eating the next item and unbalancing the list."""
    items = "".join(
        f"<li>Pod shop/web-{i}: token mounted; ServiceAccount shop/sa sets "
        "automountServiceAccountToken: true</li>"
        for i in range(3)
    )
    markup = f"<details><summary>pods</summary><ul>{items}</ul></details>"
    assert redact_html(markup) == markup
    report = pytest.TestReport("t::x", ("t", 1, "x"), {}, "passed", None, "call")
    report.extras = [{"format_type": "html", "content": markup}]  # type: ignore[attr-defined]
    scrub_report(report)
    assert report.extras[0]["content"] == markup  # type: ignore[attr-defined]


def test_html_evidence_is_redacted_as_the_reader_sees_it() -> None:
    markup = (
        "<pre>{&quot;password&quot;: &quot;open-sesame-1&quot;}</pre>"
        '<a href="https://u:hunter2hunter2@h/">x</a><p>Authorization: Bearer abcdefgh12345</p>'
    )
    clean = redact_html(markup)
    for leaked in ("open-sesame-1", "hunter2hunter2", "abcdefgh12345"):
        assert leaked not in clean
    assert clean.count("<p>") == 1 and clean.endswith("</p>")
    assert "&quot;password&quot;: &quot;[REDACTED]&quot;" in clean


def test_the_gate_knows_every_letter_that_folds_to_ascii() -> None:
    folding = {
        chr(c)
        for c in range(128, sys.maxunicode + 1)
        if re.fullmatch("(?i)[a-z]", chr(c)) or any(x.isascii() for x in chr(c).lower())
    }
    assert folding == set(redaction._J_FOLDS.pattern.strip("[]"))
