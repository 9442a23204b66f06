"""Record what tests/unit/test_service_answers.py replays, from the running local cluster.

    PYTHONPATH=. flock /tmp/kubepci-cluster.lock .venv/bin/python \
        tests/data/service_probes/record.py

Probes every Service port of the fixture namespaces exactly as the suite does
(kubepci.access.service_proxy.probe_port, the audited identity's kubeconfig) and writes
<profile>-<namespace>.json beside this file: each port and the transcripts of its probed
paths. Then, into proxy-answers.json, single answers of the API server itself: a port the
Service does not have, a Service that does not exist, and (impersonating a user with no
grant, through the admin kubeconfig) the refusal of ``get services/proxy``. Transcripts
hold URLs, kept response headers and body excerpts only; no credential is written.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from kubernetes import client, config

from harness import cluster_state
from kubepci.access.service_proxy import ServiceProxyProber, probe_port
from kubepci.analysis import endpoints, service_answers

HERE = Path(__file__).resolve().parent
NAMESPACES = ("monitoring", "payments")
UNGRANTED_USER = "kubepci-no-proxy-rights"  # bound to nothing: get services/proxy is refused
TIMEOUT = 4.0


def _api(kubeconfig: str) -> client.ApiClient:
    configuration = client.Configuration()
    config.load_kube_config(
        config_file=kubeconfig, client_configuration=configuration, persist_config=False
    )
    return client.ApiClient(configuration)


def _ports(api: client.ApiClient, namespace: str) -> list[endpoints.ServicePort]:
    core = client.CoreV1Api(api)
    services = [
        api.sanitize_for_serialization(s) for s in core.list_namespaced_service(namespace).items
    ]
    slices = client.DiscoveryV1Api(api).list_namespaced_endpoint_slice(namespace).items
    trimmed = [
        {
            "metadata": {
                "namespace": namespace,
                "service": (s.metadata.labels or {}).get("kubernetes.io/service-name", ""),
            },
            "ready": sum(1 for e in s.endpoints or [] if (e.conditions and e.conditions.ready)),
        }
        for s in slices
    ]
    return endpoints.services_to_probe(services, trimmed)[0]


def record_namespace(api: client.ApiClient, profile: str, namespace: str) -> None:
    prober = ServiceProxyProber(api, TIMEOUT)
    out: list[dict[str, Any]] = []
    for port in _ports(api, namespace):
        paths = probe_port(prober.get, port)
        print(service_answers.judge_port(port, paths).line())
        out.append(
            {
                "port": {
                    "namespace": port.namespace,
                    "name": port.name,
                    "port": port.port,
                    "port_name": port.port_name,
                    "scheme": port.scheme,
                },
                "paths": [p.to_json() for p in paths],
            }
        )
    if out:
        target = HERE / f"{profile}-{namespace}.json"
        target.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")


def record_api_server_answers(values: dict[str, str]) -> None:
    base = "/api/v1/namespaces/payments/services"
    own = ServiceProxyProber(_api(values["KUBECONFIG"]), TIMEOUT)
    admin = _api(values["ADMIN_KUBECONFIG"])
    admin.set_default_header("Impersonate-User", UNGRANTED_USER)
    answers = {
        "no-service-port": own.get(f"{base}/payments-api:9999/proxy/"),
        "service-gone": own.get(f"{base}/no-such-service:80/proxy/"),
        "suite-forbidden": ServiceProxyProber(admin, TIMEOUT).get(
            f"{base}/payments-api:80/proxy/metrics"
        ),
    }
    target = HERE / "proxy-answers.json"
    doc = {label: result.to_json() for label, result in answers.items()}
    target.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")


def main() -> int:
    values = cluster_state.read()
    profile = values.get("PROFILE", "")
    if not profile:
        print("no local cluster is up", file=sys.stderr)
        return 1
    api = _api(values["KUBECONFIG"])
    for namespace in NAMESPACES:
        record_namespace(api, profile, namespace)
    record_api_server_answers(values)
    return 0


if __name__ == "__main__":
    sys.exit(main())
