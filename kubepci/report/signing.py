"""Ed25519 signatures over the evidence pack's manifest (``--sign-key``, ``kubepci verify``).

The signature is detached and raw: ``manifest.sig`` holds the 64 bytes Ed25519 gives for
the exact bytes of ``manifest.json``, nothing else, so one command outside kubepci checks it
as well::

    openssl pkeyutl -verify -pubin -inkey signer.pub.pem -rawin \\
        -in manifest.json -sigfile manifest.sig

The manifest lists every other file with its SHA-256, so the signature covers the pack. A
key is named by the SHA-256 of its DER SubjectPublicKeyInfo, the same figure as
``openssl pkey -pubin -in signer.pub.pem -outform DER | sha256sum``; the figure in a
manifest is a hint only: trust comes from the public key the assessor holds.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kubepci.report.redact import register_secret

ALGORITHM = "Ed25519"
# An encrypted key's passphrase comes from the environment (a CI secret), never the
# command line, which the manifest records.
PASSPHRASE_ENV = "KUBEPCI_SIGN_KEY_PASSPHRASE"


class SigningKeyError(ValueError):
    """A key file is unusable; the message is one line for the user."""


def _read(path: str | Path, what: str) -> bytes:
    try:
        return Path(path).expanduser().read_bytes()
    except OSError as exc:
        raise SigningKeyError(f"{what} {path}: cannot read it ({exc.strerror or exc})") from None


def load_private_key(path: str | Path, environ: dict[str, str] | None = None) -> Ed25519PrivateKey:
    """The Ed25519 private key in the PEM file at ``path``.

    Any other kind of key, a file that is not a PEM private key, or an encrypted key
    without (or with the wrong) passphrase in ``$KUBEPCI_SIGN_KEY_PASSPHRASE`` is an error.
    """
    env = os.environ if environ is None else environ
    data = _read(path, "--sign-key")
    passphrase = env.get(PASSPHRASE_ENV) or None
    if passphrase:
        register_secret(passphrase)
    try:
        key = serialization.load_pem_private_key(
            data, password=passphrase.encode() if passphrase else None
        )
    except TypeError:
        # cryptography: "Password was not given but private key is encrypted" (or the
        # reverse); its text is right, the option to fix it is ours to name.
        raise SigningKeyError(
            f"--sign-key {path}: the key is encrypted; give its passphrase in ${PASSPHRASE_ENV}"
            if not passphrase
            else f"--sign-key {path}: the key is not encrypted; unset ${PASSPHRASE_ENV}"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise SigningKeyError(
            f"--sign-key {path}: not a PEM private key (or a wrong passphrase)"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(
            f"--sign-key {path}: a {type(key).__name__.removeprefix('_')} key, not Ed25519"
        )
    return key


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    """The Ed25519 public key in the PEM file at ``path`` (``-----BEGIN PUBLIC KEY-----``)."""
    data = _read(path, "--public-key")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        raise SigningKeyError(f"--public-key {path}: not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError(
            f"--public-key {path}: a {type(key).__name__.removeprefix('_')} key, not Ed25519"
        )
    return key


def fingerprint(key: Ed25519PublicKey) -> str:
    """``sha256:<hex>`` of the key's DER SubjectPublicKeyInfo."""
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "sha256:" + hashlib.sha256(der).hexdigest()


def sign(key: Ed25519PrivateKey, message: bytes) -> bytes:
    """The raw 64-byte Ed25519 signature of ``message``."""
    return key.sign(message)


def is_valid(key: Ed25519PublicKey, message: bytes, signature: bytes) -> bool:
    """Does ``signature`` sign exactly ``message`` under ``key``?"""
    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True
