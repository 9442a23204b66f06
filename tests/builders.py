"""Small builders for the Kubernetes objects the analysis judges.

Objects are built with the kubernetes client's own models, serialised the way the API
server's JSON looks (``ApiClient().sanitize_for_serialization``) and then passed through
the snapshot's trimmers, so a unit test sees exactly what a check sees on a live cluster.
Credentials (client certificates, CSRs) are real PEM made with ``cryptography``.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from kubernetes import client as k8s

from kubepci.access.trim import TRIMMERS
from kubepci.analysis.rbac import RbacGraph

Obj = dict[str, Any]

RBAC_GROUP = "rbac.authorization.k8s.io"
CLIENT_SIGNER = "kubernetes.io/kube-apiserver-client"
KUBELET_SIGNER = "kubernetes.io/kube-apiserver-client-kubelet"
# The label the API server puts on its default policy: a fact about an object, never
# provenance (anyone can set it).
BOOTSTRAP = {"kubernetes.io/bootstrapping": "rbac-defaults"}


@cache
def _api() -> k8s.ApiClient:
    return k8s.ApiClient()


def serialize(model: Any) -> Obj:
    """The JSON the API server would send for a client model."""
    return _api().sanitize_for_serialization(model)


def trimmed(resource: str, model: Any) -> Obj:
    """What the snapshot keeps of an object listed from ``resource``."""
    return TRIMMERS[resource](serialize(model))


def meta(
    name: str,
    namespace: str | None = None,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
) -> k8s.V1ObjectMeta:
    return k8s.V1ObjectMeta(
        name=name,
        namespace=namespace,
        labels=labels,
        annotations=annotations,
        uid=f"uid-{namespace or ''}-{name}",
    )


# ----------------------------------------------------------------------------- workloads


def token_volume(name: str = "token", seconds: int | None = None) -> k8s.V1Volume:
    """A projected serviceAccountToken volume (``seconds=None`` leaves expiration unset)."""
    projection = k8s.V1ServiceAccountTokenProjection(path="token", expiration_seconds=seconds)
    return k8s.V1Volume(
        name=name,
        projected=k8s.V1ProjectedVolumeSource(
            sources=[k8s.V1VolumeProjection(service_account_token=projection)]
        ),
    )


def pod_model(
    name: str,
    ns: str = "default",
    sa: str | None = "default",
    automount: bool | None = None,
    projected_token_seconds: int | None = None,
    projected_token: bool = False,
    mirror: bool = False,
    command: Sequence[str] | None = None,
    args: Sequence[str] | None = None,
    container: str = "app",
    node: str = "node-1",
    annotations: dict[str, str] | None = None,
    volumes: Sequence[k8s.V1Volume] = (),
) -> k8s.V1Pod:
    annotations = dict(annotations or {})
    if mirror:
        annotations["kubernetes.io/config.mirror"] = "0123456789abcdef"
        annotations["kubernetes.io/config.source"] = "file"
    all_volumes = list(volumes)
    if projected_token or projected_token_seconds is not None:
        all_volumes.append(token_volume("api-token", projected_token_seconds))
    metadata = meta(name, ns, annotations=annotations or None)
    if mirror:
        # The kubelet makes its Node the controlling owner of every mirror pod.
        metadata.owner_references = [
            k8s.V1OwnerReference(
                api_version="v1", kind="Node", name=node, uid=f"uid-node-{node}", controller=True
            )
        ]
    return k8s.V1Pod(
        metadata=metadata,
        spec=k8s.V1PodSpec(
            service_account_name=sa,
            automount_service_account_token=automount,
            node_name=node,
            containers=[
                k8s.V1Container(
                    name=container,
                    image=f"registry.example/{container}:1",
                    command=list(command) if command is not None else None,
                    args=list(args) if args is not None else None,
                )
            ],
            volumes=all_volumes or None,
        ),
        status=k8s.V1PodStatus(phase="Running", pod_ip="10.244.0.10"),
    )


def pod(name: str, ns: str = "default", **kwargs: Any) -> Obj:
    """A pod as the snapshot keeps it; see :func:`pod_model` for the options."""
    return trimmed("pods", pod_model(name, ns, **kwargs))


def static_pod(component: str, node: str = "cp-1", flags: Sequence[str] = (), **kwargs: Any) -> Obj:
    """A kubeadm-style control-plane mirror pod: the flags sit in ``command``."""
    kwargs.setdefault("container", component)
    return pod(
        f"{component}-{node}",
        kwargs.pop("ns", "kube-system"),
        sa=None,
        mirror=True,
        command=[component, *flags],
        node=node,
        **kwargs,
    )


def service_account(
    name: str = "default",
    ns: str = "default",
    automount: bool | None = None,
    secrets: Sequence[str] = (),
) -> Obj:
    model = k8s.V1ServiceAccount(
        metadata=meta(name, ns),
        automount_service_account_token=automount,
        secrets=[k8s.V1ObjectReference(name=s) for s in secrets] or None,
    )
    return trimmed("serviceaccounts", model)


def secret_model(
    name: str,
    ns: str = "default",
    sa: str | None = None,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    last_applied: str | None = None,
    data: dict[str, str] | None = None,
) -> k8s.V1Secret:
    annotations = dict(annotations or {})
    secret_type = "Opaque"
    if sa is not None:
        annotations["kubernetes.io/service-account.name"] = sa
        annotations["kubernetes.io/service-account.uid"] = f"uid-{ns}-{sa}"
        secret_type = "kubernetes.io/service-account-token"
    if last_applied is not None:
        annotations["kubectl.kubernetes.io/last-applied-configuration"] = last_applied
    metadata = meta(name, ns, labels=labels, annotations=annotations or None)
    metadata.managed_fields = [
        k8s.V1ManagedFieldsEntry(manager="kubectl", operation="Apply", fields_type="FieldsV1")
    ]
    return k8s.V1Secret(metadata=metadata, type=secret_type, data=data)


def secret_meta(name: str, ns: str = "default", **kwargs: Any) -> Obj:
    """A Secret as the snapshot keeps it (metadata only); see :func:`secret_model`."""
    return trimmed("secrets", secret_model(name, ns, **kwargs))


def node(
    name: str,
    internal_ip: str | None = "10.0.0.1",
    external_ip: str | None = None,
    port: int | None = 10250,
    provider_id: str = "",
    labels: dict[str, str] | None = None,
    addresses: Sequence[tuple[str, str]] = (),
) -> Obj:
    entries = list(addresses)
    if internal_ip:
        entries.append(("InternalIP", internal_ip))
    if external_ip:
        entries.append(("ExternalIP", external_ip))
    entries.append(("Hostname", name))
    endpoints = (
        k8s.V1NodeDaemonEndpoints(kubelet_endpoint=k8s.V1DaemonEndpoint(port=port))
        if port is not None
        else None
    )
    model = k8s.V1Node(
        metadata=meta(name, labels=labels),
        spec=k8s.V1NodeSpec(provider_id=provider_id or None),
        status=k8s.V1NodeStatus(
            addresses=[k8s.V1NodeAddress(type=t, address=a) for t, a in entries],
            daemon_endpoints=endpoints,
        ),
    )
    return trimmed("nodes", model)


def service(
    name: str, ns: str = "default", ports: Sequence[Obj] = ({"port": 80},), kind: str = "ClusterIP"
) -> Obj:
    model = k8s.V1Service(
        metadata=meta(name, ns),
        spec=k8s.V1ServiceSpec(
            type=kind,
            ports=[
                k8s.V1ServicePort(
                    port=p["port"],
                    name=p.get("name"),
                    protocol=p.get("protocol", "TCP"),
                    app_protocol=p.get("appProtocol"),
                )
                for p in ports
            ],
        ),
    )
    return trimmed("services", model)


def endpoint_slice(service_name: str, ns: str = "default", ready: Sequence[bool] = (True,)) -> Obj:
    model = k8s.V1EndpointSlice(
        address_type="IPv4",
        metadata=meta(
            f"{service_name}-abcde", ns, labels={"kubernetes.io/service-name": service_name}
        ),
        endpoints=[
            k8s.V1Endpoint(
                addresses=[f"10.244.0.{i + 1}"], conditions=k8s.V1EndpointConditions(ready=r)
            )
            for i, r in enumerate(ready)
        ],
    )
    return trimmed("endpointslices", model)


# ----------------------------------------------------------------------------- RBAC


def rule(
    verbs: Sequence[str],
    resources: Sequence[str] = (),
    groups: Sequence[str] = ("",),
    urls: Sequence[str] | None = None,
    names: Sequence[str] | None = None,
) -> Obj:
    """One PolicyRule; ``urls`` makes it a non-resource rule (no groups or resources)."""
    if urls is not None:
        model = k8s.V1PolicyRule(verbs=list(verbs), non_resource_urls=list(urls))
    else:
        model = k8s.V1PolicyRule(
            verbs=list(verbs),
            api_groups=list(groups),
            resources=list(resources),
            resource_names=list(names) if names else None,
        )
    return serialize(model)


def cluster_role(name: str, rules: Iterable[Obj], labels: dict[str, str] | None = None) -> Obj:
    model = k8s.V1ClusterRole(metadata=meta(name, labels=labels), rules=list(rules))
    return trimmed("clusterroles", model)


def role(name: str, ns: str, rules: Iterable[Obj]) -> Obj:
    return trimmed("roles", k8s.V1Role(metadata=meta(name, ns), rules=list(rules)))


def subject_user(name: str) -> k8s.RbacV1Subject:
    return k8s.RbacV1Subject(kind="User", name=name, api_group=RBAC_GROUP)


def subject_group(name: str) -> k8s.RbacV1Subject:
    return k8s.RbacV1Subject(kind="Group", name=name, api_group=RBAC_GROUP)


def subject_sa(name: str, ns: str | None = None) -> k8s.RbacV1Subject:
    """A ServiceAccount subject; ``ns=None`` leaves the namespace to the binding's."""
    return k8s.RbacV1Subject(kind="ServiceAccount", name=name, namespace=ns)


def cluster_role_binding(
    name: str,
    role_name: str,
    subjects: Iterable[k8s.RbacV1Subject],
    labels: dict[str, str] | None = None,
) -> Obj:
    model = k8s.V1ClusterRoleBinding(
        metadata=meta(name, labels=labels),
        role_ref=k8s.V1RoleRef(api_group=RBAC_GROUP, kind="ClusterRole", name=role_name),
        subjects=list(subjects),
    )
    return trimmed("clusterrolebindings", model)


def role_binding(
    name: str,
    ns: str,
    role_name: str,
    subjects: Iterable[k8s.RbacV1Subject],
    role_kind: str = "Role",
    labels: dict[str, str] | None = None,
) -> Obj:
    model = k8s.V1RoleBinding(
        metadata=meta(name, ns, labels=labels),
        role_ref=k8s.V1RoleRef(api_group=RBAC_GROUP, kind=role_kind, name=role_name),
        subjects=list(subjects),
    )
    return trimmed("rolebindings", model)


def rbac_lists(*objects: Obj) -> dict[str, list[Obj]]:
    """Sort trimmed RBAC objects into the snapshot's four lists by their shape."""
    lists: dict[str, list[Obj]] = {
        "clusterroles": [],
        "clusterrolebindings": [],
        "roles": [],
        "rolebindings": [],
    }
    for obj in objects:
        namespaced = bool(obj["metadata"].get("namespace"))
        if "roleRef" in obj:
            lists["rolebindings" if namespaced else "clusterrolebindings"].append(obj)
        else:
            lists["roles" if namespaced else "clusterroles"].append(obj)
    return lists


def rbac_graph(*objects: Obj) -> RbacGraph:
    return RbacGraph.from_snapshot(rbac_lists(*objects))


CLUSTER_ADMIN = cluster_role(
    "cluster-admin",
    [rule(["*"], ["*"], ["*"]), rule(["*"], urls=["*"])],
    labels=BOOTSTRAP,
)


# ----------------------------------------------------------------------------- PKI


@cache
def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(cn: str, orgs: Sequence[str]) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
    if cn:
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attributes)


def csr_pem(cn: str, orgs: Sequence[str] = (), sans: Sequence[x509.GeneralName] = ()) -> bytes:
    builder = x509.CertificateSigningRequestBuilder().subject_name(_name(cn, orgs))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
    return builder.sign(_key(), hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def csr(
    name: str,
    cn: str,
    orgs: Sequence[str] = (),
    signer: str = CLIENT_SIGNER,
    approved: bool | None = None,
    username: str = "jane",
    request: bytes | None = None,
) -> Obj:
    """A CSR; ``approved`` True/False adds an Approved/Denied condition, None leaves it pending."""
    conditions = None
    if approved is not None:
        conditions = [
            k8s.V1CertificateSigningRequestCondition(
                type="Approved" if approved else "Denied",
                status="True",
                reason="KubectlApprove" if approved else "KubectlDeny",
            )
        ]
    raw = request if request is not None else csr_pem(cn, orgs)
    model = k8s.V1CertificateSigningRequest(
        metadata=meta(name),
        spec=k8s.V1CertificateSigningRequestSpec(
            request=base64.b64encode(raw).decode(),
            signer_name=signer,
            username=username,
            groups=["system:authenticated"],
            usages=["client auth"],
        ),
        status=k8s.V1CertificateSigningRequestStatus(conditions=conditions),
    )
    return trimmed("certificatesigningrequests", model)


def client_certificate(cn: str, orgs: Sequence[str] = ()) -> tuple[bytes, bytes]:
    """A self-signed client certificate and its key, both PEM."""
    now = dt.datetime.now(dt.UTC)
    issuer = _name("kubernetes", ())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn, orgs))
        .issuer_name(issuer)
        .public_key(_key().public_key())
        .serial_number(0x1F2E3D)
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(_key(), hashes.SHA256())
    )
    key = _key().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key


# ----------------------------------------------------------------------------- kubeconfig


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def token_user(token: str = "not-a-real-token") -> Obj:
    return {"token": token}


def exec_user(command: str = "/usr/local/bin/kubectl-oidc_login") -> Obj:
    return {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": command,
            "args": ["get-token"],
            "interactiveMode": "IfAvailable",
        }
    }


def cert_data_user(cn: str, orgs: Sequence[str] = ()) -> Obj:
    cert, key = client_certificate(cn, orgs)
    return {"client-certificate-data": b64(cert), "client-key-data": b64(key)}


def kubeconfig_document(
    contexts: Sequence[str] = ("ctx",),
    current: str | None = None,
    server: str = "https://127.0.0.1:6443",
    user: Obj | None = None,
    insecure: bool = False,
) -> Obj:
    """A kubeconfig: context ``c`` uses cluster ``c-cluster`` and user ``c-user``.

    ``current`` defaults to the first context; pass ``""`` for none.
    """
    cluster: Obj = {"server": server, "certificate-authority-data": b64(b"not a real CA")}
    if insecure:
        cluster = {"server": server, "insecure-skip-tls-verify": True}
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": f"{c}-cluster", "cluster": dict(cluster)} for c in contexts],
        "users": [{"name": f"{c}-user", "user": dict(user or token_user())} for c in contexts],
        "contexts": [
            {"name": c, "context": {"cluster": f"{c}-cluster", "user": f"{c}-user"}}
            for c in contexts
        ],
        "current-context": contexts[0] if current is None else current,
    }


def write_yaml(path: Path, document: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def kubeconfig(directory: Path, filename: str = "config", **kwargs: Any) -> Path:
    """Write a kubeconfig under ``directory``; see :func:`kubeconfig_document`."""
    return write_yaml(directory / filename, kubeconfig_document(**kwargs))
