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


def _status(code: int, message: str, path: str = "/") -> ProbeResult:
    body = f'{{"kind":"Status","status":"Failure","message":"{message}","code":{code}}}'
    return ProbeResult("GET", API + PROXY + path, code, "", (), body, "stripped", ())


def test_which_status_messages_are_the_api_server_s_own() -> None:
    nameless = ProbeResult("GET", API + PROXY + "/", 503, "", (), '{"kind":"Status"}', "", ())
    assert sa.api_server_message(nameless) is None
    assert sa.api_server_message(_status(404, 'namespaces \\"m\\" not found')) is None
    assert sa.api_server_message(_status(404, 'services \\"ui\\" not found')) == (
        'services "ui" not found'
    )


def test_a_proxy_error_that_only_mentions_not_found_is_not_a_gone_service() -> None:
    answer = sa.classify(
        PathProbe("/", "http", (_status(502, "error trying to reach service: file not found"),))
    )
    assert answer.why == "502: error trying to reach service: file not found"
    assert answer.outcome is Outcome.UNJUDGED


def test_a_tls_alert_in_either_escaping_is_a_tls_server() -> None:
    for alert in ("\\\\x15\\\\x03\\\\x01", "\\x15\\x03\\x01"):
        message = f"error trying to reach service: malformed HTTP response {alert}"
        answer = sa.classify(PathProbe("/", "http", (_status(502, message),)))
        assert answer.outcome is Outcome.WRONG_SCHEME, alert


def test_a_path_with_no_request_made() -> None:
    probe = PathProbe("/", "http", ())
    assert sa.classify(probe) == PathAnswer(probe, Outcome.UNJUDGED, "no request was made", True)


def _hop(path: str, status: int, location: str = "") -> ProbeResult:
    headers = (("location", location),) if location else ()
    return ProbeResult("GET", API + PROXY + path, status, "", headers, "", "stripped", ())


def test_each_hop_of_a_redirect_chain_is_named() -> None:
    chain = (_hop("/", 302, PROXY + "/a"), _hop("/a", 301, PROXY + "/b"), _hop("/b", 200))
    answer = sa.classify(PathProbe("/", "http", chain))
    assert (answer.outcome, answer.why) == (Outcome.CONTENT, f"302 → 301 → 200 at {PROXY}/b")
    # A single answer is not a redirect chain: a sign-in URL alone is content.
    alone = sa.classify(PathProbe("/login", "http", (_hop("/login", 200),)))
    assert (alone.outcome, alone.why) == (Outcome.CONTENT, "200")


@pytest.mark.parametrize(
    ("hops", "status", "unjudged"),
    [(5, 302, False), (6, 300, True), (6, 399, True), (6, 302, True), (6, 400, False)],
)
def test_more_redirects_than_followed(hops: int, status: int, unjudged: bool) -> None:
    chain = tuple(_hop(f"/{i}", 302, f"{PROXY}/{i + 1}") for i in range(hops - 1))
    chain += (_hop(f"/{hops - 1}", status, f"{PROXY}/{hops}"),)
    probe = PathProbe("/0", "http", chain)
    answer = sa.classify(probe)
    assert answer.probe is probe
    limited = f"302 → 302 → 302 → 302 → 302 → {status}: more than 5 redirects"
    assert (answer.why == limited) is unjudged
    # Five requests are four redirects followed: within the limit, judged on the last.
    assert ("more than 5 redirects" in answer.why) is unjudged


def test_a_port_that_refuses_and_speaks_no_http_cannot_serve() -> None:
    refused = _status(503, "error trying to reach service: dial tcp: connection refused")
    garbled = _status(502, "error trying to reach service: malformed HTTP response SSH-2.0")
    probes = [PathProbe("/", "http", (refused,)), PathProbe("/metrics", "http", (garbled,))]
    judged = sa.judge_port(PORT, probes)
    assert judged.verdict is sa.PortVerdict.CANNOT_SERVE
    assert sa.limitation(judged) == (
        "Service monitoring/ui:80: cannot serve HTTP content: http / → 503: error trying to reach "
        "service: dial tcp: connection refused [refused]; http /metrics → 502: error trying "
        "to reach service: malformed HTTP response SSH-2.0 [not-http]"
    )


def test_a_backend_error_last_is_named_without_unasked_paths() -> None:
    probes = [
        PathProbe("/", "http", (_hop("/", 200),)),
        PathProbe("/metrics", "http", (_hop("/metrics", 500),)),
    ]
    judged = sa.judge_port(PORT, probes)
    assert judged.verdict is sa.PortVerdict.SERVED_CONTENT
    assert sa.limitation(judged) == (
        "Service monitoring/ui:80: judged from its other paths; not judged: "
        "http /metrics → 500: a backend error [unjudged]"
    )
