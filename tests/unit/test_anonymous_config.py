"""kube-apiserver anonymous authentication as its options compute it, and what the live
server's answers add (pkg/kubeapiserver/options/authentication.go, the apiserver
AuthenticationConfiguration and its anonymous authenticator, v1.35.4).

The AuthenticationConfiguration and probe answers of the compliant profile are recorded
from the local cluster (tests/data/control_plane/).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubepci.access.probes import ProbeResult
from kubepci.analysis import anonymous
from kubepci.analysis.flags import ComponentFlags, ConfigFile

DATA = Path(__file__).resolve().parents[1] / "data" / "control_plane"
FILE = "/etc/kubernetes/authn.yaml"
HEALTH = [{"path": "/livez"}, {"path": "/readyz"}, {"path": "/healthz"}]


def apiserver(**explicit: str) -> ComponentFlags:
    explicit.setdefault("authorization-mode", "Node,RBAC")
    explicit = {k: v for k, v in explicit.items() if v is not None}
    return ComponentFlags(
        "kube-apiserver", "kube-system/kube-apiserver-cp-1", "cp-1", explicit,
    )  # fmt: skip


def authn(anonymous_section: Any = "absent", **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "apiVersion": "apiserver.config.k8s.io/v1",
        "kind": "AuthenticationConfiguration",
        "jwt": [],
        **extra,
    }
    if anonymous_section != "absent":
        doc["anonymous"] = anonymous_section
    return doc


def read(document: dict[str, Any] | None) -> ConfigFile:
    if document is None:
        return ConfigFile("authentication-config", FILE, reason="run with --node-root")
    return ConfigFile("authentication-config", FILE, "/node" + FILE, document)


WITH_FILE = {"authentication-config": FILE}

CASES = [
    # (id, flags, file document (None: not read; "none": no --authentication-config),
    #  known, enabled, paths, finding text or "")
    ("default-true", {}, "none", True, True, (), "enabled for every path"),
    ("flag-false", {"anonymous-auth": "false"}, "none", True, False, (), ""),
    ("always-allow-default", {"authorization-mode": None}, "none", True, False, (), ""),
    ("always-allow-stomps", {"anonymous-auth": "true", "authorization-mode": "AlwaysAllow,RBAC"},
     "none", True, False, (), ""),
    ("no-stomp-with-authz-config", {"authorization-mode": None, "authorization-config": "/a.yaml"},
     "none", True, True, (), "enabled for every path"),
    ("file-unread", WITH_FILE, None, False, False, (), ""),
    ("file-health-only", WITH_FILE, authn({"enabled": True, "conditions": HEALTH}), True, True,
     ("/livez", "/readyz", "/healthz"), ""),
    ("file-health-checks", WITH_FILE,
     authn({"enabled": True, "conditions": [{"path": "/readyz/etcd"}, {"path": ""}]}),
     True, True, ("/readyz/etcd", ""), ""),
    ("file-metrics", WITH_FILE, authn({"enabled": True, "conditions": [
        *HEALTH, {"path": "/metrics"}, {"path": "/api/v1/namespaces"}]}), True, True,
     ("/livez", "/readyz", "/healthz", "/metrics", "/api/v1/namespaces"),
     "authenticated on /api/v1/namespaces, /metrics, beyond the health paths"),
    ("file-every-path", WITH_FILE, authn({"enabled": True}), True, True, (),
     "enabled for every path: the anonymous section of /node/etc/kubernetes/authn.yaml"),
    ("file-every-path-empty-list", WITH_FILE, authn({"enabled": True, "conditions": []}), True,
     True, (), "enabled for every path"),
    ("file-empty-section", WITH_FILE, authn({}), True, False, (), ""),
    ("file-null-section-flag-applies", WITH_FILE, authn(None), True, True, (),
     "has no anonymous section, so the flag applies: --anonymous-auth not set"),
    ("file-absent-section-flag-false", {**WITH_FILE, "anonymous-auth": "false"}, authn(), True,
     False, (), ""),
    ("file-and-flag-refused", {**WITH_FILE, "anonymous-auth": "false"},
     authn({"enabled": False}), False, False, (), ""),
    ("unknown-field", WITH_FILE, authn({"enabled": False}, anonymus={"enabled": True}), False,
     False, (), ""),
    ("wrong-kind", WITH_FILE, {**authn(), "kind": "AuthorizationConfiguration"}, False, False,
     (), ""),
    ("conditions-while-disabled", WITH_FILE,
     authn({"enabled": False, "conditions": [{"path": "/metrics"}]}), False, False, (), ""),
    ("enabled-as-string", WITH_FILE, authn({"enabled": "true"}), False, False, (), ""),
    ("condition-unknown-key", WITH_FILE,
     authn({"enabled": True, "conditions": [{"path": "/livez", "verb": "get"}]}), False, False,
     (), ""),
    ("v1beta1", WITH_FILE, {**authn({"enabled": True}), "apiVersion":
     "apiserver.config.k8s.io/v1beta1"}, True, True, (), "enabled for every path"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("flags", "document", "known", "enabled", "paths", "finding"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_effective_anonymous_authentication(
    flags: dict[str, str],
    document: Any,
    known: bool,
    enabled: bool,
    paths: tuple[str, ...],
    finding: str,
) -> None:
    instance = apiserver(**flags)
    file = None if document == "none" else read(document)
    auth = anonymous.api_server_anonymous(instance, file)
    assert (auth.known, auth.enabled, auth.paths) == (known, enabled, paths), auth.how
    findings = anonymous.anonymous_config_findings(instance, auth)
    if finding:
        (only,) = findings
        assert (only.kind, only.namespace, only.name) == (
            "Pod",
            "kube-system",
            "kube-apiserver-cp-1",
        )
        assert finding in only.detail
    else:
        assert findings == []


def test_refusals_say_why() -> None:
    both = anonymous.api_server_anonymous(
        apiserver(**{**WITH_FILE, "anonymous-auth": "true"}), read(authn({"enabled": True}))
    )
    assert "mutually exclusive" in both.how
    strict = anonymous.api_server_anonymous(apiserver(**WITH_FILE), read(authn(extra=1)))
    assert "unknown field(s) extra" in strict.how
    assert (
        anonymous.api_server_anonymous(apiserver(**WITH_FILE), read(None))
        .describe()
        .startswith("not known from the configuration")
    )


def test_recorded_compliant_configuration() -> None:
    document = yaml.safe_load((DATA / "authentication-config-compliant.yaml").read_text())
    auth = anonymous.api_server_anonymous(apiserver(**WITH_FILE), read(document))
    assert (auth.known, auth.enabled, auth.paths) == (True, True, ("/livez", "/readyz", "/healthz"))
    assert auth.describe().startswith("enabled on /livez, /readyz, /healthz")


# ----------------------------------------------------------------------------- live answers


def probes(*answers: tuple[str, int | None]) -> list[ProbeResult]:
    return [
        ProbeResult("GET", f"https://10.0.0.1:6443{path}", status, "" if status else "timeout")
        for path, status in answers
    ]


def recorded_probes() -> list[ProbeResult]:
    raw = json.loads((DATA / "api-server-probes-compliant.json").read_text())["probes"]
    return [ProbeResult(p["method"], p["url"], p["status"], p["error"]) for p in raw]


DISABLED = anonymous.AnonymousAuth(True, False, (), "--anonymous-auth=false")
HEALTH_ONLY = anonymous.AnonymousAuth(True, True, ("/livez", "/readyz", "/healthz"), "file")
EVERY_PATH = anonymous.AnonymousAuth(True, True, (), "--anonymous-auth=true")
UNKNOWN = anonymous.AnonymousAuth(False, how="not read")


def test_recorded_compliant_answers_agree() -> None:
    answers = recorded_probes()
    assert anonymous.anonymous_probe_findings(answers, [HEALTH_ONLY]) == []
    assert anonymous.anonymous_probe_findings(answers, [UNKNOWN]) == []
    assert anonymous.undecided_probes(answers) == []


@pytest.mark.parametrize(
    ("answers", "auths", "paths"),
    [
        # 403: authenticated as system:anonymous, stopped only by authorization
        ([("/healthz", 200), ("/api", 403), ("/metrics", 401)], [UNKNOWN], ["/api"]),
        ([("/api", 403), ("/version", 200)], [DISABLED], ["/api", "/version"]),
        ([("/logs/", 404)], [HEALTH_ONLY], ["/logs/"]),
        ([("/api", 401), ("/livez", 200), ("/readyz/etcd", 200)], [DISABLED], []),
        # the configuration already names every path; the answers add nothing
        ([("/api", 403)], [EVERY_PATH], []),
        ([("/api", 403)], [UNKNOWN, EVERY_PATH], []),
        ([("/api", 503), ("/apis", None)], [UNKNOWN], []),
    ],
)
def test_answers_that_show_anonymous_requests_in(
    answers: list[tuple[str, int | None]], auths: list[anonymous.AnonymousAuth], paths: list[str]
) -> None:
    findings = anonymous.anonymous_probe_findings(probes(*answers), auths)
    assert [f.detail.split(" ")[1] for f in findings] == paths
    assert all((f.kind, f.name) == ("APIServer", "10.0.0.1:6443") for f in findings)


def test_undecided_answers() -> None:
    answers = probes(("/api", 503), ("/apis", None), ("/metrics", 401), ("/healthz", None))
    assert [p.url.rsplit(":6443", 1)[1] for p in anonymous.undecided_probes(answers)] == [
        "/api",
        "/apis",
    ]


@pytest.mark.parametrize(
    ("path", "health"),
    [("/healthz", True), ("/livez/ping", True), ("/readyz/etcd", True), ("/readyzz", False),
     ("/metrics", False), ("/", False), ("/version", False)],
)  # fmt: skip
def test_health_paths(path: str, health: bool) -> None:
    assert anonymous.is_health_path(path) is health


def test_which_answers_show_an_anonymous_request_was_authenticated() -> None:
    from kubepci.records.probes import ProbeResult

    server = "https://192.0.2.2:6443"
    statuses = {"/a": 200, "/b": 399, "/c": 400, "/d": 401, "/e": 403, "/f": 404, "/g": 405,
                "/healthz": 200}  # fmt: skip
    probes = [ProbeResult("GET", server + path, status) for path, status in statuses.items()]
    got = [p.url.removeprefix(server) for p in anonymous.authenticated_anonymously(probes)]
    assert got == ["/a", "/b", "/e", "/f", "/g"]
    allowed = anonymous.AnonymousAuth(True, True, ("/a",), "file")
    findings = anonymous.anonymous_probe_findings(probes, [allowed])
    assert [(f.kind, f.namespace, f.name) for f in findings] == [
        ("APIServer", "", "192.0.2.2:6443")
    ] * 4
    assert [f.detail.split(" without")[0] for f in findings] == [
        "GET /b", "GET /e", "GET /f", "GET /g"
    ]  # fmt: skip


def test_an_unread_authentication_configuration_leaves_the_authenticator_unknown() -> None:
    flags = ComponentFlags(
        "kube-apiserver", "kube-system/kube-apiserver-cp", "cp",
        {"authentication-config": "/etc/kubernetes/authn.yaml"},
    )  # fmt: skip
    absent = anonymous.api_server_anonymous(flags, None)
    assert (absent.known, absent.how) == (
        False,
        "--authentication-config=/etc/kubernetes/authn.yaml (set on pod "
        "kube-system/kube-apiserver-cp) may configure it, and the file was not read "
        "(--authentication-config=/etc/kubernetes/authn.yaml: not read)",
    )
    refused = ConfigFile("authentication-config", "/etc/kubernetes/authn.yaml", reason="EACCES")
    unread = anonymous.api_server_anonymous(flags, refused)
    assert unread.how.endswith(f"the file was not read ({refused.unread})")


# ------------------------------------------------------------------ word for word
def test_each_reason_word_for_word() -> None:
    refused = anonymous.api_server_anonymous(
        apiserver(**WITH_FILE), read(authn({"enabled": "yes"}))
    )
    assert refused.how == (
        f"kube-apiserver would refuse /node{FILE}: anonymous.enabled 'yes' is not a boolean, "
        "so the file as read does not describe the running server"
    )
    both = anonymous.api_server_anonymous(
        apiserver(**WITH_FILE, **{"anonymous-auth": "true"}), read(authn({"enabled": True}))
    )
    assert both.how == (
        f"/node{FILE} has an anonymous section and --anonymous-auth is set too: "
        "kube-apiserver refuses to start so (the two are mutually exclusive)"
    )
    reset = anonymous.api_server_anonymous(apiserver(**{"authorization-mode": "AlwaysAllow"}), None)
    assert (reset.known, reset.enabled) == (True, False)
    assert reset.how == (
        "--anonymous-auth not set; Kubernetes default true applies; reset to false because "
        "the authorization modes hold AlwaysAllow (ApplyAuthorization; AlwaysAllow itself is "
        "judged as an authorizer finding)"
    )


def test_anonymous_off_is_not_reset_whatever_the_modes() -> None:
    off = anonymous.api_server_anonymous(
        apiserver(**{"anonymous-auth": "false", "authorization-mode": "AlwaysAllow"}), None
    )
    assert (off.known, off.enabled, off.paths) == (True, False, ())
    assert off.how == "--anonymous-auth=false (set on pod kube-system/kube-apiserver-cp-1)"


def test_a_condition_without_a_path_lets_nothing_in() -> None:
    # Go decodes {} as AnonymousAuthCondition{Path: ""}, and no validation refuses it
    # (apiserver pkg/apis/apiserver/validation/validation.go): no request path equals "".
    auth = anonymous.api_server_anonymous(
        apiserver(**WITH_FILE), read(authn({"enabled": True, "conditions": [{}]}))
    )
    assert (auth.known, auth.enabled, auth.paths) == (True, True, ("",))
    assert anonymous.anonymous_config_findings(apiserver(**WITH_FILE), auth) == []


def test_content_served_without_credentials_edges() -> None:
    server = "https://10.0.0.1:6443"
    answers = [
        ProbeResult("GET", server, 200),  # no path: the root
        ProbeResult("GET", server + "/a", 399),  # a redirect is content from the API server
        ProbeResult("GET", server + "/b", 400),
        ProbeResult("GET", server + "/c", 199),
    ]
    assert [f.detail for f in anonymous.api_server_findings(answers)] == [
        "GET / without credentials answered 200",
        "GET /a without credentials answered 399",
    ]
    # The controller manager and scheduler serve only 2xx: their redirects are not content.
    assert [f.detail for f in anonymous.component_findings("kube-scheduler", answers)] == [
        "GET / without credentials answered 200",
    ]
