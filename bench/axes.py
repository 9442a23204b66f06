"""The probe axes: fake nodes and Services with endpoints, each against a curl sweep.

Each axis measures, in one run: the suite without the axis's objects (baseline), the
suite with them, and a concurrent curl sweep (:mod:`bench.sweep`) of exactly the probes
the suite added (their URLs read from its evidence pack). The target is the issue's:
added wall time ≤ 1.5 x sweep + 2 s. The verdicts the axis must produce are read from
``results.json``: the checks error, naming what did not answer.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kubernetes import client as k8s
from kubernetes import config as k8s_config

from bench import fleet, service_axis, suite, sweep
from bench.suite import Auditor, SuiteRun

Say = Callable[[str], None]
FACTOR, SLACK = 1.5, 2.0
NODE_CHECKS = ("kubelet-anonymous-probe", "kubelet-read-only-port", "kubelet-config")
SERVICE_CHECKS = ("service-anonymous-probe",)


@dataclass
class AxisResult:
    axis: str  # "1,000 fake nodes (500 filtered, 250 answering, 250 refusing)"
    probes: int  # probes the suite added (what the sweep asks)
    baseline: float
    wall: float
    sweep: sweep.Sweep
    verdicts: dict[str, str] = field(default_factory=dict)  # check → "error: reason…"
    named: str = ""  # whether the errors name what did not answer
    exit_code: int = 0

    @property
    def added(self) -> float:
        return self.wall - self.baseline

    @property
    def budget(self) -> float:
        return FACTOR * self.sweep.wall + SLACK

    @property
    def met(self) -> bool:
        return self.added <= self.budget


def verdicts(run: SuiteRun, checks: tuple[str, ...]) -> dict[str, str]:
    path = Path(run.outdir) / "evidence" / "results.json"
    records = json.loads(path.read_text()).get("results") or [] if path.is_file() else []
    return {
        str(r["check_id"]): f"{r['verdict']}: {r.get('reason', '')}"
        for r in records
        if r.get("check_id") in checks
    }


def baseline(who: Auditor, workdir: Path, say: Say, repeats: int = 2) -> SuiteRun:
    runs = [suite.run(who, "0", workdir / f"baseline-{i}") for i in range(repeats)]
    best = min(runs, key=lambda r: r.wall)
    say(f"  baseline suite: {best.wall:.1f}s")
    return best


def _added(evidence: Path, base: Path, name: str) -> list[str]:
    before = set(sweep.probe_urls(base, name))
    return [u for u in sweep.probe_urls(evidence, name) if u not in before]


def node_axis(
    admin: k8s.ApiClient, who: Auditor, count: int, base: SuiteRun, workdir: Path, say: Say
) -> AxisResult:
    nodes = fleet.plan(count)
    shares = {s: sum(n.share == s for n in nodes) for s in fleet.SHARES}
    label = f"{count:,} fake nodes ({', '.join(f'{v:,} {k}' for k, v in shares.items())})"
    say(f"{label}: creating")
    answering = [n.address for n in nodes if n.share == "answering"]
    refusing = next(n.address for n in nodes if n.share == "refusing")
    if not fleet.refuses(refusing, fleet.KUBELET_PORT):
        raise RuntimeError(f"{refusing}:{fleet.KUBELET_PORT} does not refuse: something listens")
    if not fleet.refuses(refusing, 10255):
        # A kubelet serving its read-only port on every address (the noncompliant profile)
        # answers on each fake node's too: the read-only check then fails, never passes.
        label += "; the real kubelet's read-only port 10255 answers on every loopback address"
    try:
        with fleet.Kubelets(answering), fleet.firewalled():
            fleet.create(admin, nodes)
            time.sleep(2)
            say(f"{label}: suite")
            run = suite.run(who, "0", workdir / "nodes")
            evidence, before = Path(run.outdir) / "evidence", Path(base.outdir) / "evidence"
            direct = _added(evidence, before, "probe-kubelet") + _added(
                evidence, before, "probe-kubelet-read-only"
            )
            server = api_server(who.kubeconfig)
            fake = {n.name for n in nodes}
            configz = [f"{server}/api/v1/nodes/{name}/proxy/configz" for name in sorted(fake)]
            say(f"{label}: curl sweep of {len(direct) + len(configz)} probes")
            with sweep.api_credentials(who.kubeconfig, workdir) as credentials:
                swept = sweep.sweep(direct, configz, credentials)
    finally:
        fleet.remove(admin, say)
    found = verdicts(run, NODE_CHECKS)
    filtered = [n.name for n in nodes if n.share == "filtered"]
    probe = found.get("kubelet-anonymous-probe", "")
    missing = [name for name in filtered if name not in probe]
    named = (
        f"kubelet-anonymous-probe names all {len(filtered)} filtered nodes"
        if probe.startswith("error") and not missing
        else f"kubelet-anonymous-probe: {probe[:120]!r}; {len(missing)} filtered nodes not named"
    )
    return AxisResult(
        label, len(direct) + len(configz), base.wall, run.wall, swept, found, named, run.exit_code
    )


def service_run(
    admin: k8s.ApiClient, who: Auditor, count: int, base: SuiteRun, workdir: Path, say: Say
) -> AxisResult:
    hanging = sum(s["metadata"]["name"].startswith("hang") for s in service_axis.plan(count))
    label = f"{count:,} Services with endpoints ({hanging:,} hanging)"
    say(f"{label}: creating")
    try:
        services = service_axis.populate(admin, count, say)
        time.sleep(3)
        say(f"{label}: suite")
        run = suite.run(who, "0", workdir / "services")
        evidence = Path(run.outdir) / "evidence"
        ours = f"/namespaces/{service_axis.NAMESPACE}/"
        urls = [u for u in sweep.service_urls(evidence) if ours in u]
        say(f"{label}: curl sweep of {len(urls)} proxy requests")
        with sweep.api_credentials(who.kubeconfig, workdir) as credentials:
            swept = sweep.sweep([], urls, credentials)
    finally:
        service_axis.remove(admin, say)
    found = verdicts(run, SERVICE_CHECKS)
    hung = [s["metadata"]["name"] for s in services if s["metadata"]["name"].startswith("hang")]
    reason = found.get("service-anonymous-probe", "")
    named = (
        f"service-anonymous-probe errors: {reason[:160]}"
        if reason.startswith("error")
        else f"service-anonymous-probe did not error: {reason[:160]!r}"
    )
    named += f" ({sum(h in reason for h in hung)} of {len(hung)} hanging named in the reason)"
    return AxisResult(label, len(urls), base.wall, run.wall, swept, found, named, run.exit_code)


def api_server(kubeconfig: str) -> str:
    configuration = k8s.Configuration()
    k8s_config.load_kube_config(
        config_file=kubeconfig, client_configuration=configuration, persist_config=False
    )
    return str(configuration.host).rstrip("/")


def render(results: list[AxisResult]) -> list[str]:
    lines = [
        "| axis | probes added | suite s (baseline s) | added s | curl sweep s (32 at once, "
        "4 s) | budget 1.5 x sweep + 2 s | ratio added / sweep | target |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.axis} | {r.probes:,} | {r.wall:.1f} ({r.baseline:.1f}) | {r.added:.1f} | "
            f"{r.sweep.wall:.1f} | {r.budget:.1f} | {r.added / max(r.sweep.wall, 0.01):.2f} | "
            f"{'met' if r.met else '**MISSED**'} |"
        )
    lines.append("")
    for r in results:
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(r.sweep.outcomes.items()))
        lines.append(f"- {r.axis}: {r.named}; suite exit {r.exit_code}; sweep answers: {outcomes}")
        for check, verdict in sorted(r.verdicts.items()):
            lines.append(f"  - `{check}`: {verdict[:240]}")
    return lines


HEADING = "## Probe axes (fleet scale)"


def section(results: list[AxisResult], machine_line: str) -> list[str]:
    return [
        HEADING,
        "",
        f"Measured {machine_line}. `make bench` (NODES=, SERVICES=): one suite run "
        "(-n 0, default probe options) without the axis's objects (baseline: the faster of "
        "two) and one with them; added = the difference. The sweep is curl, 32 at a time, "
        "-m 4, of exactly the probes the suite added, read from its evidence pack (node "
        "axis: 10250 and read-only port on each fake node, plus configz through the node "
        "proxy; service axis: every service-proxy request), in the same run.",
        "",
        *render(results),
    ]


def merge(text: str, lines: list[str]) -> str:
    """``text`` with its probe-axes section replaced by ``lines`` (or them appended)."""
    body = "\n".join(lines).rstrip() + "\n"
    if HEADING not in text:
        return text.rstrip() + "\n\n" + body
    head, rest = text.split(HEADING, 1)
    after = rest.find("\n## ")
    tail = rest[after + 1 :] if after >= 0 else ""
    return head + body + ("\n" + tail if tail else "")


def carried(old: str) -> list[str]:
    """The probe-axes section of an earlier RESULTS.md (kept when only sizes are run)."""
    if HEADING not in old:
        return []
    rest = HEADING + old.split(HEADING, 1)[1]
    after = rest.find("\n## ")
    return (rest[:after] if after >= 0 else rest).rstrip().split("\n")
