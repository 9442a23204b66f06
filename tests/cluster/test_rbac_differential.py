"""The RBAC evaluator against the API server: generated objects, thousands of probes.

``kubepci.analysis.authorizer.Authorizer`` claims to answer exactly as kube-apiserver's
authorizer chain does. Here the running server is the oracle: each round applies a seeded
batch of random, valid Roles, ClusterRoles and bindings (``tests/support/rbac_cases.py``)
to three dedicated namespaces, waits until the server's authorizer has seen them, reads
back every RBAC object of the cluster (so its real default policy is part of every case),
and asks ``SubjectAccessReview`` and ``Authorizer.allows`` the same questions. Any
disagreement fails, with a minimal case: the identity, the request, both answers, the
grants that apply and the one applied binding that reproduces it alone.

``KUBEPCI_RECORD_SAR=path`` also writes the objects and ~3,000 (identity, request,
allowed) triples for the offline replay (``tests/unit/test_authorizer_recorded.py``);
``KUBEPCI_DIFF_SEED`` changes the seed. The objects a seed draws are fixed; the probes
are aimed at whatever RBAC the cluster holds, so they repeat only on an unchanged cluster.
Run it alone on the cluster (``flock /tmp/kubepci-cluster.lock``): a change to any RBAC
object while a round probes fails the round as unsound rather than as a disagreement.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from kubepci.analysis.authorizer import Authorizer, Identity, Request
from tests.cluster.conftest import LocalCluster
from tests.support import identities as test_identities
from tests.support import rbac_cases as rc

Obj = dict[str, Any]
Pair = tuple[Identity, Request]

SEED = int(os.environ.get("KUBEPCI_DIFF_SEED", "20260704"))
ROUNDS = 4
PAIRS_PER_ROUND = 1350
MIN_PAIRS = 5000
THREADS = 8
RECORD_PER_ROUND = 750
SYNC_TIMEOUT = 60.0
NAMESPACE_TIMEOUT = 150.0
MAX_SHRUNK = 2
MAX_SHRINK_BINDINGS = 40
SENTINEL_USER = "kubepci-diff-sentinel"
SENTINEL_RESOURCE = "kubepci-diff-sentinels"


def _ignore_missing(call: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    try:
        call(*args, **kwargs)
    except client.ApiException as exc:
        if exc.status != 404:
            raise


def _json(response: Any) -> Obj:
    return json.loads(response.data)


@dataclass
class Applied:
    """What of a round's case the API accepted."""

    objects: list[Obj] = field(default_factory=list)
    rejected: list[tuple[Obj, str]] = field(default_factory=list)

    @property
    def bindings(self) -> list[Obj]:
        return [o for o in self.objects if o["kind"].endswith("Binding")]


class Cluster:
    def __init__(self, api: client.ApiClient) -> None:
        self.core = client.CoreV1Api(api)
        self.rbac = client.RbacAuthorizationV1Api(api)
        self.authz = client.AuthorizationV1Api(api)
        self.syncs = 0

    # -------------------------------------------------------------- objects in and out

    def create(self, obj: Obj) -> None:
        kind, meta = obj["kind"], obj["metadata"]
        if kind == "ClusterRole":
            self.rbac.create_cluster_role(obj)
        elif kind == "ClusterRoleBinding":
            self.rbac.create_cluster_role_binding(obj)
        elif kind == "Role":
            self.rbac.create_namespaced_role(meta["namespace"], obj)
        elif kind == "RoleBinding":
            self.rbac.create_namespaced_role_binding(meta["namespace"], obj)
        else:
            raise ValueError(kind)

    def delete(self, obj: Obj) -> None:
        kind, meta = obj["kind"], obj["metadata"]
        if kind == "ClusterRole":
            _ignore_missing(self.rbac.delete_cluster_role, meta["name"])
        elif kind == "ClusterRoleBinding":
            _ignore_missing(self.rbac.delete_cluster_role_binding, meta["name"])
        elif kind == "Role":
            _ignore_missing(self.rbac.delete_namespaced_role, meta["name"], meta["namespace"])
        elif kind == "RoleBinding":
            _ignore_missing(
                self.rbac.delete_namespaced_role_binding, meta["name"], meta["namespace"]
            )

    def apply(self, objects: list[Obj]) -> Applied:
        applied = Applied()
        for obj in objects:
            try:
                self.create(obj)
            except client.ApiException as exc:
                if exc.status not in (400, 422):
                    raise
                applied.rejected.append((obj, exc.reason or str(exc.status)))
            else:
                applied.objects.append(obj)
        return applied

    def read(self) -> dict[str, list[Obj]]:
        """Every RBAC object of the cluster, as the server sends it."""
        return {
            "clusterroles": _json(self.rbac.list_cluster_role(_preload_content=False))["items"],
            "clusterrolebindings": _json(
                self.rbac.list_cluster_role_binding(_preload_content=False)
            )["items"],
            "roles": _json(self.rbac.list_role_for_all_namespaces(_preload_content=False))["items"],
            "rolebindings": _json(
                self.rbac.list_role_binding_for_all_namespaces(_preload_content=False)
            )["items"],
        }

    def delete_generated_rbac(self, bindings_only: bool = False) -> None:
        for binding in self.rbac.list_cluster_role_binding().items:
            if binding.metadata.name.startswith(rc.PREFIX):
                _ignore_missing(self.rbac.delete_cluster_role_binding, binding.metadata.name)
        for namespace in rc.NAMESPACES:
            _ignore_missing(self.rbac.delete_collection_namespaced_role_binding, namespace)
        if bindings_only:
            return
        for role in self.rbac.list_cluster_role().items:
            if role.metadata.name.startswith(rc.PREFIX):
                _ignore_missing(self.rbac.delete_cluster_role, role.metadata.name)
        for namespace in rc.NAMESPACES:
            _ignore_missing(self.rbac.delete_collection_namespaced_role, namespace)

    # ----------------------------------------------------------------------- namespaces

    def ours(self) -> list[str]:
        return [
            n.metadata.name
            for n in self.core.list_namespace().items
            if n.metadata.name.startswith(rc.PREFIX)
        ]

    def remove_everything(self, wait: bool) -> list[str]:
        """Delete the namespaces and cluster-scoped objects any run left; with ``wait``,
        until the namespaces are gone (bounded). Returns those still terminating."""
        for binding in self.rbac.list_cluster_role_binding().items:
            if binding.metadata.name.startswith(rc.PREFIX):
                _ignore_missing(self.rbac.delete_cluster_role_binding, binding.metadata.name)
        for role in self.rbac.list_cluster_role().items:
            if role.metadata.name.startswith(rc.PREFIX):
                _ignore_missing(self.rbac.delete_cluster_role, role.metadata.name)
        for namespace in self.ours():
            _ignore_missing(self.core.delete_namespace, namespace)
        deadline = time.monotonic() + NAMESPACE_TIMEOUT
        left = self.ours()
        while wait and left and time.monotonic() < deadline:
            time.sleep(1)
            left = self.ours()
        return left

    def create_namespaces(self) -> None:
        for namespace in rc.NAMESPACES:
            meta = client.V1ObjectMeta(name=namespace, labels=dict(rc.LABELS))
            self.core.create_namespace(client.V1Namespace(metadata=meta))

    # --------------------------------------------------------------------------- review

    def review(self, identity: Identity, request: Request) -> bool:
        return self.decision(identity, request)[0]

    def decision(self, identity: Identity, request: Request) -> tuple[bool, str]:
        """SubjectAccessReview's status.allowed, and its reason."""
        spec: Obj = {"user": identity.user, "groups": list(identity.groups)}
        if request.is_resource:
            spec["resourceAttributes"] = {
                "namespace": request.namespace,
                "verb": request.verb,
                "group": request.group,
                "resource": request.resource,
                "subresource": request.subresource,
                "name": request.name,
            }
        else:
            spec["nonResourceAttributes"] = {"path": request.path, "verb": request.verb}
        body = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": spec,
        }
        for attempt in range(4):
            try:
                response = self.authz.create_subject_access_review(body, _preload_content=False)
                status = _json(response)["status"]
                if status.get("evaluationError"):
                    raise AssertionError(f"SAR evaluation error: {status['evaluationError']}")
                return bool(status.get("allowed")), str(status.get("reason") or "")
            except client.ApiException as exc:
                if exc.status not in (429, 500, 503, 504) or attempt == 3:
                    raise
                time.sleep(0.5 * (attempt + 1))
        raise AssertionError("unreachable")

    def review_all(self, pairs: list[Pair]) -> list[bool]:
        with ThreadPoolExecutor(THREADS) as pool:
            return list(pool.map(lambda p: self.review(*p), pairs))

    # ----------------------------------------------------------------------------- sync

    def sync(self) -> float:
        """Create fresh sentinel grants (each kind of RBAC object, created after every
        change made so far) and wait until SubjectAccessReview sees them: each of the
        authorizer's informers then holds every earlier change of its kind."""
        self.syncs += 1
        token = f"s{self.syncs}"
        name = f"{rc.PREFIX}sentinel-{token}"
        namespace = rc.NAMESPACES[0]
        subjects = [{"kind": "User", "apiGroup": rc.RBAC_GROUP, "name": SENTINEL_USER}]
        ref = {"apiGroup": rc.RBAC_GROUP, "name": name}
        meta = {"name": name, "labels": dict(rc.LABELS)}
        url = f"/{rc.PREFIX}sentinel/{token}"
        objects = [
            {
                "kind": "ClusterRole",
                "metadata": meta,
                "rules": [{"verbs": ["get"], "nonResourceURLs": [url]}],
            },
            {
                "kind": "Role",
                "metadata": {**meta, "namespace": namespace},
                "rules": [
                    {
                        "verbs": ["get"],
                        "apiGroups": [rc.MADE_UP_GROUP],
                        "resources": [SENTINEL_RESOURCE],
                        "resourceNames": [token],
                    }
                ],
            },
            {
                "kind": "ClusterRoleBinding",
                "metadata": meta,
                "roleRef": {**ref, "kind": "ClusterRole"},
                "subjects": subjects,
            },
            {
                "kind": "RoleBinding",
                "metadata": {**meta, "namespace": namespace},
                "roleRef": {**ref, "kind": "Role"},
                "subjects": subjects,
            },
        ]
        who = Identity(SENTINEL_USER, ())
        probes = [
            Request("get", path=url),
            Request("get", rc.MADE_UP_GROUP, SENTINEL_RESOURCE, "", namespace, token),
        ]
        # Denied before they exist, or the wait below would prove nothing.
        assert not any(self.review(who, p) for p in probes), f"sentinel {token} pre-exists"
        for obj in objects:
            self.create({"apiVersion": f"{rc.RBAC_GROUP}/v1", **obj})
        started = time.monotonic()
        while time.monotonic() - started < SYNC_TIMEOUT:
            if all(self.review(who, p) for p in probes):
                return time.monotonic() - started
            time.sleep(0.1)
        pytest.fail(f"the authorizer did not see sentinel {token} within {SYNC_TIMEOUT}s")


# ---------------------------------------------------------------------------- reporting


def _fingerprint(objects: dict[str, list[Obj]]) -> set[tuple[str, str, str, str]]:
    return {
        (
            kind,
            o["metadata"].get("namespace", ""),
            o["metadata"]["name"],
            o["metadata"]["resourceVersion"],
        )
        for kind, items in objects.items()
        for o in items
    }


def _binding_ref(obj: Obj) -> str:
    meta = obj["metadata"]
    where = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{obj.get('kind', 'binding')} {where}{meta['name']}"


def _role_text(obj: Obj | None, ref: Obj) -> str:
    if obj is None:
        return f"{ref['kind']} {ref['name']} (missing, or of the default policy)"
    return f"{_binding_ref(obj)} rules={json.dumps(obj.get('rules'))}"


def explain(
    cluster: Cluster, authz: Authorizer, world: rc.World, identity: Identity, request: Request
) -> str:
    """The disagreement as an auditor would want it: who, what, both answers and why."""
    server, reason = cluster.decision(identity, request)
    ours = authz.allows(identity, request)
    lines = [
        f"identity: user={identity.user!r} groups={list(identity.groups)!r}",
        f"request:  {request.text()}  {json.dumps(request.to_json())}",
        f"SubjectAccessReview: allowed={server} ({reason or 'no reason given'})",
        f"Authorizer.allows:   {ours}",
    ]
    grant = authz.granting(identity, request)
    if grant is not None:
        lines.append(f"Authorizer's granting rule: {grant.text()}")
    named = [
        f"{kind} {ns + '/' if ns else ''}{b['metadata']['name']} -> "
        f"{b['roleRef']['kind']} {b['roleRef']['name']}"
        for kind, ns, b in world.bindings
        if rc.names_identity(kind, ns, b, identity)
        and (kind == "ClusterRoleBinding" or ns == request.namespace)
    ]
    lines.append(f"bindings naming the identity in this scope ({len(named)}):")
    lines += [f"  {n}" for n in named[:15]] or ["  (none)"]
    if len(named) > 15:
        lines.append(f"  ... and {len(named) - 15} more")
    return "\n".join(lines)


def shrink(cluster: Cluster, applied: Applied, identity: Identity, request: Request) -> str:
    """Re-check the pair with no generated binding, then with each applied binding alone
    (the round's roles and the default policy in place). Mutates the cluster: run it at
    the end of a round."""
    cluster.delete_generated_rbac(bindings_only=True)
    cluster.sync()

    def check() -> tuple[bool, bool, Authorizer]:
        authz = Authorizer.from_snapshot(cluster.read())
        return cluster.review(identity, request), authz.allows(identity, request), authz

    server, ours, _ = check()
    if server != ours:
        return (
            f"reproduces with no generated binding (default policy only): "
            f"server={server}, Authorizer={ours}"
        )
    scoped = [
        b
        for b in applied.bindings
        if b["kind"] == "ClusterRoleBinding"
        or (request.namespace and b["metadata"]["namespace"] == request.namespace)
    ]
    for binding in scoped[:MAX_SHRINK_BINDINGS]:
        cluster.create(binding)
        cluster.sync()
        server, ours, authz = check()
        cluster.delete(binding)
        if server == ours:
            continue
        ref = binding["roleRef"]
        namespace = binding["metadata"].get("namespace", "")
        role = next(
            (
                o
                for o in applied.objects
                if o["kind"] == ref["kind"]
                and o["metadata"]["name"] == ref["name"]
                and o["metadata"].get("namespace", "") == (namespace if o["kind"] == "Role" else "")
            ),
            None,
        )
        grant = authz.granting(identity, request)
        return "\n".join(
            [
                f"reproduces with {_binding_ref(binding)} alone: "
                f"server={server}, Authorizer={ours}",
                f"  subjects: {json.dumps(binding.get('subjects'))}",
                f"  role:     {_role_text(role, ref)}",
                *([f"  Authorizer's granting rule: {grant.text()}"] if grant else []),
            ]
        )
    return "no single applied binding reproduces it: it needs several together"


# ---------------------------------------------------------------------------- recording

_KEEP_META = ("name", "namespace")
_KEEP = ("rules", "aggregationRule", "roleRef", "subjects")


def compact(obj: Obj) -> Obj:
    out: Obj = {"metadata": {k: obj["metadata"][k] for k in _KEEP_META if k in obj["metadata"]}}
    for key in _KEEP:
        if obj.get(key) is not None:
            out[key] = obj[key]
    return out


def write_recording(path: Path, server_version: str, rounds: list[Obj]) -> None:
    """JSON, one object or triple a line: compact, yet readable in a diff."""
    identities = sorted({i for r in rounds for i, _, _ in r["triples"]})
    index = {identity: n for n, identity in enumerate(identities)}
    dump = json.dumps
    lines = [
        "{",
        f'"format":1,"kubernetes":{dump(server_version)},"seed":{SEED},',
        '"request_fields":["verb","group","resource","subresource","namespace","name","path"],',
        '"identities":[',
        ",\n".join(dump([i.user, list(i.groups)], separators=(",", ":")) for i in identities),
        '],"rounds":[',
    ]
    for n, r in enumerate(rounds):
        lines.append("{" + f'"tag":{dump(r["tag"])},"objects":' + "{")
        kinds = list(r["objects"].items())
        for k, (kind, items) in enumerate(kinds):
            lines.append(f"{dump(kind)}:[")
            lines.append(",\n".join(dump(compact(o), separators=(",", ":")) for o in items))
            lines.append("]" + ("," if k < len(kinds) - 1 else ""))
        lines.append('},"triples":[')
        lines.append(
            ",\n".join(
                dump(
                    [
                        index[i],
                        [q.verb, q.group, q.resource, q.subresource, q.namespace, q.name, q.path],
                        a,
                    ],
                    separators=(",", ":"),
                )
                for i, q, a in r["triples"]
            )
        )
        lines.append("]}" + ("," if n < len(rounds) - 1 else ""))
    lines.append("]}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


# --------------------------------------------------------------------------------- test


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM (a CI timeout) raises KeyboardInterrupt, so ``finally`` still cleans up;
    SIGKILL cannot be caught, which is what the clean-up at start is for."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@dataclass
class Tally:
    pairs: int = 0
    allowed: int = 0
    rejected: int = 0
    sync_seconds: float = 0.0
    shrunk: int = 0
    disagreements: list[str] = field(default_factory=list)
    recorded: list[Obj] = field(default_factory=list)


def run_round(
    cluster: Cluster, number: int, rnd: random.Random, tally: Tally, record: bool
) -> None:
    ch = rc.RandomChooser(rnd)
    tag = f"r{number}"
    cluster.delete_generated_rbac()
    case = rc.generate_case(ch, tag)
    applied = cluster.apply(case.objects())
    tally.rejected += len(applied.rejected)
    tally.sync_seconds += cluster.sync()
    objects = cluster.read()
    authz = Authorizer.from_snapshot(objects)
    world = rc.World.from_lists(
        objects["clusterroles"],
        objects["clusterrolebindings"],
        objects["roles"],
        objects["rolebindings"],
    )
    pairs = rc.probes(ch, world, PAIRS_PER_ROUND)
    answers = cluster.review_all(pairs)
    if _fingerprint(cluster.read()) != _fingerprint(objects):
        pytest.fail(f"round {tag}: RBAC objects changed while probing; the case is unsound")
    ours = [authz.allows(i, q) for i, q in pairs]
    tally.pairs += len(pairs)
    tally.allowed += sum(answers)
    wrong = [n for n, (a, b) in enumerate(zip(answers, ours, strict=True)) if a != b]
    print(
        f"round {tag}: {len(applied.objects)} objects applied, {len(applied.rejected)} "
        f"rejected, {len(pairs)} pairs, {sum(answers)} allowed, {len(wrong)} disagree"
    )
    if record:
        chosen = sorted(rnd.sample(range(len(pairs)), min(RECORD_PER_ROUND, len(pairs))))
        tally.recorded.append(
            {
                "tag": tag,
                "objects": objects,
                "triples": [(pairs[n][0], pairs[n][1], answers[n]) for n in chosen],
            }
        )
    reports = [
        f"round {tag}, seed {SEED}:\n" + explain(cluster, authz, world, *pairs[n]) for n in wrong
    ]
    # Shrink last: it deletes and re-adds the round's bindings.
    for k, n in enumerate(wrong[: max(0, MAX_SHRUNK - tally.shrunk)]):
        reports[k] += "\nminimal: " + shrink(cluster, applied, *pairs[n])
        tally.shrunk += 1
    tally.disagreements += reports


def test_authorizer_agrees_with_subject_access_review(
    local_cluster: LocalCluster, record_property: Callable[[str, object], None]
) -> None:
    started = time.monotonic()
    api = test_identities.admin_api(local_cluster.admin_kubeconfig)
    cluster = Cluster(api)
    record_to = os.environ.get("KUBEPCI_RECORD_SAR")
    tally = Tally()
    rnd = random.Random(SEED)
    with _sigterm_interrupts():
        left = cluster.remove_everything(wait=True)
        assert not left, f"namespaces from an earlier run are still terminating: {left}"
        try:
            cluster.create_namespaces()
            for number in range(1, ROUNDS + 1):
                run_round(cluster, number, rnd, tally, record=bool(record_to))
        finally:
            left = cluster.remove_everything(wait=True)
    elapsed = time.monotonic() - started
    denied = tally.pairs - tally.allowed
    summary = (
        f"seed {SEED}: {tally.pairs} (identity, request) pairs compared in {ROUNDS} rounds, "
        f"{tally.allowed} allowed / {denied} denied by the server, "
        f"{len(tally.disagreements)} disagreements, {tally.rejected} objects rejected, "
        f"sync waits {tally.sync_seconds * 1000:.0f} ms, {elapsed:.1f}s in all"
    )
    print(summary)
    record_property("pairs", tally.pairs)
    record_property("allowed", tally.allowed)
    record_property("denied", denied)
    if record_to:
        version = client.VersionApi(api).get_code().git_version
        write_recording(Path(record_to), version, tally.recorded)
        print(f"recorded {sum(len(r['triples']) for r in tally.recorded)} triples to {record_to}")
    assert not left, f"namespaces still terminating after clean-up: {left}"
    assert not tally.disagreements, (
        f"{len(tally.disagreements)} disagreements ({summary}); the first ones:\n\n"
        + "\n\n".join(tally.disagreements[:3])
        + "".join(
            f"\n\nalso: {d.splitlines()[1]}  {d.splitlines()[2]}" for d in tally.disagreements[3:20]
        )
    )
    assert tally.pairs >= MIN_PAIRS, summary
    assert tally.allowed >= tally.pairs // 10, f"too few allowed to prove anything: {summary}"
    assert denied >= tally.pairs // 10, f"too few denied to prove anything: {summary}"


def test_cluster_role_binding_service_account_needs_namespace(
    local_cluster: LocalCluster,
) -> None:
    """The API rejects a ClusterRoleBinding's ServiceAccount subject without a namespace
    (validation.go ValidateRoleBindingSubject), so appliesToUser's defaulting to the
    binding's namespace is only observable in RoleBindings; a RoleBinding's is accepted."""
    rbac = client.RbacAuthorizationV1Api(test_identities.admin_api(local_cluster.admin_kubeconfig))
    name = f"{rc.PREFIX}dry-run"
    body = {
        "apiVersion": f"{rc.RBAC_GROUP}/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": name},
        "roleRef": {"apiGroup": rc.RBAC_GROUP, "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "ServiceAccount", "name": "default"}],
    }
    with pytest.raises(client.ApiException) as rejected:
        rbac.create_cluster_role_binding(body, dry_run="All")
    assert rejected.value.status == 422, rejected.value
    assert "subjects[0].namespace" in (rejected.value.body or ""), rejected.value.body
    namespaced = {**body, "kind": "RoleBinding", "metadata": {"name": name, "namespace": "default"}}
    rbac.create_namespaced_role_binding("default", namespaced, dry_run="All")
