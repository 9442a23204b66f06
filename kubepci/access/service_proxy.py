"""Requests to Service ports through the API server's service proxy, without credentials
reaching the backend.

The suite's own credentials authenticate it to the API server, which strips them before
proxying (k8s.io/apiserver pkg/endpoints/filters/authentication.go) and reaches the
backend with none (k8s.io/kubernetes pkg/controlplane/apiserver/config.go,
CreateProxyTransport). The proxy sets no deadline of its own on a backend's answer, so each
request here has a short read timeout and is sent once: a probe's answer is evidence, and
a retry would only double what a hanging backend costs.

Which paths are asked, when a redirect is followed, when a port is retried over TLS and
when probing a port stops are decided by :mod:`kubepci.analysis.service_answers`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import urllib3
from kubernetes import client as k8s

from kubepci.access.probes import (
    BODY_READ,
    KEPT_HEADERS,
    PathProbe,
    ProbeResult,
    excerpt,
    read_bounded,
)
from kubepci.analysis import service_answers
from kubepci.analysis.endpoints import SERVICE_PROBE_PATHS, ServicePort
from kubepci.records.probes import UNANSWERED

CREDENTIALS_NOTE = "stripped by the API server's service proxy"
Send = Callable[[str], ProbeResult]


class ServiceProxyProber:
    """GETs on the API server's service proxy: one attempt each, a short read timeout."""

    def __init__(self, api: k8s.ApiClient, timeout: float, connect_timeout: float = 5.0) -> None:
        self.api = api
        self.timeout = timeout
        self.connect_timeout = connect_timeout

    @property
    def host(self) -> str:
        return str(self.api.configuration.host).rstrip("/")

    def _send(self, full_url: str, headers: Any) -> Any:
        def once() -> Any:
            return self.api.rest_client.pool_manager.request(
                "GET",
                full_url,
                headers=headers,
                timeout=urllib3.Timeout(connect=self.connect_timeout, read=self.timeout),
                preload_content=False,
                redirect=False,
                retries=False,
            )

        try:
            return once()
        except urllib3.exceptions.ProtocolError:
            # The API server closed a pooled keep-alive connection before our request got
            # an answer (RemoteDisconnected): the request never reached a backend, so it
            # is sent again, once. A timeout is an answer about the backend and is not.
            return once()

    def get(self, path: str) -> ProbeResult:
        url = self.host + path
        try:
            _, full_url, headers, _, _ = self.api.param_serialize(
                method="GET",
                resource_path=path,
                header_params={"Accept": "*/*"},
                auth_settings=["BearerToken"],
            )
            # The configured pool (the cluster's CA, the client certificate if any), asked
            # directly: the client's own request() would follow a redirect off the API
            # server, and a 3xx is an answer to record here, not to chase.
            raw: Any = self._send(full_url, headers)
        except (urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
            return ProbeResult("GET", url, error=_short(exc), credentials=CREDENTIALS_NOTE)
        complete = False
        try:
            data, complete = read_bounded(raw, BODY_READ, self.timeout)
        except (urllib3.exceptions.HTTPError, OSError):
            data = b""
        finally:
            # A body not read to its end (a stream) must not go back to the pool.
            if complete:
                raw.release_conn()
            else:
                raw.close()
        text = data.decode("utf-8", "replace")
        return ProbeResult(
            "GET",
            url,
            raw.status,
            headers=tuple(
                (k.lower(), v) for k, v in raw.headers.items() if k.lower() in KEPT_HEADERS
            ),
            body=excerpt(text),
            credentials=CREDENTIALS_NOTE,
            marks=service_answers.body_marks(text),
        )


def _short(exc: BaseException) -> str:
    """The cause in a few words ("timed out" is what the verdict rules look for)."""
    text = str(exc).lower()
    for marker in ("timed out", "connection refused", "connection reset", "certificate"):
        if marker in text:
            return marker
    return f"{type(exc).__name__}: {str(exc)[:160]}"


def probe_path(send: Send, port: ServicePort, scheme: str, path: str) -> PathProbe:
    """Ask one path, following redirects that stay on this port's proxy path (bounded)."""
    requests = [send(port.proxy_prefix(scheme) + path)]
    while len(requests) <= service_answers.MAX_REDIRECTS:
        target = service_answers.redirect_target(requests[-1], port)
        if target is None:
            break
        requests.append(send(target))
    return PathProbe(path, scheme, tuple(requests))


def unanswered_port(host: str, port: ServicePort, reason: str) -> list[PathProbe]:
    """The record of a port its phase's deadline cut off (kubepci.access.probe_pool): its
    landing page, never answered. It judges as not judged, so the check never passes it.
    """
    url = host + port.proxy_prefix(port.scheme) + SERVICE_PROBE_PATHS[0]
    request = ProbeResult("GET", url, error=reason, credentials=CREDENTIALS_NOTE, kind=UNANSWERED)
    return [PathProbe(SERVICE_PROBE_PATHS[0], port.scheme, (request,))]


def probe_port(send: Send, port: ServicePort) -> list[PathProbe]:
    """Every path of SERVICE_PROBE_PATHS on one port, over the scheme it answers to.

    ``/`` is asked first. If its answer says the port speaks the other scheme (a TLS
    server's 400 to plain HTTP, a TLS alert, a plain answer to TLS), ``/`` is asked again
    over that scheme, which the rest then use. An answer about the port rather than the
    path (no answer within the timeout, connection refused, no endpoints) ends probing it.
    """
    scheme = port.scheme
    first = probe_path(send, port, scheme, SERVICE_PROBE_PATHS[0])
    probes = [first]
    answer = service_answers.classify(first)
    other = service_answers.other_scheme(answer)
    if other is not None:
        scheme = other
        retry = probe_path(send, port, scheme, SERVICE_PROBE_PATHS[0])
        probes.append(retry)
        answer = service_answers.classify(retry)
    if service_answers.ends_port(answer):
        return probes
    for path in SERVICE_PROBE_PATHS[1:]:
        probe = probe_path(send, port, scheme, path)
        probes.append(probe)
        if service_answers.ends_port(service_answers.classify(probe)):
            break
    return probes
