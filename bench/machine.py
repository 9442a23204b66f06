"""The machine and cluster a result was measured on."""

from __future__ import annotations

import datetime as dt
import os
import platform
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Machine:
    date: str
    host: str
    cpus: int
    memory_gib: float
    kernel: str
    kubernetes: str
    profile: str

    def line(self) -> str:
        return (
            f"{self.date} on {self.host}: {self.cpus} CPUs, {self.memory_gib:.1f} GiB RAM, "
            f"Linux {self.kernel}; Kubernetes {self.kubernetes} "
            f"(single-node kubeadm, {self.profile} profile)"
        )


def memory_gib(meminfo: str) -> float:
    for line in meminfo.splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / (1024 * 1024)
    return 0.0


def describe(kubernetes: str, profile: str) -> Machine:
    return Machine(
        date=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        host=platform.node(),
        cpus=os.cpu_count() or 0,
        memory_gib=memory_gib(Path("/proc/meminfo").read_text()),
        kernel=platform.release(),
        kubernetes=kubernetes,
        profile=profile or "?",
    )
