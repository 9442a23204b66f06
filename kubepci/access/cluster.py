"""One audited cluster as seen by this process: identity, snapshot, flags and probes.

Everything is collected lazily, at most once per cluster per run: results are stored in
a directory shared by all pytest-xdist workers (see :class:`SharedStore`), so a run with
``-n auto`` makes the same requests as one without.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from kubepci.access import node_proxy, nodefs
from kubepci.access.api import ApiReader, ApiUnavailable, Policy, build_client
from kubepci.access.auditlog import AuditLogRead, read_csr_writes
from kubepci.access.component_files import read_config_file
from kubepci.access.kubeconfig import Target
from kubepci.access.probe_pool import ProbeLimits, ProbePool, sized_client
from kubepci.access.probes import AnonymousProber
from kubepci.access.service_proxy import ServiceProxyProber, probe_port, unanswered_port
from kubepci.access.snapshot import NotRecorded, SharedStore, Snapshot
from kubepci.analysis import endpoints
from kubepci.analysis.access_review import (
    SUBJECT_ACCESS_REVIEW,
    AccessAnswer,
    describe,
    pair_from_json,
    pair_json,
    pairs_digest,
    review_body,
    unique_pairs,
)
from kubepci.analysis.authorizer import Identity, Request
from kubepci.analysis.component_settings import ConfigFile
from kubepci.analysis.distribution import Distribution, api_server_endpoints, detect
from kubepci.analysis.flags import ComponentFlags, ControlPlane, control_plane_flags
from kubepci.analysis.privilege_report import PrivilegeReport, analyse
from kubepci.analysis.rbac import RbacGraph
from kubepci.analysis.workloads import Workloads
from kubepci.records.node_files import KeyFile
from kubepci.records.probes import UNANSWERED, PathProbe, ProbeResult
from kubepci.verdict import EvidenceUnavailable

Obj = dict[str, Any]
Progress = Callable[[str], None]
TARGET_RECORD = "target"
SELF_SUBJECT_REVIEW = "/apis/authentication.k8s.io/v1/selfsubjectreviews"
# SubjectAccessReviews in flight at once: enough to hide the round trips, few enough
# that a large audit is not a burst against the API server's priority and fairness.
REVIEWS_AT_ONCE = 8


def _slug(text: str) -> str:
    """A store name for a path: readable, and distinct for distinct paths."""
    readable = re.sub(r"[^A-Za-z0-9.-]+", "_", text).strip("_")[:60]
    return f"{readable}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"


def _cut_off(paths: list[PathProbe]) -> bool:
    """Did the probe phase's deadline cut this port off before it was answered?"""
    return any(r.unanswered for path in paths for r in path.requests)


def store_name(target_id: str) -> str:
    """The store directory of a target: distinct for distinct ids, even ids that differ
    only in punctuation (``a:b`` and ``a/b``), and readable."""
    return _slug(target_id)


def _probes_to_json(results: list[ProbeResult]) -> list[Obj]:
    return [r.to_json() for r in results]


def _probes_from_json(raw: list[Obj]) -> list[ProbeResult]:
    return [ProbeResult.from_json(r) for r in raw]


class ClusterSession:
    """Lazily collected, shared evidence about one target cluster."""

    def __init__(
        self,
        target: Target,
        store_dir: Path,
        policy: Policy | None = None,
        progress: Progress | None = None,
        probe_timeout: float = 4.0,
        node_root: str = "",
        replay: bool = False,
        probe_limits: ProbeLimits | None = None,
    ) -> None:
        self.target = target
        # A replay judges an evidence pack's raw exports: read-only, and nothing is fetched.
        self.replay = replay
        self.store = SharedStore(store_dir, read_only=replay)
        self.node_root = node_root
        self.store.put(TARGET_RECORD, target.to_json())
        self.policy = policy or Policy()
        self.progress = progress or (lambda _m: None)
        # Every live probe of this session, at most probe_limits.at_once in flight.
        limits = probe_limits or ProbeLimits(timeout=probe_timeout)
        self.probe_pool = ProbePool(limits, self._say)
        self.prober = AnonymousProber(timeout=limits.timeout, pool=limits.at_once)
        self._reader: ApiReader | None = None
        self._reviewed: dict[tuple[Identity, Request], AccessAnswer] = {}
        self._review_sets: set[str] = set()
        self.snapshot = Snapshot(self.reader, self.store, self._say)

    def _say(self, message: str) -> None:
        self.progress(f"{self.target.id}: {message}")

    def reader(self) -> ApiReader:
        if self.replay:
            # Unreachable while every live read goes through the store; kept as the
            # guarantee that a replay never opens a connection to the cluster.
            raise NotRecorded(f"{self.target.id}: a replay contacts no API server")
        if self._reader is None:
            self._reader = ApiReader(build_client(self.target), self.policy)
        return self._reader

    def _shared(self, name: str, compute: Callable[[], Any]) -> Any:
        """Compute once across workers; a failure is stored and re-raised everywhere."""

        def guarded() -> Any:
            try:
                return {"ok": compute()}
            except ApiUnavailable as exc:
                return {"error": str(exc)}
            except EvidenceUnavailable as exc:
                return {"error": exc.reason}

        stored = self.store.get_or_compute(name, guarded)
        if "error" in stored:
            raise EvidenceUnavailable(stored["error"])
        return stored["ok"]

    # ----------------------------------------------------------------- who and what
    def connect(self) -> Obj:
        """Version and identity: the first contact, made at session start."""
        return {"version": self.version, "identity": self.identity}

    @cached_property
    def connect_error(self) -> str:
        """Why first contact failed ("" when it succeeded). The controller makes it; under
        pytest-xdist the workers read its answer from the store and contact nothing."""
        try:
            self.connect()
        except EvidenceUnavailable as exc:
            return exc.reason
        return ""

    @cached_property
    def version(self) -> Obj:
        return self._shared("version", lambda: self.reader().get_json("/version"))

    @cached_property
    def identity(self) -> Obj:
        """SelfSubjectReview: who the API server says is running this audit."""

        def review() -> Obj:
            body = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
            status = self.reader().review(SELF_SUBJECT_REVIEW, body).get("status") or {}
            info = status.get("userInfo") or {}
            return {
                "username": info.get("username", ""),
                "groups": list(info.get("groups") or []),
                "uid": info.get("uid", ""),
            }

        return self._shared("identity", review)

    @property
    def is_service_account(self) -> bool:
        return str(self.identity["username"]).startswith("system:serviceaccount:")

    @cached_property
    def distribution(self) -> Distribution:
        kube_system = [
            p for p in self.snapshot.pods if p["metadata"].get("namespace") == "kube-system"
        ]
        try:
            endpoints_seen = api_server_endpoints(self.snapshot.endpoint_slices)
        except EvidenceUnavailable:
            endpoints_seen = None  # the reasons then say they were not cross-checked
        return detect(
            self.version, self.snapshot.nodes, kube_system, endpoints_seen, self.target.server
        )

    @cached_property
    def kube_system_uid(self) -> str:
        for namespace in self.snapshot.namespaces:
            if namespace["metadata"]["name"] == "kube-system":
                return str(namespace["metadata"].get("uid", ""))
        return ""

    # ----------------------------------------------------------------- analysis inputs
    @cached_property
    def control_plane(self) -> ControlPlane:
        """The control-plane components' static pods and their settings. Flag tables are
        chosen by each image's version, else the API server's."""
        try:
            server = str(self.version.get("gitVersion", ""))
        except EvidenceUnavailable:
            server = ""
        return control_plane_flags(self.snapshot.pods, server)

    @cached_property
    def rbac(self) -> RbacGraph:
        return RbacGraph.from_snapshot(self.snapshot.rbac())

    @cached_property
    def privileges(self) -> PrivilegeReport:
        """Who holds which privilege class, to the end of every path (computed once)."""
        snapshot = self.snapshot
        workloads = Workloads.from_objects(
            snapshot.service_accounts, snapshot.pods, snapshot.secrets
        )
        return analyse(snapshot.rbac(), workloads, str(self.version.get("gitVersion", "")))

    @cached_property
    def node_addresses(self) -> list[endpoints.NodeAddress]:
        return endpoints.node_addresses(self.snapshot.nodes)

    # ----------------------------------------------------------------- the authorizer
    def access_reviews(self, pairs: list[tuple[Identity, Request]]) -> list[AccessAnswer]:
        """The API server's authorizer answer for each (identity, request), in order.

        One SubjectAccessReview per distinct pair (a review stores nothing), at most
        REVIEWS_AT_ONCE in flight, each with the reader's retries and timeouts. The answers
        are stored under a SHA-256 of the distinct pairs, so every xdist worker and a
        replay of the store reuse them. Raises EvidenceUnavailable, with the server's
        reason (e.g. 403 forbidden), when any review cannot be made.
        """
        distinct = unique_pairs(pairs)
        if not distinct:
            return []
        # Keyed by the whole question set, and always written (from what this process
        # already knows, asking only the rest): every worker running the same check, and a
        # replay of the store, then find the same entry.
        name = f"access-reviews-{pairs_digest(distinct)}"
        if name not in self._review_sets:

            def review() -> list[Obj]:
                missing = [p for p in distinct if p not in self._reviewed]
                asked = {pair_from_json(raw): raw for raw in self._review_all(missing)}
                return [
                    asked.get(p) or {**pair_json(*p), "answer": self._reviewed[p].to_json()}
                    for p in distinct
                ]

            for raw in self._shared(name, review):
                self._reviewed[pair_from_json(raw)] = AccessAnswer.from_json(raw["answer"])
            missing = [p for p in distinct if p not in self._reviewed]
            if missing:
                raise EvidenceUnavailable(
                    f"stored SubjectAccessReview answers lack {describe(*missing[0])}"
                )
            self._review_sets.add(name)
        return [self._reviewed[p] for p in pairs]

    def _review_one(self, pair: tuple[Identity, Request]) -> Obj:
        identity, request = pair
        try:
            answer = self.reader().review(SUBJECT_ACCESS_REVIEW, review_body(identity, request))
        except ApiUnavailable as exc:
            raise EvidenceUnavailable(
                f"SubjectAccessReview for {describe(identity, request)}: {exc}"
            ) from None
        status = answer.get("status") if isinstance(answer, dict) else None
        if not isinstance(status, dict):
            raise EvidenceUnavailable(
                f"SubjectAccessReview for {describe(identity, request)}: no status in the answer"
            )
        return {
            **pair_json(identity, request),
            "answer": AccessAnswer.from_status(status).to_json(),
        }

    def _review_all(self, pairs: list[tuple[Identity, Request]]) -> list[Obj]:
        if not pairs:
            return []
        self.reader()  # credentials are loaded once, before the threads need them
        if len(pairs) > 20:
            self._say(f"asking the API server's authorizer about {len(pairs)} requests")
        pool = ThreadPoolExecutor(min(REVIEWS_AT_ONCE, len(pairs)), "kubepci-review")
        try:
            futures = [pool.submit(self._review_one, pair) for pair in pairs]
            return [future.result() for future in futures]
        finally:
            # On the first failure, send no more: the whole answer is an error anyway.
            pool.shutdown(wait=True, cancel_futures=True)

    # ----------------------------------------------------------------- live probes
    def _unanswered_probe(self, url: str) -> ProbeResult:
        reason = self.probe_pool.limits.unanswered_reason()
        return ProbeResult("GET", url, error=reason, kind=UNANSWERED)

    def _probe_urls(self, name: str, urls: list[str], what: str) -> list[ProbeResult]:
        """GET each URL without credentials on the probe pool (see probe_pool), in order;
        one cut off by the phase's deadline is recorded as unanswered."""

        def run() -> list[Obj]:
            answers = self.probe_pool.run(what, urls, self.prober.get, self._unanswered_probe)
            return _probes_to_json(answers)

        answers = _probes_from_json(self._shared(name, run))
        asked = [a.url for a in answers]
        if asked != urls:
            # A stored answer is evidence only for the question this run asks: a replayed
            # pack whose settings now point elsewhere (another port, another node) must
            # not be judged on answers to other URLs.
            extra = sorted(set(urls) ^ set(asked))
            raise EvidenceUnavailable(
                f"the recorded {name} answers are for other URLs than this run asks "
                f"({', '.join(extra[:3]) or 'same URLs, another order'})"
            )
        return answers

    def _probe_reader(self) -> ApiReader:
        """API requests that are probes (the node proxy's configz): the suite's
        credentials, a connection per probe in flight, one attempt with the probe timeout.
        """
        limits = self.probe_pool.limits
        policy = Policy(
            connect_timeout=self.policy.connect_timeout,
            read_timeout=limits.timeout,
            attempts=1,
        )
        return ApiReader(sized_client(self.reader().api, limits.at_once), policy)

    def api_server_probes(self) -> list[ProbeResult]:
        base = self.target.server.rstrip("/")
        return self._probe_urls(
            "probe-api-server",
            [base + path for path in endpoints.API_SERVER_PROBE_PATHS],
            "API server paths",
        )

    def component_probes(self, component: str, flags: ComponentFlags) -> list[ProbeResult]:
        urls = [
            base + path
            for base in endpoints.component_urls(flags, self.node_addresses)
            for path in endpoints.COMPONENT_PROBE_PATHS
        ]
        safe = flags.pod.replace("/", "_")
        return self._probe_urls(f"probe-{component}-{safe}", urls, f"{flags.pod} paths")

    def kubelet_probes(self) -> list[ProbeResult]:
        urls = [
            f"https://{endpoints.url_host(n.address)}:{n.kubelet_port}/pods"
            for n in self.node_addresses
            if n.address
        ]
        return self._probe_urls("probe-kubelet", urls, "kubelets (GET /pods, no credentials)")

    def read_only_port_probes(self, targets: list[endpoints.ReadOnlyTarget]) -> list[ProbeResult]:
        """Plain GET /pods on each kubelet's read-only port (see endpoints.read_only_targets)."""
        return self._probe_urls(
            "probe-kubelet-read-only", [t.url for t in targets], "kubelet read-only ports"
        )

    def etcd_probes(self, urls: list[str]) -> list[ProbeResult]:
        return self._probe_urls("probe-etcd", [u + "/version" for u in urls], "etcd client URLs")

    def kubelet_configz(self) -> dict[str, Obj]:
        """Each node's effective kubelet configuration, through the API server's node proxy:
        ``{"config": ...}``, or ``{"error": why, "status": ...}`` (plus ``"kind"``:
        ``unanswered`` when the phase's deadline cut it off, ``not-granted`` when the API
        server confirms the optional nodes/proxy grant is absent: see node_proxy). A probe:
        on the probe pool, one attempt each."""

        def read() -> dict[str, Obj]:
            reader = self._probe_reader()

            def read_one(node: endpoints.NodeAddress) -> Obj:
                try:
                    body = reader.get_json(f"/api/v1/nodes/{node.node}/proxy/configz")
                except ApiUnavailable as exc:
                    return {"error": str(exc), "status": exc.status}
                return {"config": body.get("kubeletconfig") or {}}

            def unanswered(_node: endpoints.NodeAddress) -> Obj:
                return {"error": self.probe_pool.limits.unanswered_reason(), "kind": UNANSWERED}

            nodes = self.node_addresses
            what = "kubelet configz through the node proxy"
            answers = self.probe_pool.run(what, nodes, read_one, unanswered)
            configz = {n.node: a for n, a in zip(nodes, answers, strict=True)}
            return node_proxy.mark_not_granted(
                configz,
                lambda: self.reader().review(
                    node_proxy.SELF_SUBJECT_ACCESS_REVIEW, node_proxy.review_body()
                ),
            )

        return self._shared("kubelet-configz", read)

    def service_probes(self, ports: list[endpoints.ServicePort]) -> list[list[PathProbe]]:
        """Each port's answers to SERVICE_PROBE_PATHS through the service proxy, which drops
        our credentials (see :mod:`kubepci.access.service_proxy`), in ``ports`` order.

        Ports are probed on the probe pool, each port's paths one after another (so one
        request per port is in flight); each request is sent once with the probe timeout,
        so a backend that never answers costs one timeout. A port the phase's deadline cuts
        off is recorded as unanswered (``"unanswered": true``) and judges as not judged.
        """

        def run() -> list[Obj]:
            limits = self.probe_pool.limits
            api = sized_client(self.reader().api, limits.at_once)
            prober = ServiceProxyProber(api, limits.timeout)
            reason = limits.unanswered_reason()
            if len(ports) > 20:
                self._say(f"probing {len(ports)} service ports through the service proxy")
            answers = self.probe_pool.run(
                "service ports",
                ports,
                lambda p: probe_port(prober.get, p),
                lambda p: unanswered_port(prober.host, p, reason),
            )
            return [
                {
                    "port": f"{p.ref}:{p.port}",
                    "paths": [a.to_json() for a in paths],
                    **({"unanswered": True} if _cut_off(paths) else {}),
                }
                for p, paths in zip(ports, answers, strict=True)
            ]

        stored = self._shared("probe-services", run)
        return [[PathProbe.from_json(a) for a in entry["paths"]] for entry in stored]

    # ----------------------------------------------------------------- node files
    # Read under --node-root, once, and recorded like every other input: a replay judges
    # the recorded modes and documents, never the filesystem of the machine it runs on.
    def signing_keys(self) -> list[KeyFile]:
        """Owner and mode of the CA and signing keys (never their contents)."""
        raw = self._shared(
            "node-signing-keys",
            lambda: [k.to_json() for k in nodefs.signing_keys(self.node_root)],
        )
        return [KeyFile.from_json(k) for k in raw]

    def private_keys(self) -> list[KeyFile]:
        """Owner and mode of every private key file kubeadm and the kubelet write."""
        raw = self._shared(
            "node-private-keys",
            lambda: [k.to_json() for k in nodefs.all_private_keys(self.node_root)],
        )
        return [KeyFile.from_json(k) for k in raw]

    def config_files(self, component: str, instances: list[ComponentFlags]) -> list[ComponentFlags]:
        """Each instance with the settings files it names attached (read or not)."""
        peers = len({i.node for i in instances})

        def read() -> dict[str, dict[str, Obj]]:
            return {
                i.pod: {
                    flag: asdict(read_config_file(self.node_root, flag, path, i.node, peers))
                    for flag, path in i.file_paths().items()
                }
                for i in instances
            }

        if not any(i.file_paths() for i in instances):
            return instances
        stored = self._shared(f"node-config-files-{component}", read)
        return [
            i.with_files({flag: ConfigFile(**raw) for flag, raw in stored.get(i.pod, {}).items()})
            for i in instances
        ]

    def node_yaml(self, path: str) -> Obj:
        """A YAML document at ``path`` under --node-root: {"read_from", "document"} when
        read, {"reason"} when not (no --node-root, unreadable, not a mapping)."""

        def read() -> Obj:
            if not self.node_root:
                return {
                    "reason": "the file is on the control-plane node; run with --node-root there"
                }
            file = Path(self.node_root) / path.lstrip("/")
            try:
                document = yaml.safe_load(file.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
                reason = getattr(exc, "strerror", None) or type(exc).__name__
                return {"reason": f"cannot read {file}: {reason}"}
            if not isinstance(document, dict):
                return {"reason": f"{file} holds no mapping"}
            return {"read_from": str(file), "document": document}

        return dict(self._shared(f"node-file-{_slug(path)}", read))

    def csr_audit_log(self, log_path: str) -> AuditLogRead:
        """The API server audit log's CSR writes, read under --node-root."""
        raw = self._shared(
            f"node-audit-log-{_slug(log_path)}",
            lambda: read_csr_writes(self.node_root, log_path).to_record(),
        )
        return AuditLogRead.from_record(raw)

    def export(self) -> dict[str, Path]:
        """The stored raw evidence files (for the evidence pack)."""
        return {p.stem: p for p in sorted(self.store.directory.glob("*.json"))}
