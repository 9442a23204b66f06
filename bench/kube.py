"""A thin raw-JSON wrapper over the official kubernetes client, for populate and floor.

The typed models cost more than the requests at these sizes, so bodies go out and come
back as JSON; retries cover the API server's 429/5xx under a bulk load.
"""

from __future__ import annotations

import json
import time
from typing import Any

from kubernetes import client as k8s
from kubernetes import config as k8s_config

Obj = dict[str, Any]
RETRYABLE = frozenset({429, 500, 502, 503, 504})


def api_client(kubeconfig: str, pool: int = 16) -> k8s.ApiClient:
    configuration = k8s.Configuration()
    k8s_config.load_kube_config(
        config_file=kubeconfig, client_configuration=configuration, persist_config=False
    )
    configuration.connection_pool_maxsize = pool
    return k8s.ApiClient(configuration)


class ApiError(Exception):
    def __init__(self, method: str, path: str, status: int, body: bytes) -> None:
        super().__init__(f"{method} {path}: {status} {body[:300]!r}")
        self.status = status


def send(
    api: k8s.ApiClient,
    method: str,
    path: str,
    *,
    query: list[tuple[str, Any]] | None = None,
    body: Any = None,
    accept: str = "application/json",
    ok: tuple[int, ...] = (200, 201, 202),
    attempts: int = 6,
) -> tuple[int, bytes]:
    headers = {"Accept": accept}
    if body is not None:
        headers["Content-Type"] = "application/json"
    status, data = 0, b""
    for attempt in range(attempts):
        _, url, hdrs, payload, _ = api.param_serialize(
            method=method,
            resource_path=path,
            query_params=query or [],
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        response = api.call_api(method, url, header_params=hdrs, body=payload, _request_timeout=60)
        status, data = response.status, response.read() or b""
        if status in ok:
            return status, data
        if status not in RETRYABLE:
            break
        time.sleep(min(0.2 * 2**attempt, 5))
    raise ApiError(method, path, status, data)


def get_json(api: k8s.ApiClient, path: str, query: list[tuple[str, Any]] | None = None) -> Obj:
    return json.loads(send(api, "GET", path, query=query)[1])


def list_all(
    api: k8s.ApiClient, path: str, accept: str = "application/json", limit: int = 500, **q: str
) -> list[Obj]:
    """Every item of a collection, paginated."""
    items: list[Obj] = []
    token = ""
    while True:
        query: list[tuple[str, Any]] = [("limit", limit), *q.items()]
        if token:
            query.append(("continue", token))
        page = json.loads(send(api, "GET", path, query=query, accept=accept)[1])
        items.extend(page.get("items") or [])
        token = (page.get("metadata") or {}).get("continue") or ""
        if not token:
            return items
