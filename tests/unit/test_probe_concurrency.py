"""Live probes in bounded parallel, on real sockets: a listener on 127.0.0.1 stands in for
kubelets and control-plane ports, so the connections, refusals and silences are real.

What must hold: no more probes in flight than the limit (and the limit reached, so the
probes do run side by side); a probe still unanswered at its phase's deadline is recorded
by name as unanswered, and the rest keep their answers; a probe is sent once, whatever
came back; a long phase says how many of how many answered, a short one says nothing.
No assertion here is about seconds: deadlines are only far enough apart to be decided.
"""

from __future__ import annotations

import re
import socket
import socketserver
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kubepci import jsonio
from kubepci.access.cluster import ClusterSession
from kubepci.access.kubeconfig import Credential, Target
from kubepci.access.probe_pool import ProbeLimits, ProbePool
from kubepci.access.probes import AnonymousProber
from kubepci.access.service_proxy import unanswered_port
from kubepci.analysis import service_answers
from kubepci.analysis.endpoints import ServicePort
from kubepci.analysis.service_answers import PortVerdict
from kubepci.records.probes import UNANSWERED, ProbeResult

LIMIT = 3
HOLD = 1.0
ANSWER = b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


@dataclass
class Listener:
    """What the loopback listener saw, and the switches the tests flip."""

    port: int = 0
    open: int = 0
    most_open: int = 0
    paths: Counter[str] = field(default_factory=Counter)
    cond: threading.Condition = field(default_factory=threading.Condition)
    # /gate/... is held until more than the limit were open at once, or for HOLD seconds:
    # a client within the limit waits the hold out, one above it is caught in the act.
    gate_at: int = LIMIT
    release: threading.Event = field(default_factory=threading.Event)
    slow: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


class Handler(socketserver.BaseRequestHandler):
    server: socketserver.ThreadingTCPServer

    def handle(self) -> None:
        state: Listener = self.server.state  # type: ignore[attr-defined]
        with state.cond:
            state.open += 1
            state.most_open = max(state.most_open, state.open)
            state.cond.notify_all()
        try:
            self._answer(state)
        finally:
            with state.cond:
                state.open -= 1

    def _answer(self, state: Listener) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            head += chunk
        path = head.split(b" ", 2)[1].decode()
        with state.cond:
            state.paths[path] += 1
        if path.startswith("/gate/"):
            with state.cond:
                state.cond.wait_for(
                    lambda: state.most_open > state.gate_at or state.release.is_set(), HOLD
                )
                state.open -= 1  # answered from here on: no longer waiting on us
            try:
                self.request.sendall(ANSWER)
            finally:
                with state.cond:
                    state.open += 1  # handle() takes it off again
        elif path.startswith("/hang"):
            state.release.wait(60)  # accepted, never answered
        elif path.startswith("/reset"):
            # An answer of sorts: the connection is reset with nothing said.
            self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
        elif path.startswith("/slow"):
            state.slow.wait(60)
            self.request.sendall(ANSWER)
        else:
            self.request.sendall(ANSWER)


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state = Listener(port=server.server_address[1])
    server.state = state  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        state.slow.set()
        with state.cond:
            state.cond.notify_all()
        server.shutdown()
        server.server_close()


def pool(limits: ProbeLimits, said: list[str] | None = None) -> ProbePool:
    return ProbePool(limits, (said.append if said is not None else None))


def test_no_more_probes_in_flight_than_the_limit(listener: Listener) -> None:
    prober = AnonymousProber(timeout=30, pool=LIMIT)
    urls = [listener.url(f"/gate/{i}") for i in range(2 * LIMIT)]
    results = pool(ProbeLimits(at_once=LIMIT, timeout=30)).run(
        "kubelets", urls, prober.get, lambda u: ProbeResult("GET", u, kind=UNANSWERED)
    )
    assert [r.status for r in results] == [401] * len(urls)
    assert [r.url for r in results] == urls  # in the order asked
    assert listener.most_open == LIMIT  # reached, never passed
    assert sum(listener.paths.values()) == len(urls)


def test_the_limit_holds_across_phases_sharing_the_pool(listener: Listener) -> None:
    """Two phases at once from two threads share one pool: still at most the limit."""
    prober = AnonymousProber(timeout=30, pool=LIMIT)
    shared = pool(ProbeLimits(at_once=LIMIT, timeout=30))
    out: dict[str, list[ProbeResult]] = {}

    def phase(name: str) -> None:
        urls = [listener.url(f"/gate/{name}/{i}") for i in range(LIMIT)]
        out[name] = shared.run(name, urls, prober.get, lambda u: ProbeResult("GET", u))

    threads = [threading.Thread(target=phase, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(out) == ["a", "b"]
    assert all(r.status == 401 for results in out.values() for r in results)
    assert listener.most_open == LIMIT


def test_deadline_records_the_unanswered_by_name(listener: Listener, tmp_path: Path) -> None:
    """Through the session, as a check gets them: answers kept, the rest unanswered, and
    the stored evidence says which (kind "unanswered")."""
    target = Target("t", "/dev/null", "ctx", "https://127.0.0.1:1", "u", Credential("token"))
    session = ClusterSession(
        target, tmp_path, probe_limits=ProbeLimits(at_once=8, timeout=60, deadline=3)
    )
    bases = [listener.url("/answers"), listener.url("/hang-a"), listener.url("/hang-b")]
    results = session.etcd_probes(bases)
    by_url = {r.url: r for r in results}
    assert by_url[listener.url("/answers/version")].status == 401
    assert not by_url[listener.url("/answers/version")].unanswered
    silent = [r for r in results if r.unanswered]
    assert sorted(r.url for r in silent) == [
        listener.url("/hang-a/version"),
        listener.url("/hang-b/version"),
    ]
    assert all(r.status is None and "3 s probe deadline" in r.error for r in silent)
    assert all("unanswered" in r.line() for r in silent)
    stored = jsonio.loads((tmp_path / "probe-etcd.json").read_bytes())
    assert sorted(p["kind"] for p in stored["ok"]) == ["probe", UNANSWERED, UNANSWERED]


def test_a_probe_is_sent_once_whatever_comes_back(listener: Listener) -> None:
    prober = AnonymousProber(timeout=0.5, pool=4)
    urls = [listener.url(p) for p in ("/reset", "/hang", "/plain")]
    results = pool(ProbeLimits(at_once=4, timeout=0.5, deadline=60)).run(
        "ports", urls, prober.get, lambda u: ProbeResult("GET", u, kind=UNANSWERED)
    )
    reset, hang, plain = results
    assert reset.status is None and reset.error  # reset with nothing said
    assert hang.status is None and hang.error == "timed out" and not hang.unanswered
    assert plain.status == 401
    assert listener.paths == Counter({"/reset": 1, "/hang": 1, "/plain": 1})


def test_a_long_phase_says_how_many_of_how_many_answered(listener: Listener) -> None:
    said: list[str] = []

    def say(message: str) -> None:
        said.append(message)
        listener.slow.set()  # the slow port answers once progress was reported

    prober = AnonymousProber(timeout=60, pool=4)
    urls = [listener.url("/a"), listener.url("/b"), listener.url("/slow")]
    limits = ProbeLimits(at_once=4, timeout=60, deadline=120, progress_every=0.05)
    results = ProbePool(limits, say).run(
        "kubelets", urls, prober.get, lambda u: ProbeResult("GET", u, kind=UNANSWERED)
    )
    assert [r.status for r in results] == [401, 401, 401]
    assert said, "no progress line"
    assert all(re.fullmatch(r"kubelets: [0-3] of 3 answered", m) for m in said), said
    assert said[-1] == "kubelets: 3 of 3 answered"


def test_a_short_phase_says_nothing(listener: Listener) -> None:
    said: list[str] = []
    prober = AnonymousProber(timeout=10, pool=4)
    results = pool(ProbeLimits(at_once=4, timeout=10, progress_every=300), said).run(
        "kubelets", [listener.url("/a")], prober.get, lambda u: ProbeResult("GET", u)
    )
    assert results[0].status == 401
    assert said == []


def test_a_deadline_names_what_it_cut_off_in_progress(listener: Listener) -> None:
    said: list[str] = []
    prober = AnonymousProber(timeout=60, pool=2)
    urls = [listener.url("/a"), listener.url("/hang")]
    results = pool(ProbeLimits(at_once=2, timeout=60, deadline=2, progress_every=300), said).run(
        "kubelets", urls, prober.get, lambda u: ProbeResult("GET", u, kind=UNANSWERED)
    )
    assert [r.unanswered for r in results] == [False, True]
    assert said == ["kubelets: 1 of 2 answered; 1 unanswered at the 2 s deadline"]


def test_probes_not_started_by_the_deadline_are_never_sent(listener: Listener) -> None:
    prober = AnonymousProber(timeout=60, pool=1)
    urls = [listener.url("/hang"), listener.url("/never-1"), listener.url("/never-2")]
    results = pool(ProbeLimits(at_once=1, timeout=60, deadline=2)).run(
        "ports", urls, prober.get, lambda u: ProbeResult("GET", u, kind=UNANSWERED)
    )
    assert all(r.unanswered for r in results)
    assert listener.paths == Counter({"/hang": 1})


def test_an_unanswered_service_port_is_never_passed() -> None:
    port = ServicePort("shop", "cart", 8080, "http", "http")
    paths = unanswered_port("https://api:6443", port, ProbeLimits(deadline=5).unanswered_reason())
    judgement = service_answers.judge_port(port, paths)
    assert judgement.verdict is PortVerdict.NOT_JUDGED
    assert "shop/cart:8080" in service_answers.limitation(judgement)
    assert paths[0].requests[0].unanswered


def test_records_without_a_kind_read_as_probes() -> None:
    """Evidence recorded before the kind existed replays as what it was: probes."""
    raw = ProbeResult("GET", "https://10.0.0.1:10250/pods", status=401).to_json()
    assert raw["kind"] == "probe"
    del raw["kind"]
    assert ProbeResult.from_json(raw).kind == "probe"
    cut = ProbeResult("GET", "https://10.0.0.2:10250/pods", error="x", kind=UNANSWERED)
    assert ProbeResult.from_json(cut.to_json()).unanswered


def test_limits_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ProbeLimits(at_once=0)
    with pytest.raises(ValueError, match="positive"):
        ProbeLimits(deadline=0)
