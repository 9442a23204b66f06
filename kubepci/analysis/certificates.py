"""CertificateSigningRequests: who asked for a client certificate, and for which groups."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

Obj = dict[str, Any]

CLIENT_SIGNERS = (
    "kubernetes.io/kube-apiserver-client",
    "kubernetes.io/kube-apiserver-client-kubelet",
    "kubernetes.io/legacy-unknown",
)
NODE_CLIENT_SIGNER = "kubernetes.io/kube-apiserver-client-kubelet"


@dataclass(frozen=True)
class RequestedIdentity:
    common_name: str
    organizations: tuple[str, ...]


def requested_identity(csr: Obj) -> RequestedIdentity | None:
    """The subject a CSR asks to be certified as; None if the request cannot be parsed."""
    raw = ((csr.get("spec") or {}).get("request")) or ""
    try:
        request = x509.load_pem_x509_csr(base64.b64decode(raw))
    except (ValueError, TypeError):
        return None
    cn = request.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    orgs = request.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return RequestedIdentity(str(cn[0].value) if cn else "", tuple(str(o.value) for o in orgs))


def state(csr: Obj) -> str:
    """approved / denied / failed / pending, from the CSR's conditions."""
    conditions = {c.get("type") for c in (csr.get("status") or {}).get("conditions") or []}
    for name in ("Denied", "Failed", "Approved"):
        if name in conditions:
            return name.lower()
    return "pending"


def is_node_identity(identity: RequestedIdentity) -> bool:
    """Kubelet client certificates: CN=system:node:<name>, O=system:nodes."""
    return identity.common_name.startswith("system:node:") and identity.organizations == (
        "system:nodes",
    )
