"""What a kubeconfig user sends to the API server, as client-go (kubectl) would send it.

Classified from the kubeconfig alone, without contacting any cluster. The rules follow
client-go v0.35.4 line by line:

- ``tools/clientcmd/validation.go`` validateAuthInfo: entries kubectl refuses (a token
  with basic auth, a certificate without its key, an exec plugin with an auth-provider);
- ``tools/clientcmd/client_config.go`` getUserIdentificationPartialConfig: ``token`` wins
  over ``tokenFile``, but the file is still handed on; impersonation needs ``as``;
- ``transport/round_trippers.go`` HTTPWrappersForConfig and
  NewBearerAuthWithRefreshRoundTripper: one Authorization header (bearer token, else basic
  auth), the token file re-read on every request and preferred when readable;
- ``rest/transport.go`` TransportConfig and ``plugin/pkg/client/auth/exec/exec.go``
  UpdateTransportConfig: an exec plugin is not run at all when a token, basic auth or a
  client certificate with its key is set; an auth-provider only fills an empty header;
- ``transport/config.go`` HasCertAuth: the client certificate is sent in the TLS
  handshake whenever certificate and key are both set, alongside any header.

Every credential sent is reported. No token, password or key leaves this module: tokens
are read only to decode their JWT claims (never verified, never stored), and key files
are only checked for existence.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from kubepci.access.service_account_token import (
    jwt_claims,
    number,
    service_account_token,
)
from kubepci.records.credentials import (
    HEADER,
    TLS,
    ClientCertificate,
    Credential,
    Impersonation,
    SentCredential,
)

Obj = dict[str, Any]

# client-go/plugin/pkg/client/auth: kubectl registers oidc; gcp and azure are stubs that
# fail with "has been removed"; any other name is "no Auth Provider found".
WORKING_AUTH_PROVIDERS = ("oidc",)
REMOVED_AUTH_PROVIDERS = ("gcp", "azure")


@dataclass
class _Reading:
    """What was found while reading one user entry (kept out of the frozen result)."""

    sent: list[SentCredential] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def parse_certificate(pem: bytes) -> ClientCertificate:
    cert = x509.load_pem_x509_certificate(pem)
    subject = cert.subject
    cn = subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    orgs = subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return ClientCertificate(
        common_name=str(cn[0].value) if cn else "",
        organizations=tuple(str(o.value) for o in orgs),
        issuer=cert.issuer.rfc4514_string(),
        not_after=cert.not_valid_after_utc.isoformat(),
        serial=format(cert.serial_number, "x"),
    )


def _resolve(path: str, base: Path) -> Path:
    # clientcmd resolves a user's file references against the kubeconfig's folder.
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else base / candidate


def _certificate(user: Obj, base: Path) -> ClientCertificate | None:
    try:
        if user.get("client-certificate-data"):
            return parse_certificate(base64.b64decode(user["client-certificate-data"]))
        if user.get("client-certificate"):
            return parse_certificate(_resolve(str(user["client-certificate"]), base).read_bytes())
    except (OSError, ValueError):
        return None
    return None


def _bearer(kind: str, where: str, token: str | None) -> SentCredential:
    """A bearer token, described by what its claims say (never by its value)."""
    if token is None:
        return SentCredential(kind, HEADER, f"bearer token {where} (not readable here)")
    claims = jwt_claims(token)
    account = service_account_token(claims) if claims else None
    if account:
        return SentCredential(
            kind, HEADER, f"bearer token {where}: {account.describe()}", None, account
        )
    if claims:
        expires = number(claims.get("exp"))
        until = f", expires at {expires}" if expires is not None else ", no expiry"
        issuer = str(claims.get("iss", "")) or "?"
        return SentCredential(kind, HEADER, f"bearer token {where}: a JWT from {issuer}{until}")
    return SentCredential(kind, HEADER, f"static bearer token {where}")


def _read_token_file(path: Path) -> str | None:
    try:
        # transport/token_source.go: the file's content, whitespace trimmed.
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None


def _exec_name(user: Obj) -> str:
    command = str((user.get("exec") or {}).get("command", ""))
    return Path(command).name or "?"


def _validate(user: Obj, base: Path, reading: _Reading) -> None:
    """client-go/tools/clientcmd/validation.go validateAuthInfo: what kubectl refuses."""
    methods = []
    if user.get("token"):
        methods.append("token")
    if user.get("username") or user.get("password"):
        methods.append("basicAuth")
    if len(methods) > 1:
        reading.refused.append("more than one authentication method found (token and basic auth)")
    has_cert = bool(user.get("client-certificate") or user.get("client-certificate-data"))
    if has_cert:
        if user.get("client-certificate") and user.get("client-certificate-data"):
            reading.refused.append("client-certificate-data and client-certificate both set")
        if user.get("client-key") and user.get("client-key-data"):
            reading.refused.append("client-key-data and client-key both set")
        if not (user.get("client-key") or user.get("client-key-data")):
            reading.refused.append("a client certificate without client-key or client-key-data")
        for key in ("client-certificate", "client-key"):
            # Existence only: clientcmd opens the files; the suite never reads a key.
            if user.get(key) and not _resolve(str(user[key]), base).is_file():
                reading.refused.append(f"{key} {user[key]} cannot be opened")
    exec_config = user.get("exec")
    if isinstance(exec_config, dict) and exec_config:
        if user.get("auth-provider"):
            reading.refused.append("an exec plugin in combination with an auth-provider")
        if not exec_config.get("command"):
            reading.refused.append("an exec plugin without a command")
        api_version = str(exec_config.get("apiVersion") or "")
        if not api_version:
            reading.refused.append("an exec plugin without an apiVersion")
        # api/v1/defaults.go defaults interactiveMode only for the beta and alpha APIs.
        mode = exec_config.get("interactiveMode") or (
            "IfAvailable" if api_version.endswith(("/v1beta1", "/v1alpha1")) else ""
        )
        if mode not in ("Never", "IfAvailable", "Always"):
            reading.refused.append(f"an exec plugin with interactiveMode {mode or 'unset'}")
    provider = str((user.get("auth-provider") or {}).get("name", ""))
    if user.get("auth-provider") and provider not in WORKING_AUTH_PROVIDERS:
        why = "has been removed" if provider in REMOVED_AUTH_PROVIDERS else "is not built in"
        reading.refused.append(f"the {provider or '?'} auth-provider {why} (client-go v0.35)")


def classify_user(user: Obj, base: Path = Path(".")) -> Credential:
    """Say what client-go sends for a kubeconfig ``users[].user`` entry."""
    reading = _Reading()
    _validate(user, base, reading)

    # TLS: transport/config.go HasCertAuth: certificate and key both set.
    has_cert = bool(user.get("client-certificate-data") or user.get("client-certificate"))
    has_key = bool(user.get("client-key-data") or user.get("client-key"))
    certificate = _certificate(user, base) if has_cert else None
    if has_cert and has_key:
        detail = (
            f"client certificate CN={certificate.common_name} "
            f"O={','.join(certificate.organizations) or '-'}"
            if certificate
            else "client certificate (unparseable)"
        )
        reading.sent.append(SentCredential("client-certificate", TLS, detail, certificate))
    elif has_cert:
        reading.unused.append("a client certificate without its key: not sent")

    # The Authorization header: bearer token, else basic auth, else a plugin.
    token, token_file = str(user.get("token") or ""), str(user.get("tokenFile") or "")
    file_token = _read_token_file(_resolve(token_file, base)) if token_file else None
    has_basic = bool(user.get("username"))  # transport/config.go HasBasicAuth
    if token_file and (file_token or not token):
        # NewBearerAuthWithRefreshRoundTripper: the file is re-read on each request and
        # wins whenever it can be read; the inline token is only its fallback.
        reading.sent.append(_bearer("token-file", f"read from {token_file}", file_token))
        if token:
            reading.unused.append("the inline token: tokenFile is read instead")
    elif token:
        reading.sent.append(_bearer("token", "in the kubeconfig", token))
        if token_file:
            reading.unused.append(f"tokenFile {token_file}: unreadable, the inline token is sent")
    elif has_basic:
        reading.sent.append(
            SentCredential(
                "basic-auth",
                HEADER,
                "username and password (the API server has accepted no basic auth since v1.19)",
            )
        )
    elif user.get("password"):
        reading.unused.append("a password without a username: no basic auth is sent")

    has_header = any(s.channel == HEADER for s in reading.sent)
    if user.get("exec"):
        # exec.go UpdateTransportConfig returns early when any static credential is set.
        if has_header or (has_cert and has_key):
            reading.unused.append(
                f"exec plugin {_exec_name(user)}: not run, because static credentials are set"
            )
        else:
            # What the plugin returns (a token, or a client certificate) shows only when
            # it runs; the API server's SelfSubjectReview says whom it authenticated.
            reading.sent.append(SentCredential("exec", HEADER, f"exec plugin {_exec_name(user)}"))
    elif user.get("auth-provider"):
        provider = str((user.get("auth-provider") or {}).get("name", "")) or "?"
        if has_header:
            reading.unused.append(f"auth-provider {provider}: the header is already set")
        else:
            sent = SentCredential("auth-provider", HEADER, f"auth-provider {provider}")
            reading.sent.append(sent)

    impersonation = None
    if user.get("as"):  # client_config.go: impersonation only when a user name is given
        extra = user.get("as-user-extra") or {}
        impersonation = Impersonation(
            str(user["as"]),
            str(user.get("as-uid") or ""),
            tuple(str(g) for g in user.get("as-groups") or []),
            tuple(sorted(str(k) for k in extra)) if isinstance(extra, dict) else (),
        )
    elif user.get("as-groups") or user.get("as-uid") or user.get("as-user-extra"):
        reading.unused.append("impersonation fields without 'as': client-go sends none")

    return _summarise(reading, certificate, impersonation)


def _summarise(
    reading: _Reading, certificate: ClientCertificate | None, impersonation: Impersonation | None
) -> Credential:
    sent = tuple(reading.sent)
    refused = "; ".join(reading.refused)
    tls = next((s for s in sent if s.channel == TLS), None)
    header = next((s for s in sent if s.channel == HEADER), None)
    if refused:
        kind, detail = "invalid", f"client-go refuses this user: {refused}"
    elif tls:
        kind = "client-certificate"
        detail = tls.detail + (f", sent alongside {header.detail}" if header else "")
    elif header:
        kind = "service-account-token" if header.service_account else header.kind
        detail = header.detail
    else:
        kind, detail = "none", "no credentials"
    if impersonation:
        detail += f"; impersonates {impersonation.user}"
    return Credential(
        kind, detail, certificate, sent, tuple(reading.unused), impersonation, refused
    )
