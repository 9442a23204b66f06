"""ServiceAccount tokens as a kubeconfig holds them: what their JWT claims say.

A token is decoded here, never verified (only the API server can verify it) and never
stored or printed: only the names and times it carries about itself come out, which is
enough to tell a legacy secret-based token (pkg/serviceaccount/legacy.go) from a bound
TokenRequest token (pkg/serviceaccount/claims.go) and to say how long it lives.
"""

from __future__ import annotations

import base64
import binascii
import json
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


def _b64url(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def jwt_claims(token: str) -> Obj | None:
    """A JWT's payload, decoded and NOT verified; None when the token is not a JWT."""
    parts = token.strip().split(".")
    if len(parts) != 3:
        return None
    try:
        header = json.loads(_b64url(parts[0]))
        claims = json.loads(_b64url(parts[1]))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not isinstance(header, dict) or "alg" not in header or not isinstance(claims, dict):
        return None
    return claims


def number(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def service_account_token(claims: Obj) -> ServiceAccountToken | None:
    """The ServiceAccount a JWT's claims name, in the legacy or the bound (TokenRequest)
    shape; None for any other JWT (an OIDC ID token, say)."""
    subject = str(claims.get("sub", ""))
    issuer = str(claims.get("iss", ""))
    private = claims.get("kubernetes.io")
    if isinstance(private, dict) and isinstance(private.get("serviceaccount"), dict):
        account = private["serviceaccount"]

        def ref(kind: str) -> str:
            obj = private.get(kind.lower())
            if not isinstance(obj, dict) or not obj.get("name"):
                return ""
            if kind == "Node":  # cluster-scoped
                return f"Node {obj['name']}"
            return f"{kind} {private.get('namespace', '')}/{obj['name']}"

        bound = ref("Pod") or ref("Secret") or ref("Node")
        secret = private.get("secret") if isinstance(private.get("secret"), dict) else {}
        return ServiceAccountToken(
            namespace=str(private.get("namespace", "")),
            name=str(account.get("name", "")),
            uid=str(account.get("uid", "")),
            issuer=issuer,
            legacy=False,
            secret=str((secret or {}).get("name", "")),
            bound_to=bound,
            issued_at=number(claims.get("iat")),
            expires_at=number(claims.get("exp")),
        )
    if issuer == LEGACY_ISSUER or LEGACY_NAME in claims:
        return ServiceAccountToken(
            namespace=str(claims.get(LEGACY_NAMESPACE, "")),
            name=str(claims.get(LEGACY_NAME, "")),
            uid=str(claims.get(LEGACY_UID, "")),
            issuer=issuer,
            legacy=True,
            secret=str(claims.get(LEGACY_SECRET, "")),
            bound_to="",
            issued_at=number(claims.get("iat")),
            expires_at=number(claims.get("exp")),
        )
    if subject.startswith(SERVICE_ACCOUNT_PREFIX) and subject.count(":") == 3:
        namespace, name = subject[len(SERVICE_ACCOUNT_PREFIX) :].split(":", 1)
        return ServiceAccountToken(
            namespace,
            name,
            "",
            issuer,
            False,
            "",
            "",
            number(claims.get("iat")),
            number(claims.get("exp")),
        )
    return None
