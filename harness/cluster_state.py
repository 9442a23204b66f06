"""The well-known record of the running cluster: ~/.cache/kubepci/clusters/current.env.

Shell-style KEY=VALUE lines so CI scripts can `source` it and tests can parse it:
PROFILE, KUBECONFIG (the identity the suite should use), ADMIN_KUBECONFIG, NODE_NAME,
NODE_IP, API_SERVER.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

from harness.layout import CLUSTERS, CURRENT_ENV

LOCK = CLUSTERS / ".lock"


def profile_dir(profile: str) -> Path:
    return CLUSTERS / profile


def write(values: dict[str, str]) -> Path:
    CLUSTERS.mkdir(parents=True, exist_ok=True)
    text = "".join(f"{key}={value}\n" for key, value in values.items())
    tmp = CURRENT_ENV.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.rename(CURRENT_ENV)
    return CURRENT_ENV


def read() -> dict[str, str]:
    """The current cluster's record, or {} when none is up."""
    try:
        lines = CURRENT_ENV.read_text().splitlines()
    except FileNotFoundError:
        return {}
    return dict(line.split("=", 1) for line in lines if "=" in line)


def clear() -> None:
    CURRENT_ENV.unlink(missing_ok=True)


_held = 0


@contextlib.contextmanager
def exclusive() -> Iterator[None]:
    """One bring-up or teardown at a time on this host (re-entrant within a process).

    Several engineers and CI steps share the machine; two kubeadm runs at once would wreck
    both clusters, so the second waits here instead.
    """
    global _held
    if _held:
        _held += 1
        try:
            yield
        finally:
            _held -= 1
        return
    CLUSTERS.mkdir(parents=True, exist_ok=True)
    with open(LOCK, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        _held = 1
        try:
            yield
        finally:
            _held = 0
            fcntl.flock(handle, fcntl.LOCK_UN)
