"""Live probes: unauthenticated requests to the cluster's network endpoints.

These requests deliberately carry no credentials: a fresh ``requests`` session with
``trust_env`` off (so no ~/.netrc or proxy credentials are added) and no auth. Because
nothing secret is sent, certificate verification is off for them; whatever answers is
the evidence. Requests that carry the suite's credentials never go through here.
"""

from __future__ import annotations

import ssl
import time
import warnings
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter

from kubepci.records.probes import PathProbe, ProbeResult

__all__ = ["AnonymousProber", "PathProbe", "ProbeResult"]

BODY_EXCERPT = 300
# How much of a body is read to judge it (a sign-in form may sit below a large <head>);
# the evidence keeps only BODY_EXCERPT characters of it.
BODY_READ = 65536
KEPT_HEADERS = ("content-type", "www-authenticate", "server", "content-length", "location")


def read_bounded(raw: Any, limit: int = BODY_READ, within: float = 4.0) -> tuple[bytes, bool]:
    """Up to ``limit`` bytes of a streamed urllib3 response, for at most ``within`` seconds,
    and whether the body ended there.

    ``read1`` returns after one receive, so a backend that streams forever or drips a byte
    at a time costs at most ``within`` seconds (plus one socket timeout), not ``limit``
    receives.
    """
    deadline = time.monotonic() + within
    chunks: list[bytes] = []
    size = 0
    while size < limit and time.monotonic() < deadline:
        chunk = raw.read1(min(16384, limit - size))
        if not chunk:
            return b"".join(chunks), True
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks), False


def _short_error(exc: BaseException) -> str:
    text = str(exc)
    for marker in (
        "Connection refused",
        "timed out",
        "Connection reset",
        "certificate required",
        "CERTIFICATE_REQUIRED",
        "No route to host",
        "Name or service not known",
        "bad certificate",
        "handshake failure",
        "WRONG_VERSION_NUMBER",
    ):
        if marker.lower() in text.lower():
            return marker.lower().replace("_", " ")
    return type(exc).__name__


def excerpt(text: str) -> str:
    clean = " ".join(text.split())
    return clean[:BODY_EXCERPT] + ("…" if len(clean) > BODY_EXCERPT else "")


class _UnverifiedTLS(HTTPAdapter):
    """One TLS context that verifies nothing, built once for every probe.

    Without it urllib3 builds a context per connection and loads the system's CA store
    into each (about 80 ms apiece here), only for verification to be switched off.
    """

    def __init__(self, pool: int) -> None:
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self._context.check_hostname = False
        self._context.verify_mode = ssl.CERT_NONE
        super().__init__(pool_connections=pool, pool_maxsize=pool)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)


class AnonymousProber:
    """Sends unauthenticated requests and records transcripts.

    Each request is sent once (requests' adapters retry nothing by default): a refusal or
    a timeout is the answer. ``pool`` is how many probes may run at once from threads
    (kubepci.access.probe_pool): one pooled connection each, for as many hosts.
    """

    def __init__(self, timeout: float = 4.0, pool: int = 10) -> None:
        self.timeout = timeout
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.mount("https://", _UnverifiedTLS(pool))
        self.session.mount("http://", HTTPAdapter(pool_connections=pool, pool_maxsize=pool))

    def get(self, url: str) -> ProbeResult:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
            try:
                response = self.session.get(
                    url, timeout=self.timeout, verify=False, allow_redirects=False, stream=True
                )
            except requests.RequestException as exc:
                return ProbeResult("GET", url, error=_short_error(exc))
        try:
            raw = response.raw.read(4096, decode_content=True) or b""
        except (urllib3.exceptions.HTTPError, OSError):
            raw = b""
        finally:
            response.close()
        headers = tuple(
            (k.lower(), v) for k, v in response.headers.items() if k.lower() in KEPT_HEADERS
        )
        return ProbeResult(
            "GET",
            url,
            response.status_code,
            headers=headers,
            body=excerpt(raw.decode("utf-8", "replace")),
        )
