"""Credentials as the suite records them: types and public facts, never the secret.

Records only: built from a kubeconfig by :mod:`kubepci.access.credential` (which follows
client-go), judged by :mod:`kubepci.analysis.credentials`, stored with the run's evidence
and rebuilt from it by :func:`credential_from_json` for a replay.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]

SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"
# pkg/serviceaccount/legacy.go: secret-based tokens carry this issuer and these claims.
LEGACY_ISSUER = "kubernetes/serviceaccount"
LEGACY_NAMESPACE = "kubernetes.io/serviceaccount/namespace"
LEGACY_NAME = "kubernetes.io/serviceaccount/service-account.name"
LEGACY_UID = "kubernetes.io/serviceaccount/service-account.uid"
LEGACY_SECRET = "kubernetes.io/serviceaccount/secret.name"


@dataclass(frozen=True)
class ServiceAccountToken:
    """The claims of a ServiceAccount JWT, decoded without verifying the signature.

    Only the API server can verify a token; what is read here is what the token says
    about itself (pkg/serviceaccount/claims.go and legacy.go), which is enough to say
    which kind it is and how long it lives. Names and times only.
    """

    namespace: str
    name: str
    uid: str
    issuer: str
    legacy: bool  # secret-based: issuer kubernetes/serviceaccount, no expiry
    secret: str  # legacy: the Secret holding it; bound: the Secret it is bound to
    bound_to: str  # "Pod ns/name", "Secret ns/name", "Node name", or "" (TokenRequest only)
    issued_at: int | None
    expires_at: int | None

    @property
    def ref(self) -> str:
        return f"ServiceAccount {self.namespace}/{self.name}"

    @property
    def lifetime(self) -> int | None:
        """Seconds from issue to expiry; None when the token never expires."""
        if self.expires_at is None:
            return None
        return self.expires_at - (self.issued_at or self.expires_at)

    def describe(self) -> str:
        if self.legacy:
            return (
                f"a legacy secret-based token of {self.ref} (Secret {self.secret or '?'}):"
                " it never expires"
            )
        life = self.lifetime
        lives = f"lives {life}s" if life is not None else "never expires"
        bound = f"bound to {self.bound_to}" if self.bound_to else "bound to no object"
        return f"a TokenRequest token of {self.ref}, {bound}, {lives}"

    def to_json(self) -> Obj:
        return {
            "service_account": f"{self.namespace}/{self.name}",
            "uid": self.uid,
            "issuer": self.issuer,
            "legacy": self.legacy,
            "secret_name": self.secret,
            "bound_to": self.bound_to,
            "issued_at": self.issued_at,
            "expires_at": self.expires_at,
            "lifetime_seconds": self.lifetime,
        }


HEADER = "authorization header"
TLS = "tls client certificate"


@dataclass(frozen=True)
class ClientCertificate:
    """The public facts of a client certificate: who it names and until when."""

    common_name: str
    organizations: tuple[str, ...]
    issuer: str
    not_after: str
    serial: str

    def to_json(self) -> Obj:
        return {
            "common_name": self.common_name,
            "organizations": list(self.organizations),
            "issuer": self.issuer,
            "not_after": self.not_after,
            "serial": self.serial,
        }


@dataclass(frozen=True)
class SentCredential:
    """One credential client-go puts on the wire: a header or a TLS client certificate."""

    kind: str  # client-certificate, token, token-file, basic-auth, exec, auth-provider
    channel: str  # HEADER or TLS
    detail: str
    certificate: ClientCertificate | None = None
    service_account: ServiceAccountToken | None = None

    def to_json(self) -> Obj:
        out: Obj = {"kind": self.kind, "channel": self.channel, "detail": self.detail}
        if self.certificate:
            out["certificate"] = self.certificate.to_json()
        if self.service_account:
            out["service_account_claims"] = self.service_account.to_json()
        return out


@dataclass(frozen=True)
class Impersonation:
    """``as``/``as-uid``/``as-groups``/``as-user-extra``: sent as Impersonate-* headers."""

    user: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra_keys: tuple[str, ...] = ()

    def to_json(self) -> Obj:
        return {
            "user": self.user,
            "uid": self.uid,
            "groups": list(self.groups),
            "extra_keys": list(self.extra_keys),
        }


@dataclass(frozen=True)
class Credential:
    """How a kubeconfig user authenticates: types and public facts, never the secret.

    ``kind`` is what the API server authenticates first: a client certificate when one is
    sent (its x509 authenticator precedes the token authenticators,
    pkg/kubeapiserver/authenticator/config.go), else the Authorization header's
    credential. One of: exec, auth-provider, token, token-file, basic-auth,
    client-certificate, service-account-token, none, invalid (client-go refuses the
    entry). ``sent`` lists every credential sent; ``unused`` what is present but not sent.
    """

    kind: str
    detail: str = ""
    certificate: ClientCertificate | None = None
    sent: tuple[SentCredential, ...] = ()
    unused: tuple[str, ...] = ()
    impersonation: Impersonation | None = None
    refused: str = ""

    @property
    def header(self) -> SentCredential | None:
        return next((s for s in self.sent if s.channel == HEADER), None)

    @property
    def tls_certificate(self) -> SentCredential | None:
        return next((s for s in self.sent if s.channel == TLS), None)

    @property
    def service_account(self) -> ServiceAccountToken | None:
        header = self.header
        return header.service_account if header else None

    @property
    def uses_plugin(self) -> bool:
        """The person's credential comes only from an exec or auth-provider plugin."""
        header = self.header
        return (
            not self.refused
            and self.tls_certificate is None
            and header is not None
            and header.kind in ("exec", "auth-provider")
        )

    def to_json(self) -> Obj:
        out: Obj = {"kind": self.kind, "detail": self.detail}
        if self.certificate:
            out["certificate"] = self.certificate.to_json()
        if self.sent:
            out["sent"] = [s.to_json() for s in self.sent]
        if self.unused:
            out["unused"] = list(self.unused)
        if self.impersonation:
            out["impersonation"] = self.impersonation.to_json()
        if self.refused:
            out["refused_by_client_go"] = self.refused
        return out


def _certificate_from_json(raw: Obj | None) -> ClientCertificate | None:
    if not raw:
        return None
    return ClientCertificate(
        raw["common_name"],
        tuple(raw["organizations"]),
        raw["issuer"],
        raw["not_after"],
        raw["serial"],
    )


def service_account_from_json(raw: Obj | None) -> ServiceAccountToken | None:
    """The inverse of :meth:`ServiceAccountToken.to_json` (``lifetime_seconds`` is derived)."""
    if not raw:
        return None
    namespace, _, name = str(raw["service_account"]).partition("/")
    return ServiceAccountToken(
        namespace,
        name,
        raw["uid"],
        raw["issuer"],
        bool(raw["legacy"]),
        raw["secret_name"],
        raw["bound_to"],
        raw["issued_at"],
        raw["expires_at"],
    )


def credential_from_json(raw: Obj) -> Credential:
    """The inverse of :meth:`Credential.to_json`: a recorded credential, for a replay."""
    impersonation = raw.get("impersonation")
    return Credential(
        kind=raw["kind"],
        detail=raw.get("detail", ""),
        certificate=_certificate_from_json(raw.get("certificate")),
        sent=tuple(
            SentCredential(
                s["kind"],
                s["channel"],
                s["detail"],
                _certificate_from_json(s.get("certificate")),
                service_account_from_json(s.get("service_account_claims")),
            )
            for s in raw.get("sent") or ()
        ),
        unused=tuple(raw.get("unused") or ()),
        impersonation=Impersonation(
            impersonation["user"],
            impersonation["uid"],
            tuple(impersonation["groups"]),
            tuple(impersonation["extra_keys"]),
        )
        if impersonation
        else None,
        refused=raw.get("refused_by_client_go", ""),
    )
