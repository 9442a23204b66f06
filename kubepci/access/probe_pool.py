"""Live probes in bounded parallel: one limit on probes in flight, a timeout per probe and a
deadline per probe phase.

A probe phase is one stored set of probes (every kubelet's 10250, every read-only port,
every Service port, every node-proxy ``configz`` read, ...). Its probes run at most
``at_once`` at a time on one pool shared by every phase of the process, so a phase that
outlives its deadline and the next phase together never exceed the limit either. Each
probe is sent once and waits at most its own timeout: its answer (a status, a refusal, a
timeout) is final, and retries belong to API calls only (:mod:`kubepci.access.api`).

When a phase's deadline passes, the probes not answered by then are recorded by name as
``unanswered`` (:data:`UNANSWERED`), never dropped: a check given one errors, unless it
already fails on what did answer. The default limit is sized for Kubernetes' published
scalability limit of 5,000 nodes: with every kubelet behind a firewall that drops packets,
5,000 probes x 4 s / 64 at once is about 5 minutes, inside the default deadline.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ALL_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TypeVar

from kubernetes import client as k8s

from kubepci.records.probes import UNANSWERED

Item = TypeVar("Item")
Answer = TypeVar("Answer")
Say = Callable[[str], None]

__all__ = ["UNANSWERED", "ProbeLimits", "ProbePool", "sized_client"]
PROBES_AT_ONCE = 64
PROBE_TIMEOUT = 4.0
PROBE_DEADLINE = 600.0
# A long phase says how far it got at most this often (seconds).
PROGRESS_EVERY = 5.0


@dataclass(frozen=True)
class ProbeLimits:
    """How many probes fly at once, how long one waits, and when a phase gives up."""

    at_once: int = PROBES_AT_ONCE
    timeout: float = PROBE_TIMEOUT
    deadline: float = PROBE_DEADLINE
    progress_every: float = PROGRESS_EVERY

    def __post_init__(self) -> None:
        if self.at_once < 1:
            raise ValueError(f"probes at once must be at least 1, not {self.at_once}")
        if self.timeout <= 0 or self.deadline <= 0:
            raise ValueError("the probe timeout and deadline must be positive")

    def unanswered_reason(self) -> str:
        """The error text of an unanswered probe (``ProbeResult.error``)."""
        return f"{UNANSWERED}: no answer within the {self.deadline:g} s probe deadline"


def sized_client(api: k8s.ApiClient, size: int) -> k8s.ApiClient:
    """A client with ``api``'s configuration (server, CA, credentials) and a connection
    pool of its own holding ``size`` connections per host: one per probe in flight, so
    none is opened only to be thrown away (urllib3 warns, per request, when its pool is
    full), and the reader's pool is left to the API calls."""
    client = k8s.ApiClient(api.configuration)
    client.rest_client.pool_manager.connection_pool_kw["maxsize"] = size
    return client


class ProbePool:
    """Runs probe phases on one shared pool of ``limits.at_once`` threads."""

    def __init__(
        self,
        limits: ProbeLimits | None = None,
        say: Say | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = limits or ProbeLimits()
        self._say = say or (lambda _m: None)
        self._clock = clock
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.limits.at_once, "kubepci-probe")
            return self._executor

    def run(
        self,
        what: str,
        items: Sequence[Item],
        probe: Callable[[Item], Answer],
        unanswered: Callable[[Item], Answer],
    ) -> list[Answer]:
        """``probe(item)`` for every item, in ``items`` order; ``unanswered(item)`` for
        each one still unanswered when the deadline passes (those not yet started are
        never sent). ``what`` names the phase in progress lines ("kubelets on 10250").
        """
        if not items:
            return []
        limits = self.limits
        started = self._clock()
        deadline = started + limits.deadline
        futures: list[Future[Answer]] = [self._pool().submit(probe, item) for item in items]
        pending: set[Future[Answer]] = set(futures)
        said = started
        while pending:
            now = self._clock()
            if now >= deadline:
                break
            _, pending = wait(
                pending,
                timeout=min(deadline - now, limits.progress_every),
                return_when=ALL_COMPLETED,
            )
            now = self._clock()
            if pending and now - said >= limits.progress_every:
                said = now
                self._say(f"{what}: {len(items) - len(pending)} of {len(items)} answered")
        for future in pending:
            # Not started: never sent. Running: abandoned; it ends within its own timeout.
            future.cancel()
        answers = [
            unanswered(item) if future in pending else future.result()
            for item, future in zip(items, futures, strict=True)
        ]
        if pending:
            self._say(
                f"{what}: {len(items) - len(pending)} of {len(items)} answered; "
                f"{len(pending)} unanswered at the {limits.deadline:g} s deadline"
            )
        elif self._clock() - started >= limits.progress_every:
            self._say(f"{what}: {len(items)} of {len(items)} answered")
        return answers
