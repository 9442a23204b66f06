"""What a supporting service's answers to requests without credentials mean (PCI 1.1.6).

The suite reaches each Service port through the API server's service proxy, which drops
the caller's credentials (k8s.io/apiserver pkg/endpoints/filters/authentication.go) and
adds none of its own: its transport to the backend is ``InsecureSkipVerify`` TLS with no
client certificate (k8s.io/kubernetes pkg/controlplane/apiserver/config.go,
CreateProxyTransport). The backend therefore sees an anonymous caller.

Each probed path ends in one :class:`Outcome`. "Demands credentials" is 401, 403 or an
authentication challenge (``WWW-Authenticate``), a client-certificate demand in the TLS
handshake, or a redirect to a sign-in page; nothing else. A 2xx is content unless it is a
sign-in page. The rules below say which answer is which and why; the port's verdict
(:func:`judge_port`) follows from its paths.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import SplitResult, parse_qs, urljoin, urlsplit

from kubepci.analysis.endpoints import SERVICE_PROBE_PATHS, ServicePort
from kubepci.records.probes import PathProbe, ProbeResult
from kubepci.verdict import Finding

# Redirects followed per path. The proxy rewrites a backend's Location onto its own path
# (k8s.io/apimachinery pkg/util/proxy/transport.go, rewriteURL), so a chain stays on the
# API server; a chain longer than this is a loop, not an answer.
MAX_REDIRECTS = 5
PASSWORD_MARK = "password-field"

_PASSWORD_FIELD = re.compile(r"<input\b[^>]*\btype\s*=\s*[\"']?password\b", re.IGNORECASE)
# Path segments that name a sign-in step: form logins (Grafana, Argo CD, Jenkins, Kibana:
# /login), OAuth 2.0 / OIDC authorization endpoints (Dex /auth, Keycloak
# /protocol/openid-connect/auth, Okta /oauth2/.../authorize, oauth2-proxy /oauth2/start)
# and SAML / CAS single sign-on.
_SIGN_IN_SEGMENTS = frozenset(
    {
        "login",
        "signin",
        "sign-in",
        "sign_in",
        "logon",
        "log-in",
        "auth",
        "authenticate",
        "authorize",
        "oauth",
        "oauth2",
        "openid-connect",
        "oidc",
        "sso",
        "saml",
        "saml2",
        "cas",
    }
)
# What a TLS-only server answers to plain HTTP, in its own words: Go's net/http
# ("Client sent an HTTP request to an HTTPS server."), nginx ("The plain HTTP request was
# sent to HTTPS port"), Apache httpd ("speaking plain HTTP to an SSL-enabled server port")
# and Tomcat ("This combination of host and port requires TLS").
_TLS_SERVER_WORDS = re.compile(
    r"HTTP request to an HTTPS server|plain HTTP request was sent to HTTPS port"
    r"|plain HTTP to an SSL-enabled server|combination of host and port requires TLS",
    re.IGNORECASE,
)
_STATUS_MESSAGE = re.compile(r'"message":\s*"((?:[^"\\]|\\.)*)')


class Outcome(StrEnum):
    """What one probed path (with the redirects it took) showed."""

    CONTENT = "content"  # a 2xx that is not a sign-in page
    CREDENTIALS = "credentials"  # 401/403, a challenge, a client-certificate demand
    SIGN_IN = "sign-in"  # a sign-in page (directly, or where a redirect led)
    NOTHING = "nothing"  # another 4xx: served nothing and asked for nothing
    WRONG_SCHEME = "wrong-scheme"  # the port speaks the other scheme (TLS or plain)
    NOT_HTTP = "not-http"  # the backend's answer was not HTTP
    REFUSED = "refused"  # nothing listens: the backend refused the connection
    NO_ANSWER = "no-answer"  # accepted, then no answer within the timeout
    UNJUDGED = "unjudged"  # no endpoints, proxy or backend error, redirect not followed
    SUITE_REFUSED = "suite-refused"  # the API server refused the suite itself


JUDGED = frozenset({Outcome.CONTENT, Outcome.CREDENTIALS, Outcome.SIGN_IN, Outcome.NOTHING})
# Answers that say nothing about a path but about the port: probing more paths of it would
# only repeat them (a hanging backend would cost a timeout per path).
_PORT_WIDE = frozenset({Outcome.WRONG_SCHEME, Outcome.NOT_HTTP, Outcome.REFUSED, Outcome.NO_ANSWER})


@dataclass(frozen=True)
class PathAnswer:
    probe: PathProbe
    outcome: Outcome
    why: str
    # The answer is about the port, not the path (no answer, refused, no endpoints, the
    # wrong scheme): probing more paths of it would only repeat it, and a hanging backend
    # would cost a timeout per path.
    port_wide: bool = False

    def line(self) -> str:
        return f"{self.probe.path} → {self.why} [{self.outcome}]"


def body_marks(text: str) -> tuple[str, ...]:
    """Features of a response body the verdict needs but an excerpt may cut off.

    >>> body_marks('<form><input type="password" name="p"></form>')
    ('password-field',)
    >>> body_marks('<input name="expr">')
    ()
    """
    return (PASSWORD_MARK,) if _PASSWORD_FIELD.search(text) else ()


def _header(probe: ProbeResult, name: str) -> str:
    return next((v for k, v in probe.headers if k.lower() == name), "")


def api_server_message(probe: ProbeResult) -> str | None:
    """The message of a Status the API server wrote itself (the proxy's errors, its own
    refusals), or None when the answer came from the backend.

    The proxy reports what it could not do as a ``Status`` JSON object: "no endpoints
    available for service" and "no service port N found" (pkg/registry/core/service/
    storage/storage.go, ResourceLocation) and "error trying to reach service: <Go error>"
    (k8s.io/apimachinery pkg/util/proxy/transport.go, RoundTrip).
    """
    body = probe.body
    if '"kind":"Status"' not in body.replace(" ", ""):
        return None
    found = _STATUS_MESSAGE.search(body)
    if found is None:
        return None
    message = found.group(1)
    if (
        message.startswith(("error trying to reach service", "no endpoints available"))
        or message.startswith("no service port")
        or "services/proxy" in message
        or ('services \\"' in message and "not found" in message)
    ):
        return message.replace('\\"', '"')
    return None


def is_suite_refused(probe: ProbeResult) -> bool:
    """The API server refused the suite's own request (no ``get services/proxy``)."""
    message = api_server_message(probe)
    return probe.status == 403 and message is not None and "services/proxy" in message


def looks_like_sign_in(url: str) -> bool:
    """A URL that names a sign-in step (a path segment, or an OAuth/SAML request).

    >>> looks_like_sign_in("https://idp.example/oauth2/v2.0/authorize?client_id=a")
    True
    >>> looks_like_sign_in("/api/v1/namespaces/m/services/ui:80/proxy/login")
    True
    >>> looks_like_sign_in("/api/v1/namespaces/m/services/ui:80/proxy/graph")
    False
    """
    parts = urlsplit(url)
    segments = {s.lower().rsplit(".", 1)[0] for s in parts.path.split("/") if s}
    if segments & _SIGN_IN_SEGMENTS:
        return True
    query = {k.lower() for k in parse_qs(parts.query)}
    return "samlrequest" in query or {"client_id", "redirect_uri"} <= query


def redirect_target(probe: ProbeResult, port: ServicePort) -> str | None:
    """The API-server path a redirect leads to when it stays on this service port; None
    for any other answer and for a redirect that leaves it (another host or service).

    Two kinds stay: a Location on the port's proxy path (the proxy rewrites the backend's
    own absolute paths onto it: k8s.io/apimachinery pkg/util/proxy/transport.go,
    rewriteURL), and a Location naming the Service itself by its cluster DNS name and
    port (``http(s)://NAME.NS.svc[.cluster.local]:PORT/...``), which the proxy leaves
    alone; that one is mapped back onto the proxy, over the scheme it names.
    """
    if probe.status is None or not 300 <= probe.status < 400:
        return None
    location = _header(probe, "location")
    if not location:
        return None
    source = urlsplit(probe.url)
    target = urlsplit(urljoin(probe.url, location))
    query = f"?{target.query}" if target.query else ""
    if (target.scheme, target.netloc) == (source.scheme, source.netloc):
        for scheme in ("http", "https"):
            prefix = port.proxy_prefix(scheme)
            if target.path == prefix or target.path.startswith(prefix + "/"):
                return target.path + query
        return None
    if target.scheme not in ("http", "https") or not _names_service(target, port):
        return None
    return port.proxy_prefix(target.scheme) + (target.path or "/") + query


def _names_service(url: SplitResult, port: ServicePort) -> bool:
    host = (url.hostname or "").lower().rstrip(".")
    names = {
        f"{port.name}.{port.namespace}.svc.cluster.local",
        f"{port.name}.{port.namespace}.svc",
        f"{port.name}.{port.namespace}",
    }
    try:
        number = url.port or {"http": 80, "https": 443}[url.scheme]
    except ValueError:
        return False
    return host in names and number == port.port


def _proxy_error(probe: ProbeResult, scheme: str) -> tuple[Outcome, str, bool] | None:
    """The outcome of a request the proxy could not complete, from its message."""
    message = api_server_message(probe)
    if message is None:
        return None
    text = message.lower()
    if "services/proxy" in text:
        return Outcome.SUITE_REFUSED, f"{probe.status}: the API server refused the suite", True
    if text.startswith("no endpoints available") or text.startswith("no service port"):
        return Outcome.UNJUDGED, f"{probe.status}: {message}", True
    if "not found" in text and text.startswith("services"):
        return Outcome.UNJUDGED, f"{probe.status}: {message} (the Service is gone)", True
    why = f"{probe.status}: {message}"
    if "connection refused" in text:
        return Outcome.REFUSED, why, True
    if "certificate required" in text or "bad certificate" in text:
        # The backend's TLS handshake demands a client certificate: mutual TLS.
        return Outcome.CREDENTIALS, why + " (the backend demands a client certificate)", True
    if scheme == "https" and (
        "gave http response to https client" in text or "does not look like a tls handshake" in text
    ):
        return Outcome.WRONG_SCHEME, why + " (a plain-HTTP server)", True
    if "malformed http response" in text:
        if "\\\\x15\\\\x03" in text or "\\x15\\x03" in text:
            # A TLS alert record: the backend speaks TLS and refused our plain request.
            return Outcome.WRONG_SCHEME, why + " (a TLS alert: a TLS server)", True
        return Outcome.NOT_HTTP, why, True
    if text.endswith(": eof") or "connection reset" in text:
        return Outcome.NOT_HTTP, why + " (closed without an HTTP answer)", True
    if "timeout" in text or "deadline exceeded" in text:
        return Outcome.NO_ANSWER, why, True
    return Outcome.UNJUDGED, why, True


def _response(probe: ProbeResult, scheme: str, redirected: bool) -> tuple[Outcome, str, bool]:
    """The outcome of the last response of a path's chain."""
    if probe.status is None:
        if "timed out" in probe.error:
            return Outcome.NO_ANSWER, f"no answer within the timeout ({probe.error})", True
        return Outcome.UNJUDGED, f"no answer from the API server ({probe.error})", True
    proxy = _proxy_error(probe, scheme)
    if proxy is not None:
        return proxy
    status = probe.status
    challenge = _header(probe, "www-authenticate")
    if status in (401, 403) or challenge:
        said = f"{status}" + (f", WWW-Authenticate: {challenge}" if challenge else "")
        return Outcome.CREDENTIALS, said, False
    if status == 400 and scheme == "http" and _TLS_SERVER_WORDS.search(probe.body):
        return Outcome.WRONG_SCHEME, "400: a TLS server answering plain HTTP", True
    if 200 <= status < 300:
        if PASSWORD_MARK in probe.marks:
            return Outcome.SIGN_IN, f"{status}: a sign-in form (password field)", False
        if redirected and looks_like_sign_in(probe.url):
            return Outcome.SIGN_IN, f"{status}: the sign-in page a redirect led to", False
        return Outcome.CONTENT, f"{status}", False
    if 300 <= status < 400:
        location = _header(probe, "location")
        if not location:
            return Outcome.NOTHING, f"{status} without a Location", False
        if looks_like_sign_in(location):
            return Outcome.CREDENTIALS, f"{status}: redirects to sign in at {location}", False
        return (
            Outcome.UNJUDGED,
            f"{status}: redirects off the service proxy to {location} (not followed)",
            False,
        )
    if 400 <= status < 500:
        return Outcome.NOTHING, f"{status}", False
    return Outcome.UNJUDGED, f"{status}: a backend error", False


def proxied_scheme(url: str) -> str:
    """The scheme the proxy was told to reach the backend with (``services/https:NAME``).

    >>> proxied_scheme("https://api:6443/api/v1/namespaces/m/services/https:ui:443/proxy/")
    'https'
    """
    return "https" if "/services/https:" in urlsplit(url).path else "http"


def classify(probe: PathProbe) -> PathAnswer:
    """One path's outcome, from the last answer of its redirect chain."""
    chain = probe.requests
    if not chain:
        return PathAnswer(probe, Outcome.UNJUDGED, "no request was made", True)
    last = chain[-1]
    hops = "".join(f"{r.status} → " for r in chain[:-1])
    if len(chain) > MAX_REDIRECTS and last.status is not None and 300 <= last.status < 400:
        return PathAnswer(
            probe, Outcome.UNJUDGED, f"{hops}{last.status}: more than {MAX_REDIRECTS} redirects"
        )
    outcome, why, port_wide = _response(last, proxied_scheme(last.url), len(chain) > 1)
    if len(chain) > 1:
        why = f"{hops}{why} at {urlsplit(last.url).path}"
    return PathAnswer(probe, outcome, why, port_wide)


def other_scheme(answer: PathAnswer) -> str | None:
    """The scheme to retry the port with, when its answer says it may speak the other one.

    Over plain HTTP: a TLS server's own words, a TLS alert, or a connection closed without
    an HTTP answer (etcd's TLS port, among others, just hangs up). Over TLS: a plain-HTTP
    answer, a connection closed, or no answer at all (a plain server may sit waiting for
    a request line that a TLS ClientHello never ends).
    """
    retry = {"http": "https", "https": "http"}[answer.probe.scheme]
    if answer.outcome is Outcome.WRONG_SCHEME:
        return retry
    if answer.outcome is Outcome.NOT_HTTP and "closed without" in answer.why:
        return retry
    if answer.outcome is Outcome.NO_ANSWER and answer.probe.scheme == "https":
        return retry
    return None


def ends_port(answer: PathAnswer) -> bool:
    """Probing more paths of this port would only repeat this answer."""
    return answer.port_wide


class PortVerdict(StrEnum):
    SERVED_CONTENT = "served content"
    DEMANDS_CREDENTIALS = "demands credentials"
    SERVED_NOTHING = "served nothing and asked for no credentials"
    CANNOT_SERVE = "cannot serve HTTP content"  # nothing listens, or it speaks no HTTP(S)
    NOT_JUDGED = "not judged"  # could serve content, but no answer said whether it does
    SUITE_REFUSED = "the API server refused the suite"


@dataclass(frozen=True)
class PortJudgement:
    port: ServicePort
    verdict: PortVerdict
    answers: tuple[PathAnswer, ...]

    @property
    def ref(self) -> str:
        return f"{self.port.ref}:{self.port.port}"

    def answered(self, outcomes: frozenset[Outcome] | set[Outcome]) -> list[PathAnswer]:
        return [a for a in self.answers if a.outcome in outcomes]

    def line(self) -> str:
        paths = "; ".join(f"{a.probe.scheme} {a.line()}" for a in self.answers)
        return f"{self.ref}: {self.verdict} — {paths}"

    def finding(self) -> Finding:
        content = self.answered({Outcome.CONTENT})
        # Only a port that served content has a finding (judge_port: SERVED_CONTENT).
        scheme = proxied_scheme(content[0].probe.requests[-1].url)
        served = "; ".join(f"GET {a.probe.path} → {a.why}" for a in content)
        return Finding(
            "Service",
            self.port.namespace,
            self.port.name,
            f"port {self.port.port} ({scheme}) served content without credentials to {served}",
        )


def judge_port(port: ServicePort, probes: list[PathProbe]) -> PortJudgement:
    """The port's verdict from every path probed on it.

    Content on any path is a finding, whatever the others say (a sign-in page at ``/``
    does not excuse an open ``/metrics``). Otherwise any credential demand or sign-in
    page means the port demands credentials; 4xx answers alone mean it served nothing on
    the probed paths. A port none of whose answers could be judged is NOT_JUDGED, unless
    every answer shows it cannot serve HTTP content at all (the connection was refused,
    or the backend answered neither HTTP nor HTTPS).
    """
    answers = tuple(classify(p) for p in probes)
    outcomes = {a.outcome for a in answers}
    if Outcome.SUITE_REFUSED in outcomes:
        verdict = PortVerdict.SUITE_REFUSED
    elif Outcome.CONTENT in outcomes:
        verdict = PortVerdict.SERVED_CONTENT
    elif outcomes & {Outcome.CREDENTIALS, Outcome.SIGN_IN}:
        verdict = PortVerdict.DEMANDS_CREDENTIALS
    elif Outcome.NOTHING in outcomes:
        verdict = PortVerdict.SERVED_NOTHING
    elif outcomes and outcomes <= {Outcome.REFUSED, Outcome.NOT_HTTP}:
        verdict = PortVerdict.CANNOT_SERVE
    else:
        verdict = PortVerdict.NOT_JUDGED
    return PortJudgement(port, verdict, answers)


def limitation(judgement: PortJudgement) -> str:
    """Why a port's answers leave something unjudged, naming the port; "" when nothing is.

    A judged port can still have paths that gave no answer (a backend error on one path,
    probing stopped after a timeout): those are named too.
    """
    skipped = [a for a in judgement.answers if a.outcome not in JUDGED]
    if judgement.verdict in (PortVerdict.NOT_JUDGED, PortVerdict.CANNOT_SERVE):
        reasons = "; ".join(f"{a.probe.scheme} {a.line()}" for a in skipped)
        return f"{judgement.ref}: {judgement.verdict}: {reasons}"
    # A path asked again over the other scheme (the TLS retry) was answered there.
    retried = {(a.probe.path, a.probe.scheme) for a in judgement.answers}
    skipped = [
        a
        for a in skipped
        if (a.probe.path, {"http": "https", "https": "http"}[a.probe.scheme]) not in retried
    ]
    reasons = "; ".join(f"{a.probe.scheme} {a.line()}" for a in skipped)
    last = judgement.answers[-1]  # a port without answers is NOT_JUDGED, handled above
    if last.port_wide and last.outcome not in JUDGED:
        # Probing stopped on an answer about the port: the paths after it were not asked.
        asked = {a.probe.path for a in judgement.answers}
        unasked = [p for p in SERVICE_PROBE_PATHS if p not in asked]
        if unasked:
            reasons += f"; then not asked: {', '.join(unasked)}"
    if reasons:
        return f"{judgement.ref}: judged from its other paths; not judged: {reasons}"
    return ""
