"""PCI 1.1.2 / 1.1.3 judged: the controller manager and scheduler let only the default
health paths skip authorization, and serve nothing to a caller without credentials.

The flag rules are in :mod:`kubepci.analysis.flags`, the status rules in
:mod:`kubepci.analysis.anonymous`.
"""

from __future__ import annotations

from collections.abc import Sequence

from kubepci.analysis import anonymous
from kubepci.analysis.endpoints import NodeAddress, component_urls
from kubepci.analysis.flags import (
    ComponentFlags,
    binds_all_interfaces,
    extra_always_allow_paths,
    serves_nothing,
)
from kubepci.analysis.judgement import Draft, Judgement, drafted, pod_finding
from kubepci.records.probes import ProbeResult
from kubepci.verdict import EvidenceUnavailable, Finding

SERVING_FLAGS = ["authorization-always-allow-paths", "bind-address", "secure-port"]
REFUSED = "connection refused"


def _judge_always_allow_paths(
    draft: Draft, component: str, instances: Sequence[ComponentFlags]
) -> Judgement:
    """--authorization-always-allow-paths adds nothing to /healthz, /readyz and /livez on
    any instance that serves at all (--secure-port=0 serves nothing)."""
    findings: list[Finding] = []
    serving = False
    for flags in instances:
        draft.record(f"{component} flags ({flags.pod})", flags.evidence(SERVING_FLAGS), "flags")
        if component == "kube-scheduler" and flags.get("config"):
            # pkg/scheduler/apis/config/v1 KubeSchedulerConfiguration has no serving or
            # authorization settings: these stay flags whatever the file says.
            draft.record(
                f"{flags.pod} reads --config={flags.get('config')}",
                "KubeSchedulerConfiguration holds no serving or authorization settings, so the "
                "flags above decide them",
            )
        if serves_nothing(flags):
            draft.record(f"{flags.pod} serves nothing", flags.source("secure-port"))
            continue
        serving = True
        extra = extra_always_allow_paths(flags)
        if extra:
            exposure = (
                "on all interfaces"
                if binds_all_interfaces(flags)
                else f"on {flags.get('bind-address')}"
            )
            findings.append(
                pod_finding(
                    flags.pod,
                    f"--authorization-always-allow-paths adds {', '.join(extra)} beyond the "
                    f"default health paths, served {exposure}: "
                    + flags.source("authorization-always-allow-paths"),
                )
            )
    return draft.judge(
        findings,
        passed="only /healthz, /readyz and /livez skip authorization"
        if serving
        else "--secure-port=0 on every instance: nothing is served, so no path is open",
    )


judge_always_allow_paths = drafted(_judge_always_allow_paths)


def _plan_instance_probe(
    draft: Draft, flags: ComponentFlags, nodes: Sequence[NodeAddress]
) -> Judgement:
    """An instance is probed on its node's address; without one there is nothing to ask."""
    if not component_urls(flags, list(nodes)):
        raise EvidenceUnavailable(f"no network address found for {flags.pod}'s node")
    return draft.so_far()


plan_instance_probe = drafted(_plan_instance_probe)


def _judge_instance_answers(
    draft: Draft,
    flags: ComponentFlags,
    nodes: Sequence[NodeAddress],
    probes: Sequence[ProbeResult],
) -> Judgement:
    """One instance's answers, recorded. A port that refused every connection serves
    nothing on that address; a timeout or reset says nothing, so the check cannot pass."""
    draft.probes(f"Unauthenticated requests to {flags.pod}", probes)
    if all(p.status is None for p in probes):
        url = component_urls(flags, list(nodes))[0]
        errors = {p.error for p in probes}
        if errors != {REFUSED}:
            raise EvidenceUnavailable(
                f"{url} did not answer ({', '.join(sorted(errors))}); cannot tell "
                "whether it serves content without credentials"
            )
        draft.record(
            f"{flags.pod} is not reachable on the node address",
            f"{url} refused connections; bound to {flags.get('bind-address')}",
        )
    return draft.so_far()


judge_instance_answers = drafted(_judge_instance_answers)


def serving_instances(instances: Sequence[ComponentFlags]) -> list[ComponentFlags]:
    """The instances to probe: --secure-port=0 serves nothing, so there is nothing to ask."""
    return [flags for flags in instances if not serves_nothing(flags)]


def _unclear(probes: Sequence[ProbeResult]) -> list[ProbeResult]:
    """Paths that did not answer on an instance that is reachable: a timeout or reset on
    /metrics says nothing about /metrics, whatever /healthz answered."""
    unanswered = [p for p in probes if p.status is None]
    if len(unanswered) == len(probes) and {p.error for p in probes} == {REFUSED}:
        return []  # the port is closed on this address (recorded by judge_instance_answers)
    return unanswered


def _judge_component_probes(
    draft: Draft,
    component: str,
    probed: Sequence[Sequence[ProbeResult]],
    instances: Sequence[ComponentFlags] = (),
) -> Judgement:
    """Content on anything but the health paths, on any instance, is a finding; a path that
    did not answer leaves no verdict; an instance with --secure-port=0 serves nothing."""
    quiet = [flags for flags in instances if serves_nothing(flags)]
    for flags in quiet:
        draft.record(f"{flags.pod} serves nothing", flags.source("secure-port"))
    findings = [
        f for probes in probed for f in anonymous.component_findings(component, list(probes))
    ]
    unclear = [p for probes in probed for p in _unclear(probes)]
    if unclear and not findings:
        raise EvidenceUnavailable(
            "no answer on a path that may serve content without credentials: "
            + "; ".join(p.line() for p in unclear[:5])
        )
    if not probed:
        if not quiet:  # fail closed: nothing was asked, so nothing refused
            raise EvidenceUnavailable(f"no {component} instance was probed")
        return draft.judge(findings, passed="--secure-port=0 on every instance: nothing is served")
    return draft.judge(findings, passed="no sensitive path answered without credentials")


judge_component_probes = drafted(_judge_component_probes)
