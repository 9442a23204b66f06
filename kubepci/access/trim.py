"""Keep only the fields the checks judge from, page by page.

Trimming as each page arrives keeps memory flat on big clusters (peers needed gigabytes
for a thousand pods), and dropping everything not on an allow-list is also what keeps
credentials out of the evidence: ``kubectl.kubernetes.io/last-applied-configuration`` can
hold a whole Secret manifest, and ``managedFields`` is noise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Obj = dict[str, Any]

SECRET_ANNOTATIONS = ("kubernetes.io/service-account.name", "kubernetes.io/service-account.uid")
LEGACY_TOKEN_LABELS = (
    "kubernetes.io/legacy-token-last-used",
    "kubernetes.io/legacy-token-invalid-since",
)
POD_ANNOTATIONS = (
    "kubernetes.io/config.mirror",
    "kubernetes.io/config.source",
    "kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint",
    "kubeadm.kubernetes.io/etcd.advertise-client-urls",
)
CONTROL_PLANE_NAMESPACES = ("kube-system",)


def _meta(obj: Obj, annotations: tuple[str, ...] = (), labels: bool = True) -> Obj:
    meta = obj.get("metadata") or {}
    out: Obj = {"name": meta.get("name", "")}
    if meta.get("namespace"):
        out["namespace"] = meta["namespace"]
    if meta.get("uid"):
        out["uid"] = meta["uid"]
    if meta.get("creationTimestamp"):
        out["creationTimestamp"] = meta["creationTimestamp"]
    if labels and meta.get("labels"):
        out["labels"] = dict(meta["labels"])
    kept = {k: v for k, v in (meta.get("annotations") or {}).items() if k in annotations}
    if kept:
        out["annotations"] = kept
    if meta.get("ownerReferences"):
        out["ownerReferences"] = [
            {"kind": r.get("kind", ""), "name": r.get("name", "")} for r in meta["ownerReferences"]
        ]
    return out


def _volume(volume: Obj) -> Obj | None:
    """Keep the volumes that carry API credentials: projected tokens and secret mounts."""
    if "projected" in volume:
        sources = []
        for source in (volume.get("projected") or {}).get("sources") or []:
            if "serviceAccountToken" in source:
                sources.append({"serviceAccountToken": dict(source["serviceAccountToken"])})
        if sources:
            return {"name": volume.get("name", ""), "projected": {"sources": sources}}
    if "secret" in volume:
        return {
            "name": volume.get("name", ""),
            "secret": {"secretName": (volume.get("secret") or {}).get("secretName", "")},
        }
    return None


def pod(obj: Obj) -> Obj:
    meta = _meta(obj, POD_ANNOTATIONS)
    spec = obj.get("spec") or {}
    # Flags are only judged on control-plane pods; other pods' command lines are dropped
    # because they are large and may carry application secrets.
    mirror = "kubernetes.io/config.mirror" in meta.get("annotations", {})
    keep_commands = mirror or meta.get("namespace") in CONTROL_PLANE_NAMESPACES
    containers = []
    for container in spec.get("containers") or []:
        kept: Obj = {"name": container.get("name", ""), "image": container.get("image", "")}
        if keep_commands:
            kept["command"] = list(container.get("command") or [])
            kept["args"] = list(container.get("args") or [])
        containers.append(kept)
    out_spec: Obj = {
        "serviceAccountName": spec.get("serviceAccountName") or "default",
        "nodeName": spec.get("nodeName", ""),
        "hostNetwork": bool(spec.get("hostNetwork")),
        "containers": containers,
        "volumes": [v for v in (_volume(v) for v in spec.get("volumes") or []) if v],
    }
    if "automountServiceAccountToken" in spec:
        out_spec["automountServiceAccountToken"] = spec["automountServiceAccountToken"]
    status = obj.get("status") or {}
    return {
        "metadata": meta,
        "spec": out_spec,
        "status": {"phase": status.get("phase", ""), "podIP": status.get("podIP", "")},
    }


def service_account(obj: Obj) -> Obj:
    out: Obj = {"metadata": _meta(obj)}
    if "automountServiceAccountToken" in obj:
        out["automountServiceAccountToken"] = obj["automountServiceAccountToken"]
    # Names only: the referenced Secrets are judged from their own metadata.
    out["secrets"] = [{"name": s.get("name", "")} for s in obj.get("secrets") or []]
    return out


def secret_metadata(obj: Obj) -> Obj:
    meta = _meta(obj, SECRET_ANNOTATIONS, labels=False)
    labels = ((obj.get("metadata") or {}).get("labels")) or {}
    kept = {k: v for k, v in labels.items() if k in LEGACY_TOKEN_LABELS}
    if kept:
        meta["labels"] = kept
    return {"metadata": meta}


def node(obj: Obj) -> Obj:
    status = obj.get("status") or {}
    info = status.get("nodeInfo") or {}
    return {
        "metadata": _meta(obj),
        "spec": {"providerID": (obj.get("spec") or {}).get("providerID", "")},
        "status": {
            "addresses": list(status.get("addresses") or []),
            "daemonEndpoints": status.get("daemonEndpoints") or {},
            "nodeInfo": {
                k: info.get(k, "")
                for k in ("kubeletVersion", "osImage", "containerRuntimeVersion", "kernelVersion")
            },
            "conditions": [
                {"type": c.get("type"), "status": c.get("status")}
                for c in status.get("conditions") or []
                if c.get("type") == "Ready"
            ],
        },
    }


def service(obj: Obj) -> Obj:
    spec = obj.get("spec") or {}
    return {
        "metadata": _meta(obj, labels=False),
        "spec": {
            "type": spec.get("type", "ClusterIP"),
            "clusterIP": spec.get("clusterIP", ""),
            "ports": [
                {k: p.get(k) for k in ("name", "port", "protocol", "targetPort", "appProtocol")}
                for p in spec.get("ports") or []
            ],
        },
    }


def endpoint_slice(obj: Obj) -> Obj:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    ready = sum(
        1
        for e in obj.get("endpoints") or []
        if (e.get("conditions") or {}).get("ready", True) is not False
    )
    return {
        "metadata": {
            "name": (obj.get("metadata") or {}).get("name", ""),
            "namespace": (obj.get("metadata") or {}).get("namespace", ""),
            "service": labels.get("kubernetes.io/service-name", ""),
        },
        "ready": ready,
        "ports": [{"name": p.get("name"), "port": p.get("port")} for p in obj.get("ports") or []],
    }


def rbac(obj: Obj) -> Obj:
    out: Obj = {"metadata": _meta(obj, ("rbac.authorization.kubernetes.io/autoupdate",))}
    for key in ("rules", "roleRef", "subjects", "aggregationRule"):
        if obj.get(key) is not None:
            out[key] = obj[key]
    return out


def csr(obj: Obj) -> Obj:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    return {
        "metadata": _meta(obj),
        "spec": {
            k: spec.get(k)
            for k in ("request", "signerName", "username", "groups", "usages", "expirationSeconds")
            if k in spec
        },
        "status": {
            "conditions": [
                {k: c.get(k) for k in ("type", "status", "reason", "lastUpdateTime")}
                for c in status.get("conditions") or []
            ],
            "issued": bool(status.get("certificate")),
        },
    }


def namespace(obj: Obj) -> Obj:
    return {"metadata": _meta(obj)}


TRIMMERS: dict[str, Callable[[Obj], Obj]] = {
    "nodes": node,
    "namespaces": namespace,
    "pods": pod,
    "serviceaccounts": service_account,
    "services": service,
    "secrets": secret_metadata,
    "endpointslices": endpoint_slice,
    "clusterroles": rbac,
    "clusterrolebindings": rbac,
    "roles": rbac,
    "rolebindings": rbac,
    "certificatesigningrequests": csr,
}
