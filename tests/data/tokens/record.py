"""Record what tests/unit/test_tokens.py replays, from the running local cluster.

    PYTHONPATH=. flock /tmp/kubepci-cluster.lock .venv/bin/python tests/data/tokens/record.py

Writes <profile>.json beside this file: the raw API objects the token checks judge (pods
and ServiceAccounts of the fixture namespaces, the kube-apiserver mirror pod, Secrets as
metadata only, both the whole list and the one selected by type), with managedFields
dropped, and the API server's own answer for each projected token: a TokenRequest bound
to the pod with the same audience and expirationSeconds, of which only the lifetime
(exp - iat of the issued JWT) is kept. The token itself is never written or printed.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from kubernetes import client, config

from harness import cluster_state
from kubepci.access.api import METADATA_ONLY

HERE = Path(__file__).resolve().parent
NAMESPACES = ("payments", "pci-tokens")
TOKEN_TYPE = "type=kubernetes.io/service-account-token"


def _raw(api: client.ApiClient, path: str, query: list[tuple[str, str]], accept: str) -> Any:
    _, url, headers, _, _ = api.param_serialize(
        method="GET",
        resource_path=path,
        query_params=query,
        header_params={"Accept": accept},
        auth_settings=["BearerToken"],
    )
    response = api.call_api("GET", url, header_params=headers)
    return json.loads(response.read())


def _strip(obj: dict[str, Any]) -> dict[str, Any]:
    obj.get("metadata", {}).pop("managedFields", None)
    return obj


def _lifetime(jwt: str) -> int:
    payload = jwt.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return int(claims["exp"]) - int(claims["iat"])


def issued_lifetimes(core: client.CoreV1Api, pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The server's lifetime for each projected token, asked for exactly as the kubelet does
    (pkg/volume/projected/projected.go): bound to the pod, the source's audience or none."""
    out = []
    for pod in pods:
        meta, spec = pod["metadata"], pod["spec"]
        for volume in spec.get("volumes") or []:
            for source in (volume.get("projected") or {}).get("sources") or []:
                token = source.get("serviceAccountToken")
                if token is None:
                    continue
                audience = token.get("audience") or ""
                request = client.AuthenticationV1TokenRequest(
                    spec=client.V1TokenRequestSpec(
                        audiences=[audience] if audience else [],
                        expiration_seconds=token.get("expirationSeconds", 3600),
                        bound_object_ref=client.V1BoundObjectReference(
                            api_version="v1", kind="Pod", name=meta["name"], uid=meta["uid"]
                        ),
                    )
                )
                answer = core.create_namespaced_service_account_token(
                    spec["serviceAccountName"], meta["namespace"], request
                )
                out.append(
                    {
                        "pod": f"{meta['namespace']}/{meta['name']}",
                        "volume": volume["name"],
                        "requested": token.get("expirationSeconds", 3600),
                        "audience": audience,
                        "issued_seconds": _lifetime(answer.status.token),
                    }
                )
    return out


# (requested seconds, audience) asked of the server for a pod-bound token, beyond what the
# pods ask: both sides of the cap and of the 3607 s extension marker, and an audience
# that is not the API server's.
PROBES = ((600, ""), (3600, ""), (3607, ""), (3607, "vault"), (7200, ""), (172800, ""))

BUSYBOX = {
    "name": "app",
    "image": "kubepci.local/busybox:1.35",
    "imagePullPolicy": "Never",
    "command": ["/bin/busybox", "sleep", "60"],
}
TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
OWN_TOKEN_DIR = {"name": "own", "mountPath": TOKEN_PATH}
HAND_PROJECTED = {
    "name": "api-token",
    "projected": {
        "sources": [{"serviceAccountToken": {"path": "token", "expirationSeconds": 3607}}]
    },
}
# Pod specs whose admission the ServiceAccount plugin decides, in namespace default (its
# default ServiceAccount sets nothing). Sent as server-side dry runs: admitted, not stored.
ADMISSION_VARIANTS: dict[str, dict[str, Any]] = {
    "automount-default": {"containers": [BUSYBOX]},
    "automount-pod-true": {"automountServiceAccountToken": True, "containers": [BUSYBOX]},
    "automount-pod-false": {"automountServiceAccountToken": False, "containers": [BUSYBOX]},
    "automount-false-hand-projected": {
        "automountServiceAccountToken": False,
        "containers": [{**BUSYBOX, "volumeMounts": [{"name": "api-token", "mountPath": "/t"}]}],
        "volumes": [HAND_PROJECTED],
    },
    "own-volume-at-token-path": {
        "containers": [{**BUSYBOX, "volumeMounts": [OWN_TOKEN_DIR]}],
        "volumes": [{"name": "own", "emptyDir": {}}],
    },
    "init-container-gets-the-token": {
        "initContainers": [{**BUSYBOX, "name": "init"}],
        "containers": [{**BUSYBOX, "volumeMounts": [OWN_TOKEN_DIR]}],
        "volumes": [{"name": "own", "emptyDir": {}}],
    },
    "volume-named-like-the-plugins": {
        "containers": [BUSYBOX],
        "volumes": [{**HAND_PROJECTED, "name": "kube-api-access-mine"}],
    },
    "secret-references": {
        "automountServiceAccountToken": False,
        "initContainers": [
            {**BUSYBOX, "name": "init", "envFrom": [{"prefix": "CI_", "secretRef": {"name": "t"}}]}
        ],
        "containers": [
            {
                **BUSYBOX,
                "env": [
                    {"name": "PLAIN", "value": "not-kept"},
                    {
                        "name": "CI_TOKEN",
                        "valueFrom": {"secretKeyRef": {"name": "t", "key": "token"}},
                    },
                    {"name": "CA", "valueFrom": {"secretKeyRef": {"name": "t", "key": "ca.crt"}}},
                ],
                "volumeMounts": [
                    {"name": "whole", "mountPath": "/w"},
                    {"name": "ca", "mountPath": "/c"},
                ],
            }
        ],
        "volumes": [
            {"name": "whole", "secret": {"secretName": "t"}},
            {
                "name": "ca",
                "secret": {"secretName": "t", "items": [{"key": "ca.crt", "path": "ca.crt"}]},
            },
            {
                "name": "mixed",
                "projected": {"sources": [{"secret": {"name": "t"}}, {"configMap": {"name": "c"}}]},
            },
        ],
    },
}


def admitted(api: client.ApiClient) -> dict[str, Any]:
    out = {}
    for name, spec in ADMISSION_VARIANTS.items():
        body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}
        _, url, headers, data, _ = api.param_serialize(
            method="POST",
            resource_path="/api/v1/namespaces/default/pods",
            query_params=[("dryRun", "All")],
            header_params={"Accept": "application/json", "Content-Type": "application/json"},
            body=body,
            auth_settings=["BearerToken"],
        )
        response = api.call_api("POST", url, header_params=headers, body=data)
        out[name] = _strip(json.loads(response.read()))
    return out


def probe_lifetimes(core: client.CoreV1Api, pod: dict[str, Any]) -> list[dict[str, Any]]:
    meta = pod["metadata"]
    out = []
    for seconds, audience in PROBES:
        request = client.AuthenticationV1TokenRequest(
            spec=client.V1TokenRequestSpec(
                audiences=[audience] if audience else [],
                expiration_seconds=seconds,
                bound_object_ref=client.V1BoundObjectReference(
                    api_version="v1", kind="Pod", name=meta["name"], uid=meta["uid"]
                ),
            )
        )
        answer = core.create_namespaced_service_account_token(
            pod["spec"]["serviceAccountName"], meta["namespace"], request
        )
        out.append(
            {
                "pod": f"{meta['namespace']}/{meta['name']}",
                "requested": seconds,
                "audience": audience,
                "issued_seconds": _lifetime(answer.status.token),
            }
        )
    return out


def main() -> None:
    state = cluster_state.read()
    api = config.new_client_from_config(state["ADMIN_KUBECONFIG"])
    core = client.CoreV1Api(api)
    pods, accounts, secrets, typed = [], [], [], []
    for ns in NAMESPACES:
        pods += _raw(api, f"/api/v1/namespaces/{ns}/pods", [], "application/json")["items"] or []
        accounts += _raw(api, f"/api/v1/namespaces/{ns}/serviceaccounts", [], "application/json")[
            "items"
        ]
        secrets += _raw(api, f"/api/v1/namespaces/{ns}/secrets", [], METADATA_ONLY)["items"] or []
        selector = [("fieldSelector", TOKEN_TYPE)]
        typed += (
            _raw(api, f"/api/v1/namespaces/{ns}/secrets", selector, METADATA_ONLY)["items"] or []
        )
    system = _raw(api, "/api/v1/namespaces/kube-system/pods", [], "application/json")["items"] or []
    apiserver = [p for p in system if p["metadata"]["name"].startswith("kube-apiserver-")]
    # A Secret's last-applied annotation would hold its manifest: keep metadata the API
    # lists, minus that.
    for secret in secrets + typed:
        (secret["metadata"].get("annotations") or {}).pop(
            "kubectl.kubernetes.io/last-applied-configuration", None
        )
    document = {
        "profile": state["PROFILE"],
        "pods": [_strip(p) for p in pods],
        "serviceaccounts": [_strip(a) for a in accounts],
        "secrets_metadata": [_strip(s) for s in secrets],
        "token_secrets_metadata": [_strip(s) for s in typed],
        "apiserver_pods": [_strip(p) for p in apiserver],
        "issued": issued_lifetimes(core, pods),
        "probes": probe_lifetimes(core, pods[-1]),
        "admitted": admitted(api),
    }
    path = HERE / f"{state['PROFILE']}.json"
    path.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    print(f"wrote {path} ({len(document['issued'])} token lifetimes)")


if __name__ == "__main__":
    main()
