"""Supporting-service verdicts (1.1.6): what each answer through the service proxy means,
how a port is probed (paths, redirects, TLS retry, early stop) and the port's verdict.

Recorded answers from the local clusters (tests/data/service_probes/, written by
tests/data/service_probes/record.py) are replayed first; hand cases cover what the
fixtures do not plant, with the proxy's error texts taken from the Go source
(k8s.io/apimachinery pkg/util/proxy/transport.go: "error trying to reach service: %v";
pkg/registry/core/service/storage/storage.go: "no endpoints available for service").
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from kubepci.access.probes import PathProbe, ProbeResult
from kubepci.access.service_proxy import probe_path, probe_port
from kubepci.analysis import service_answers as sa
from kubepci.analysis.endpoints import SERVICE_PROBE_PATHS, ServicePort
from kubepci.analysis.service_answers import Outcome, PortVerdict

DATA = Path(__file__).resolve().parents[1] / "data" / "service_probes"
API = "https://192.0.2.2:6443"
PORT = ServicePort("monitoring", "ui", 80, "http", "http")
TLS_PORT = ServicePort("monitoring", "ui", 443, "https", "https")
GO_TLS_400 = "Client sent an HTTP request to an HTTPS server."


def status_json(code: int, message: str, reason: str = "ServiceUnavailable") -> str:
    """A Status as the API server writes it (compact JSON, as in the recordings)."""
    return json.dumps(
        {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "reason": reason,
            "code": code,
        },
        separators=(",", ":"),
    )


def answer(
    path: str = "/",
    status: int | None = 200,
    body: str = "",
    headers: dict[str, str] | None = None,
    error: str = "",
    marks: tuple[str, ...] = (),
    port: ServicePort = PORT,
    scheme: str = "http",
) -> ProbeResult:
    url = API + port.proxy_prefix(scheme) + path
    return ProbeResult(
        "GET", url, status, error, tuple((headers or {}).items()), body, "stripped", marks
    )


def one(result: ProbeResult, path: str = "/", scheme: str = "http") -> sa.PathAnswer:
    return sa.classify(PathProbe(path, scheme, (result,)))


# ------------------------------------------------------------------ recorded answers
def _recorded_ports(name: str) -> list[tuple[ServicePort, list[PathProbe]]]:
    raw = json.loads((DATA / name).read_text())
    return [
        (ServicePort(**entry["port"]), [PathProbe.from_json(p) for p in entry["paths"]])
        for entry in raw
    ]


RECORDED_VERDICTS = {
    # compliant profile: fixtures/compliant/75-supporting-services.yaml and 30-workload.yaml
    ("compliant-monitoring.json", "login-portal", 80): PortVerdict.DEMANDS_CREDENTIALS,
    ("compliant-monitoring.json", "sso-gateway", 4180): PortVerdict.DEMANDS_CREDENTIALS,
    ("compliant-monitoring.json", "events-store-mtls", 2379): PortVerdict.DEMANDS_CREDENTIALS,
    ("compliant-payments.json", "payments-api", 80): PortVerdict.DEMANDS_CREDENTIALS,
    # noncompliant profile: fixtures/noncompliant/75-supporting-services.yaml (and .py)
    ("noncompliant-monitoring.json", "metrics-ui", 9090): PortVerdict.SERVED_CONTENT,
    ("noncompliant-monitoring.json", "node-stats-exporter", 9100): PortVerdict.SERVED_CONTENT,
    ("noncompliant-monitoring.json", "node-stats-exporter", 6060): PortVerdict.CANNOT_SERVE,
    ("noncompliant-monitoring.json", "console-open-api", 3000): PortVerdict.SERVED_CONTENT,
    ("noncompliant-monitoring.json", "events-store-tls", 2379): PortVerdict.SERVED_CONTENT,
    ("noncompliant-monitoring.json", "stalled-backend", 8080): PortVerdict.NOT_JUDGED,
    ("noncompliant-monitoring.json", "login-portal", 80): PortVerdict.DEMANDS_CREDENTIALS,
    ("noncompliant-payments.json", "payments-api", 80): PortVerdict.SERVED_CONTENT,
}


@pytest.mark.parametrize("name", sorted({n for n, _, _ in RECORDED_VERDICTS}))
def test_recorded_ports_get_their_verdicts(name: str) -> None:
    if not (DATA / name).exists():
        pytest.fail(f"recording {name} missing: run tests/data/service_probes/record.py")
    seen: set[tuple[str, str, int]] = set()
    for port, paths in _recorded_ports(name):
        expected = RECORDED_VERDICTS.get((name, port.name, port.port))
        if expected is None:
            continue
        judgement = sa.judge_port(port, paths)
        assert judgement.verdict is expected, judgement.line()
        seen.add((name, port.name, port.port))
    assert seen == {k for k in RECORDED_VERDICTS if k[0] == name}


def test_recorded_login_page_passes_on_its_data_paths() -> None:
    ports = dict((p.name, paths) for p, paths in _recorded_ports("compliant-monitoring.json"))
    answers = [sa.classify(p) for p in ports["login-portal"]]
    assert answers[0].outcome is Outcome.SIGN_IN
    assert [a.probe.path for a in answers] == list(SERVICE_PROBE_PATHS)
    assert {a.outcome for a in answers[1:]} == {Outcome.CREDENTIALS}
    # The proxy rewrote the form's action onto its own path; the excerpt shows it.
    assert "/services/login-portal:80/proxy/login" in ports["login-portal"][0].requests[0].body


def test_recorded_off_cluster_sign_in_redirect_is_not_followed() -> None:
    ports = dict((p.name, paths) for p, paths in _recorded_ports("compliant-monitoring.json"))
    first = ports["sso-gateway"][0]
    assert len(first.requests) == 1  # the IdP is outside the cluster: recorded, not chased
    assert sa.classify(first).outcome is Outcome.CREDENTIALS


def test_recorded_mutual_tls_port_is_retried_over_tls_and_demands_credentials() -> None:
    ports = dict((p.name, paths) for p, paths in _recorded_ports("compliant-monitoring.json"))
    answers = [sa.classify(p) for p in ports["events-store-mtls"]]
    assert [(a.probe.scheme, a.outcome) for a in answers] == [
        ("http", Outcome.NOT_HTTP),  # etcd hangs up on plain HTTP ...
        ("https", Outcome.CREDENTIALS),  # ... and its handshake demands a certificate
    ]


def test_recorded_noncompliant_findings_name_the_open_paths() -> None:
    if not (DATA / "noncompliant-monitoring.json").exists():
        pytest.fail("recording noncompliant-monitoring.json missing")
    judged = {
        p.name: sa.judge_port(p, paths)
        for p, paths in _recorded_ports("noncompliant-monitoring.json")
        if p.port != 6060
    }
    ui = judged["metrics-ui"].finding().detail
    assert "GET / → 302 → 200 at" in ui and "/graph" in ui
    assert "GET /api/v1/query?query=up → 200" in ui
    exporter = judged["node-stats-exporter"]
    assert exporter.answers[0].outcome is Outcome.NOTHING  # `/` is 404 ...
    assert "GET /metrics → 200" in exporter.finding().detail  # ... /metrics is open
    tls = judged["events-store-tls"]
    assert tls.answers[0].probe.scheme == "http" and tls.answers[1].probe.scheme == "https"
    assert "(https)" in tls.finding().detail
    console = judged["console-open-api"]
    assert console.answers[0].outcome is Outcome.SIGN_IN  # a login at `/` excuses nothing
    stalled = judged["stalled-backend"]
    assert len(stalled.answers) == 1 and stalled.answers[0].outcome is Outcome.NO_ANSWER
    assert "stalled-backend:8080" in sa.limitation(stalled)


@pytest.mark.parametrize(
    ("label", "outcome"),
    [
        ("no-service-port", Outcome.UNJUDGED),
        ("service-gone", Outcome.UNJUDGED),
        ("suite-forbidden", Outcome.SUITE_REFUSED),
    ],
)
def test_recorded_api_server_answers_are_not_the_backend(label: str, outcome: Outcome) -> None:
    raw = json.loads((DATA / "proxy-answers.json").read_text())[label]
    result = ProbeResult.from_json(raw)
    got = one(result)
    assert got.outcome is outcome
    assert got.port_wide  # nothing more is asked of that port


def test_suite_forbidden_is_an_error_not_a_credential_demand() -> None:
    raw = json.loads((DATA / "proxy-answers.json").read_text())["suite-forbidden"]
    result = ProbeResult.from_json(raw)
    assert sa.is_suite_refused(result)
    verdict = sa.judge_port(PORT, [PathProbe("/", "http", (result,))]).verdict
    assert verdict is PortVerdict.SUITE_REFUSED


# ------------------------------------------------------------------ one answer, by hand
CASES: list[tuple[str, ProbeResult, str, Outcome]] = [
    ("401", answer(status=401), "http", Outcome.CREDENTIALS),
    ("403", answer(status=403, body="forbidden"), "http", Outcome.CREDENTIALS),
    (
        "a challenge on a 404 still demands credentials",
        answer(status=404, headers={"www-authenticate": 'Basic realm="x"'}),
        "http",
        Outcome.CREDENTIALS,
    ),
    ("200 plain text", answer(status=200, body="hello"), "http", Outcome.CONTENT),
    ("204 no content is still served", answer(status=204), "http", Outcome.CONTENT),
    (
        "200 sign-in form",
        answer(status=200, body="<form>", marks=(sa.PASSWORD_MARK,)),
        "http",
        Outcome.SIGN_IN,
    ),
    ("404", answer(status=404), "http", Outcome.NOTHING),
    ("405", answer(status=405), "http", Outcome.NOTHING),
    ("plain 400", answer(status=400, body="bad request"), "http", Outcome.NOTHING),
    ("Go TLS 400", answer(status=400, body=GO_TLS_400), "http", Outcome.WRONG_SCHEME),
    (
        "nginx TLS 400",
        answer(status=400, body="The plain HTTP request was sent to HTTPS port"),
        "http",
        Outcome.WRONG_SCHEME,
    ),
    ("backend 500", answer(status=500, body="oops"), "http", Outcome.UNJUDGED),
    (
        "backend 503 that is not the proxy's",
        answer(status=503, body="maintenance"),
        "http",
        Outcome.UNJUDGED,
    ),
    (
        "redirect off the proxy, not to a sign-in",
        answer(status=301, headers={"location": "https://console.example.com/"}),
        "http",
        Outcome.UNJUDGED,
    ),
    (
        "redirect to an identity provider",
        answer(
            status=302,
            headers={"location": "https://login.example.com/oauth2/v2.0/authorize?client_id=a"},
        ),
        "http",
        Outcome.CREDENTIALS,
    ),
    ("304 without a Location", answer(status=304), "http", Outcome.NOTHING),
    ("timed out", answer(status=None, error="timed out"), "http", Outcome.NO_ANSWER),
    (
        "API server unreachable",
        answer(status=None, error="connection refused"),
        "http",
        Outcome.UNJUDGED,
    ),
    (
        "no endpoints",
        answer(status=503, body=status_json(503, 'no endpoints available for service "ui"')),
        "http",
        Outcome.UNJUDGED,
    ),
    (
        "backend refused the connection",
        answer(
            status=503,
            body=status_json(
                503,
                "error trying to reach service: dial tcp 10.244.0.9:8080: connect: "
                "connection refused",
            ),
        ),
        "http",
        Outcome.REFUSED,
    ),
    (
        "backend closed the connection",
        answer(status=503, body=status_json(503, "error trying to reach service: EOF")),
        "http",
        Outcome.NOT_HTTP,
    ),
    (
        "backend answered a TLS alert",
        answer(
            status=503,
            body=status_json(
                503,
                "error trying to reach service: net/http: HTTP/1.x transport connection "
                'broken: malformed HTTP response "\\x15\\x03\\x01\\x00\\x02\\x02"',
            ),
        ),
        "http",
        Outcome.WRONG_SCHEME,
    ),
    (
        "backend speaks another protocol (Redis)",
        answer(
            status=503,
            body=status_json(
                503,
                "error trying to reach service: net/http: HTTP/1.x transport connection "
                "broken: malformed HTTP response \"-ERR unknown command 'GET'\"",
            ),
        ),
        "http",
        Outcome.NOT_HTTP,
    ),
    (
        "plain server asked over TLS",
        answer(
            status=503,
            body=status_json(
                503,
                "error trying to reach service: http: server gave HTTP response to HTTPS client",
            ),
            scheme="https",
            port=TLS_PORT,
        ),
        "https",
        Outcome.WRONG_SCHEME,
    ),
    (
        "mutual TLS: the handshake demands a client certificate",
        answer(
            status=503,
            body=status_json(
                503, "error trying to reach service: remote error: tls: certificate required"
            ),
            scheme="https",
            port=TLS_PORT,
        ),
        "https",
        Outcome.CREDENTIALS,
    ),
    (
        "TLS handshake timeout at the proxy",
        answer(
            status=503,
            body=status_json(503, "error trying to reach service: net/http: TLS handshake timeout"),
            scheme="https",
            port=TLS_PORT,
        ),
        "https",
        Outcome.NO_ANSWER,
    ),
    (
        "a backend's own Status JSON is the backend's (metrics-server 403)",
        answer(
            status=403,
            body=status_json(
                403,
                'forbidden: User "system:anonymous" cannot get path "/metrics"',
                "Forbidden",
            ),
        ),
        "http",
        Outcome.CREDENTIALS,
    ),
]


@pytest.mark.parametrize(("label", "result", "scheme", "outcome"), CASES, ids=[c[0] for c in CASES])
def test_one_answer(label: str, result: ProbeResult, scheme: str, outcome: Outcome) -> None:
    assert one(result, scheme=scheme).outcome is outcome, label


@pytest.mark.parametrize(
    ("html", "marked"),
    [
        ('<input type="password" name="p">', True),
        ("<INPUT TYPE=password>", True),
        ("<input name='pw' type='password' />", True),
        ('<input type="text" name="password">', False),
        ("password: hunter2", False),
    ],
)
def test_password_field_mark(html: str, marked: bool) -> None:
    assert (sa.PASSWORD_MARK in sa.body_marks(html)) is marked


@pytest.mark.parametrize(
    ("url", "sign_in"),
    [
        ("/login", True),
        ("/api/v1/namespaces/m/services/ui:80/proxy/login?next=%2F", True),
        ("https://dex.example/dex/auth?client_id=a&redirect_uri=b", True),
        ("https://kc.example/realms/x/protocol/openid-connect/auth", True),
        ("/oauth2/start?rd=%2F", True),
        ("https://idp.example/sso/saml?SAMLRequest=abc", True),
        ("https://idp.example/x?client_id=a&redirect_uri=b", True),
        ("/users/sign_in", True),
        ("/login.html", True),
        ("https://idp.example/x?SAMLRequest=abc", True),  # by the SAML request alone
        ("/backups/login.html.bak", False),  # only the last extension is dropped
        ("/graph", False),
        ("/ui/", False),
        ("/authors", False),
        ("https://console.example.com/", False),
    ],
)
def test_sign_in_urls(url: str, sign_in: bool) -> None:
    assert sa.looks_like_sign_in(url) is sign_in


# ------------------------------------------------------------------ redirects
@pytest.mark.parametrize(
    ("location", "target"),
    [
        # rewritten by the proxy onto its own path (transport.go, rewriteURL)
        (
            "/api/v1/namespaces/monitoring/services/ui:80/proxy/graph",
            "/api/v1/namespaces/monitoring/services/ui:80/proxy/graph",
        ),
        # relative: left as is by the proxy, resolved against the request
        ("graph?x=1", "/api/v1/namespaces/monitoring/services/ui:80/proxy/graph?x=1"),
        # absolute on the API server itself
        (
            API + "/api/v1/namespaces/monitoring/services/ui:80/proxy/login",
            "/api/v1/namespaces/monitoring/services/ui:80/proxy/login",
        ),
        # another host, another service, or the API server outside the proxy: not followed
        ("https://sso.example/authorize", None),
        ("/api/v1/namespaces/monitoring/services/other:80/proxy/", None),
        ("/api/v1/namespaces/monitoring/services/ui:8080/proxy/", None),
        ("/api/v1/secrets", None),
        # the Service by its own cluster DNS name and port: mapped back onto the proxy
        (
            "http://ui.monitoring.svc:80/graph",
            "/api/v1/namespaces/monitoring/services/ui:80/proxy/graph",
        ),
        (
            "http://ui.monitoring.svc.cluster.local/graph?g0.expr=up",
            "/api/v1/namespaces/monitoring/services/ui:80/proxy/graph?g0.expr=up",
        ),
        ("https://ui.monitoring:80/", "/api/v1/namespaces/monitoring/services/https:ui:80/proxy/"),
        ("http://ui.monitoring.svc:9090/graph", None),  # another port of it
        ("https://ui.monitoring.svc/", None),  # 443 by default: another port
        ("http://ui.other.svc/", None),
        ("http://ui/", None),  # a bare name resolves per namespace of the caller: not followed
        ("ftp://ui.monitoring.svc:80/", None),
    ],
)
def test_redirect_target(location: str, target: str | None) -> None:
    result = answer("/", status=302, headers={"location": location})
    assert sa.redirect_target(result, PORT) == target


def test_redirect_over_tls_stays_on_the_tls_proxy_path() -> None:
    tls = "/api/v1/namespaces/monitoring/services/https:ui:80/proxy/login"
    result = answer("/", status=302, headers={"location": tls}, scheme="https")
    assert sa.redirect_target(result, PORT) == tls


def test_no_redirect_target_for_other_answers() -> None:
    assert sa.redirect_target(answer(status=200, headers={"location": "/x"}), PORT) is None
    assert sa.redirect_target(answer(status=302), PORT) is None


def test_self_redirect_to_tls_is_followed_and_judged_over_tls() -> None:
    def upgrades(scheme: str, path: str) -> tuple:
        if scheme == "http":
            return 301, {"location": "https://ui.monitoring.svc:80" + path}, ""
        return 200, {}, "data"

    sent, send = service(upgrades)
    judgement = sa.judge_port(PORT, probe_port(send, PORT))
    assert judgement.verdict is PortVerdict.SERVED_CONTENT
    assert sent[1] == "/api/v1/namespaces/monitoring/services/https:ui:80/proxy/"
    assert "(https)" in judgement.finding().detail


# ------------------------------------------------------------------ probing a port
Backend = Callable[[str, str], ProbeResult]


def service(
    routes: Callable[[str, str], tuple], port: ServicePort = PORT
) -> tuple[list[str], Callable]:
    """A fake API server in front of one backend. ``routes(scheme, backend_path)`` gives
    (status, headers, body[, marks]) or ("error", message); every request is logged."""
    sent: list[str] = []
    prefixes = {s: port.proxy_prefix(s) for s in ("http", "https")}

    def send(path: str) -> ProbeResult:
        sent.append(path)
        scheme = next(s for s, p in prefixes.items() if path.startswith(p + "/"))
        backend = path[len(prefixes[scheme]) :]
        route = routes(scheme, backend)
        if route[0] == "error":
            return ProbeResult("GET", API + path, None, route[1])
        status, headers, body, *marks = route
        return ProbeResult(
            "GET", API + path, status, "", tuple(headers.items()), body, "x", tuple(*marks)
        )

    return sent, send


def prometheus_like(scheme: str, path: str) -> tuple:
    if path == "/":
        return 302, {"location": PORT.proxy_prefix(scheme) + "/graph"}, ""
    if path.startswith("/graph"):
        return 200, {"content-type": "text/html"}, "<h1>Metrics explorer</h1>"
    if path.startswith(("/api/v1/query", "/federate", "/metrics")):
        return 200, {}, 'up{job="x"} 1'
    return 404, {}, "404 page not found"


def test_prometheus_like_redirect_and_open_data_paths() -> None:
    sent, send = service(prometheus_like)
    judgement = sa.judge_port(PORT, probe_port(send, PORT))
    assert judgement.verdict is PortVerdict.SERVED_CONTENT
    assert len(sent) == len(SERVICE_PROBE_PATHS) + 1  # one redirect followed
    detail = judgement.finding().detail
    assert "GET / → 302 → 200 at" in detail and "GET /federate?match%5B%5D=up → 200" in detail


def test_exporter_with_404_landing_page() -> None:
    _, send = service(lambda s, p: (200, {}, "up 1") if p == "/metrics" else (404, {}, "not found"))
    judgement = sa.judge_port(PORT, probe_port(send, PORT))
    assert judgement.verdict is PortVerdict.SERVED_CONTENT
    assert judgement.finding().detail.endswith("GET /metrics → 200")


def test_login_page_with_protected_data_paths_passes() -> None:
    def portal(scheme: str, path: str) -> tuple:
        if path == "/":
            return 200, {"content-type": "text/html"}, "<form>", (sa.PASSWORD_MARK,)
        return 401, {"www-authenticate": 'Bearer realm="portal"'}, ""

    judgement = sa.judge_port(PORT, probe_port(service(portal)[1], PORT))
    assert judgement.verdict is PortVerdict.DEMANDS_CREDENTIALS
    assert sa.limitation(judgement) == ""


def test_login_page_does_not_excuse_an_open_api() -> None:
    def console(scheme: str, path: str) -> tuple:
        if path == "/":
            return 200, {}, "<form>", (sa.PASSWORD_MARK,)
        if path.startswith("/api"):
            return 200, {}, '{"dashboards": []}'
        return 404, {}, ""

    judgement = sa.judge_port(PORT, probe_port(service(console)[1], PORT))
    assert judgement.verdict is PortVerdict.SERVED_CONTENT
    assert "GET /api → 200" in judgement.finding().detail


def test_redirect_to_an_in_proxy_login_page_is_not_content() -> None:
    def grafana_like(scheme: str, path: str) -> tuple:
        if path == "/":
            return 302, {"location": "login"}, ""
        if path == "/login":  # a single-page app: no password field in its HTML
            return 200, {"content-type": "text/html"}, "<div id=app></div>"
        return 401, {}, ""

    sent, send = service(grafana_like)
    judgement = sa.judge_port(PORT, probe_port(send, PORT))
    assert judgement.answers[0].outcome is Outcome.SIGN_IN
    assert judgement.verdict is PortVerdict.DEMANDS_CREDENTIALS
    assert sent[1].endswith("/proxy/login")


def test_hanging_backend_costs_one_request_and_is_never_passed() -> None:
    sent, send = service(lambda s, p: ("error", "timed out"))
    judgement = sa.judge_port(PORT, probe_port(send, PORT))
    assert len(sent) == 1
    assert judgement.verdict is PortVerdict.NOT_JUDGED
    assert "Service monitoring/ui:80" in sa.limitation(judgement)


def test_tls_only_port_is_retried_over_tls() -> None:
    def tls_only(scheme: str, path: str) -> tuple:
        if scheme == "http":
            return 400, {}, GO_TLS_400
        return (200, {}, "etcd_server_has_leader 1") if path == "/metrics" else (404, {}, "")

    sent, send = service(tls_only)
    judgement = sa.judge_port(PORT, probe_port(send, PORT))
    assert judgement.verdict is PortVerdict.SERVED_CONTENT
    assert "/services/ui:80/proxy/" in sent[0]
    assert all("/services/https:ui:80/proxy/" in s for s in sent[1:])
    assert len(sent) == len(SERVICE_PROBE_PATHS) + 1
    assert "(https)" in judgement.finding().detail


def test_tls_port_closing_plain_connections_is_retried_over_tls() -> None:
    eof = status_json(503, "error trying to reach service: EOF")

    def closes(scheme: str, path: str) -> tuple:
        return (503, {}, eof) if scheme == "http" else (401, {}, "")

    judgement = sa.judge_port(PORT, probe_port(service(closes)[1], PORT))
    assert judgement.verdict is PortVerdict.DEMANDS_CREDENTIALS


def test_mutual_tls_port_demands_credentials() -> None:
    cert = status_json(
        503, "error trying to reach service: remote error: tls: certificate required"
    )

    def mtls(scheme: str, path: str) -> tuple:
        return (400, {}, GO_TLS_400) if scheme == "http" else (503, {}, cert)

    sent, send = service(mtls)
    judgement = sa.judge_port(PORT, probe_port(send, PORT))
    assert judgement.verdict is PortVerdict.DEMANDS_CREDENTIALS
    assert len(sent) == 2  # the handshake would refuse every path alike


def test_declared_https_port_serving_plain_http_is_retried_plain() -> None:
    plain = status_json(
        503, "error trying to reach service: http: server gave HTTP response to HTTPS client"
    )

    def plain_server(scheme: str, path: str) -> tuple:
        return (503, {}, plain) if scheme == "https" else (200, {}, "hello")

    judgement = sa.judge_port(TLS_PORT, probe_port(service(plain_server, TLS_PORT)[1], TLS_PORT))
    assert judgement.verdict is PortVerdict.SERVED_CONTENT
    assert "(http)" in judgement.finding().detail


def test_declared_https_port_that_hangs_on_tls_is_retried_plain() -> None:
    def waits_for_a_line(scheme: str, path: str) -> tuple:
        return ("error", "timed out") if scheme == "https" else (401, {}, "")

    _, send = service(waits_for_a_line, TLS_PORT)
    judgement = sa.judge_port(TLS_PORT, probe_port(send, TLS_PORT))
    assert judgement.verdict is PortVerdict.DEMANDS_CREDENTIALS


def test_port_speaking_neither_http_nor_https_cannot_serve_content() -> None:
    eof = status_json(503, "error trying to reach service: EOF")
    sent, send = service(lambda s, p: (503, {}, eof))
    judgement = sa.judge_port(PORT, probe_port(send, PORT))
    assert len(sent) == 2
    assert judgement.verdict is PortVerdict.CANNOT_SERVE
    assert "cannot serve HTTP content" in sa.limitation(judgement)


def test_refused_port_cannot_serve_content() -> None:
    refused = status_json(
        503, "error trying to reach service: dial tcp 10.0.0.1:80: connect: connection refused"
    )
    sent, send = service(lambda s, p: (503, {}, refused))
    judgement = sa.judge_port(PORT, probe_port(send, PORT))
    assert (len(sent), judgement.verdict) == (1, PortVerdict.CANNOT_SERVE)


def test_no_endpoints_is_not_judged() -> None:
    gone = status_json(503, 'no endpoints available for service "ui"')
    sent, send = service(lambda s, p: (503, {}, gone))
    judgement = sa.judge_port(PORT, probe_port(send, PORT))
    assert (len(sent), judgement.verdict) == (1, PortVerdict.NOT_JUDGED)


def test_redirect_loop_is_bounded_and_not_judged() -> None:
    sent, send = service(lambda s, p: (302, {"location": "again"}, ""))
    probe = probe_path(send, PORT, "http", "/")
    assert len(sent) == sa.MAX_REDIRECTS + 1
    assert sa.classify(probe).outcome is Outcome.UNJUDGED
    assert "more than" in sa.classify(probe).why


def test_only_404_answers_serve_nothing() -> None:
    judgement = sa.judge_port(PORT, probe_port(service(lambda s, p: (404, {}, ""))[1], PORT))
    assert judgement.verdict is PortVerdict.SERVED_NOTHING


def test_judged_port_names_paths_it_could_not_judge() -> None:
    def flaky(scheme: str, path: str) -> tuple:
        return (500, {}, "oops") if path == "/metrics" else (401, {}, "")

    judgement = sa.judge_port(PORT, probe_port(service(flaky)[1], PORT))
    assert judgement.verdict is PortVerdict.DEMANDS_CREDENTIALS
    assert "/metrics" in sa.limitation(judgement)


def test_hang_after_the_first_path_stops_the_port() -> None:
    def hangs_on_metrics(scheme: str, path: str) -> tuple:
        return ("error", "timed out") if path == "/metrics" else (401, {}, "")

    sent, send = service(hangs_on_metrics)
    judgement = sa.judge_port(PORT, probe_port(send, PORT))
    assert len(sent) == 2
    assert judgement.verdict is PortVerdict.DEMANDS_CREDENTIALS
    limit = sa.limitation(judgement)
    assert "no answer" in limit
    assert limit.endswith("then not asked: " + ", ".join(SERVICE_PROBE_PATHS[2:]))


def test_module_examples() -> None:
    import doctest

    assert doctest.testmod(sa).failed == 0


def test_findings_survive_redaction() -> None:
    """A finding's text must not look like a credential to the report's redactor (the
    first wording, "without credentials: <url>", was masked whole)."""
    from kubepci.report.redact import redact

    judged = [
        sa.judge_port(p, paths) for p, paths in _recorded_ports("noncompliant-monitoring.json")
    ]
    lines = [j.finding().line() for j in judged if j.verdict is PortVerdict.SERVED_CONTENT]
    assert lines and [redact(line) for line in lines] == lines


def test_a_judged_port_names_each_path_left_unjudged() -> None:
    def two_backend_errors(scheme: str, path: str) -> tuple:
        return (500, {}, "oops") if path in ("/metrics", "/api") else (401, {}, "")

    judgement = sa.judge_port(PORT, probe_port(service(two_backend_errors)[1], PORT))
    assert judgement.verdict is PortVerdict.DEMANDS_CREDENTIALS
    assert sa.limitation(judgement) == (
        "Service monitoring/ui:80: judged from its other paths; not judged: http /metrics → "
        "500: a backend error [unjudged]; http /api → 500: a backend error [unjudged]"
    )


def test_paths_answered_over_the_plain_retry_are_not_a_limitation() -> None:
    def tls_hangs(scheme: str, path: str) -> tuple:
        return ("error", "timed out") if scheme == "https" else (401, {}, "")

    judgement = sa.judge_port(TLS_PORT, probe_port(service(tls_hangs, TLS_PORT)[1], TLS_PORT))
    assert any(a.probe.scheme == "https" for a in judgement.answers)
    assert sa.limitation(judgement) == ""


Out = sa.Outcome
PROXY_MESSAGES = [
    # (message, scheme, outcome, why after "503: ", port-wide)
    ('no endpoints available for service "timeout"', "http", Out.UNJUDGED, "{m}", True),
    ('no service port 80 found for service "timeout"', "http", Out.UNJUDGED, "{m}", True),
    ('services "timeout" not found', "http", Out.UNJUDGED, "{m} (the Service is gone)", True),
    ("timeout: services/proxy is forbidden", "http", Out.SUITE_REFUSED,
     "the API server refused the suite", True),
    ("error trying to reach service: dial tcp 10.0.0.9:80: connect: connection refused",
     "http", Out.REFUSED, "{m}", True),
    ("error trying to reach service: remote error: tls: bad certificate", "https",
     Out.CREDENTIALS, "{m} (the backend demands a client certificate)", True),
    ("error trying to reach service: remote error: tls: certificate required", "https",
     Out.CREDENTIALS, "{m} (the backend demands a client certificate)", True),
    ("error trying to reach service: http: server gave HTTP response to HTTPS client",
     "https", Out.WRONG_SCHEME, "{m} (a plain-HTTP server)", True),
    ("error trying to reach service: tls: first record does not look like a TLS handshake",
     "https", Out.WRONG_SCHEME, "{m} (a plain-HTTP server)", True),
    ("error trying to reach service: tls: first record does not look like a TLS handshake",
     "http", Out.UNJUDGED, "{m}", True),
    ('error trying to reach service: net/http: HTTP/1.x transport connection broken: '
     'malformed HTTP response "\\x15\\x03\\x01\\x00\\x02\\x02"', "http", Out.WRONG_SCHEME,
     "{m} (a TLS alert: a TLS server)", True),
    ("error trying to reach service: malformed HTTP response \"SSH-2.0\"", "http",
     Out.NOT_HTTP, "{m}", True),
    ("error trying to reach service: EOF", "http", Out.NOT_HTTP,
     "{m} (closed without an HTTP answer)", True),
    ("error trying to reach service: read: connection reset by peer", "http", Out.NOT_HTTP,
     "{m} (closed without an HTTP answer)", True),
    ("error trying to reach service: dial tcp 10.0.0.9:80: i/o timeout", "http",
     Out.NO_ANSWER, "{m}", True),
    ("error trying to reach service: context deadline exceeded", "http", Out.NO_ANSWER,
     "{m}", True),
    ("error trying to reach service: something else", "http", Out.UNJUDGED, "{m}", True),
]  # fmt: skip


@pytest.mark.parametrize(("message", "scheme", "outcome", "why", "port_wide"), PROXY_MESSAGES)
def test_each_proxy_error_is_classified(
    message: str, scheme: str, outcome: sa.Outcome, why: str, port_wide: bool
) -> None:
    """Every message rule of the service proxy's errors (staging/src/k8s.io/apimachinery
    pkg/util/proxy and the API server's Status), the Service named so that no other rule
    can match it by accident, and whether the answer ends the probing of the port."""
    result = answer(status=503, body=status_json(503, message), scheme=scheme)
    got = one(result, scheme=scheme)
    quoted = json.dumps(message)[1:-1].replace('\\"', '"')  # as the Status carries it
    assert (got.outcome, got.why, got.port_wide) == (
        outcome,
        "503: " + why.format(m=quoted),
        port_wide,
    )


@pytest.mark.parametrize(
    ("status", "headers", "outcome", "why", "port_wide"),
    [
        (299, {}, Out.CONTENT, "299", False),
        (300, {}, Out.NOTHING, "300 without a Location", False),
        (399, {}, Out.NOTHING, "399 without a Location", False),
        (400, {}, Out.NOTHING, "400", False),
        (499, {}, Out.NOTHING, "499", False),
        (500, {}, Out.UNJUDGED, "500: a backend error", False),
        (302, {"Location": "/login"}, Out.CREDENTIALS, "302: redirects to sign in at /login",
         False),
        (302, {"Location": "https://elsewhere.example/x"}, Out.UNJUDGED,
         "302: redirects off the service proxy to https://elsewhere.example/x (not followed)",
         False),
    ],
)  # fmt: skip
def test_each_status_class_is_classified(
    status: int, headers: dict[str, str], outcome: sa.Outcome, why: str, port_wide: bool
) -> None:
    got = one(answer(status=status, headers=headers))
    assert (got.outcome, got.why, got.port_wide) == (outcome, why, port_wide)


def test_an_unanswered_request_and_a_plain_tls_refusal_end_the_port() -> None:
    silent = one(answer(status=None, error="connection reset"))
    assert (silent.outcome, silent.why, silent.port_wide) == (
        Out.UNJUDGED, "no answer from the API server (connection reset)", True
    )  # fmt: skip
    tls = one(answer(status=400, body="Client sent an HTTP request to an HTTPS server."))
    assert (tls.outcome, tls.why, tls.port_wide) == (
        Out.WRONG_SCHEME, "400: a TLS server answering plain HTTP", True
    )  # fmt: skip
    nothing = sa.classify(PathProbe("/", "http", ()))
    assert (nothing.outcome, nothing.why, nothing.port_wide) == (
        Out.UNJUDGED, "no request was made", True
    )  # fmt: skip


def test_a_redirect_to_a_sign_in_page_is_judged_on_that_page() -> None:
    hop = answer(status=302, headers={"Location": "/login"})
    page = answer("/login", status=200)
    got = sa.classify(PathProbe("/", "http", (hop, page)))
    assert (got.outcome, got.port_wide) == (Out.SIGN_IN, False)
    assert got.why == (
        "302 → 200: the sign-in page a redirect led to at "
        "/api/v1/namespaces/monitoring/services/ui:80/proxy/login"
    )
