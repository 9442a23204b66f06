"""The results table, the targets and the details, as Markdown (pure: no I/O)."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from bench import auditlog
from bench.browser import Opened
from bench.estate import Estate
from bench.floor import Floor
from bench.kubectl_lists import KubectlLists
from bench.machine import Machine
from bench.phases import PHASES
from bench.suite import SuiteRun

MB = 1_000_000
RSS_LIMIT_MB = 400
HTML_LIMIT_MB = 10
OPEN_LIMIT_S = 5.0
WALL_FACTOR = 1.5
# Repeats of the same run on this shared 2-CPU machine differ by a few percent.
NOISE = 0.05


@dataclass
class SizeResult:
    estate: Estate
    populate_seconds: float
    floor: Floor
    floor_requests: Counter[str]
    serial: SuiteRun
    parallel: SuiteRun
    opened: Opened
    kubectl: KubectlLists | None = None


@dataclass(frozen=True)
class Target:
    name: str
    measured: str
    met: bool


def mb(value: int | None, scale: int = MB) -> str:
    return "—" if value is None else f"{value / scale:.1f}"


def rss_mb(kib: int) -> str:
    return f"{kib * 1024 / MB:.0f}"


def secs(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def requests_cell(counts: Counter[str]) -> str:
    total = sum(counts.values())
    return f"{total} ({auditlog.list_pages(counts)} list + {total - auditlog.list_pages(counts)})"


def wall_budget(result: SizeResult) -> float:
    return WALL_FACTOR * result.floor.wall + result.serial.probe_seconds


def main_table(results: list[SizeResult]) -> list[str]:
    lines = [
        "| estate | objects | floor s (lists s) | suite -n 0 s | ratio | probes s "
        "| budget s | suite -n auto s | requests floor | requests -n 0 | requests -n auto "
        "| RSS -n 0 MB | RSS -n auto MB (pytest only) | HTML MB | results.json MB | evidence MB "
        "| Chromium s | kubectl lists s |",
        "|" + "---|" * 18,
    ]
    for r in results:
        ratio = r.serial.wall / r.floor.wall if r.floor.wall else 0.0
        cells = [
            r.estate.label(),
            f"{r.estate.total:,}",
            f"{r.floor.wall:.1f} ({r.floor.listing:.1f})",
            secs(r.serial.wall),
            f"{ratio:.2f}",
            secs(r.serial.probe_seconds),
            secs(wall_budget(r)),
            secs(r.parallel.wall),
            requests_cell(r.floor_requests),
            requests_cell(r.serial.requests),
            requests_cell(r.parallel.requests),
            rss_mb(r.serial.memory.sum_of_peaks),
            f"{rss_mb(r.parallel.memory.sum_of_peaks)} "
            f"({rss_mb(r.parallel.memory.pytest_sum_of_peaks)})",
            mb(r.serial.html_bytes),
            mb(r.serial.results_bytes),
            mb(r.serial.evidence_bytes),
            secs(r.opened.seconds),
            secs(r.kubectl.wall) if r.kubectl else "—",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


# The unbound-identity probe's requests: the fixed part of the authorizer's evidence.
REVIEW_CONSTANT = 5


def reviews(run) -> int:
    return sum(n for k, n in run.requests.items() if k.startswith("create subjectaccessreviews"))


def requests_constant(results: list[SizeResult]) -> tuple[bool, str]:
    """Non-list requests identical at every size, and list requests = the floor's pages."""
    shapes = [auditlog.per_object(run.requests) for r in results for run in (r.serial, r.parallel)]
    distinct = {tuple(sorted(c.items())) for c in shapes}
    pages_match = all(
        auditlog.list_pages(run.requests) == r.floor.total_pages
        for r in results
        for run in (r.serial, r.parallel)
    )
    top = results[-1]
    text = (
        f"{sum(auditlog.per_object(top.serial.requests).values())} non-list requests at every "
        f"size; {auditlog.list_pages(top.serial.requests)} list pages vs the floor's "
        f"{top.floor.total_pages}"
    )
    if len(distinct) > 1:
        text = "non-list requests differ between sizes or runs (see the breakdown)"
    return len(distinct) == 1 and pages_match, text


def targets(results: list[SizeResult]) -> list[Target]:
    top = results[-1]
    budget = wall_budget(top)
    constant, constant_text = requests_constant(results)
    serial_mb = top.serial.memory.sum_of_peaks * 1024 / MB
    parallel_mb = top.parallel.memory.sum_of_peaks * 1024 / MB
    pytest_mb = top.parallel.memory.pytest_sum_of_peaks * 1024 / MB
    opened = top.opened.seconds
    return [
        Target(
            f"suite -n 0 ≤ {WALL_FACTOR} x floor + probes",
            f"{top.serial.wall:.1f}s vs {budget:.1f}s "
            f"({WALL_FACTOR} x {top.floor.wall:.1f}s + {top.serial.probe_seconds:.1f}s)",
            top.serial.wall <= budget,
        ),
        Target("API requests independent of object count", constant_text, constant),
        Target(
            f"SubjectAccessReviews ≤ RBAC findings + {REVIEW_CONSTANT}",
            f"{reviews(top.serial)} reviews for {top.serial.rbac_findings} findings",
            reviews(top.serial) <= top.serial.rbac_findings + REVIEW_CONSTANT,
        ),
        Target(
            f"peak RSS -n 0 ≤ {RSS_LIMIT_MB} MB", f"{serial_mb:.0f} MB", serial_mb <= RSS_LIMIT_MB
        ),
        Target(
            f"peak RSS -n auto (sum of per-process peaks) ≤ {RSS_LIMIT_MB} MB",
            f"{parallel_mb:.0f} MB ({pytest_mb:.0f} MB without credential-plugin processes)",
            parallel_mb <= RSS_LIMIT_MB,
        ),
        Target(
            f"HTML report ≤ {HTML_LIMIT_MB} MB",
            f"{top.serial.html_bytes / MB:.1f} MB",
            top.serial.html_bytes <= HTML_LIMIT_MB * MB,
        ),
        Target(
            f"HTML opens in headless Chromium < {OPEN_LIMIT_S:.0f}s",
            f"{opened:.1f}s" if opened is not None else top.opened.note,
            opened is not None and opened < OPEN_LIMIT_S,
        ),
        *envelope_targets(top),
        Target(
            f"-n auto not slower than -n 0 (within {NOISE:.0%}, the run-to-run noise)",
            f"{top.parallel.wall:.2f}s vs {top.serial.wall:.2f}s",
            top.parallel.wall <= top.serial.wall * (1 + NOISE),
        ),
    ]


# The envelope's targets (issue: Kubernetes' published limit of 150,000 pods): the whole
# suite run against kubectl's sweep of the same lists, and its memory.
KUBECTL_FACTOR = 0.5
ENVELOPE_RSS_MB = 600


def envelope_targets(top: SizeResult) -> list[Target]:
    serial_mb = top.serial.memory.sum_of_peaks * 1024 / MB
    found = [
        Target(
            f"peak RSS -n 0 ≤ {ENVELOPE_RSS_MB} MB at {top.estate.pods:,} pods (envelope)",
            f"{serial_mb:.0f} MB",
            serial_mb <= ENVELOPE_RSS_MB,
        )
    ]
    if top.kubectl is not None:
        budget = KUBECTL_FACTOR * top.kubectl.wall
        found.append(
            Target(
                f"suite -n 0 (whole run) ≤ {KUBECTL_FACTOR} x kubectl get -A -o json of the "
                "same lists",
                f"{top.serial.wall:.1f}s vs {budget:.1f}s ({KUBECTL_FACTOR} x "
                f"{top.kubectl.wall:.1f}s)",
                top.serial.wall <= budget,
            )
        )
    return found


def target_lines(results: list[SizeResult]) -> list[str]:
    lines = [
        f"Targets, on the largest estate ({results[-1].estate.label()}):",
        "",
        "| target | measured | |",
        "|---|---|---|",
    ]
    for t in targets(results):
        lines.append(f"| {t.name} | {t.measured} | {'met' if t.met else '**MISSED**'} |")
    return lines


def breakdown(results: list[SizeResult]) -> list[str]:
    """Requests by verb and resource: floor, -n 0 and -n auto at each size."""
    keys = sorted(
        {
            k
            for r in results
            for c in (r.floor_requests, r.serial.requests, r.parallel.requests)
            for k in c
        }
    )
    header = (
        "| request | "
        + " | ".join(f"{r.estate.pods:,}: floor / -n 0 / -n auto" for r in results)
        + " |"
    )
    lines = [header, "|" + "---|" * (len(results) + 1)]
    for key in keys:
        cells = [
            f"{r.floor_requests[key]} / {r.serial.requests[key]} / {r.parallel.requests[key]}"
            for r in results
        ]
        lines.append(f"| `{key}` | " + " | ".join(cells) + " |")
    return lines


def check_growth(results: list[SizeResult], top: int = 10) -> list[str]:
    """The slowest checks (-n 0, JUnit times) at each size: where time grows."""
    last = results[-1].serial.check_seconds
    names = sorted(last, key=lambda n: last[n], reverse=True)[:top]
    lines = [
        "| check (-n 0) | " + " | ".join(f"{r.estate.pods:,} pods s" for r in results) + " |",
        "|" + "---|" * (len(results) + 1),
    ]
    for name in names:
        cells = [f"{r.serial.check_seconds.get(name, 0.0):.2f}" for r in results]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def phase_lines(results: list[SizeResult]) -> list[str]:
    """Where each run's wall time goes (controller-side stamps from bench.phases)."""
    names = [name for name, _, _ in PHASES]
    lines = [
        "| run | "
        + " | ".join(f"{n} s" for n in names)
        + " | suite's lists s (summed; three run at once) | floor lists s |",
        "|" + "---|" * (len(names) + 3),
    ]
    for r in results:
        for run in (r.serial, r.parallel):
            cells = [secs(run.phases.get(n)) for n in names]
            cells += [secs(run.list_seconds), secs(r.floor.listing)]
            lines.append(
                f"| {r.estate.pods:,} pods, -n {run.workers} | " + " | ".join(cells) + " |"
            )
    return lines


def memory_lines(results: list[SizeResult]) -> list[str]:
    lines = []
    for r in results:
        for run in (r.serial, r.parallel):
            top = ", ".join(f"{name} {rss_mb(kib)}" for name, kib in run.memory.top())
            lines.append(
                f"- {r.estate.pods:,} pods, -n {run.workers}: sum of peaks "
                f"{rss_mb(run.memory.sum_of_peaks)} MB (controller + workers "
                f"{rss_mb(run.memory.pytest_sum_of_peaks)} MB), largest concurrent "
                f"{rss_mb(run.memory.concurrent)} MB; per process (MB): {top}"
            )
    return lines


def run_notes(results: list[SizeResult]) -> list[str]:
    lines = []
    for r in results:
        outcomes = ", ".join(f"{n} {v}" for v, n in sorted(r.serial.outcomes.items()))
        lines.append(
            f"- {r.estate.pods:,} pods: populated in {r.populate_seconds:.0f}s (not counted); "
            f"exit codes -n 0 {r.serial.exit_code}, -n auto {r.parallel.exit_code}; "
            f"verdicts {outcomes or '—'}; floor items "
            + ", ".join(f"{k} {v}" for k, v in r.floor.items.items())
        )
        if r.serial.results_bytes is None:
            lines.append("  - `--evidence-dir` wrote no results.json in this run")
        if r.opened.note:
            lines.append(f"  - Chromium: {r.opened.note}")
    return lines


def exponent(small: float, large: float, size_small: int, size_large: int) -> float:
    """k in metric ∝ size^k between two sizes: 1 linear, below 1 sub-linear, 0 constant.

    >>> round(exponent(2.0, 20.0, 1000, 10000), 2)
    1.0
    """
    if small <= 0 or large <= 0 or size_small == size_large:
        return 0.0
    return math.log(large / small) / math.log(size_large / size_small)


def growth_word(k: float) -> str:
    if k < 0.15:
        return "about constant"
    if k < 0.85:
        return "sub-linear"
    if k <= 1.15:
        return "linear"
    return "super-linear"


def growth_lines(results: list[SizeResult]) -> list[str]:
    """How each figure grows from the smallest estate to the largest (k as above)."""
    if len(results) < 2:
        return ["(one size only: no growth to tell)"]
    first, last = results[0], results[-1]
    a, b = first.estate.pods, last.estate.pods
    rows = [
        ("floor s", first.floor.wall, last.floor.wall),
        ("suite -n 0 s", first.serial.wall, last.serial.wall),
        ("suite -n 0 minus floor s", first.serial.wall - first.floor.wall,
         last.serial.wall - last.floor.wall),
        ("RSS -n 0 MB", first.serial.memory.sum_of_peaks * 1024 / MB,
         last.serial.memory.sum_of_peaks * 1024 / MB),
        ("API requests -n 0", sum(first.serial.requests.values()),
         sum(last.serial.requests.values())),
        ("non-list requests -n 0", sum(auditlog.per_object(first.serial.requests).values()),
         sum(auditlog.per_object(last.serial.requests).values())),
        ("evidence MB", first.serial.evidence_bytes / MB, last.serial.evidence_bytes / MB),
    ]  # fmt: skip
    lines = [
        f"From {a:,} to {b:,} pods (x{b / a:.0f}); k = log(ratio of the figure) / log(ratio "
        "of pods): 1 linear, below 1 sub-linear, 0 constant.",
        "",
        f"| figure | {a:,} pods | {b:,} pods | k | growth |",
        "|---|---|---|---|---|",
    ]
    for name, small, large in rows:
        k = exponent(float(small), float(large), a, b)
        lines.append(f"| {name} | {small:,.1f} | {large:,.1f} | {k:.2f} | {growth_word(k)} |")
    return lines


def render(results: list[SizeResult], machine: Machine, notes: list[str]) -> str:
    lines = [
        "# kubepci scale benchmark",
        "",
        f"Measured {machine.line()}.",
        "",
        "`make bench` (SIZES=pod counts; other kinds scale in the full estate's proportion). "
        "floor = a separate process listing each resource the suite reads once, paginated "
        "(limit 500), with the official kubernetes client (lists s = the lists alone). "
        "Floors are the faster of two runs, suite runs the fastest of their repeats "
        "(--repeats, default 3, the two modes taking turns; "
        "the machine is shared); "
        "memory is the largest any repeat reached. "
        "budget = 1.5 x floor + probes (JUnit time of the network-probe checks in the "
        "-n 0 run). requests = the suite identity's ResponseComplete events in the API "
        "server's audit log during the run (lists + everything else). RSS = sum of every "
        "process's peak in the suite's process tree (the xdist workers' peaks add up; the "
        "figure in brackets leaves out the kubeconfig's credential-plugin processes). "
        "MB = 10^6 bytes.",
        "",
        *main_table(results),
        "",
        *target_lines(results),
        "",
        "## Requests by verb and resource",
        "",
        *breakdown(results),
        "",
        "## Growth with size",
        "",
        *growth_lines(results),
        "",
        "## Where the time goes",
        "",
        *phase_lines(results),
        "",
        "## Slowest checks",
        "",
        *check_growth(results),
        "",
        "## Memory",
        "",
        *memory_lines(results),
        "",
        "## Runs",
        "",
        *run_notes(results),
        *notes,
        "",
    ]
    return "\n".join(lines)
