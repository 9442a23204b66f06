"""CertificateSigningRequests: who asked for a client certificate, for whom, and who got one.

Kubernetes cannot revoke a client certificate, so every one issued to anything but a
kubelet is a finding. The kubelet exemption is Kubernetes' own rule, transcribed:

- the subject is a kubelet client subject: pkg/apis/certificates/helpers.go
  ValidateKubeletClientCSR (O exactly [system:nodes], CN system:node:<name>, no SANs,
  usages exactly {digital signature, [key encipherment,] client auth}), through the
  ``kubernetes.io/kube-apiserver-client-kubelet`` signer;
- the requester may hold that certificate: the node itself (the CSR's username is the CN,
  as pkg/controller/certificates/approver/sarapprove.go isSelfNodeClientCert requires, and
  the requester is in system:nodes, as pkg/auth/nodeidentifier/default.go requires of a
  node) or a bootstrap identity (group system:bootstrappers, which the bootstrap-token
  authenticator gives every bootstrap token, or system:bootstrappers:*).

The CSR list only shows recent requests: kube-controller-manager's csrcleaner
(pkg/controller/certificates/cleaner/cleaner.go) deletes them. The API server's audit log,
where readable, reaches further back; :mod:`kubepci.analysis.csr_history` judges it.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from kubepci.verdict import Finding

Obj = dict[str, Any]

CLIENT_SIGNER = "kubernetes.io/kube-apiserver-client"
NODE_CLIENT_SIGNER = "kubernetes.io/kube-apiserver-client-kubelet"
CLIENT_SIGNERS = (CLIENT_SIGNER, NODE_CLIENT_SIGNER, "kubernetes.io/legacy-unknown")
KUBELET_CLIENT_USAGES = (
    frozenset({"digital signature", "key encipherment", "client auth"}),
    frozenset({"digital signature", "client auth"}),
)
NODE_PREFIX = "system:node:"
NODES_GROUP = "system:nodes"
BOOTSTRAPPERS = "system:bootstrappers"
MASTERS = "system:masters"
KIND = "CertificateSigningRequest"

# cleaner.go: pollingInterval, approvedExpiration, deniedExpiration, pendingExpiration.
CLEANER_POLL_SECONDS = 3600
APPROVED_RETENTION_SECONDS = 3600
DENIED_RETENTION_SECONDS = 3600
PENDING_RETENTION_SECONDS = 24 * 3600
CLEANER_CONTROLLER = "certificatesigningrequest-cleaner-controller"
CLEANER_ALIAS = "csrcleaner"
RETENTION = (
    "kube-controller-manager's csrcleaner runs hourly and deletes a CSR 1 h after it was "
    "approved and issued, 1 h after it was denied or failed, 24 h after it was approved but "
    "never issued or filed and never handled, and as soon as its certificate expires: an "
    "issued client certificate stays in the CSR list for 1 to 2 hours only"
)


@dataclass(frozen=True)
class RequestedIdentity:
    common_name: str
    organizations: tuple[str, ...]
    # Subject alternative names, as "DNS:x", "email:x", "IP:x", "URI:x".
    sans: tuple[str, ...] = ()


def requested_identity(csr: Obj) -> RequestedIdentity | None:
    """The subject a CSR asks to be certified as; None if the request cannot be parsed."""
    raw = ((csr.get("spec") or {}).get("request")) or ""
    try:
        request = x509.load_pem_x509_csr(base64.b64decode(raw))
        cn = request.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        orgs = request.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
        sans: list[str] = []
        try:
            names = request.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        except x509.ExtensionNotFound:
            names = None
        if names is not None:
            for kind, label in (
                (x509.DNSName, "DNS"),
                (x509.RFC822Name, "email"),
                (x509.IPAddress, "IP"),
                (x509.UniformResourceIdentifier, "URI"),
            ):
                sans += [f"{label}:{v}" for v in names.value.get_values_for_type(kind)]
    except (ValueError, TypeError):
        return None
    return RequestedIdentity(
        str(cn[0].value) if cn else "", tuple(str(o.value) for o in orgs), tuple(sans)
    )


def state(csr: Obj) -> str:
    """approved / denied / failed / pending, from the CSR's conditions."""
    conditions = {c.get("type") for c in (csr.get("status") or {}).get("conditions") or []}
    for name in ("Denied", "Failed", "Approved"):
        if name in conditions:
            return name.lower()
    return "pending"


def is_node_identity(identity: RequestedIdentity) -> bool:
    """Kubelet client subject: CN=system:node:<name>, O=system:nodes, nothing else."""
    return (
        identity.common_name.startswith(NODE_PREFIX)
        and identity.organizations == (NODES_GROUP,)
        and not identity.sans
    )


def kubelet_client_problem(identity: RequestedIdentity, usages: list[str]) -> str:
    """Why this is not a kubelet client request (helpers.go ValidateKubeletClientCSR);
    "" when it is one."""
    if identity.organizations != (NODES_GROUP,):
        return f"O={','.join(identity.organizations) or '-'} is not exactly system:nodes"
    if identity.sans:
        return f"it asks for subject alternative names ({', '.join(identity.sans)})"
    if not identity.common_name.startswith(NODE_PREFIX):
        return f"CN={identity.common_name} is not system:node:<name>"
    if frozenset(usages) not in KUBELET_CLIENT_USAGES:
        return f"usages {sorted(usages)} are not a kubelet client's"
    return ""


def is_bootstrapper(groups: list[str] | tuple[str, ...]) -> bool:
    return any(g == BOOTSTRAPPERS or g.startswith(BOOTSTRAPPERS + ":") for g in groups)


def is_node_user(username: str, groups: list[str] | tuple[str, ...]) -> bool:
    """pkg/auth/nodeidentifier/default.go: a system:node:<name> user in system:nodes."""
    return username.startswith(NODE_PREFIX) and NODES_GROUP in groups


def node_certificate_holder(spec: Obj, identity: RequestedIdentity) -> str:
    """Why the requester may hold this kubelet client certificate; "" when it may not."""
    username = str(spec.get("username", ""))
    groups = [str(g) for g in spec.get("groups") or []]
    if username == identity.common_name and is_node_user(username, groups):
        return f"requested by node {username[len(NODE_PREFIX) :]} itself"
    if is_bootstrapper(groups):
        return f"requested by bootstrap identity {username}"
    return ""


def exemption(csr: Obj, identity: RequestedIdentity) -> str:
    """The kubelet exemption's reason, or "" when the CSR is not a kubelet's own."""
    spec = csr.get("spec") or {}
    if spec.get("signerName") != NODE_CLIENT_SIGNER:
        return ""
    if kubelet_client_problem(identity, [str(u) for u in spec.get("usages") or []]):
        return ""
    holder = node_certificate_holder(spec, identity)
    return f"kubelet client certificate {identity.common_name}, {holder}" if holder else ""


def is_client_request(spec: Obj) -> bool:
    """A built-in client signer, or any signer asked for "client auth" (an external signer
    holding the cluster CA would mint a certificate the API server trusts)."""
    return spec.get("signerName") in CLIENT_SIGNERS or "client auth" in (spec.get("usages") or [])


def _subject(identity: RequestedIdentity) -> str:
    return f"CN={identity.common_name} O={','.join(identity.organizations) or '-'}"


def request_findings(
    name: str, spec: Obj, identity: RequestedIdentity | None, how: str, granted: bool
) -> list[Finding]:
    """One CSR's findings, from its spec and subject.

    ``granted``: approved (and, for the audit log, issued). ``how`` says where the facts
    come from (the CSR object, or the audit log) and is appended to each finding.
    """
    signer = str(spec.get("signerName", ""))
    requester = str(spec.get("username", "")) or "an unknown requester"
    if identity is None:
        return [Finding(KIND, "", name, f"request cannot be parsed{how}", "unparseable-request")]
    if MASTERS in identity.organizations:
        return [
            Finding(
                KIND,
                "",
                name,
                f"{'approved' if granted else 'a'} request for {_subject(identity)} "
                f"(signer {signer}), a group that bypasses RBAC and cannot be revoked{how}",
                "system-masters",
            )
        ]
    if not granted or exemption({"spec": spec}, identity):
        return []
    if signer == NODE_CLIENT_SIGNER and is_node_identity(identity):
        usages = [str(u) for u in spec.get("usages") or []]
        why = kubelet_client_problem(identity, usages) or (
            f"requested by {requester}, neither node "
            f"{identity.common_name[len(NODE_PREFIX) :]} itself nor a bootstrap identity"
        )
        return [
            Finding(
                KIND,
                "",
                name,
                f"approved node client certificate for {_subject(identity)}: {why}; it "
                f"authenticates as that node to whoever holds the key{how}",
                "node-client-certificate",
            )
        ]
    return [
        Finding(
            KIND,
            "",
            name,
            f"approved client certificate for {_subject(identity)} (signer {signer}), "
            f"requested by {requester}{how}",
            "client-certificate",
        )
    ]


def listed_findings(csrs: Sequence[Obj]) -> tuple[list[Finding], list[Obj]]:
    """Findings for the CSRs the API lists, and a row of evidence for each client request."""
    findings: list[Finding] = []
    seen: list[Obj] = []
    for csr in csrs:
        spec = csr.get("spec") or {}
        if not is_client_request(spec):
            continue
        identity = requested_identity(csr)
        name = str(csr["metadata"]["name"])
        current = state(csr)
        issued = bool((csr.get("status") or {}).get("issued"))
        exempt = exemption(csr, identity) if identity else ""
        seen.append(
            {
                "name": name,
                "signer": spec.get("signerName"),
                "state": current + (", issued" if issued else ""),
                "requested_by": spec.get("username"),
                "requester_groups": spec.get("groups") or [],
                "subject": {
                    "CN": identity.common_name,
                    "O": list(identity.organizations),
                    "SANs": list(identity.sans),
                }
                if identity
                else "unparseable",
                "exempt": exempt or None,
            }
        )
        findings += request_findings(name, spec, identity, "", current == "approved")
    return findings, seen


def cleaner_enabled(controllers: str) -> bool:
    """Whether kube-controller-manager runs csrcleaner under ``--controllers``.

    controller-manager app/helper.go IsControllerEnabled, after options/generic.go
    translates the ``csrcleaner`` alias; csrcleaner is not disabled by default.
    """
    names = [c.strip() for c in controllers.split(",") if c.strip()] or ["*"]
    canonical = [
        ("-" if n.startswith("-") else "")
        + (CLEANER_CONTROLLER if n.lstrip("-") == CLEANER_ALIAS else n.lstrip("-"))
        for n in names
    ]
    for name in canonical:
        if name == CLEANER_CONTROLLER:
            return True
        if name == "-" + CLEANER_CONTROLLER:
            return False
    return "*" in canonical
