"""Supporting-service answers (PCI 1.1.6) at the edges the recordings do not reach.

Found by ``make mutation`` (tests/mutation/): the redirect status range at both ends, a
Service named by its fully qualified name with the trailing dot, the default HTTPS port,
a Location without a path, a port number no URL can carry, a backend's own 403, and the
scheme a TLS port is retried with. Answers are built the way the recordings of
tests/data/service_probes/ are (the proxy path on the API server, the Location header as
the backend sent it).
"""

from __future__ import annotations

import pytest

from kubepci.access.probes import PathProbe, ProbeResult
from kubepci.analysis import service_answers as sa
from kubepci.analysis.endpoints import ServicePort
from kubepci.analysis.service_answers import Outcome, PathAnswer

API = "https://192.0.2.2:6443"
PORT = ServicePort("monitoring", "ui", 80, "http", "http")
TLS_PORT = ServicePort("monitoring", "ui", 443, "https", "https")
PROXY = "/api/v1/namespaces/monitoring/services/ui:80/proxy"
TLS_PROXY = "/api/v1/namespaces/monitoring/services/https:ui:443/proxy"


def redirect(location: str, status: int = 302, port: ServicePort = PORT) -> ProbeResult:
    url = API + port.proxy_prefix(port.scheme) + "/"
    return ProbeResult("GET", url, status, "", (("location", location),), "", "stripped", ())


@pytest.mark.parametrize(
    ("status", "followed"),
    [(299, False), (300, True), (301, True), (308, True), (399, True), (400, False)],
)
def test_only_a_3xx_answer_redirects(status: int, followed: bool) -> None:
    target = sa.redirect_target(redirect(PROXY + "/login", status), PORT)
    assert target == (PROXY + "/login" if followed else None)


@pytest.mark.parametrize(
    ("location", "port", "target"),
    [
        # A fully qualified name keeps its root dot (RFC 1034); it is the same Service.
        ("http://ui.monitoring.svc.cluster.local.:80/graph", PORT, PROXY + "/graph"),
        ("http://UI.Monitoring.svc/graph", PORT, PROXY + "/graph"),
        # No port in an https URL means 443, the Service port here.
        ("https://ui.monitoring.svc/graph", TLS_PORT, TLS_PROXY + "/graph"),
        # A Location with no path at all lands on the port's root.
        ("http://ui.monitoring.svc:80", PORT, PROXY + "/"),
        ("http://ui.monitoring.svc:80?next=1", PORT, PROXY + "/?next=1"),
        # A port no URL can carry names nothing.
        ("http://ui.monitoring.svc:99999/graph", PORT, None),
        ("http://ui.monitoring.svc.:8080/graph", PORT, None),
    ],
)
def test_a_redirect_naming_the_service_itself(
    location: str, port: ServicePort, target: str | None
) -> None:
    assert sa.redirect_target(redirect(location, port=port), port) == target


def test_a_backend_that_forbids_is_not_the_api_server_refusing_the_suite() -> None:
    backend = ProbeResult(
        "GET", API + PROXY + "/", 403, "", (("content-type", "text/plain"),), "Forbidden", "", ()
    )
    assert not sa.is_suite_refused(backend)
    assert sa.classify(PathProbe("/", "http", (backend,))).outcome is Outcome.CREDENTIALS


def _answer(scheme: str, outcome: Outcome, why: str) -> PathAnswer:
    url = API + TLS_PROXY + "/" if scheme == "https" else API + PROXY + "/"
    probe = ProbeResult("GET", url, None, "", (), "", "", ())
    return PathAnswer(PathProbe("/", scheme, (probe,)), outcome, why, port_wide=True)


@pytest.mark.parametrize(
    ("scheme", "outcome", "why", "retry"),
    [
        ("https", Outcome.WRONG_SCHEME, "400: plain HTTP answered a TLS request", "http"),
        (
            "http",
            Outcome.WRONG_SCHEME,
            "400: Client sent an HTTP request to an HTTPS server.",
            "https",
        ),
        ("http", Outcome.NOT_HTTP, "connection closed without an HTTP answer", "https"),
        ("https", Outcome.NOT_HTTP, "connection closed without an HTTP answer", "http"),
        # Some other bytes than HTTP: the other scheme would not make them HTTP.
        ("http", Outcome.NOT_HTTP, '502: malformed HTTP response "SSH-2.0-OpenSSH_9.2"', None),
        ("https", Outcome.NO_ANSWER, "timed out", "http"),
        ("http", Outcome.NO_ANSWER, "timed out", None),
    ],
)
def test_the_scheme_a_port_is_retried_with(
    scheme: str, outcome: Outcome, why: str, retry: str | None
) -> None:
    assert sa.other_scheme(_answer(scheme, outcome, why)) == retry
