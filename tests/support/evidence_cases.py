"""Hand-varied evidence for the offline check tests (tests/unit/test_checks_1_*.py).

A case starts from a recorded pack of a local real cluster (:mod:`tests.support.replay`),
changes the recorded evidence the way a real cluster would differ (a kubelet answering
403, a flag in the kube-apiserver static pod, a ClusterRoleBinding added to the list, a
key file's mode), and judges it with the shipped checks through ``--from-evidence``: the
real plugin, facade and analysis, offline. The tests only see what an assessor sees: the
results.json entry, the JUnit outcome and the exit code.

Checks that confirm findings with the API server's authorizer read its answers from
``access-reviews-<SHA-256 of the question set>`` records. An edit that changes the
findings changes the questions; :meth:`Evidence.review_questions` records which the suite
asks (by watching the session ask them, in this process) and
:meth:`Evidence.answer_reviews` writes the API server's answers for them, as a live run
would have stored them.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from kubepci.access.cluster import ClusterSession
from kubepci.access.credential import classify_user
from kubepci.analysis.access_review import (
    UNBOUND_PROBE,
    AccessAnswer,
    pair_json,
    pairs_digest,
    unique_pairs,
)
from kubepci.analysis.authorizer import Identity, Request
from tests import builders
from tests.support import replay

Obj = dict[str, Any]
Pair = tuple[Identity, Request]
Finding = tuple[str, str, str, str]  # kind, namespace, name, detail
# Hypothesis' pytest plugin imports hypothesis afresh in every in-process run (pytester
# drops the modules a run imported): 1.3 s per replay, for a plugin these runs never use.
NO_HYPOTHESIS = ("-p", "no:hypothesispytest")
# The API server's answers about an identity nothing binds (service-account-privileges).
UNBOUND_REVIEWS = f"access-reviews-{pairs_digest(UNBOUND_PROBE)}"
CONTROL_PLANE_PODS = ("etcd-", "kube-apiserver-", "kube-controller-manager-", "kube-scheduler-")


@dataclass(frozen=True)
class Judged:
    """One check's replayed outcome, as results.json, JUnit and the exit code give it."""

    entry: Obj
    junit: str  # passed / failed / skipped
    ret: int  # exit code of the run holding only this check

    @property
    def verdict(self) -> str:
        return str(self.entry["verdict"])

    @property
    def reason(self) -> str:
        return str(self.entry["reason"])

    @property
    def findings(self) -> list[Finding]:
        return [(f["kind"], f["namespace"], f["name"], f["detail"]) for f in self.entry["findings"]]

    def failures(self) -> list[Finding]:
        """The findings, once the check is seen to have failed on them: the verdict, the
        reason results.json gives a failure and the JUnit outcome all say so."""
        ended = (self.verdict, self.reason, self.junit)
        failed = ("failed", f"{len(self.findings)} finding(s)", "failed")
        assert self.findings and ended == failed, f"not a failure: {ended}"
        return self.findings

    @property
    def classes(self) -> list[str]:
        return [str(f["class"]) for f in self.entry["findings"]]

    def evidence(self, title: str) -> Any:
        """The content of the evidence item whose title starts with ``title``."""
        found = [e["content"] for e in self.entry["evidence"] if e["title"].startswith(title)]
        assert found, f"no evidence titled {title!r} among {self.titles()}"
        return found[0]

    def titles(self) -> list[str]:
        return [str(e["title"]) for e in self.entry["evidence"]]


def _load_client_models() -> None:
    """Import the kubernetes client models the builders use, once, at collection.

    The client imports each model module on first use, and pytester drops the modules an
    in-process run imported: a model first built after a replay would be checked against
    classes of another import of its module (pydantic refuses them as foreign instances).
    """
    subject = builders.subject_user("warm-up")
    builders.cluster_role_binding("warm-up", "view", [subject])
    builders.role_binding("warm-up", "default", "view", [builders.subject_sa("default")])
    builders.cluster_role("warm-up", [builders.rule(["get"], urls=["/healthz"])])
    builders.role("warm-up", "default", [builders.rule(["get"], ["pods"])])
    builders.pod("warm-up", volumes=[builders.token_volume()], automount=False)
    builders.node("warm-up")
    builders.service_account()
    builders.secret_model("warm-up", sa="default")
    builders.csr("warm-up", "jane", approved=True)


_load_client_models()


def answer(
    status: int | None = None,
    error: str = "",
    body: str = "",
    headers: dict[str, str] | None = None,
    marks: tuple[str, ...] = (),
) -> Callable[[Obj], None]:
    """A probe's answer: an HTTP status (with body and headers), or none and why."""

    def change(probe: Obj) -> None:
        probe.update(
            status=status,
            error=error,
            body_excerpt=body,
            headers=dict(headers or {}),
            marks=list(marks),
        )

    return change


TIMED_OUT = answer(error="timed out")
REFUSED = answer(error="connection refused")


def with_flag(argv: list[str], flag: str) -> list[str]:
    """``argv`` with ``--name=value`` in place of every earlier ``--name=...``."""
    name = flag.split("=", 1)[0]
    return [a for a in argv if a.split("=", 1)[0] != name] + [flag]


def without_flag(argv: list[str], name: str) -> list[str]:
    return [a for a in argv if a.split("=", 1)[0] != f"--{name}"]


def url_path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def recorded(profile: str, listing: str, name: str) -> Obj:
    """A copy of a real object as a profile's cluster recorded it in ``list-<listing>``
    (``pods``, ``certificatesigningrequests``...), to add to a pack: a pod, a CSR, a token
    Secret."""
    items = replay.record(replay.PACKS / profile, f"list-{listing}")["items"]
    (found,) = [i for i in items if i["metadata"]["name"] == name]
    return dict(json.loads(json.dumps(found)))


class Evidence:
    """A staged copy of one profile's recorded pack, edited by a test, judged offline."""

    def __init__(self, pytester: pytest.Pytester, profile: str) -> None:
        self.pytester = pytester
        # Its own directory: a test may stage several cases, of either profile.
        self.pack = replay.stage(profile, Path(tempfile.mkdtemp(dir=pytester.path)))

    # ------------------------------------------------------------------ records
    def record(self, name: str) -> Any:
        return replay.record(self.pack, name)

    def edit(self, name: str, change: Callable[[Any], Any]) -> None:
        replay.edit(self.pack, name, change)

    def remove(self, name: str) -> None:
        replay.remove(self.pack, name)

    def fails_to_collect(self, name: str, why: str) -> None:
        """The record as a live run stores a read that failed (e.g. 403 forbidden)."""
        path = replay.store(self.pack) / f"{name}.json"
        document = json.loads(path.read_text())
        if "items" in document:
            document.update(error=why, items=[])
            failed = document
        else:
            failed = {"error": why}
        path.write_text(json.dumps(failed, sort_keys=True))
        replay.rehash(self.pack)

    def add(self, name: str, *items: Obj) -> None:
        """Objects the cluster also held, appended to the recorded list."""
        self.edit(f"list-{name}", lambda d: d["items"].extend(items))

    def change_items(self, name: str, change: Callable[[Obj], Any]) -> None:
        """Apply ``change`` to every item of a recorded list (it returns False to drop one)."""

        def each(document: Obj) -> None:
            document["items"] = [i for i in document["items"] if change(i) is not False]

        self.edit(f"list-{name}", each)

    def settings(self, **changes: Any) -> None:
        """The run's settings as replay.json records them (node_root, token_lifetime_limit)."""
        path = self.pack / "replay.json"
        document = json.loads(path.read_text())
        document["settings"].update(changes)
        path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
        replay.rehash(self.pack)

    def kubeconfig_user(self, entry: Obj, name: str = "jane") -> None:
        """The audited kubeconfig's user is ``entry`` (a ``users[].user`` mapping): recorded
        as the suite records it, the credential client-go would send (types, claims)."""
        credential = classify_user(entry).to_json()
        self.edit("target", lambda target: target.update(user=name, credential=credential))

    # ------------------------------------------------------------------ probes
    def probe(self, record: str, path: str, change: Callable[[Obj], None]) -> None:
        """Change the recorded answer to ``path`` (every probe of it, on every host)."""

        def edit(document: Obj) -> None:
            hits = [p for p in document["ok"] if url_path(p["url"]) == path]
            assert hits, f"{record} holds no probe of {path}"
            for hit in hits:
                change(hit)

        self.edit(record, edit)

    def every_probe(self, record: str, change: Callable[[Obj], None]) -> None:
        def edit(document: Obj) -> None:
            for probe in document["ok"]:
                change(probe)

        self.edit(record, edit)

    def service_path(self, port: str, path: str, *requests: Callable[[Obj], None]) -> None:
        """Service port ``port`` ("Service ns/name:80") answered ``path`` with these
        requests (the first, then each redirect followed; the recorded first request's URL
        is kept for each, since a redirect on the proxy stays on the same prefix)."""

        def edit(document: Obj) -> None:
            (entry,) = [e for e in document["ok"] if e["port"] == port]
            (probed,) = [p for p in entry["paths"] if p["path"] == path]
            template = probed["requests"][0]
            chain = []
            for change in requests:
                request = json.loads(json.dumps(template))
                change(request)
                chain.append(request)
            probed["requests"] = chain

        self.edit("probe-services", edit)

    def service_port(self, port: str, *paths: tuple[str, Callable[[Obj], None]]) -> None:
        """Service port ``port`` answered exactly ``paths`` (path, answer), in order: a
        port whose answer ends its probing (a timeout, a refused connection) records only
        the paths asked up to it, as the live run does."""

        def edit(document: Obj) -> None:
            (entry,) = [e for e in document["ok"] if e["port"] == port]
            template = entry["paths"][0]["requests"][0]
            base = template["url"][: template["url"].index("/proxy/") + len("/proxy")]
            entry["paths"] = []
            for path, change in paths:
                request = json.loads(json.dumps(template))
                request["url"] = base + path
                change(request)
                entry["paths"].append({"path": path, "scheme": "http", "requests": [request]})

        self.edit("probe-services", edit)

    # ------------------------------------------------------------------ control plane
    def command(self, component: str, change: Callable[[list[str]], list[str]]) -> None:
        """Change the command line of the component's static pod (kube-system, owned by
        its Node), as an operator editing /etc/kubernetes/manifests would."""

        def each(pod: Obj) -> None:
            meta = pod["metadata"]
            owners = [o.get("kind") for o in meta.get("ownerReferences") or []]
            if meta.get("namespace") != "kube-system" or owners != ["Node"]:
                return
            for container in pod["spec"]["containers"]:
                if (container.get("command") or [""])[0] == component:
                    container["command"] = change(list(container["command"]))

        self.change_items("pods", each)

    def managed_by_eks(self) -> None:
        """The cluster as Amazon EKS shows it: an EKS build of the server, no control-plane
        pods in kube-system, and the API server's endpoints the provider's, not a node's."""
        self.edit("version", lambda d: d["ok"].update(gitVersion="v1.35.4-eks-1a2b3c4"))

        def tenant_side(pod: Obj) -> bool:
            meta = pod["metadata"]
            owners = [o.get("kind") for o in meta.get("ownerReferences") or []]
            mirror = meta.get("namespace") == "kube-system" and owners == ["Node"]
            return not (mirror and meta["name"].startswith(CONTROL_PLANE_PODS))

        self.change_items("pods", tenant_side)

        def provider_endpoints(endpoint_slice: Obj) -> None:
            if endpoint_slice["metadata"].get("service") == "kubernetes":
                endpoint_slice["addresses"] = ["203.0.113.10"]

        self.change_items("endpointslices", provider_endpoints)

    # ------------------------------------------------------------------ judging
    def judge(self, check: str) -> Judged:
        """Replay the pack through the shipped suite, only ``check`` selected."""
        return self.judge_each(check)[check]

    def judge_each(self, *checks: str) -> dict[str, Judged]:
        """One replay of ``checks`` together (``ret`` is the whole run's exit code)."""
        run = replay.run(self.pytester, self.pack, *checks, args=NO_HYPOTHESIS)
        return {c: Judged(run.results[c], str(run.junit[c]["outcome"]), run.ret) for c in checks}

    def review_questions(self, check: str) -> list[list[Pair]]:
        """Each question set the suite asks the API server's authorizer while judging
        ``check`` (one list per access-reviews record it reads)."""
        asked: list[list[Pair]] = []
        original = ClusterSession.access_reviews

        def recording(session: ClusterSession, pairs: list[Pair]) -> list[AccessAnswer]:
            if pairs:
                asked.append(unique_pairs(pairs))
            return original(session, pairs)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(ClusterSession, "access_reviews", recording)
            replay.run(self.pytester, self.pack, check, args=NO_HYPOTHESIS)
        return asked

    def answer_reviews(
        self, questions: list[Pair], allowed: Callable[[Pair], bool] = lambda _pair: True
    ) -> str:
        """Record the API server's SubjectAccessReview answers to ``questions``, under the
        name the session reads them from; returns that name."""
        name = f"access-reviews-{pairs_digest(questions)}"
        answers = [
            {**pair_json(*pair), "answer": AccessAnswer(allowed(pair)).to_json()}
            for pair in unique_pairs(questions)
        ]
        path = replay.store(self.pack) / f"{name}.json"
        path.write_text(json.dumps({"ok": answers}, sort_keys=True))
        replay.rehash(self.pack)
        return name

    def unrecorded_questions(self, check: str) -> Iterator[list[Pair]]:
        """The question sets of ``check`` that the pack holds no answers to."""
        for questions in self.review_questions(check):
            name = f"access-reviews-{pairs_digest(questions)}"
            if not (replay.store(self.pack) / f"{name}.json").exists():
                yield questions
