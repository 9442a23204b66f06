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


def _key_paths(items: Any) -> list[Obj]:
    # Which keys a Secret volume projects: a volume that lists items delivers only those.
    return [{"key": str((i or {}).get("key", ""))} for i in items or []]


def _secret_reference(source: Obj, name_field: str) -> Obj:
    out: Obj = {name_field: str(source.get(name_field, ""))}
    if source.get("items") is not None:
        out["items"] = _key_paths(source["items"])
    if "optional" in source:
        out["optional"] = bool(source["optional"])
    return out


def _projection(source: Obj) -> Obj | None:
    """A projected source that carries, or marks, an API credential."""
    if "serviceAccountToken" in source:
        return {"serviceAccountToken": dict(source["serviceAccountToken"] or {})}
    if "secret" in source:
        return {"secret": _secret_reference(source["secret"] or {}, "name")}
    # Kept by kind only: with the token they make the ServiceAccount admission plugin's
    # kube-api-access volume recognisable (kubepci.analysis.pod_credentials).
    if "configMap" in source:
        return {"configMap": {"name": str((source["configMap"] or {}).get("name", ""))}}
    if "downwardAPI" in source:
        return {"downwardAPI": {}}
    return None


def _volume(volume: Obj) -> Obj | None:
    """Keep the volumes that can carry API credentials: projected tokens, Secrets."""
    if "projected" in volume:
        sources = [
            kept
            for kept in (
                _projection(s or {}) for s in (volume["projected"] or {}).get("sources") or []
            )
            if kept
        ]
        if any("serviceAccountToken" in s or "secret" in s for s in sources):
            return {"name": volume.get("name", ""), "projected": {"sources": sources}}
    if "secret" in volume:
        return {
            "name": volume.get("name", ""),
            "secret": _secret_reference(volume.get("secret") or {}, "secretName"),
        }
    return None


def _secret_env(container: Obj) -> Obj:
    """Which Secrets a container reads into its environment: names and keys, never values."""
    out: Obj = {}
    env = [
        {
            "name": str(e.get("name", "")),
            "secretKeyRef": {
                "name": str(ref.get("name", "")),
                "key": str(ref.get("key", "")),
            },
        }
        for e in container.get("env") or []
        if (ref := ((e or {}).get("valueFrom") or {}).get("secretKeyRef")) is not None
    ]
    if env:
        out["env"] = env
    env_from = [
        {
            "prefix": str(e.get("prefix", "")),
            "secretRef": {"name": str((e.get("secretRef") or {}).get("name", ""))},
        }
        for e in container.get("envFrom") or []
        if (e or {}).get("secretRef") is not None
    ]
    if env_from:
        out["envFrom"] = env_from
    mounts = [
        {"name": str(m.get("name", "")), "mountPath": str(m.get("mountPath", ""))}
        for m in container.get("volumeMounts") or []
    ]
    if mounts:
        out["volumeMounts"] = mounts
    return out


def _static_pod_env(container: Obj) -> Obj:
    """What a static pod's flags may come from besides its command line: the variables its
    command and args reference as $(NAME) (the kubelet expands them), transitively, and
    etcd's ETCD_* variables (etcd reads them as flags). Other variables are not kept. A
    value from elsewhere keeps only the kind of its source. Static pods cannot reference
    Secrets (the ServiceAccount admission plugin refuses them)."""
    entries = [e or {} for e in container.get("env") or []]
    text = " ".join(
        str(t) for t in [*(container.get("command") or []), *(container.get("args") or [])]
    )
    wanted = {str(e.get("name", "")) for e in entries if str(e.get("name", "")).startswith("ETCD_")}
    while True:
        more = {
            n for e in entries if (n := str(e.get("name", ""))) not in wanted and f"$({n})" in text
        }
        if not more:
            break
        wanted |= more
        text += " " + " ".join(str(e.get("value") or "") for e in entries if e.get("name") in more)
    env = []
    for e in entries:
        if str(e.get("name", "")) not in wanted:
            continue
        if e.get("valueFrom") is not None:
            env.append({"name": str(e["name"]), "valueFrom": {k: {} for k in e["valueFrom"]}})
        else:
            env.append({"name": str(e["name"]), "value": str(e.get("value") or "")})
    out: Obj = {"env": env} if env else {}
    if container.get("envFrom"):
        out["envFrom"] = [
            {k: (str(v) if k == "prefix" else {}) for k, v in (s or {}).items()}
            for s in container["envFrom"]
        ]
    return out


def pod(obj: Obj) -> Obj:
    meta = _meta(obj, POD_ANNOTATIONS)
    spec = obj.get("spec") or {}
    # Flags are only judged on control-plane pods; other pods' command lines are dropped
    # because they are large and may carry application secrets.
    mirror = "kubernetes.io/config.mirror" in meta.get("annotations", {})
    keep_commands = mirror or meta.get("namespace") in CONTROL_PLANE_NAMESPACES

    def kept_container(container: Obj) -> Obj:
        kept: Obj = {"name": container.get("name", ""), "image": container.get("image", "")}
        if keep_commands:
            kept["command"] = list(container.get("command") or [])
            kept["args"] = list(container.get("args") or [])
        kept.update(_secret_env(container))
        if mirror:
            kept.update(_static_pod_env(container))
        return kept

    out_spec: Obj = {
        "serviceAccountName": spec.get("serviceAccountName") or "default",
        "nodeName": spec.get("nodeName", ""),
        "hostNetwork": bool(spec.get("hostNetwork")),
        "containers": [kept_container(c) for c in spec.get("containers") or []],
        "volumes": [v for v in (_volume(v) for v in spec.get("volumes") or []) if v],
    }
    # Init and ephemeral containers read Secrets and mount volumes like any other.
    for field in ("initContainers", "ephemeralContainers"):
        if spec.get(field):
            out_spec[field] = [kept_container(c) for c in spec[field]]
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


def token_secret_metadata(obj: Obj) -> Obj:
    """A Secret listed with the field selector type=kubernetes.io/service-account-token:
    the metadata it shares with every Secret, and the type the server selected it by."""
    return {**secret_metadata(obj), "type": "kubernetes.io/service-account-token"}


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
    out: Obj = {
        "metadata": {
            "name": (obj.get("metadata") or {}).get("name", ""),
            "namespace": (obj.get("metadata") or {}).get("namespace", ""),
            "service": labels.get("kubernetes.io/service-name", ""),
        },
        "ready": ready,
        "ports": [{"name": p.get("name"), "port": p.get("port")} for p in obj.get("ports") or []],
    }
    if out["metadata"]["namespace"] == "default" and out["metadata"]["service"] == "kubernetes":
        # The API server's own endpoints: where the control plane runs (distribution).
        out["addresses"] = [
            str(a) for e in obj.get("endpoints") or [] for a in e.get("addresses") or []
        ]
    return out


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
    "token-secrets": token_secret_metadata,
    "endpointslices": endpoint_slice,
    "clusterroles": rbac,
    "clusterrolebindings": rbac,
    "roles": rbac,
    "rolebindings": rbac,
    "certificatesigningrequests": csr,
}
