"""The yardstick for probe phases: curl, 32 at a time, the same timeout, the same URLs.

The URLs are the ones the suite itself recorded in its evidence pack, so the sweep asks
exactly what the suite asked. Requests to the API server (service and node proxy) carry
the suite's own credentials, from its kubeconfig, through a 0600 header file (never on a
command line); the direct probes carry none, as the suite's do.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes import client as k8s
from kubernetes import config as k8s_config

AT_ONCE = 32
TIMEOUT = 4.0


@dataclass(frozen=True)
class Sweep:
    probes: int
    wall: float
    outcomes: Counter[str]  # HTTP status, or "no answer" (curl's 000)


@dataclass(frozen=True)
class Credentials:
    """curl arguments that authenticate as the suite to the API server."""

    args: tuple[str, ...]


@contextlib.contextmanager
def api_credentials(kubeconfig: str, workdir: Path) -> Iterator[Credentials]:
    configuration = k8s.Configuration()
    k8s_config.load_kube_config(
        config_file=kubeconfig, client_configuration=configuration, persist_config=False
    )
    args: list[str] = []
    if configuration.ssl_ca_cert:
        args += ["--cacert", str(configuration.ssl_ca_cert)]
    if configuration.cert_file and configuration.key_file:
        args += ["--cert", str(configuration.cert_file), "--key", str(configuration.key_file)]
    headers = workdir / "sweep-headers.txt"
    token = (configuration.api_key or {}).get("authorization") or (configuration.api_key or {}).get(
        "BearerToken"
    )
    try:
        if token:
            headers.touch(mode=0o600)
            headers.write_text(f"Authorization: {token}\n")
            args += ["-H", f"@{headers}"]
        yield Credentials(tuple(args))
    finally:
        headers.unlink(missing_ok=True)


def _curl(url: str, extra: tuple[str, ...], timeout: float) -> str:
    argv = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-m", f"{timeout:g}"]
    argv += ["-k"] if not extra else list(extra)
    done = subprocess.run([*argv, url], capture_output=True, text=True, check=False)
    code = done.stdout.strip() or "000"
    return "no answer" if code == "000" else code


def sweep(
    direct: list[str],
    through_api: Sequence[str] = (),
    credentials: Credentials | None = None,
    at_once: int = AT_ONCE,
    timeout: float = TIMEOUT,
) -> Sweep:
    """GET every URL once, ``at_once`` at a time; wall time and outcome counts."""
    jobs = [(u, ()) for u in direct] + [
        (u, credentials.args if credentials else ()) for u in through_api
    ]
    started = time.monotonic()
    with ThreadPoolExecutor(at_once) as pool:
        outcomes = Counter(pool.map(lambda job: _curl(job[0], job[1], timeout), jobs))
    return Sweep(len(jobs), time.monotonic() - started, outcomes)


def recorded(evidence: Path, name: str) -> Any:
    """A stored probe phase (``{"ok": ...}``) from a suite run's evidence pack."""
    for path in sorted((evidence / "raw").glob(f"*/{name}.json")):
        return json.loads(path.read_text()).get("ok")
    return None


def probe_urls(evidence: Path, name: str) -> list[str]:
    """The URLs of a list-of-probes phase (probe-kubelet, probe-kubelet-read-only, ...)."""
    return [str(p["url"]) for p in recorded(evidence, name) or []]


def service_urls(evidence: Path) -> list[str]:
    """Every request the services phase sent (redirects and TLS retries included)."""
    out: list[str] = []
    for entry in recorded(evidence, "probe-services") or []:
        for path in entry["paths"]:
            out += [str(r["url"]) for r in path["requests"] if r.get("kind") != "unanswered"]
    return out
