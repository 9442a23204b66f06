"""PCI 1.1 offline: the thirteen unauthenticated-access checks of tests_pci, judged through
replay on the recorded evidence of the local clusters, edited the way a real
misconfiguration (or a real fix) would look.

The recorded verdict of each profile is asserted field for field by test_replay; every
case here changes that evidence and asserts the verdict, the findings and the reason that
follow, and the JUnit outcome and exit code where they differ from the plain mapping.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests import builders as b
from tests.support.evidence_cases import (
    REFUSED,
    TIMED_OUT,
    Evidence,
    Obj,
    answer,
    with_flag,
    without_flag,
)

pytest_plugins = ["pytester"]

API = "192.0.2.2:6443"
KCM = "kube-controller-manager"
KCM_PROBES = "probe-kube-controller-manager-kube-system_kube-controller-manager-vm"
SCHEDULER_PROBES = "probe-kube-scheduler-kube-system_kube-scheduler-vm"
AUTHN_FILE = "/etc/kubernetes/kubepci/authentication-config.yaml"
AUTHENTICATED_THERE = (
    ": the server authenticates anonymous requests there (with anonymous off it answers 401)"
)


@pytest.fixture
def compliant(pytester: pytest.Pytester) -> Evidence:
    return Evidence(pytester, "compliant")


@pytest.fixture
def noncompliant(pytester: pytest.Pytester) -> Evidence:
    return Evidence(pytester, "noncompliant")


def authentication_config(change: Callable[[Obj], Any]) -> Callable[[Obj], None]:
    """An edit of the AuthenticationConfiguration the compliant kube-apiserver reads."""

    def edit(record: Obj) -> None:
        change(record["ok"]["kube-system/kube-apiserver-vm"]["authentication-config"])

    return edit


def kubelet_config(change: Callable[[Obj], Any]) -> Callable[[Obj], None]:
    """An edit of node vm's kubelet configuration, as /configz serves it."""

    def edit(record: Obj) -> None:
        change(record["ok"]["vm"]["config"])

    return edit


# ------------------------------------------------------------ api-server-anonymous-probe
def test_api_server_serving_nodes_and_redirecting_fails(compliant: Evidence) -> None:
    compliant.probe("probe-api-server", "/api/v1/nodes", answer(200, body='{"kind":"NodeList"}'))
    compliant.probe("probe-api-server", "/metrics", answer(302, headers={"location": "/login"}))
    judged = compliant.judge("api-server-anonymous-probe")
    assert judged.verdict == "failed"
    assert judged.failures() == [
        ("APIServer", "", API, "GET /api/v1/nodes without credentials answered 200"),
        ("APIServer", "", API, "GET /metrics without credentials answered 302"),
    ]
    assert judged.reason == "2 finding(s)"
    assert (judged.junit, judged.ret) == ("failed", 1)


def test_api_server_may_serve_health_and_version_to_anyone(compliant: Evidence) -> None:
    compliant.probe("probe-api-server", "/version", answer(200, body='{"major":"1"}'))
    compliant.probe("probe-api-server", "/api/v1/pods", answer(404))
    judged = compliant.judge("api-server-anonymous-probe")
    assert judged.verdict == "passed"
    assert judged.findings == []
    assert judged.reason == "every non-health path refused unauthenticated requests (401/403)"


def test_api_server_path_that_timed_out_leaves_no_verdict(compliant: Evidence) -> None:
    compliant.probe("probe-api-server", "/api", TIMED_OUT)
    judged = compliant.judge("api-server-anonymous-probe")
    assert judged.verdict == "error"
    assert judged.reason == (
        "evidence unavailable: API server did not answer: "
        f"GET https://{API}/api → no answer (timed out)"
    )
    assert (judged.junit, judged.ret) == ("failed", 2)


def test_noncompliant_api_server_closed_again_passes(noncompliant: Evidence) -> None:
    def closed(probe: Obj) -> None:
        if not probe["url"].endswith(("/healthz", "/livez", "/readyz")):
            answer(401, body="Unauthorized")(probe)

    noncompliant.every_probe("probe-api-server", closed)
    judged = noncompliant.judge("api-server-anonymous-probe")
    assert (judged.verdict, judged.findings) == ("passed", [])


# ------------------------------------------------------------ api-server-anonymous-config
def test_anonymous_conditions_beyond_health_paths_fail(compliant: Evidence) -> None:
    compliant.edit(
        "node-config-files-kube-apiserver",
        authentication_config(
            lambda f: f["document"]["anonymous"]["conditions"].append({"path": "/api/v1/pods"})
        ),
    )
    judged = compliant.judge("api-server-anonymous-config")
    assert judged.verdict == "failed"
    assert judged.failures() == [
        (
            "Pod",
            "kube-system",
            "kube-apiserver-vm",
            "anonymous requests are authenticated on /api/v1/pods, beyond the health paths: "
            f"the anonymous section of {AUTHN_FILE} (--authentication-config on pod "
            "kube-system/kube-apiserver-vm)",
        )
    ]


def test_anonymous_section_without_conditions_opens_every_path(compliant: Evidence) -> None:
    compliant.edit(
        "node-config-files-kube-apiserver",
        authentication_config(lambda f: f["document"]["anonymous"].pop("conditions")),
    )
    judged = compliant.judge("api-server-anonymous-config")
    assert judged.verdict == "failed"
    (finding,) = judged.failures()
    assert finding[:3] == ("Pod", "kube-system", "kube-apiserver-vm")
    assert finding[3].startswith("anonymous authentication is enabled for every path: ")


def test_anonymous_section_disabled_passes(compliant: Evidence) -> None:
    compliant.edit(
        "node-config-files-kube-apiserver",
        authentication_config(lambda f: f["document"].update(anonymous={"enabled": False})),
    )
    judged = compliant.judge("api-server-anonymous-config")
    assert judged.verdict == "passed"
    assert judged.evidence("Anonymous authentication of").startswith("disabled (the anonymous")
    assert judged.reason == (
        "anonymous authentication is disabled or limited to health paths, and the live "
        "server agrees on every path probed"
    )


def test_flag_and_file_both_set_leave_the_live_server_to_decide(compliant: Evidence) -> None:
    """kube-apiserver refuses --anonymous-auth with an anonymous section in the file, so the
    configuration as read is not the running server's: the 401s decide."""
    compliant.command("kube-apiserver", lambda argv: with_flag(argv, "--anonymous-auth=true"))
    judged = compliant.judge("api-server-anonymous-config")
    assert judged.verdict == "passed"
    assert judged.reason == (
        "every probed non-health path answered 401: anonymous requests are not authenticated "
        "(configuration not read; decided by the live server)"
    )
    assert "mutually exclusive" in judged.evidence("Anonymous authentication of")
    assert judged.evidence("Limitation").startswith("the anonymous configuration of at least")


def test_unread_file_and_a_silent_server_leave_no_verdict(compliant: Evidence) -> None:
    compliant.edit(
        "node-config-files-kube-apiserver",
        authentication_config(
            lambda f: f.update(document=None, read_from="", reason="permission denied")
        ),
    )
    compliant.every_probe("probe-api-server", TIMED_OUT)
    judged = compliant.judge("api-server-anonymous-config")
    assert judged.verdict == "error"
    assert judged.reason.startswith(
        "evidence unavailable: the anonymous configuration was not read and the API server "
        f"did not answer clearly: GET https://{API}/version → no answer (timed out)"
    )


def test_live_answers_contradicting_the_file_are_findings(compliant: Evidence) -> None:
    """/version is public for the probe check, but this server's file authenticates
    anonymous requests on health paths only: a 200 there is the running server disagreeing."""
    compliant.probe("probe-api-server", "/version", answer(200, body='{"major":"1"}'))
    compliant.probe("probe-api-server", "/api", answer(503))
    judged = compliant.judge_each("api-server-anonymous-config", "api-server-anonymous-probe")
    config = judged["api-server-anonymous-config"]
    assert config.failures() == [
        (
            "APIServer",
            "",
            API,
            "GET /version without credentials answered 200" + AUTHENTICATED_THERE,
        )
    ]
    assert config.evidence("Probes that did not tell") == [f"GET https://{API}/api → 503"]
    assert judged["api-server-anonymous-probe"].verdict == "passed"


def test_anonymous_auth_false_with_a_server_still_answering(noncompliant: Evidence) -> None:
    noncompliant.command("kube-apiserver", lambda argv: with_flag(argv, "--anonymous-auth=false"))
    judged = noncompliant.judge("api-server-anonymous-config")
    assert judged.verdict == "failed"
    assert (
        "APIServer",
        "",
        API,
        "GET /api/v1/pods without credentials answered 200" + AUTHENTICATED_THERE,
    ) in judged.failures()
    # The configuration itself is no longer a finding: only the live answers are.
    assert {f[0] for f in judged.findings} == {"APIServer"}
    assert judged.evidence("Anonymous authentication of").startswith("disabled")


def test_always_allow_resets_anonymous_auth(noncompliant: Evidence) -> None:
    noncompliant.command(
        "kube-apiserver", lambda argv: with_flag(argv, "--authorization-mode=AlwaysAllow")
    )
    judged = noncompliant.judge("api-server-anonymous-config")
    assert "reset to false because the authorization modes hold AlwaysAllow" in judged.evidence(
        "Anonymous authentication of"
    )
    assert "Pod" not in {f[0] for f in judged.failures()}
    assert judged.verdict == "failed"


# ------------------------------------------------------------ anonymous-rbac-bindings
def test_anonymous_user_bound_to_view_fails(compliant: Evidence) -> None:
    compliant.add(
        "clusterrolebindings",
        b.cluster_role_binding("anonymous-view", "view", [b.subject_user("system:anonymous")]),
    )
    judged = compliant.judge("anonymous-rbac-bindings")
    assert judged.verdict == "failed"
    ((kind, namespace, name, detail),) = judged.failures()
    assert (kind, namespace, name) == ("ClusterRoleBinding", "", "anonymous-view")
    assert detail.startswith("grants get,list,watch on core/configmaps,")
    assert "on API resources: User system:anonymous → ClusterRoleBinding anonymous-view" in detail


def test_unauthenticated_group_reading_metrics_fails(compliant: Evidence) -> None:
    compliant.add(
        "clusterroles",
        b.cluster_role("metrics-reader", [b.rule(["get"], urls=["/metrics", "/healthz"])]),
    )
    compliant.add(
        "clusterrolebindings",
        b.cluster_role_binding(
            "unauthenticated-metrics", "metrics-reader", [b.subject_group("system:unauthenticated")]
        ),
    )
    judged = compliant.judge("anonymous-rbac-bindings")
    assert judged.failures() == [
        (
            "ClusterRoleBinding",
            "",
            "unauthenticated-metrics",
            "grants get on /metrics: Group system:unauthenticated → ClusterRoleBinding "
            "unauthenticated-metrics → ClusterRole metrics-reader → get on /metrics,/healthz "
            "(cluster-wide)",
        )
    ]


def test_anonymous_grants_of_health_paths_only_pass(compliant: Evidence) -> None:
    health = ["/healthz", "/livez", "/readyz", "/version"]
    compliant.add("clusterroles", b.cluster_role("health-reader", [b.rule(["get"], urls=health)]))
    compliant.add(
        "clusterrolebindings",
        b.cluster_role_binding(
            "unauthenticated-health", "health-reader", [b.subject_group("system:unauthenticated")]
        ),
    )
    judged = compliant.judge("anonymous-rbac-bindings")
    assert judged.verdict == "passed"
    assert judged.reason == "anonymous callers are granted health and version paths only"
    assert any("ClusterRole health-reader" in g for g in judged.evidence("Grants to anonymous"))


def test_anonymous_reading_secrets_in_one_namespace_fails(compliant: Evidence) -> None:
    compliant.add("roles", b.role("secret-reader", "payments", [b.rule(["get"], ["secrets"])]))
    compliant.add(
        "rolebindings",
        b.role_binding(
            "anonymous-secrets", "payments", "secret-reader", [b.subject_user("system:anonymous")]
        ),
    )
    judged = compliant.judge("anonymous-rbac-bindings")
    assert judged.failures() == [
        (
            "RoleBinding",
            "payments",
            "anonymous-secrets",
            "grants get on core/secrets on API resources: User system:anonymous → RoleBinding "
            "payments/anonymous-secrets → Role payments/secret-reader → get on core/secrets "
            "(in namespace payments)",
        )
    ]


# ------------------------------------------------------------ always-allow paths
def test_controller_manager_metrics_skipping_authorization_fails(compliant: Evidence) -> None:
    paths = "--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics"
    compliant.command(KCM, lambda argv: with_flag(argv, paths))
    judged = compliant.judge("controller-manager-always-allow-paths")
    assert judged.failures() == [
        (
            "Pod",
            "kube-system",
            "kube-controller-manager-vm",
            "--authorization-always-allow-paths adds /metrics beyond the default health paths, "
            f"served on 127.0.0.1: {paths} (set on pod kube-system/kube-controller-manager-vm)",
        )
    ]


def test_controller_manager_serving_nothing_passes(noncompliant: Evidence) -> None:
    noncompliant.command(KCM, lambda argv: with_flag(argv, "--secure-port=0"))
    judged = noncompliant.judge("controller-manager-always-allow-paths")
    assert judged.verdict == "passed"
    assert judged.reason == (
        "--secure-port=0 on every instance: nothing is served, so no path is open"
    )


def test_controller_manager_default_paths_pass(noncompliant: Evidence) -> None:
    noncompliant.command(KCM, lambda argv: without_flag(argv, "authorization-always-allow-paths"))
    judged = noncompliant.judge("controller-manager-always-allow-paths")
    assert (judged.verdict, judged.reason) == (
        "passed",
        "only /healthz, /readyz and /livez skip authorization",
    )


def test_scheduler_configz_open_under_a_config_file_fails(compliant: Evidence) -> None:
    compliant.command(
        "kube-scheduler", lambda argv: with_flag(argv, "--config=/etc/kubernetes/scheduler.yaml")
    )
    compliant.command(
        "kube-scheduler",
        lambda argv: with_flag(argv, "--authorization-always-allow-paths=/healthz,/configz"),
    )
    judged = compliant.judge("scheduler-always-allow-paths")
    ((kind, namespace, name, detail),) = judged.failures()
    assert (kind, namespace, name) == ("Pod", "kube-system", "kube-scheduler-vm")
    assert detail.startswith("--authorization-always-allow-paths adds /configz beyond the")
    assert judged.evidence("kube-system/kube-scheduler-vm reads --config") == (
        "KubeSchedulerConfiguration holds no serving or authorization settings, so the flags "
        "above decide them"
    )


def test_scheduler_bound_to_one_address_says_where(noncompliant: Evidence) -> None:
    noncompliant.command("kube-scheduler", lambda argv: with_flag(argv, "--bind-address=10.0.0.5"))
    judged = noncompliant.judge("scheduler-always-allow-paths")
    ((*_, detail),) = judged.failures()
    assert "/configz, /debug/pprof, /debug/pprof/*, /metrics beyond" in detail
    assert "served on 10.0.0.5:" in detail


def test_scheduler_back_to_the_default_paths_passes(noncompliant: Evidence) -> None:
    noncompliant.command(
        "kube-scheduler",
        lambda argv: with_flag(argv, "--authorization-always-allow-paths=/healthz,/readyz,/livez"),
    )
    judged = noncompliant.judge("scheduler-always-allow-paths")
    assert (judged.verdict, judged.findings) == ("passed", [])


# ------------------------------------------------------------ component probes
def test_controller_manager_serving_metrics_fails(compliant: Evidence) -> None:
    compliant.every_probe(KCM_PROBES, answer(403))
    compliant.probe(KCM_PROBES, "/healthz", answer(200, body="ok"))
    compliant.probe(KCM_PROBES, "/metrics", answer(200, body="# HELP workqueue_depth"))
    judged = compliant.judge("controller-manager-anonymous-probe")
    assert judged.failures() == [
        (
            "ControllerManager",
            "",
            "192.0.2.2:10257",
            "GET /metrics without credentials answered 200",
        )
    ]


def test_controller_manager_redirect_is_not_content(compliant: Evidence) -> None:
    compliant.every_probe(KCM_PROBES, answer(401))
    compliant.probe(KCM_PROBES, "/metrics", answer(302, headers={"location": "/login"}))
    judged = compliant.judge("controller-manager-anonymous-probe")
    assert (judged.verdict, judged.reason) == (
        "passed",
        "no sensitive path answered without credentials",
    )


def test_controller_manager_refusing_on_the_node_address_passes(compliant: Evidence) -> None:
    """The recorded compliant answer: bound to 127.0.0.1, the node address refuses."""
    judged = compliant.judge("controller-manager-anonymous-probe")
    assert judged.verdict == "passed"
    assert judged.evidence("kube-system/kube-controller-manager-vm is not reachable") == (
        "https://192.0.2.2:10257 refused connections; bound to 127.0.0.1"
    )


def test_controller_manager_that_timed_out_leaves_no_verdict(compliant: Evidence) -> None:
    compliant.every_probe(KCM_PROBES, TIMED_OUT)
    judged = compliant.judge("controller-manager-anonymous-probe")
    assert judged.verdict == "error"
    assert judged.reason == (
        "evidence unavailable: https://192.0.2.2:10257 did not answer (timed out); cannot tell "
        "whether it serves content without credentials"
    )


def test_controller_manager_on_a_node_without_address_errors(compliant: Evidence) -> None:
    compliant.change_items(
        "nodes", lambda n: n["status"].update(addresses=[{"type": "Hostname", "address": "vm"}])
    )
    judged = compliant.judge("controller-manager-anonymous-probe")
    assert judged.verdict == "error"
    assert judged.reason == (
        "evidence unavailable: no network address found for "
        "kube-system/kube-controller-manager-vm's node"
    )


def test_controller_manager_serving_nothing_is_not_an_error(noncompliant: Evidence) -> None:
    noncompliant.command(KCM, lambda argv: with_flag(argv, "--secure-port=0"))
    judged = noncompliant.judge("controller-manager-anonymous-probe")
    assert "no network address" not in judged.reason
    assert judged.verdict != "error"


def test_controller_manager_metrics_timing_out_leaves_no_verdict(compliant: Evidence) -> None:
    compliant.every_probe(KCM_PROBES, answer(403))
    compliant.probe(KCM_PROBES, "/healthz", answer(200, body="ok"))
    compliant.probe(KCM_PROBES, "/metrics", TIMED_OUT)
    judged = compliant.judge("controller-manager-anonymous-probe")
    assert judged.verdict == "error"


def test_scheduler_serving_pprof_fails(noncompliant: Evidence) -> None:
    noncompliant.probe(SCHEDULER_PROBES, "/metrics", answer(401))
    noncompliant.probe(SCHEDULER_PROBES, "/configz", answer(403))
    judged = noncompliant.judge("scheduler-anonymous-probe")
    assert judged.failures() == [
        ("Scheduler", "", "192.0.2.2:10259", "GET /debug/pprof/ without credentials answered 200")
    ]


def test_scheduler_refusing_every_path_passes(noncompliant: Evidence) -> None:
    noncompliant.every_probe(SCHEDULER_PROBES, answer(403, body="Forbidden"))
    judged = noncompliant.judge("scheduler-anonymous-probe")
    assert (judged.verdict, judged.findings) == ("passed", [])


def test_scheduler_refusing_and_resetting_leaves_no_verdict(compliant: Evidence) -> None:
    compliant.probe(SCHEDULER_PROBES, "/configz", answer(error="connection reset by peer"))
    judged = compliant.judge("scheduler-anonymous-probe")
    assert judged.reason == (
        "evidence unavailable: https://192.0.2.2:10259 did not answer (connection refused, "
        "connection reset by peer); cannot tell whether it serves content without credentials"
    )


# ------------------------------------------------------------ kubelet-anonymous-probe
KUBELET = "kubelet 192.0.2.2:10250"


@pytest.mark.parametrize(
    ("status", "detail"),
    [
        (
            403,
            "403: anonymous authentication is enabled (requests become system:anonymous; "
            "only authorization stops them)",
        ),
        (200, "200: serves the kubelet API to anyone without credentials (critical)"),
        (500, "unexpected answer 500 to an unauthenticated GET /pods"),
    ],
)
def test_kubelet_answering_anything_but_401_fails(
    compliant: Evidence, status: int, detail: str
) -> None:
    compliant.probe("probe-kubelet", "/pods", answer(status))
    judged = compliant.judge("kubelet-anonymous-probe")
    assert judged.failures() == [("Node", "", "vm", f"{KUBELET} {detail}")]
    assert judged.verdict == "failed"


@pytest.mark.parametrize("silence", ["timed out", "connection refused"])
def test_kubelet_that_did_not_answer_is_named(compliant: Evidence, silence: str) -> None:
    compliant.probe("probe-kubelet", "/pods", answer(error=silence))
    judged = compliant.judge("kubelet-anonymous-probe")
    assert judged.verdict == "error"
    assert judged.reason == (
        f"evidence unavailable: vm: GET https://192.0.2.2:10250/pods → no answer ({silence})"
    )


def test_second_node_kubelet_answering_403_is_named(compliant: Evidence) -> None:
    compliant.add("nodes", b.node("worker-1", internal_ip="192.0.2.3"))

    def second_kubelet(record: Obj) -> None:
        probe = dict(record["ok"][0], url="https://192.0.2.3:10250/pods")
        answer(403, body="Forbidden")(probe)
        record["ok"].append(probe)

    compliant.edit("probe-kubelet", second_kubelet)
    judged = compliant.judge("kubelet-anonymous-probe")
    assert [f[:3] for f in judged.failures()] == [("Node", "", "worker-1")]
    assert judged.findings[0][3].startswith("kubelet 192.0.2.3:10250 403: anonymous")


def test_no_node_address_to_probe_errors(compliant: Evidence) -> None:
    compliant.change_items("nodes", lambda n: n["status"].update(addresses=[]))
    compliant.edit("probe-kubelet", lambda record: record.update(ok=[]))
    judged = compliant.judge_each("kubelet-anonymous-probe", "kubelet-read-only-port")
    for check in judged.values():
        assert (check.verdict, check.reason) == (
            "error",
            "evidence unavailable: no node has an address to probe",
        )


def test_kubelet_never_probed_leaves_no_verdict(compliant: Evidence) -> None:
    compliant.add("nodes", b.node("worker-2", internal_ip=None))
    judged = compliant.judge("kubelet-anonymous-probe")
    assert judged.verdict == "error"
    assert "worker-2" in judged.reason


# ------------------------------------------------------------ kubelet-read-only-port
def test_read_only_port_configured_and_serving_fails(compliant: Evidence) -> None:
    compliant.edit("kubelet-configz", kubelet_config(lambda c: c.update(readOnlyPort=10255)))
    compliant.every_probe("probe-kubelet-read-only", answer(200, body='{"kind":"PodList"}'))
    judged = compliant.judge_each("kubelet-read-only-port", "kubelet-config")
    assert judged["kubelet-read-only-port"].failures() == [
        (
            "Node",
            "",
            "vm",
            "read-only port 10255 answered 200 to GET http://192.0.2.2:10255/pods without "
            "credentials (configz readOnlyPort=10255)",
        )
    ]
    assert judged["kubelet-config"].failures() == [("Node", "", "vm", "kubelet readOnlyPort=10255")]


def test_read_only_port_on_another_port_is_probed_there(compliant: Evidence) -> None:
    compliant.edit("kubelet-configz", kubelet_config(lambda c: c.update(readOnlyPort=10266)))

    def answered_there(probe: Obj) -> None:
        answer(404, body="404 page not found")(probe)
        probe["url"] = "http://192.0.2.2:10266/pods"

    compliant.every_probe("probe-kubelet-read-only", answered_there)
    judged = compliant.judge("kubelet-read-only-port")
    assert judged.failures() == [
        (
            "Node",
            "",
            "vm",
            "read-only port 10266 answered 404 to GET http://192.0.2.2:10266/pods without "
            "credentials (configz readOnlyPort=10266)",
        )
    ]


def test_read_only_port_that_timed_out_leaves_no_verdict(compliant: Evidence) -> None:
    compliant.every_probe("probe-kubelet-read-only", TIMED_OUT)
    judged = compliant.judge("kubelet-read-only-port")
    assert judged.reason == (
        "evidence unavailable: vm: GET http://192.0.2.2:10255/pods → no answer (timed out) "
        "(configz readOnlyPort is 0 (disabled); the default 10255 is probed to confirm)"
    )


def test_read_only_port_without_configz_assumes_the_default(compliant: Evidence) -> None:
    compliant.fails_to_collect("kubelet-configz", "cannot read configz: 403 forbidden")
    judged = compliant.judge_each("kubelet-read-only-port", "kubelet-config")
    read_only = judged["kubelet-read-only-port"]
    assert read_only.verdict == "passed"
    assert read_only.evidence("Read-only port probed") == [
        "vm: http://192.0.2.2:10255/pods (configz not read (cannot read configz: 403 "
        "forbidden): the configured port is unknown, so the default 10255 is assumed)"
    ]
    assert judged["kubelet-config"].reason == (
        "evidence unavailable: cannot read configz: 403 forbidden"
    )


def test_read_only_port_bound_to_loopback_is_said_so(compliant: Evidence) -> None:
    compliant.edit(
        "kubelet-configz",
        kubelet_config(lambda c: c.update(address="127.0.0.1", readOnlyPort=10255)),
    )
    judged = compliant.judge("kubelet-read-only-port")
    assert judged.verdict == "passed"
    assert judged.reason == "the read-only port (10255) refused connections on every node"
    assert judged.evidence("Read-only port probed") == [
        "vm: http://192.0.2.2:10255/pods (configz readOnlyPort=10255; bound to 127.0.0.1, so "
        "the node address should refuse it)"
    ]


def test_noncompliant_read_only_port_closed_passes(noncompliant: Evidence) -> None:
    noncompliant.every_probe("probe-kubelet-read-only", REFUSED)
    judged = noncompliant.judge("kubelet-read-only-port")
    assert (judged.verdict, judged.findings) == ("passed", [])


# ------------------------------------------------------------ kubelet-config
@pytest.mark.parametrize(
    ("change", "detail"),
    [
        (
            lambda c: c["authentication"]["anonymous"].update(enabled=True),
            "kubelet authentication.anonymous.enabled=true",
        ),
        (
            lambda c: c["authorization"].update(mode="AlwaysAllow"),
            "kubelet authorization.mode=AlwaysAllow",
        ),
        (lambda c: c.pop("authorization"), "kubelet authorization.mode=?"),
    ],
)
def test_kubelet_configuration_opened_fails(
    compliant: Evidence, change: Callable[[Obj], Any], detail: str
) -> None:
    compliant.edit("kubelet-configz", kubelet_config(change))
    judged = compliant.judge("kubelet-config")
    assert judged.failures() == [("Node", "", "vm", detail)]


@pytest.mark.parametrize(
    ("entry", "why"),
    [
        (
            {"error": "the server could not find the requested resource", "status": 404},
            "the server could not find the requested resource",
        ),
        (
            {"error": "not answered before the probe phase's deadline", "kind": "unanswered"},
            "not answered before the probe phase's deadline",
        ),
    ],
)
def test_kubelet_configuration_not_read_errors(compliant: Evidence, entry: Obj, why: str) -> None:
    compliant.edit("kubelet-configz", lambda record: record["ok"].update(vm=entry))
    judged = compliant.judge("kubelet-config")
    assert judged.reason == f"evidence unavailable: cannot read kubelet configz: vm: {why}"


def test_kubelet_configuration_without_the_optional_grant_is_manual(compliant: Evidence) -> None:
    refused = {"error": "forbidden", "status": 403, "kind": "not-granted"}
    compliant.edit("kubelet-configz", lambda record: record["ok"].update(vm=refused))
    judged = compliant.judge("kubelet-config")
    assert judged.verdict == "manual"
    assert judged.reason.startswith(
        "nodes/proxy get is not granted to the audit's identity (optional: ClusterRole "
        "kubepci-auditor-kubelet-config in deploy/auditor-rbac.yaml;"
    )
    assert "so the kubelet configuration of vm was not read. The live probes" in judged.reason
    assert (judged.junit, judged.ret) == ("skipped", 0)


def test_ungranted_node_does_not_hide_a_finding_elsewhere(compliant: Evidence) -> None:
    def two_nodes(record: Obj) -> None:
        record["ok"]["vm"] = {"error": "forbidden", "status": 403, "kind": "not-granted"}
        record["ok"]["worker-1"] = {
            "config": {"authentication": {"anonymous": {"enabled": True}}, "authorization": {}}
        }

    compliant.edit("kubelet-configz", two_nodes)
    judged = compliant.judge("kubelet-config")
    assert judged.failures() == [
        ("Node", "", "worker-1", "kubelet authentication.anonymous.enabled=true"),
        ("Node", "", "worker-1", "kubelet authorization.mode=?"),
    ]


def test_no_kubelet_configuration_at_all_errors(compliant: Evidence) -> None:
    compliant.edit("kubelet-configz", lambda record: record.update(ok={}))
    judged = compliant.judge("kubelet-config")
    assert judged.reason == "evidence unavailable: no nodes to read kubelet configuration from"


# ------------------------------------------------------------ etcd-client-cert-auth
ETCD_CLIENT_URLS = ("https://127.0.0.1:2379", "https://192.0.2.2:2379")


def test_etcd_without_client_certificates_fails(compliant: Evidence) -> None:
    compliant.command(
        "etcd", lambda argv: without_flag(without_flag(argv, "client-cert-auth"), "trusted-ca-file")
    )
    judged = compliant.judge("etcd-client-cert-auth")
    assert judged.failures() == [
        (
            "Pod",
            "kube-system",
            "etcd-vm",
            f"etcd client listener {url}: no client certificate is required "
            "(--client-cert-auth is not true and no --trusted-ca-file)",
        )
        for url in ETCD_CLIENT_URLS
    ]


def test_etcd_trusted_ca_alone_demands_certificates(compliant: Evidence) -> None:
    compliant.command("etcd", lambda argv: without_flag(argv, "client-cert-auth"))
    judged = compliant.judge("etcd-client-cert-auth")
    assert judged.verdict == "passed"
    assert judged.reason == "every etcd listener requires a client certificate"
    # The backup job's pod that calls itself etcd is recorded, never judged.
    (set_aside,) = judged.evidence("kube-system pods not judged as etcd")
    assert set_aside.startswith("Pod kube-system/etcd-backup-7zj2t container etcd: not a static")


def test_etcd_plain_http_peer_listener_fails(compliant: Evidence) -> None:
    compliant.command(
        "etcd", lambda argv: with_flag(argv, "--listen-peer-urls=http://192.0.2.2:2380")
    )
    judged = compliant.judge("etcd-client-cert-auth")
    assert judged.failures() == [
        (
            "Pod",
            "kube-system",
            "etcd-vm",
            "etcd plain-HTTP peer listener http://192.0.2.2:2380: no TLS, so no client "
            "certificate is asked for (etcd ignores any certificate settings on http:// URLs)",
        )
    ]


def test_etcd_auto_tls_fails(compliant: Evidence) -> None:
    compliant.command(
        "etcd",
        lambda argv: with_flag(
            without_flag(without_flag(argv, "cert-file"), "key-file"), "--auto-tls=true"
        ),
    )
    judged = compliant.judge("etcd-client-cert-auth")
    assert [f[3] for f in judged.failures()] == [
        f"etcd client listener {url} uses --auto-tls: a self-signed certificate and no client "
        "certificate required (auto TLS drops --client-cert-auth and --trusted-ca-file)"
        for url in ETCD_CLIENT_URLS
    ]


def _etcd_environment(*variables: tuple[str, str]) -> Callable[[Obj], None]:
    def each(pod: Obj) -> None:
        if pod["metadata"]["name"] == "etcd-vm":
            pod["spec"]["containers"][0]["env"] = [{"name": n, "value": v} for n, v in variables]

    return each


def test_etcd_variable_shadowing_a_flag_errors(compliant: Evidence) -> None:
    compliant.change_items("pods", _etcd_environment(("ETCD_CLIENT_CERT_AUTH", "false")))
    judged = compliant.judge("etcd-client-cert-auth")
    assert judged.verdict == "error"
    assert judged.reason == (
        "evidence unavailable: etcd would not start with the command line of its static pod, "
        "so these flags do not describe a running etcd: kube-system/etcd-vm: "
        "ETCD_CLIENT_CERT_AUTH in the environment shadows --client-cert-auth on the command "
        "line: etcd exits (pkg/flags verifyEnv)"
    )


def test_etcd_settings_from_its_environment_pass(compliant: Evidence) -> None:
    compliant.command(
        "etcd", lambda argv: without_flag(without_flag(argv, "client-cert-auth"), "trusted-ca-file")
    )
    compliant.change_items(
        "pods",
        _etcd_environment(
            ("ETCD_CLIENT_CERT_AUTH", "true"),
            ("ETCD_TRUSTED_CA_FILE", "/etc/kubernetes/pki/etcd/ca.crt"),
        ),
    )
    judged = compliant.judge("etcd-client-cert-auth")
    assert (judged.verdict, judged.findings) == ("passed", [])


# ------------------------------------------------------------ etcd-anonymous-probe
def test_etcd_answering_without_a_certificate_fails(compliant: Evidence) -> None:
    compliant.every_probe("probe-etcd", answer(404, body="404 page not found"))
    judged = compliant.judge("etcd-anonymous-probe")
    assert judged.failures() == [
        ("Etcd", "", "192.0.2.2:2379", "answered 404 to a client without a certificate")
    ]


def test_etcd_handshake_failure_is_a_refusal(compliant: Evidence) -> None:
    compliant.every_probe("probe-etcd", answer(error="remote error: tls: handshake failure"))
    judged = compliant.judge("etcd-anonymous-probe")
    assert (judged.verdict, judged.reason) == (
        "passed",
        "every etcd client URL refused a client without a certificate",
    )


@pytest.mark.parametrize("silence", ["timed out", "connection refused"])
def test_etcd_silence_leaves_no_verdict(compliant: Evidence, silence: str) -> None:
    compliant.every_probe("probe-etcd", answer(error=silence))
    judged = compliant.judge("etcd-anonymous-probe")
    assert judged.reason == (
        f"evidence unavailable: GET https://192.0.2.2:2379/version → no answer ({silence})"
    )


def test_etcd_on_loopback_only_is_not_applicable(compliant: Evidence) -> None:
    loopback = "https://127.0.0.1:2379"
    compliant.command(
        "etcd",
        lambda argv: with_flag(
            with_flag(argv, f"--advertise-client-urls={loopback}"),
            f"--listen-client-urls={loopback}",
        ),
    )
    judged = compliant.judge("etcd-anonymous-probe")
    assert judged.verdict == "not_applicable"
    assert judged.reason == (
        f"etcd listens only on loopback ({loopback}); not reachable from the network"
    )
    assert (judged.junit, judged.ret) == ("skipped", 0)


def test_etcd_server_error_without_a_certificate_does_not_pass(compliant: Evidence) -> None:
    compliant.every_probe("probe-etcd", answer(503, body="etcdserver: not capable"))
    judged = compliant.judge("etcd-anonymous-probe")
    assert judged.verdict != "passed"


# ------------------------------------------------------------ service-anonymous-probe
LOGIN = "Service monitoring/login-portal:80"
SSO = "Service monitoring/sso-gateway:4180"
PAYMENTS = "Service payments/payments-api:80"
PROBED_PATHS = (
    "/",
    "/metrics",
    "/api/v1/query?query=up",
    "/federate?match%5B%5D=up",
    "/api",
    "/api/v1",
    "/v1",
    "/debug/pprof/",
)


def proxy_status(message: str) -> Obj:
    """The Status the API server's service proxy writes when it cannot reach a backend."""
    body = (
        '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"'
        + message
        + '","reason":"ServiceUnavailable","code":503}'
    )
    return {"status": 503, "body": body, "headers": {"content-type": "application/json"}}


def test_landing_page_without_its_sign_in_form_fails(compliant: Evidence) -> None:
    compliant.service_path(LOGIN, "/", answer(200, body="<html>dashboards</html>"))
    judged = compliant.judge("service-anonymous-probe")
    assert judged.failures() == [
        (
            "Service",
            "monitoring",
            "login-portal",
            "port 80 (http) served content without credentials to GET / → 200",
        )
    ]


def test_open_metrics_beside_a_sign_in_redirect_fails(compliant: Evidence) -> None:
    compliant.service_path(SSO, "/metrics", answer(200, body="# HELP up"))
    judged = compliant.judge("service-anonymous-probe")
    assert judged.failures() == [
        (
            "Service",
            "monitoring",
            "sso-gateway",
            "port 4180 (http) served content without credentials to GET /metrics → 200",
        )
    ]


def test_redirect_on_the_proxy_to_content_fails(compliant: Evidence) -> None:
    graph = "/api/v1/namespaces/payments/services/payments-api:80/proxy/graph"

    def landed(request: Obj) -> None:
        answer(200, body="<html>graph</html>")(request)
        request["url"] = f"https://{API}{graph}"

    compliant.service_path(PAYMENTS, "/", answer(302, headers={"location": graph}), landed)
    judged = compliant.judge("service-anonymous-probe")
    assert judged.failures() == [
        (
            "Service",
            "payments",
            "payments-api",
            f"port 80 (http) served content without credentials to GET / → 302 → 200 at {graph}",
        )
    ]


def test_port_serving_nothing_passes_and_is_named(compliant: Evidence) -> None:
    compliant.service_port(PAYMENTS, *((path, answer(404)) for path in PROBED_PATHS))
    judged = compliant.judge("service-anonymous-probe")
    assert judged.verdict == "passed"
    assert judged.reason == (
        "2 service port(s) demanded credentials (401/403, a challenge or a sign-in); 1 served "
        "nothing on the probed paths and asked for no credentials (Service "
        "payments/payments-api:80)"
    )


def test_backend_demanding_a_client_certificate_passes(compliant: Evidence) -> None:
    mutual_tls = proxy_status(
        "error trying to reach service: remote error: tls: certificate required"
    )
    compliant.service_port(PAYMENTS, ("/", answer(**mutual_tls)))
    judged = compliant.judge("service-anonymous-probe")
    assert judged.verdict == "passed"
    assert judged.reason.startswith("3 service port(s) demanded credentials")


def test_port_that_timed_out_leaves_no_verdict(compliant: Evidence) -> None:
    compliant.service_port(PAYMENTS, ("/", TIMED_OUT))
    judged = compliant.judge("service-anonymous-probe")
    assert judged.verdict == "error"
    assert judged.reason == (
        "evidence unavailable: 1 service port(s) could not be judged (Service "
        "payments/payments-api:80): Service payments/payments-api:80: not judged: http / → "
        "no answer within the timeout (timed out) [no-answer]"
    )


def test_api_server_refusing_the_suite_proxy_errors(compliant: Evidence) -> None:
    forbidden = (
        '{"kind":"Status","apiVersion":"v1","status":"Failure","message":"services '
        '\\"payments-api\\" is forbidden: User \\"oidc:auditor@example.com\\" cannot get '
        'resource \\"services/proxy\\" in API group \\"\\" in the namespace \\"payments\\"",'
        '"reason":"Forbidden","code":403}'
    )
    compliant.service_path(PAYMENTS, "/", answer(403, body=forbidden))
    judged = compliant.judge("service-anonymous-probe")
    assert judged.reason == (
        "evidence unavailable: the API server refused the suite's services/proxy requests: "
        "Service payments/payments-api:80"
    )


def test_no_port_answering_http_at_all_errors(compliant: Evidence) -> None:
    refused = proxy_status(
        "error trying to reach service: dial tcp 10.244.0.8:8080: connect: connection refused"
    )
    for port in (LOGIN, SSO, PAYMENTS):
        compliant.service_port(port, ("/", answer(**refused)))
    judged = compliant.judge("service-anonymous-probe")
    assert judged.reason.startswith(
        "evidence unavailable: no probed service port answered HTTP or HTTPS: Service "
        "monitoring/login-portal:80: cannot serve HTTP content: http / → 503: error trying to "
        "reach service: dial tcp 10.244.0.8:8080: connect: connection refused [refused]"
    )


def test_no_service_with_ready_endpoints_is_not_applicable(compliant: Evidence) -> None:
    compliant.change_items("endpointslices", lambda s: s.update(ready=0))
    judged = compliant.judge("service-anonymous-probe")
    assert (judged.verdict, judged.reason) == (
        "not_applicable",
        "no Service has ready endpoints to probe",
    )
    assert judged.evidence("Services not probed") == [
        "Service monitoring/login-portal: no ready endpoints",
        "Service monitoring/sso-gateway: no ready endpoints",
        "Service payments/payments-api: no ready endpoints",
    ]
