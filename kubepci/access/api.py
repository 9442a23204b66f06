"""Read-only access to one cluster's API, with timeouts, bounded retries and a request log.

Every request the suite makes goes through :class:`ApiReader`, so the request count per
verb and path (used by the benchmark) and the retry policy live in one place. The only
non-GET calls are the review APIs, which store nothing.
"""

from __future__ import annotations

import contextlib
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import urllib3
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.config.config_exception import ConfigException

from kubepci import jsonio
from kubepci.access.kubeconfig import IN_CLUSTER, Target

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
METADATA_ONLY = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
REVIEW_PATHS = (
    "/apis/authentication.k8s.io/v1/selfsubjectreviews",
    "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
    # Asks whether another identity may do something: confirms each RBAC finding and
    # detects an authorizer that grants everyone. Like the others, it stores nothing.
    "/apis/authorization.k8s.io/v1/subjectaccessreviews",
)


class ApiUnavailable(Exception):
    """A request failed for good; ``str()`` is one line naming the reason."""

    def __init__(self, reason: str, status: int = 0) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True)
class Policy:
    """How long to wait and how often to retry before a check errors out."""

    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    attempts: int = 4
    backoff: float = 0.5
    max_backoff: float = 8.0


def describe_status(status: int, body: bytes) -> str:
    message = ""
    with contextlib.suppress(ValueError, AttributeError):
        message = str(json.loads(body).get("message", ""))
    names = {401: "unauthorized", 403: "forbidden", 404: "not found", 429: "too many requests"}
    label = names.get(status, "server error" if status >= 500 else "rejected")
    text = f"{status} {label}"
    return f"{text}: {message[:200]}" if message else text


_CAUSES = (
    ("Connection refused", "connection refused"),
    ("timed out", "timed out"),
    ("Name or service not known", "host name not resolved"),
    ("No route to host", "no route to host"),
    ("Connection reset", "connection reset"),
    ("Remote end closed connection", "connection closed by the server"),
    ("CERTIFICATE_VERIFY_FAILED", "certificate verify failed"),
)


def _one_line(exc: BaseException) -> str:
    """The cause a person acts on, not urllib3's nested repr."""
    text = str(exc).replace("\n", " ")
    for marker, plain in _CAUSES:
        if marker.lower() in text.lower():
            return plain
    return text[:240]


def _is_tls_failure(exc: BaseException) -> bool:
    reason = getattr(exc, "reason", None)
    return isinstance(exc, urllib3.exceptions.SSLError) or isinstance(
        reason, urllib3.exceptions.SSLError
    )


def build_client(target: Target) -> k8s.ApiClient:
    """An ApiClient for the target; exec plugins run here, locally, on first use."""
    configuration = k8s.Configuration()
    try:
        if target.kubeconfig == IN_CLUSTER:
            k8s_config.load_incluster_config(client_configuration=configuration)
        else:
            k8s_config.load_kube_config(
                config_file=target.kubeconfig,
                context=target.context,
                client_configuration=configuration,
                persist_config=False,
            )
    except ConfigException as exc:
        raise ApiUnavailable(f"cannot load credentials: {_one_line(exc)}") from None
    except OSError as exc:
        raise ApiUnavailable(f"cannot load credentials: {_one_line(exc)}") from None
    if not configuration.verify_ssl:
        raise ApiUnavailable("TLS verification is disabled; refusing to send credentials")
    # Retries are ours (bounded, with backoff); urllib3's own would hide failures.
    configuration.retries = urllib3.Retry(total=0, redirect=0, raise_on_status=False)
    return k8s.ApiClient(configuration)


class ApiReader:
    """GETs (and review POSTs) against one API server, with retries and a request log."""

    def __init__(
        self,
        api_client: k8s.ApiClient,
        policy: Policy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api = api_client
        self.policy = policy or Policy()
        self.sleep = sleep
        self.requests: Counter[str] = Counter()
        self._count_lock = threading.Lock()

    @property
    def host(self) -> str:
        return str(self.api.configuration.host)

    def _send(
        self, method: str, path: str, query: list[tuple[str, Any]], accept: str, body: Any
    ) -> tuple[int, bytes, urllib3.HTTPHeaderDict]:
        if method != "GET" and path not in REVIEW_PATHS:
            raise AssertionError(f"kubepci is read-only; refusing {method} {path}")
        headers = {"Accept": accept}
        if body is not None:
            headers["Content-Type"] = "application/json"
        _, url, headers, body, _ = self.api.param_serialize(
            method=method,
            resource_path=path,
            query_params=query,
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        response = self.api.call_api(
            method,
            url,
            header_params=headers,
            body=body,
            _request_timeout=(self.policy.connect_timeout, self.policy.read_timeout),
        )
        data = response.read() or b""
        # Header names are case-insensitive (proxies send "retry-after"): keep them so.
        return response.status, data, urllib3.HTTPHeaderDict(response.headers or {})

    def request(
        self,
        method: str,
        path: str,
        query: list[tuple[str, Any]] | None = None,
        accept: str = "application/json",
        body: Any = None,
        ok: tuple[int, ...] = (200, 201),
    ) -> tuple[int, bytes]:
        """Send with bounded retries; return (status, body) for statuses in ``ok``.

        Raises ApiUnavailable for any other status, for timeouts and for transport errors
        once the retries are spent.
        """
        with self._count_lock:  # the snapshot lists several resources at once
            self.requests[f"{method} {path}"] += 1
        delay = self.policy.backoff
        last = "no attempt made"
        for attempt in range(1, self.policy.attempts + 1):
            retry_after = 0.0
            try:
                status, data, headers = self._send(method, path, query or [], accept, body)
            except k8s.ApiException as exc:  # TLS failures arrive as status 0
                raise ApiUnavailable(f"TLS error: {_one_line(exc)}") from None
            except urllib3.exceptions.SSLError as exc:
                raise ApiUnavailable(f"TLS error: {_one_line(exc)}") from None
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                if _is_tls_failure(exc):
                    # A certificate that does not verify will not verify on a retry.
                    raise ApiUnavailable(f"TLS error: {_one_line(exc)}") from None
                last = f"unreachable: {_one_line(exc)}"
            else:
                if status in ok:
                    return status, data
                last = describe_status(status, data)
                if status not in RETRYABLE_STATUS:
                    raise ApiUnavailable(last, status)
                try:
                    retry_after = float(headers.get("Retry-After", 0))
                except ValueError:
                    retry_after = 0.0
            if attempt < self.policy.attempts:
                wait = max(delay, retry_after) * (1 + random.random() / 4)
                self.sleep(min(wait, self.policy.max_backoff))
                delay *= 2
        raise ApiUnavailable(f"{last} (after {self.policy.attempts} attempts)")

    def get_json(self, path: str, query: list[tuple[str, Any]] | None = None) -> Any:
        _, data = self.request("GET", path, query)
        return jsonio.loads(data)

    def list_pages(
        self,
        path: str,
        accept: str = "application/json",
        page_size: int = 500,
        on_restart: Callable[[], None] | None = None,
        selector: Sequence[tuple[str, str]] = (),
    ) -> Iterator[dict[str, Any]]:
        """Yield each page of a paginated list; restart once if the continue token expires.

        A restart lists from the first page again, so ``on_restart`` is called first: the
        caller drops what it kept of the abandoned pass, or it would hold objects twice.
        ``selector`` narrows the list (a ``fieldSelector``), on every page alike.
        """
        token = ""
        restarted = False
        while True:
            query: list[tuple[str, Any]] = [*selector, ("limit", page_size)]
            if token:
                query.append(("continue", token))
            try:
                _, data = self.request("GET", path, query, accept=accept)
            except ApiUnavailable as exc:
                if exc.status == 410 and not restarted:
                    token, restarted = "", True
                    if on_restart is not None:
                        on_restart()
                    continue
                raise
            page = jsonio.loads(data)
            yield page
            token = (page.get("metadata") or {}).get("continue") or ""
            if not token:
                return

    def review(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST to a review API (stores nothing) and return its status."""
        _, data = self.request("POST", path, body=body)
        return jsonio.loads(data)
