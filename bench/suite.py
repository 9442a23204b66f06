"""One run of the whole suite, as a user runs it, with everything the bench measures.

The suite runs through :mod:`bench.rusage` (the ``kubepci`` command in-process, plus an
exact own-peak record) from an empty working directory, with JUnit, self-contained HTML
and the evidence pack. Memory is sampled over the whole process tree (xdist workers,
credential plugins); requests come from the audit log, not from the suite's own count.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import json
import os
import pkgutil
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from bench import auditlog, procs
from bench import phases as phase_plugin

REPO = Path(__file__).resolve().parent.parent
# Checks whose cost is the network probes (fixed per cluster, not per object): the live
# unauthenticated probes and the kubelet configz read through the node proxy.
PROBE_CHECKS = frozenset(
    {
        "api-server-anonymous-probe",
        "controller-manager-anonymous-probe",
        "scheduler-anonymous-probe",
        "kubelet-anonymous-probe",
        "kubelet-read-only-port",
        "kubelet-config",
        "etcd-anonymous-probe",
        "service-anonymous-probe",
    }
)


@dataclass
class SuiteRun:
    workers: str
    wall: float
    exit_code: int
    requests: Counter[str]
    memory: procs.TreePeak
    html_bytes: int
    results_bytes: int | None  # None: --evidence-dir wrote no results.json
    evidence_bytes: int
    check_seconds: dict[str, float] = field(default_factory=dict)
    outcomes: Counter[str] = field(default_factory=Counter)
    stderr_tail: str = ""
    outdir: str = ""
    phases: dict[str, float] = field(default_factory=dict)
    list_seconds: float | None = None  # the suite's own lists (+ trimming), from its store
    rbac_findings: int = 0  # findings of the checks each confirmed by a SubjectAccessReview

    @property
    def probe_seconds(self) -> float:
        return sum(s for check, s in self.check_seconds.items() if check in PROBE_CHECKS)

    @property
    def html_path(self) -> Path:
        return Path(self.outdir) / "report.html"


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else 0


@cache
def check_ids() -> dict[str, str]:
    """Test function name → check id, from the shipped suite's ``@check`` markers
    (JUnit's default xunit2 family drops the per-test properties that carry it)."""
    import tests_pci

    out: dict[str, str] = {}
    for info in pkgutil.iter_modules(tests_pci.__path__):
        module = importlib.import_module(f"tests_pci.{info.name}")
        for name, function in vars(module).items():
            for mark in getattr(function, "pytestmark", []):
                if mark.name == "kubepci_check":
                    out[name] = str(mark.args[0])
    return out


def check_of(case: ET.Element) -> str:
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    name = case.get("name", "?")
    return str(props.get("check_id") or check_ids().get(name.split("[", 1)[0], name))


def stored_list_seconds(evidence: Path) -> float | None:
    """The suite's own time listing (and trimming) every resource, as its snapshot store
    recorded it (exported under raw/ in the evidence pack)."""
    files = sorted((evidence / "raw").glob("*/list-*.json"))
    if not files:
        return None
    total = 0.0
    for path in files:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            total += float(json.loads(path.read_text()).get("seconds") or 0.0)
    return total


def check_times(junit: Path) -> tuple[dict[str, float], Counter[str]]:
    """Seconds per check (summed over clusters) and outcome counts, from JUnit XML."""
    seconds: dict[str, float] = {}
    outcomes: Counter[str] = Counter()
    if not junit.is_file():
        return seconds, outcomes
    for case in ET.parse(junit).getroot().iter("testcase"):
        check = check_of(case)
        seconds[check] = seconds.get(check, 0.0) + float(case.get("time") or 0)
        outcomes[_junit_outcome(case)] += 1
    return seconds, outcomes


def _junit_outcome(case: ET.Element) -> str:
    for tag in ("failure", "error", "skipped"):
        if case.find(tag) is not None:
            return tag
    return "passed"


@dataclass(frozen=True)
class Auditor:
    """The suite's credentials, and how its requests are found in the audit log."""

    kubeconfig: str
    username: str
    source_ip: str = ""  # "" when the route could not be told apart


def command(auditor: Auditor, workers: str, outdir: Path, rss_file: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "bench.rusage",
        str(rss_file),
        f"--kubeconfig={auditor.kubeconfig}",
        "-n",
        workers,
        "-p",
        "no:cacheprovider",
        "-p",
        "bench.phases",
        "-q",
        f"--junitxml={outdir / 'junit.xml'}",
        f"--html={outdir / 'report.html'}",
        "--self-contained-html",
        f"--evidence-dir={outdir / 'evidence'}",
    ]


@dataclass
class Execution:
    wall: float
    exit_code: int
    memory: procs.TreePeak
    spawned: float  # time.time() at spawn, for the phase stamps
    window: tuple[dt.datetime, dt.datetime]


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def execute(argv: list[str], outdir: Path, env: dict[str, str], timeout: float) -> Execution:
    """Run with the tree sampled; kill the whole process group after ``timeout``."""
    started_at = auditlog.utcnow()
    started, spawned = time.monotonic(), time.time()
    with (outdir / "stdout.txt").open("w") as out, (outdir / "stderr.txt").open("w") as err:
        proc = subprocess.Popen(
            argv, cwd=outdir, env=env, stdout=out, stderr=err, start_new_session=True
        )
        killer = threading.Timer(timeout, _kill_group, (proc.pid,))
        killer.start()
        sampler = procs.Sampler(proc.pid)
        sampler.start()
        _, status, _ = os.wait4(proc.pid, 0)
        wall = time.monotonic() - started
        ended_at = auditlog.utcnow()
        killer.cancel()
        memory = sampler.stop()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Execution(wall, proc.returncode, memory, spawned, (started_at, ended_at))


def run(auditor: Auditor, workers: str, outdir: Path, timeout: float = 900) -> SuiteRun:
    outdir.mkdir(parents=True, exist_ok=True)
    rss_file, phases_file = outdir / "rusage.json", outdir / "phases.json"
    env = {**os.environ, "PYTHONPATH": str(REPO), phase_plugin.ENV: str(phases_file)}
    start_mark = auditlog.mark()
    time.sleep(0.05)
    done = execute(command(auditor, workers, outdir, rss_file), outdir, env, timeout)
    if rss_file.is_file():
        kib = json.loads(rss_file.read_text())["maxrss_kib"]
        procs.record_exact(done.memory, done.memory.root, kib)
    time.sleep(1.0)  # let the API server finish writing the last audit events
    requests = auditlog.count_requests(
        auditlog.lines_since(start_mark), auditor.username, *done.window, auditor.source_ip
    )
    seconds, outcomes = check_times(outdir / "junit.xml")
    stamps = json.loads(phases_file.read_text()) if phases_file.is_file() else {}
    stamps["spawn"] = done.spawned
    results = outdir / "evidence" / "results.json"
    return SuiteRun(
        workers=workers,
        wall=done.wall,
        exit_code=done.exit_code,
        requests=requests,
        memory=done.memory,
        html_bytes=_size(outdir / "report.html"),
        results_bytes=results.stat().st_size if results.is_file() else None,
        evidence_bytes=_size(outdir / "evidence"),
        check_seconds=seconds,
        outcomes=outcomes,
        stderr_tail=(outdir / "stderr.txt").read_text()[-2000:],
        outdir=str(outdir),
        phases=phase_plugin.durations(stamps),
        list_seconds=stored_list_seconds(outdir / "evidence"),
        rbac_findings=confirmed_findings(results),
    )


# The checks whose every finding is confirmed by one SubjectAccessReview.
CONFIRMED_CHECKS = frozenset(
    {"generic-cluster-admin-bindings", "csr-approval-rights", "service-account-privileges"}
)


def confirmed_findings(results: Path) -> int:
    """RBAC findings the suite asked the authorizer to confirm (one review each)."""
    if not results.is_file():
        return 0
    records = json.loads(results.read_text()).get("results") or []
    return sum(
        len(r.get("findings") or []) for r in records if r.get("check_id") in CONFIRMED_CHECKS
    )
