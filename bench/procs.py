"""Peak memory of a process tree, sampled from /proc (no psutil needed).

Every sample walks the tree under the root pid and reads each process's VmHWM (its own
peak RSS, kept by the kernel) and VmRSS. The honest figure for a run with xdist workers
is the sum of every process's peak; the largest concurrent total is reported beside it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

PROC = Path("/proc")


def _status(pid: int) -> dict[str, str]:
    try:
        text = (PROC / str(pid) / "status").read_text()
    except OSError:
        return {}
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)


def _kib(value: str) -> int:
    return int(value.split()[0]) if value else 0


def children_of(pid: int) -> list[int]:
    """Direct children, from /proc/PID/task/*/children (cheap: no walk of all of /proc)."""
    out: list[int] = []
    try:
        tasks = list((PROC / str(pid) / "task").iterdir())
    except OSError:
        return out
    for task in tasks:
        try:
            out += [int(word) for word in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return out


def tree(root: int) -> list[int]:
    return [pid for pid, _ in tree_with_parents(root)]


def tree_with_parents(root: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    todo = [(root, 0)]
    while todo:
        pid, parent = todo.pop()
        out.append((pid, parent))
        todo.extend((child, pid) for child in children_of(pid))
    return out


def cmdline(pid: int) -> bytes:
    try:
        return (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return b""


def forked_not_exec(pid: int, parent: int) -> bool:
    """A child between fork and exec still maps its parent's pages, which count in its
    RSS; sampled then, a 25 MB credential plugin would read as the parent's 70 MB."""
    return bool(parent) and cmdline(pid) == cmdline(parent)


@dataclass
class TreePeak:
    """Per-process peaks (KiB) keyed by pid, with each process's name."""

    root: int = 0
    peaks: dict[int, int] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    pytest: set[int] = field(default_factory=set)  # the controller and xdist workers
    concurrent: int = 0  # the largest sum of VmRSS seen in one sample

    def sample(self, root: int) -> None:
        total = 0
        for pid, parent in tree_with_parents(root):
            status = _status(pid)
            if not status or forked_not_exec(pid, parent):
                continue
            hwm, rss = _kib(status.get("VmHWM", "")), _kib(status.get("VmRSS", ""))
            self.peaks[pid] = max(self.peaks.get(pid, 0), hwm, rss)
            if pid not in self.names:
                self.names[pid] = status.get("Name", "?").strip()
                if pid == self.root or is_xdist_worker(pid):
                    self.pytest.add(pid)
            total += rss
        self.concurrent = max(self.concurrent, total)

    @property
    def sum_of_peaks(self) -> int:
        return sum(self.peaks.values())

    @property
    def pytest_sum_of_peaks(self) -> int:
        """The controller's and workers' peaks only (without credential plugins)."""
        return sum(kib for pid, kib in self.peaks.items() if pid in self.pytest)

    @property
    def largest(self) -> int:
        return max(self.peaks.values(), default=0)

    def top(self, n: int = 6) -> list[tuple[str, int]]:
        ranked = sorted(self.peaks.items(), key=lambda kv: kv[1], reverse=True)[:n]
        return [(f"{self.role(pid)}[{pid}]", kib) for pid, kib in ranked]

    def role(self, pid: int) -> str:
        if pid == self.root:
            return "controller"
        return "xdist worker" if pid in self.pytest else self.names.get(pid, "?")


def is_xdist_worker(pid: int) -> bool:
    """execnet starts each worker as ``python -c "import sys;exec(eval(sys.stdin...))"``."""
    return b"sys.stdin.readline" in cmdline(pid)


class Sampler(threading.Thread):
    """Sample a tree every ``interval`` seconds until stopped."""

    def __init__(self, root: int, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.interval = interval
        self.result = TreePeak(root)
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.result.sample(self.root)
            self._stop_event.wait(self.interval)

    def stop(self) -> TreePeak:
        self._stop_event.set()
        self.join()
        return self.result


def record_exact(peak: TreePeak, pid: int, kib: int) -> None:
    """A process's own getrusage peak (exact, unlike sampling) replaces its sample."""
    if kib > 0:
        peak.peaks[pid] = max(peak.peaks.get(pid, 0), kib)


def foreign_suite_runs(own_root: int) -> list[str]:
    """Other kubepci/pytest runs on this machine (they share the suite's identity, so the
    audit log cannot tell their requests from ours)."""
    own = set(tree(own_root))
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) in own:
            continue
        try:
            words = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        text = " ".join(w.decode("utf-8", "replace") for w in words if w)
        if "tests_pci" in text or "bin/kubepci" in text:
            found.append(f"{entry.name}: {text[:120]}")
    return found
