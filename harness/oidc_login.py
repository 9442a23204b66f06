"""kubectl exec credential plugin: an RS256 ID token for one individual from the local issuer.

The compliant profile's kubeconfig runs this (client.authentication.k8s.io/v1) instead of
holding a static credential. It signs a short-lived token with the harness issuer's key,
which the API server verifies through its structured AuthenticationConfiguration.

Self-contained on purpose (PyJWT + cryptography only): kubectl runs it by file path from
any working directory, where the `harness` package is not importable.

    python harness/oidc_login.py --user auditor@example.com \\
        --issuer https://127.0.0.1:9843 --key ~/.cache/kubepci/run/oidc/signing-key.pem
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

TOKEN_TTL_S = 600  # short on purpose: an exfiltrated token dies within minutes
DEFAULT_AUDIENCE = "kubepci"


def _b64(n: int) -> str:
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def public_jwk(public_key: rsa.RSAPublicKey) -> dict[str, str]:
    """The key as a JWK, with an RFC 7638 thumbprint as its kid."""
    numbers = public_key.public_numbers()
    members = {"e": _b64(numbers.e), "kty": "RSA", "n": _b64(numbers.n)}
    thumb = hashlib.sha256(json.dumps(members, separators=(",", ":")).encode()).digest()
    kid = base64.urlsafe_b64encode(thumb).rstrip(b"=").decode()
    return {**members, "kid": kid, "use": "sig", "alg": "RS256"}


def load_signing_key(path: Path) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError(f"{path} is not an RSA private key")
    return key


def mint_token(
    key: rsa.RSAPrivateKey,
    issuer: str,
    email: str,
    groups: list[str],
    audience: str = DEFAULT_AUDIENCE,
    ttl_s: int = TOKEN_TTL_S,
) -> tuple[str, int]:
    """Signed ID token and its expiry (unix seconds)."""
    now = int(time.time())
    exp = now + ttl_s
    claims = {
        "iss": issuer,
        "sub": email,
        "aud": audience,
        "iat": now,
        "nbf": now - 30,
        "exp": exp,
        "email": email,
        "email_verified": True,
        "groups": groups,
    }
    kid = public_jwk(key.public_key())["kid"]
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid}), exp


def exec_credential(token: str, exp: int) -> dict[str, object]:
    stamp = datetime.fromtimestamp(exp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "apiVersion": "client.authentication.k8s.io/v1",
        "kind": "ExecCredential",
        "status": {"token": token, "expirationTimestamp": stamp},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--user", required=True, help="the individual's e-mail address")
    parser.add_argument("--group", action="append", default=[], dest="groups")
    parser.add_argument("--issuer", required=True)
    parser.add_argument("--key", required=True, type=Path, help="issuer's signing key (PEM)")
    parser.add_argument("--audience", default=DEFAULT_AUDIENCE)
    parser.add_argument("--ttl", type=int, default=TOKEN_TTL_S)
    args = parser.parse_args(argv)
    key = load_signing_key(args.key.expanduser())
    token, exp = mint_token(key, args.issuer, args.user, args.groups, args.audience, args.ttl)
    json.dump(exec_credential(token, exp), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
