"""1.1.2 / 1.1.3 judged (kubepci.analysis.component_access): the controller manager's and
scheduler's always-allow paths, and what they answer without credentials. Built on the
recorded flags and probes of both local profiles, varied by hand."""

from __future__ import annotations

import dataclasses

import pytest

from kubepci.analysis.component_access import (
    judge_always_allow_paths,
    judge_component_probes,
    judge_instance_answers,
    plan_instance_probe,
)
from kubepci.analysis.endpoints import NodeAddress
from kubepci.analysis.flags import ComponentFlags
from kubepci.records.probes import ProbeResult
from tests.support.judge_evidence import evidence, lines, recorded, titles

COMPLIANT = recorded("compliant")
NONCOMPLIANT = recorded("noncompliant")
NODES = [NodeAddress("cp", "192.0.2.7", 10250)]
PATHS = ("/healthz", "/metrics", "/configz", "/debug/pprof/")


def component(name: str, pod: str = "", **flags: str) -> ComponentFlags:
    return ComponentFlags(name, pod or f"kube-system/{name}-cp", "cp", dict(flags))


def answers(*outcomes: int | str, port: int = 10257) -> list[ProbeResult]:
    """One probe per path: a status, or the error of a probe that got no answer."""
    return [
        ProbeResult("GET", f"https://192.0.2.7:{port}{path}", o if isinstance(o, int) else None,
                    o if isinstance(o, str) else "")
        for path, o in zip(PATHS, outcomes, strict=True)
    ]  # fmt: skip


# ------------------------------------------------------------------ always-allow paths
def test_extra_always_allow_paths_are_a_finding_served_on_all_interfaces() -> None:
    flags = NONCOMPLIANT.flags("kube-controller-manager")
    judgement = judge_always_allow_paths("kube-controller-manager", flags)
    assert lines(judgement) == [
        "Pod kube-system/kube-controller-manager-vm: --authorization-always-allow-paths adds "
        "/configz, /debug/pprof, /debug/pprof/*, /metrics beyond the default health paths, "
        "served on all interfaces: --authorization-always-allow-paths=/healthz,/readyz,/livez,"
        "/metrics,/configz,/debug/pprof,/debug/pprof/* (set on pod "
        "kube-system/kube-controller-manager-vm)"
    ]
    assert titles(judgement) == [
        "kube-controller-manager flags (kube-system/kube-controller-manager-vm)"
    ]


@pytest.mark.parametrize("name", ["kube-controller-manager", "kube-scheduler"])
def test_the_default_paths_pass(name: str) -> None:
    judgement = judge_always_allow_paths(name, COMPLIANT.flags(name))
    assert judgement.findings == ()
    assert judgement.passed == "only /healthz, /readyz and /livez skip authorization"


def test_a_bound_address_is_named() -> None:
    flags = component(
        "kube-scheduler",
        **{"authorization-always-allow-paths": "/healthz,/metrics", "bind-address": "10.0.0.5"},
    )
    (finding,) = judge_always_allow_paths("kube-scheduler", [flags]).findings
    assert "adds /metrics beyond the default health paths, served on 10.0.0.5:" in finding.detail


def test_the_scheduler_config_file_does_not_decide_serving() -> None:
    flags = component("kube-scheduler", config="/etc/kubernetes/scheduler.yaml")
    judgement = judge_always_allow_paths("kube-scheduler", [flags])
    assert evidence(
        judgement, "kube-system/kube-scheduler-cp reads --config=/etc/kubernetes/scheduler.yaml"
    ).startswith("KubeSchedulerConfiguration holds no serving or authorization settings")
    # The controller manager has no such file to mention.
    cm = component("kube-controller-manager")
    assert titles(judge_always_allow_paths("kube-controller-manager", [cm])) == [
        "kube-controller-manager flags (kube-system/kube-controller-manager-cp)"
    ]


def test_secure_port_zero_serves_nothing() -> None:
    flags = component(
        "kube-controller-manager",
        **{"secure-port": "0", "authorization-always-allow-paths": "/metrics"},
    )
    judgement = judge_always_allow_paths("kube-controller-manager", [flags])
    assert judgement.findings == ()
    assert judgement.passed == (
        "--secure-port=0 on every instance: nothing is served, so no path is open"
    )
    assert evidence(judgement, "kube-system/kube-controller-manager-cp serves nothing") == (
        "--secure-port=0 (set on pod kube-system/kube-controller-manager-cp)"
    )


def test_one_serving_instance_is_judged_beside_one_serving_nothing() -> None:
    off = component("kube-controller-manager", "kube-system/kcm-a", **{"secure-port": "0"})
    on = component("kube-controller-manager", "kube-system/kcm-b")
    judgement = judge_always_allow_paths("kube-controller-manager", [off, on])
    assert judgement.passed == "only /healthz, /readyz and /livez skip authorization"


@pytest.mark.parametrize(
    ("flags", "reason"),
    [
        ({"secure-port": "ten"}, "--secure-port=ten is not a number"),
        ({"authorization-always-allow-paths": "/a*b"}, "only a trailing * is allowed"),
    ],
)
def test_settings_the_component_refuses_leave_no_verdict(
    flags: dict[str, str], reason: str
) -> None:
    judgement = judge_always_allow_paths(
        "kube-controller-manager", [component("kube-controller-manager", **flags)]
    )
    assert reason in judgement.unavailable
    assert titles(judgement) == [
        "kube-controller-manager flags (kube-system/kube-controller-manager-cp)"
    ]


# ------------------------------------------------------------------ live probes
def test_an_instance_without_a_node_address_cannot_be_probed() -> None:
    flags = component("kube-scheduler")
    assert plan_instance_probe(flags, NODES).ends is False
    step = plan_instance_probe(dataclasses.replace(flags, node="elsewhere"), NODES)
    assert step.unavailable == "no network address found for kube-system/kube-scheduler-cp's node"
    assert plan_instance_probe(component("kube-scheduler", **{"secure-port": "0"}), NODES).ends


def test_content_without_credentials_is_a_finding_on_every_instance() -> None:
    (flags,) = NONCOMPLIANT.flags("kube-scheduler")
    probes = NONCOMPLIANT.component_probes("kube-scheduler")
    step = judge_instance_answers(flags, NONCOMPLIANT.node_addresses, probes)
    assert titles(step) == ["Unauthenticated requests to kube-system/kube-scheduler-vm"]
    assert not step.ends
    judgement = judge_component_probes("kube-scheduler", [probes, answers(403, 403, 200, 401)])
    assert lines(judgement) == [
        "Scheduler 192.0.2.2:10259: GET /configz without credentials answered 200",
        "Scheduler 192.0.2.2:10259: GET /debug/pprof/ without credentials answered 200",
        "Scheduler 192.0.2.2:10259: GET /metrics without credentials answered 200",
        "Scheduler 192.0.2.7:10257: GET /configz without credentials answered 200",
    ]


def test_refused_on_the_node_address_passes_and_says_so() -> None:
    (flags,) = COMPLIANT.flags("kube-scheduler")
    probes = COMPLIANT.component_probes("kube-scheduler")
    step = judge_instance_answers(flags, COMPLIANT.node_addresses, probes)
    assert evidence(step, "kube-system/kube-scheduler-vm is not reachable on the node address") == (
        "https://192.0.2.2:10259 refused connections; bound to 127.0.0.1"
    )
    judgement = judge_component_probes("kube-scheduler", [probes])
    assert judgement.findings == ()
    assert judgement.passed == "no sensitive path answered without credentials"


@pytest.mark.parametrize(
    ("outcomes", "errors"),
    [
        (("timed out",) * 4, "timed out"),
        (("connection refused", "timed out", "timed out", "connection refused"),
         "connection refused, timed out"),
        (("connection reset",) * 4, "connection reset"),
    ],
)  # fmt: skip
def test_a_filtered_or_reset_port_leaves_no_verdict(outcomes: tuple[str, ...], errors: str) -> None:
    step = judge_instance_answers(component("kube-controller-manager"), NODES, answers(*outcomes))
    assert step.unavailable == (
        f"https://192.0.2.7:10257 did not answer ({errors}); cannot tell whether it serves "
        "content without credentials"
    )
    assert titles(step) == ["Unauthenticated requests to kube-system/kube-controller-manager-cp"]


def test_health_paths_and_refusals_are_no_finding() -> None:
    judgement = judge_component_probes(
        "kube-controller-manager", [answers(200, 403, 401, "timed out")]
    )
    assert judgement.findings == ()
    step = judge_instance_answers(
        component("kube-controller-manager"), NODES, answers(200, 403, 401, "timed out")
    )
    assert not step.ends and len(step.evidence) == 1


def test_an_instance_that_timed_out_on_every_path_leaves_no_verdict() -> None:
    """Only a port refused on every path is closed; every path timing out says nothing
    about what it would serve."""
    judgement = judge_component_probes("kube-scheduler", [answers(*("timed out",) * 4, port=10259)])
    assert judgement.unavailable.startswith(
        "no answer on a path that may serve content without credentials: "
    )
    assert judgement.unavailable.count("timed out") == 4
    closed = judge_component_probes(
        "kube-scheduler", [answers(*("connection refused",) * 4, port=10259)]
    )
    assert closed.passed == "no sensitive path answered without credentials"


def test_a_scheduler_reading_a_configuration_file_is_still_judged_on_its_flags() -> None:
    flags = component("kube-scheduler", config="/etc/kubernetes/scheduler.conf")
    judgement = judge_always_allow_paths("kube-scheduler", [flags])
    assert judgement.passed == "only /healthz, /readyz and /livez skip authorization"
    assert evidence(judgement, "kube-system/kube-scheduler-cp reads --config=/etc/kubernetes/"
                    "scheduler.conf") == (
        "KubeSchedulerConfiguration holds no serving or authorization settings, so the flags "
        "above decide them"
    )  # fmt: skip


def test_component_answers_below_300_are_content_and_redirects_are_not() -> None:
    probes = answers(200, 299, 300, 302)
    judgement = judge_component_probes("kube-controller-manager", [probes])
    assert [(f.kind, f.namespace, f.name, f.detail) for f in judgement.findings] == [
        (
            "ControllerManager",
            "",
            "192.0.2.7:10257",
            "GET /metrics without credentials answered 299",
        ),
    ]  # /healthz is a health path whatever it answers
    other = judge_component_probes("kube-proxy", [answers(401, 200, 401, 401)])
    assert [f.kind for f in other.findings] == ["kube-proxy"]  # no kind of its own: its name


def test_silent_paths_beyond_five_are_cut_and_instances_that_serve_nothing_are_noted() -> None:
    off = component("kube-scheduler", "kube-system/sched-b", **{"secure-port": "0"})
    silent = answers(*("timed out",) * 4) + answers(*("timed out",) * 4, port=10259)
    judgement = judge_component_probes("kube-scheduler", [silent], [off])
    assert judgement.unavailable == (
        "no answer on a path that may serve content without credentials: "
        + "; ".join(p.line() for p in silent[:5])
    )
    assert evidence(judgement, "kube-system/sched-b serves nothing") == off.source("secure-port")
    probed = judge_component_probes("kube-scheduler", [answers(401, 401, 401, 401)], [off])
    assert probed.passed == "no sensitive path answered without credentials"


def test_nothing_probed_because_nothing_is_served_passes_so() -> None:
    off = component("kube-scheduler", "kube-system/sched-b", **{"secure-port": "0"})
    judgement = judge_component_probes("kube-scheduler", [], [off])
    assert judgement.findings == ()
    assert judgement.passed == "--secure-port=0 on every instance: nothing is served"
    assert titles(judgement) == ["kube-system/sched-b serves nothing"]
    nothing = judge_component_probes("kube-scheduler", [], [])
    assert nothing.unavailable == "no kube-scheduler instance was probed"  # never a pass
