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
from typing import Any

from kubepci.records.credentials import (
    LEGACY_ISSUER,
    LEGACY_NAME,
    LEGACY_NAMESPACE,
    LEGACY_SECRET,
    LEGACY_UID,
    SERVICE_ACCOUNT_PREFIX,
    ServiceAccountToken,
)

__all__ = ["SERVICE_ACCOUNT_PREFIX", "ServiceAccountToken", "jwt_claims", "service_account_token"]

Obj = dict[str, Any]


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
