"""1.1.6 judged (kubepci.analysis.service_access): Service ports asked without credentials
through the service proxy. Built on the recorded Services and answers of both local
profiles, varied by hand (the proxy refusing the suite, a port never judged, nothing
listening, a port that served nothing)."""

from __future__ import annotations

import json

from kubepci.analysis.endpoints import ServicePort
from kubepci.analysis.service_access import judge_service_probes, plan_service_probes
from kubepci.records.probes import PathProbe, ProbeResult
from tests.support.judge_evidence import evidence, lines, recorded, titles

COMPLIANT = recorded("compliant")
NONCOMPLIANT = recorded("noncompliant")
API = "https://192.0.2.2:6443"


def port(name: str = "ui", number: int = 80) -> ServicePort:
    return ServicePort("monitoring", name, number, "http", "http")


def status_body(message: str) -> str:
    return json.dumps(
        {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message}
    )


def asked(target: ServicePort, status: int, body: str = "", path: str = "/") -> list[PathProbe]:
    url = API + target.proxy_prefix("http") + path
    return [PathProbe(path, "http", (ProbeResult("GET", url, status, body=body),))]


# ------------------------------------------------------------------ which ports
def test_ports_with_ready_endpoints_are_probed() -> None:
    plan = plan_service_probes(COMPLIANT.items("services"), COMPLIANT.items("endpointslices"))
    assert [p.name for p in plan.then] == ["login-portal", "sso-gateway", "payments-api"]
    assert plan.so_far.evidence == () and not plan.so_far.ends


def test_no_ready_endpoints_leaves_nothing_to_probe() -> None:
    plan = plan_service_probes(COMPLIANT.items("services"), [])
    assert plan.so_far.not_applicable == "no Service has ready endpoints to probe"
    assert evidence(plan.so_far, "Services not probed") == [
        "Service monitoring/login-portal: no ready endpoints",
        "Service monitoring/sso-gateway: no ready endpoints",
        "Service payments/payments-api: no ready endpoints",
    ]
    assert plan.then == []


# ------------------------------------------------------------------ recorded answers
def test_content_on_any_path_is_a_finding() -> None:
    plan = plan_service_probes(NONCOMPLIANT.items("services"), NONCOMPLIANT.items("endpointslices"))
    judgement = judge_service_probes(plan.then, NONCOMPLIANT.service_probes())
    assert [f.ref for f in sorted(judgement.findings)] == [
        "Service monitoring/console-open-api",
        "Service monitoring/events-store-tls",
        "Service monitoring/metrics-ui",
        "Service monitoring/node-stats-exporter",
        "Service payments/payments-api",
    ]
    # A TLS port found by the retry over https; a sign-in page at / excuses nothing.
    assert (
        "Service monitoring/events-store-tls: port 2379 (https) served content without "
        "credentials to GET /metrics → 200"
    ) in lines(judgement)
    assert titles(judgement) == [
        "Unauthenticated requests through the service proxy",
        "Verdict per service port",
        "Limitations: service ports or paths not judged",
    ]


def test_every_port_demanding_credentials_passes() -> None:
    plan = plan_service_probes(COMPLIANT.items("services"), COMPLIANT.items("endpointslices"))
    judgement = judge_service_probes(plan.then, COMPLIANT.service_probes())
    assert judgement.passed == (
        "3 service port(s) demanded credentials (401/403, a challenge or a sign-in)"
    )
    assert len(evidence(judgement, "Verdict per service port")) == 3


# ------------------------------------------------------------------ varied by hand
def test_the_api_server_refusing_the_suite_leaves_no_verdict() -> None:
    refused = status_body('services "ui" is forbidden: cannot get resource "services/proxy"')
    judgement = judge_service_probes([port()], [asked(port(), 403, refused)])
    assert judgement.unavailable == (
        "the API server refused the suite's services/proxy requests: Service monitoring/ui:80"
    )
    assert titles(judgement) == [
        "Unauthenticated requests through the service proxy",
        "Verdict per service port",
    ]


def test_a_port_never_judged_is_named_and_leaves_no_verdict() -> None:
    judgement = judge_service_probes([port()], [asked(port(), 500, "oops")])
    assert judgement.unavailable.startswith(
        "1 service port(s) could not be judged (Service monitoring/ui:80): "
        "Service monitoring/ui:80: not judged: http / → 500: a backend error"
    )
    assert "Limitations: service ports or paths not judged" in titles(judgement)


def test_a_finding_outweighs_a_port_never_judged() -> None:
    ports = [port("ui"), port("api", 8080)]
    judgement = judge_service_probes(ports, [asked(ports[0], 500), asked(ports[1], 200)])
    assert lines(judgement) == [
        "Service monitoring/api: port 8080 (http) served content without credentials to GET / → 200"
    ]


REFUSED = status_body(
    "error trying to reach service: dial tcp 10.244.0.9:80: connect: connection refused"
)


def test_no_port_answering_http_leaves_no_verdict() -> None:
    judgement = judge_service_probes([port()], [asked(port(), 503, REFUSED)])
    assert judgement.unavailable.startswith(
        "no probed service port answered HTTP or HTTPS: Service monitoring/ui:80: cannot "
        "serve HTTP content"
    )


def test_the_pass_names_ports_that_served_nothing_or_cannot_serve() -> None:
    ports = [port("ui"), port("idle", 81), port("dead", 82)]
    judgement = judge_service_probes(
        ports, [asked(ports[0], 401), asked(ports[1], 404), asked(ports[2], 503, REFUSED)]
    )
    assert judgement.findings == ()
    assert judgement.passed == (
        "1 service port(s) demanded credentials (401/403, a challenge or a sign-in); "
        "1 served nothing on the probed paths and asked for no credentials "
        "(Service monitoring/idle:81); 1 cannot serve HTTP content (Service monitoring/dead:82)"
    )


def test_answers_are_paired_with_their_ports() -> None:
    try:
        judge_service_probes([port()], [])
    except ValueError as exc:
        assert "zip()" in str(exc)
    else:
        raise AssertionError("a port without its answers must not be judged")


def test_the_pass_lists_every_port_that_served_nothing_or_cannot_serve() -> None:
    ports = [port("idle", 81), port("idle-2", 83), port("dead", 82), port("dead-2", 84)]
    codes = [asked(ports[0], 404), asked(ports[1], 404)]
    codes += [asked(ports[2], 503, REFUSED), asked(ports[3], 503, REFUSED)]
    judgement = judge_service_probes(ports, codes)
    assert judgement.passed == (
        "0 service port(s) demanded credentials (401/403, a challenge or a sign-in); "
        "2 served nothing on the probed paths and asked for no credentials "
        "(Service monitoring/idle:81, Service monitoring/idle-2:83); 2 cannot serve HTTP "
        "content (Service monitoring/dead:82, Service monitoring/dead-2:84)"
    )


SIX = [port(f"s{i}", 80 + i) for i in range(6)]


def test_every_refusing_port_is_named() -> None:
    refused = status_body('services "ui" is forbidden: cannot get resource "services/proxy"')
    judgement = judge_service_probes(SIX[:2], [asked(p, 403, refused) for p in SIX[:2]])
    assert judgement.unavailable == (
        "the API server refused the suite's services/proxy requests: "
        "Service monitoring/s0:80; Service monitoring/s1:81"
    )


def _why(judgement_reason: str, head: str) -> list[str]:
    assert judgement_reason.startswith(head)
    return judgement_reason[len(head) :].split("; ")


def test_every_unjudged_port_is_named_and_the_first_five_explained() -> None:
    judgement = judge_service_probes(SIX, [asked(p, 500, "oops") for p in SIX])
    names = ", ".join(f"Service monitoring/s{i}:{80 + i}" for i in range(6))
    reasons = _why(judgement.unavailable, f"6 service port(s) could not be judged ({names}): ")
    assert reasons == [
        f"Service monitoring/s{i}:{80 + i}: not judged: http / → 500: a backend error [unjudged]"
        for i in range(5)
    ]


def test_ports_that_cannot_serve_explained_for_the_first_five() -> None:
    judgement = judge_service_probes(SIX, [asked(p, 503, REFUSED) for p in SIX])
    reasons = _why(judgement.unavailable, "no probed service port answered HTTP or HTTPS: ")
    assert [r.split(":")[0] for r in reasons] == [f"Service monitoring/s{i}" for i in range(5)]
    assert "s5:85" not in judgement.unavailable
